//! The private calendar feed: one secret URL per user, stored only as a hash.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{LoopStatus, RoundKind, Team};

pub async fn has_feed(db: impl PgExecutor<'_>, user: Uuid) -> Result<bool, sqlx::Error> {
    sqlx::query_scalar!(r#"select calendar_token_hash is not null as "has_feed!" from users where id = $1"#, user)
        .fetch_one(db)
        .await
}

/// Replaces the feed token (the old URL stops working); `None` turns the feed off.
pub async fn set_token_hash(db: impl PgExecutor<'_>, user: Uuid, hash: Option<&[u8]>) -> Result<(), sqlx::Error> {
    sqlx::query!("update users set calendar_token_hash = $2 where id = $1", user, hash).execute(db).await?;
    Ok(())
}

pub async fn owner_of_token(db: impl PgExecutor<'_>, token_hash: &[u8]) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("select id from users where calendar_token_hash = $1", token_hash).fetch_optional(db).await
}

/// Every round of every loop `user` takes part in, loop by loop in order.
#[derive(Debug, Clone)]
pub struct LoopRoundRow {
    pub loop_id: Uuid,
    pub template_name: String,
    pub team: Team,
    pub status: LoopStatus,
    pub starts_at: DateTime<Utc>,
    pub break_minutes: i16,
    pub calendar_sequence: i32,
    pub candidate_id: Uuid,
    pub round_id: Uuid,
    pub position: i16,
    pub title: String,
    pub kind: RoundKind,
    pub planned_minutes: i16,
    pub interviewer_id: Option<Uuid>,
}

/// `query_as!` for [`LoopRoundRow`]s: the one select, completed by a string
/// literal (`where … order by …`) and its arguments.
macro_rules! loop_rounds {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            LoopRoundRow,
            r#"select l.id as loop_id, l.template_name, l.team as "team: Team", l.status as "status: LoopStatus",
                    l.starts_at, l.break_minutes, l.calendar_sequence, l.candidate_id, r.id as round_id, r.position,
                    r.title, r.kind as "kind: RoundKind", r.planned_minutes, r.interviewer_id
                from loops l join rounds r on r.loop_id = l.id "#
                + $rest,
            $($arg),*
        )
    };
}

pub async fn loop_rounds(db: impl PgExecutor<'_>, user: Uuid) -> Result<Vec<LoopRoundRow>, sqlx::Error> {
    loop_rounds!(
        "where l.candidate_id = $1
            or exists (select 1 from rounds x where x.loop_id = l.id and x.interviewer_id = $1)
         order by l.starts_at, l.id, r.position",
        user,
    )
    .fetch_all(db)
    .await
}

/// One loop's rounds, in the same shape.
pub async fn rounds_of_loop(db: impl PgExecutor<'_>, loop_id: Uuid) -> Result<Vec<LoopRoundRow>, sqlx::Error> {
    loop_rounds!("where l.id = $1 order by r.position", loop_id).fetch_all(db).await
}
