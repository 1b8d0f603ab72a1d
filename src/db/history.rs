//! History: the loops someone took part in, and their scores over time.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::blind_scoring::{CardRole, CardStatus, RoundStage};
use crate::domain::progress::{self, ChartGrain};
use crate::domain::scoring::Recommendation;
use crate::domain::visibility::{self, Viewer};
use crate::domain::{LoopMode, LoopStatus, RoundKind, ScoreSeries, Team};

/// Recomputes the history score points of `loop_ids` (migration 0009) by the
/// domain's rules, passed in as small tables: the deciding scorecard of each
/// mode, and every stage of a round's two scorecards at which the candidate
/// may read each of them.
pub async fn refresh_score_points(db: impl PgExecutor<'_>, loop_ids: &[Uuid]) -> Result<(), sqlx::Error> {
    let (deciding_modes, deciding_roles): (Vec<&str>, Vec<&str>) =
        LoopMode::ALL.iter().map(|mode| (mode.as_str(), visibility::deciding_card(*mode).as_str())).unzip();
    let statuses = [None, Some(CardStatus::Draft), Some(CardStatus::Submitted), Some(CardStatus::Skipped)];
    let spelling = |status: Option<CardStatus>| status.map_or("", CardStatus::as_str);
    let mut readable: (Vec<&str>, Vec<&str>, Vec<&str>) = Default::default();
    for card in CardRole::ALL {
        for interviewer in statuses {
            for self_assessment in statuses {
                let stage = RoundStage { interviewer, self_assessment };
                if visibility::may_read_card(Viewer::Candidate, *card, stage) {
                    readable.0.push(card.as_str());
                    readable.1.push(spelling(interviewer));
                    readable.2.push(spelling(self_assessment));
                }
            }
        }
    }
    sqlx::query!(
        "select refresh_loop_score_points($1, $2, $3, $4, $5, $6)",
        loop_ids,
        &deciding_modes as &[&str],
        &deciding_roles as &[&str],
        &readable.0 as &[&str],
        &readable.1 as &[&str],
        &readable.2 as &[&str],
    )
    .execute(db)
    .await?;
    Ok(())
}

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
    /// Per round, the submitted recommendation of its interviewer card and of its
    /// self-assessment (none where not submitted); which decides is the domain's rule.
    pub interviewer_recommendations: Vec<Option<Recommendation>>,
    pub self_recommendations: Vec<Option<Recommendation>>,
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
        r#"select l.id as "id!", l.template_name as "template_name!", l.team as "team!: Team",
                l.mode as "mode!: LoopMode", l.status as "status!: LoopStatus", l.starts_at as "starts_at!",
                l.time_zone as "time_zone!", l.candidate_id = $1 as "as_candidate!", u.display_name as candidate_name,
                per_round.interviewer_recommendations as "interviewer_recommendations!: Vec<Option<Recommendation>>",
                per_round.self_recommendations as "self_recommendations!: Vec<Option<Recommendation>>",
                per_round.interviewer_statuses as "interviewer_statuses!: Vec<Option<CardStatus>>",
                per_round.self_statuses as "self_statuses!: Vec<Option<CardStatus>>",
                per_round.user_interviews as "user_interviews!",
                per_round.user_scored as "user_scored!"
         -- A page from each side (as candidate, as interviewer), each read from its
         -- index in order and cut at the limit; an OR here would scan every loop.
         from (
             (select id, template_name, team, mode, status, starts_at, time_zone, candidate_id from loops
              where candidate_id = $1
                and ($2::text is null or mode = $2) and ($3::text is null or template_name = $3)
                and ($4::text is null or team = $4)
                and ($5::timestamptz is null or starts_at >= $5) and ($6::timestamptz is null or starts_at < $6)
                and ($7::timestamptz is null or (starts_at, id) < ($7, $8))
              order by starts_at desc, id desc
              limit $9)
             union
             (select x.id, x.template_name, x.team, x.mode, x.status, x.starts_at, x.time_zone, x.candidate_id
              from loops x
              where x.id in (select loop_id from rounds where interviewer_id = $1)
                and ($2::text is null or x.mode = $2) and ($3::text is null or x.template_name = $3)
                and ($4::text is null or x.team = $4)
                and ($5::timestamptz is null or x.starts_at >= $5) and ($6::timestamptz is null or x.starts_at < $6)
                and ($7::timestamptz is null or (x.starts_at, x.id) < ($7, $8))
              order by x.starts_at desc, x.id desc
              limit $9)
         ) as l
         join users u on u.id = l.candidate_id
         -- Every round's two scorecards in one pass, for the rows shown only.
         cross join lateral (
             select coalesce(array_agg(case when si.status = 'submitted' then si.recommendation end
                                       order by r.position), '{}') as interviewer_recommendations,
                    coalesce(array_agg(case when ss.status = 'submitted' then ss.recommendation end
                                       order by r.position), '{}') as self_recommendations,
                    coalesce(array_agg(si.status order by r.position), '{}') as interviewer_statuses,
                    coalesce(array_agg(ss.status order by r.position), '{}') as self_statuses,
                    coalesce(array_agg(coalesce(r.interviewer_id = $1, false) order by r.position), '{}')
                        as user_interviews,
                    coalesce(bool_or(si.author_id = $1 and si.status = 'submitted'
                                     and si.author_withdrawn_at is null), false) as user_scored
             from rounds r
             left join scorecards si on si.round_id = r.id and si.role = 'interviewer'
             left join scorecards ss on ss.round_id = r.id and ss.role = 'self'
             where r.loop_id = l.id
         ) as per_round
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

