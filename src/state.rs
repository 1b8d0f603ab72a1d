//! State shared by every request handler.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::live::LiveHub;

#[derive(Clone)]
pub struct AppState {
    pub db: PgPool,
    pub settings: Arc<Settings>,
    pub live: LiveHub,
}

impl AppState {
    /// State for serving, with a live-event listener on `db`.
    pub fn new(db: PgPool, settings: Settings) -> AppState {
        let live = LiveHub::start(db.clone());
        AppState { db, settings: Arc::new(settings), live }
    }
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
