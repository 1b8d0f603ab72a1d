//! Feedback on a round and on a loop (outcome by rule, pillar chart,
//! exports), and the history of loops with its filters and pagination.

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::support::html::{escape_html, text};
use crate::support::rounds::{run_round, start_round};
use crate::support::scorecards::{criteria_of_round, post_assessment, run_and_assess, scorecard_form};
use crate::support::{LoopBuilder, Page, ScheduledLoop, TestApp, id_of};

/// The loop ids listed in the history table, in order.
fn history_ids(body: &str) -> Vec<Uuid> {
    Page::parse(body).attrs("#history-loops tbody th[scope=row] a", "href").iter().map(|href| id_of(href)).collect()
}

/// The href of the "Older loops" link, if there is one.
fn older_link(body: &str) -> Option<String> {
    Page::parse(body).attr("a#history-older[rel=next]", "href")
}

/// A loop stored directly, without rounds, for history listings.
async fn insert_loop(app: &TestApp, username: &str, template: &str, team: &str, mode: &str, starts_at: &str) -> Uuid {
    sqlx::query_scalar(
        "insert into loops (candidate_id, template_name, team, level, mode, starts_at, time_zone, selection_seed)
         select id, $2, $3, 'senior_staff', $4, $5::timestamptz, 'UTC', 1 from users where username = $1
         returning id",
    )
    .bind(username)
    .bind(template)
    .bind(team)
    .bind(mode)
    .bind(starts_at)
    .fetch_one(&app.db)
    .await
    .expect("loop inserted")
}

