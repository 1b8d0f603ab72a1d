//! Invitations to interview: a secret link (stored only as a hash) for one or
//! more rounds of a loop, expiring, revocable, accepted once per round.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::LoopStatus;

pub async fn create(
    db: &mut PgConnection,
    loop_id: Uuid,
    created_by: Uuid,
    token_hash: &[u8],
    expires_at: DateTime<Utc>,
    round_ids: &[Uuid],
) -> Result<Uuid, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "insert into invitations (loop_id, token_hash, created_by, expires_at) values ($1, $2, $3, $4) returning id",
        loop_id,
        token_hash,
        created_by,
        expires_at,
    )
    .fetch_one(&mut *db)
    .await?;
    sqlx::query!(
        "insert into invitation_rounds (invitation_id, round_id)
         select $1, r.id from rounds r where r.loop_id = $2 and r.id = any($3)",
        id,
        loop_id,
        round_ids as &[Uuid],
    )
    .execute(&mut *db)
    .await?;
    Ok(id)
}

/// An invitation as the loop page lists it.
#[derive(Debug, Clone)]
pub struct InvitationSummary {
    pub id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub round_positions: Vec<i16>,
    pub accepted: i64,
}

pub async fn list_for_loop(db: impl PgExecutor<'_>, loop_id: Uuid) -> Result<Vec<InvitationSummary>, sqlx::Error> {
    sqlx::query_as!(
        InvitationSummary,
        r#"select i.id, i.created_at, i.expires_at, i.revoked_at,
                array(select r.position from invitation_rounds ir join rounds r on r.id = ir.round_id
                      where ir.invitation_id = i.id order by r.position) as "round_positions!",
                (select count(*) from invitation_rounds ir where ir.invitation_id = i.id and ir.accepted_at is not null) as "accepted!"
         from invitations i where i.loop_id = $1 order by i.created_at desc"#,
        loop_id,
    )
    .fetch_all(db)
    .await
}

/// Someone who accepted an invitation and still interviews one of its rounds.
#[derive(Debug, Clone)]
pub struct AcceptedRound {
    pub round_id: Uuid,
    pub round_position: i16,
    pub round_title: String,
    pub interviewer_id: Uuid,
    pub interviewer_name: String,
}

/// The rounds withdrawing this invitation (still open, of `candidate`'s loop)
/// would take from the interviewers who accepted it.
pub async fn accepted_rounds(
    db: impl PgExecutor<'_>,
    invitation_id: Uuid,
    loop_id: Uuid,
    candidate: Uuid,
) -> Result<Vec<AcceptedRound>, sqlx::Error> {
    sqlx::query_as!(
        AcceptedRound,
        "select r.id as round_id, r.position as round_position, r.title as round_title,
                u.id as interviewer_id, u.display_name as interviewer_name
         from invitations i
         join loops l on l.id = i.loop_id
         join invitation_rounds ir on ir.invitation_id = i.id
         join rounds r on r.id = ir.round_id and r.interviewer_id = ir.accepted_by
         join users u on u.id = r.interviewer_id
         where i.id = $1 and i.loop_id = $2 and l.candidate_id = $3 and i.revoked_at is null
         order by r.position",
        invitation_id,
        loop_id,
        candidate,
    )
    .fetch_all(db)
    .await
}

