//! Feedback: one round's scorecards against the rubric, and the loop debrief
//! (rounds side by side, pillar chart, outcome by rule, what to practise next),
//! printable and exportable as Markdown and JSON.

use std::collections::BTreeMap;
use std::fmt::Write;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::get;
use serde::Serialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::extract::Path;
use super::page::{Layout, render};
use super::rounds::TimerView;
use super::session::SignedIn;
use super::{assets, charts};
use crate::db;
use crate::db::feedback::{ScoreLine, Suggestion};
use crate::db::loops::{LoopRow, RoundRow};
use crate::db::rounds::{RoundQuestion, RoundState, TimerEvent};
use crate::domain::blind_scoring::{self, CardRole, CardStatus, Reader, RoundStage};
use crate::domain::scoring::{self, CriterionScore, Recommendation, RoundScores};
use crate::domain::timer::{TimerAction, TimerState};
use crate::domain::{Level, LoopMode, NoteKind, Pillar, RoundKind, markdown, schedule, timer};
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rounds/{id}/feedback", get(show_round_feedback))
        .route("/loops/{id}/feedback", get(show_loop_feedback))
        .route("/loops/{id}/feedback.md", get(export_markdown))
        .route("/loops/{id}/feedback.json", get(export_json))
}

/// One scorecard as a reader sees it.
#[derive(Debug, Clone, Serialize)]
pub struct CardView {
    pub round_position: i16,
    pub role: CardRole,
    pub role_label: &'static str,
    /// From an interviewer the candidate withdrew from the loop after they submitted it.
    pub withdrawn_interviewer: bool,
    pub recommendation: Option<Recommendation>,
    pub recommendation_label: &'static str,
    pub summary: String,
    pub strengths: String,
    pub areas_to_improve: String,
    pub criteria: Vec<CriterionView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CriterionView {
    pub name: String,
    pub pillar: Pillar,
    pub pillar_label: &'static str,
    pub score: Option<i16>,
    pub not_assessed: bool,
    /// What the given score looks like, from the rubric.
    pub anchor: String,
    /// What a 3 looks like: the next step for a lower score.
    pub next_anchor: Option<String>,
    pub evidence: String,
}

impl CardView {
    pub fn coverage(&self) -> (usize, usize) {
        (self.criteria.iter().filter(|c| c.score.is_some()).count(), self.criteria.len())
    }

    /// The recommendation's spelling for the page's CSS class, "none" before there is one.
    pub fn recommendation_class(&self) -> &'static str {
        self.recommendation.map_or("none", Recommendation::as_str)
    }

    fn round_scores(&self, kind: RoundKind) -> RoundScores {
        RoundScores {
            round_position: self.round_position,
            kind,
            recommendation: self.recommendation,
            criteria: self
                .criteria
                .iter()
                .map(|c| CriterionScore { pillar: c.pillar, score: c.score.map(|s| s as u8) })
                .collect(),
        }
    }
}

/// How far each round's assessment has come, by round position.
fn round_stages(lines: &[ScoreLine]) -> BTreeMap<i16, RoundStage> {
    let mut stages: BTreeMap<i16, RoundStage> = BTreeMap::new();
    for line in lines {
        let stage = stages.entry(line.round_position).or_default();
        match line.role {
            CardRole::Interviewer => stage.interviewer = Some(line.status),
            CardRole::SelfAssessment => stage.self_assessment = Some(line.status),
        }
    }
    stages
}

/// Who `viewer` is to a round whose interviewer is `round_interviewer`;
/// `scored`: they have submitted an interviewer scorecard of their own in the loop.
fn reader(viewer: Uuid, candidate: Uuid, round_interviewer: Option<Uuid>, scored: bool) -> Reader {
    if viewer == candidate {
        Reader::Candidate
    } else if round_interviewer == Some(viewer) {
        Reader::RoundInterviewer
    } else {
        Reader::OtherInterviewer { scored }
    }
}

