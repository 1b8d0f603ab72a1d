//! The candidate's code in a round, with a version number so that concurrent
//! edits are detected, never overwritten, and saved with an asynchronous
//! commit (as notes are: `db::notes` says why that is safe).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::question::CodeLanguage;

#[derive(Debug, Clone)]
pub struct RoundCode {
    pub language: CodeLanguage,
    pub body: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

pub async fn find(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<Option<RoundCode>, sqlx::Error> {
    sqlx::query_as!(
        RoundCode,
        r#"select language as "language: CodeLanguage", body, version, updated_at from round_code where round_id = $1"#,
        round_id,
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
    Conflict(RoundCode),
}

/// Saves the code if the stored code is still at `base_version` (0 when there
/// is none yet), in one statement.
pub async fn save(
    db: &mut sqlx::PgConnection,
    round_id: Uuid,
    language: CodeLanguage,
    body: &str,
    base_version: i32,
) -> Result<SaveOutcome, sqlx::Error> {
    let saved = sqlx::query!(
        r#"with updated as (
               update round_code set language = $2, body = $3, version = version + 1, updated_at = now()
               where round_id = $1 and version = $4 and $4 > 0
               returning version, updated_at),
           inserted as (
               insert into round_code (round_id, language, body, version)
               select $1, $2, $3, 1 where $4 = 0
               on conflict (round_id) do nothing
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
        language as CodeLanguage,
        body,
        base_version,
    )
    .fetch_optional(&mut *db)
    .await?
    .map(|row| (row.version, row.updated_at));
    match saved {
        Some((version, updated_at)) => Ok(SaveOutcome::Saved { version, updated_at }),
        None => {
            let current = find(&mut *db, round_id).await?;
            Ok(SaveOutcome::Conflict(current.unwrap_or(RoundCode {
                language,
                body: String::new(),
                version: 0,
                updated_at: Utc::now(),
            })))
        }
    }
}

/// The code of each round of a loop that has any, by round position.
pub async fn for_loop(db: impl PgExecutor<'_>, loop_id: Uuid) -> Result<Vec<(i16, RoundCode)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select r.position, c.language as "language: CodeLanguage", c.body, c.version, c.updated_at
           from round_code c join rounds r on r.id = c.round_id
           where r.loop_id = $1 order by r.position"#,
        loop_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let code =
                RoundCode { language: row.language, body: row.body, version: row.version, updated_at: row.updated_at };
            (row.position, code)
        })
        .collect())
}
