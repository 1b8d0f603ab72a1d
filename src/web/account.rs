//! The account page: change the password, see and end sessions, download all
//! one's data, delete the account.

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::busy;
use super::extract::{Form, Path};
use super::forms::FieldErrors;
use super::page::{Layout, render};
use super::session::{self, ClientIp, SignedIn};
use crate::db;
use crate::db::account::{ExportedInterview, ExportedLoop, ExportedNote, ExportedRound, ExportedScorecard};
use crate::db::invitations::InvitationSummary;
use crate::db::sessions::{Ending, SessionUser};
use crate::domain::blind_scoring::CardRole;
use crate::domain::{account, password, schedule, sign_in_throttle};
use crate::password_work::Busy;
use crate::state::AppState;
use crate::web::error::AppError;

use super::cards::{self, CardView};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(show_account))
        .route("/account/password", post(change_password))
        .route("/account/sessions/others/end", post(end_other_sessions))
        .route("/account/sessions/{id}/end", post(end_session))
        .route("/account/export.json", get(export_data))
        .route("/account/delete", post(delete_account))
}

/// What the page confirms after a change: the redirect's `done`; anything
/// else there is ignored, not an error.
fn done_message(done: Option<&str>) -> Option<&'static str> {
    match done? {
        "password" => Some("Your password is changed, and every other session is signed out."),
        "other-sessions" => Some("Every other session is signed out."),
        "session" => Some("That session is signed out."),
        _ => None,
    }
}

#[derive(Debug, Default, Deserialize)]
struct AccountQuery {
    done: Option<String>,
}

/// A session as the list shows it.
struct SessionView {
    id: Uuid,
    client: String,
    address: String,
    started: String,
    last_seen: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "account/show.html")]
struct AccountPage {
    layout: Layout,
    notice: Option<&'static str>,
    sessions: Vec<SessionView>,
    consequences: Vec<String>,
    password_errors: FieldErrors,
    delete_errors: FieldErrors,
}

impl AccountPage {
    fn other_sessions(&self) -> usize {
        self.sessions.iter().filter(|s| !s.current).count()
    }
}

async fn account_page(
    state: &AppState,
    user: SessionUser,
    current_token: &[u8],
    notice: Option<&'static str>,
    password_errors: FieldErrors,
    delete_errors: FieldErrors,
) -> Result<AccountPage, AppError> {
    let mut db = state.db.acquire().await?;
    let sessions = db::sessions::list(&mut *db, user.id, current_token)
        .await?
        .into_iter()
        .map(|s| SessionView {
            id: s.id,
            client: account::describe_client(s.user_agent.as_deref()),
            address: s.client_ip.unwrap_or_else(|| "unknown address".to_owned()),
            started: schedule::format_utc(s.created_at),
            last_seen: schedule::format_utc(s.last_seen_at),
            current: s.current,
        })
        .collect();
    let consequences = db::account::deletion_effects(&mut *db, user.id).await?.consequences();
    Ok(AccountPage { layout: Layout::new(Some(user)), notice, sessions, consequences, password_errors, delete_errors })
}

/// The hash of the asking session's cookie (SignedIn has checked there is one).
fn current_token_hash(headers: &HeaderMap) -> Vec<u8> {
    session::token_from(headers).map(session::hash_token).unwrap_or_default()
}

