//! Feedback: one round's scorecards against the rubric, and the loop debrief
//! (rounds side by side, pillar chart, outcome by rule, what to practise next),
//! printable and exportable as Markdown and JSON.

use std::collections::BTreeMap;
use std::fmt::Write;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde::Serialize;
use uuid::Uuid;

use super::cards::{CardView, readable_cards, round_stages};
use super::extract::Path;
use super::page::{Layout, render};
use super::participant::ParticipantRound;
use super::render_cache::{page_etag, serve_versioned};
use super::round_view::{self, FinalCode, Moment, TimerView};
use super::session::SignedIn;
use super::{assets, charts};
use crate::db;
use crate::db::code::RoundCode;
use crate::db::feedback::Suggestion;
use crate::db::loops::{LoopRow, RoundRow};
use crate::db::rounds::{RoundQuestion, RoundState, TimerEvent};
use crate::domain::blind_scoring::{CardRole, CardStatus, RoundStage};
use crate::domain::code_runs::RunPoint;
use crate::domain::integrity::{self, RaisedConcern};
use crate::domain::scoring::{self, DebriefRound, Recommendation, RoundScores};
use crate::domain::timer::{TimerAction, TimerState};
use crate::domain::visibility::{self, Item, Stage, Viewer};
use crate::domain::{Level, LoopMode, NoteKind, markdown, schedule, timer};
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rounds/{id}/feedback", get(show_round_feedback))
        .route("/loops/{id}/feedback", get(show_loop_feedback))
        .route("/loops/{id}/feedback.md", get(export_markdown))
        .route("/loops/{id}/feedback.json", get(export_json))
}

#[derive(Template)]
#[template(path = "feedback/round.html")]
struct RoundFeedbackPage {
    layout: Layout,
    round: RoundState,
    timer: TimerView,
    questions: Vec<RoundQuestion>,
    cards: Vec<CardView>,
    notes_html: String,
    is_candidate: bool,
    /// For a peer candidate: the interviewer's card is in and opens once they
    /// submit or skip their self-assessment.
    awaits_self_assessment: bool,
    /// "What good looks like" for each question.
    shows_guide: bool,
    timer_log: Vec<TimerEvent>,
    /// The candidate's code and test runs, when this viewer may see them.
    code: Option<FinalCode>,
    /// The interviewer's markers and the test runs on the round's clock.
    timeline: Vec<Moment>,
    /// The candidate's whiteboard as it was left, if it has an image.
    drawing: Option<super::whiteboard::FinalDrawing>,
}

/// One criterion scored by both the interviewer and the candidate.
pub struct GapLine {
    pub name: String,
    pub interviewer: String,
    pub own: String,
    /// Self minus interviewer, when both scored it.
    pub gap: Option<i16>,
}

impl RoundFeedbackPage {
    /// The question's calibration for this loop's level.
    fn calibration(&self, question: &RoundQuestion) -> Vec<round_view::CalibrationLine> {
        round_view::calibration_lines(question, self.round.level)
    }

    fn vendor_base(&self) -> &'static str {
        assets::vendor_base()
    }

    fn highlight_script(&self) -> String {
        assets::workspace_url("highlight.js")
    }
    /// Self-assessment beside the interviewer's scorecard, once both are readable.
    fn gaps(&self) -> Vec<GapLine> {
        let (Some(interviewer), Some(own)) = (
            self.cards.iter().find(|c| c.role == CardRole::Interviewer),
            self.cards.iter().find(|c| c.role == CardRole::SelfAssessment),
        ) else {
            return Vec::new();
        };
        let text = |score: Option<i16>| score.map_or("not assessed".to_owned(), |s| s.to_string());
        interviewer
            .criteria
            .iter()
            .zip(&own.criteria)
            .map(|(theirs, mine)| GapLine {
                name: theirs.name.clone(),
                interviewer: text(theirs.score),
                own: text(mine.score),
                gap: theirs.score.zip(mine.score).map(|(t, m)| m - t),
            })
            .collect()
    }

    fn gap_text(&self, gap: &Option<i16>) -> String {
        match gap {
            Some(0) => "same".into(),
            Some(g) if *g > 0 => format!("+{g} (you scored higher)"),
            Some(g) => format!("{g} (you scored lower)"),
            None => "—".into(),
        }
    }

    fn time_used(&self) -> String {
        timer::format_duration(self.timer.elapsed_ms)
    }

    fn time_allowed(&self) -> String {
        timer::format_duration(self.timer.allowed_ms)
    }

    fn over_by(&self) -> Option<String> {
        (self.timer.remaining_ms < 0).then(|| timer::format_duration(-self.timer.remaining_ms))
    }

    /// The hints the interviewer gave: the candidate heard them, so feedback shows them (and only them).
    fn used_hints(&self, question: &RoundQuestion) -> Vec<String> {
        round_view::pick(&question.hints, &question.hints_used)
    }

    fn used_follow_ups(&self, question: &RoundQuestion) -> Vec<String> {
        round_view::pick(&question.follow_ups, &question.follow_ups_used)
    }

    /// "14:05 Paused — phone call" in the loop's time zone.
    fn log_line(&self, event: &TimerEvent) -> String {
        let zone = schedule::parse_time_zone(&self.round.time_zone).unwrap_or(chrono_tz::Tz::UTC);
        let what = match event.action {
            TimerAction::Extend => format!("{} by {} min", event.action.label(), event.seconds.unwrap_or(0) / 60),
            action => action.label().to_owned(),
        };
        let reason = event.reason.as_deref().map(|r| format!(" — {r}")).unwrap_or_default();
        format!("{} {what}{reason}", schedule::format_local_time(event.occurred_at, zone))
    }
}

