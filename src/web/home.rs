//! The home page: a welcome for visitors, a dashboard for signed-in users.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use chrono::Utc;

use super::page::{Layout, render};
use super::peer_board::HomeBoard;
use super::render_cache::{page_etag, serve_versioned};
use super::session::CurrentUser;
use crate::db;
use crate::db::loops::{InterviewRound, LoopSummary};
use crate::db::templates::TemplateWithRounds;
use crate::domain::peer_board::SwapStatus;
use crate::domain::schedule;
use crate::domain::timer::TimerState;
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(show_home))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    templates: Vec<TemplateWithRounds>,
    loops: Vec<LoopSummary>,
    interviews: Vec<InterviewRound>,
    /// The user's peer-board slots, swaps and give/take counts.
    board: Option<HomeBoard>,
}

impl HomePage {
    fn when(&self, item: &LoopSummary) -> String {
        local(item.starts_at, &item.time_zone)
    }

    fn interview_when(&self, item: &InterviewRound) -> String {
        local(item.starts_at, &item.time_zone)
    }
}

fn local(at: chrono::DateTime<chrono::Utc>, zone: &str) -> String {
    schedule::format_local(at, schedule::parse_time_zone(zone).unwrap_or(chrono_tz::Tz::UTC))
}

/// A signed-in home page is kept rendered under what it is drawn from: the
/// person's history and home versions, the shipped templates, the header, and
/// the minute (open slots leave the page as their time comes).
async fn show_home(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let Some(signed_in) = user else {
        let page = HomePage {
            layout: Layout::new(None),
            templates: Vec::new(),
            loops: Vec::new(),
            interviews: Vec::new(),
            board: None,
        };
        return render(&page);
    };
    let shipped = state.live.shipped().get(&state.db).await?;
    let versions = db::home::versions(&state.db, signed_in.id).await?;
    let minute = Utc::now().timestamp() / 60;
    let etag = page_etag(
        &signed_in,
        &["home", &versions.history.to_string(), &versions.home.to_string(), &shipped.digest, &minute.to_string()],
    );
    serve_versioned(&state.rendered, &headers, Some(etag), async || {
        let templates = super::templates::visible_templates(&state, Some(signed_in.id)).await?;
        let mut db = state.db.acquire().await?;
        let loops = db::loops::recent_for_candidate(&mut *db, signed_in.id, 6).await?;
        let interviews = db::loops::rounds_to_interview(&mut *db, signed_in.id, 6).await?;
        drop(db);
        let board = Some(HomeBoard::load(&state, signed_in.id).await?);
        Ok(HomePage { layout: Layout::new(Some(signed_in)), templates, loops, interviews, board }.render()?)
    })
    .await
}
