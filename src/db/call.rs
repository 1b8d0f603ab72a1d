//! A round's call signalling: each message the two participants' browsers
//! exchange, numbered so that a stream resumes after the last one it passed
//! on, and announced to every instance (`live::CALL_CHANNEL`).

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::call::{SignalCounts, SignalKind};

/// How long a signal is kept at most: a call's set-up needs it for seconds.
const SIGNAL_HOURS: i32 = 6;

/// A signal as the other participant's stream passes it on.
#[derive(Debug, Clone)]
pub struct StoredSignal {
    pub id: i64,
    pub body: String,
}

/// What the round's bounds are checked against before `sender` adds a signal.
pub async fn counts(db: impl PgExecutor<'_>, round_id: Uuid, sender: Uuid) -> Result<SignalCounts, sqlx::Error> {
    let row = sqlx::query!(
        r#"select count(*) filter (where sender_id = $2 and created_at > now() - interval '1 minute') as "sender_last_minute!",
                  count(*) as "round_total!"
           from call_signals where round_id = $1"#,
        round_id,
        sender,
    )
    .fetch_one(db)
    .await?;
    Ok(SignalCounts { sender_last_minute: row.sender_last_minute, round_total: row.round_total })
}

/// Keeps a signal and announces it (at commit, in a transaction); its id.
pub async fn record(
    db: &mut sqlx::PgConnection,
    round_id: Uuid,
    sender: Uuid,
    kind: SignalKind,
    body: &str,
) -> Result<i64, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "insert into call_signals (round_id, sender_id, kind, body) values ($1, $2, $3, $4) returning id",
        round_id,
        sender,
        kind as SignalKind,
        body,
    )
    .fetch_one(&mut *db)
    .await?;
    sqlx::query!("select pg_notify('mockloop_call', $1)", round_id.to_string()).execute(&mut *db).await?;
    Ok(id)
}

/// Up to `limit` of the round's signals after `after_id` that someone other
/// than `reader` sent, oldest first. Only the round's two participants can
/// send one, so these are the other participant's.
pub async fn sent_by_others_after(
    db: impl PgExecutor<'_>,
    round_id: Uuid,
    reader: Uuid,
    after_id: i64,
    limit: i64,
) -> Result<Vec<StoredSignal>, sqlx::Error> {
    sqlx::query_as!(
        StoredSignal,
        "select id, body from call_signals where round_id = $1 and sender_id <> $2 and id > $3 order by id limit $4",
        round_id,
        reader,
        after_id,
        limit,
    )
    .fetch_all(db)
    .await
}

/// The round's latest signal id (0 before the first): a page opened now
/// starts listening after it, so that it never replays an earlier page's call.
pub async fn last_id(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select coalesce(max(id), 0) as "id!" from call_signals where round_id = $1"#, round_id)
        .fetch_one(db)
        .await
}

/// Forgets a round's signalling: when it ends, nothing of its call is kept.
pub async fn forget_round(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!("delete from call_signals where round_id = $1", round_id).execute(db).await?.rows_affected())
}

/// Forgets signals older than a few hours, and those of rounds that ended
/// without passing through [`forget_round`].
pub async fn prune(db: impl PgExecutor<'_>) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query!(
        "delete from call_signals s
         where s.created_at < now() - make_interval(hours => $1)
            or exists (select 1 from rounds r where r.id = s.round_id and r.timer_state = 'ended')",
        SIGNAL_HOURS,
    )
    .execute(db)
    .await?
    .rows_affected())
}
