//! The interviewer's time-stamped markers in a round.

use sqlx::PgExecutor;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct Marker {
    /// Time on the round's clock when it was dropped.
    pub round_elapsed_ms: i64,
    pub label: String,
}

pub async fn count(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar!(r#"select count(*) as "count!" from round_markers where round_id = $1"#, round_id)
        .fetch_one(db)
        .await
}

pub async fn add(db: impl PgExecutor<'_>, round_id: Uuid, round_elapsed_ms: i64, label: &str) -> Result<(), sqlx::Error> {
    sqlx::query!(
        "insert into round_markers (round_id, round_elapsed_ms, label) values ($1, $2, $3)",
        round_id,
        round_elapsed_ms,
        label,
    )
    .execute(db)
    .await?;
    Ok(())
}

/// The round's markers in the order of its clock.
pub async fn for_round(db: impl PgExecutor<'_>, round_id: Uuid) -> Result<Vec<Marker>, sqlx::Error> {
    sqlx::query_as!(
        Marker,
        "select round_elapsed_ms, label from round_markers where round_id = $1 order by round_elapsed_ms, id",
        round_id,
    )
    .fetch_all(db)
    .await
}
