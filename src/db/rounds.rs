//! A round's timer state, questions and loop context.

use chrono::{DateTime, Utc};
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::question::{CodeLanguage, TestSuite};
use crate::domain::timer::{Timer, TimerAction, TimerState};
use crate::domain::{Level, LoopMode, LoopStatus, RoundKind, Team};

/// Everything the round page and the timer need, read with the database clock
/// (`now`), which every instance shares.
#[derive(Debug, Clone)]
pub struct RoundState {
    pub id: Uuid,
    pub loop_id: Uuid,
    pub position: i16,
    pub kind: RoundKind,
    pub title: String,
    pub planned_minutes: i16,
    pub timer_state: TimerState,
    pub started_at: Option<DateTime<Utc>>,
    pub running_since: Option<DateTime<Utc>>,
    pub elapsed_ms: i64,
    pub extension_seconds: i32,
    pub ended_at: Option<DateTime<Utc>>,
    pub current_question: i16,
    pub question_switch_ms: i64,
    pub timer_version: i32,
    pub interviewer_id: Option<Uuid>,
    pub candidate_id: Uuid,
    pub mode: LoopMode,
    pub loop_status: LoopStatus,
    pub template_name: String,
    pub team: Team,
    pub level: Level,
    pub selection_seed: i64,
    pub time_zone: String,
    pub break_minutes: i16,
    pub round_count: i64,
    /// Another round of the loop is running or paused (a candidate is in one room at a time).
    pub other_round_active: bool,
    /// Each question's budget in minutes, in order.
    pub question_budgets: Vec<i16>,
    /// The round draws from the part of its kind's pool with (or without) this tag.
    pub with_tag: Option<String>,
    pub without_tag: Option<String>,
    pub now: DateTime<Utc>,
}

impl RoundState {
    pub fn question_count(&self) -> i16 {
        self.question_budgets.len() as i16
    }

    pub fn budgets_ms(&self) -> Vec<i64> {
        self.question_budgets.iter().map(|m| i64::from(*m) * 60_000).collect()
    }

    pub fn timer(&self) -> Timer {
        Timer {
            state: self.timer_state,
            planned_ms: i64::from(self.planned_minutes) * 60_000,
            extension_ms: i64::from(self.extension_seconds) * 1000,
            elapsed_ms: self.elapsed_ms,
            running_since: self.running_since,
            started_at: self.started_at,
            ended_at: self.ended_at,
            current_question: self.current_question,
            question_switch_ms: self.question_switch_ms,
        }
    }
}

/// `query_as!` for a [`RoundState`]: the one select, completed by a string
/// literal (`where …`) and its arguments. Each use is checked on its own.
macro_rules! round_state {
    ($rest:tt $(, $arg:expr)* $(,)?) => {
        sqlx::query_as!(
            RoundState,
            r#"select r.id, r.loop_id, r.position, r.kind as "kind: RoundKind", r.title, r.planned_minutes,
                    r.timer_state as "timer_state: TimerState", r.started_at, r.running_since, r.elapsed_ms,
                    r.extension_seconds, r.ended_at, r.current_question, r.question_switch_ms, r.timer_version,
                    r.interviewer_id, l.candidate_id, l.mode as "mode: LoopMode", l.status as "loop_status: LoopStatus",
                    l.template_name, l.team as "team: Team", l.level as "level: Level", l.selection_seed, l.time_zone,
                    l.break_minutes,
                    (select count(*) from rounds x where x.loop_id = r.loop_id) as "round_count!",
                    exists (select 1 from rounds x where x.loop_id = r.loop_id and x.id <> r.id
                            and x.timer_state in ('running', 'paused')) as "other_round_active!",
                    array(select q.budget_minutes from round_questions q where q.round_id = r.id order by q.position)
                        as "question_budgets!",
                    r.with_tag, r.without_tag,
                    clock_timestamp() as "now!"
                from rounds r join loops l on l.id = r.loop_id "#
                + $rest,
            $($arg),*
        )
    };
}

