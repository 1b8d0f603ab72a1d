//! Sign up, sign in, sign out.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::extract::Form;
use super::forms::FieldErrors;
use super::page::{Layout, render};
use super::session::{self, ClientIp, CurrentUser};
use crate::db;
use crate::domain::account::{self, SignUp};
use crate::domain::username::Username;
use crate::domain::{password, sign_in_throttle};
use crate::error::AppError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/signup", get(show_sign_up).post(sign_up))
        .route("/signin", get(show_sign_in).post(sign_in))
        .route("/signout", post(sign_out))
}

#[derive(Template)]
#[template(path = "auth/signup.html")]
struct SignUpPage {
    layout: Layout,
    form: SignUpForm,
    errors: FieldErrors,
    /// Sign-up is closed and this visitor holds no usable invitation: the page says so instead of offering the form.
    closed: bool,
}

#[derive(Template)]
#[template(path = "auth/signin.html")]
struct SignInPage {
    layout: Layout,
    username: String,
    next: String,
    errors: FieldErrors,
}

/// Every field defaults to empty so that a partial post re-renders with
/// messages instead of failing to parse.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignUpForm {
    username: String,
    display_name: String,
    password: String,
    password_confirm: String,
    next: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInForm {
    username: String,
    password: String,
    next: String,
}

#[derive(Debug, Default, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn show_sign_up(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(query): Query<NextQuery>,
) -> Result<Response, AppError> {
    if user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let form = SignUpForm { next: session::safe_next(query.next.as_deref()), ..SignUpForm::default() };
    let closed = !may_sign_up(&state, &form.next).await?;
    render(&SignUpPage { layout: Layout::default(), form, errors: FieldErrors::default(), closed })
}

/// Whether the sign-up form may create an account for someone returning to `next`.
async fn may_sign_up(state: &AppState, next: &str) -> Result<bool, AppError> {
    if state.sign_up == SignUp::Open {
        return Ok(true);
    }
    let invited = match account::invitation_token(next) {
        Some(token) => super::invitations::is_usable_link(state, token).await?,
        None => false,
    };
    Ok(account::may_sign_up(state.sign_up, invited))
}