/// Groups score lines into the scorecards `viewer` may read, as blind scoring rules
/// ([`blind_scoring::may_read`]).
pub(crate) fn readable_cards(lines: &[ScoreLine], viewer: Uuid, candidate: Uuid) -> Vec<CardView> {
    let stages = round_stages(lines);
    let scored = lines.iter().any(|l| {
        l.author_id == Some(viewer)
            && l.role == CardRole::Interviewer
            && l.status == CardStatus::Submitted
            && !l.author_withdrawn
    });
    let mut cards: BTreeMap<(i16, CardRole), CardView> = BTreeMap::new();
    for line in lines {
        let role = line.role;
        let Some(stage) = stages.get(&line.round_position) else {
            continue;
        };
        if !blind_scoring::may_read(reader(viewer, candidate, line.interviewer_id, scored), role, *stage) {
            continue;
        }
        let card = cards.entry((line.round_position, role)).or_insert_with(|| CardView {
            round_position: line.round_position,
            role,
            role_label: match (role, line.author_id, line.author_withdrawn) {
                (CardRole::Interviewer, _, true) => "Withdrawn interviewer",
                (CardRole::Interviewer, None, _) => "Interviewer (deleted account)",
                _ => role.label(),
            },
            withdrawn_interviewer: line.author_withdrawn,
            recommendation: line.recommendation,
            recommendation_label: line.recommendation.map_or("—", Recommendation::label),
            summary: line.summary.clone(),
            strengths: line.strengths.clone(),
            areas_to_improve: line.areas_to_improve.clone(),
            criteria: Vec::new(),
        });
        let anchor_for =
            |score: i16| line.anchors.get(usize::try_from(score - 1).unwrap_or(0)).cloned().unwrap_or_default();
        card.criteria.push(CriterionView {
            name: line.criterion_name.clone(),
            pillar: line.pillar,
            pillar_label: line.pillar.label(),
            score: line.score,
            not_assessed: line.not_assessed.unwrap_or(false) || line.score.is_none(),
            anchor: line.score.map(anchor_for).unwrap_or_default(),
            next_anchor: line.score.filter(|s| *s < 3).map(|_| anchor_for(3)),
            evidence: line.evidence.clone().unwrap_or_default(),
        });
    }
    cards.into_values().collect()
}

/// The role whose scorecard decides a round: the candidate's own in a self-timed loop.
fn deciding_role(mode: LoopMode) -> CardRole {
    match mode {
        LoopMode::SelfTimed => CardRole::SelfAssessment,
        LoopMode::Peer => CardRole::Interviewer,
    }
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
    timer_log: Vec<TimerEvent>,
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
        pick(&question.hints, &question.hints_used)
    }

    fn used_follow_ups(&self, question: &RoundQuestion) -> Vec<String> {
        pick(&question.follow_ups, &question.follow_ups_used)
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
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let mut db = state.db.acquire().await?;
    let round = db::rounds::find_for_participant(&mut *db, id, user.id).await?.ok_or(AppError::NotFound)?;
    let is_candidate = round.candidate_id == user.id;
    if round.timer_state != TimerState::Ended && is_candidate {
        return Err(AppError::Conflict("Feedback opens when the round has ended."));
    }
    let mut questions = db::rounds::questions(&mut *db, id).await?;
    let lines = db::feedback::for_round(&mut *db, id).await?;
    // A peer candidate learns which hints were given once the interviewer's scorecard is in.
    let released = lines.iter().any(|l| l.role == CardRole::Interviewer && l.status == CardStatus::Submitted);
    if is_candidate && round.mode == LoopMode::Peer && !released {
        questions = questions.into_iter().map(RoundQuestion::for_candidate).collect();
    }
    let notes_html = db::notes::find(&mut *db, id, round.candidate_id, NoteKind::Scratchpad)
        .await?
        .map(|n| n.body_html)
        .unwrap_or_default();
    let timer_log = db::rounds::timer_log(&mut *db, id).await?;
    drop(db);
    let awaits_self_assessment = is_candidate
        && round_stages(&lines)
            .get(&round.position)
            .is_some_and(|stage| stage.interviewer_card_awaits_self_assessment());
    let cards = readable_cards(&lines, user.id, round.candidate_id);
    render(&RoundFeedbackPage {
        layout: Layout::new(Some(user)),
        timer: TimerView::of(&round),
        round,
        questions,
        cards,
        notes_html,
        is_candidate,
        awaits_self_assessment,
        timer_log,
    })
}

