//! The private calendar feed: a secret URL that calendar apps subscribe to,
//! listing every round the user takes part in; revocable at any time.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::Utc;

use super::extract::Path;
use super::loops::ics_response;
use super::page::{Layout, render};
use super::security::no_store;
use super::session::{self, SignedIn};
use crate::db;
use crate::db::calendar::LoopRoundRow;
use crate::domain::{LoopStatus, ics, schedule};
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/calendar", get(show_calendar))
        .route("/calendar/feed", post(create_feed))
        .route("/calendar/feed/revoke", post(revoke_feed))
        .route("/calendar/feed/{file}", get(feed))
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    layout: Layout,
    has_feed: bool,
    /// Shown once, right after it is made: only its hash is kept.
    new_url: Option<String>,
}

async fn show_calendar(State(state): State<AppState>, SignedIn(user): SignedIn) -> Result<Response, AppError> {
    let has_feed = db::calendar::has_feed(&state.db, user.id).await?;
    render(&CalendarPage { layout: Layout::new(Some(user)), has_feed, new_url: None })
}

async fn create_feed(State(state): State<AppState>, SignedIn(user): SignedIn) -> Result<Response, AppError> {
    let (token, hash) = session::new_token();
    db::calendar::set_token_hash(&state.db, user.id, Some(&hash)).await?;
    let new_url = Some(format!("{}/calendar/feed/{token}.ics", state.settings.base_url));
    Ok(no_store(render(&CalendarPage { layout: Layout::new(Some(user)), has_feed: true, new_url })?))
}

async fn revoke_feed(State(state): State<AppState>, SignedIn(user): SignedIn) -> Result<Response, AppError> {
    db::calendar::set_token_hash(&state.db, user.id, None).await?;
    render(&CalendarPage { layout: Layout::new(Some(user)), has_feed: false, new_url: None })
}

/// The feed itself: the token in the URL is the only credential.
async fn feed(State(state): State<AppState>, Path(file): Path<String>) -> Result<Response, AppError> {
    let token = file.strip_suffix(".ics").ok_or(AppError::NotFound)?;
    let mut db = state.db.acquire().await?;
    let user = db::calendar::owner_of_token(&mut *db, &session::hash_token(token)).await?.ok_or(AppError::NotFound)?;
    let rows = db::calendar::loop_rounds(&mut *db, user).await?;
    drop(db);
    let events = events_for(user, &rows, &state.settings.base_url);
    Ok(ics_response(ics::calendar("mockloop", &events, Utc::now()), "mockloop.ics"))
}

/// Calendar events for the rounds `user` takes part in: all of a loop they are
/// the candidate of, and only their own rounds in others' loops.
pub fn events_for(user: uuid::Uuid, rows: &[LoopRoundRow], base_url: &str) -> Vec<ics::CalendarEvent> {
    let mut events = Vec::new();
    for loop_rows in rows.chunk_by(|a, b| a.loop_id == b.loop_id) {
        let first = &loop_rows[0];
        let minutes: Vec<i16> = loop_rows.iter().map(|r| r.planned_minutes).collect();
        let slots = schedule::timeline(first.starts_at, &minutes, first.break_minutes);
        for (row, slot) in loop_rows.iter().zip(slots) {
            if first.candidate_id != user && row.interviewer_id != Some(user) {
                continue;
            }
            events.push(ics::CalendarEvent {
                uid: format!("round-{}@mockloop", row.round_id),
                sequence: row.calendar_sequence,
                starts_at: slot.starts_at,
                ends_at: slot.ends_at,
                summary: format!("mockloop: {} (round {} of {})", row.title, row.position, loop_rows.len()),
                description: format!("{} · {} loop", row.kind.label(), row.template_name),
                url: format!("{base_url}/loops/{}", row.loop_id),
                cancelled: row.status == LoopStatus::Cancelled,
            });
        }
    }
    events
}
