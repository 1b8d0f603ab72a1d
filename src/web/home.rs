//! The home page: a welcome for visitors, a dashboard for signed-in users.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::page::{Layout, render};
use super::peer_board::HomeBoard;
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

async fn show_home(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, AppError> {
    let (templates, loops, interviews, board) = match &user {
        Some(user) => {
            let templates = super::templates::visible_templates(&state, Some(user.id)).await?;
            let mut db = state.db.acquire().await?;
            let found = (
                templates,
                db::loops::recent_for_candidate(&mut *db, user.id, 6).await?,
                db::loops::rounds_to_interview(&mut *db, user.id, 6).await?,
            );
            drop(db);
            (found.0, found.1, found.2, Some(HomeBoard::load(&state, user.id).await?))
        }
        None => (Vec::new(), Vec::new(), Vec::new(), None),
    };
    render(&HomePage { layout: Layout::new(user), templates, loops, interviews, board })
}
