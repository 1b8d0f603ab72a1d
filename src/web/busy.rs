//! Answers that ask the client to come back: password work refused while
//! the hashing pool is full, and throttled attempts.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::password_work;

pub const BUSY_MESSAGE: &str =
    "mockloop is busy checking other passwords. Nothing was sent wrong: try again in a few seconds.";

/// A 503 (password work refused as busy) gets the `Retry-After` the pool asks for.
pub fn busy_retry_after(response: Response) -> Response {
    if response.status() == StatusCode::SERVICE_UNAVAILABLE {
        with_retry_after(response, password_work::RETRY_AFTER)
    } else {
        response
    }
}

pub fn with_retry_after(mut response: Response, wait: Duration) -> Response {
    if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}
