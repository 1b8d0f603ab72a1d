//! Server-side sessions, keyed by the SHA-256 of the cookie's random token.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// The signed-in person, as every page needs them.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    /// Peer-board notices not yet read, for the header.
    pub unread_notices: i64,
}

/// The browser a session was started from, as the sessions list shows it.
#[derive(Debug, Clone, Default)]
pub struct Client {
    pub user_agent: Option<String>,
    pub address: Option<String>,
}

pub async fn create(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
    user_id: Uuid,
    expires_at: DateTime<Utc>,
    client: &Client,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into sessions (id_hash, user_id, expires_at, user_agent, client_ip) values ($1, $2, $3, $4, $5)",
        token_hash,
        user_id,
        expires_at,
        client.user_agent.as_deref(),
        client.address.as_deref(),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A session that signs its user in, and until when.
#[derive(Debug, Clone)]
pub struct FoundSession {
    pub user: SessionUser,
    pub expires_at: DateTime<Utc>,
}

/// The session's user, unless it expired or the account is disabled
/// (`live::still_allowed` applies the same test to open streams). Notes
/// the session as seen now, at most every few minutes (a write per request would
/// be a write per page view).
pub async fn find_user(db: impl PgExecutor<'_>, token_hash: &[u8]) -> Result<Option<FoundSession>, sqlx::Error> {
    let found = sqlx::query!(
        r#"with seen as (
             update sessions set last_seen_at = now()
             where id_hash = $1 and expires_at > now() and last_seen_at < now() - interval '5 minutes')
         select u.id, u.username, u.display_name, s.expires_at,
                (select count(*) from peer_notices n where n.user_id = u.id and n.read_at is null) as "unread_notices!"
         from sessions s join users u on u.id = s.user_id
         where s.id_hash = $1 and s.expires_at > now() and u.disabled_at is null"#,
        token_hash,
    )
    .fetch_optional(db)
    .await?;
    Ok(found.map(|row| FoundSession {
        user: SessionUser {
            id: row.id,
            username: row.username,
            display_name: row.display_name,
            unread_notices: row.unread_notices,
        },
        expires_at: row.expires_at,
    }))
}

/// Which sessions to end.
#[derive(Debug, Clone, Copy)]
pub enum Ending<'a> {
    /// The one whose cookie hashes to this (signing out).
    Token(&'a [u8]),
    /// One of the user's sessions, by the id the sessions list shows.
    Listed { user_id: Uuid, session_id: Uuid },
    /// All the user's sessions but the one whose cookie hashes to `keep`.
    AllBut { user_id: Uuid, keep: &'a [u8] },
    /// All the user's sessions (account disabled, password reset, account deleted).
    All(Uuid),
}

/// Ends sessions: every way a session ends before it expires goes through here,
/// so that whatever must follow an ending (closing its live streams) sees each one.
/// Returns how many ended.
pub async fn end(db: impl PgExecutor<'_>, which: Ending<'_>) -> Result<u64, sqlx::Error> {
    let done = match which {
        Ending::Token(hash) => sqlx::query!("delete from sessions where id_hash = $1", hash).execute(db).await?,
        Ending::Listed { user_id, session_id } => {
            sqlx::query!("delete from sessions where user_id = $1 and id = $2", user_id, session_id).execute(db).await?
        }
        Ending::AllBut { user_id, keep } => {
            sqlx::query!("delete from sessions where user_id = $1 and id_hash <> $2", user_id, keep).execute(db).await?
        }
        Ending::All(user_id) => sqlx::query!("delete from sessions where user_id = $1", user_id).execute(db).await?,
    };
    Ok(done.rows_affected())
}

/// Signing out: ends the session whose cookie hashes to `token_hash`.
pub async fn delete(db: impl PgExecutor<'_>, token_hash: &[u8]) -> Result<(), sqlx::Error> {
    end(db, Ending::Token(token_hash)).await?;
    Ok(())
}

pub async fn delete_expired(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("delete from sessions where expires_at <= now()").execute(db).await?.rows_affected())
}

/// A session as its owner's sessions list shows it.
#[derive(Debug, Clone)]
pub struct ListedSession {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<String>,
    pub client_ip: Option<String>,
    /// The session of the request that asks.
    pub current: bool,
}

/// The user's live sessions, the asking one first, then the most recently seen.
pub async fn list(db: impl PgExecutor<'_>, user_id: Uuid, current: &[u8]) -> Result<Vec<ListedSession>, sqlx::Error> {
    sqlx::query_as!(
        ListedSession,
        r#"select id, created_at, last_seen_at, expires_at, user_agent, client_ip, id_hash = $2 as "current!"
         from sessions where user_id = $1 and expires_at > now()
         order by id_hash = $2 desc, last_seen_at desc, created_at desc"#,
        user_id,
        current,
    )
    .fetch_all(db)
    .await
}
