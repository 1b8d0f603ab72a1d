//! What open live event streams are re-checked against while they stay open.

use sqlx::PgExecutor;
use uuid::Uuid;

/// One open event stream: whose session holds it, for which round (nil for a
/// stream of the user's own, such as their notice count: the session alone decides).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamHolder {
    pub session_hash: Vec<u8>,
    pub user: Uuid,
    pub round: Uuid,
}

/// For each stream, in order, whether it may stay open: its session still
/// signs its user in (as `sessions::find_user` decides) and the user still
/// takes part in the round (as `rounds::find_for_participant` decides).
pub async fn still_allowed(db: impl PgExecutor<'_>, streams: &[StreamHolder]) -> Result<Vec<bool>, sqlx::Error> {
    let sessions: Vec<&[u8]> = streams.iter().map(|s| s.session_hash.as_slice()).collect();
    let users: Vec<Uuid> = streams.iter().map(|s| s.user).collect();
    let rounds: Vec<Uuid> = streams.iter().map(|s| s.round).collect();
    sqlx::query_scalar!(
        r#"select exists (select 1 from sessions x join users u on u.id = x.user_id
                        where x.id_hash = o.session_hash and x.user_id = o.user_id and x.expires_at > now()
                          and u.disabled_at is null)
                and (o.round_id = '00000000-0000-0000-0000-000000000000'::uuid
                     or exists (select 1 from rounds r join loops l on l.id = r.loop_id
                                where r.id = o.round_id and (l.candidate_id = o.user_id or r.interviewer_id = o.user_id)))
                as "allowed!"
         from unnest($1::bytea[], $2::uuid[], $3::uuid[]) with ordinality as o(session_hash, user_id, round_id, n)
         order by o.n"#,
        sessions.as_slice() as &[&[u8]],
        users.as_slice() as &[Uuid],
        rounds.as_slice() as &[Uuid],
    )
    .fetch_all(db)
    .await
}

/// Tells every instance that these rounds changed, in one statement.
pub async fn announce_rounds_changed(db: impl PgExecutor<'_>, rounds: &[Uuid]) -> Result<(), sqlx::Error> {
    sqlx::query!("select pg_notify('mockloop_rounds', id::text) from unnest($1::uuid[]) as id", rounds)
        .execute(db)
        .await?;
    Ok(())
}