/// The items at `indexes` (the hints or follow-ups an interviewer ticked).
pub fn pick(items: &[String], indexes: &[i16]) -> Vec<String> {
    indexes.iter().filter_map(|i| items.get(usize::try_from(*i).ok()?).cloned()).collect()
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
    let role = deciding_role(the_loop.mode);

    let mut round_scores = Vec::new();
    let mut round_lines = Vec::new();
    let (mut used_total, mut allowed_total) = (0, 0);
    for round in &rounds {
        let kind = round.kind;
        let round_cards: Vec<CardView> = cards.iter().filter(|c| c.round_position == round.position).cloned().collect();
        let deciding = round_cards.iter().find(|c| c.role == role);
        round_scores.push(deciding.map(|c| c.round_scores(kind)).unwrap_or(RoundScores {
            round_position: round.position,
            kind,
            recommendation: None,
            criteria: Vec::new(),
        }));
        let allowed = i64::from(round.planned_minutes) * 60_000 + i64::from(round.extension_seconds) * 1000;
        used_total += round.elapsed_ms;
        allowed_total += allowed;
        let (assessed, criteria) = deciding.map_or((0, 0), CardView::coverage);
        round_lines.push(RoundLine {
            position: round.position,
            title: round.title.clone(),
            kind: round.kind.label().to_owned(),
            recommendation: match deciding {
                Some(card) => card.recommendation_label,
                None if is_candidate
                    && stages.get(&round.position).is_some_and(|s| s.interviewer_card_awaits_self_assessment()) =>
                {
                    "Sealed until you submit or skip your self-assessment"
                }
                None => "Not submitted",
            },
            assessed,
            criteria,
            time_used: timer::format_duration(round.elapsed_ms),
            time_allowed: timer::format_duration(allowed),
            over_time: round.elapsed_ms > allowed,
            // As on the loop page: the candidate meets each question when its round starts;
            // an interviewer knows only the questions of their own rounds.
            questions: if (viewer == the_loop.candidate_id && round.timer_state != TimerState::NotStarted)
                || round.interviewer_id == Some(viewer)
            {
                round.question_titles.clone()
            } else {
                Vec::new()
            },
            cards: round_cards,
        });
    }
    let mut outcome = scoring::loop_outcome(&round_scores);
    // Blind scoring: an interviewer who has not submitted sees neither the others' scores nor the outcome.
    let deciding_submitted: std::collections::HashSet<i16> = lines
        .iter()
        .filter(|l| l.role == role && l.status == CardStatus::Submitted)
        .map(|l| l.round_position)
        .collect();
    if deciding_submitted.len() > outcome.submitted {
        outcome.decision = None;
        outcome.submitted = deciding_submitted.len();
        outcome.rule = if is_candidate {
            "Scoring is blind: submit or skip your self-assessment of each round to see its interviewer's scorecard and the outcome."
        } else {
            "Scoring is blind: submit your own scorecard to see the other interviewers' scores and the outcome."
        }
        .into();
    }
    let pillars = scoring::pillar_summaries(&round_scores)
        .into_iter()
        .map(|p| PillarLine { pillar: p.pillar.label(), mean: p.mean, scored: p.scored })
        .collect();

    // Practise next: unseen questions of the kinds whose rounds scored lowest.
    let mut by_mean: Vec<(f64, &RoundScores)> = round_scores
        .iter()
        .filter_map(|r| {
            let scores: Vec<f64> = r.criteria.iter().filter_map(|c| c.score.map(f64::from)).collect();
            (!scores.is_empty()).then(|| (scores.iter().sum::<f64>() / scores.len() as f64, r))
        })
        .collect();
    by_mean.sort_by(|a, b| a.0.total_cmp(&b.0));
    let weak_kinds: Vec<RoundKind> = by_mean.iter().take(2).map(|(_, r)| r.kind).collect();
    let suggestions: Vec<Suggestion> = if weak_kinds.is_empty() {
        Vec::new()
    } else {
        db::feedback::unseen_questions(&mut *db, the_loop.candidate_id, &weak_kinds, the_loop.team, 5).await?
    };
    let suggestions = suggestions
        .into_iter()
        .map(|s| SuggestionLine {
            url: format!("/questions/{}", s.slug),
            why: format!("{}: one of your lowest-scoring round kinds, not yet practised", s.kind.label()),
            title: s.title,
        })
        .collect();

    let feedback = LoopFeedback {
        loop_id,
        template: the_loop.template_name.clone(),
        team: the_loop.team.label().to_owned(),
        level: the_loop.level,
        mode: the_loop.mode,
        candidate: the_loop.candidate_name.clone(),
        starts_at: schedule::format_utc(the_loop.starts_at),
        outcome: outcome.decision.map(Recommendation::label),
        outcome_rule: outcome.rule,
        submitted: outcome.submitted,
        total: outcome.total,
        pillars,
        rounds: round_lines,
        time_used: timer::format_duration(used_total),
        time_allowed: timer::format_duration(allowed_total),
        suggestions,
    };
    Ok((the_loop, feedback))
}

