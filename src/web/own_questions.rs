//! Private questions: a signed-in user's own additions to the bank.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use super::extract::{Form, Path};
use super::forms::{FieldErrors, capitalise};
use super::page::{Layout, render};
use super::session::SignedIn;
use crate::db;
use crate::db::questions::{DeleteOutcome, StoredQuestion};
use crate::domain::question::{CALIBRATION_LABELS, Calibration, QuestionDraft, owned_slug};
use crate::domain::{Difficulty, Level, RoundKind, Team};
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/questions/new", get(new_question))
        .route("/questions", post(create_question))
        .route("/questions/{slug}/edit", get(edit_question).post(update_question))
        .route("/questions/{slug}/delete", post(delete_question))
}

/// The form as typed; lists are one item per line, tags comma-separated.
#[derive(Debug, Clone)]
struct QuestionForm {
    title: String,
    kind: String,
    difficulty: String,
    minutes: String,
    levels: Vec<String>,
    teams: Vec<String>,
    tags: String,
    /// Blank: the question's own slug, so it shares a topic with no other.
    topic: String,
    prompt: String,
    follow_ups: String,
    hints: String,
    what_good_looks_like: String,
    /// The three calibration notes, in the order of `CALIBRATION_LABELS`; all blank for none.
    calibration: [String; 3],
}

impl Default for QuestionForm {
    fn default() -> Self {
        QuestionForm {
            title: String::new(),
            kind: RoundKind::Coding.as_str().into(),
            difficulty: "2".into(),
            minutes: "30".into(),
            levels: Level::ALL.iter().map(|l| l.as_str().to_owned()).collect(),
            teams: Vec::new(),
            tags: String::new(),
            topic: String::new(),
            prompt: String::new(),
            follow_ups: String::new(),
            hints: String::new(),
            what_good_looks_like: String::new(),
            calibration: Default::default(),
        }
    }
}

impl QuestionForm {
    /// Checkbox groups repeat their name, so the body is read as pairs.
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = QuestionForm { levels: Vec::new(), ..QuestionForm::default() };
        for (name, value) in pairs {
            match name.as_str() {
                "title" => form.title = value,
                "kind" => form.kind = value,
                "difficulty" => form.difficulty = value,
                "minutes" => form.minutes = value,
                "levels" => form.levels.push(value),
                "teams" => form.teams.push(value),
                "tags" => form.tags = value,
                "topic" => form.topic = value,
                "calibration_1_2" => form.calibration[0] = value,
                "calibration_3_4" => form.calibration[1] = value,
                "calibration_level" => form.calibration[2] = value,
                "prompt" => form.prompt = value,
                "follow_ups" => form.follow_ups = value,
                "hints" => form.hints = value,
                "what_good_looks_like" => form.what_good_looks_like = value,
                _ => {}
            }
        }
        form
    }

    fn from_stored(stored: StoredQuestion) -> Self {
        let calibration = stored.calibration_md.as_deref().and_then(|md| Calibration::parse_markdown(md).ok());
        QuestionForm {
            // A topic that is the question's own slug was left blank.
            topic: if stored.topic == stored.slug { String::new() } else { stored.topic },
            title: stored.title,
            kind: stored.kind.as_str().to_owned(),
            difficulty: stored.difficulty.to_string(),
            minutes: stored.suggested_minutes.to_string(),
            levels: stored.levels.iter().map(|l| l.as_str().to_owned()).collect(),
            teams: stored.teams.iter().map(|t| t.as_str().to_owned()).collect(),
            tags: stored.tags.join(", "),
            prompt: stored.prompt_md,
            follow_ups: stored.follow_ups.join("\n"),
            hints: stored.hints.join("\n"),
            what_good_looks_like: stored.good_answer_md,
            calibration: calibration.map_or_else(Default::default, |c| c.notes().map(str::to_owned)),
        }
    }

    /// The question as typed, for a question whose slug is `slug`.
    fn draft(&self, slug: &str) -> QuestionDraft {
        let lines = |text: &str| text.lines().map(str::to_owned).collect();
        QuestionDraft {
            kind: self.kind.clone(),
            title: self.title.clone(),
            // Unparseable numbers become 0, which the rules then refuse with a message.
            difficulty: self.difficulty.trim().parse().unwrap_or(0),
            levels: self.levels.clone(),
            teams: self.teams.clone(),
            tags: self
                .tags
                .split(',')
                .map(|t| t.trim().to_lowercase().replace(' ', "-"))
                .filter(|t| !t.is_empty())
                .collect(),
            topic: self.topic.trim().to_owned(),
            minutes: self.minutes.trim().parse().unwrap_or(0),
            prompt: self.prompt.clone(),
            follow_ups: lines(&self.follow_ups),
            hints: lines(&self.hints),
            what_good_looks_like: self.what_good_looks_like.clone(),
            calibration: self.calibration.clone(),
        }
        .with_topic_defaulting_to(slug)
    }
}

