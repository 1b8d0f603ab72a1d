//! The private calendar feed.

use axum::http::StatusCode;

use crate::helpers::TestApp;

async fn schedule(app: &TestApp, cookie: &str, template: &str, key: &str) -> String {
    let response = app
        .post_form(
            "/loops",
            &[
                ("template", template),
                ("team", "infra-data"),
                ("level", "senior_staff"),
                ("mode", "self_timed"),
                ("starts_at", "2026-12-01T09:30"),
                ("time_zone", "America/New_York"),
                ("break_minutes", "15"),
                ("request_key", key),
            ],
            Some(cookie),
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    response.header("location").to_owned()
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
    schedule(&app, &owner, "mle-onsite-5", "9b0d6f1e-1c57-4f51-9a38-5f0f64b0a001").await;
    schedule(&app, &other, "phone-screen", "9b0d6f1e-1c57-4f51-9a38-5f0f64b0a002").await;

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
