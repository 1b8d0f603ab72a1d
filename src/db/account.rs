//! An account as a whole: what deleting it would touch, deleting it, and what
//! its owner downloads ("all my data").

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::sessions::{self, Ending};
use crate::domain::account::DeletionEffects;
use crate::domain::blind_scoring::{CardRole, CardStatus};
use crate::domain::integrity::IntegrityConcern;
use crate::domain::scoring::Recommendation;
use crate::domain::timer::TimerState;
use crate::domain::{Level, LoopMode, LoopStatus, NoteKind, RoundKind, Team};

pub async fn deletion_effects(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<DeletionEffects, sqlx::Error> {
    sqlx::query_as!(
        DeletionEffects,
        r#"select (select count(*) from loops where candidate_id = $1) as "loops!",
                (select count(distinct r.interviewer_id) from loops l join rounds r on r.loop_id = l.id
                 where l.candidate_id = $1 and r.interviewer_id <> $1) as "their_interviewers!",
                (select count(*) from scorecards s join rounds r on r.id = s.round_id join loops l on l.id = r.loop_id
                 where s.author_id = $1 and s.status = 'submitted' and l.candidate_id <> $1) as "submitted_elsewhere!",
                (select count(*) from scorecards s join rounds r on r.id = s.round_id join loops l on l.id = r.loop_id
                 where s.author_id = $1 and s.status = 'draft' and l.candidate_id <> $1)
                + (select count(*) from notes n join rounds r on r.id = n.round_id join loops l on l.id = r.loop_id
                   where n.author_id = $1 and l.candidate_id <> $1) as "unsubmitted_elsewhere!",
                (select count(*) from rounds r join loops l on l.id = r.loop_id
                 where r.interviewer_id = $1 and l.candidate_id <> $1 and r.timer_state <> 'ended'
                   and l.status in ('scheduled', 'in_progress')) as "upcoming_interviews!""#,
        user_id,
    )
    .fetch_one(db)
    .await
}

/// Deletes the account as [`DeletionEffects::consequences`] states it, inside
/// the caller's transaction: its sessions end, its loops as candidate go with
/// everything in them, its drafts elsewhere go, its submitted scorecards on
/// other people's loops stay without an author (migration 0006), and the rest
/// follows the account through the schema's cascades. `false` when there was
/// no such account.
pub async fn delete(db: &mut PgConnection, user_id: Uuid) -> Result<bool, sqlx::Error> {
    sessions::end(&mut *db, Ending::All(user_id)).await?;
    sqlx::query!("delete from scorecards where author_id = $1 and status = 'draft'", user_id).execute(&mut *db).await?;
    sqlx::query!("delete from loops where candidate_id = $1", user_id).execute(&mut *db).await?;
    sqlx::query!("delete from sign_in_attempts where username = (select username from users where id = $1)", user_id)
        .execute(&mut *db)
        .await?;
    let done = sqlx::query!("delete from users where id = $1", user_id).execute(&mut *db).await?;
    Ok(done.rows_affected() == 1)
}

// What the export reads. Each row serialises as it appears in the download.

#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub username: String,
    pub display_name: String,
    pub created_at: DateTime<Utc>,
    pub calendar_feed_enabled: bool,
}

