//! History: the loops someone took part in, and their scores over time.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::blind_scoring::CardStatus;
use crate::domain::scoring::Recommendation;
use crate::domain::{LoopMode, LoopStatus, RoundKind, ScoreSeries, Team};

#[derive(Debug, Default, Clone)]
pub struct HistoryFilter {
    pub mode: Option<LoopMode>,
    pub template: Option<String>,
    pub team: Option<Team>,
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// Where the previous page ended: loops strictly older than this.
#[derive(Debug, Clone, Copy)]
pub struct Cursor {
    pub starts_at: DateTime<Utc>,
    pub id: Uuid,
}

#[derive(Debug, Clone)]
pub struct HistoryLoop {
    pub id: Uuid,
    pub template_name: String,
    pub team: Team,
    pub mode: LoopMode,
    pub status: LoopStatus,
    pub starts_at: DateTime<Utc>,
    pub time_zone: String,
    pub as_candidate: bool,
    pub candidate_name: String,
    /// The deciding scorecard's recommendation per round, none where not submitted.
    pub recommendations: Vec<Option<Recommendation>>,
    /// Per round, the status of its interviewer card and of its self-assessment (none where
    /// not begun), and whether the user interviews it: what blind scoring needs to know who may read what.
    pub interviewer_statuses: Vec<Option<CardStatus>>,
    pub self_statuses: Vec<Option<CardStatus>>,
    pub user_interviews: Vec<bool>,
    /// The user has submitted an interviewer scorecard of their own in the loop.
    pub user_scored: bool,
}

pub async fn loops(
    db: impl PgExecutor<'_>,
    user: Uuid,
    filter: &HistoryFilter,
    after: Option<Cursor>,
    limit: i64,
) -> Result<Vec<HistoryLoop>, sqlx::Error> {
    sqlx::query_as!(
        HistoryLoop,
        // The deciding scorecard of a round is the candidate's own when self-timed.
        r#"select l.id, l.template_name, l.team as "team: Team", l.mode as "mode: LoopMode",
                l.status as "status: LoopStatus", l.starts_at, l.time_zone,
                l.candidate_id = $1 as "as_candidate!", u.display_name as candidate_name,
                array(select s.recommendation from rounds r
                      left join scorecards s on s.round_id = r.id and s.status = 'submitted'
                                             and s.role = case l.mode when 'self_timed' then 'self' else 'interviewer' end
                      where r.loop_id = l.id order by r.position) as "recommendations!: Vec<Option<Recommendation>>",
                array(select s.status from rounds r
                      left join scorecards s on s.round_id = r.id and s.role = 'interviewer'
                      where r.loop_id = l.id order by r.position) as "interviewer_statuses!: Vec<Option<CardStatus>>",
                array(select s.status from rounds r
                      left join scorecards s on s.round_id = r.id and s.role = 'self'
                      where r.loop_id = l.id order by r.position) as "self_statuses!: Vec<Option<CardStatus>>",
                array(select coalesce(r.interviewer_id = $1, false) from rounds r
                      where r.loop_id = l.id order by r.position) as "user_interviews!",
                exists (select 1 from rounds r join scorecards s on s.round_id = r.id
                        where r.loop_id = l.id and s.author_id = $1 and s.role = 'interviewer'
                          and s.status = 'submitted' and s.author_withdrawn_at is null) as "user_scored!"
         from loops l join users u on u.id = l.candidate_id
         -- Two index lookups (as candidate, as interviewer); an OR here would scan every loop.
         where l.id in (select id from loops where candidate_id = $1
                        union select loop_id from rounds where interviewer_id = $1)
           and ($2::text is null or l.mode = $2)
           and ($3::text is null or l.template_name = $3)
           and ($4::text is null or l.team = $4)
           and ($5::timestamptz is null or l.starts_at >= $5)
           and ($6::timestamptz is null or l.starts_at < $6)
           and ($7::timestamptz is null or (l.starts_at, l.id) < ($7, $8))
         order by l.starts_at desc, l.id desc
         limit $9"#,
        user,
        filter.mode as Option<LoopMode>,
        filter.template.as_deref(),
        filter.team as Option<Team>,
        filter.from,
        filter.until,
        after.map(|c| c.starts_at),
        after.map(|c| c.id),
        limit,
    )
    .fetch_all(db)
    .await
}

/// Template names the user's loops used, for the filter.
pub async fn template_names(db: impl PgExecutor<'_>, user: Uuid) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar!("select distinct template_name from loops where candidate_id = $1 order by 1", user)
        .fetch_all(db)
        .await
}

/// A mean score of one loop in one series: per pillar, per round kind, or the
/// self-assessment's gap to the interviewer's ("gap", with an empty key).
#[derive(Debug, Clone)]
pub struct ScorePoint {
    pub starts_at: DateTime<Utc>,
    pub series: ScoreSeries,
    pub group_key: String,
    pub mean: f64,
}

/// Every score point of the candidate's loops, oldest first (kept per loop by
/// `refresh_loop_score_points` whenever scores change, so this reads a few rows per loop).
pub async fn score_points(db: impl PgExecutor<'_>, candidate: Uuid) -> Result<Vec<ScorePoint>, sqlx::Error> {
    sqlx::query_as!(
        ScorePoint,
        r#"select starts_at, series as "series: ScoreSeries", group_key, mean from loop_score_points
         where candidate_id = $1 order by starts_at, loop_id"#,
        candidate,
    )
    .fetch_all(db)
    .await
}

/// One attempt at a question: when, how it scored, how long it took.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub slug: String,
    pub title: String,
    pub kind: RoundKind,
    pub loop_id: Uuid,
    pub round_id: Uuid,
    pub starts_at: DateTime<Utc>,
    pub elapsed_ms: i64,
    pub allowed_ms: i64,
    pub mean_score: Option<f64>,
}

