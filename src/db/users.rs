//! Accounts.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::username::Username;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    pub id: Uuid,
    pub password_hash: String,
}

/// `Ok(None)` when the username, or one that looks the same, is already taken.
pub async fn create(
    db: impl PgExecutor<'_>,
    username: &Username,
    display_name: &str,
    password_hash: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "insert into users (username, username_skeleton, display_name, password_hash) values ($1, $2, $3, $4)
         on conflict do nothing
         returning id",
    )
    .bind(username.as_str())
    .bind(username.skeleton())
    .bind(display_name)
    .bind(password_hash)
    .fetch_optional(db)
    .await
}

/// Whether an account has exactly this username (rather than one that looks like it).
pub async fn exists(db: impl PgExecutor<'_>, username: &Username) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar("select exists (select 1 from users where username = $1)")
        .bind(username.as_str())
        .fetch_one(db)
        .await
}

pub async fn credentials(db: impl PgExecutor<'_>, username: &str) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as("select id, password_hash from users where username = $1").bind(username).fetch_optional(db).await
}
