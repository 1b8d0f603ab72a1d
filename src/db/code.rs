//! The candidate's code in a round, with a version number so that concurrent
//! edits are detected, never overwritten (as notes are).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::code_runs;
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

/// Who takes part in the round and where its clock stood, read with a code save.
pub struct CodeSave {
    pub candidate_id: Uuid,
    pub interviewer_id: Option<Uuid>,
    /// The save's outcome; none when nothing was written: `author` is not the
    /// candidate, or the round no longer takes work.
    pub outcome: Option<SaveOutcome>,
}

/// Saves the code if `author` is the round's candidate, the round still takes
/// work (`code_runs::takes_work`, with its grace after the end), and the stored
/// code is still at `base_version` (0 when there is none yet); `None` when
/// `author` takes no part. One statement: it is an autosave.
pub async fn save_by_candidate(
    db: &mut sqlx::PgConnection,
    round_id: Uuid,
    author: Uuid,
    language: CodeLanguage,
    body: &str,
    base_version: i32,
) -> Result<Option<CodeSave>, sqlx::Error> {
    let Some(row) = sqlx::query!(
        r#"with round as (
               select l.candidate_id, r.interviewer_id,
                      l.candidate_id = $2 and (r.timer_state <> 'ended' or r.ended_at >= c.now - $6 * interval '1 ms')
                          as writes
               from rounds r join loops l on l.id = r.loop_id cross join (select clock_timestamp() as now) c
               where r.id = $1 and (l.candidate_id = $2 or r.interviewer_id = $2)),
           updated as (
               update round_code c set language = $3, body = $4, version = c.version + 1, updated_at = now()
               from round x
               where x.writes and c.round_id = $1 and c.version = $5 and $5 > 0
               returning c.version, c.updated_at),
           inserted as (
               insert into round_code (round_id, language, body, version)
               select $1, $3, $4, 1 from round x where x.writes and $5 = 0
               on conflict (round_id) do nothing
               returning version, updated_at),
           saved as (select * from updated union all select * from inserted)
           select x.candidate_id, x.interviewer_id, x.writes as "writes!", s.version as "version?",
                  s.updated_at as "updated_at?"
           from round x left join saved s on true"#,
        round_id,
        author,
        language as CodeLanguage,
        body,
        base_version,
        code_runs::GRACE_AFTER_END_MS as f64,
    )
    .fetch_optional(&mut *db)
    .await?
    else {
        return Ok(None);
    };
    let outcome = match (row.writes, row.version.zip(row.updated_at)) {
        (false, _) => None,
        (true, Some((version, updated_at))) => Some(SaveOutcome::Saved { version, updated_at }),
        (true, None) => Some(SaveOutcome::Conflict(find(&mut *db, round_id).await?.unwrap_or(RoundCode {
            language,
            body: String::new(),
            version: 0,
            updated_at: Utc::now(),
        }))),
    };
    Ok(Some(CodeSave { candidate_id: row.candidate_id, interviewer_id: row.interviewer_id, outcome }))
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
