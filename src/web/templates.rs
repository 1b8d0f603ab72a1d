//! The loop templates page.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::page::{Layout, render};
use super::session::CurrentUser;
use crate::db;
use crate::db::templates::TemplateWithRounds;
use crate::state::AppState;
use crate::web::error::AppError;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new().route("/templates", get(list_templates))
}

#[derive(Template)]
#[template(path = "templates/list.html")]
struct TemplateListPage {
    layout: Layout,
    templates: Vec<TemplateWithRounds>,
}

impl TemplateWithRounds {
    pub fn total_minutes(&self) -> i64 {
        self.rounds.iter().map(|r| i64::from(r.minutes)).sum()
    }
}

/// The templates `viewer` may use: the shipped ones (held in memory), then their own.
pub async fn visible_templates(state: &AppState, viewer: Option<Uuid>) -> Result<Vec<TemplateWithRounds>, AppError> {
    let mut templates = state.live.shipped().get(&state.db).await?.templates.clone();
    if let Some(owner) = viewer {
        templates.extend(db::templates::list_owned_by(&state.db, Some(owner)).await?);
    }
    Ok(templates)
}

async fn list_templates(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, AppError> {
    let templates = visible_templates(&state, user.as_ref().map(|u| u.id)).await?;
    render(&TemplateListPage { layout: Layout::new(user), templates })
}
