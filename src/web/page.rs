//! Rendering askama pages into responses, and what every page's layout needs.

use askama::Template;
use axum::response::{Html, IntoResponse, Response};

use crate::db::sessions::SessionUser;
use crate::web::error::AppError;

/// What the shared layout shows: the signed-in person, if any.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    pub user: Option<SessionUser>,
}

impl Layout {
    pub fn new(user: Option<SessionUser>) -> Self {
        Layout { user }
    }

    /// The signed-in user's id, or nil for a visitor.
    pub fn user_id(&self) -> uuid::Uuid {
        self.user.as_ref().map_or(uuid::Uuid::nil(), |u| u.id)
    }

    /// The cache-busting URL of a file under static/.
    pub fn asset(&self, name: &str) -> &'static str {
        super::assets::url(name)
    }
}

/// Renders a page with status 200.
/// Escapes text for HTML (and SVG) content and attribute values, for markup
/// built outside a template or once for many pages.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

pub fn render(page: &impl Template) -> Result<Response, AppError> {
    Ok(Html(page.render()?).into_response())
}

/// The options of a filter dropdown (see the `select` macro): each value's
/// spelling in URLs and its label.
pub fn choices<'a>(values: impl IntoIterator<Item = (&'a str, &'a str)>) -> Vec<(String, String)> {
    values.into_iter().map(|(value, label)| (value.to_owned(), label.to_owned())).collect()
}