async fn show_account(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
    Query(query): Query<AccountQuery>,
) -> Result<Response, AppError> {
    let notice = done_message(query.done.as_deref());
    let page = account_page(
        &state,
        user,
        &current_token_hash(&headers),
        notice,
        FieldErrors::default(),
        FieldErrors::default(),
    )
    .await?;
    let mut response = render(&page)?;
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The outcome of checking an account's password before a change to it.
enum Confirmation {
    Matches,
    Wrong,
    /// Too many wrong passwords lately: not even checked.
    Throttled(std::time::Duration),
    /// The server is busy with other password checks: not checked, try again shortly.
    Busy,
}

/// Checks `typed` against the account's password, counting wrong ones with the
/// sign-in throttle: a stolen session must not become a way to guess the password.
async fn confirm_password(
    state: &AppState,
    user: &SessionUser,
    client_ip: &str,
    typed: &str,
) -> Result<Confirmation, AppError> {
    if typed.is_empty() {
        return Ok(Confirmation::Wrong);
    }
    // Reserved before the check, as sign-in does, so parallel guesses cannot outrun the count.
    let mut tx = state.db.begin().await?;
    let failures = db::sign_in_attempts::lock_and_count_failures(&mut tx, &user.username, client_ip).await?;
    if let Some(wait) = sign_in_throttle::retry_after(failures) {
        return Ok(Confirmation::Throttled(wait));
    }
    let attempt = db::sign_in_attempts::reserve(&mut tx, &user.username, client_ip).await?;
    tx.commit().await?;
    let stored = db::users::password_hash(&state.db, user.id).await?.ok_or(AppError::NotFound)?;
    let typed = typed.to_owned();
    match state.password_work.run(move |memory| password::verify_in(&typed, &stored, memory)).await {
        Ok(true) => {
            db::sign_in_attempts::record_success(&state.db, attempt).await?;
            Ok(Confirmation::Matches)
        }
        Ok(false) => Ok(Confirmation::Wrong),
        Err(Busy) => {
            db::sign_in_attempts::release(&state.db, attempt).await?;
            Ok(Confirmation::Busy)
        }
    }
}

/// The account page again with the refused form's messages (a 503 also says when to retry).
async fn refused(
    state: &AppState,
    user: SessionUser,
    headers: &HeaderMap,
    status: StatusCode,
    password_errors: FieldErrors,
    delete_errors: FieldErrors,
) -> Result<Response, AppError> {
    let current = current_token_hash(headers);
    let page = account_page(state, user, &current, None, password_errors, delete_errors).await?;
    Ok(busy::busy_retry_after((status, render(&page)?).into_response()))
}

fn throttled_message(wait: std::time::Duration) -> String {
    format!("Too many wrong passwords. Try again in {} minute(s); nothing was changed.", wait.as_secs().div_ceil(60))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password_confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    client_ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let confirmation = confirm_password(&state, &user, &client_ip.0, &form.current_password).await?;
    let status = match confirmation {
        Confirmation::Throttled(wait) => {
            errors.add(account::CURRENT_PASSWORD, throttled_message(wait));
            StatusCode::TOO_MANY_REQUESTS
        }
        Confirmation::Busy => {
            errors.add(account::CURRENT_PASSWORD, busy::BUSY_MESSAGE);
            StatusCode::SERVICE_UNAVAILABLE
        }
        Confirmation::Matches | Confirmation::Wrong => {
            let matches = matches!(confirmation, Confirmation::Matches);
            for (field, message) in account::password_change_problems(
                &form.current_password,
                matches,
                &form.new_password,
                &form.new_password_confirm,
            ) {
                errors.add(field, message);
            }
            StatusCode::UNPROCESSABLE_ENTITY
        }
    };
    if !errors.is_empty() {
        return refused(&state, user, &headers, status, errors, FieldErrors::default()).await;
    }

    let new_password = form.new_password;
    let hash = match state.password_work.run(move |memory| password::hash_in(&new_password, memory)).await {
        Ok(hash) => hash.map_err(|e| AppError::Internal(anyhow::anyhow!("password hashing failed: {e}")))?,
        Err(Busy) => {
            errors.add(account::CURRENT_PASSWORD, busy::BUSY_MESSAGE);
            return refused(&state, user, &headers, StatusCode::SERVICE_UNAVAILABLE, errors, FieldErrors::default())
                .await;
        }
    };
    // The asking session carries on under a fresh id; every other one ends.
    let (token, token_hash) = session::new_token();
    let mut tx = state.db.begin().await?;
    db::users::set_password_hash(&mut *tx, user.id, &hash).await?;
    let client = session::client(&headers, client_ip);
    db::sessions::create(&mut *tx, &token_hash, user.id, chrono::Utc::now() + session::LIFETIME, &client).await?;
    let ended = db::sessions::end(&mut *tx, Ending::AllBut { user_id: user.id, keep: &token_hash }).await?;
    tx.commit().await?;
    state.live.sessions().forget_user(user.id);
    tracing::info!(user_id = %user.id, ended, "password changed");
    let mut response = Redirect::to("/account?done=password").into_response();
    response.headers_mut().insert(header::SET_COOKIE, session::set_cookie(&state.settings, &token));
    Ok(response)
}

async fn end_other_sessions(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let keep = current_token_hash(&headers);
    let ended = db::sessions::end(&state.db, Ending::AllBut { user_id: user.id, keep: &keep }).await?;
    state.live.sessions().forget_user(user.id);
    tracing::info!(user_id = %user.id, ended, "other sessions ended");
    Ok(Redirect::to("/account?done=other-sessions").into_response())
}

async fn end_session(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
    Path(session_id): Path<Uuid>,
) -> Result<Response, AppError> {
    let listed = db::sessions::list(&state.db, user.id, &current_token_hash(&headers)).await?;
    let Some(chosen) = listed.iter().find(|s| s.id == session_id) else {
        return Err(AppError::NotFound);
    };
    db::sessions::end(&state.db, Ending::Listed { user_id: user.id, session_id }).await?;
    state.live.sessions().forget_user(user.id);
    tracing::info!(user_id = %user.id, "session ended from the sessions list");
    if chosen.current {
        // Ending the session one is using is signing out.
        let mut response = Redirect::to("/").into_response();
        response.headers_mut().insert(header::SET_COOKIE, session::clear_cookie(&state.settings));
        return Ok(response);
    }
    Ok(Redirect::to("/account?done=session").into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeleteForm {
    password: String,
}

#[derive(Template)]
#[template(path = "account/deleted.html")]
struct DeletedPage {
    layout: Layout,
}

async fn delete_account(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    client_ip: ClientIp,
    headers: HeaderMap,
    Form(form): Form<DeleteForm>,
) -> Result<Response, AppError> {
    let mut errors = FieldErrors::default();
    let status = match confirm_password(&state, &user, &client_ip.0, &form.password).await? {
        Confirmation::Matches => None,
        Confirmation::Wrong if form.password.is_empty() => {
            errors.add("password", "Enter your password to delete your account.");
            Some(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Confirmation::Wrong => {
            errors.add("password", "That is not your password. Nothing was deleted.");
            Some(StatusCode::UNPROCESSABLE_ENTITY)
        }
        Confirmation::Throttled(wait) => {
            errors.add("password", throttled_message(wait));
            Some(StatusCode::TOO_MANY_REQUESTS)
        }
        Confirmation::Busy => {
            errors.add("password", busy::BUSY_MESSAGE);
            Some(StatusCode::SERVICE_UNAVAILABLE)
        }
    };
    if let Some(status) = status {
        return refused(&state, user, &headers, status, FieldErrors::default(), errors).await;
    }
    let mut tx = state.db.begin().await?;
    db::account::delete(&mut tx, user.id).await?;
    tx.commit().await?;
    state.live.sessions().forget_user(user.id);
    tracing::info!(user_id = %user.id, "account deleted by its owner");
    let mut response = render(&DeletedPage { layout: Layout::default() })?;
    response.headers_mut().insert(header::SET_COOKIE, session::clear_cookie(&state.settings));
    Ok(response)
}

/// The download: everything the account wrote, and what others wrote for it
/// as far as the feedback pages would show it.
#[derive(Serialize)]
struct Export {
    format: &'static str,
    exported_at: chrono::DateTime<chrono::Utc>,
    profile: db::account::Profile,
    loops: Vec<LoopExport>,
    interviews: Vec<InterviewExport>,
    questions: Vec<db::account::ExportedQuestion>,
    templates: Vec<db::account::ExportedTemplate>,
    sessions: Vec<SessionExport>,
}

#[derive(Serialize)]
struct LoopExport {
    #[serde(flatten)]
    the_loop: ExportedLoop,
    rounds: Vec<RoundExport>,
    invitations: Vec<InvitationExport>,
}

#[derive(Serialize)]
struct RoundExport {
    #[serde(flatten)]
    round: ExportedRound,
    notes: Vec<ExportedNote>,
    /// The candidate's own scorecard, draft or submitted.
    self_assessment: Option<ExportedScorecard>,
    /// The interviewer's scorecard, once the feedback page would show it to the candidate.
    interviewer_scorecard: Option<CardView>,
}

#[derive(Serialize)]
struct InterviewExport {
    #[serde(flatten)]
    interview: ExportedInterview,
    notes: Vec<ExportedNote>,
    /// The scorecard the user wrote as this round's interviewer, draft or submitted.
    scorecard: Option<ExportedScorecard>,
}

#[derive(Serialize)]
struct InvitationExport {
    created_at: chrono::DateTime<chrono::Utc>,
    expires_at: chrono::DateTime<chrono::Utc>,
    revoked_at: Option<chrono::DateTime<chrono::Utc>>,
    round_positions: Vec<i16>,
    accepted_rounds: i64,
}

impl From<InvitationSummary> for InvitationExport {
    fn from(i: InvitationSummary) -> Self {
        InvitationExport {
            created_at: i.created_at,
            expires_at: i.expires_at,
            revoked_at: i.revoked_at,
            round_positions: i.round_positions,
            accepted_rounds: i.accepted,
        }
    }
}

#[derive(Serialize)]
struct SessionExport {
    created_at: chrono::DateTime<chrono::Utc>,
    last_seen_at: chrono::DateTime<chrono::Utc>,
    user_agent: Option<String>,
    client_ip: Option<String>,
    current: bool,
}

async fn export_data(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let mut db = state.db.begin().await?;
    // One snapshot, so that the parts agree with each other.
    db::read_one_snapshot(&mut db).await?;
    let profile = db::account::profile(&mut *db, user.id).await?;
    let mut notes = db::account::notes(&mut *db, user.id).await?;
    let mut cards = db::account::scorecards_written(&mut *db, user.id).await?;
    let mut rounds = db::account::rounds_as_candidate(&mut *db, user.id).await?;
    let mut loops = Vec::new();
    for the_loop in db::account::loops(&mut *db, user.id).await? {
        // The interviewers' scorecards as the candidate's feedback pages show them.
        let lines = db::feedback::for_loop(&mut *db, the_loop.id).await?;
        let mut received: Vec<CardView> = cards::readable_cards(&lines, user.id, user.id)
            .into_iter()
            .filter(|card| card.role == CardRole::Interviewer)
            .collect();
        let invitations = db::invitations::list_for_loop(&mut *db, the_loop.id).await?;
        let loop_rounds = take_where(&mut rounds, |r| r.loop_id == the_loop.id)
            .into_iter()
            .map(|round| RoundExport {
                notes: take_where(&mut notes, |n| n.round_id == round.id),
                self_assessment: take_where(&mut cards, |c| {
                    c.round_id == round.id && c.role == CardRole::SelfAssessment
                })
                .pop(),
                interviewer_scorecard: take_where(&mut received, |c| c.round_position == round.position).pop(),
                round,
            })
            .collect();
        loops.push(LoopExport {
            the_loop,
            rounds: loop_rounds,
            invitations: invitations.into_iter().map(InvitationExport::from).collect(),
        });
    }
    let interviews = db::account::interviews(&mut *db, user.id)
        .await?
        .into_iter()
        .map(|interview| InterviewExport {
            notes: take_where(&mut notes, |n| n.round_id == interview.round.id),
            scorecard: take_where(&mut cards, |c| c.round_id == interview.round.id).pop(),
            interview,
        })
        .collect();
    let questions = db::account::questions(&mut *db, user.id).await?;
    let templates = db::account::templates(&mut *db, user.id).await?;
    let sessions = db::sessions::list(&mut *db, user.id, &current_token_hash(&headers))
        .await?
        .into_iter()
        .map(|s| SessionExport {
            created_at: s.created_at,
            last_seen_at: s.last_seen_at,
            user_agent: s.user_agent,
            client_ip: s.client_ip,
            current: s.current,
        })
        .collect();
    db.commit().await?;

    let export = Export {
        format: "mockloop-account-export/1",
        exported_at: chrono::Utc::now(),
        profile,
        loops,
        interviews,
        questions,
        templates,
        sessions,
    };
    let body = serde_json::to_vec_pretty(&export).map_err(|e| AppError::Internal(e.into()))?;
    let filename = format!(
        "mockloop-{}-{}.json",
        export.profile.username.replace(|c: char| !c.is_ascii_alphanumeric(), "-"),
        export.exported_at.format("%Y%m%d")
    );
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\""))
        .unwrap_or_else(|_| HeaderValue::from_static("attachment; filename=\"mockloop-export.json\""));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        body,
    )
        .into_response())
}

/// Removes and returns the items that match, keeping the others in order.
fn take_where<T>(items: &mut Vec<T>, matches: impl Fn(&T) -> bool) -> Vec<T> {
    let (taken, kept) = std::mem::take(items).into_iter().partition(|item| matches(item));
    *items = kept;
    taken
}
