//! What the home page is kept rendered under (`web::render_cache`).

use sqlx::PgExecutor;
use uuid::Uuid;

/// The person's history version and home version (migrations 0019 and 0021):
/// between them, they change whenever something home shows of theirs does.
#[derive(Debug, Clone, Copy)]
pub struct HomeVersions {
    pub history: i64,
    pub home: i64,
}

pub async fn versions(db: impl PgExecutor<'_>, user: Uuid) -> Result<HomeVersions, sqlx::Error> {
    sqlx::query_as!(
        HomeVersions,
        r#"select coalesce((select version from history_versions where user_id = $1), 0) as "history!",
                  coalesce((select version from home_versions where user_id = $1), 0) as "home!""#,
        user,
    )
    .fetch_one(db)
    .await
}