#[tokio::test]
async fn round_feedback_shows_each_score_with_its_anchor_and_the_evidence() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("reviewed").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let round = &rounds[0];
    let scores = ["1", "2", "3", "4"];
    run_and_assess(&app, &cookie, round, &scores, "hire").await;

    let page = app.get(&format!("{round}/feedback"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.page();
    let card = page.one("#card-1-self");
    let rows: Vec<_> = page.select("#card-1-self table.scores tbody tr").collect();
    let criteria = criteria_of_round(&app, round).await;
    assert_eq!(rows.len(), criteria.len(), "a row per criterion");
    for (index, criterion) in criteria.iter().enumerate() {
        let score: usize = scores[index % scores.len()].parse().expect("score");
        let row = rows
            .iter()
            .find(|row| text(**row).starts_with(&criterion.name))
            .unwrap_or_else(|| panic!("{} listed", criterion.name));
        let cells: Vec<String> = row.child_elements().map(text).collect();
        assert_eq!(cells[1], score.to_string(), "the score of {}", criterion.name);
        assert!(row.inner_html().contains(&format!(r#"<span class="score score-{score}">"#)), "{cells:?}");
        assert!(cells[2].starts_with(&criterion.anchors[score - 1]), "the anchor for {score}: {cells:?}");
        assert_eq!(cells[3], format!("Evidence for {}", criterion.slug));
        if score < 3 {
            assert!(cells[2].ends_with(&format!("A 3 looks like: {}", criterion.anchors[2])), "{cells:?}");
        }
    }
    let card = text(card);
    assert!(card.contains("Hire") && card.contains("Clear reasoning out loud."), "{card}");
    let time = page.text_of("#time-summary");
    assert!(time.starts_with("Time used 0:0"), "time used against allowed: {time}");
}

#[tokio::test]
async fn round_feedback_waits_for_the_round_to_end() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("impatient").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    start_round(&app, &cookie, &rounds[0]).await;
    let response = app.get(&format!("{}/feedback", rounds[0]), Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn loop_feedback_shows_the_outcome_with_its_rule_and_the_pillar_chart() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("debriefed").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    run_and_assess(&app, &cookie, &rounds[0], &["3"], "hire").await;
    let criteria = criteria_of_round(&app, &rounds[0]).await.len();

    let page = app.get(&format!("{loop_path}/feedback"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let page = page.page();
    assert_eq!(page.text_of("#outcome-decision"), "Hire");
    let rule = page.text_of("#outcome-rule");
    assert!(
        rule.starts_with("No round is a No Hire but only 0 of 1 are Strong Hire"),
        "the rule that produced it: {rule}"
    );
    assert!(!page.has("#submitted-count"), "complete loops show no count");
    assert!(page.has("#pillar-chart > svg:first-child"), "the pillar chart is drawn");
    assert_eq!(page.text_of("#rounds-table thead th:nth-child(4)"), "Criteria covered");
    assert_eq!(page.texts("#rounds-table tbody td")[2], format!("{criteria} of {criteria}"));
    assert!(page.has("#time-management"));
    assert!(page.has("#export-markdown") && page.has("#export-json"));
    assert!(app.get(&loop_path, Some(&cookie)).await.page().has("#loop-feedback"));
}

#[tokio::test]
async fn an_incomplete_loop_is_pending_and_counts_its_submitted_scorecards() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("partway").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("mle-onsite-5").for_user(&cookie).schedule(&app).await;
    assert_eq!(rounds.len(), 5);
    run_and_assess(&app, &cookie, &rounds[0], &["4"], "strong_hire").await;
    // A draft in round 2 does not count.
    start_round(&app, &cookie, &rounds[1]).await;
    let criteria = criteria_of_round(&app, &rounds[1]).await;
    let draft = post_assessment(&app, &cookie, &rounds[1], &scorecard_form(&criteria, &["2"], "no_hire", "save")).await;
    assert_eq!(draft.status, StatusCode::SEE_OTHER);

    let response = app.get(&format!("{loop_path}/feedback"), Some(&cookie)).await;
    let page = response.page();
    assert_eq!(page.text_of("#outcome-decision"), "Pending");
    assert_eq!(page.text_of("#submitted-count"), "1 of 5 scorecards submitted");
    assert!(response.body.contains("the outcome waits for all of them"));
    assert!(page.texts("#rounds-table tbody td").iter().any(|cell| cell == "Not submitted"));
}

#[tokio::test]
async fn loop_feedback_does_not_reveal_the_questions_of_rounds_not_yet_started() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("peeker").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("mle-onsite-5").for_user(&cookie).schedule(&app).await;
    run_round(&app, &cookie, &rounds[0]).await;
    let titles: Vec<String> = sqlx::query_scalar(
        "select q.title from round_questions rq join rounds r on r.id = rq.round_id
         join questions q on q.id = rq.question_id where r.loop_id = $1 order by r.position",
    )
    .bind(id_of(&loop_path))
    .fetch_all(&app.db)
    .await
    .expect("titles");
    assert!(titles.len() > 5, "five rounds, some of several questions: {titles:?}");

    let page = app.get(&format!("{loop_path}/feedback"), Some(&cookie)).await.body;
    assert!(page.contains(&escape_html(&titles[0])), "the ended round's question is listed");
    let json = app.get(&format!("{loop_path}/feedback.json"), Some(&cookie)).await.body;
    let markdown = app.get(&format!("{loop_path}/feedback.md"), Some(&cookie)).await.body;
    for title in &titles[1..] {
        assert!(!page.contains(&escape_html(title)), "{title} stays hidden until its round starts");
        assert!(!json.contains(&serde_json::to_string(title).expect("json")), "{title} is not in the JSON export");
        assert!(!markdown.contains(title.as_str()), "{title} is not in the Markdown export");
    }
}

#[tokio::test]
async fn one_strong_no_hire_caps_the_outcome_at_no_hire() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("capped").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("mle-onsite-5").for_user(&cookie).schedule(&app).await;
    for (index, round) in rounds.iter().enumerate() {
        let (scores, recommendation) = if index == 1 { (["1"], "strong_no_hire") } else { (["4"], "strong_hire") };
        run_and_assess(&app, &cookie, round, &scores, recommendation).await;
    }
    let page = app.get(&format!("{loop_path}/feedback"), Some(&cookie)).await.page();
    assert_eq!(page.text_of("#outcome-decision"), "No Hire", "four Strong Hires do not outweigh it");
    assert!(page.text_of("#outcome-rule").starts_with("A Strong No Hire in round 2 caps the loop at No Hire."));
    assert!(!page.has("#submitted-count"));
}

#[tokio::test]
async fn the_debrief_exports_as_markdown_and_json() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("exporter").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    run_and_assess(&app, &cookie, &rounds[0], &["3", "na"], "hire").await;
    let criteria = criteria_of_round(&app, &rounds[0]).await;

    let markdown = app.get(&format!("{loop_path}/feedback.md"), Some(&cookie)).await;
    assert_eq!(markdown.status, StatusCode::OK);
    assert!(markdown.header("content-type").starts_with("text/markdown"), "{}", markdown.header("content-type"));
    assert!(markdown.body.starts_with("# Loop feedback"), "{}", markdown.body);
    assert!(markdown.body.contains("**Hire**") && markdown.body.contains("## Pillars"));
    assert!(markdown.body.contains(&format!("Evidence for {}", criteria[0].slug)));

    let export = app.get(&format!("{loop_path}/feedback.json"), Some(&cookie)).await;
    assert_eq!(export.status, StatusCode::OK);
    assert!(export.header("content-type").starts_with("application/json"));
    let json: Value = serde_json::from_str(&export.body).expect("the export is JSON");
    assert_eq!(json["outcome"], "Hire");
    assert_eq!((json["submitted"].as_u64(), json["total"].as_u64()), (Some(1), Some(1)));
    let pillars = json["pillars"].as_array().expect("pillars");
    assert_eq!(pillars.len(), 4);
    let rounds_json = json["rounds"].as_array().expect("rounds");
    assert_eq!(rounds_json.len(), 1);
    let assessed = criteria.len().div_ceil(2) as u64;
    assert_eq!(rounds_json[0]["assessed"].as_u64(), Some(assessed), "not assessed criteria are not covered");
    assert_eq!(rounds_json[0]["criteria"].as_u64(), Some(criteria.len() as u64));
    assert_eq!(rounds_json[0]["cards"][0]["criteria"].as_array().map(Vec::len), Some(criteria.len()));
}

#[tokio::test]
async fn history_lists_loops_newest_first_and_filters_them() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("historian").await;
    app.sign_up("someone").await;
    let ScheduledLoop { path: scheduled, rounds, .. } =
        LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    run_and_assess(&app, &cookie, &rounds[0], &["3"], "hire").await;
    let newest = id_of(&scheduled);
    let a =
        insert_loop(&app, "historian", "MLE onsite (6 rounds)", "genai-llm", "self_timed", "2026-01-10T09:00Z").await;
    let b =
        insert_loop(&app, "historian", "Technical phone screen", "camera-cv", "self_timed", "2026-02-10T09:00Z").await;
    let c = insert_loop(&app, "historian", "MLE onsite (6 rounds)", "camera-cv", "peer", "2026-03-10T09:00Z").await;
    let d =
        insert_loop(&app, "historian", "Technical phone screen", "genai-llm", "self_timed", "2025-12-31T23:30Z").await;
    let theirs = insert_loop(&app, "someone", "MLE onsite (6 rounds)", "camera-cv", "peer", "2026-03-11T09:00Z").await;

    let all = app.get("/history", Some(&cookie)).await;
    assert_eq!(all.status, StatusCode::OK);
    assert_eq!(history_ids(&all.body), [newest, c, b, a, d], "newest first, only this user's");
    assert!(!all.body.contains(&theirs.to_string()));
    let page = all.page();
    let outcomes = page.texts("#history-loops td.outcome-cell");
    assert!(outcomes.iter().any(|o| o == "Hire"), "the scored loop shows its outcome: {outcomes:?}");
    assert!(outcomes.iter().any(|o| o == "Not scored yet"), "{outcomes:?}");
    assert!(page.has("#pillar-progress"), "a submitted scorecard draws the progress chart");
    assert!(page.has("#current-levels"), "where the user stands now heads the page");
    assert!(page.has("#questions-had-link"));
    let questions = app.get("/history/questions", Some(&cookie)).await.page();
    assert!(questions.has("#questions-seen"), "the questions had have a page of their own");

    let cases: [(&str, Vec<Uuid>); 7] = [
        ("mode=peer", vec![c]),
        ("mode=self_timed", vec![newest, b, a, d]),
        ("team=camera-cv", vec![c, b]),
        ("template=Technical+phone+screen", vec![newest, b, d]),
        ("from=2026-01-01&to=2026-02-10", vec![b, a]),
        ("team=genai-llm&mode=self_timed&to=2026-01-31", vec![a, d]),
        ("from=2027-01-01", vec![]),
    ];
    for (query, expected) in cases {
        let body = app.get(&format!("/history?{query}"), Some(&cookie)).await.body;
        assert_eq!(history_ids(&body), expected, "{query}");
        if expected.is_empty() {
            assert!(body.contains("No loops match these filters."), "{query}");
        }
    }
    let kept = app.get("/history?mode=peer&team=camera-cv", Some(&cookie)).await.page();
    assert!(kept.has("option[value=peer][selected]") && kept.has("option[value=camera-cv][selected]"));
}

#[tokio::test]
async fn history_pages_through_loops_with_a_keyset_cursor_without_overlap() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("prolific").await;
    // 23 loops a day apart, newest first, except that the 20th to 22nd share
    // one start time, so the first page ends in the middle of a tie.
    for index in 0..23 {
        let days_back = if (19..=21).contains(&index) { 19 } else { index };
        let starts_at = (chrono::DateTime::parse_from_rfc3339("2026-06-30T09:00:00Z").expect("date")
            - chrono::Duration::days(days_back))
        .to_rfc3339();
        insert_loop(&app, "prolific", "Technical phone screen", "genai-llm", "self_timed", &starts_at).await;
    }
    let expected: Vec<Uuid> = sqlx::query_scalar("select id from loops order by starts_at desc, id desc")
        .fetch_all(&app.db)
        .await
        .expect("loops");

    let first = app.get("/history?mode=self_timed", Some(&cookie)).await.body;
    let first_ids = history_ids(&first);
    assert_eq!(first_ids.len(), 20);
    assert_eq!(first_ids, expected[..20]);
    let older = older_link(&first).expect("an Older loops link");
    assert!(older.starts_with("/history?mode=self_timed&after="), "the filter is kept: {older}");

    let second = app.get(&older, Some(&cookie)).await;
    assert_eq!(second.status, StatusCode::OK);
    let second_ids = history_ids(&second.body);
    assert_eq!(second_ids, expected[20..], "the remaining 3, in order");
    let overlap: HashSet<&Uuid> = first_ids.iter().filter(|id| second_ids.contains(id)).collect();
    assert!(overlap.is_empty(), "{overlap:?}");
    assert!(older_link(&second.body).is_none(), "no older page after the last");
    assert!(second.page().texts("a[href='/history']").iter().any(|link| link == "← Newest"));
}

