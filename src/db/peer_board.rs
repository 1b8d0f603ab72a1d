//! The peer board: posted slots, the swaps claims make of them, the notices
//! each side gets, and the give/take counts that keep the board fair.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::peer_board::{NoticeKind, SlotStatus, SwapMode, SwapStatus};
use crate::domain::{Level, RoundKind, Team};

/// What a poster says about the slots they post (or one they edit).
#[derive(Debug, Clone)]
pub struct SlotFields<'a> {
    pub minutes: i16,
    pub time_zone: &'a str,
    pub mode: SwapMode,
    pub wants: &'a [RoundKind],
    pub can_interview: &'a [RoundKind],
    pub team: Option<Team>,
    pub level: Level,
    pub show_loop_count: bool,
}

/// Posts one slot per start time, as one series.
pub async fn post_slots(
    db: impl PgExecutor<'_>,
    poster: Uuid,
    fields: &SlotFields<'_>,
    starts: &[DateTime<Utc>],
) -> Result<Vec<Uuid>, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into peer_slots (poster_id, series_id, starts_at, minutes, time_zone, swap_mode, wants_kinds,
                                 can_interview, team, level, show_loop_count)
         select $1, $11, s, $3, $4, $5, $6, $7, $8, $9, $10
         from unnest($2::timestamptz[]) as s
         returning id",
        poster,
        starts,
        fields.minutes,
        fields.time_zone,
        fields.mode as SwapMode,
        fields.wants as &[RoundKind],
        fields.can_interview as &[RoundKind],
        fields.team as Option<Team>,
        fields.level as Level,
        fields.show_loop_count,
        Uuid::new_v4(),
    )
    .fetch_all(db)
    .await
}

/// Changes an open slot of `poster`'s; `false` when it is not theirs or no longer open.
pub async fn edit_slot(
    db: impl PgExecutor<'_>,
    slot: Uuid,
    poster: Uuid,
    starts_at: DateTime<Utc>,
    fields: &SlotFields<'_>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update peer_slots set starts_at = $3, minutes = $4, time_zone = $5, swap_mode = $6, wants_kinds = $7,
                can_interview = $8, team = $9, level = $10, show_loop_count = $11
         where id = $1 and poster_id = $2 and status = 'open'",
        slot,
        poster,
        starts_at,
        fields.minutes,
        fields.time_zone,
        fields.mode as SwapMode,
        fields.wants as &[RoundKind],
        fields.can_interview as &[RoundKind],
        fields.team as Option<Team>,
        fields.level as Level,
        fields.show_loop_count,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Takes an open slot of `poster`'s off the board; `false` when it is not theirs or no longer open.
pub async fn withdraw_slot(db: impl PgExecutor<'_>, slot: Uuid, poster: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update peer_slots set status = 'withdrawn' where id = $1 and poster_id = $2 and status = 'open'",
        slot,
        poster,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A slot with what its pages show of it and of its poster.
#[derive(Debug, Clone)]
pub struct SlotRow {
    pub id: Uuid,
    pub poster_id: Uuid,
    pub poster_name: String,
    pub starts_at: DateTime<Utc>,
    pub minutes: i16,
    pub time_zone: String,
    pub mode: SwapMode,
    pub wants: Vec<RoundKind>,
    pub can_interview: Vec<RoundKind>,
    pub team: Option<Team>,
    pub level: Level,
    pub show_loop_count: bool,
    pub status: SlotStatus,
    pub claimed_by: Option<Uuid>,
    /// The poster's completed loops, read only when they chose to show it.
    pub scored_loops: Option<i64>,
    /// Swaps the poster was marked a no-show for.
    pub no_shows: i64,
    /// Rounds the poster interviewed, and was interviewed in, by peers.
    pub given: i64,
    pub taken: i64,
}

/// `query_as!` for [`SlotRow`]s: the one select, completed by a string literal
/// (`where … order by …`) and its arguments.
macro_rules! slot_rows {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            SlotRow,
            r#"select s.id, s.poster_id, u.display_name as poster_name, s.starts_at, s.minutes, s.time_zone,
                    s.swap_mode as "mode: SwapMode", s.wants_kinds as "wants: Vec<RoundKind>",
                    s.can_interview as "can_interview: Vec<RoundKind>", s.team as "team: Team",
                    s.level as "level: Level", s.show_loop_count, s.status as "status: SlotStatus", s.claimed_by,
                    case when s.show_loop_count
                         then (select count(*) from loops l where l.candidate_id = s.poster_id and l.status = 'completed')
                    end as scored_loops,
                    (select count(*) from peer_swaps w
                     where (w.poster_id = s.poster_id and w.poster_no_show_at is not null)
                        or (w.claimer_id = s.poster_id and w.claimer_no_show_at is not null)) as "no_shows!",
                    (select count(*) from rounds r join loops l on l.id = r.loop_id
                     where r.interviewer_id = s.poster_id and l.candidate_id <> s.poster_id
                       and r.timer_state = 'ended') as "given!",
                    (select count(*) from rounds r join loops l on l.id = r.loop_id
                     where l.candidate_id = s.poster_id and l.mode = 'peer' and r.interviewer_id is not null
                       and r.interviewer_id <> s.poster_id and r.timer_state = 'ended') as "taken!"
                from peer_slots s join users u on u.id = s.poster_id "#
                + $rest,
            $($arg),*
        )
    };
}

