//! The log of sign-in attempts that throttling counts from;
//! shared by all instances because it lives in the database.
//!
//! An attempt is reserved (written down as a failure) before its password is
//! checked, under a lock per account and per address, so that parallel
//! attempts cannot all read the same count and all go on to the check.

use std::time::Duration;

use sqlx::{PgConnection, PgExecutor};

use crate::domain::sign_in_throttle::{self, RecentFailures};

/// Advisory lock spaces (the first key of `pg_advisory_xact_lock(int, int)`).
const ACCOUNT_LOCKS: i32 = 72011;
const ADDRESS_LOCKS: i32 = 72012;

/// A reserved sign-in attempt: counted as a failure until marked otherwise.
#[derive(Debug, Clone, Copy)]
pub struct AttemptId(i64);

/// Takes the account's, then the address's lock for the rest of the
/// transaction (always in that order, so two attempts never wait on each
/// other in a cycle), and counts their recent failures.
pub async fn lock_and_count_failures(
    tx: &mut PgConnection,
    username: &str,
    client_ip: &str,
) -> Result<RecentFailures, sqlx::Error> {
    for (space, key) in [(ACCOUNT_LOCKS, username), (ADDRESS_LOCKS, client_ip)] {
        sqlx::query!("select pg_advisory_xact_lock($1, hashtext($2))", space, key).execute(&mut *tx).await?;
    }
    let counted = sqlx::query!(
        r#"select count(*) filter (where username = $1 and client_ip = $2) as "for_account_from_address!",
                count(*) filter (where username = $1) as "for_account!",
                count(*) filter (where client_ip = $2) as "from_address!",
                (extract(epoch from now() - min(attempted_at)) * 1000)::float8 as oldest_age_ms
         from sign_in_attempts
         where not succeeded
           and attempted_at > now() - make_interval(secs => $3)
           and (username = $1 or client_ip = $2)"#,
        username,
        client_ip,
        sign_in_throttle::WINDOW.as_secs_f64(),
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(RecentFailures {
        for_account_from_address: counted.for_account_from_address,
        for_account: counted.for_account,
        from_address: counted.from_address,
        oldest_age: age(counted.oldest_age_ms),
    })
}

/// Writes the attempt down as a failure before its password is checked.
pub async fn reserve(tx: &mut PgConnection, username: &str, client_ip: &str) -> Result<AttemptId, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "insert into sign_in_attempts (username, client_ip, succeeded) values ($1, $2, false) returning id",
        username,
        client_ip,
    )
    .fetch_one(tx)
    .await?;
    Ok(AttemptId(id))
}

/// The password was right: the attempt no longer counts, and neither do the
/// account's earlier failures from this address (others' guesses elsewhere still do).
pub async fn record_success(db: impl PgExecutor<'_>, attempt: AttemptId) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "with attempt as (update sign_in_attempts set succeeded = true where id = $1 returning username, client_ip)
         delete from sign_in_attempts as earlier
         using attempt
         where earlier.username = attempt.username and earlier.client_ip = attempt.client_ip
           and not earlier.succeeded and earlier.id <> $1",
        attempt.0,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The password was never checked (the server was too busy): the attempt does not count.
pub async fn release(db: impl PgExecutor<'_>, attempt: AttemptId) -> Result<(), sqlx::Error> {
    sqlx::query!("delete from sign_in_attempts where id = $1", attempt.0).execute(db).await?;
    Ok(())
}

pub(super) fn age(milliseconds: Option<f64>) -> Duration {
    Duration::from_millis(milliseconds.unwrap_or(0.0).max(0.0) as u64)
}

/// Forgets attempts older than the window.
pub async fn prune(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "delete from sign_in_attempts where attempted_at < now() - make_interval(secs => $1)",
        sign_in_throttle::WINDOW.as_secs_f64(),
    )
    .execute(db)
    .await?
    .rows_affected())
}
