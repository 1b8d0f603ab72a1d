//! The log of sign-ups per client address that throttling counts from.
//!
//! A sign-up is reserved before its password is hashed, under a lock per
//! address, so parallel sign-ups cannot all read the same count.

use sqlx::{PgConnection, PgExecutor};

use super::sign_in_attempts::age;
use crate::domain::sign_up_throttle::{RecentSignUps, WINDOW};

/// Advisory lock space (the first key of `pg_advisory_xact_lock(int, int)`).
const ADDRESS_LOCKS: i32 = 72013;

/// A sign-up reserved from an address, released if its password was never hashed.
#[derive(Debug, Clone, Copy)]
pub struct SignUpAttemptId(i64);

/// Takes the address's sign-up lock for the rest of the transaction and
/// counts its recent sign-ups.
pub async fn lock_and_count(tx: &mut PgConnection, client_ip: &str) -> Result<RecentSignUps, sqlx::Error> {
    sqlx::query!("select pg_advisory_xact_lock($1, hashtext($2))", ADDRESS_LOCKS, client_ip).execute(&mut *tx).await?;
    let counted = sqlx::query!(
        r#"select count(*) as "from_address!", (extract(epoch from now() - min(attempted_at)) * 1000)::float8 as oldest_age_ms
         from sign_up_attempts
         where client_ip = $1 and attempted_at > now() - make_interval(secs => $2)"#,
        client_ip,
        WINDOW.as_secs_f64(),
    )
    .fetch_one(&mut *tx)
    .await?;
    Ok(RecentSignUps { from_address: counted.from_address, oldest_age: age(counted.oldest_age_ms) })
}

pub async fn reserve(tx: &mut PgConnection, client_ip: &str) -> Result<SignUpAttemptId, sqlx::Error> {
    let id = sqlx::query_scalar!("insert into sign_up_attempts (client_ip) values ($1) returning id", client_ip)
        .fetch_one(tx)
        .await?;
    Ok(SignUpAttemptId(id))
}

pub async fn release(db: impl PgExecutor<'_>, attempt: SignUpAttemptId) -> Result<(), sqlx::Error> {
    sqlx::query!("delete from sign_up_attempts where id = $1", attempt.0).execute(db).await?;
    Ok(())
}

/// Forgets sign-ups older than the window.
pub async fn prune(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "delete from sign_up_attempts where attempted_at < now() - make_interval(secs => $1)",
        WINDOW.as_secs_f64(),
    )
    .execute(db)
    .await?
    .rows_affected())
}
