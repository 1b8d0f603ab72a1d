//! The private calendar feed.

use axum::http::StatusCode;

use crate::support::{LoopBuilder, TestApp};

/// Schedules a self-timed loop of `template` at 09:30 in New York for `cookie`.
async fn schedule(app: &TestApp, cookie: &str, template: &str) {
    LoopBuilder::self_timed(template)
        .team("infra-data")
        .time_zone("America/New_York")
        .break_minutes("15")
        .for_user(cookie)
        .schedule(app)
        .await;
}

/// The feed path from the page that shows it once.
fn feed_path(body: &str) -> String {
    let start = body.find("/calendar/feed/").expect("the new address is shown");
    body[start..].split('"').next().expect("url").to_owned()
}

#[tokio::test]
async fn the_feed_lists_only_the_owners_rounds_and_can_be_replaced_or_revoked() {
    let app = TestApp::new().await;
    let owner = app.sign_up("subscriber").await;
    let other = app.sign_up("neighbour").await;
    schedule(&app, &owner, "mle-onsite-5").await;
    schedule(&app, &other, "phone-screen").await;

    let created = app.post_form("/calendar/feed", &[], Some(&owner)).await;
    assert_eq!(created.status, StatusCode::OK);
    let path = feed_path(&created.body);
    assert!(!app.get("/calendar", Some(&owner)).await.body.contains(&path), "the address is shown only once");

    let feed = app.get(&path, None).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(feed.header("content-type").starts_with("text/calendar"));
    assert_eq!(feed.body.matches("BEGIN:VEVENT").count(), 5, "the owner's five rounds, not the neighbour's");
    assert!(feed.body.contains("DTSTART:20261201T143000Z"), "09:30 in New York is 14:30 UTC");

    let replaced = app.post_form("/calendar/feed", &[], Some(&owner)).await;
    let new_path = feed_path(&replaced.body);
    assert_ne!(new_path, path);
    assert_eq!(app.get(&path, None).await.status, StatusCode::NOT_FOUND, "the old address stops working");
    assert_eq!(app.get(&new_path, None).await.status, StatusCode::OK);

    app.post_form("/calendar/feed/revoke", &[], Some(&owner)).await;
    assert_eq!(app.get(&new_path, None).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/calendar/feed/not-a-token.ics", None).await.status, StatusCode::NOT_FOUND);
}
