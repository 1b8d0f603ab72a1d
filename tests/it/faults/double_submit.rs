//! Double submits: twenty identical posts in parallel make one row.

use std::collections::HashSet;
use std::sync::Arc;

use axum::http::StatusCode;
use uuid::Uuid;

use super::writers::scorecard_body;
use crate::support::scorecards::pairs;
use crate::support::{LoopBuilder, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_identical_parallel_posts_create_one_row() {
    let app = Arc::new(TestApp::new().await);
    let cookie = app.sign_up("doubleposter").await;
    // One form, one request key: as a browser resends it on every click.
    let schedule = LoopBuilder::self_timed("phone-screen").team("infra-data").level("junior_mid").time_zone("UTC");
    let loop_form: Vec<(String, String)> =
        schedule.form().iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
    let posts = (0..20).map(|_| {
        let (app, cookie, form) = (app.clone(), cookie.clone(), loop_form.clone());
        tokio::spawn(async move { app.post_form("/loops", &pairs(&form), Some(&cookie)).await })
    });
    let mut locations = HashSet::new();
    for post in futures_util::future::join_all(posts).await {
        let response = post.expect("join");
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
        locations.insert(response.header("location").to_owned());
    }
    let loops = app.count("select count(*) from loops").await;
    assert_eq!((loops, locations.len()), (1, 1), "one loop, and every post leads to it");
    assert_eq!(app.count("select count(*) from rounds").await, 1);

    let round: Uuid = sqlx::query_scalar("select id from rounds").fetch_one(&app.db).await.expect("round");
    let started = app.post_json(&format!("/rounds/{round}/timer"), &[("action", "start")], Some(&cookie)).await;
    assert_eq!(started.status, StatusCode::OK);
    let criteria: Vec<Uuid> = sqlx::query_scalar(
        "select c.id from rubric_criteria c join rubrics r on r.id = c.rubric_id
         where r.kind = 'coding' and not c.retired",
    )
    .fetch_all(&app.db)
    .await
    .expect("criteria");
    let mut figures = Vec::new();
    for intent in ["submit", "amend"] {
        let body: Vec<(String, String)> =
            serde_urlencoded::from_str(&scorecard_body(&criteria, &format!("double clicked {intent}"), intent))
                .expect("form");
        let posts = (0..20).map(|_| {
            let (app, cookie, body) = (app.clone(), cookie.clone(), body.clone());
            tokio::spawn(async move {
                app.post_form(&format!("/rounds/{round}/assessment"), &pairs(&body), Some(&cookie)).await
            })
        });
        let mut accepted = 0;
        for post in futures_util::future::join_all(posts).await {
            let response = post.expect("join");
            assert!(
                [StatusCode::SEE_OTHER, StatusCode::CONFLICT].contains(&response.status),
                "{intent}: {} {}",
                response.status,
                response.body
            );
            accepted += usize::from(response.status == StatusCode::SEE_OTHER);
        }
        figures.push(format!("{intent}: {accepted} accepted"));
    }
    let cards = app.count("select count(*) from scorecards").await;
    let scores = app.count("select count(*) from criterion_scores").await;
    let amendments = app.count("select count(*) from scorecard_amendments").await;
    println!(
        "FIGURE faults.double_submit: 20 parallel identical posts each of create-loop, submit-scorecard and \
         amend-scorecard: {loops} loop, {cards} scorecard, {amendments} amendment ({})",
        figures.join(", ")
    );
    assert_eq!(cards, 1, "one scorecard");
    assert_eq!(scores as usize, criteria.len(), "one score per criterion");
    assert_eq!(amendments, 1, "an identical amendment sent 20 times is recorded once");
}