#[derive(Template)]
#[template(path = "questions/form.html")]
struct QuestionFormPage {
    layout: Layout,
    /// `None` for a new question, else the slug being edited.
    editing: Option<String>,
    form: QuestionForm,
    errors: FieldErrors,
}

impl QuestionFormPage {
    fn action(&self) -> String {
        match &self.editing {
            Some(slug) => format!("/questions/{slug}/edit"),
            None => "/questions".to_owned(),
        }
    }

    fn kinds(&self) -> &'static [RoundKind] {
        RoundKind::ALL
    }

    fn teams(&self) -> &'static [Team] {
        Team::ALL
    }

    fn levels(&self) -> &'static [Level] {
        Level::ALL
    }

    fn difficulties(&self) -> [Difficulty; 3] {
        Difficulty::ALL
    }

    /// Each calibration note's field: its name, its label and what was typed.
    fn calibration_fields(&self) -> Vec<(&'static str, String, &str)> {
        ["calibration_1_2", "calibration_3_4", "calibration_level"]
            .into_iter()
            .zip(CALIBRATION_LABELS)
            .zip(&self.form.calibration)
            .map(|((name, label), typed)| (name, format!("{label}:"), typed.as_str()))
            .collect()
    }

    fn has_level(&self, level: &Level) -> bool {
        self.form.levels.iter().any(|l| l == level.as_str())
    }

    fn has_team(&self, team: &Team) -> bool {
        self.form.teams.iter().any(|t| t == team.as_str())
    }
}

fn form_page(
    user: crate::db::sessions::SessionUser,
    editing: Option<String>,
    form: QuestionForm,
    errors: FieldErrors,
) -> QuestionFormPage {
    QuestionFormPage { layout: Layout::new(Some(user)), editing, form, errors }
}

async fn new_question(SignedIn(user): SignedIn) -> Result<Response, AppError> {
    render(&form_page(user, None, QuestionForm::default(), FieldErrors::default()))
}

async fn create_question(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let form = QuestionForm::from_pairs(pairs);
    save(&state, user, None, form).await
}

async fn edit_question(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    let stored = db::questions::find_owned(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    render(&form_page(user, Some(slug), QuestionForm::from_stored(stored), FieldErrors::default()))
}

async fn update_question(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    db::questions::find_owned(&state.db, user.id, &slug).await?.ok_or(AppError::NotFound)?;
    save(&state, user, Some(slug), QuestionForm::from_pairs(pairs)).await
}

/// Validates and stores the form, or shows it again with its errors (422).
async fn save(
    state: &AppState,
    user: crate::db::sessions::SessionUser,
    editing: Option<String>,
    form: QuestionForm,
) -> Result<Response, AppError> {
    let slug = editing.clone().unwrap_or_else(|| owned_slug(&form.title));
    let question = match form.draft(&slug).validate() {
        Ok(question) => question,
        Err(problems) => {
            let mut errors = FieldErrors::default();
            for problem in problems {
                errors.add(problem.field, capitalise(&problem.message));
            }
            let page = form_page(user, editing, form, errors);
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let calibration = match &question.calibration {
        Some(calibration) => Some(super::render_markdown(calibration.to_markdown()).await?),
        None => None,
    };
    let html = db::questions::QuestionHtml {
        prompt: super::render_markdown(question.prompt.clone()).await?,
        good_answer: super::render_markdown(question.what_good_looks_like.clone()).await?,
        calibration,
    };
    if !db::questions::save_private(&state.db, user.id, &slug, &question, &html).await? {
        return Err(AppError::NotFound);
    }
    Ok(Redirect::to(&format!("/questions/{slug}")).into_response())
}

async fn delete_question(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(slug): Path<String>,
) -> Result<Response, AppError> {
    match db::questions::delete_private(&state.db, user.id, &slug).await? {
        DeleteOutcome::Deleted => Ok(Redirect::to("/questions").into_response()),
        DeleteOutcome::NotFound => Err(AppError::NotFound),
        DeleteOutcome::InUse => {
            Err(AppError::Conflict("This question is part of one of your loops, so it stays. You can still edit it."))
        }
    }
}
