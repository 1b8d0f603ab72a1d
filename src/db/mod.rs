//! All SQL lives in this module tree: one file per aggregate, functions taking
//! an executor so that callers choose the connection or transaction.

pub mod account;
pub mod calendar;
pub mod content;
pub mod demo;
pub mod feedback;
pub mod history;
pub mod invitations;
pub mod live;
pub mod loops;
pub mod notes;
pub mod questions;
pub mod rounds;
pub mod rubrics;
pub mod scorecards;
pub mod sessions;
pub mod sign_in_attempts;
pub mod sign_up_attempts;
pub mod templates;
mod text_enums;
pub mod users;

use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// A pool tuned for page serving: no ping before each checkout (it costs a
/// round trip on every page) and a short wait so an outage answers 503 quickly.
pub fn pool_options(max_connections: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(3))
        .test_before_acquire(false)
}

pub async fn connect(options: PgConnectOptions, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    pool_options(max_connections).connect_with(page_serving(options)).await
}

/// Planner settings for a page's short queries on cached data: JIT compiling
/// pays off only for long analytic queries (on the history page it added
/// ~300 ms), and random reads cost little more than sequential ones once the
/// working set is in memory, so index lookups should win over whole-table scans.
pub fn page_serving(options: PgConnectOptions) -> PgConnectOptions {
    options.options([("jit", "off"), ("random_page_cost", "1.1")])
}

pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    MIGRATOR.run(pool).await
}

/// Longest the readiness probe waits: a frozen server must turn it red in
/// seconds, not hold it until the handler timeout.
const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// True when the database answers a trivial query in time.
pub async fn is_ready(pool: &PgPool) -> bool {
    matches!(tokio::time::timeout(READY_TIMEOUT, sqlx::query("select 1").execute(pool)).await, Ok(Ok(_)))
}
