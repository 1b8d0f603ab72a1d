//! The candidate's code in a round, with a version number so that concurrent
//! edits are detected, never overwritten (as notes are).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::code_runs;
use crate::domain::question::CodeLanguage;
use crate::write_batches::Batched;

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

/// Code as typed by `author` in a round, over the version its page last had (0 for none yet).
pub struct CodeDraft {
    pub round_id: Uuid,
    pub author: Uuid,
    pub language: CodeLanguage,
    pub body: String,
    pub base_version: i32,
}

impl Batched for CodeDraft {
    type Key = Uuid;

    /// A round has one code.
    fn key(&self) -> Uuid {
        self.round_id
    }
}

/// Who takes part in the round, read with a code save.
pub struct CodeSave {
    pub candidate_id: Uuid,
    pub interviewer_id: Option<Uuid>,
    /// The save's outcome; none when nothing was written: the author is not the
    /// candidate, or the round no longer takes work.
    pub outcome: Option<SaveOutcome>,
}

/// Saves each draft if its author is the round's candidate, the round still
/// takes work (`code_runs::takes_work`, with its grace after the end), and the
/// stored code is still at the draft's base version: in one statement, for
/// autosaves written together (`write_batches`). `None` for a draft whose
/// author takes no part in the round. Drafts are of distinct rounds.
pub async fn save_batch(
    db: &mut sqlx::PgConnection,
    drafts: &[CodeDraft],
) -> Result<Vec<Option<CodeSave>>, sqlx::Error> {
    let rounds: Vec<Uuid> = drafts.iter().map(|d| d.round_id).collect();
    let authors: Vec<Uuid> = drafts.iter().map(|d| d.author).collect();
    let languages: Vec<&str> = drafts.iter().map(|d| d.language.as_str()).collect();
    let bodies: Vec<&str> = drafts.iter().map(|d| d.body.as_str()).collect();
    let bases: Vec<i32> = drafts.iter().map(|d| d.base_version).collect();
    let rows = sqlx::query!(
        r#"with input as (
               select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int4[])
                   with ordinality as i (round_id, author_id, language, body, base_version, n)),
           round as (
               select i.n, l.candidate_id, r.interviewer_id,
                      l.candidate_id = i.author_id
                          and (r.timer_state <> 'ended' or r.ended_at >= c.now - $6 * interval '1 ms') as writes
               from input i join rounds r on r.id = i.round_id join loops l on l.id = r.loop_id
                    cross join (select clock_timestamp() as now) c
               where l.candidate_id = i.author_id or r.interviewer_id = i.author_id),
           -- Rows are locked in key order, so two instances' batches cannot deadlock;
           -- each is found by its key.
           locked as (
               select t.round_id, i.n
               from (select * from input order by round_id) i join round x on x.n = i.n
                    cross join lateral (select c.round_id from round_code c
                                        where c.round_id = i.round_id and c.version = i.base_version
                                        for update) t
               where x.writes and i.base_version > 0),
           updated as (
               update round_code t set language = i.language, body = i.body, version = t.version + 1,
                   updated_at = now()
               from locked k join input i on i.n = k.n
               -- By key, from the locked keys, whichever side the planner starts from.
               where t.round_id = any(array(select round_id from locked)) and t.round_id = k.round_id
               returning k.n, t.version, t.updated_at),
           inserted as (
               insert into round_code (round_id, language, body, version)
               select i.round_id, i.language, i.body, 1 from input i join round x on x.n = i.n
               where x.writes and i.base_version = 0
               order by i.round_id
               on conflict (round_id) do nothing
               returning round_id, version, updated_at),
           saved as (
               select n, version, updated_at from updated
               union all
               select i.n, s.version, s.updated_at from inserted s join input i on i.round_id = s.round_id)
           select x.candidate_id as "candidate_id?", x.interviewer_id, x.writes as "writes?",
                  s.version as "version?", s.updated_at as "updated_at?"
           from input i left join round x on x.n = i.n left join saved s on s.n = i.n
           order by i.n"#,
        &rounds,
        &authors,
        &languages as &[&str],
        &bodies as &[&str],
        &bases,
        code_runs::GRACE_AFTER_END_MS as f64,
    )
    .fetch_all(&mut *db)
    .await?;
    let mut saves = Vec::with_capacity(drafts.len());
    for (draft, row) in drafts.iter().zip(rows) {
        let Some(candidate_id) = row.candidate_id else {
            saves.push(None);
            continue;
        };
        let outcome = match (row.writes == Some(true), row.version.zip(row.updated_at)) {
            (false, _) => None,
            (true, Some((version, updated_at))) => Some(SaveOutcome::Saved { version, updated_at }),
            (true, None) => Some(SaveOutcome::Conflict(find(&mut *db, draft.round_id).await?.unwrap_or(RoundCode {
                language: draft.language,
                body: String::new(),
                version: 0,
                updated_at: Utc::now(),
            }))),
        };
        saves.push(Some(CodeSave { candidate_id, interviewer_id: row.interviewer_id, outcome }));
    }
    Ok(saves)
}

/// The code of each round of a loop that has any, by round position.
pub async fn for_loop(db: impl PgExecutor<'_>, loop_id: Uuid) -> Result<Vec<(i16, RoundCode)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select r.position, c.language as "language: CodeLanguage", c.body, c.version, c.updated_at
           from round_code c join rounds r on r.id = c.round_id
           -- By key, from the loop's rounds, whichever side the planner starts from.
           where c.round_id = any(array(select x.id from rounds x where x.loop_id = $1)) and r.loop_id = $1
           order by r.position"#,
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