/// The round whoever asks: for live streams, whose viewers were checked when they opened.
pub async fn find(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<Option<RoundState>, sqlx::Error> {
    round_state!("where r.id = $1", round_id).fetch_optional(db).await
}

/// The round, if `viewer` is its loop's candidate or its interviewer.
pub async fn find_for_participant(
    db: impl PgExecutor<'_>,
    round_id: Uuid,
    viewer: Uuid,
) -> Result<Option<RoundState>, sqlx::Error> {
    round_state!("where r.id = $1 and (l.candidate_id = $2 or r.interviewer_id = $2)", round_id, viewer)
        .fetch_optional(db)
        .await
}

/// The round locked for a timer change, if `viewer` takes part in it.
pub async fn lock_for_participant(
    db: &mut PgConnection,
    round_id: Uuid,
    viewer: Uuid,
) -> Result<Option<RoundState>, sqlx::Error> {
    round_state!("where r.id = $1 and (l.candidate_id = $2 or r.interviewer_id = $2) for update of r", round_id, viewer)
        .fetch_optional(db)
        .await
}

/// Stores a new timer state, logs the action and tells every instance (the
/// notification is delivered when the transaction commits).
pub async fn save_timer(
    db: &mut PgConnection,
    round: &RoundState,
    timer: &Timer,
    actor: Uuid,
    action: TimerAction,
    seconds: Option<i32>,
    reason: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update rounds set timer_state = $2, started_at = $3, running_since = $4, elapsed_ms = $5,
                extension_seconds = $6, ended_at = $7, current_question = $8, question_switch_ms = $9,
                timer_version = timer_version + 1
         where id = $1",
        round.id,
        timer.state as TimerState,
        timer.started_at,
        timer.running_since,
        timer.elapsed_ms,
        i32::try_from(timer.extension_ms / 1000).unwrap_or(i32::MAX),
        timer.ended_at,
        timer.current_question,
        timer.question_switch_ms,
    )
    .execute(&mut *db)
    .await?;
    sqlx::query!(
        "insert into timer_events (round_id, actor_id, action, seconds, reason) values ($1, $2, $3, $4, $5)",
        round.id,
        actor,
        action as TimerAction,
        seconds,
        reason,
    )
    .execute(&mut *db)
    .await?;
    // A loop is in progress once a round starts, complete once every round has ended.
    sqlx::query!(
        "update loops l set
             status = case when not exists (select 1 from rounds r where r.loop_id = l.id and r.timer_state <> 'ended')
                           then 'completed' else 'in_progress' end,
             completed_at = case when not exists (select 1 from rounds r where r.loop_id = l.id and r.timer_state <> 'ended')
                                 then coalesce(l.completed_at, now()) end
         where l.id = $1 and l.status in ('scheduled', 'in_progress')",
        round.loop_id,
    )
    .execute(&mut *db)
    .await?;
    notify_round_changed(db, round.id).await
}

pub async fn notify_round_changed(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<(), sqlx::Error> {
    sqlx::query!("select pg_notify('mockloop_rounds', $1)", round_id.to_string()).execute(db).await?;
    Ok(())
}

/// One of the round's questions with everything an assessor may see.
#[derive(Debug, Clone)]
pub struct RoundQuestion {
    pub position: i16,
    pub budget_minutes: i16,
    pub question_id: Uuid,
    pub slug: String,
    pub title: String,
    pub prompt_html: String,
    pub follow_ups: Vec<String>,
    pub hints: Vec<String>,
    pub good_answer_html: String,
    /// Interviewer-only, with what good looks like (Markdown, `Calibration::parse_markdown`);
    /// a private question may have none.
    pub calibration_md: Option<String>,
    pub tags: Vec<String>,
    /// Indexes (from 0) of the hints and follow-ups the interviewer marked as given.
    pub hints_used: Vec<i16>,
    pub follow_ups_used: Vec<i16>,
    /// A coding question's starter, where the candidate's code begins.
    pub starter_language: Option<CodeLanguage>,
    pub starter_code: Option<String>,
    /// Its test cases, which run in the candidate's browser.
    pub tests: Option<Json<TestSuite>>,
    /// Interviewer-only until the round ends (`visibility::Item::ReferenceSolution`).
    pub reference_solution: Option<String>,
}

pub async fn questions(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<Vec<RoundQuestion>, sqlx::Error> {
    sqlx::query_as!(
        RoundQuestion,
        r#"select rq.position, rq.budget_minutes, q.id as question_id, q.slug, q.title, q.prompt_html, q.follow_ups,
                q.hints, q.good_answer_html, q.calibration_md, q.tags, rq.hints_used, rq.follow_ups_used,
                q.starter_language as "starter_language: CodeLanguage", q.starter_code,
                q.tests as "tests: Json<TestSuite>", q.reference_solution
         from round_questions rq join questions q on q.id = rq.question_id
         where rq.round_id = $1 order by rq.position"#,
        round_id,
    )
    .fetch_all(db)
    .await
}

/// The round after `position` in the same loop.
#[derive(Debug, Clone)]
pub struct NextRound {
    pub id: Uuid,
    pub position: i16,
    pub title: String,
    pub timer_state: TimerState,
}

/// One entry of a round's timer log.
#[derive(Debug, Clone)]
pub struct TimerEvent {
    pub action: TimerAction,
    pub seconds: Option<i32>,
    pub reason: Option<String>,
    pub occurred_at: DateTime<Utc>,
}

pub async fn timer_log(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<Vec<TimerEvent>, sqlx::Error> {
    sqlx::query_as!(
        TimerEvent,
        r#"select action as "action: TimerAction", seconds, reason, occurred_at from timer_events
         where round_id = $1 order by occurred_at, id"#,
        round_id,
    )
    .fetch_all(db)
    .await
}

/// Records which hints and follow-ups of one question the interviewer gave.
pub async fn set_marks(
    db: impl PgExecutor<'_>,
    round_id: Uuid,
    position: i16,
    hints_used: &[i16],
    follow_ups_used: &[i16],
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update round_questions set hints_used = $3, follow_ups_used = $4 where round_id = $1 and position = $2",
        round_id,
        position,
        hints_used as &[i16],
        follow_ups_used as &[i16],
    )
    .execute(db)
    .await?;
    Ok(())
}

/// Puts another question in a round's slot (before the round starts).
pub async fn replace_question(
    db: impl PgExecutor<'_>,
    round_id: Uuid,
    position: i16,
    question_id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "update round_questions set question_id = $3, hints_used = '{}', follow_ups_used = '{}'
         where round_id = $1 and position = $2",
        round_id,
        position,
        question_id,
    )
    .execute(db)
    .await?;
    Ok(())
}
