//! Accounts.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::username::Username;

#[derive(Debug, Clone)]
pub struct Credentials {
    pub id: Uuid,
    pub password_hash: String,
    /// Set by the operator (`mockloop users disable`); such an account cannot sign in.
    pub disabled: bool,
}

/// `Ok(None)` when the username, or one that looks the same, is already taken.
pub async fn create(
    db: impl PgExecutor<'_>,
    username: &Username,
    display_name: &str,
    password_hash: &str,
) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into users (username, username_skeleton, display_name, password_hash) values ($1, $2, $3, $4)
         on conflict do nothing
         returning id",
        username.as_str(),
        username.skeleton(),
        display_name,
        password_hash,
    )
    .fetch_optional(db)
    .await
}

/// Whether an account has exactly this username (rather than one that looks like it).
pub async fn exists(db: impl PgExecutor<'_>, username: &Username) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"select exists (select 1 from users where username = $1) as "exists!""#, username.as_str())
        .fetch_one(db)
        .await
}

pub async fn credentials(db: impl PgExecutor<'_>, username: &str) -> Result<Option<Credentials>, sqlx::Error> {
    sqlx::query_as!(
        Credentials,
        r#"select id, password_hash, disabled_at is not null as "disabled!" from users where username = $1"#,
        username,
    )
    .fetch_optional(db)
    .await
}

/// The stored password hash of an account, for checking its current password.
pub async fn password_hash(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!("select password_hash from users where id = $1", user_id).fetch_optional(db).await
}

pub async fn set_password_hash(db: impl PgExecutor<'_>, user_id: Uuid, hash: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!("update users set password_hash = $2 where id = $1", user_id, hash).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// Disables (`true`) or enables an account; `false` when it was already so.
pub async fn set_disabled(db: impl PgExecutor<'_>, user_id: Uuid, disabled: bool) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update users set disabled_at = case when $2 then now() end
         where id = $1 and (disabled_at is not null) <> $2",
        user_id,
        disabled,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn id_of(db: impl PgExecutor<'_>, username: &str) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("select id from users where username = $1", username).fetch_optional(db).await
}

/// An account as the operator's `users list` shows it.
#[derive(Debug, Clone)]
pub struct ListedUser {
    pub username: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    pub disabled: bool,
    pub sessions: i64,
    pub last_seen_at: Option<DateTime<Utc>>,
    pub loops: i64,
}

pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<ListedUser>, sqlx::Error> {
    sqlx::query_as!(
        ListedUser,
        r#"select u.username, u.display_name, u.created_at, u.disabled_at is not null as "disabled!",
                (select count(*) from sessions s where s.user_id = u.id and s.expires_at > now()) as "sessions!",
                (select max(s.last_seen_at) from sessions s where s.user_id = u.id) as last_seen_at,
                (select count(*) from loops l where l.candidate_id = u.id) as "loops!"
         from users u order by u.username"#,
    )
    .fetch_all(db)
    .await
}
