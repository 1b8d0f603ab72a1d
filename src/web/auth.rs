//! Sign up, sign in, sign out.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::Deserialize;

use super::busy::{BUSY_MESSAGE, with_retry_after};
use super::extract::Form;
use super::forms::FieldErrors;
use super::invitation_links;
use super::page::{Layout, render};
use super::session::{self, ClientIp, CurrentUser};
use crate::db;
use crate::domain::account::{self, SignUp};
use crate::domain::display_name::DisplayName;
use crate::domain::return_path::return_path;
use crate::domain::username::{self, Username};
use crate::domain::{password, sign_in_throttle, sign_up_throttle};
use crate::password_work::{self, Busy};
use crate::state::AppState;
use crate::web::error::AppError;

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
    let form = SignUpForm { next: return_path(query.next.as_deref()), ..SignUpForm::default() };
    let closed = !may_sign_up(&state, &form.next).await?;
    render(&SignUpPage { layout: Layout::default(), form, errors: FieldErrors::default(), closed })
}

/// Whether the sign-up form may create an account for someone returning to `next`.
async fn may_sign_up(state: &AppState, next: &str) -> Result<bool, AppError> {
    if state.sign_up == SignUp::Open {
        return Ok(true);
    }
    let invited = match account::invitation_token(next) {
        Some(token) => invitation_links::is_usable_link(state, token).await?,
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
    form.next = return_path(Some(&form.next));
    if !may_sign_up(&state, &form.next).await? {
        let form = SignUpForm { next: form.next, ..SignUpForm::default() };
        let page = SignUpPage { layout: Layout::default(), form, errors: FieldErrors::default(), closed: true };
        return Ok((StatusCode::FORBIDDEN, render(&page)?).into_response());
    }
    let client = session::client(&headers, client_ip.clone());
    let ClientIp(client_ip) = client_ip;
    let mut errors = FieldErrors::default();
    let username = Username::parse(&form.username).map_err(|message| errors.add("username", message)).ok();
    let display_name = DisplayName::parse(&form.display_name).map_err(|message| errors.add("display_name", message));
    if let Err(message) = password::check_new(&form.password) {
        errors.add("password", message);
    } else if form.password != form.password_confirm {
        errors.add("password_confirm", "The two passwords differ.");
    }
    let refuse = |status: StatusCode, form: SignUpForm, errors: FieldErrors| -> Result<Response, AppError> {
        let form = SignUpForm { password: String::new(), password_confirm: String::new(), ..form };
        Ok((status, render(&SignUpPage { layout: Layout::default(), form, errors, closed: false })?).into_response())
    };
    let (Some(username), Ok(display_name), true) = (username, display_name, errors.is_empty()) else {
        return refuse(StatusCode::UNPROCESSABLE_ENTITY, form, errors);
    };
    let display_name = display_name.unwrap_or_else(|| DisplayName::for_username(&form.username, &username));

    let mut tx = state.db.begin().await?;
    let recent = db::sign_up_attempts::lock_and_count(&mut tx, &client_ip).await?;
    if let Some(wait) = sign_up_throttle::retry_after(recent) {
        let minutes = wait.as_secs().div_ceil(60);
        errors.add(
            "username",
            format!("Too many accounts were made from your network lately. Try again in {minutes} minute(s)."),
        );
        return Ok(with_retry_after(refuse(StatusCode::TOO_MANY_REQUESTS, form, errors)?, wait));
    }
    let attempt = db::sign_up_attempts::reserve(&mut tx, &client_ip).await?;
    tx.commit().await?;

    let password = std::mem::take(&mut form.password);
    let hash = match state.password_work.run(move |memory| password::hash_in(&password, memory)).await {
        Ok(hash) => hash.map_err(|e| AppError::Internal(anyhow::anyhow!("password hashing failed: {e}")))?,
        Err(Busy) => {
            db::sign_up_attempts::release(&state.db, attempt).await?;
            errors.add("username", BUSY_MESSAGE);
            return Ok(with_retry_after(
                refuse(StatusCode::SERVICE_UNAVAILABLE, form, errors)?,
                password_work::RETRY_AFTER,
            ));
        }
    };
    if let Some(user_id) = db::users::create(&state.db, &username, display_name.as_str(), &hash).await? {
        tracing::info!(%user_id, "account created");
        return start_session(&state, user_id, None, &client, &form.next).await;
    }
    if db::users::exists(&state.db, &username).await? {
        errors.add("username", "That username is taken; choose another.");
    } else {
        errors.add("username", "That username looks too much like one already taken; choose another.");
    }
    refuse(StatusCode::UNPROCESSABLE_ENTITY, form, errors)
}

async fn show_sign_in(CurrentUser(user): CurrentUser, Query(query): Query<NextQuery>) -> Result<Response, AppError> {
    if user.is_some() {
        return Ok(Redirect::to(&return_path(query.next.as_deref())).into_response());
    }
    render(&SignInPage {
        layout: Layout::default(),
        username: String::new(),
        next: return_path(query.next.as_deref()),
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
    let username = username::normalise(&form.username);
    let next = return_path(Some(&form.next));
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

    // Count and reserve in one locked step, before the password check: parallel
    // attempts cannot all see the same count and all go on to be checked.
    let mut tx = state.db.begin().await?;
    let failures = db::sign_in_attempts::lock_and_count_failures(&mut tx, &username, &client_ip).await?;
    if let Some(wait) = sign_in_throttle::retry_after(failures) {
        let minutes = wait.as_secs().div_ceil(60);
        errors.add("username", format!("Too many failed attempts. Try again in {minutes} minute(s)."));
        return Ok(with_retry_after(refuse(StatusCode::TOO_MANY_REQUESTS, errors)?, wait));
    }
    let attempt = db::sign_in_attempts::reserve(&mut tx, &username, &client_ip).await?;
    tx.commit().await?;

    let mut credentials = db::users::credentials(&state.db, &username).await?;
    // Accounts made before usernames were NFKC-normalised are stored lower-cased only.
    let as_once_stored = form.username.trim().to_lowercase();
    if credentials.is_none() && as_once_stored != username {
        credentials = db::users::credentials(&state.db, &as_once_stored).await?;
    }
    let password = form.password.clone();
    let stored_hash = credentials.as_ref().map(|c| c.password_hash.clone());
    let checked = state
        .password_work
        .run(move |memory| {
            let stored_hash = match &stored_hash {
                Some(stored_hash) => stored_hash.as_str(),
                None => password::decoy_hash(memory),
            };
            password::verify_in(&password, stored_hash, memory)
        })
        .await;
    let verified = match checked {
        Ok(verified) => verified,
        Err(Busy) => {
            db::sign_in_attempts::release(&state.db, attempt).await?;
            errors.add("username", BUSY_MESSAGE);
            return Ok(with_retry_after(refuse(StatusCode::SERVICE_UNAVAILABLE, errors)?, password_work::RETRY_AFTER));
        }
    };

    match credentials {
        // Said only to someone who knows the password: a guesser learns nothing new.
        Some(credentials) if verified && credentials.disabled => {
            tracing::info!(user_id = %credentials.id, "sign-in to a disabled account refused");
            errors.add("username", "This account is disabled. Ask whoever runs this mockloop to enable it again.");
            refuse(StatusCode::FORBIDDEN, errors)
        }
        Some(credentials) if verified => {
            db::sign_in_attempts::record_success(&state.db, attempt).await?;
            tracing::info!(user_id = %credentials.id, "signed in");
            start_session(&state, credentials.id, session::token_from(&headers), &client, &next).await
        }
        _ => {
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
        session::end_one(state, &session::hash_token(previous)).await?;
    }
    let (token, token_hash) = session::new_token();
    db::sessions::create(&state.db, &token_hash, user_id, chrono::Utc::now() + session::LIFETIME, client).await?;
    let mut response = Redirect::to(&return_path(Some(next))).into_response();
    response.headers_mut().insert(header::SET_COOKIE, session::set_cookie(&state.settings, &token));
    Ok(response)
}

async fn sign_out(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Result<Response, AppError> {
    if let Some(token) = session::token_from(&headers) {
        session::end_one(&state, &session::hash_token(token)).await?;
    }
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(header::SET_COOKIE, session::clear_cookie(&state.settings));
    Ok(response)
}
