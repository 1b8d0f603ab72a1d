//! Accounts.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::username::Username;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    pub id: Uuid,
    pub password_hash: String,
}

/// `Ok(None)` when the username is already taken.
pub async fn create(
    db: impl PgExecutor<'_>,
    username: &Username,
    display_name: &str,
    password_hash: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar(
        "insert into users (username, display_name, password_hash) values ($1, $2, $3)
         on conflict (username) do nothing
         returning id",
    )
    .bind(username.as_str())
    .bind(display_name)
    .bind(password_hash)
    .fetch_optional(db)
    .await
}

pub async fn credentials(db: impl PgExecutor<'_>, username: &str) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as("select id, password_hash from users where username = $1").bind(username).fetch_optional(db).await
}
