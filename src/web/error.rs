//! The one error type of request handlers, and the error pages it renders.

use std::time::Duration;

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use super::page::Layout;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: a request no form of ours sends; the message says what was wrong.
    #[error("bad request: {0}")]
    BadRequest(&'static str),
    /// 413: the body is larger than this field allows.
    #[error("payload too large: {0}")]
    PayloadTooLarge(&'static str),
    /// 404: no such page, or one the visitor may not know exists.
    #[error("not found")]
    NotFound,
    /// 403: signed in, but not allowed to do this.
    #[error("forbidden")]
    Forbidden,
    /// 409: the action clashes with the current state; the message says how.
    #[error("conflict: {0}")]
    Conflict(&'static str),
    /// 429: too many attempts; try again after the given wait.
    #[error("too many requests")]
    TooManyRequests(Duration),
    /// 429: this account already holds as many live event streams as allowed.
    #[error("too many live streams")]
    TooManyLiveStreams,
    /// 503: the database cannot be reached right now.
    #[error("database unavailable: {0}")]
    Unavailable(sqlx::Error),
    /// 500: a bug or an unexpected database error; logged, never shown.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("template error: {0}")]
    Render(#[from] askama::Error),
    #[error("internal error: {0}")]
    Internal(#[from] anyhow::Error),
}

/// PostgreSQL's `character_not_in_repertoire`: text holding a NUL character,
/// which no `text` column can store.
const NUL_IN_TEXT: &str = "22021";

/// The answer to text holding a NUL character, which PostgreSQL cannot store.
pub const NUL_IN_TEXT_MESSAGE: &str =
    "The text contains a NUL character (\\0), which cannot be stored. Remove it and send it again.";

impl AppError {
    /// A batch's failure (`write_batches`), answered to each save in it as that
    /// error alone would be (each gets its own copy, as text).
    pub fn from_shared(error: std::sync::Arc<sqlx::Error>) -> AppError {
        match std::sync::Arc::try_unwrap(error) {
            Ok(error) => error.into(),
            Err(shared) if is_outage_error(&shared) => {
                AppError::Unavailable(sqlx::Error::Io(std::io::Error::other(shared.to_string())))
            }
            Err(shared) => AppError::Database(sqlx::Error::Protocol(shared.to_string())),
        }
    }
}

/// The database is away or not yet back: retrying later helps.
fn is_outage_error(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(database) => database.code().is_some_and(|code| is_outage(&code)),
        _ => false,
    }
}

impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        match error {
            error if is_outage_error(&error) => AppError::Unavailable(error),
            // Browsers never type one, but a pasted or forged NUL must get a 400 that says why, not a 500.
            sqlx::Error::Database(ref database) if database.code().as_deref() == Some(NUL_IN_TEXT) => {
                AppError::BadRequest(NUL_IN_TEXT_MESSAGE)
            }
            error => AppError::Database(error),
        }
    }
}

/// SQLSTATEs of a server going away or not yet back: connection exceptions (08),
/// shutdown or start-up in progress (57P01-57P03), like a stopped or restarting
/// PostgreSQL sends them. Retrying later helps, so they are a 503, not a bug.
fn is_outage(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || matches!(sqlstate, "57P01" | "57P02" | "57P03")
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub layout: Layout,
    pub title: &'static str,
    pub message: &'static str,
}

impl ErrorPage {
    pub fn response(status: StatusCode, title: &'static str, message: &'static str) -> Response {
        let body = ErrorPage { layout: Layout::default(), title, message }
            .render()
            .unwrap_or_else(|_| format!("<!doctype html><title>{title}</title><p>{message}</p>"));
        (status, Html(body)).into_response()
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match self {
            AppError::NotFound => ErrorPage::response(
                StatusCode::NOT_FOUND,
                "Page not found",
                "There is nothing at this address, or it is not yours to see.",
            ),
            AppError::Forbidden => {
                ErrorPage::response(StatusCode::FORBIDDEN, "Not allowed", "Your account may not do this.")
            }
            AppError::BadRequest(message) => {
                ErrorPage::response(StatusCode::BAD_REQUEST, "That request was not understood", message)
            }
            AppError::PayloadTooLarge(message) => {
                ErrorPage::response(StatusCode::PAYLOAD_TOO_LARGE, "Too much text", message)
            }
            AppError::Conflict(message) => {
                ErrorPage::response(StatusCode::CONFLICT, "That cannot be done now", message)
            }
            AppError::TooManyRequests(wait) => {
                let mut response = ErrorPage::response(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many attempts",
                    "Please wait a little and try again.",
                );
                if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                response
            }
            AppError::TooManyLiveStreams => {
                let mut response = ErrorPage::response(
                    StatusCode::TOO_MANY_REQUESTS,
                    "Too many open round pages",
                    "Your account has too many round pages open with live updates. Close some tabs or windows and reload this one.",
                );
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("15"));
                response
            }
            AppError::Unavailable(error) => {
                tracing::warn!(%error, "database unavailable");
                let mut response = ErrorPage::response(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Temporarily unavailable",
                    "mockloop cannot reach its database right now. Nothing you saved is lost; please try again in a moment.",
                );
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                response
            }
            error @ (AppError::Database(_) | AppError::Render(_) | AppError::Internal(_)) => {
                tracing::error!(%error, "request failed");
                ErrorPage::response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The error has been logged. Please try again; if it keeps happening, tell whoever runs this mockloop.",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn page(error: AppError) -> (StatusCode, String) {
        let response = error.into_response();
        let status = response.status();
        let body = to_bytes(response.into_body(), 1 << 20).await.expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn an_internal_error_is_a_500_page_in_the_layout_without_its_details() {
        let (status, body) = page(AppError::Internal(anyhow::anyhow!("secret table xyz exploded"))).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert!(body.contains("Something went wrong") && body.contains("site-nav"), "{body}");
        assert!(!body.contains("secret table xyz"), "internal details stay in the log");
    }

    #[test]
    fn a_shutting_down_or_starting_server_is_an_outage_and_a_broken_query_is_not() {
        assert!(is_outage("57P01") && is_outage("57P03") && is_outage("08006"));
        assert!(!is_outage("23505") && !is_outage("42P01") && !is_outage("57014"));
    }

    #[tokio::test]
    async fn a_lost_database_is_a_503_with_retry_after() {
        let response = AppError::from(sqlx::Error::PoolTimedOut).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(response.headers().get(header::RETRY_AFTER).and_then(|v| v.to_str().ok()), Some("5"));
    }
}
