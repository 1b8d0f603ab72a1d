//! Form errors shown next to their fields.

use std::collections::BTreeMap;

use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use serde::de::DeserializeOwned;

use crate::error::AppError;

/// `axum::Form`, except that a body it cannot read (garbled, incomplete, the
/// wrong type) gets the app's error page with a plain message, like every
/// other refusal, instead of axum's bare-text rejection.
pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            // The rejection's text can quote what was sent, so only its status is logged.
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(AppError::PayloadTooLarge("The form is larger than mockloop accepts; nothing was saved."))
            }
            Err(rejection) => {
                tracing::info!(status = %rejection.status(), "unreadable form refused");
                Err(AppError::BadRequest(
                    "The form arrived incomplete or garbled, so nothing was saved. Go back, reload the page and send it again.",
                ))
            }
        }
    }
}

/// Messages by field name; empty when the form is valid.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(BTreeMap<String, String>);

impl FieldErrors {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.entry(field.into()).or_insert_with(|| message.into());
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.get(field).map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// "unknown kind" becomes "Unknown kind": domain messages start lowercase, form messages do not.
pub fn capitalise(message: &str) -> String {
    let mut chars = message.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

/// True when the client asked for JSON (a page's script), not a page.
pub fn wants_json(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|accept| accept.contains("application/json"))
}