/// Open slots of everyone but `viewer`, still to come, soonest first (at most `limit`).
pub async fn open_slots(db: impl PgExecutor<'_>, viewer: Uuid, limit: i64) -> Result<Vec<SlotRow>, sqlx::Error> {
    slot_rows!(
        "where s.status = 'open' and s.starts_at > now() and s.poster_id <> $1 and u.disabled_at is null
         order by s.starts_at, s.id limit $2",
        viewer,
        limit,
    )
    .fetch_all(db)
    .await
}

/// `user`'s own open slots still to come, soonest first.
pub async fn own_open_slots(db: impl PgExecutor<'_>, user: Uuid) -> Result<Vec<SlotRow>, sqlx::Error> {
    slot_rows!("where s.poster_id = $1 and s.status = 'open' and s.starts_at > now() order by s.starts_at, s.id", user,)
        .fetch_all(db)
        .await
}

pub async fn find_slot(db: impl PgExecutor<'_>, slot: Uuid) -> Result<Option<SlotRow>, sqlx::Error> {
    slot_rows!("where s.id = $1", slot).fetch_optional(db).await
}

/// The slot as a claim took it.
#[derive(Debug, Clone)]
pub struct ClaimedSlot {
    pub id: Uuid,
    pub poster_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub minutes: i16,
    pub time_zone: String,
    pub mode: SwapMode,
}

/// Claims an open slot for `claimer`: one conditional update, so that of two
/// claims at once exactly one finds it open (the other waits for its row lock,
/// then finds it claimed). `None` when it is not open to them any more.
pub async fn claim(db: &mut PgConnection, slot: Uuid, claimer: Uuid) -> Result<Option<ClaimedSlot>, sqlx::Error> {
    sqlx::query_as!(
        ClaimedSlot,
        r#"update peer_slots set status = 'claimed', claimed_by = $2, claimed_at = now()
         where id = $1 and status = 'open' and poster_id <> $2 and starts_at > now()
         returning id, poster_id, starts_at, minutes, time_zone, swap_mode as "mode: SwapMode""#,
        slot,
        claimer,
    )
    .fetch_optional(&mut *db)
    .await
}

/// A new swap, inside the claim's transaction.
pub struct NewSwap {
    pub slot: Uuid,
    pub poster: Uuid,
    pub claimer: Uuid,
    pub mode: SwapMode,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub poster_loop: Option<Uuid>,
    pub claimer_loop: Option<Uuid>,
}

pub async fn create_swap(db: &mut PgConnection, swap: &NewSwap) -> Result<Uuid, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into peer_swaps (slot_id, poster_id, claimer_id, swap_mode, starts_at, ends_at, poster_loop_id,
                                 claimer_loop_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning id",
        swap.slot,
        swap.poster,
        swap.claimer,
        swap.mode as SwapMode,
        swap.starts_at,
        swap.ends_at,
        swap.poster_loop,
        swap.claimer_loop,
    )
    .fetch_one(&mut *db)
    .await
}

/// Makes `interviewer` the interviewer of every round of a swap's loop.
pub async fn set_interviewer(db: impl PgExecutor<'_>, loop_id: Uuid, interviewer: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("update rounds set interviewer_id = $2 where loop_id = $1", loop_id, interviewer).execute(db).await?;
    Ok(())
}

/// A swap as its two people see it.
#[derive(Debug, Clone)]
pub struct SwapRow {
    pub id: Uuid,
    pub slot_id: Uuid,
    pub poster_id: Option<Uuid>,
    pub poster_name: Option<String>,
    pub claimer_id: Option<Uuid>,
    pub claimer_name: Option<String>,
    pub mode: SwapMode,
    pub status: SwapStatus,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: String,
    pub poster_loop_id: Option<Uuid>,
    pub claimer_loop_id: Option<Uuid>,
    pub poster_no_show: bool,
    pub claimer_no_show: bool,
    /// No-shows of each side over all their swaps.
    pub poster_no_shows: i64,
    pub claimer_no_shows: i64,
}

