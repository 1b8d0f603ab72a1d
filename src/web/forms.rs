//! Form errors shown next to their fields.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Json, Redirect, Response};

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

/// A form's answer: `json` for a page's script, otherwise a redirect to `to`
/// (the page the form came from, which shows the result without script).
pub fn json_or_redirect(headers: &HeaderMap, json: impl serde::Serialize, to: &str) -> Response {
    if wants_json(headers) { Json(json).into_response() } else { Redirect::to(to).into_response() }
}
