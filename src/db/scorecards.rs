//! Scorecards: an assessor's scores per criterion, recommendation and notes;
//! drafts autosave, submission locks, later edits are kept as amendments.

use sqlx::PgExecutor;
use uuid::Uuid;

/// "draft" or "submitted" for the round's scorecard in `role`, if one exists.
pub async fn status(db: impl PgExecutor<'_>, round_id: Uuid, role: &str) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("select status from scorecards where round_id = $1 and role = $2")
        .bind(round_id)
        .bind(role)
        .fetch_optional(db)
        .await
}
