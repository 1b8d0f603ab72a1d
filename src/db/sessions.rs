//! Server-side sessions, keyed by the SHA-256 of the cookie's random token.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// The signed-in person, as every page needs them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
}

pub async fn create(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    user_id: Uuid,
    expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("insert into sessions (id_hash, user_id, expires_at) values ($1, $2, $3)")
        .bind(token_hash)
        .bind(user_id)
        .bind(expires_at)
        .execute(db)
        .await?;
    Ok(())
}

/// The user the session signs in, if it is current. (`live::still_allowed` applies the same test to open streams.)
pub async fn find_user(db: impl PgExecutor<'_>, token_hash: &[u8]) -> Result<Option<SessionUser>, sqlx::Error> {
    sqlx::query_as(
        "select u.id, u.username, u.display_name
         from sessions s join users u on u.id = s.user_id
         where s.id_hash = $1 and s.expires_at > now()",
    )
    .bind(token_hash)
    .fetch_optional(db)
    .await
}

pub async fn delete(db: impl PgExecutor<'_>, token_hash: &[u8]) -> Result<(), sqlx::Error> {
    sqlx::query("delete from sessions where id_hash = $1").bind(token_hash).execute(db).await?;
    Ok(())
}

pub async fn delete_expired(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("delete from sessions where expires_at <= now()").execute(db).await?.rows_affected())
}

/// Ends every session of `user` but `keep` (the one asking, if any): for
/// "sign out everywhere else", a password change or a disabled account.
/// Like every deletion of a session, this also ends its live streams on every
/// instance (the `sessions_deleted_notify` trigger announces it).
pub async fn delete_all_for_user(db: impl PgExecutor<'_>, user: Uuid, keep: Option<&[u8]>) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("delete from sessions where user_id = $1 and ($2::bytea is null or id_hash <> $2)")
        .bind(user)
        .bind(keep)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
