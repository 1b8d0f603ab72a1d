//! The log of sign-in attempts that throttling counts from; shared by all
//! instances because it lives in the database.

use std::time::Duration;

use sqlx::PgExecutor;

use crate::domain::sign_in_throttle::{RecentFailures, WINDOW};

pub async fn record(
    db: impl PgExecutor<'_>,
    username: &str,
    client_ip: &str,
    succeeded: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into sign_in_attempts (username, client_ip, succeeded) values ($1, $2, $3)")
        .bind(username)
        .bind(client_ip)
        .bind(succeeded)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn recent_failures(
    db: impl PgExecutor<'_>,
    username: &str,
    client_ip: &str,
) -> Result<RecentFailures, sqlx::Error> {
    let (for_account, from_ip, oldest_age_ms): (i64, i64, Option<f64>) = sqlx::query_as(
        "select count(*) filter (where username = $1),
                count(*) filter (where client_ip = $2),
                (extract(epoch from now() - min(attempted_at)) * 1000)::float8
         from sign_in_attempts
         where not succeeded
           and attempted_at > now() - make_interval(secs => $3)
           and (username = $1 or client_ip = $2)",
    )
    .bind(username)
    .bind(client_ip)
    .bind(WINDOW.as_secs_f64())
    .fetch_one(db)
    .await?;
    Ok(RecentFailures {
        for_account,
        from_ip,
        oldest_age: Duration::from_millis(oldest_age_ms.unwrap_or(0.0).max(0.0) as u64),
    })
}

/// A successful sign-in forgets the account's earlier failures.
pub async fn clear_failures(db: impl PgExecutor<'_>, username: &str) -> Result<(), sqlx::Error> {
    sqlx::query("delete from sign_in_attempts where username = $1 and not succeeded")
        .bind(username)
        .execute(db)
        .await?;
    Ok(())
}

/// Forgets attempts older than the window.
pub async fn prune(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("delete from sign_in_attempts where attempted_at < now() - make_interval(secs => $1)")
        .bind(WINDOW.as_secs_f64())
        .execute(db)
        .await?
        .rows_affected())
}