macro_rules! swap_rows {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            SwapRow,
            r#"select w.id, w.slot_id, w.poster_id, pu.display_name as "poster_name?", w.claimer_id,
                    cu.display_name as "claimer_name?", w.swap_mode as "mode: SwapMode",
                    w.status as "status: SwapStatus", w.starts_at, w.ends_at, s.time_zone, w.poster_loop_id,
                    w.claimer_loop_id, w.poster_no_show_at is not null as "poster_no_show!",
                    w.claimer_no_show_at is not null as "claimer_no_show!",
                    (select count(*) from peer_swaps x
                     where (x.poster_id = w.poster_id and x.poster_no_show_at is not null)
                        or (x.claimer_id = w.poster_id and x.claimer_no_show_at is not null)) as "poster_no_shows!",
                    (select count(*) from peer_swaps x
                     where (x.poster_id = w.claimer_id and x.poster_no_show_at is not null)
                        or (x.claimer_id = w.claimer_id and x.claimer_no_show_at is not null)) as "claimer_no_shows!"
                from peer_swaps w join peer_slots s on s.id = w.slot_id
                left join users pu on pu.id = w.poster_id left join users cu on cu.id = w.claimer_id "#
                + $rest,
            $($arg),*
        )
    };
}

/// `user`'s swaps that are still to come or ended in the last week, cancelled ones too, soonest first.
pub async fn swaps_of(db: impl PgExecutor<'_>, user: Uuid) -> Result<Vec<SwapRow>, sqlx::Error> {
    swap_rows!(
        "where (w.poster_id = $1 or w.claimer_id = $1) and w.ends_at > now() - interval '7 days'
         order by w.starts_at, w.id",
        user,
    )
    .fetch_all(db)
    .await
}

/// The swap, if `user` is one of its two people.
pub async fn find_swap(db: impl PgExecutor<'_>, swap: Uuid, user: Uuid) -> Result<Option<SwapRow>, sqlx::Error> {
    swap_rows!("where w.id = $1 and (w.poster_id = $2 or w.claimer_id = $2)", swap, user).fetch_optional(db).await
}