async fn show_round_feedback(
    State(state): State<AppState>,
    ParticipantRound { user, round, viewer }: ParticipantRound,
) -> Result<Response, AppError> {
    if round.timer_state != TimerState::Ended && viewer.is_candidate() {
        return Err(AppError::Conflict("Feedback opens when the round has ended."));
    }
    let mut db = state.db.acquire().await?;
    let lines = db::feedback::for_round(&mut *db, round.id).await?;
    let cards_stage = round_stages(&lines).get(&round.position).copied().unwrap_or_default();
    let stage = round_view::stage(&round, cards_stage);
    let questions = round_view::questions_seen_by(db::rounds::questions(&mut *db, round.id).await?, viewer, stage);
    let notes_html = db::notes::find(&mut *db, round.id, round.candidate_id, NoteKind::Scratchpad)
        .await?
        .map(|n| n.body_html)
        .unwrap_or_default();
    let timer_log = db::rounds::timer_log(&mut *db, round.id).await?;
    let (code, runs) = match visibility::may_see(viewer, Item::CandidateWork, stage) {
        true => (db::code::find(&mut *db, round.id).await?, db::code_runs::points(&mut *db, round.id).await?),
        false => (None, Vec::new()),
    };
    let markers = match visibility::may_see(viewer, Item::GivenHints, stage) {
        true => db::markers::for_round(&mut *db, round.id).await?,
        false => Vec::new(),
    };
    let timeline = round_view::timeline(&markers, &runs);
    let code = code.map(|code| FinalCode::of(code, &runs));
    let drawing = super::whiteboard::FinalDrawing::load(&mut db, &round, viewer, stage).await?;
    drop(db);
    let cards = readable_cards(&lines, user.id, round.candidate_id);
    render(&RoundFeedbackPage {
        layout: Layout::new(Some(user)),
        timer: TimerView::of(&round),
        round,
        questions,
        cards,
        notes_html,
        is_candidate: viewer.is_candidate(),
        awaits_self_assessment: viewer.is_candidate() && cards_stage.interviewer_card_awaits_self_assessment(),
        shows_guide: visibility::may_see(viewer, Item::InterviewerGuide, stage),
        timer_log,
        code,
        timeline,
        drawing,
    })
}

