//! The database boundary: stored states decode into the domain's types or
//! fail (never a silent default).

use mockloop::domain::Team;
use mockloop::domain::timer::TimerState;

use crate::support::db::TestDb;

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
