//! The home page: a welcome for visitors, a dashboard for signed-in users.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::page::{Layout, render};
use super::session::CurrentUser;
use crate::db;
use crate::db::templates::TemplateWithRounds;
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(show_home))
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    layout: Layout,
    templates: Vec<TemplateWithRounds>,
}

async fn show_home(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, AppError> {
    let templates = match &user {
        Some(user) => db::templates::list_visible(&state.db, Some(user.id)).await?,
        None => Vec::new(),
    };
    render(&HomePage { layout: Layout::new(user), templates })
}
