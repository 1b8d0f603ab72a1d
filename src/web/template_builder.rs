//! Custom loop templates: add, remove and reorder rounds, each with a kind and
//! 15–120 minutes. Works without script: every button posts the form and the
//! server shows it again with the change.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::extract::{Form, Path};
use super::forms::FieldErrors;
use super::page::{Layout, render};
use super::session::SignedIn;
use crate::db;
use crate::db::sessions::SessionUser;
use crate::db::templates::RoundSpec;
use crate::domain::question::owned_slug;
use crate::domain::selection::TagFilter;
use crate::domain::{RoundKind, Team};
use crate::state::AppState;
use crate::web::error::AppError;

const MAX_ROUNDS: usize = 8;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/templates/new", get(new_template).post(edit_new_template))
        .route("/templates/{slug}/edit", get(edit_template).post(edit_existing_template))
        .route("/templates/{slug}/delete", post(delete_template))
}

#[derive(Debug, Clone)]
struct RoundRow {
    kind: String,
    title: String,
    minutes: String,
    questions: String,
}

impl RoundRow {
    fn blank(kind: RoundKind) -> RoundRow {
        RoundRow { kind: kind.as_str().into(), title: kind.label().into(), minutes: "45".into(), questions: "1".into() }
    }
}

#[derive(Debug, Clone)]
struct TemplateForm {
    name: String,
    description: String,
    team: String,
    rounds: Vec<RoundRow>,
}

impl TemplateForm {
    /// Rows come as kind_0, title_0, minutes_0, questions_0, kind_1, …; `op` is the button pressed.
    fn from_pairs(pairs: &[(String, String)]) -> (TemplateForm, String) {
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
        let mut rounds = Vec::new();
        for index in 0..MAX_ROUNDS + 1 {
            let kind = get(&format!("kind_{index}"));
            if kind.is_empty() {
                break;
            }
            rounds.push(RoundRow {
                kind,
                title: get(&format!("title_{index}")),
                minutes: get(&format!("minutes_{index}")),
                questions: get(&format!("questions_{index}")),
            });
        }
        (TemplateForm { name: get("name"), description: get("description"), team: get("team"), rounds }, get("op"))
    }

    /// Applies an add/remove/move button; returns false for "save".
    fn apply(&mut self, op: &str) -> bool {
        let index_of = |prefix: &str| op.strip_prefix(prefix).and_then(|i| i.parse::<usize>().ok());
        if op == "add" {
            if self.rounds.len() < MAX_ROUNDS {
                self.rounds.push(RoundRow::blank(RoundKind::Coding));
            }
        } else if let Some(i) = index_of("remove_") {
            if i < self.rounds.len() && self.rounds.len() > 1 {
                self.rounds.remove(i);
            }
        } else if let Some(i) = index_of("up_") {
            if i > 0 && i < self.rounds.len() {
                self.rounds.swap(i, i - 1);
            }
        } else if let Some(i) = index_of("down_") {
            if i + 1 < self.rounds.len() {
                self.rounds.swap(i, i + 1);
            }
        } else {
            return false;
        }
        true
    }

    fn check(&self) -> FieldErrors {
        let mut errors = FieldErrors::default();
        if self.name.trim().is_empty() {
            errors.add("name", "Give the template a name.");
        } else if self.name.chars().count() > 100 {
            errors.add("name", "Use at most 100 characters.");
        }
        if self.description.chars().count() > 500 {
            errors.add("description", "Use at most 500 characters.");
        }
        if !self.team.is_empty() && Team::parse(&self.team).is_none() {
            errors.add("team", "Choose a team from the list.");
        }
        if self.rounds.is_empty() || self.rounds.len() > MAX_ROUNDS {
            errors.add("rounds", format!("A template has 1 to {MAX_ROUNDS} rounds."));
        }
        for (index, round) in self.rounds.iter().enumerate() {
            if RoundKind::parse(&round.kind).is_none() {
                errors.add(format!("kind_{index}"), "Choose a round kind.");
            }
            if round.title.trim().is_empty() || round.title.chars().count() > 100 {
                errors.add(format!("title_{index}"), "Give the round a title (up to 100 characters).");
            }
            if !round.minutes.trim().parse::<i16>().is_ok_and(|m| (15..=120).contains(&m)) {
                errors.add(format!("minutes_{index}"), "Rounds last 15 to 120 minutes.");
            }
            if !matches!(round.questions.trim(), "1" | "2" | "3") {
                errors.add(format!("questions_{index}"), "One to three questions.");
            }
        }
        errors
    }
}