/// The whole debrief, as the page shows it and as the exports carry it.
#[derive(Debug, Clone, Serialize)]
pub struct LoopFeedback {
    pub loop_id: Uuid,
    pub template: String,
    pub team: String,
    pub level: Level,
    pub mode: LoopMode,
    pub candidate: String,
    pub starts_at: String,
    pub outcome: Option<&'static str>,
    pub outcome_rule: String,
    /// Integrity concerns on the scorecards the viewer may read; never part of the outcome.
    pub integrity_concerns: Vec<RaisedConcern>,
    pub integrity_note: Option<String>,
    pub submitted: usize,
    pub total: usize,
    pub pillars: Vec<PillarLine>,
    pub rounds: Vec<RoundLine>,
    pub time_used: String,
    pub time_allowed: String,
    pub suggestions: Vec<SuggestionLine>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PillarLine {
    pub pillar: &'static str,
    pub mean: Option<f64>,
    pub scored: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct RoundLine {
    pub position: i16,
    pub title: String,
    pub kind: String,
    pub recommendation: &'static str,
    pub assessed: usize,
    pub criteria: usize,
    pub time_used: String,
    pub time_allowed: String,
    pub over_time: bool,
    pub questions: Vec<String>,
    pub cards: Vec<CardView>,
    /// The candidate's code and test runs, when the viewer may see them.
    pub code: Option<FinalCode>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuggestionLine {
    pub title: String,
    pub url: String,
    pub why: String,
}

async fn build_loop_feedback(
    state: &AppState,
    viewer: Uuid,
    loop_id: Uuid,
) -> Result<(LoopRow, LoopFeedback), AppError> {
    let mut db = state.db.acquire().await?;
    let the_loop = db::loops::find_for_participant(&mut *db, loop_id, viewer).await?.ok_or(AppError::NotFound)?;
    let rounds: Vec<RoundRow> = db::loops::rounds(&mut *db, loop_id).await?;
    let lines = db::feedback::for_loop(&mut *db, loop_id).await?;
    let cards = readable_cards(&lines, viewer, the_loop.candidate_id);
    let stages = round_stages(&lines);
    let is_candidate = viewer == the_loop.candidate_id;
    let deciding_card = visibility::deciding_card(the_loop.mode);
    let deciding =
        |round: &RoundRow| cards.iter().find(|c| c.round_position == round.position && c.role == deciding_card);
    let debrief_rounds: Vec<DebriefRound> = rounds
        .iter()
        .map(|round| DebriefRound {
            scores: deciding(round).map_or_else(
                || RoundScores::unscored(round.position, round.kind),
                |card| card.round_scores(round.kind),
            ),
            deciding_submitted: stages.get(&round.position).and_then(|stage| stage.of(deciding_card))
                == Some(CardStatus::Submitted),
            elapsed_ms: round.elapsed_ms,
            allowed_ms: round.allowed_ms(),
        })
        .collect();
    let debrief = scoring::debrief(&debrief_rounds, is_candidate);
    let mut code = db::code::for_loop(&mut *db, loop_id).await?;
    let run_points = db::code_runs::points_for_loop(&mut *db, loop_id).await?;
    let suggestions: Vec<Suggestion> = if debrief.weakest_kinds.is_empty() {
        Vec::new()
    } else {
        db::feedback::unseen_questions(&mut *db, the_loop.candidate_id, &debrief.weakest_kinds, the_loop.team, 5)
            .await?
    };
    drop(db);

    let round_lines = rounds
        .iter()
        .map(|round| {
            let deciding = deciding(round);
            let coverage = deciding.map(|card| card.coverage(round.kind));
            let sealed = stages.get(&round.position).is_some_and(|s| s.interviewer_card_awaits_self_assessment());
            RoundLine {
                position: round.position,
                title: round.title.clone(),
                kind: round.kind.label().to_owned(),
                recommendation: match deciding {
                    Some(card) => card.recommendation_label,
                    None if is_candidate && sealed => "Sealed until you submit or skip your self-assessment",
                    None => "Not submitted",
                },
                assessed: coverage.map_or(0, |c| c.assessed),
                criteria: coverage.map_or(0, |c| c.total),
                time_used: timer::format_duration(round.elapsed_ms),
                time_allowed: timer::format_duration(round.allowed_ms()),
                over_time: round.elapsed_ms > round.allowed_ms(),
                questions: round_view::question_titles_seen_by(
                    round,
                    the_loop.mode,
                    Viewer::in_loop(viewer, the_loop.candidate_id, round.interviewer_id, false),
                ),
                cards: cards.iter().filter(|c| c.round_position == round.position).cloned().collect(),
                code: final_code(round, &mut code, &run_points, &stages, the_loop.mode, viewer, the_loop.candidate_id),
            }
        })
        .collect();
    let pillars = debrief
        .pillars
        .iter()
        .map(|p| PillarLine { pillar: p.pillar.label(), mean: p.mean, scored: p.scored })
        .collect();
    let suggestions = suggestions
        .into_iter()
        .map(|s| SuggestionLine {
            url: format!("/questions/{}", s.slug),
            why: format!("{}: one of your lowest-scoring round kinds, not yet practised", s.kind.label()),
            title: s.title,
        })
        .collect();

    let integrity_concerns =
        integrity::loop_concerns(cards.iter().map(|c| (c.round_position, c.role, c.status, &c.integrity)));
    let feedback = LoopFeedback {
        loop_id,
        template: the_loop.template_name.clone(),
        team: the_loop.team.label().to_owned(),
        level: the_loop.level,
        mode: the_loop.mode,
        candidate: the_loop.candidate_name.clone(),
        starts_at: schedule::format_in_zone_named(the_loop.starts_at, &the_loop.time_zone),
        outcome: debrief.outcome.decision.map(Recommendation::label),
        outcome_rule: debrief.outcome.rule,
        integrity_note: integrity::debrief_note(&integrity_concerns),
        integrity_concerns,
        submitted: debrief.outcome.submitted,
        total: debrief.outcome.total,
        pillars,
        rounds: round_lines,
        time_used: timer::format_duration(debrief.used_ms),
        time_allowed: timer::format_duration(debrief.allowed_ms),
        suggestions,
    };
    Ok((the_loop, feedback))
}

/// The round's code with its runs, taken out of `code`, if the viewer may see the candidate's work.
fn final_code(
    round: &RoundRow,
    code: &mut Vec<(i16, RoundCode)>,
    run_points: &[(i16, RunPoint)],
    stages: &BTreeMap<i16, RoundStage>,
    mode: LoopMode,
    viewer: Uuid,
    candidate: Uuid,
) -> Option<FinalCode> {
    let stage = Stage {
        mode,
        timer: round.timer_state,
        current_question: round.current_question,
        has_interviewer: round.interviewer_id.is_some(),
        cards: stages.get(&round.position).copied().unwrap_or_default(),
    };
    let reader = Viewer::in_loop(viewer, candidate, round.interviewer_id, false);
    if !visibility::may_see(reader, Item::CandidateWork, stage) {
        return None;
    }
    let at = code.iter().position(|(position, _)| *position == round.position)?;
    let (_, round_code) = code.swap_remove(at);
    let points: Vec<RunPoint> =
        run_points.iter().filter(|(position, _)| *position == round.position).map(|(_, point)| point.clone()).collect();
    Some(FinalCode::of(round_code, &points))
}

#[derive(Template)]
#[template(path = "feedback/loop.html")]
struct LoopFeedbackPage {
    layout: Layout,
    feedback: LoopFeedback,
    pillar_chart: String,
}

impl LoopFeedbackPage {
    fn vendor_base(&self) -> &'static str {
        assets::vendor_base()
    }

    fn highlight_script(&self) -> String {
        assets::workspace_url("highlight.js")
    }
    fn is_complete(&self) -> bool {
        self.feedback.submitted == self.feedback.total
    }

    fn has_code(&self) -> bool {
        self.feedback.rounds.iter().any(|r| r.code.is_some())
    }

    fn mean_text(&self, mean: &Option<f64>) -> String {
        mean.map_or("not assessed".to_owned(), |m| format!("{m:.1}"))
    }
}

/// A completed loop's feedback changes only when what it is drawn from does, so
/// the page carries an ETag and a browser revisiting it gets a 304: two small
/// queries instead of the page's five and its rendering.
async fn show_loop_feedback(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    // The version names this viewer's copy of the page.
    let etag = db::feedback::completed_loop_version(&state.db, id, user.id)
        .await?
        .map(|version| page_etag(&user, &[&version]));
    serve_versioned(&state.rendered, &headers, etag, async || {
        let (_, feedback) = build_loop_feedback(&state, user.id, id).await?;
        let bars: Vec<(String, Option<f64>)> = feedback.pillars.iter().map(|p| (p.pillar.to_owned(), p.mean)).collect();
        let pillar_chart = charts::score_bars("Mean score per pillar", &bars);
        Ok(LoopFeedbackPage { layout: Layout::new(Some(user)), feedback, pillar_chart }.render()?)
    })
    .await
}

async fn export_json(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let (_, feedback) = build_loop_feedback(&state, user.id, id).await?;
    let mut response = Json(&feedback).into_response();
    attach(&mut response, &format!("mockloop-feedback-{}.json", &id.simple().to_string()[..8]));
    Ok(response)
}

async fn export_markdown(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let (the_loop, feedback) = build_loop_feedback(&state, user.id, id).await?;
    let drawings = super::whiteboard::markdown_section(&state, &the_loop, user.id).await?;
    // Defusing parses the document, which is long for a loop of long scorecards.
    let markdown =
        tokio::task::spawn_blocking(move || to_markdown(&feedback) + &drawings).await.map_err(anyhow::Error::from)?;
    let mut response = markdown.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/markdown; charset=utf-8"));
    attach(&mut response, &format!("mockloop-feedback-{}.md", &id.simple().to_string()[..8]));
    Ok(response)
}

fn attach(response: &mut Response, filename: &str) {
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
}

/// The longest run of backticks in `text`: a fence around it must be longer.
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// The debrief as a Markdown document. It quotes what other people wrote, so
/// none of their raw HTML or images stays live in it (see `markdown::defuse`).
pub fn to_markdown(f: &LoopFeedback) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# Loop feedback: {}\n", f.template);
    let _ = writeln!(
        md,
        "- Candidate: {}\n- Team focus: {}\n- Level: {}\n- Started: {}",
        f.candidate, f.team, f.level, f.starts_at
    );
    let _ = writeln!(md, "- Scorecards: {} of {} submitted\n", f.submitted, f.total);
    let _ = writeln!(md, "## Outcome\n\n**{}** — {}\n", f.outcome.unwrap_or("Pending"), f.outcome_rule);
    if let Some(note) = &f.integrity_note {
        let _ = writeln!(md, "**Integrity:** {note}\n");
    }
    let _ = writeln!(md, "## Pillars\n\n| Pillar | Mean (1–4) | Criteria scored |\n| --- | --- | --- |");
    for p in &f.pillars {
        let _ =
            writeln!(md, "| {} | {} | {} |", p.pillar, p.mean.map_or("—".to_owned(), |m| format!("{m:.1}")), p.scored);
    }
    let _ = writeln!(
        md,
        "\n## Rounds\n\n| # | Round | Recommendation | Criteria covered | Time used |\n| --- | --- | --- | --- | --- |"
    );
    for r in &f.rounds {
        let _ = writeln!(
            md,
            "| {} | {} ({}) | {} | {} of {} | {} of {}{} |",
            r.position,
            r.title,
            r.kind,
            r.recommendation,
            r.assessed,
            r.criteria,
            r.time_used,
            r.time_allowed,
            if r.over_time { " (over)" } else { "" }
        );
    }
    let _ = writeln!(md, "\nTotal time: {} of {}.", f.time_used, f.time_allowed);
    for r in &f.rounds {
        for card in &r.cards {
            let _ = writeln!(
                md,
                "\n### Round {}: {} — {} ({})\n",
                r.position, r.title, card.role_label, card.recommendation_label
            );
            for c in &card.criteria {
                let score = c.score.map_or("not assessed".to_owned(), |s| s.to_string());
                let _ = writeln!(md, "- **{}** ({}): {} — {}", c.name, c.pillar_label, score, c.evidence.trim());
            }
            if card.integrity.is_raised() {
                let _ =
                    writeln!(md, "\nIntegrity concern (not part of the scores): {}.", card.integrity.concerns_text());
                if !card.integrity.note.trim().is_empty() {
                    let _ = writeln!(md, "\nIntegrity note: {}", card.integrity.note.trim());
                }
            }
            for (label, text) in [
                ("Summary", &card.summary),
                ("Strengths", &card.strengths),
                ("Areas to improve", &card.areas_to_improve),
            ] {
                if !text.trim().is_empty() {
                    let _ = writeln!(md, "\n{label}: {}", text.trim());
                }
            }
        }
    }
    for r in &f.rounds {
        if let Some(code) = &r.code {
            let _ = writeln!(
                md,
                "\n### Round {}: {} — code ({})\n\n{}\n",
                r.position,
                r.title,
                code.language.label(),
                code.tests
            );
            let fence = "`".repeat(longest_backtick_run(&code.body).max(2) + 1);
            let _ = writeln!(md, "{fence}{}\n{}\n{fence}", code.language, code.body.trim_end());
        }
    }
    if !f.suggestions.is_empty() {
        let _ = writeln!(md, "\n## Practise next\n");
        for s in &f.suggestions {
            let _ = writeln!(md, "- {} — {}", s.title, s.why);
        }
    }
    markdown::defuse(&md)
}
