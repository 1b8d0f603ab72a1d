//! The rubric scorecard of a round: a self-assessment in a self-timed round,
//! the interviewer's scorecard in a peer round. Drafts autosave; submitting
//! locks it; later changes are kept as dated amendments.

use std::collections::HashMap;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use uuid::Uuid;

use super::extract::Form;
use super::forms::{FieldErrors, wants_json};
use super::page::{Layout, render};
use super::participant::ParticipantRound;
use super::round_view;
use crate::db;
use crate::db::rounds::RoundState;
use crate::db::rubrics::Criterion;
use crate::db::scorecards::{SaveResult, Scorecard};
use crate::db::sessions::SessionUser;
use crate::domain::blind_scoring::{self, CardRole, CardStatus};
use crate::domain::integrity::{IntegrityConcern, IntegrityFlag};
use crate::domain::scorecard::{self, CriterionAnswer, Intent, Refusal, ScoreChoice, ScorecardInput, Step};
use crate::domain::scoring::Recommendation;
use crate::domain::timer::TimerState;
use crate::domain::visibility::Viewer;
use crate::domain::{LoopMode, schedule};
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rounds/{id}/assessment", get(show_assessment).post(save_assessment))
        .route("/rounds/{id}/assessment/skip", post(skip_self_assessment))
}

#[derive(Template)]
#[template(path = "rounds/assessment.html")]
struct AssessmentPage {
    layout: Layout,
    round: RoundState,
    role: CardRole,
    criteria: Vec<Criterion>,
    input: ScorecardInput,
    card: Option<Scorecard>,
    amendment_times: Vec<String>,
    errors: FieldErrors,
    given: Vec<GivenLine>,
}

impl AssessmentPage {
    fn status(&self) -> Option<CardStatus> {
        self.card.as_ref().map(|c| c.status)
    }

    fn is_submitted(&self) -> bool {
        self.status() == Some(CardStatus::Submitted)
    }

    fn is_skipped(&self) -> bool {
        self.status() == Some(CardStatus::Skipped)
    }

    /// Submitted and no longer open to amendments (a peer self-assessment).
    fn is_final(&self) -> bool {
        self.is_submitted() && !blind_scoring::may_amend(self.role, self.round.mode == LoopMode::Peer)
    }

    /// A peer candidate may skip their self-assessment, once the round has started, until they submit it.
    fn may_skip(&self) -> bool {
        self.role == CardRole::SelfAssessment
            && self.round.mode == LoopMode::Peer
            && self.round.timer_state != TimerState::NotStarted
            && self.status().is_none_or(|s| s == CardStatus::Draft)
    }

    fn choice(&self, criterion: &Uuid) -> String {
        self.input
            .answers
            .iter()
            .find(|a| a.criterion_id == *criterion)
            .map_or(String::new(), |a| a.choice.form_value())
    }

    fn evidence(&self, criterion: &Uuid) -> &str {
        self.input.answers.iter().find(|a| a.criterion_id == *criterion).map_or("", |a| a.evidence.as_str())
    }

    fn error_for(&self, prefix: &str, criterion: &Uuid) -> Option<&str> {
        self.errors.get(&self.field_name(prefix, criterion))
    }

    /// A criterion's field: `score_<id>` or `evidence_<id>`.
    fn field_name(&self, prefix: &str, criterion: &Uuid) -> String {
        format!("{prefix}_{criterion}")
    }

    fn recommendations(&self) -> &'static [Recommendation] {
        Recommendation::ALL
    }

    fn is_recommendation(&self, recommendation: &Recommendation) -> bool {
        self.input.recommendation == Some(*recommendation)
    }

    fn integrity_concerns(&self) -> &'static [IntegrityConcern] {
        IntegrityConcern::ALL
    }

    fn is_concern_ticked(&self, concern: &IntegrityConcern) -> bool {
        self.input.integrity.is_ticked(concern)
    }

    /// The integrity fieldset's question, asked of the interviewer or of the candidate themselves.
    fn integrity_question(&self) -> &'static str {
        match self.role {
            CardRole::Interviewer => "Did anything in this round raise an integrity concern?",
            CardRole::SelfAssessment => {
                "Did you, looking back, do anything in this round that raises an integrity concern?"
            }
        }
    }

    fn submitted_at(&self) -> String {
        self.card.as_ref().and_then(|c| c.submitted_at).map_or(String::new(), schedule::format_utc)
    }
}

/// The scorecard the participant fills in for the round, and its rubric.
async fn load(state: &AppState, participant: &ParticipantRound) -> Result<(CardRole, Vec<Criterion>), AppError> {
    let role = participant.viewer.own_card().ok_or(AppError::Forbidden)?;
    let shipped = state.live.shipped().get(&state.db).await?;
    let criteria = shipped.criteria_for_card(participant.round.kind, participant.round.level);
    Ok((role, criteria))
}