/// The version of everything `user`'s history is drawn from (migration 0019's
/// triggers bump it), for keeping the rendered page.
pub async fn version(db: impl PgExecutor<'_>, user: Uuid) -> Result<i64, sqlx::Error> {
    let version =
        sqlx::query_scalar!("select version from history_versions where user_id = $1", user).fetch_optional(db).await?;
    Ok(version.unwrap_or(0))
}

/// How many loops the candidate has had and when the first began: what
/// `ChartGrain::for_history` needs (one index-only scan).
pub async fn chart_shape(
    db: impl PgExecutor<'_>,
    candidate: Uuid,
) -> Result<(i64, Option<DateTime<Utc>>), sqlx::Error> {
    let shape = sqlx::query!(
        r#"select count(*) as "loops!", min(starts_at) as first from loops where candidate_id = $1"#,
        candidate
    )
    .fetch_one(db)
    .await?;
    Ok((shape.loops, shape.first))
}

/// The candidate's score points at `grain`, oldest first: per loop (kept per
/// loop by `refresh_loop_score_points` whenever scores change), or the means of
/// the latest `MAX_POINTS` weeks or months (kept by triggers, migration 0017).
pub async fn score_points(
    db: impl PgExecutor<'_>,
    candidate: Uuid,
    grain: ChartGrain,
) -> Result<Vec<ScorePoint>, sqlx::Error> {
    match grain.bucket() {
        None => {
            sqlx::query_as!(
                ScorePoint,
                r#"select starts_at, series as "series: ScoreSeries", group_key, mean from loop_score_points
                 where candidate_id = $1 order by starts_at, loop_id"#,
                candidate,
            )
            .fetch_all(db)
            .await
        }
        Some(bucket) => {
            sqlx::query_as!(
                ScorePoint,
                r#"select (starts_on::timestamp at time zone 'UTC') as "starts_at!", series as "series: ScoreSeries",
                        group_key, total / points as "mean!"
                 from score_buckets
                 where candidate_id = $1 and grain = $2
                   and starts_on >= (select max(starts_on) from score_buckets where candidate_id = $1 and grain = $2)
                                    - case $2 when 'week' then interval '1 week' else interval '1 month' end * $3
                 order by starts_on"#,
                candidate,
                bucket,
                // The latest bucket and the MAX_POINTS - 1 before it.
                (progress::MAX_POINTS - 1) as f64,
            )
            .fetch_all(db)
            .await
        }
    }
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
    pub mode: LoopMode,
    /// Each scorecard's status (none where not begun) and mean assessed score;
    /// which one the candidate may read is the domain's rule.
    pub interviewer_status: Option<CardStatus>,
    pub interviewer_mean: Option<f64>,
    pub self_status: Option<CardStatus>,
    pub self_mean: Option<f64>,
}