#[derive(Template)]
#[template(path = "feedback/loop.html")]
struct LoopFeedbackPage {
    layout: Layout,
    feedback: LoopFeedback,
    pillar_chart: String,
}

impl LoopFeedbackPage {
    fn is_complete(&self) -> bool {
        self.feedback.submitted == self.feedback.total
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
    let etag = db::feedback::completed_loop_version(&state.db, id, user.id)
        .await?
        .map(|version| page_etag(&[&version, &user.id.to_string(), &user.display_name]));
    if let Some(etag) = &etag
        && headers.get(header::IF_NONE_MATCH).is_some_and(|sent| sent.as_bytes() == etag.as_bytes())
    {
        return Ok((StatusCode::NOT_MODIFIED, revalidation_headers(etag)).into_response());
    }
    let (_, feedback) = build_loop_feedback(&state, user.id, id).await?;
    let bars: Vec<(String, Option<f64>)> = feedback.pillars.iter().map(|p| (p.pillar.to_owned(), p.mean)).collect();
    let pillar_chart = charts::score_bars("Mean score per pillar", &bars);
    let mut response = render(&LoopFeedbackPage { layout: Layout::new(Some(user)), feedback, pillar_chart })?;
    if let Some(etag) = &etag {
        response.headers_mut().extend(revalidation_headers(etag));
    }
    Ok(response)
}

/// A strong validator for a page built from `parts` by this build of the app
/// (a new release may render the same data differently).
fn page_etag(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    hasher.update(assets::url("app.css"));
    for part in parts {
        hasher.update([0]);
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|byte| format!("{byte:02x}")).collect();
    format!("\"{hex}\"")
}

/// Private to the signed-in viewer, and checked with the server on every visit.
fn revalidation_headers(etag: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    headers
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
    let (_, feedback) = build_loop_feedback(&state, user.id, id).await?;
    // Defusing parses the document, which is long for a loop of long scorecards.
    let markdown = tokio::task::spawn_blocking(move || to_markdown(&feedback)).await.map_err(anyhow::Error::from)?;
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
    if !f.suggestions.is_empty() {
        let _ = writeln!(md, "\n## Practise next\n");
        for s in &f.suggestions {
            let _ = writeln!(md, "- {} — {}", s.title, s.why);
        }
    }
    markdown::defuse(&md)
}