/// One question's hints given and follow-ups asked.
pub struct GivenLine {
    pub title: String,
    pub hints: Vec<String>,
    pub follow_ups: Vec<String>,
}

/// For the interviewer: which hints and follow-ups they gave, per question.
async fn given(state: &AppState, round: &RoundState, role: CardRole) -> Result<Vec<GivenLine>, AppError> {
    if role != CardRole::Interviewer {
        return Ok(Vec::new());
    }
    let questions = db::rounds::questions(&state.db, round.id).await?;
    Ok(questions
        .iter()
        .map(|q| GivenLine {
            title: q.title.clone(),
            hints: round_view::pick(&q.hints, &q.hints_used),
            follow_ups: round_view::pick(&q.follow_ups, &q.follow_ups_used),
        })
        .collect())
}

async fn show_assessment(State(state): State<AppState>, participant: ParticipantRound) -> Result<Response, AppError> {
    let (role, criteria) = load(&state, &participant).await?;
    let ParticipantRound { user, round, .. } = participant;
    let id = round.id;
    let card = db::scorecards::find(&state.db, id, role).await?;
    let (input, amendment_times) = match &card {
        Some(card) => {
            let stored = db::scorecards::scores(&state.db, card.id).await?;
            let amendments = db::scorecards::amendments(&state.db, card.id).await?;
            (stored_input(card, &stored), amendments.iter().map(|a| schedule::format_utc(a.amended_at)).collect())
        }
        None => (ScorecardInput::default(), Vec::new()),
    };
    let given = given(&state, &round, role).await?;
    render(&AssessmentPage {
        layout: Layout::new(Some(user)),
        round,
        role,
        criteria,
        input,
        card,
        amendment_times,
        errors: FieldErrors::default(),
        given,
    })
}

fn stored_input(card: &Scorecard, stored: &[db::scorecards::StoredScore]) -> ScorecardInput {
    ScorecardInput {
        answers: stored
            .iter()
            .map(|s| CriterionAnswer {
                criterion_id: s.criterion_id,
                choice: match (s.score, s.not_assessed) {
                    (Some(score), _) => ScoreChoice::Score(score.clamp(1, 4) as u8),
                    (None, true) => ScoreChoice::NotAssessed,
                    (None, false) => ScoreChoice::Unanswered,
                },
                evidence: s.evidence.clone(),
            })
            .collect(),
        recommendation: card.recommendation,
        summary: card.summary.clone(),
        strengths: card.strengths.clone(),
        areas_to_improve: card.areas_to_improve.clone(),
        integrity: card.integrity(),
    }
}

/// Reads the posted form against the rubric's criteria (unknown ids are ignored).
fn parse_form(pairs: &[(String, String)], criteria: &[Criterion]) -> (ScorecardInput, Intent, FieldErrors) {
    let fields: HashMap<&str, &str> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let mut errors = FieldErrors::default();
    let answers = criteria
        .iter()
        .map(|criterion| {
            let raw = fields.get(format!("score_{}", criterion.id).as_str()).copied().unwrap_or("");
            let choice = ScoreChoice::parse(raw).unwrap_or_else(|| {
                errors.add(format!("score_{}", criterion.id), "Choose 1 to 4, or \"not assessed\".");
                ScoreChoice::Unanswered
            });
            let evidence = fields.get(format!("evidence_{}", criterion.id).as_str()).copied().unwrap_or("").to_owned();
            CriterionAnswer { criterion_id: criterion.id, choice, evidence }
        })
        .collect();
    let text = |name: &str| fields.get(name).copied().unwrap_or("").to_owned();
    // Checkboxes: one `integrity` pair per ticked concern.
    let ticked = pairs.iter().filter(|(name, _)| name == "integrity").map(|(_, value)| value.as_str());
    let integrity = IntegrityFlag::parse(ticked, &text("integrity_note")).unwrap_or_else(|problem| {
        errors.add("integrity", problem.message());
        IntegrityFlag { concerns: Vec::new(), note: text("integrity_note") }
    });
    let input = ScorecardInput {
        answers,
        recommendation: fields.get("recommendation").and_then(|r| Recommendation::parse(r)),
        summary: text("summary"),
        strengths: text("strengths"),
        areas_to_improve: text("areas_to_improve"),
        integrity,
    };
    (input, Intent::parse(&text("intent")), errors)
}