#[derive(Template)]
#[template(path = "templates/builder.html")]
struct BuilderPage {
    layout: Layout,
    editing: Option<String>,
    form: TemplateForm,
    errors: FieldErrors,
}

impl BuilderPage {
    fn kinds(&self) -> &'static [RoundKind] {
        RoundKind::ALL
    }

    fn teams(&self) -> &'static [Team] {
        Team::ALL
    }

    fn action(&self) -> String {
        match &self.editing {
            Some(slug) => format!("/templates/{slug}/edit"),
            None => "/templates/new".into(),
        }
    }

    fn error_at(&self, field: &str, index: &usize) -> Option<&str> {
        self.errors.get(&format!("{field}_{index}"))
    }

    fn total_minutes(&self) -> i64 {
        self.form.rounds.iter().filter_map(|r| r.minutes.trim().parse::<i64>().ok()).sum()
    }

    fn can_add(&self) -> bool {
        self.form.rounds.len() < MAX_ROUNDS
    }
}

async fn new_template(SignedIn(user): SignedIn) -> Result<Response, AppError> {
    let form = TemplateForm {
        name: String::new(),
        description: String::new(),
        team: String::new(),
        rounds: vec![RoundRow::blank(RoundKind::Coding), RoundRow::blank(RoundKind::MlSystemDesign)],
    };
    render(&BuilderPage { layout: Layout::new(Some(user)), editing: None, form, errors: FieldErrors::default() })
}

async fn edit_template(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let template = db::templates::find_owned(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    let form = TemplateForm {
        name: template.name,
        description: template.description,
        team: template.team.map(|team| team.as_str().to_owned()).unwrap_or_default(),
        rounds: template
            .rounds
            .0
            .into_iter()
            .map(|r| RoundRow {
                kind: r.kind.as_str().to_owned(),
                title: r.title,
                minutes: r.minutes.to_string(),
                questions: r.question_count.to_string(),
            })
            .collect(),
    };
    render(&BuilderPage { layout: Layout::new(Some(user)), editing: Some(slug), form, errors: FieldErrors::default() })
}

async fn edit_new_template(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    handle(&state, user, None, &pairs).await
}

async fn edit_existing_template(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    db::templates::find_owned(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    handle(&state, user, Some(slug), &pairs).await
}

async fn handle(
    state: &AppState,
    user: SessionUser,
    editing: Option<String>,
    pairs: &[(String, String)],
) -> Result<Response, AppError> {
    let (mut form, op) = TemplateForm::from_pairs(pairs);
    if form.apply(&op) {
        return render(&BuilderPage { layout: Layout::new(Some(user)), editing, form, errors: FieldErrors::default() });
    }
    let errors = form.check();
    if !errors.is_empty() {
        let page = BuilderPage { layout: Layout::new(Some(user)), editing, form, errors };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    let slug = editing.unwrap_or_else(|| owned_slug(&form.name));
    // `check` refused unknown kinds and teams.
    let rounds: Vec<RoundSpec> = form
        .rounds
        .iter()
        .filter_map(|r| {
            Some(RoundSpec {
                kind: RoundKind::parse(&r.kind)?,
                title: r.title.trim(),
                minutes: r.minutes.trim().parse().unwrap_or(45),
                question_count: r.questions.trim().parse().unwrap_or(1),
                filter: TagFilter::Any,
            })
        })
        .collect();
    let team = Team::parse(&form.team);
    let mut tx = state.db.begin().await?;
    if !db::templates::save_owned(&mut tx, user.id, &slug, form.name.trim(), form.description.trim(), team, &rounds)
        .await?
    {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(Redirect::to("/templates").into_response())
}

async fn delete_template(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    if !db::templates::delete_owned(&state.db, user.id, &slug).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to("/templates").into_response())
}
