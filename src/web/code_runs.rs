//! The candidate's test runs. The browser runs the question's tests (nothing
//! the candidate writes runs on the server) and reports each run here; the
//! round keeps it, the page shows the last one again after a reload, and the
//! interviewer's live stream carries it as it happens.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::extract::{self, Path};
use super::participant::lock_round;
use super::round_view::{self, TimerView};
use super::session::SignedIn;
use crate::db;
use crate::db::code_runs::NewRun;
use crate::domain::blind_scoring::RoundStage;
use crate::domain::code_runs::{self, RunReport};
use crate::domain::question::CodeLanguage;
use crate::domain::visibility::{self, Item, Viewer};
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new().route("/rounds/{id}/runs", post(record_run))
}

/// The run as the page reports it, and which question it ran.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RunForm {
    question_position: i16,
    #[serde(flatten)]
    report: RunReport,
}

#[derive(Serialize)]
struct Recorded {
    ran_at: DateTime<Utc>,
    passed: i32,
    total: i32,
}

#[derive(Serialize)]
struct Refused {
    error: &'static str,
}

fn refuse(status: StatusCode, error: &'static str) -> Response {
    (status, Json(Refused { error })).into_response()
}

async fn record_run(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
    extract::Json(form): extract::Json<RunForm>,
) -> Result<Response, AppError> {
    let mut tx = state.db.begin().await?;
    // Locked, so that the count of runs and the clock are read as they stand.
    let (round, viewer) = lock_round(&mut tx, id, user.id).await?;
    if viewer != Viewer::Candidate {
        return Err(AppError::Forbidden);
    }
    if !code_runs::takes_work(round.timer_state, round.ended_at, round.now) {
        return Ok(refuse(StatusCode::CONFLICT, "The round has ended, so this run was not recorded."));
    }
    let stage = round_view::stage(&round, RoundStage::default());
    if !visibility::may_see(viewer, Item::Question(form.question_position), stage) {
        return Ok(refuse(StatusCode::CONFLICT, "That question is not open in this round."));
    }
    let questions = db::rounds::questions(&mut *tx, id).await?;
    let case_count = questions
        .iter()
        .find(|question| question.position == form.question_position)
        .and_then(|question| question.tests.as_ref())
        .map_or(0, |suite| suite.cases.len());
    if let Err(problem) = form.report.check(case_count) {
        return Ok(refuse(StatusCode::UNPROCESSABLE_ENTITY, problem));
    }
    if db::code_runs::count(&mut *tx, id).await? >= code_runs::MAX_RUNS_PER_ROUND {
        return Ok(refuse(StatusCode::CONFLICT, "This round has kept as many runs as it can; later runs are not recorded."));
    }
    let report = &form.report;
    let (passed, total) = (report.passed(), case_count as i32);
    let ran_at = db::code_runs::record(
        &mut *tx,
        NewRun {
            round_id: id,
            round_elapsed_ms: TimerView::of(&round).elapsed_ms,
            question_position: form.question_position,
            language: CodeLanguage::Python,
            outcome: report.outcome,
            code_version: report.code_version,
            passed,
            total,
            duration_ms: report.duration_ms,
            message: &report.message,
            results: &report.results,
        },
    )
    .await?;
    // Sent at commit: the interviewer's stream reads the recorded run.
    db::rounds::notify_round_changed(&mut *tx, id).await?;
    tx.commit().await?;
    Ok(Json(Recorded { ran_at, passed, total }).into_response())
}
