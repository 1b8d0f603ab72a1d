//! Limits on request bodies (size, time) and readable pages for the bare
//! errors that extractors and middleware answer with.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::body::{Body, HttpBody as _};
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use tower_http::timeout::{DeadlineBody, TimeoutError};

use crate::web::error::{AppError, ErrorPage};

/// Largest request body read (a full scorecard of non-Latin text fits).
pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;

pub fn body_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(MAX_BODY_BYTES)
}

/// Refuses a body whose announced size is over the limit before any handler
/// work (a session or round lookup) is done for it; a body that does not say
/// its size is still cut off by [`body_limit`] as it is read.
pub async fn refuse_announced_oversized_bodies(request: Request, next: Next) -> Response {
    let announced = request.body().size_hint().lower() as usize;
    if announced > MAX_BODY_BYTES {
        return AppError::PayloadTooLarge(OVERSIZED_FORM).into_response();
    }
    next.run(request).await
}

/// What an oversized form is told, wherever it is refused.
pub const OVERSIZED_FORM: &str = "The form is larger than mockloop accepts; nothing was saved.";

/// Cuts off a body that takes longer than `deadline` to arrive in full (a client
/// trickling it would otherwise hold a connection and a handler indefinitely),
/// answering 408 and closing the connection.
pub async fn cut_off_slow_bodies(deadline: Duration, request: Request, next: Next) -> Response {
    let expired = Arc::new(AtomicBool::new(false));
    let noticed = expired.clone();
    let request = request.map(|body| {
        Body::new(DeadlineBody::new(deadline, body).map_err(move |error| {
            if error.is::<TimeoutError>() {
                noticed.store(true, Ordering::Relaxed);
            }
            error
        }))
    });
    let response = next.run(request).await;
    if !expired.load(Ordering::Relaxed) {
        return response;
    }
    tracing::info!("request body too slow; cut off");
    let mut page = bare_error_page(StatusCode::REQUEST_TIMEOUT);
    page.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    page
}

/// Extractor rejections and middleware errors come as plain text or with no body;
/// people get the same page as for our own errors instead.
pub async fn render_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    let is_bare =
        response.headers().get(header::CONTENT_TYPE).is_none_or(|value| value.as_bytes().starts_with(b"text/plain"));
    if !is_error || !is_bare {
        return response;
    }
    // Only the timeout layer answers a 5xx with no body at all; nothing else logged it.
    if status.is_server_error() && response.headers().get(header::CONTENT_TYPE).is_none() {
        tracing::warn!(%status, "request failed before a handler answered (timed out)");
    }
    let mut page = bare_error_page(status);
    for name in [header::RETRY_AFTER, header::ALLOW, header::CONNECTION] {
        if let Some(value) = response.headers().get(&name) {
            page.headers_mut().insert(name, value.clone());
        }
    }
    page
}

fn bare_error_page(status: StatusCode) -> Response {
    let (title, message) = explain(status);
    ErrorPage::response(status, title, message)
}

/// The title and message of an error page for `status`.
fn explain(status: StatusCode) -> (&'static str, &'static str) {
    match status {
        StatusCode::PAYLOAD_TOO_LARGE => (
            "Too much text",
            "What you sent is larger than mockloop accepts (2 MB at most). Shorten it and send it again.",
        ),
        StatusCode::REQUEST_TIMEOUT => (
            "That took too long",
            "What you sent arrived too slowly and was not saved. Check your connection and send it again.",
        ),
        StatusCode::METHOD_NOT_ALLOWED => ("Not here", "This address does not take that kind of request."),
        StatusCode::NOT_FOUND => ("Page not found", "There is nothing at this address, or it is not yours to see."),
        StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => (
            "Temporarily unavailable",
            "mockloop cannot answer right now. Nothing you saved is lost; please try again in a moment.",
        ),
        status if status.is_server_error() => (
            "Something went wrong",
            "The error has been logged. Please try again; if it keeps happening, tell whoever runs this mockloop.",
        ),
        _ => ("That request was not understood", "The form could not be read. Go back, reload the page and try again."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_status_gets_a_title_and_a_message() {
        for code in 400..600 {
            let Ok(status) = StatusCode::from_u16(code) else { continue };
            let (title, message) = explain(status);
            assert!(!title.is_empty() && !message.is_empty(), "{status}");
        }
        assert_eq!(explain(StatusCode::PAYLOAD_TOO_LARGE).0, "Too much text");
    }
}
