//! Notes: the candidate's scratchpad and interviewers' private notes, with a
//! version number so that concurrent edits are detected, never overwritten.

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

/// A note as typed, over the version its page last had (0 for none yet).
pub struct NoteDraft<'a> {
    pub body_md: &'a str,
    pub body_html: &'a str,
    pub base_version: i32,
}

/// Which note each participant of a round writes (`NoteKind::written_by`).
#[derive(Debug, Clone, Copy)]
pub struct KindsWritten {
    pub by_candidate: NoteKind,
    pub by_interviewer: NoteKind,
}

/// A save by someone who takes part in the round.
pub struct ParticipantSave {
    pub kind: NoteKind,
    /// The round's interviewer, who watches its scratchpad live.
    pub interviewer_id: Option<Uuid>,
    pub outcome: SaveOutcome,
}

/// Saves `author`'s note of the kind their part in the round writes, if the
/// stored one is still at the draft's base version; `None` when `author` takes
/// no part. One statement: it is an autosave, the app's most frequent write.
pub async fn save_by_participant(
    db: &mut sqlx::PgConnection,
    round_id: Uuid,
    author: Uuid,
    kinds: KindsWritten,
    draft: &NoteDraft<'_>,
) -> Result<Option<ParticipantSave>, sqlx::Error> {
    let Some(row) = sqlx::query!(
        r#"with author as (
               select case when l.candidate_id = $2 then $3 else $4 end as kind, r.interviewer_id
               from rounds r join loops l on l.id = r.loop_id
               where r.id = $1 and (l.candidate_id = $2 or r.interviewer_id = $2)),
           updated as (
               update notes n set body_md = $5, body_html = $6, version = n.version + 1, updated_at = now()
               from author a
               where n.round_id = $1 and n.author_id = $2 and n.kind = a.kind and n.version = $7 and $7 > 0
               returning n.version, n.updated_at),
           inserted as (
               insert into notes (round_id, author_id, kind, body_md, body_html, version)
               select $1, $2, a.kind, $5, $6, 1 from author a where $7 = 0
               on conflict (round_id, kind, author_id) do nothing
               returning version, updated_at),
           saved as (select * from updated union all select * from inserted)
           select a.kind as "kind!: NoteKind", a.interviewer_id, s.version as "version?", s.updated_at as "updated_at?"
           from author a left join saved s on true"#,
        round_id,
        author,
        kinds.by_candidate as NoteKind,
        kinds.by_interviewer as NoteKind,
        draft.body_md,
        draft.body_html,
        draft.base_version,
    )
    .fetch_optional(&mut *db)
    .await?
    else {
        return Ok(None);
    };
    let kind = row.kind;
    let saved = row.version.zip(row.updated_at);
    let outcome = match saved {
        Some((version, updated_at)) => SaveOutcome::Saved { version, updated_at },
        None => SaveOutcome::Conflict(find(&mut *db, round_id, author, kind).await?.unwrap_or(Note {
            body_md: String::new(),
            body_html: String::new(),
            version: 0,
            updated_at: Utc::now(),
        })),
    };
    Ok(Some(ParticipantSave { kind, interviewer_id: row.interviewer_id, outcome }))
}