pub async fn profile(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Profile, sqlx::Error> {
    sqlx::query_as!(
        Profile,
        r#"select username, display_name, created_at, calendar_token_hash is not null as "calendar_feed_enabled!"
         from users where id = $1"#,
        user_id,
    )
    .fetch_one(db)
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedLoop {
    pub id: Uuid,
    pub template_name: String,
    pub team: Team,
    pub level: Level,
    pub mode: LoopMode,
    pub status: LoopStatus,
    pub starts_at: DateTime<Utc>,
    pub time_zone: String,
    pub break_minutes: i16,
    pub selection_seed: i64,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub cancelled_at: Option<DateTime<Utc>>,
}

/// The loops the user is the candidate of, oldest first.
pub async fn loops(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<ExportedLoop>, sqlx::Error> {
    sqlx::query_as!(
        ExportedLoop,
        r#"select id, template_name, team as "team: Team", level as "level: Level", mode as "mode: LoopMode",
                status as "status: LoopStatus", starts_at, time_zone, break_minutes, selection_seed,
                created_at, completed_at, cancelled_at
         from loops where candidate_id = $1 order by starts_at, created_at, id"#,
        user_id,
    )
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedRound {
    pub id: Uuid,
    pub loop_id: Uuid,
    pub position: i16,
    pub kind: RoundKind,
    pub title: String,
    pub planned_minutes: i16,
    pub timer_state: TimerState,
    pub started_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub elapsed_ms: i64,
    pub extension_seconds: i32,
    /// The interviewer's display name, as the loop page shows it.
    pub interviewer: Option<String>,
    /// Titles and slugs of the round's questions, in order; none before a candidate's round starts.
    pub questions: Option<serde_json::Value>,
}

/// The rounds of the user's loops as candidate; a round's questions only once
/// it has started (the loop page reveals them to its candidate then).
pub async fn rounds_as_candidate(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<ExportedRound>, sqlx::Error> {
    sqlx::query_as!(
        ExportedRound,
        r#"select r.id, r.loop_id, r.position, r.kind as "kind: RoundKind", r.title, r.planned_minutes,
                r.timer_state as "timer_state: TimerState", r.started_at, r.ended_at, r.elapsed_ms,
                r.extension_seconds, iu.display_name as "interviewer?",
                case when r.timer_state <> 'not_started' then
                    coalesce((select jsonb_agg(jsonb_build_object('slug', q.slug, 'title', q.title) order by rq.position)
                              from round_questions rq join questions q on q.id = rq.question_id
                              where rq.round_id = r.id),
                             '[]')
                end as questions
         from loops l join rounds r on r.loop_id = l.id left join users iu on iu.id = r.interviewer_id
         where l.candidate_id = $1 order by l.starts_at, l.id, r.position"#,
        user_id,
    )
    .fetch_all(db)
    .await
}

/// A round of someone else's loop the user interviews or wrote in.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedInterview {
    pub candidate: String,
    pub template_name: String,
    pub loop_status: LoopStatus,
    pub starts_at: DateTime<Utc>,
    pub round: ExportedRound,
}

/// The rounds of others' loops the user interviews, with their questions.
pub async fn interviews(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<ExportedInterview>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select cu.display_name as candidate, l.template_name, l.status as "loop_status: LoopStatus", l.starts_at,
                r.id, r.loop_id, r.position, r.kind as "kind: RoundKind", r.title, r.planned_minutes,
                r.timer_state as "timer_state: TimerState", r.started_at, r.ended_at, r.elapsed_ms,
                r.extension_seconds, iu.display_name as "interviewer?",
                coalesce((select jsonb_agg(jsonb_build_object('slug', q.slug, 'title', q.title) order by rq.position)
                          from round_questions rq join questions q on q.id = rq.question_id where rq.round_id = r.id),
                         '[]') as questions
         from rounds r join loops l on l.id = r.loop_id join users cu on cu.id = l.candidate_id
         left join users iu on iu.id = r.interviewer_id
         where l.candidate_id <> $1 and r.interviewer_id = $1
         order by l.starts_at, l.id, r.position"#,
        user_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| ExportedInterview {
            candidate: row.candidate,
            template_name: row.template_name,
            loop_status: row.loop_status,
            starts_at: row.starts_at,
            round: ExportedRound {
                id: row.id,
                loop_id: row.loop_id,
                position: row.position,
                kind: row.kind,
                title: row.title,
                planned_minutes: row.planned_minutes,
                timer_state: row.timer_state,
                started_at: row.started_at,
                ended_at: row.ended_at,
                elapsed_ms: row.elapsed_ms,
                extension_seconds: row.extension_seconds,
                interviewer: row.interviewer,
                questions: row.questions,
            },
        })
        .collect())
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedNote {
    #[serde(skip)]
    pub round_id: Uuid,
    pub kind: NoteKind,
    pub body_md: String,
    pub version: i32,
    pub updated_at: DateTime<Utc>,
}

/// Every note the user wrote (scratchpads and private notes) in rounds they
/// still take part in: withdrawal from a loop ends access to what is in it.
pub async fn notes(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<ExportedNote>, sqlx::Error> {
    sqlx::query_as!(
        ExportedNote,
        r#"select n.round_id, n.kind as "kind: NoteKind", n.body_md, n.version, n.updated_at
         from notes n join rounds r on r.id = n.round_id join loops l on l.id = r.loop_id
         where n.author_id = $1 and (l.candidate_id = $1 or r.interviewer_id = $1)
         order by n.updated_at"#,
        user_id,
    )
    .fetch_all(db)
    .await
}

/// A scorecard the user wrote, drafts included, with its criteria and earlier versions.
#[derive(Debug, Clone, Serialize)]
pub struct ExportedScorecard {
    #[serde(skip)]
    pub round_id: Uuid,
    pub role: CardRole,
    pub status: CardStatus,
    pub recommendation: Option<Recommendation>,
    pub summary: String,
    pub strengths: String,
    pub areas_to_improve: String,
    pub integrity_concerns: Vec<IntegrityConcern>,
    pub integrity_note: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub criteria: serde_json::Value,
    pub amendments: serde_json::Value,
}

pub async fn scorecards_written(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<ExportedScorecard>, sqlx::Error> {
    sqlx::query_as!(
        ExportedScorecard,
        r#"select s.round_id, s.role as "role: CardRole", s.status as "status: CardStatus",
                s.recommendation as "recommendation: Recommendation", s.summary, s.strengths, s.areas_to_improve,
                s.integrity_concerns as "integrity_concerns: Vec<IntegrityConcern>", s.integrity_note,
                s.created_at, s.updated_at, s.submitted_at,
                coalesce((select jsonb_agg(jsonb_build_object('criterion', c.name, 'pillar', c.pillar,
                                  'score', cs.score, 'not_assessed', cs.not_assessed, 'evidence', cs.evidence)
                                  order by c.position)
                          from criterion_scores cs join rubric_criteria c on c.id = cs.criterion_id
                          where cs.scorecard_id = s.id), '[]') as "criteria!",
                coalesce((select jsonb_agg(jsonb_build_object('amended_at', a.amended_at, 'previous', a.previous)
                                  order by a.amended_at)
                          from scorecard_amendments a where a.scorecard_id = s.id), '[]') as "amendments!"
         from scorecards s join rounds r on r.id = s.round_id join loops l on l.id = r.loop_id
         where s.author_id = $1 and (l.candidate_id = $1 or r.interviewer_id = $1)
         order by s.created_at"#,
        user_id,
    )
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedQuestion {
    pub slug: String,
    pub kind: RoundKind,
    pub title: String,
    pub prompt_md: String,
    pub follow_ups: Vec<String>,
    pub hints: Vec<String>,
    pub what_good_looks_like: String,
    /// Markdown, three labelled list items; `None` when the question has none.
    pub calibration: Option<String>,
    pub tags: Vec<String>,
    pub topic: String,
    pub teams: Vec<Team>,
    pub levels: Vec<Level>,
    pub difficulty: i16,
    pub suggested_minutes: i16,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The user's private questions.
pub async fn questions(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<ExportedQuestion>, sqlx::Error> {
    sqlx::query_as!(
        ExportedQuestion,
        r#"select slug, kind as "kind: RoundKind", title, prompt_md, follow_ups, hints,
                good_answer_md as what_good_looks_like, calibration_md as calibration, tags, topic,
                teams as "teams: Vec<Team>",
                levels as "levels: Vec<Level>", difficulty, suggested_minutes, created_at, updated_at
         from questions where owner_id = $1 order by slug"#,
        user_id,
    )
    .fetch_all(db)
    .await
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportedTemplate {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub team: Option<Team>,
    pub created_at: DateTime<Utc>,
    pub rounds: serde_json::Value,
}

/// The user's own loop templates with their rounds.
pub async fn templates(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<ExportedTemplate>, sqlx::Error> {
    sqlx::query_as!(
        ExportedTemplate,
        r#"select t.slug, t.name, t.description, t.team as "team: Team", t.created_at,
                coalesce((select jsonb_agg(jsonb_build_object('position', r.position, 'kind', r.kind,
                                  'title', r.title, 'minutes', r.minutes, 'question_count', r.question_count)
                                  order by r.position)
                          from template_rounds r where r.template_id = t.id), '[]') as "rounds!"
         from loop_templates t where t.owner_id = $1 order by t.slug"#,
        user_id,
    )
    .fetch_all(db)
    .await
}