/// Marks a scheduled swap cancelled by `user`; `false` when it already was
/// (or is not theirs). Its loops are cancelled by the caller.
pub async fn cancel_swap(db: impl PgExecutor<'_>, swap: Uuid, user: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update peer_swaps set status = 'cancelled', cancelled_by = $2, cancelled_at = now()
         where id = $1 and (poster_id = $2 or claimer_id = $2) and status = 'scheduled'",
        swap,
        user,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks the other side of `user`'s swap as a no-show, once, after it ended.
pub async fn mark_no_show(db: impl PgExecutor<'_>, swap: Uuid, user: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update peer_swaps
         set claimer_no_show_at = case when poster_id = $2 then now() else claimer_no_show_at end,
             poster_no_show_at = case when claimer_id = $2 then now() else poster_no_show_at end
         where id = $1 and status = 'scheduled' and ends_at <= now()
           and ((poster_id = $2 and claimer_no_show_at is null) or (claimer_id = $2 and poster_no_show_at is null))",
        swap,
        user,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Tells `user` something about a swap (once per kind); the insert is announced to their open pages.
pub async fn notify(db: impl PgExecutor<'_>, user: Uuid, swap: Uuid, kind: NoticeKind) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into peer_notices (user_id, swap_id, kind) values ($1, $2, $3)
         on conflict (user_id, swap_id, kind) do nothing",
        user,
        swap,
        kind as NoticeKind,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Notices both sides of every scheduled swap starting within `within`
/// (each once); returns the (user, swap) of each notice added.
pub async fn notice_starting_soon(
    db: impl PgExecutor<'_>,
    within: chrono::Duration,
) -> Result<Vec<(Uuid, Uuid)>, sqlx::Error> {
    let seconds = within.num_seconds() as f64;
    let added = sqlx::query!(
        "insert into peer_notices (user_id, swap_id, kind)
         select side.user_id, w.id, 'starting_soon'
         from peer_swaps w cross join lateral (values (w.poster_id), (w.claimer_id)) as side(user_id)
         where w.status = 'scheduled' and w.starts_at > now()
           and w.starts_at <= now() + make_interval(secs => $1) and side.user_id is not null
         on conflict (user_id, swap_id, kind) do nothing
         returning user_id, swap_id",
        seconds,
    )
    .fetch_all(db)
    .await?;
    Ok(added.into_iter().map(|row| (row.user_id, row.swap_id)).collect())
}

/// A notice as the notices page lists it.
#[derive(Debug, Clone)]
pub struct NoticeRow {
    pub id: Uuid,
    pub swap_id: Uuid,
    pub kind: NoticeKind,
    pub created_at: DateTime<Utc>,
    pub read: bool,
    pub swap_starts_at: DateTime<Utc>,
    pub time_zone: String,
    /// The other person's display name (none if their account is gone).
    pub other_name: Option<String>,
}

/// `user`'s latest notices, newest first.
pub async fn notices(db: impl PgExecutor<'_>, user: Uuid, limit: i64) -> Result<Vec<NoticeRow>, sqlx::Error> {
    sqlx::query_as!(
        NoticeRow,
        r#"select n.id, n.swap_id, n.kind as "kind: NoticeKind", n.created_at, n.read_at is not null as "read!",
                w.starts_at as swap_starts_at, s.time_zone,
                (select u.display_name from users u
                 where u.id = case when w.poster_id = $1 then w.claimer_id else w.poster_id end) as other_name
         from peer_notices n join peer_swaps w on w.id = n.swap_id join peer_slots s on s.id = w.slot_id
         where n.user_id = $1
         order by n.created_at desc, n.id limit $2"#,
        user,
        limit,
    )
    .fetch_all(db)
    .await
}

pub async fn unread_count(db: impl PgExecutor<'_>, user: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select count(*) as "unread!" from peer_notices where user_id = $1 and read_at is null"#,
        user
    )
    .fetch_one(db)
    .await
}

/// Marks all of `user`'s notices read.
pub async fn mark_read(db: impl PgExecutor<'_>, user: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("update peer_notices set read_at = now() where user_id = $1 and read_at is null", user)
        .execute(db)
        .await?;
    Ok(())
}

/// Rounds `user` interviewed for others, and was interviewed in by others, that ended.
#[derive(Debug, Clone, Copy, Default)]
pub struct GiveTake {
    pub given: i64,
    pub taken: i64,
}

pub async fn give_take(db: impl PgExecutor<'_>, user: Uuid) -> Result<GiveTake, sqlx::Error> {
    sqlx::query_as!(
        GiveTake,
        r#"select (select count(*) from rounds r join loops l on l.id = r.loop_id
                 where r.interviewer_id = $1 and l.candidate_id <> $1 and r.timer_state = 'ended') as "given!",
                (select count(*) from rounds r join loops l on l.id = r.loop_id
                 where l.candidate_id = $1 and l.mode = 'peer' and r.interviewer_id is not null
                   and r.interviewer_id <> $1 and r.timer_state = 'ended') as "taken!""#,
        user,
    )
    .fetch_one(db)
    .await
}

/// The zone `user` last chose: their latest slot's, else their latest loop's.
pub async fn usual_zone(db: impl PgExecutor<'_>, user: Uuid) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar!(
        r#"select coalesce((select time_zone from peer_slots where poster_id = $1 order by created_at desc limit 1),
                         (select time_zone from loops where candidate_id = $1
                          order by starts_at desc, id desc limit 1))
           as zone"#,
        user,
    )
    .fetch_one(db)
    .await
}

/// The swap a claimed slot became.
pub async fn swap_of_slot(db: impl PgExecutor<'_>, slot: Uuid) -> Result<Option<Uuid>, sqlx::Error> {
    sqlx::query_scalar!("select id from peer_swaps where slot_id = $1", slot).fetch_optional(db).await
}

/// What a notice's e-mail needs: the recipient's username (an address, if
/// it is one), the swap's time and zone, and the other person's name.
#[derive(Debug, Clone)]
pub struct MailFacts {
    pub username: String,
    pub starts_at: DateTime<Utc>,
    pub time_zone: String,
    pub other_name: Option<String>,
}

pub async fn mail_facts(db: impl PgExecutor<'_>, user: Uuid, swap: Uuid) -> Result<Option<MailFacts>, sqlx::Error> {
    sqlx::query_as!(
        MailFacts,
        r#"select u.username, w.starts_at, s.time_zone,
                (select o.display_name from users o
                 where o.id = case when w.poster_id = $1 then w.claimer_id else w.poster_id end) as other_name
         from peer_swaps w join peer_slots s on s.id = w.slot_id join users u on u.id = $1
         where w.id = $2 and (w.poster_id = $1 or w.claimer_id = $1)"#,
        user,
        swap,
    )
    .fetch_optional(db)
    .await
}