pub async fn attempts(db: impl PgExecutor<'_>, candidate: Uuid, limit: i64) -> Result<Vec<Attempt>, sqlx::Error> {
    // Scores are looked up for the rows shown only, after the sort and limit.
    sqlx::query_as!(
        Attempt,
        r#"select shown.slug as "slug!", shown.title as "title!", shown.kind as "kind!: RoundKind",
                shown.loop_id as "loop_id!", shown.round_id as "round_id!", shown.starts_at as "starts_at!",
                shown.elapsed_ms as "elapsed_ms!", shown.allowed_ms as "allowed_ms!",
                (select avg(cs.score)::float8 from scorecards s
                 join criterion_scores cs on cs.scorecard_id = s.id and cs.score is not null
                 where s.round_id = shown.round_id and s.status = 'submitted'
                   and s.role = case shown.mode when 'self_timed' then 'self' else 'interviewer' end
                   -- Blind scoring: a peer interviewer's scores once the self-assessment is in or skipped.
                   and (shown.mode = 'self_timed' or exists (
                       select 1 from scorecards own where own.round_id = shown.round_id and own.role = 'self'
                          and own.status in ('submitted', 'skipped')))) as mean_score
         from (select q.slug, q.title, q.kind, l.id as loop_id, r.id as round_id, l.starts_at, l.mode, r.elapsed_ms,
                      (r.planned_minutes * 60000 + r.extension_seconds * 1000)::bigint as allowed_ms
               from loops l
               join rounds r on r.loop_id = l.id and r.timer_state = 'ended'
               join round_questions rq on rq.round_id = r.id
               join questions q on q.id = rq.question_id
               where l.candidate_id = $1
               order by q.title, l.starts_at desc
               limit $2) as shown
         order by shown.title, shown.starts_at desc"#,
        candidate,
        limit,
    )
    .fetch_all(db)
    .await
}

/// An interviewer's mean score on a loop beside the other interviewers' of the same loop.
#[derive(Debug, Clone)]
pub struct Calibration {
    pub loop_id: Uuid,
    pub template_name: String,
    pub starts_at: DateTime<Utc>,
    pub candidate_name: String,
    pub my_mean: f64,
    pub others_mean: Option<f64>,
}

/// Only loops where the interviewer has submitted their own scorecard (blind scoring).
pub async fn calibration(
    db: impl PgExecutor<'_>,
    interviewer: Uuid,
    limit: i64,
) -> Result<Vec<Calibration>, sqlx::Error> {
    sqlx::query_as!(
        Calibration,
        r#"with mine as (
             select r.loop_id, avg(cs.score)::float8 as mean
             from scorecards s join rounds r on r.id = s.round_id
             join criterion_scores cs on cs.scorecard_id = s.id and cs.score is not null
             -- A withdrawn interviewer no longer takes part in the loop.
             where s.author_id = $1 and s.role = 'interviewer' and s.status = 'submitted'
               and s.author_withdrawn_at is null
             group by r.loop_id),
         -- From those loops' rounds outward: starting from all interviewer scorecards
         -- read every one on the instance (270 ms with 100k loops).
         others as (
             select r.loop_id, avg(cs.score)::float8 as mean
             from mine join rounds r on r.loop_id = mine.loop_id
             join scorecards s on s.round_id = r.id and s.role = 'interviewer' and s.status = 'submitted'
                              and s.author_id is distinct from $1
             join criterion_scores cs on cs.scorecard_id = s.id and cs.score is not null
             group by r.loop_id)
         select l.id as loop_id, l.template_name, l.starts_at, u.display_name as candidate_name,
                mine.mean as "my_mean!", others.mean as others_mean
         from mine join loops l on l.id = mine.loop_id join users u on u.id = l.candidate_id
         left join others on others.loop_id = mine.loop_id
         order by l.starts_at desc
         limit $2"#,
        interviewer,
        limit,
    )
    .fetch_all(db)
    .await
}
