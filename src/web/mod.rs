//! HTTP: one module per feature, each with its own router; handlers stay thin.

pub mod account;
pub mod assets;
pub mod auth;
pub mod busy;
pub mod calendar;
pub mod call;
pub mod cards;
pub mod charts;
pub mod code_runs;
pub mod error;
pub mod extract;
pub mod feedback;
pub mod forms;
pub mod health;
pub mod history;
pub mod home;
pub mod ics_feed;
pub mod invitation_links;
pub mod invitations;
pub mod kept_page;
pub mod limits;
pub mod loops;
pub mod markers;
pub mod own_questions;
pub mod page;
pub mod participant;
pub mod peer_board;
pub mod questions;
pub mod render_cache;
pub mod round_view;
pub mod rounds;
pub mod rubrics;
pub mod scorecards;
pub mod security;
pub mod session;
pub mod template_builder;
pub mod templates;
pub mod whiteboard;

use std::sync::LazyLock;

use axum::Router;
use tokio::sync::Semaphore;

use crate::domain::markdown;
use crate::state::AppState;
use crate::web::error::AppError;

/// Every route of the app, without the middleware stack (see `startup`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(home::router())
        .merge(auth::router())
        .merge(account::router())
        .merge(loops::router())
        .merge(invitations::router())
        .merge(peer_board::router())
        .merge(calendar::router())
        .merge(questions::router())
        .merge(own_questions::router())
        .merge(rounds::router())
        .merge(call::router())
        .merge(whiteboard::router())
        .merge(code_runs::router())
        .merge(markers::router())
        .merge(scorecards::router())
        .merge(feedback::router())
        .merge(history::router())
        .merge(rubrics::router())
        .merge(templates::router())
        .merge(template_builder::router())
        .merge(health::router())
        .merge(assets::router())
        .fallback(not_found)
}

/// Markdown this short renders on the async worker, skipping the hand-off to
/// the blocking pool: a typical autosave, at most half a millisecond even for
/// adversarial text (tests/it/markdown_bounds.rs holds it under 2 ms).
pub const RENDERED_IN_PLACE_BYTES: usize = 1024;

/// Renders Markdown on the blocking pool, as many at once as there are cores: a
/// long note costs milliseconds of CPU, which must hold up neither the async
/// workers serving everyone else nor more memory than a few renders need.
pub async fn render_markdown(markdown: String) -> Result<String, AppError> {
    if markdown.len() <= RENDERED_IN_PLACE_BYTES {
        return Ok(markdown::render(&markdown));
    }
    static RENDER_SLOTS: LazyLock<Semaphore> =
        LazyLock::new(|| Semaphore::new(std::thread::available_parallelism().map_or(2, usize::from)));
    let _slot = RENDER_SLOTS.acquire().await.map_err(anyhow::Error::from)?;
    let html = tokio::task::spawn_blocking(move || markdown::render(&markdown)).await.map_err(anyhow::Error::from)?;
    Ok(html)
}

async fn not_found() -> AppError {
    AppError::NotFound
}