async fn save_assessment(
    State(state): State<AppState>,
    participant: ParticipantRound,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let (role, criteria) = load(&state, &participant).await?;
    let ParticipantRound { user, round, .. } = participant;
    let id = round.id;
    if round.timer_state == TimerState::NotStarted {
        return Err(AppError::Conflict("Start the round before assessing it."));
    }
    let (input, intent, mut errors) = parse_form(&pairs, &criteria);
    if input.too_long() {
        return Err(AppError::PayloadTooLarge("Each scorecard field is limited to 10 000 characters."));
    }
    // A value no form of ours sends: save nothing, so the stored answers stay.
    if !errors.is_empty() {
        if wants_json(&headers) {
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(serde_json::json!({"saved": false}))).into_response());
        }
        return show_again(&state, user, round, role, criteria, input, errors).await;
    }
    if intent.needs_complete_card() {
        for (field, message) in input.missing_for_submission() {
            errors.add(field, message);
        }
    }
    let mut tx = state.db.begin().await?;
    let existing = db::scorecards::find(&mut *tx, id, role).await?;
    let may_amend = blind_scoring::may_amend(role, round.mode == LoopMode::Peer);
    let step = scorecard::next_step(intent, existing.as_ref().map(|c| c.status), may_amend, errors.is_empty());
    let submitted_or_amended = match step {
        Step::Refuse(refusal) => return Err(AppError::Conflict(refusal.message())),
        Step::ShowMissing => false,
        Step::Amend => {
            let card_id = existing.as_ref().ok_or(AppError::NotFound)?.id;
            // Read again under the lock: a parallel amendment may have just committed.
            db::scorecards::lock(&mut *tx, card_id).await?;
            let card = db::scorecards::find(&mut *tx, id, role).await?.ok_or(AppError::NotFound)?;
            let stored = stored_input(&card, &db::scorecards::scores(&mut *tx, card_id).await?);
            if !stored.says_the_same_as(&input) {
                db::scorecards::amend(&mut tx, card_id, user.id, &input).await?;
            }
            true
        }
        Step::SaveDraft { submit } => {
            let SaveResult::Saved(card_id) = db::scorecards::save_draft(&mut tx, id, user.id, role, &input).await?
            else {
                return Err(AppError::Conflict(Refusal::SubmittedUseAmend.message()));
            };
            submit && db::scorecards::submit(&mut tx, card_id).await?
        }
    };
    tx.commit().await?;

    if submitted_or_amended {
        tracing::info!(round_id = %id, role = role.as_str(), "scorecard submitted or amended");
        return Ok(Redirect::to(&format!("/rounds/{id}/feedback")).into_response());
    }
    if intent == Intent::Save && wants_json(&headers) {
        return Ok(Json(serde_json::json!({"saved": true})).into_response());
    }
    if errors.is_empty() {
        return Ok(Redirect::to(&format!("/rounds/{id}/assessment")).into_response());
    }
    show_again(&state, user, round, role, criteria, input, errors).await
}

/// The form again with what was typed and what is wrong (422); nothing was lost.
async fn show_again(
    state: &AppState,
    user: SessionUser,
    round: RoundState,
    role: CardRole,
    criteria: Vec<Criterion>,
    input: ScorecardInput,
    errors: FieldErrors,
) -> Result<Response, AppError> {
    let card = db::scorecards::find(&state.db, round.id, role).await?;
    let given = given(state, &round, role).await?;
    let page = AssessmentPage {
        layout: Layout::new(Some(user)),
        round,
        role,
        criteria,
        input,
        card,
        amendment_times: Vec::new(),
        errors,
        given,
    };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

/// A peer candidate declines to assess themselves, which opens the
/// interviewer's scorecard to them. Recorded, and final.
async fn skip_self_assessment(
    State(state): State<AppState>,
    ParticipantRound { user, round, viewer }: ParticipantRound,
) -> Result<Response, AppError> {
    let id = round.id;
    if viewer != Viewer::Candidate || round.mode != LoopMode::Peer {
        return Err(AppError::Forbidden);
    }
    if round.timer_state == TimerState::NotStarted {
        return Err(AppError::Conflict("Start the round before assessing it."));
    }
    let mut tx = state.db.begin().await?;
    if !db::scorecards::skip_self_assessment(&mut tx, id, user.id).await? {
        let status = db::scorecards::status(&mut *tx, id, CardRole::SelfAssessment).await?;
        return Err(AppError::Conflict(
            match status {
                Some(CardStatus::Skipped) => Refusal::SkippedIsFinal,
                _ => Refusal::PeerSelfAssessmentIsFinal,
            }
            .message(),
        ));
    }
    tx.commit().await?;
    tracing::info!(round_id = %id, "self-assessment skipped");
    let next = if round.timer_state == TimerState::Ended { "feedback" } else { "assessment" };
    Ok(Redirect::to(&format!("/rounds/{id}/{next}")).into_response())
}
