//! Rubric pages.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::extract::Path;
use super::page::{Layout, render};
use super::session::CurrentUser;
use crate::db;
use crate::db::rubrics::{Criterion, Rubric, RubricSummary};
use crate::domain::{Pillar, RoundKind};
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new().route("/rubrics", get(list_rubrics)).route("/rubrics/{kind}", get(show_rubric))
}

#[derive(Template)]
#[template(path = "rubrics/list.html")]
struct RubricListPage {
    layout: Layout,
    rubrics: Vec<RubricSummary>,
}

impl RubricListPage {
    fn pillars(&self) -> &'static [Pillar] {
        Pillar::ALL
    }
}

async fn list_rubrics(State(state): State<AppState>, CurrentUser(user): CurrentUser) -> Result<Response, AppError> {
    let rubrics = db::rubrics::list(&state.db).await?;
    render(&RubricListPage { layout: Layout::new(user), rubrics })
}

#[derive(Template)]
#[template(path = "rubrics/show.html")]
struct RubricPage {
    layout: Layout,
    rubric: Rubric,
    criteria: Vec<Criterion>,
}

async fn show_rubric(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(kind): Path<String>,
) -> Result<Response, AppError> {
    let mut db = state.db.acquire().await?;
    let kind = RoundKind::parse(&kind).ok_or(AppError::NotFound)?;
    let rubric = db::rubrics::find_by_kind(&mut *db, kind).await?.ok_or(AppError::NotFound)?;
    let criteria = db::rubrics::criteria(&mut *db, rubric.id).await?;
    render(&RubricPage { layout: Layout::new(user), rubric, criteria })
}