impl Attempt {
    /// The deciding scorecard's mean, if the candidate may read it (blind scoring).
    pub fn mean_score(&self) -> Option<f64> {
        let deciding = visibility::deciding_card(self.mode);
        let stage = RoundStage { interviewer: self.interviewer_status, self_assessment: self.self_status };
        if !visibility::may_read_card(Viewer::Candidate, deciding, stage) {
            return None;
        }
        match deciding {
            CardRole::Interviewer => self.interviewer_mean,
            CardRole::SelfAssessment => self.self_mean,
        }
    }
}

/// A question the candidate has had, with how many times (rounds that ended).
#[derive(Debug, Clone)]
pub struct QuestionHad {
    pub slug: String,
    pub title: String,
    pub kind: RoundKind,
    pub attempts: i64,
    pub last_at: DateTime<Utc>,
    /// How many questions the candidate has had in all, for paging.
    pub total: i64,
}

/// The questions the candidate has had, the most recently had first, a page at a time.
pub async fn questions_had(
    db: impl PgExecutor<'_>,
    candidate: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Vec<QuestionHad>, sqlx::Error> {
    sqlx::query_as!(
        QuestionHad,
        r#"select q.slug, q.title, q.kind as "kind: RoundKind", count(*) as "attempts!",
                max(l.starts_at) as "last_at!", count(*) over () as "total!"
         from loops l
         join rounds r on r.loop_id = l.id and r.timer_state = 'ended'
         join round_questions rq on rq.round_id = r.id
         join questions q on q.id = rq.question_id
         where l.candidate_id = $1
         group by q.id
         order by max(l.starts_at) desc, q.slug
         limit $2 offset $3"#,
        candidate,
        limit,
        offset,
    )
    .fetch_all(db)
    .await
}

/// The candidate's attempts at the questions `slugs`, newest first, at most `per_question` of each.
pub async fn attempts(
    db: impl PgExecutor<'_>,
    candidate: Uuid,
    slugs: &[String],
    per_question: i64,
) -> Result<Vec<Attempt>, sqlx::Error> {
    // Scores are looked up for the rows shown only, after the cut per question.
    sqlx::query_as!(
        Attempt,
        r#"select shown.slug as "slug!", shown.title as "title!", shown.kind as "kind!: RoundKind",
                shown.loop_id as "loop_id!", shown.round_id as "round_id!", shown.starts_at as "starts_at!",
                shown.elapsed_ms as "elapsed_ms!", shown.allowed_ms as "allowed_ms!", shown.mode as "mode!: LoopMode",
                (select s.status from scorecards s where s.round_id = shown.round_id and s.role = 'interviewer')
                    as "interviewer_status: CardStatus",
                (select avg(cs.score)::float8 from scorecards s
                 join criterion_scores cs on cs.scorecard_id = s.id and cs.score is not null
                 where s.round_id = shown.round_id and s.role = 'interviewer' and s.status = 'submitted')
                    as interviewer_mean,
                (select s.status from scorecards s where s.round_id = shown.round_id and s.role = 'self')
                    as "self_status: CardStatus",
                (select avg(cs.score)::float8 from scorecards s
                 join criterion_scores cs on cs.scorecard_id = s.id and cs.score is not null
                 where s.round_id = shown.round_id and s.role = 'self' and s.status = 'submitted') as self_mean
         from (select q.slug, q.title, q.kind, l.id as loop_id, r.id as round_id, l.starts_at, l.mode, r.elapsed_ms,
                      (r.planned_minutes * 60000 + r.extension_seconds * 1000)::bigint as allowed_ms,
                      row_number() over (partition by q.id order by l.starts_at desc) as nth
               from loops l
               join rounds r on r.loop_id = l.id and r.timer_state = 'ended'
               join round_questions rq on rq.round_id = r.id
               join questions q on q.id = rq.question_id
               where l.candidate_id = $1 and q.slug = any($2)) as shown
         where shown.nth <= $3
         order by shown.slug, shown.starts_at desc"#,
        candidate,
        slugs,
        per_question,
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