#[tokio::test]
async fn a_completed_loops_feedback_revalidates_until_a_score_changes() {
    let app = TestApp::new().await;
    let request = mockloop::commands::demo_request(2, 2, 7).expect("demo request");
    let mut conn = app.db.acquire().await.expect("connection");
    mockloop::db::demo::generate(&mut conn, &request, &mut |_| {}).await.expect("demo data");
    drop(conn);
    let cookie = app.sign_in_with("demo-7-1", mockloop::commands::DEMO_PASSWORD).await;
    let loop_id: Uuid = sqlx::query_scalar(
        "select l.id from loops l join users u on u.id = l.candidate_id where u.username = 'demo-7-1' limit 1",
    )
    .fetch_one(&app.db)
    .await
    .expect("a demo loop");
    let path = format!("/loops/{loop_id}/feedback");

    let first = app.get(&path, Some(&cookie)).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.header("etag").to_owned();
    assert!(etag.starts_with('"') && etag.len() > 20, "a completed loop's feedback has an ETag: {etag:?}");
    assert_eq!(first.header("cache-control"), "private, no-cache");

    let revisit = |etag: String| {
        let app = &app;
        let path = &path;
        let cookie = &cookie;
        async move {
            let request = axum::http::Request::get(path.as_str())
                .header("cookie", cookie.as_str())
                .header("if-none-match", etag)
                .body(axum::body::Body::empty())
                .expect("request");
            app.send(request).await
        }
    };
    let unchanged = revisit(etag.clone()).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED, "nothing changed");
    assert!(unchanged.body.is_empty());

    // An amendment moves the scorecard's updated_at: the page must be sent again.
    sqlx::query(
        "update scorecards set summary = summary || ' (amended)'
         where round_id in (select id from rounds where loop_id = $1)",
    )
    .bind(loop_id)
    .execute(&app.db)
    .await
    .expect("amend");
    let changed = revisit(etag.clone()).await;
    assert_eq!(changed.status, StatusCode::OK, "a changed scorecard sends the page again");
    assert_ne!(changed.header("etag"), etag);
    assert!(changed.body.contains("(amended)"));

    // Someone else gets no validator for a loop they take no part in, just the refusal.
    let stranger = app.sign_up("stranger-etag").await;
    assert_eq!(app.get(&path, Some(&stranger)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn history_score_points_follow_submission_amendment_and_cancellation() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("pointed").await;
    // Six rounds: with one assessed, the loop is still in progress and can be cancelled.
    let ScheduledLoop { path: loop_path, id: loop_id, rounds, .. } =
        LoopBuilder::self_timed("mle-onsite").for_user(&cookie).schedule(&app).await;
    let pillar_means = || async {
        sqlx::query_scalar::<_, f64>("select avg(mean) from loop_score_points where loop_id = $1 and series = 'pillar'")
            .bind(loop_id)
            .fetch_one(&app.db)
            .await
            .ok()
    };
    assert_eq!(pillar_means().await, None, "no points before anything is submitted");

    run_and_assess(&app, &cookie, &rounds[0], &["2"], "no_hire").await;
    assert_eq!(pillar_means().await, Some(2.0), "a submitted self-assessment is charted");

    let criteria = criteria_of_round(&app, &rounds[0]).await;
    let amended = scorecard_form(&criteria, &["4"], "strong_hire", "amend");
    let response = post_assessment(&app, &cookie, &rounds[0], &amended).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "amended: {}", response.body);
    assert_eq!(pillar_means().await, Some(4.0), "an amendment moves the chart");
    let monthly_mean: f64 = sqlx::query_scalar(
        "select sum(total) / sum(points) from score_buckets b join users u on u.id = b.candidate_id
         where u.username = 'pointed' and grain = 'month' and series = 'pillar'",
    )
    .fetch_one(&app.db)
    .await
    .expect("monthly bucket");
    assert!((monthly_mean - 4.0).abs() < 1e-9, "the amendment replaced the bucket's points: {monthly_mean}");

    let cancelled = app.post_form(&format!("{loop_path}/cancel"), &[], Some(&cookie)).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER, "cancelled: {}", cancelled.body);
    assert_eq!(pillar_means().await, None, "a cancelled loop leaves the history charts");
    let (points, bucketed): (i64, Option<i64>) = sqlx::query_as(
        "select (select count(*) from loop_score_points p join users u on u.id = p.candidate_id where u.username = $1),
                (select sum(points) from score_buckets b join users u on u.id = b.candidate_id
                 where u.username = $1 and grain = 'week')",
    )
    .bind("pointed")
    .fetch_one(&app.db)
    .await
    .expect("bucket counts");
    assert_eq!((points, bucketed), (0, None), "the weekly buckets follow the points out");
}

#[tokio::test]
async fn loop_feedback_gives_the_loops_time_in_the_zone_it_was_scheduled_in() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("kolkata").await;
    let scheduled =
        LoopBuilder::self_timed("phone-screen").for_user(&cookie).time_zone("Asia/Kolkata").schedule(&app).await;
    let starts_at: chrono::DateTime<chrono::Utc> = sqlx::query_scalar("select starts_at from loops where id = $1")
        .bind(id_of(&scheduled.path))
        .fetch_one(&app.db)
        .await
        .expect("the loop");
    let local = starts_at.with_timezone(&chrono_tz::Asia::Kolkata).format("%H:%M").to_string();
    let page = app.get(&format!("{}/feedback", scheduled.path), Some(&cookie)).await.page();
    let header = page.text_of("main > p.meta");
    assert!(header.contains(&format!("{local} (Asia/Kolkata)")), "{header}");
    assert!(!header.contains("UTC"), "{header}");
}
