//! State shared by every request handler.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::db;
use crate::db::code::{CodeDraft, CodeSave};
use crate::db::notes::{NoteDraft, ParticipantSave};
use crate::domain::account::SignUp;
use crate::domain::call::IceServers;
use crate::live::{LiveHub, LiveRound, SharedReads};
use crate::password_work::PasswordWork;
use crate::question_texts::QuestionTexts;
use crate::web::render_cache::RenderCache;
use crate::web::rounds::KeptRound;
use crate::write_batches::WriteBatches;

/// About 200 bank pages (~40 KB each, most of it the tag filter).
const SEARCH_PAGES_BUDGET_BYTES: usize = 8 * 1024 * 1024;

/// About 500 round pages (~20 KB each): a kept page serves its two
/// participants' reloads, so only the live rounds need to stay.
const ROUND_PAGES_BUDGET_BYTES: usize = 10 * 1024 * 1024;

/// Cloned by every extractor of every request, so one reference count.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Clone)]
pub struct Shared {
    pub db: PgPool,
    pub settings: Arc<Settings>,
    pub live: LiveHub,
    /// Each round's live state, read once per change for all its open streams.
    pub live_rounds: Arc<SharedReads<Option<Arc<LiveRound>>>>,
    pub limits: Limits,
    /// Who may create accounts from the sign-up page.
    pub sign_up: SignUp,
    /// The bound on concurrent password hashing.
    pub password_work: PasswordWork,
    /// Pages that change only with a version the database computes (completed loops' feedback).
    pub rendered: RenderCache,
    /// Bank pages under the same rule, apart so that many distinct searches
    /// cannot push out the pages that cost most to render.
    pub rendered_searches: RenderCache,
    /// Round pages with holes for their timer, nonce and call credentials
    /// (`web::rounds`), under the same rule, apart for the same reason.
    pub rendered_rounds: RenderCache<Arc<KeptRound>>,
    /// Question texts, read once per version.
    pub question_texts: QuestionTexts,
    /// The STUN/TURN servers a round's call may use (none by default).
    pub ice_servers: Arc<IceServers>,
    /// The peer board hides the slots of people more than this many rounds in debt (none: no limit).
    pub peer_board_balance: Option<u32>,
    /// The operator's SMTP relay for notice e-mail (none by default).
    pub mailer: Option<Arc<crate::mail::Mailer>>,
    /// Notes autosaves, written together as they come.
    pub note_saves: WriteBatches<NoteDraft, Option<ParticipantSave>>,
    /// Code autosaves, written together as they come.
    pub code_saves: WriteBatches<CodeDraft, Option<CodeSave>>,
}

impl AppState {
    /// State for serving, with a live-event listener on `db`.
    pub fn new(db: PgPool, settings: Settings) -> AppState {
        let live = LiveHub::start(db.clone());
        AppState(Arc::new(Shared {
            settings: Arc::new(settings),
            live,
            live_rounds: Arc::new(SharedReads::default()),
            limits: Limits::default(),
            sign_up: SignUp::Open,
            password_work: PasswordWork::sized_to_this_machine(),
            rendered: RenderCache::default(),
            rendered_searches: RenderCache::with_budget(SEARCH_PAGES_BUDGET_BYTES),
            rendered_rounds: RenderCache::with_budget(ROUND_PAGES_BUDGET_BYTES),
            question_texts: QuestionTexts::default(),
            ice_servers: Arc::new(IceServers::default()),
            peer_board_balance: None,
            mailer: None,
            note_saves: WriteBatches::start(db.clone(), Arc::new(|pool, drafts| Box::pin(save_notes(pool, drafts)))),
            code_saves: WriteBatches::start(db.clone(), Arc::new(|pool, drafts| Box::pin(save_code(pool, drafts)))),
            db,
        }))
    }

    fn shared_mut(&mut self) -> &mut Shared {
        Arc::make_mut(&mut self.0)
    }

    pub fn with_limits(mut self, limits: Limits) -> AppState {
        self.shared_mut().limits = limits;
        self
    }

    pub fn with_sign_up(mut self, sign_up: SignUp) -> AppState {
        self.shared_mut().sign_up = sign_up;
        self
    }

    pub fn with_peer_board_balance(mut self, peer_board_balance: Option<u32>) -> AppState {
        self.shared_mut().peer_board_balance = peer_board_balance;
        self
    }

    pub fn with_mailer(mut self, mailer: Option<crate::mail::Mailer>) -> AppState {
        self.shared_mut().mailer = mailer.map(Arc::new);
        self
    }

    pub fn with_ice_servers(mut self, ice_servers: IceServers) -> AppState {
        self.shared_mut().ice_servers = Arc::new(ice_servers);
        self
    }
}

async fn save_notes(pool: PgPool, drafts: Vec<NoteDraft>) -> Result<Vec<Option<ParticipantSave>>, sqlx::Error> {
    db::notes::save_batch(&mut *pool.acquire().await?, &drafts).await
}

async fn save_code(pool: PgPool, drafts: Vec<CodeDraft>) -> Result<Vec<Option<CodeSave>>, sqlx::Error> {
    db::code::save_batch(&mut *pool.acquire().await?, &drafts).await
}

/// What one client may hold open or take, fixed at start-up.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Live event streams one account may hold open at once (a tab each).
    pub max_live_streams_per_user: usize,
    /// Longest a client may take to send a request body.
    pub request_body_deadline: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_live_streams_per_user: 16, request_body_deadline: Duration::from_secs(20) }
    }
}

/// Settings the handlers need, fixed at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub base_url: String,
    pub secure_cookies: bool,
    pub behind_proxy: bool,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
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
