//! The interviewer's markers: dropped at a moment of the round, shown on the
//! feedback timeline beside the candidate's test runs.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use uuid::Uuid;

use super::extract::{Form, Path};
use super::forms::json_or_redirect;
use super::participant::lock_round;
use super::round_view::TimerView;
use super::session::SignedIn;
use crate::db;
use crate::domain::markers;
use crate::domain::visibility::Viewer;
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new().route("/rounds/{id}/markers", post(drop_marker))
}

#[derive(serde::Deserialize)]
struct MarkerForm {
    label: String,
}

async fn drop_marker(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Form(form): Form<MarkerForm>,
) -> Result<Response, AppError> {
    let label = markers::label(&form.label).map_err(AppError::BadRequest)?;
    let mut tx = state.db.begin().await?;
    let (round, viewer) = lock_round(&mut tx, id, user.id).await?;
    if viewer != Viewer::RoundInterviewer {
        return Err(AppError::Forbidden);
    }
    if !markers::may_drop(round.timer_state, round.ended_at, round.now) {
        return Err(AppError::Conflict("Markers mark moments of a round under way: start the round first."));
    }
    if db::markers::count(&mut *tx, id).await? >= markers::MAX_MARKERS_PER_ROUND {
        return Err(AppError::Conflict("This round has as many markers as it keeps."));
    }
    let at = TimerView::of(&round);
    db::markers::add(&mut *tx, id, at.elapsed_ms, &label).await?;
    tx.commit().await?;
    let body = serde_json::json!({"label": label, "clock": crate::domain::timer::format_duration(at.elapsed_ms)});
    Ok(json_or_redirect(&headers, body, &format!("/rounds/{id}#markers")))
}
