//! The candidate's test runs in a round, as their browser reported them.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use sqlx::types::Json;
use uuid::Uuid;

use crate::domain::code_runs::{CaseResult, RunOutcome, RunPoint};
use crate::domain::question::CodeLanguage;

/// A run to keep.
pub struct NewRun<'a> {
    pub round_id: Uuid,
    pub round_elapsed_ms: i64,
    pub question_position: i16,
    pub language: CodeLanguage,
    pub outcome: RunOutcome,
    pub code_version: i32,
    pub passed: i32,
    pub total: i32,
    pub duration_ms: i64,
    pub message: &'a str,
    pub results: &'a [CaseResult],
}

/// A kept run with its case results, as the round page shows the last one.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StoredRun {
    pub ran_at: DateTime<Utc>,
    pub round_elapsed_ms: i64,
    pub question_position: i16,
    pub outcome: RunOutcome,
    pub passed: i32,
    pub total: i32,
    pub duration_ms: i64,
    pub message: String,
    pub results: Json<Vec<CaseResult>>,
}

pub async fn count(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "count!" from code_runs where round_id = $1"#, round_id)
        .fetch_one(db)
        .await
}

pub async fn record(db: impl PgExecutor<'_>, run: NewRun<'_>) -> Result<DateTime<Utc>, sqlx::Error> {
    sqlx::query_scalar!(
        "insert into code_runs (round_id, round_elapsed_ms, question_position, language, outcome, code_version,
                                passed, total, duration_ms, message, results)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         returning ran_at",
        run.round_id,
        run.round_elapsed_ms,
        run.question_position,
        run.language as CodeLanguage,
        run.outcome as RunOutcome,
        run.code_version,
        run.passed,
        run.total,
        run.duration_ms,
        run.message,
        Json(run.results) as _,
    )
    .fetch_one(db)
    .await
}

pub async fn last(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<Option<StoredRun>, sqlx::Error> {
    sqlx::query_as!(
        StoredRun,
        r#"select ran_at, round_elapsed_ms, question_position, outcome as "outcome: RunOutcome", passed, total,
                  duration_ms, message, results as "results: Json<Vec<CaseResult>>"
           from code_runs where round_id = $1 order by id desc limit 1"#,
        round_id,
    )
    .fetch_optional(db)
    .await
}

/// Every run of the round, oldest first, without the case results.
pub async fn points(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<Vec<RunPoint>, sqlx::Error> {
    sqlx::query_as!(
        RunPoint,
        r#"select round_elapsed_ms, outcome as "outcome: RunOutcome", passed, total
           from code_runs where round_id = $1 order by id"#,
        round_id,
    )
    .fetch_all(db)
    .await
}

/// Every run of every round of a loop, oldest first, by round position.
pub async fn points_for_loop(db: impl PgExecutor<'_>, loop_id: Uuid) -> Result<Vec<(i16, RunPoint)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select r.position, c.round_elapsed_ms, c.outcome as "outcome: RunOutcome", c.passed, c.total
           from code_runs c join rounds r on r.id = c.round_id
           where r.loop_id = $1 order by c.id"#,
        loop_id,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let point =
                RunPoint { round_elapsed_ms: row.round_elapsed_ms, outcome: row.outcome, passed: row.passed, total: row.total };
            (row.position, point)
        })
        .collect())
}