/// Withdraws an invitation of `candidate`'s loop. Whoever accepted it leaves the
/// rounds they took through it, and with them the loop unless they interview
/// another round: their draft scorecards are discarded, and a scorecard they
/// submitted stays, marked as from a withdrawn interviewer. Returns the rounds
/// they left, or `None` when there is no such invitation still open.
pub async fn revoke(
    db: &mut PgConnection,
    invitation_id: Uuid,
    loop_id: Uuid,
    candidate: Uuid,
) -> Result<Option<Vec<Uuid>>, sqlx::Error> {
    let revoked = sqlx::query_scalar!(
        "update invitations i set revoked_at = now()
         from loops l
         where i.id = $1 and i.loop_id = $2 and l.id = i.loop_id and l.candidate_id = $3 and i.revoked_at is null
         returning i.id",
        invitation_id,
        loop_id,
        candidate,
    )
    .fetch_optional(&mut *db)
    .await?;
    if revoked.is_none() {
        return Ok(None);
    }
    // The join on `r.interviewer_id = ir.accepted_by` means accepted_by is set.
    let left = sqlx::query!(
        r#"update rounds r set interviewer_id = null
         from invitation_rounds ir
         where ir.invitation_id = $1 and ir.round_id = r.id and r.interviewer_id = ir.accepted_by
         returning r.id, ir.accepted_by as "accepted_by!""#,
        invitation_id,
    )
    .fetch_all(&mut *db)
    .await?;
    let (rounds, authors): (Vec<Uuid>, Vec<Uuid>) = left.into_iter().map(|row| (row.id, row.accepted_by)).unzip();
    sqlx::query!(
        "delete from scorecards s using unnest($1::uuid[], $2::uuid[]) as w(round_id, author_id)
         where s.round_id = w.round_id and s.author_id = w.author_id and s.role = 'interviewer' and s.status = 'draft'",
        &rounds,
        &authors,
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        "update scorecards s set author_withdrawn_at = now()
         from unnest($1::uuid[], $2::uuid[]) as w(round_id, author_id)
         where s.round_id = w.round_id and s.author_id = w.author_id and s.role = 'interviewer'
           and s.status = 'submitted'",
        &rounds,
        &authors,
    )
    .execute(&mut *db)
    .await?;
    Ok(Some(rounds))
}

/// An invitation opened by its link.
#[derive(Debug, Clone)]
pub struct OpenedInvitation {
    pub id: Uuid,
    pub loop_id: Uuid,
    pub candidate_id: Uuid,
    pub candidate_name: String,
    pub template_name: String,
    pub loop_status: LoopStatus,
    pub starts_at: DateTime<Utc>,
    pub time_zone: String,
    pub expires_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub now: DateTime<Utc>,
    /// Round titles with their position, and whether each is still open to accept.
    pub round_titles: Vec<String>,
    pub open_rounds: i64,
}

pub async fn find_by_token(
    db: impl PgExecutor<'_>,
    token_hash: &[u8],
) -> Result<Option<OpenedInvitation>, sqlx::Error> {
    sqlx::query_as!(
        OpenedInvitation,
        r#"select i.id, i.loop_id, l.candidate_id, u.display_name as candidate_name, l.template_name,
                l.status as "loop_status: LoopStatus", l.starts_at, l.time_zone, i.expires_at, i.revoked_at,
                now() as "now!",
                array(select 'Round ' || r.position || ': ' || r.title from invitation_rounds ir
                      join rounds r on r.id = ir.round_id where ir.invitation_id = i.id order by r.position) as "round_titles!",
                (select count(*) from invitation_rounds ir join rounds r on r.id = ir.round_id
                 where ir.invitation_id = i.id and ir.accepted_at is null and r.interviewer_id is null) as "open_rounds!"
         from invitations i join loops l on l.id = i.loop_id join users u on u.id = l.candidate_id
         where i.token_hash = $1"#,
        token_hash,
    )
    .fetch_optional(db)
    .await
}

/// Makes `user` the interviewer of every round of the invitation still open;
/// returns how many rounds they took. A round's `accepted_at` marks it taken
/// for good: `accepted_by` is forgotten when that account is deleted.
pub async fn accept(db: &mut PgConnection, invitation_id: Uuid, user: Uuid) -> Result<u64, sqlx::Error> {
    let taken = sqlx::query!(
        "update rounds r set interviewer_id = $2
         from invitation_rounds ir
         where ir.invitation_id = $1 and ir.round_id = r.id and ir.accepted_at is null and r.interviewer_id is null",
        invitation_id,
        user,
    )
    .execute(&mut *db)
    .await?
    .rows_affected();
    sqlx::query!(
        "update invitation_rounds ir set accepted_by = $2, accepted_at = now()
         from rounds r
         where ir.invitation_id = $1 and ir.round_id = r.id and ir.accepted_at is null and r.interviewer_id = $2",
        invitation_id,
        user,
    )
    .execute(&mut *db)
    .await?;
    Ok(taken)
}
