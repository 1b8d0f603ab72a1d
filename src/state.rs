//! State shared by every request handler.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub settings: Arc<Settings>,
}

/// Settings the handlers need, fixed at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: String,
    pub secure_cookies: bool,
    pub behind_proxy: bool,
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> Self {
        state.db.clone()
    }
}

impl FromRef<AppState> for Arc<Settings> {
    fn from_ref(state: &AppState) -> Self {
        state.settings.clone()
    }
}
