//! Loops and their rounds: scheduling, reading, rescheduling, cancelling.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::selection::TagFilter;
use crate::domain::timer::TimerState;
use crate::domain::{Level, LoopMode, LoopStatus, RoundKind, Team};

/// A loop as its pages need it.
#[derive(Debug, Clone)]
pub struct LoopRow {
    pub id: Uuid,
    pub candidate_id: Uuid,
    pub candidate_name: String,
    pub template_name: String,
    pub team: Team,
    pub level: Level,
    pub mode: LoopMode,
    pub status: LoopStatus,
    pub starts_at: DateTime<Utc>,
    pub time_zone: String,
    pub break_minutes: i16,
    pub selection_seed: i64,
    pub calendar_sequence: i32,
    pub created_at: DateTime<Utc>,
}

/// A round with its questions' titles, for the loop page and calendars.
#[derive(Debug, Clone)]
pub struct RoundRow {
    pub id: Uuid,
    pub position: i16,
    pub kind: RoundKind,
    pub title: String,
    pub planned_minutes: i16,
    pub timer_state: TimerState,
    /// The question the round has reached, 1-based.
    pub current_question: i16,
    pub elapsed_ms: i64,
    pub extension_seconds: i32,
    pub interviewer_id: Option<Uuid>,
    pub interviewer_name: Option<String>,
    pub question_titles: Vec<String>,
    /// How many questions the round's template asked for; the bank may have had fewer that fit.
    pub questions_wanted: i16,
}

impl RoundRow {
    /// The round's planned time plus its extensions.
    pub fn allowed_ms(&self) -> i64 {
        i64::from(self.planned_minutes) * 60_000 + i64::from(self.extension_seconds) * 1000
    }
}

pub struct NewLoop<'a> {
    pub candidate_id: Uuid,
    pub template_id: Option<Uuid>,
    pub template_name: &'a str,
    pub team: Team,
    pub level: Level,
    pub mode: LoopMode,
    pub starts_at: DateTime<Utc>,
    pub time_zone: &'a str,
    pub break_minutes: i16,
    pub seed: i64,
    pub request_key: Option<Uuid>,
}

pub struct NewRound<'a> {
    pub kind: RoundKind,
    pub title: &'a str,
    pub planned_minutes: i16,
    /// How many questions the template asked for (`questions` may hold fewer).
    pub questions_wanted: i16,
    /// The part of the kind's pool the round draws from, kept for swaps.
    pub filter: TagFilter,
    /// Question ids with their time budget in minutes, in order.
    pub questions: Vec<(Uuid, i16)>,
}

/// Creates the loop with its rounds and questions; a repeated request key
/// returns the loop the first request created.
pub async fn create(db: &mut PgConnection, new: &NewLoop<'_>, rounds: &[NewRound<'_>]) -> Result<Uuid, sqlx::Error> {
    let inserted = sqlx::query_scalar!(
        "insert into loops (candidate_id, template_id, template_name, team, level, mode, starts_at,
                            time_zone, break_minutes, selection_seed, request_key)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         on conflict (candidate_id, request_key) where request_key is not null do nothing
         returning id",
        new.candidate_id,
        new.template_id,
        new.template_name,
        new.team as Team,
        new.level as Level,
        new.mode as LoopMode,
        new.starts_at,
        new.time_zone,
        new.break_minutes,
        new.seed,
        new.request_key,
    )
    .fetch_optional(&mut *db)
    .await?;
    let Some(loop_id) = inserted else {
        return sqlx::query_scalar!(
            "select id from loops where candidate_id = $1 and request_key = $2",
            new.candidate_id,
            new.request_key,
        )
        .fetch_one(&mut *db)
        .await;
    };
    let rows: Vec<_> = rounds
        .iter()
        .enumerate()
        .map(|(index, round)| {
            serde_json::json!({
                "position": index + 1,
                "kind": round.kind,
                "title": round.title,
                "planned_minutes": round.planned_minutes,
                "questions_wanted": round.questions_wanted,
                "with_tag": round.filter.with_tag(),
                "without_tag": round.filter.without_tag(),
                "questions": round.questions.iter().enumerate()
                    .map(|(q, (id, budget))| serde_json::json!({"position": q + 1, "id": id, "budget": budget}))
                    .collect::<Vec<_>>(),
            })
        })
        .collect();
    // Rounds and their questions in one statement each, from the same JSON.
    sqlx::query!(
        "with spec as (select * from jsonb_to_recordset($2) as r(position smallint, kind text, title text,
                                                               planned_minutes smallint, questions_wanted smallint,
                                                               with_tag text, without_tag text, questions jsonb)),
              inserted as (insert into rounds (loop_id, position, kind, title, planned_minutes, questions_wanted,
                                               with_tag, without_tag)
                           select $1, position, kind, title, planned_minutes, questions_wanted, with_tag, without_tag
                           from spec
                           returning id, position)
         insert into round_questions (round_id, position, question_id, budget_minutes, candidate_id)
         select i.id, q.position, q.id, q.budget, (select candidate_id from loops where id = $1)
         from inserted i join spec s on s.position = i.position,
              jsonb_to_recordset(s.questions) as q(position smallint, id uuid, budget smallint)",
        loop_id,
        serde_json::Value::Array(rows),
    )
    .execute(&mut *db)
    .await?;
    Ok(loop_id)
}

