//! The database boundary: stored states decode into the domain's types or
//! fail (never a silent default), and the offline query data the build checks
//! SQL against (`.sqlx/`) still describes the migrated schema.

use mockloop::domain::Team;
use mockloop::domain::timer::TimerState;
use sqlx::Executor;

use crate::support::db::{TestDb, repo_path};

#[tokio::test]
async fn a_state_the_code_does_not_know_is_a_decode_error_not_a_default() {
    let db = TestDb::new().await;
    let known: TimerState = sqlx::query_scalar("select 'paused'::text").fetch_one(&db.pool).await.expect("decodes");
    assert_eq!(known, TimerState::Paused);
    let unknown = sqlx::query_scalar::<_, TimerState>("select 'frozen'::text").fetch_one(&db.pool).await;
    assert!(matches!(unknown, Err(sqlx::Error::ColumnDecode { .. })), "{unknown:?}");

    let teams: Vec<Team> =
        sqlx::query_scalar("select array['camera-cv', 'siri-nlp']").fetch_one(&db.pool).await.expect("decodes");
    assert_eq!(teams, [Team::CameraCv, Team::SiriNlp]);
    let unknown = sqlx::query_scalar::<_, Vec<Team>>("select array['camera-cv', 'robotics']").fetch_one(&db.pool).await;
    assert!(matches!(unknown, Err(sqlx::Error::ColumnDecode { .. })), "{unknown:?}");
}

/// The build checks each `query!` against its file in `.sqlx/`, not against a
/// database; this is what notices that a migration has since changed what a
/// file describes. Each stored query is described afresh by the migrated test
/// database (sqlx's `Executor::describe`, as `cargo sqlx prepare` does) and
/// must match: parameter types, column names and types, and nullability.
#[tokio::test]
async fn the_offline_query_data_describes_the_migrated_schema() {
    let mut files: Vec<_> = std::fs::read_dir(repo_path(".sqlx"))
        .expect(".sqlx/ exists")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.file_name().is_some_and(|name| name.to_string_lossy().starts_with("query-")))
        .collect();
    files.sort();
    assert!(files.len() >= 100, "only {} queries in .sqlx/: run scripts/sqlx-prepare", files.len());

    let db = TestDb::new().await;
    let mut conn = db.pool.acquire().await.expect("connection");
    let mut stale = Vec::new();
    for file in &files {
        let name = file.file_name().unwrap_or_default().to_string_lossy().into_owned();
        let stored: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(file).expect("readable")).expect("JSON");
        let query = stored["query"].as_str().expect("a query");
        let described = match conn.describe(query).await {
            Ok(described) => serde_json::to_value(&described).expect("serialisable"),
            Err(error) => {
                stale.push(format!("{name}: the database refuses it: {error}\n  {query}"));
                continue;
            }
        };
        for part in ["parameters", "columns", "nullable"] {
            if stored["describe"][part] != described[part] {
                stale.push(format!(
                    "{name}: {part} differ\n  stored: {}\n  now:    {}\n  {query}",
                    stored["describe"][part], described[part]
                ));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "{} of {} queries in .sqlx/ no longer match the migrated schema; run scripts/sqlx-prepare \
         (and check the code still reads what the migration changed):\n{}",
        stale.len(),
        files.len(),
        stale.join("\n")
    );
}
