//! All SQL lives in this module tree: one file per aggregate.
//!
//! **Transactions belong to the caller.** A handler (or command) whose
//! statements must succeed or fail together opens the transaction
//! (`state.db.begin()`), passes `&mut tx` down, and commits; a db function
//! never begins or commits one. It takes `impl PgExecutor<'_>` when it runs
//! one statement (a pool, a connection or a transaction will do), and
//! `&mut PgConnection` when it runs several or holds something across them
//! (an advisory transaction lock, `for update`, `set transaction`); such a
//! function says "inside the caller's transaction" where that matters. The
//! one exception is `demo::generate`, a batch command whose temporary tables
//! live and die with the transaction it opens, and which analyzes after committing.
//!
//! **SQL is checked at compile time.** Every static statement is a `query!`,
//! `query_as!` or `query_scalar!`, checked against `.sqlx/` (rewritten by
//! `scripts/sqlx-prepare`); states cross as domain types (`text_enums`). Only
//! `demo`'s statements on its temporary tables and `ensure_database`'s
//! `create database` are text the compiler cannot check.

pub mod account;
pub mod calendar;
pub mod call;
pub mod code;
pub mod code_runs;
pub mod content;
pub mod demo;
pub mod feedback;
pub mod history;
pub mod home;
pub mod invitations;
pub mod live;
pub mod loops;
pub mod markers;
pub mod notes;
pub mod peer_board;
pub mod questions;
pub mod round_page;
pub mod rounds;
pub mod rubrics;
pub mod scene;
pub mod scorecards;
pub mod sessions;
pub mod sign_in_attempts;
pub mod sign_up_attempts;
pub mod templates;
mod text_enums;
pub mod users;

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{PgConnection, PgPool};

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
    let probe = sqlx::query_scalar!(r#"select 1 as "one!""#).fetch_one(pool);
    matches!(tokio::time::timeout(READY_TIMEOUT, probe).await, Ok(Ok(_)))
}

/// Makes the caller's transaction read one snapshot throughout, read-only, so
/// that the parts of an export agree with each other. First in the transaction.
pub async fn read_one_snapshot(tx: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query!("set transaction isolation level repeatable read, read only").execute(tx).await?;
    Ok(())
}

/// Creates the database `name` on the server `admin` is connected to, unless
/// it exists (the local cluster's first start).
pub async fn ensure_database(admin: &mut PgConnection, name: &str) -> Result<(), sqlx::Error> {
    let exists =
        sqlx::query_scalar!(r#"select exists (select 1 from pg_database where datname = $1) as "exists!""#, name)
            .fetch_one(&mut *admin)
            .await?;
    if !exists {
        // An identifier cannot be a parameter, so this one statement is text:
        // `name` is ours, never user input, and quoted all the same.
        let statement = format!("create database \"{}\"", name.replace('"', "\"\""));
        sqlx::raw_sql(&statement).execute(&mut *admin).await?;
    }
    Ok(())
}