async fn sign_up(
    State(state): State<AppState>,
    client_ip: ClientIp,
    headers: axum::http::HeaderMap,
    Form(mut form): Form<SignUpForm>,
) -> Result<Response, AppError> {
    if !may_sign_up(&state, &form.next).await? {
        let form = SignUpForm { next: session::safe_next(Some(&form.next)), ..SignUpForm::default() };
        let page = SignUpPage { layout: Layout::default(), form, errors: FieldErrors::default(), closed: true };
        return Ok((StatusCode::FORBIDDEN, render(&page)?).into_response());
    }
    let mut errors = FieldErrors::default();
    let username = Username::parse(&form.username).map_err(|message| errors.add("username", message)).ok();
    let display_name = match form.display_name.trim() {
        "" => form.username.trim().to_owned(),
        name => name.to_owned(),
    };
    if display_name.chars().count() > 80 {
        errors.add("display_name", "Use at most 80 characters.");
    }
    if let Err(message) = password::check_new(&form.password) {
        errors.add("password", message);
    } else if form.password != form.password_confirm {
        errors.add("password_confirm", "The two passwords differ.");
    }

    if let (Some(username), true) = (&username, errors.is_empty()) {
        let password = std::mem::take(&mut form.password);
        let hash = tokio::task::spawn_blocking(move || password::hash(&password))
            .await
            .map_err(|e| AppError::Internal(e.into()))?
            .map_err(|e| AppError::Internal(anyhow::anyhow!("password hashing failed: {e}")))?;
        match db::users::create(&state.db, username, &display_name, &hash).await? {
            Some(user_id) => {
                tracing::info!(%user_id, "account created");
                let client = session::client(&headers, client_ip);
                return start_session(&state, user_id, None, &client, &form.next).await;
            }
            None => errors.add("username", "That username is taken; choose another."),
        }
    }

    form.password.clear();
    form.password_confirm.clear();
    form.next = session::safe_next(Some(&form.next));
    let page = SignUpPage { layout: Layout::default(), form, errors, closed: false };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

async fn show_sign_in(CurrentUser(user): CurrentUser, Query(query): Query<NextQuery>) -> Result<Response, AppError> {
    if user.is_some() {
        return Ok(Redirect::to(&session::safe_next(query.next.as_deref())).into_response());
    }
    render(&SignInPage {
        layout: Layout::default(),
        username: String::new(),
        next: session::safe_next(query.next.as_deref()),
        errors: FieldErrors::default(),
    })
}

async fn sign_in(
    State(state): State<AppState>,
    ClientIp(client_ip): ClientIp,
    headers: axum::http::HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, AppError> {
    let client = session::client(&headers, ClientIp(client_ip.clone()));
    let username = form.username.trim().to_lowercase();
    let next = session::safe_next(Some(&form.next));
    let mut errors = FieldErrors::default();
    let refuse = |status: StatusCode, errors: FieldErrors| -> Result<Response, AppError> {
        let page = SignInPage {
            layout: Layout::default(),
            username: form.username.trim().to_owned(),
            next: next.clone(),
            errors,
        };
        Ok((status, render(&page)?).into_response())
    };
    if username.is_empty() || form.password.is_empty() {
        errors.add("username", "Enter your username and password.");
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, errors);
    }

    let failures = db::sign_in_attempts::recent_failures(&state.db, &username, &client_ip).await?;
    if let Some(wait) = sign_in_throttle::retry_after(failures) {
        let minutes = wait.as_secs().div_ceil(60);
        errors.add("username", format!("Too many failed attempts. Try again in {minutes} minute(s)."));
        let mut response = refuse(StatusCode::TOO_MANY_REQUESTS, errors)?;
        if let Ok(value) = wait.as_secs().max(1).to_string().parse() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return Ok(response);
    }

    let credentials = db::users::credentials(&state.db, &username).await?;
    let password = form.password.clone();
    let stored_hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let verified = tokio::task::spawn_blocking(move || {
        password::verify(&password, stored_hash.as_deref().unwrap_or_else(|| password::decoy_hash()))
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;

    match credentials {
        // Said only to someone who knows the password: a guesser learns nothing new.
        Some(credentials) if verified && credentials.disabled => {
            tracing::info!(user_id = %credentials.id, "sign-in to a disabled account refused");
            errors.add("username", "This account is disabled. Ask whoever runs this mockloop to enable it again.");
            refuse(StatusCode::FORBIDDEN, errors)
        }
        Some(credentials) if verified => {
            db::sign_in_attempts::record(&state.db, &username, &client_ip, true).await?;
            db::sign_in_attempts::clear_failures(&state.db, &username).await?;
            tracing::info!(user_id = %credentials.id, "signed in");
            start_session(&state, credentials.id, session::token_from(&headers), &client, &next).await
        }
        _ => {
            db::sign_in_attempts::record(&state.db, &username, &client_ip, false).await?;
            errors.add("password", "Wrong username or password.");
            refuse(StatusCode::UNPROCESSABLE_ENTITY, errors)
        }
    }
}

/// Issues a fresh session id (dropping any previous one) and sends the user on.
async fn start_session(
    state: &AppState,
    user_id: uuid::Uuid,
    previous_token: Option<&str>,
    client: &db::sessions::Client,
    next: &str,
) -> Result<Response, AppError> {
    if let Some(previous) = previous_token {
        db::sessions::delete(&state.db, &session::hash_token(previous)).await?;
    }
    let (token, token_hash) = session::new_token();
    db::sessions::create(&state.db, &token_hash, user_id, chrono::Utc::now() + session::LIFETIME, client).await?;
    let mut response = Redirect::to(&session::safe_next(Some(next))).into_response();
    response.headers_mut().insert(header::SET_COOKIE, session::set_cookie(&state.settings, &token));
    Ok(response)
}

async fn sign_out(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Result<Response, AppError> {
    if let Some(token) = session::token_from(&headers) {
        db::sessions::delete(&state.db, &session::hash_token(token)).await?;
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(header::SET_COOKIE, session::clear_cookie(&state.settings));
    Ok(response)
}
