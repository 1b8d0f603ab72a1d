//! The private calendar feed: a secret URL that calendar apps subscribe to,
//! listing every round the user takes part in; revocable at any time.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use chrono::Utc;

use super::extract::Path;
use super::ics_feed::{events_for, ics_response};
use super::page::{Layout, render};
use super::security::no_store;
use super::session::{self, SignedIn};
use crate::db;
use crate::domain::ics;
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
