//! Feedback on a round and on a loop (outcome by rule, pillar chart,
//! exports), and the history of loops with its filters and pagination.

use std::collections::HashSet;

use axum::http::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::loops::{escape_html, id_of, schedule_loop};
use crate::rounds::{run_round, timer};
use crate::scorecards::{criteria_of_round, post_assessment, run_and_assess, scorecard_form};

/// The loop ids listed in the history table, in order.
fn history_ids(body: &str) -> Vec<Uuid> {
    let Some(start) = body.find(r#"id="history-loops""#) else { return Vec::new() };
    let table = &body[start..start + body[start..].find("</table>").expect("table end")];
    table
        .split(r#"<th scope="row"><a href="/loops/"#)
        .skip(1)
        .map(|rest| rest[..36].parse().unwrap_or_else(|_| panic!("a loop id: {rest}")))
        .collect()
}

/// The href of the "Older loops" link, if there is one.
fn older_link(body: &str) -> Option<String> {
    let end = body.find(r#"" rel="next" id="history-older""#)?;
    let start = body[..end].rfind("href=\"")? + "href=\"".len();
    Some(body[start..end].replace("&#38;", "&"))
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
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let round = &rounds[0];
    let scores = ["1", "2", "3", "4"];
    run_and_assess(&app, &cookie, round, &scores, "hire").await;

    let page = app.get(&format!("{round}/feedback"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = page.body;
    let card_at = body.find(r#"id="card-1-self""#).expect("the self-assessment is shown");
    let card = &body[card_at..];
    let criteria = criteria_of_round(&app, round).await;
    for (index, criterion) in criteria.iter().enumerate() {
        let score: usize = scores[index % scores.len()].parse().expect("score");
        let row_at = card.find(&escape_html(&criterion.name)).unwrap_or_else(|| panic!("{} listed", criterion.name));
        let row = &card[row_at..row_at + card[row_at..].find("</tr>").expect("row end")];
        assert!(row.contains(&format!(r#"<span class="score score-{score}">{score}</span>"#)), "{row}");
        assert!(row.contains(&escape_html(&criterion.anchors[score - 1])), "the anchor for {score}: {row}");
        assert!(row.contains(&format!("Evidence for {}", criterion.slug)), "{row}");
        if score < 3 {
            assert!(row.contains(&format!("A 3 looks like: {}", escape_html(&criterion.anchors[2]))), "{row}");
        }
    }
    assert!(card.contains("Hire</span>") && card.contains("Clear reasoning out loud."));
    assert!(body.contains(r#"id="time-summary">Time used 0:0"#), "time used against allowed: {body}");
}

#[tokio::test]
async fn round_feedback_waits_for_the_round_to_end() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("impatient").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    timer(&app, &cookie, &rounds[0], "start").await;
    let response = app.get(&format!("{}/feedback", rounds[0]), Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn loop_feedback_shows_the_outcome_with_its_rule_and_the_pillar_chart() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("debriefed").await;
    let (loop_path, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    run_and_assess(&app, &cookie, &rounds[0], &["3"], "hire").await;
    let criteria = criteria_of_round(&app, &rounds[0]).await.len();

    let page = app.get(&format!("{loop_path}/feedback"), Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let body = page.body;
    assert!(body.contains(r#"id="outcome-decision">Hire</span>"#), "{body}");
    assert!(
        body.contains(r#"id="outcome-rule">No round is a No Hire but only 0 of 1 are Strong Hire"#),
        "the rule that produced it: {body}"
    );
    assert!(!body.contains(r#"id="submitted-count""#), "complete loops show no count");
    let chart_at = body.find(r#"id="pillar-chart""#).expect("pillar chart");
    assert!(body[chart_at..].trim_start_matches(r#"id="pillar-chart">"#).starts_with("<svg"));
    assert!(body.contains("Criteria covered") && body.contains(&format!("<td>{criteria} of {criteria}</td>")));
    assert!(body.contains(r#"id="time-management""#));
    assert!(body.contains(r#"id="export-markdown""#) && body.contains(r#"id="export-json""#));
    assert!(app.get(&loop_path, Some(&cookie)).await.body.contains(r#"id="loop-feedback""#));
}

#[tokio::test]
async fn an_incomplete_loop_is_pending_and_counts_its_submitted_scorecards() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("partway").await;
    let (loop_path, rounds) = schedule_loop(&app, &cookie, "mle-onsite-5").await;
    assert_eq!(rounds.len(), 5);
    run_and_assess(&app, &cookie, &rounds[0], &["4"], "strong_hire").await;
    // A draft in round 2 does not count.
    timer(&app, &cookie, &rounds[1], "start").await;
    let criteria = criteria_of_round(&app, &rounds[1]).await;
    let draft = post_assessment(&app, &cookie, &rounds[1], &scorecard_form(&criteria, &["2"], "no_hire", "save")).await;
    assert_eq!(draft.status, StatusCode::SEE_OTHER);

    let body = app.get(&format!("{loop_path}/feedback"), Some(&cookie)).await.body;
    assert!(body.contains(r#"id="outcome-decision">Pending</span>"#), "{body}");
    assert!(body.contains(r#"id="submitted-count">1 of 5 scorecards submitted</p>"#), "{body}");
    assert!(body.contains("the outcome waits for all of them"));
    assert!(body.contains("<td>Not submitted</td>"));
}

#[tokio::test]
async fn loop_feedback_does_not_reveal_the_questions_of_rounds_not_yet_started() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("peeker").await;
    let (loop_path, rounds) = schedule_loop(&app, &cookie, "mle-onsite-5").await;
    run_round(&app, &cookie, &rounds[0]).await;
    let titles: Vec<String> = sqlx::query_scalar(
        "select q.title from round_questions rq join rounds r on r.id = rq.round_id
         join questions q on q.id = rq.question_id where r.loop_id = $1 order by r.position",
    )
    .bind(id_of(&loop_path))
    .fetch_all(&app.db)
    .await
    .expect("titles");
    assert_eq!(titles.len(), 5);

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
    let (loop_path, rounds) = schedule_loop(&app, &cookie, "mle-onsite-5").await;
    for (index, round) in rounds.iter().enumerate() {
        let (scores, recommendation) = if index == 1 { (["1"], "strong_no_hire") } else { (["4"], "strong_hire") };
        run_and_assess(&app, &cookie, round, &scores, recommendation).await;
    }
    let body = app.get(&format!("{loop_path}/feedback"), Some(&cookie)).await.body;
    assert!(body.contains(r#"id="outcome-decision">No Hire</span>"#), "four Strong Hires do not outweigh it: {body}");
    assert!(body.contains(r#"id="outcome-rule">A Strong No Hire in round 2 caps the loop at No Hire."#), "{body}");
    assert!(!body.contains(r#"id="submitted-count""#));
}

#[tokio::test]
async fn the_debrief_exports_as_markdown_and_json() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("exporter").await;
    let (loop_path, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
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
    let (scheduled, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
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
    assert!(all.body.contains(r#"<td class="outcome-cell">Hire</td>"#), "the scored loop shows its outcome");
    assert!(all.body.contains(r#"<td class="outcome-cell">Not scored yet</td>"#));
    assert!(all.body.contains(r#"id="pillar-progress""#), "a submitted scorecard draws the progress chart");
    assert!(all.body.contains(r#"id="questions-seen""#));

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
    let kept = app.get("/history?mode=peer&team=camera-cv", Some(&cookie)).await.body;
    assert!(
        kept.contains(r#"<option value="peer" selected>"#) && kept.contains(r#"<option value="camera-cv" selected>"#)
    );
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
    assert!(second.body.contains(r#"<a href="/history">← Newest</a>"#));
}

#[tokio::test]
async fn a_completed_loops_feedback_revalidates_until_a_score_changes() {
    let app = TestApp::new().await;
    let request = mockloop::commands::demo_request(2, 2, 7).expect("demo request");
    let mut conn = app.db.acquire().await.expect("connection");
    mockloop::db::demo::generate(&mut conn, &request).await.expect("demo data");
    drop(conn);
    let signed_in = app
        .post_form("/signin", &[("username", "demo-7-1"), ("password", mockloop::commands::DEMO_PASSWORD)], None)
        .await;
    let cookie = signed_in.session_cookie().expect("demo user signs in");
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
    let (loop_path, rounds) = schedule_loop(&app, &cookie, "mle-onsite").await;
    let loop_id = id_of(&loop_path);
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

    let cancelled = app.post_form(&format!("{loop_path}/cancel"), &[], Some(&cookie)).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER, "cancelled: {}", cancelled.body);
    assert_eq!(pillar_means().await, None, "a cancelled loop leaves the history charts");
}
