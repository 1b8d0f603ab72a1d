//! Notes: the candidate's scratchpad and interviewers' private notes, with a
//! version number so that concurrent edits are detected, never overwritten.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::NoteKind;
use crate::write_batches::Batched;

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

/// A note as typed by `author` in a round, over the version its page last had (0 for none yet).
pub struct NoteDraft {
    pub round_id: Uuid,
    pub author: Uuid,
    pub body_md: String,
    pub body_html: String,
    pub base_version: i32,
}

impl Batched for NoteDraft {
    type Key = (Uuid, Uuid);

    fn key(&self) -> (Uuid, Uuid) {
        (self.round_id, self.author)
    }
}

/// A save by someone who takes part in the round.
pub struct ParticipantSave {
    pub kind: NoteKind,
    /// The round's interviewer, who watches its scratchpad live.
    pub interviewer_id: Option<Uuid>,
    pub outcome: SaveOutcome,
}

/// Saves each draft as its author's note of the kind their part in the round
/// writes (`NoteKind::written_by`), if the stored one is still at the draft's base version: in one
/// statement, for autosaves written together (`write_batches`). `None` for a
/// draft whose author takes no part in the round. Drafts are of distinct notes.
pub async fn save_batch(
    db: &mut sqlx::PgConnection,
    drafts: &[NoteDraft],
) -> Result<Vec<Option<ParticipantSave>>, sqlx::Error> {
    let rounds: Vec<Uuid> = drafts.iter().map(|d| d.round_id).collect();
    let authors: Vec<Uuid> = drafts.iter().map(|d| d.author).collect();
    let bodies_md: Vec<&str> = drafts.iter().map(|d| d.body_md.as_str()).collect();
    let bodies_html: Vec<&str> = drafts.iter().map(|d| d.body_html.as_str()).collect();
    let bases: Vec<i32> = drafts.iter().map(|d| d.base_version).collect();
    let rows = sqlx::query!(
        r#"with input as (
               select * from unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::int4[])
                   with ordinality as i (round_id, author_id, body_md, body_html, base_version, n)),
           author as (
               select i.n, case when l.candidate_id = i.author_id then $6 else $7 end as kind, r.interviewer_id
               from input i join rounds r on r.id = i.round_id join loops l on l.id = r.loop_id
               where l.candidate_id = i.author_id or r.interviewer_id = i.author_id),
           -- Rows are locked in key order, so two instances' batches cannot deadlock;
           -- each is found by its key.
           locked as (
               select t.id, i.n
               from (select * from input order by round_id, author_id) i join author a on a.n = i.n
                    cross join lateral (select x.id from notes x
                                        where x.round_id = i.round_id and x.kind = a.kind and x.author_id = i.author_id
                                              and x.version = i.base_version
                                        for update) t
               where i.base_version > 0),
           updated as (
               update notes t set body_md = i.body_md, body_html = i.body_html, version = t.version + 1,
                   updated_at = now()
               from locked k join input i on i.n = k.n
               -- By key, from the locked keys, whichever side the planner starts from.
               where t.id = any(array(select id from locked)) and t.id = k.id
               returning k.n, t.version, t.updated_at),
           inserted as (
               insert into notes (round_id, author_id, kind, body_md, body_html, version)
               select i.round_id, i.author_id, a.kind, i.body_md, i.body_html, 1
               from input i join author a on a.n = i.n where i.base_version = 0
               order by i.round_id, i.author_id
               on conflict (round_id, kind, author_id) do nothing
               returning round_id, author_id, version, updated_at),
           saved as (
               select n, version, updated_at from updated
               union all
               select i.n, x.version, x.updated_at
               from inserted x join input i on i.round_id = x.round_id and i.author_id = x.author_id)
           select a.kind as "kind?: NoteKind", a.interviewer_id, s.version as "version?", s.updated_at as "updated_at?"
           from input i left join author a on a.n = i.n left join saved s on s.n = i.n
           order by i.n"#,
        &rounds,
        &authors,
        &bodies_md as &[&str],
        &bodies_html as &[&str],
        &bases,
        NoteKind::BY_CANDIDATE as NoteKind,
        NoteKind::BY_INTERVIEWER as NoteKind,
    )
    .fetch_all(&mut *db)
    .await?;
    let mut saves = Vec::with_capacity(drafts.len());
    for (draft, row) in drafts.iter().zip(rows) {
        let Some(kind) = row.kind else {
            saves.push(None);
            continue;
        };
        let outcome = match row.version.zip(row.updated_at) {
            Some((version, updated_at)) => SaveOutcome::Saved { version, updated_at },
            None => SaveOutcome::Conflict(find(&mut *db, draft.round_id, draft.author, kind).await?.unwrap_or(Note {
                body_md: String::new(),
                body_html: String::new(),
                version: 0,
                updated_at: Utc::now(),
            })),
        };
        saves.push(Some(ParticipantSave { kind, interviewer_id: row.interviewer_id, outcome }));
    }
    Ok(saves)
}