/// The loop, if `viewer` takes part in it (as candidate or as a round's interviewer).
pub async fn find_for_participant(
    db: impl PgExecutor<'_>,
    loop_id: Uuid,
    viewer: Uuid,
) -> Result<Option<LoopRow>, sqlx::Error> {
    sqlx::query_as!(
        LoopRow,
        r#"select l.id, l.candidate_id, u.display_name as candidate_name, l.template_name, l.team as "team: Team",
                l.level as "level: Level", l.mode as "mode: LoopMode", l.status as "status: LoopStatus",
                l.starts_at, l.time_zone, l.break_minutes, l.selection_seed, l.calendar_sequence, l.created_at
         from loops l join users u on u.id = l.candidate_id
         where l.id = $1
           and (l.candidate_id = $2 or exists (select 1 from rounds r where r.loop_id = l.id and r.interviewer_id = $2))"#,
        loop_id,
        viewer,
    )
    .fetch_optional(db)
    .await
}

pub async fn rounds(db: impl PgExecutor<'_>, loop_id: Uuid) -> Result<Vec<RoundRow>, sqlx::Error> {
    sqlx::query_as!(
        RoundRow,
        r#"select r.id, r.position, r.kind as "kind: RoundKind", r.title, r.planned_minutes,
                r.timer_state as "timer_state: TimerState", r.current_question, r.elapsed_ms, r.extension_seconds,
                r.interviewer_id,
                -- An interviewer who deleted their account leaves their submitted scorecard, not their name.
                coalesce(iu.display_name, (select 'A deleted account' from scorecards s
                                           where s.round_id = r.id and s.role = 'interviewer' and s.author_id is null))
                    as interviewer_name,
                array(select q.title from round_questions rq join questions q on q.id = rq.question_id
                      where rq.round_id = r.id order by rq.position) as "question_titles!",
                r.questions_wanted
         from rounds r left join users iu on iu.id = r.interviewer_id
         where r.loop_id = $1 order by r.position"#,
        loop_id,
    )
    .fetch_all(db)
    .await
}

/// A summary line per loop for the dashboard.
#[derive(Debug, Clone)]
pub struct LoopSummary {
    pub id: Uuid,
    pub template_name: String,
    pub team: Team,
    pub mode: LoopMode,
    pub status: LoopStatus,
    pub starts_at: DateTime<Utc>,
    pub time_zone: String,
    pub rounds: i64,
    pub rounds_ended: i64,
}

pub async fn recent_for_candidate(
    db: impl PgExecutor<'_>,
    candidate: Uuid,
    limit: i64,
) -> Result<Vec<LoopSummary>, sqlx::Error> {
    sqlx::query_as!(
        LoopSummary,
        r#"select l.id, l.template_name, l.team as "team: Team", l.mode as "mode: LoopMode",
                l.status as "status: LoopStatus", l.starts_at, l.time_zone,
                (select count(*) from rounds r where r.loop_id = l.id) as "rounds!",
                (select count(*) from rounds r where r.loop_id = l.id and r.timer_state = 'ended') as "rounds_ended!"
         from loops l where l.candidate_id = $1
         order by l.starts_at desc, l.id desc limit $2"#,
        candidate,
        limit,
    )
    .fetch_all(db)
    .await
}

/// Moves a loop (not yet finished) and bumps its calendar sequence; `false` if it cannot move.
pub async fn reschedule(
    db: impl PgExecutor<'_>,
    loop_id: Uuid,
    candidate: Uuid,
    starts_at: DateTime<Utc>,
    time_zone: &str,
    break_minutes: i16,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update loops set starts_at = $3, time_zone = $4, break_minutes = $5, calendar_sequence = calendar_sequence + 1
         where id = $1 and candidate_id = $2 and status = 'scheduled'",
        loop_id,
        candidate,
        starts_at,
        time_zone,
        break_minutes,
    )
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels a loop not yet complete and takes it out of the history charts,
/// inside the caller's transaction; `false` if it cannot be cancelled.
pub async fn cancel(tx: &mut PgConnection, loop_id: Uuid, candidate: Uuid) -> Result<bool, sqlx::Error> {
    let done = sqlx::query!(
        "update loops set status = 'cancelled', cancelled_at = now(), calendar_sequence = calendar_sequence + 1
         where id = $1 and candidate_id = $2 and status in ('scheduled', 'in_progress')",
        loop_id,
        candidate,
    )
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Ok(false);
    }
    // A cancelled loop leaves the history charts.
    super::history::refresh_score_points(&mut *tx, &[loop_id]).await?;
    Ok(true)
}

