//! Notes: the candidate's scratchpad and interviewers' private notes, with a
//! version number so that concurrent edits are detected, never overwritten.
//!
//! A save commits without waiting for its WAL to reach the disk (PostgreSQL's
//! asynchronous commit, for that transaction only): the wait was a sixth of
//! an autosave's cost. A crash of the database server can lose the last
//! fraction of a second of saves, never corrupt them; the page still holds the
//! text, and its next save meets a version conflict and shows both.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::NoteKind;

#[derive(Debug, Clone)]
pub struct Note {
    pub body_md: String,
    pub body_html: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

pub async fn find(
    db: impl PgExecutor<'_>,
    round_id: Uuid,
    author: Uuid,
    kind: NoteKind,
) -> Result<Option<Note>, sqlx::Error> {
    sqlx::query_as!(
        Note,
        "select body_md, body_html, version, updated_at from notes where round_id = $1 and author_id = $2 and kind = $3",
        round_id,
        author,
        kind as NoteKind,
    )
    .fetch_optional(db)
    .await
}

pub enum SaveOutcome {
    Saved {
        version: i32,
        updated_at: DateTime<Utc>,
    },
    /// Someone saved a newer version first; here it is.
    Conflict(Note),
}

/// Saves `body` if the stored note is still at `base_version` (0 when there is
/// none yet), in one statement.
pub async fn save(
    db: &mut sqlx::PgConnection,
    round_id: Uuid,
    author: Uuid,
    kind: NoteKind,
    body_md: &str,
    body_html: &str,
    base_version: i32,
) -> Result<SaveOutcome, sqlx::Error> {
    let saved = sqlx::query!(
        r#"with updated as (
               update notes set body_md = $4, body_html = $5, version = version + 1, updated_at = now()
               where round_id = $1 and author_id = $2 and kind = $3 and version = $6 and $6 > 0
               returning version, updated_at),
           inserted as (
               insert into notes (round_id, author_id, kind, body_md, body_html, version)
               select $1, $2, $3, $4, $5, 1 where $6 = 0
               on conflict (round_id, kind, author_id) do nothing
               returning version, updated_at),
           saved as (select * from updated union all select * from inserted),
           -- The kept round page's version (migration 0023 says why not a trigger).
           bumped as (
               insert into round_versions as v (round_id, version) select $1, 1 from saved
               on conflict (round_id) do update set version = v.version + 1),
           -- A draft, saved again within seconds: its commit need not wait for the
           -- disk (module comment).
           async_commit as (select set_config('synchronous_commit', 'off', true))
           select saved.version as "version!", saved.updated_at as "updated_at!" from saved, async_commit"#,
        round_id,
        author,
        kind as NoteKind,
        body_md,
        body_html,
        base_version,
    )
    .fetch_optional(&mut *db)
    .await?
    .map(|row| (row.version, row.updated_at));
    match saved {
        Some((version, updated_at)) => Ok(SaveOutcome::Saved { version, updated_at }),
        None => {
            let current = find(&mut *db, round_id, author, kind).await?;
            Ok(SaveOutcome::Conflict(current.unwrap_or(Note {
                body_md: String::new(),
                body_html: String::new(),
                version: 0,
                updated_at: Utc::now(),
            })))
        }
    }
}