/// What question selection needs to know about the bank and the candidate's past.
#[derive(Debug, Clone)]
pub struct BankEntry {
    pub id: Uuid,
    pub kind: RoundKind,
    pub teams: Vec<Team>,
    pub levels: Vec<Level>,
    pub tags: Vec<String>,
    pub topic: String,
    pub suggested_minutes: i16,
}

pub async fn selectable_questions(db: impl PgExecutor<'_>, candidate: Uuid) -> Result<Vec<BankEntry>, sqlx::Error> {
    sqlx::query_as!(
        BankEntry,
        r#"select id, kind as "kind: RoundKind", teams as "teams: Vec<Team>", levels as "levels: Vec<Level>", tags,
                topic, suggested_minutes
         from questions
         where owner_id is null or owner_id = $1 order by slug"#,
        candidate,
    )
    .fetch_all(db)
    .await
}

/// Advisory lock space for changing a loop's questions (the first key of `pg_advisory_xact_lock(int, int)`).
const QUESTION_LOCKS: i32 = 72014;

/// A question the loop holds, where it sits, and its topic.
#[derive(Debug, Clone)]
pub struct HeldQuestion {
    pub round_id: Uuid,
    pub position: i16,
    pub question_id: Uuid,
    pub topic: String,
}

/// Takes the loop's question lock for the rest of the caller's transaction
/// (so that two swaps in different rounds of one loop cannot both take the
/// same topic), then reads every question the loop holds.
pub async fn lock_questions(tx: &mut PgConnection, loop_id: Uuid) -> Result<Vec<HeldQuestion>, sqlx::Error> {
    sqlx::query!("select pg_advisory_xact_lock($1, hashtext($2::uuid::text))", QUESTION_LOCKS, loop_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query_as!(
        HeldQuestion,
        "select rq.round_id, rq.position, rq.question_id, q.topic
         from rounds r join round_questions rq on rq.round_id = r.id join questions q on q.id = rq.question_id
         where r.loop_id = $1",
        loop_id,
    )
    .fetch_all(&mut *tx)
    .await
}

/// When the candidate last had each question, over loops not cancelled.
pub async fn last_seen(db: impl PgExecutor<'_>, candidate: Uuid) -> Result<Vec<(Uuid, DateTime<Utc>)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select rq.question_id, max(l.starts_at) as "last_seen!"
         from loops l join rounds r on r.loop_id = l.id join round_questions rq on rq.round_id = r.id
         where l.candidate_id = $1 and l.status <> 'cancelled'
         group by rq.question_id"#,
        candidate,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|row| (row.question_id, row.last_seen)).collect())
}

/// Mean submitted score (1–4) per question tag in the candidate's history.
pub async fn mean_score_per_tag(db: impl PgExecutor<'_>, candidate: Uuid) -> Result<Vec<(String, f64)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select tag as "tag!", avg(cs.score)::float8 as "mean!"
         from loops l
         join rounds r on r.loop_id = l.id
         join scorecards s on s.round_id = r.id and s.status = 'submitted'
         join criterion_scores cs on cs.scorecard_id = s.id and cs.score is not null
         join round_questions rq on rq.round_id = r.id
         join questions q on q.id = rq.question_id, unnest(q.tags) as tag
         where l.candidate_id = $1
         group by tag"#,
        candidate,
    )
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|row| (row.tag, row.mean)).collect())
}

/// A round someone interviews, for their dashboard.
#[derive(Debug, Clone)]
pub struct InterviewRound {
    pub round_id: Uuid,
    pub loop_id: Uuid,
    pub position: i16,
    pub title: String,
    pub timer_state: TimerState,
    pub template_name: String,
    pub candidate_name: String,
    pub starts_at: DateTime<Utc>,
    pub time_zone: String,
}

/// Rounds `interviewer` takes in loops not cancelled, soonest loop first, unfinished ones before finished.
pub async fn rounds_to_interview(
    db: impl PgExecutor<'_>,
    interviewer: Uuid,
    limit: i64,
) -> Result<Vec<InterviewRound>, sqlx::Error> {
    sqlx::query_as!(
        InterviewRound,
        r#"select r.id as round_id, l.id as loop_id, r.position, r.title, r.timer_state as "timer_state: TimerState",
                l.template_name, u.display_name as candidate_name, l.starts_at, l.time_zone
         from rounds r join loops l on l.id = r.loop_id join users u on u.id = l.candidate_id
         where r.interviewer_id = $1 and l.status <> 'cancelled'
         order by r.timer_state = 'ended', l.starts_at, r.position
         limit $2"#,
        interviewer,
        limit,
    )
    .fetch_all(db)
    .await
}
