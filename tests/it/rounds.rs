//! A round: the server-owned timer (transitions, log, milestones, overtime,
//! per-question budgets) and the candidate's autosaved, versioned notes.

use axum::http::StatusCode;
use serde_json::Value;

use crate::helpers::{TestApp, TestResponse};
use crate::loops::{escape_html, id_of, schedule_loop};

const JSON: [(&str, &str); 2] = [("sec-fetch-site", "same-origin"), ("accept", "application/json")];

/// Sends a timer `action` as the page's script does, and returns the status and JSON answer.
pub(crate) async fn timer(app: &TestApp, cookie: &str, round: &str, action: &str) -> (StatusCode, Value) {
    let response = app.post_form_with(&format!("{round}/timer"), &[("action", action)], Some(cookie), &JSON).await;
    let json = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    (response.status, json)
}

/// Starts and ends a round, leaving its time used as recorded.
pub(crate) async fn run_round(app: &TestApp, cookie: &str, round: &str) {
    for action in ["start", "end"] {
        let (status, json) = timer(app, cookie, round, action).await;
        assert_eq!(status, StatusCode::OK, "{action}: {json}");
    }
}

/// Pretends a running round started `minutes` earlier than it did.
pub(crate) async fn rewind(app: &TestApp, round: &str, minutes: i32) {
    let moved = sqlx::query(
        "update rounds set running_since = running_since - make_interval(mins => $2),
                           started_at = started_at - make_interval(mins => $2)
         where id = $1 and timer_state = 'running'",
    )
    .bind(id_of(round))
    .bind(minutes)
    .execute(&app.db)
    .await
    .expect("rewind");
    assert_eq!(moved.rows_affected(), 1, "the round is running");
}

async fn save_notes(app: &TestApp, cookie: &str, round: &str, body: &str, base_version: i32) -> TestResponse {
    let version = base_version.to_string();
    app.post_form_with(&format!("{round}/notes"), &[("body", body), ("base_version", &version)], Some(cookie), &JSON)
        .await
}

fn json(response: &TestResponse) -> Value {
    serde_json::from_str(&response.body).unwrap_or_else(|_| panic!("JSON: {}", response.body))
}

/// The number in `data-remaining-ms` on a round page.
fn page_remaining_ms(body: &str) -> i64 {
    body.split(r#"data-remaining-ms=""#)
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("data-remaining-ms on the page: {body}"))
}

/// The text of the `id="clock"` element.
fn clock_text(body: &str) -> &str {
    let at = body.find(r#"id="clock""#).expect("a clock");
    let start = at + body[at..].find('>').expect("tag end") + 1;
    &body[start..start + body[start..].find('<').expect("text end")]
}

async fn timer_actions(app: &TestApp, round: &str) -> Vec<(String, Option<i32>)> {
    sqlx::query_as("select action, seconds from timer_events where round_id = $1 order by id")
        .bind(id_of(round))
        .fetch_all(&app.db)
        .await
        .expect("timer events")
}

#[tokio::test]
async fn starting_the_round_runs_the_clock_and_reveals_the_question() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("runner").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let round = &rounds[0];
    let title: String = sqlx::query_scalar(
        "select q.title from round_questions rq join questions q on q.id = rq.question_id where rq.round_id = $1",
    )
    .bind(id_of(round))
    .fetch_one(&app.db)
    .await
    .expect("question");

    let before = app.get(round, Some(&cookie)).await.body;
    assert!(before.contains(r#"id="question-hidden""#));
    assert!(!before.contains(&escape_html(&title)), "the question is hidden before the start");
    assert_eq!(clock_text(&before), "45:00");

    let (status, json) = timer(&app, &cookie, round, "start").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["timer"]["state"], "running");
    assert!(json["error"].is_null());

    let after = app.get(round, Some(&cookie)).await.body;
    assert!(!after.contains(r#"id="question-hidden""#));
    assert!(after.contains(&escape_html(&title)), "the question shows once the round runs");
    assert!(after.contains(r#"data-state="running""#) && after.contains(r#"id="timer-pause""#));
    let state: String =
        sqlx::query_scalar("select status from loops l join rounds r on r.loop_id = l.id where r.id = $1")
            .bind(id_of(round))
            .fetch_one(&app.db)
            .await
            .expect("loop status");
    assert_eq!(state, "in_progress");
}

#[tokio::test]
async fn pause_resume_and_extend_change_the_timer_and_every_action_is_logged() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("pauser").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let round = &rounds[0];

    let (_, started) = timer(&app, &cookie, round, "start").await;
    assert_eq!(started["timer"]["allowed_ms"], 45 * 60_000);
    rewind(&app, round, 10).await;

    let (status, paused) = timer(&app, &cookie, round, "pause").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(paused["timer"]["state"], "paused");
    let banked: i64 = sqlx::query_scalar("select elapsed_ms from rounds where id = $1")
        .bind(id_of(round))
        .fetch_one(&app.db)
        .await
        .expect("elapsed");
    assert!((600_000..602_000).contains(&banked), "ten minutes banked at the pause: {banked}");
    let remaining_paused = paused["timer"]["remaining_ms"].as_i64().expect("remaining");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let still: Value = json(&app.get(&format!("{round}/state"), Some(&cookie)).await);
    assert_eq!(still["remaining_ms"].as_i64(), Some(remaining_paused), "a paused clock stands still");

    let (_, resumed) = timer(&app, &cookie, round, "resume").await;
    assert_eq!(resumed["timer"]["state"], "running");

    let (status, extended) = timer(&app, &cookie, round, "extend").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(extended["timer"]["allowed_ms"], 50 * 60_000, "five more minutes");
    let remaining = extended["timer"]["remaining_ms"].as_i64().expect("remaining");
    assert!((40 * 60_000 - 2_000..=40 * 60_000).contains(&remaining), "{remaining}");

    assert_eq!(
        timer_actions(&app, round).await,
        [
            ("start".to_owned(), None),
            ("pause".to_owned(), None),
            ("resume".to_owned(), None),
            ("extend".to_owned(), Some(300)),
        ]
    );
    let version: i32 = sqlx::query_scalar("select timer_version from rounds where id = $1")
        .bind(id_of(round))
        .fetch_one(&app.db)
        .await
        .expect("version");
    assert_eq!(version, 4);
}

#[tokio::test]
async fn the_clock_warns_at_one_minute_and_shows_overtime_past_zero() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("clockwatcher").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let round = &rounds[0];
    timer(&app, &cookie, round, "start").await;

    rewind(&app, round, 44).await;
    let state = json(&app.get(&format!("{round}/state"), Some(&cookie)).await);
    let remaining = state["remaining_ms"].as_i64().expect("remaining");
    assert!((58_000..=60_000).contains(&remaining), "about a minute left: {remaining}");
    assert_eq!(state["milestone"], "one-minute");
    let page = app.get(round, Some(&cookie)).await.body;
    assert!(page.contains(r#"class="clock milestone-one-minute""#));
    assert!(["1:00", "0:59"].contains(&clock_text(&page)), "{}", clock_text(&page));

    rewind(&app, round, 6).await;
    let state = json(&app.get(&format!("{round}/state"), Some(&cookie)).await);
    let remaining = state["remaining_ms"].as_i64().expect("remaining");
    assert!((-302_000..=-300_000).contains(&remaining), "five minutes over: {remaining}");
    assert_eq!(state["milestone"], "time-up");
    assert!(state["clock"].as_str().is_some_and(|c| c.starts_with("+5:0")), "{}", state["clock"]);
    let page = app.get(round, Some(&cookie)).await.body;
    assert!(clock_text(&page).starts_with('+'), "overtime reads +m:ss: {}", clock_text(&page));
    assert!(page.contains("Running · overtime"));
}

#[tokio::test]
async fn ending_the_only_round_records_the_time_used_and_completes_the_loop() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("finisher").await;
    let (loop_path, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let round = &rounds[0];
    timer(&app, &cookie, round, "start").await;
    rewind(&app, round, 30).await;
    let (status, ended) = timer(&app, &cookie, round, "end").await;
    assert_eq!(status, StatusCode::OK, "{ended}");
    assert_eq!(ended["timer"]["state"], "ended");

    let (elapsed, ended_at): (i64, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as("select elapsed_ms, ended_at from rounds where id = $1")
            .bind(id_of(round))
            .fetch_one(&app.db)
            .await
            .expect("round");
    assert!((30 * 60_000..30 * 60_000 + 2_000).contains(&elapsed), "{elapsed}");
    assert!(ended_at.is_some());
    let (status, completed_at): (String, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as("select status, completed_at from loops where id = $1")
            .bind(id_of(&loop_path))
            .fetch_one(&app.db)
            .await
            .expect("loop");
    assert_eq!(status, "completed");
    assert!(completed_at.is_some());

    let page = app.get(round, Some(&cookie)).await.body;
    assert!(page.contains(r#"id="round-complete""#) && page.contains(r#"id="time-used">30:0"#), "{page}");
    assert!(app.get(&loop_path, Some(&cookie)).await.body.contains(r#"id="loop-status">Completed<"#));
    assert_eq!(timer_actions(&app, round).await.last().map(|(a, _)| a.as_str()), Some("end"));
}

#[tokio::test]
async fn a_loop_is_not_complete_until_its_last_round_ends() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("halfway").await;
    let (loop_path, rounds) = schedule_loop(&app, &cookie, "mle-onsite-5").await;
    run_round(&app, &cookie, &rounds[0]).await;
    let status: String = sqlx::query_scalar("select status from loops where id = $1")
        .bind(id_of(&loop_path))
        .fetch_one(&app.db)
        .await
        .expect("loop");
    assert_eq!(status, "in_progress");
    let page = app.get(&rounds[0], Some(&cookie)).await.body;
    assert!(page.contains(r#"id="next-round""#) && page.contains(&format!(r#"href="{}""#, rounds[1])));
}

#[tokio::test]
async fn a_command_that_does_not_fit_the_state_is_refused_with_409_and_changes_nothing() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("clumsy").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let round = &rounds[0];

    let (status, json) = timer(&app, &cookie, round, "pause").await;
    assert_eq!(status, StatusCode::CONFLICT, "{json}");
    assert_eq!(json["error"], "the round has not started");
    assert_eq!(json["timer"]["state"], "not_started");
    let (state, version): (String, i32) = sqlx::query_as("select timer_state, timer_version from rounds where id = $1")
        .bind(id_of(round))
        .fetch_one(&app.db)
        .await
        .expect("round");
    assert_eq!((state.as_str(), version), ("not_started", 0));
    assert!(timer_actions(&app, round).await.is_empty());

    run_round(&app, &cookie, round).await;
    let (status, json) = timer(&app, &cookie, round, "start").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(json["error"], "the round has ended");
    assert_eq!(timer_actions(&app, round).await.len(), 2, "only the start and the end are logged");

    let unknown = app.post_form_with(&format!("{round}/timer"), &[("action", "rewind")], Some(&cookie), &JSON).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_state_endpoint_agrees_with_a_fresh_page_render() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("twotabs").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let round = &rounds[0];
    timer(&app, &cookie, round, "start").await;
    rewind(&app, round, 12).await;

    let page = page_remaining_ms(&app.get(round, Some(&cookie)).await.body);
    let state = json(&app.get(&format!("{round}/state"), Some(&cookie)).await);
    let api = state["remaining_ms"].as_i64().expect("remaining");
    assert!((page - api).abs() < 2_000, "page {page} vs state {api}");
    assert!((33 * 60_000 - 2_000..=33 * 60_000).contains(&api), "{api}");
    assert_eq!(state["state"], "running");
}

#[tokio::test]
async fn a_two_question_round_moves_to_the_second_budget_and_flags_an_overrun() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("doubler").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "coding-double").await;
    let round = &rounds[0];
    let budgets: Vec<i16> =
        sqlx::query_scalar("select budget_minutes from round_questions where round_id = $1 order by position")
            .bind(id_of(round))
            .fetch_all(&app.db)
            .await
            .expect("budgets");
    assert_eq!(budgets.len(), 2, "two questions");
    assert_eq!(budgets.iter().map(|m| i32::from(*m)).sum::<i32>(), 60, "the budgets share the 60 minutes");

    let (_, started) = timer(&app, &cookie, round, "start").await;
    assert_eq!(started["timer"]["current_question"], 1);
    let first_budget = i32::from(budgets[0]);
    rewind(&app, round, first_budget + 1).await;
    let page = app.get(round, Some(&cookie)).await.body;
    assert!(page.contains(r#"id="question-budgets""#) && page.contains("over budget"), "{page}");

    let (status, switched) = timer(&app, &cookie, round, "next_question").await;
    assert_eq!(status, StatusCode::OK, "{switched}");
    assert_eq!(switched["timer"]["current_question"], 2);
    let questions = switched["timer"]["questions"].as_array().expect("questions");
    assert_eq!(questions.len(), 2);
    assert_eq!(questions[0]["overran"], true, "the first question ran a minute over its budget");
    assert_eq!(questions[1]["is_current"], true);
    assert_eq!(questions[0]["budget_ms"].as_i64(), Some(i64::from(first_budget) * 60_000));

    let (current, switch_ms): (i16, i64) =
        sqlx::query_as("select current_question, question_switch_ms from rounds where id = $1")
            .bind(id_of(round))
            .fetch_one(&app.db)
            .await
            .expect("round");
    let expected = i64::from(first_budget + 1) * 60_000;
    assert_eq!(current, 2);
    assert!((expected..expected + 2_000).contains(&switch_ms), "switched at {switch_ms}");

    let (status, again) = timer(&app, &cookie, round, "next_question").await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(again["error"], "this is the round's last question");
    assert_eq!(
        timer_actions(&app, round).await.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>(),
        ["start", "next_question"]
    );
}

#[tokio::test]
async fn notes_save_with_versions_and_a_stale_save_gets_the_stored_text_back() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("notetaker").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let round = &rounds[0];

    let first = save_notes(&app, &cookie, round, "First idea: a hash map.", 0).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(json(&first)["version"], 1);
    let second = save_notes(&app, &cookie, round, "Second idea: two pointers.", 1).await;
    assert_eq!(json(&second)["version"], 2);

    // Another tab still at version 1 saves: detected, nothing overwritten.
    let stale = save_notes(&app, &cookie, round, "Old tab text", 1).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let conflict = json(&stale);
    assert_eq!(conflict["conflict"], true);
    assert_eq!(conflict["version"], 2);
    assert_eq!(conflict["body"], "Second idea: two pointers.");
    let fresh_tab = save_notes(&app, &cookie, round, "Another fresh tab", 0).await;
    assert_eq!(fresh_tab.status, StatusCode::CONFLICT, "a tab that never saw a note cannot replace one");

    let (body, version): (String, i32) = sqlx::query_as("select body_md, version from notes where round_id = $1")
        .bind(id_of(round))
        .fetch_one(&app.db)
        .await
        .expect("note");
    assert_eq!((body.as_str(), version), ("Second idea: two pointers.", 2));

    let page = app.get(round, Some(&cookie)).await.body;
    assert!(page.contains(">Second idea: two pointers.</textarea>"), "the saved text is back after a reload");
    assert!(page.contains(r#"name="base_version" value="2""#));
    assert!(page.contains(r#"id="notes-status" aria-live="polite">Saved<"#));
}

#[tokio::test]
async fn notes_are_stored_as_typed_but_rendered_without_script() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("scripter").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let round = &rounds[0];
    let markdown = "**Plan**\n\n<script>alert('x')</script>\n\n```python\nprint(1)\n```";
    let saved = save_notes(&app, &cookie, round, markdown, 0).await;
    assert_eq!(saved.status, StatusCode::OK);

    let (body_md, body_html): (String, String) =
        sqlx::query_as("select body_md, body_html from notes where round_id = $1")
            .bind(id_of(round))
            .fetch_one(&app.db)
            .await
            .expect("note");
    assert_eq!(body_md, markdown, "stored exactly as typed");
    assert!(body_html.contains("<strong>Plan</strong>") && body_html.contains("<code"), "{body_html}");
    assert!(!body_html.to_lowercase().contains("<script"), "{body_html}");

    run_round(&app, &cookie, round).await;
    let feedback = app.get(&format!("{round}/feedback"), Some(&cookie)).await.body;
    let notes_at = feedback.find(r#"id="feedback-notes""#).expect("notes on the feedback page");
    assert!(feedback[notes_at..].contains("<strong>Plan</strong>"));
    assert!(!feedback.contains("<script>alert"), "no script reaches a page");
}

#[tokio::test]
async fn notes_over_100000_bytes_are_refused_with_413() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("novelist").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let round = &rounds[0];

    let too_long = save_notes(&app, &cookie, round, &"x".repeat(100_001), 0).await;
    assert_eq!(too_long.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.count("select count(*) from notes").await, 0);

    let at_limit = save_notes(&app, &cookie, round, &"y".repeat(100_000), 0).await;
    assert_eq!(at_limit.status, StatusCode::OK, "exactly the limit is fine");
    let stored: i32 = sqlx::query_scalar("select octet_length(body_md) from notes where round_id = $1")
        .bind(id_of(round))
        .fetch_one(&app.db)
        .await
        .expect("note");
    assert_eq!(stored, 100_000);
}

#[tokio::test]
async fn a_cancelled_loop_refuses_timer_commands() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("canceller").await;
    let (loop_path, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let cancelled = app.post_form(&format!("{loop_path}/cancel"), &[], Some(&cookie)).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let response =
        app.post_form_with(&format!("{}/timer", rounds[0]), &[("action", "start")], Some(&cookie), &JSON).await;
    assert_eq!(response.status, StatusCode::CONFLICT);
    let state: String = sqlx::query_scalar("select timer_state from rounds where id = $1")
        .bind(id_of(&rounds[0]))
        .fetch_one(&app.db)
        .await
        .expect("round");
    assert_eq!(state, "not_started");
}

#[tokio::test]
async fn a_round_cannot_start_while_another_round_of_the_loop_is_running() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("multitasker").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "mle-onsite-5").await;
    let (status, _) = timer(&app, &cookie, &rounds[0], "start").await;
    assert_eq!(status, StatusCode::OK);
    let refused = app.post_form(&format!("{}/timer", rounds[1]), &[("action", "start")], Some(&cookie)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("still running or paused"), "{}", refused.body);
    timer(&app, &cookie, &rounds[0], "pause").await;
    assert_eq!(
        app.post_form(&format!("{}/timer", rounds[1]), &[("action", "start")], Some(&cookie)).await.status,
        StatusCode::CONFLICT
    );
    timer(&app, &cookie, &rounds[0], "end").await;
    let (status, body) = timer(&app, &cookie, &rounds[1], "start").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["timer"]["state"], "running");
}

#[tokio::test]
async fn reasons_are_logged_and_a_refused_form_post_says_why_with_409() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("reasoner").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let round = &rounds[0];
    timer(&app, &cookie, round, "start").await;
    app.post_form(&format!("{round}/timer"), &[("action", "pause"), ("reason", "doorbell")], Some(&cookie)).await;
    let reason: Option<String> = sqlx::query_scalar("select reason from timer_events where action = 'pause'")
        .fetch_one(&app.db)
        .await
        .expect("logged");
    assert_eq!(reason.as_deref(), Some("doorbell"));
    timer(&app, &cookie, round, "end").await;

    let refused = app.post_form(&format!("{round}/timer"), &[("action", "resume")], Some(&cookie)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("The round has ended"), "{}", refused.body);
    let feedback = app.get(&format!("{round}/feedback"), Some(&cookie)).await.body;
    assert!(feedback.contains("Paused — doorbell"), "the timer log is on the round feedback");
}

#[tokio::test]
async fn the_second_question_appears_when_the_round_moves_on_to_it() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("stepper").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "coding-double").await;
    let round = &rounds[0];
    timer(&app, &cookie, round, "start").await;
    let page = app.get(round, Some(&cookie)).await.body;
    assert!(
        page.contains("id=\"question-1\"") && !page.contains("id=\"question-2\""),
        "only the first question at first"
    );
    timer(&app, &cookie, round, "next_question").await;
    let page = app.get(round, Some(&cookie)).await.body;
    assert!(page.contains("id=\"question-2\""), "the second question once the round moves on");
}

/// An event stream opened on its own instance of the app (its own live-event
/// listener) that shares the test app's database, read as a browser would.
struct OpenStream {
    body: axum::body::Body,
    received: String,
}

/// A second instance of the app on `app`'s database.
fn other_instance(app: &TestApp) -> axum::Router {
    let settings =
        mockloop::state::Settings { base_url: "http://localhost".into(), secure_cookies: false, behind_proxy: false };
    mockloop::startup::build_router(mockloop::state::AppState::new(app.db.clone(), settings))
}

impl OpenStream {
    /// Opens `round`'s event stream on `instance` and reads it up to the first timer event.
    async fn open(instance: &axum::Router, round: &str, cookie: &str) -> OpenStream {
        use tower::ServiceExt;
        let request = axum::http::Request::get(format!("{round}/events"))
            .header(axum::http::header::COOKIE, cookie)
            .body(axum::body::Body::empty())
            .expect("request");
        let response = instance.clone().oneshot(request).await.expect("answer");
        assert_eq!(response.status(), StatusCode::OK);
        let mut stream = OpenStream { body: response.into_body(), received: String::new() };
        while !stream.received.contains("event: timer") {
            let more = stream.read_for(std::time::Duration::from_secs(5)).await;
            assert!(more, "the first timer event arrives: {}", stream.received);
        }
        stream
    }

    /// Reads for at most `limit`; false once the stream has ended.
    async fn read_for(&mut self, limit: std::time::Duration) -> bool {
        use http_body_util::BodyExt;
        match tokio::time::timeout(limit, self.body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    self.received.push_str(&String::from_utf8_lossy(&data));
                }
                true
            }
            Ok(Some(Err(_)) | None) => false,
            Err(_) => true,
        }
    }

    /// How long after `since` the stream ended, if it ends within `limit` of now.
    async fn ended_after(
        &mut self,
        since: std::time::Instant,
        limit: std::time::Duration,
    ) -> Option<std::time::Duration> {
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if !self.read_for(deadline.saturating_duration_since(std::time::Instant::now())).await {
                return Some(since.elapsed());
            }
        }
        None
    }

    /// Whether a timer event comes within `limit` (the stream still delivers).
    async fn delivers_timer_within(&mut self, limit: std::time::Duration) -> bool {
        let before = self.received.matches("event: timer").count();
        let deadline = std::time::Instant::now() + limit;
        while std::time::Instant::now() < deadline {
            if !self.read_for(deadline.saturating_duration_since(std::time::Instant::now())).await {
                return false;
            }
            if self.received.matches("event: timer").count() > before {
                return true;
            }
        }
        false
    }
}

/// The bound the issue sets on ending a stream whose session or access ended.
const STREAM_END_LIMIT: std::time::Duration = std::time::Duration::from_secs(5);

async fn sign_in(app: &TestApp, username: &str) -> String {
    let response = app.post_form("/signin", &[("username", username), ("password", "correct horse")], None).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    response.session_cookie().expect("a session")
}

fn session_hash(cookie: &str) -> Vec<u8> {
    mockloop::web::session::hash_token(cookie.trim_start_matches("mockloop_session="))
}

#[tokio::test]
async fn signing_out_ends_that_sessions_streams_on_every_instance_within_5_seconds() {
    let app = TestApp::new().await;
    let laptop = app.sign_up("leaver").await;
    let phone = sign_in(&app, "leaver").await;
    let (_, rounds) = schedule_loop(&app, &laptop, "phone-screen").await;
    let (second, third) = (other_instance(&app), other_instance(&app));
    let mut on_second = OpenStream::open(&second, &rounds[0], &laptop).await;
    let mut on_third = OpenStream::open(&third, &rounds[0], &laptop).await;
    let mut other_session = OpenStream::open(&second, &rounds[0], &phone).await;

    // Signed out through the test app's own instance; the streams live on two others.
    let signed_out = std::time::Instant::now();
    let response = app.post_form("/signout", &[], Some(&laptop)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let took = on_second.ended_after(signed_out, STREAM_END_LIMIT).await;
    let took = took.expect("the signed-out session's stream on another instance ended within 5 s");
    let also = on_third.ended_after(signed_out, STREAM_END_LIMIT).await;
    assert!(also.is_some(), "every stream of the session ends");
    println!("FIGURE live.sign_out: the session's streams on two other instances ended {took:?} after sign-out");

    // The same user's other session keeps its stream, and it still delivers.
    let (status, json) = timer(&app, &phone, &rounds[0], "start").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert!(other_session.delivers_timer_within(STREAM_END_LIMIT).await, "{}", other_session.received);
}

#[tokio::test]
async fn an_expired_session_loses_its_stream_within_5_seconds() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("expiring").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let instance = other_instance(&app);
    let mut stream = OpenStream::open(&instance, &rounds[0], &cookie).await;

    // Expiry as time makes it: nothing is written when the moment passes.
    sqlx::query("update sessions set expires_at = now() + interval '1 second' where id_hash = $1")
        .bind(session_hash(&cookie))
        .execute(&app.db)
        .await
        .expect("expire soon");
    let expires = std::time::Instant::now() + std::time::Duration::from_secs(1);
    assert!(stream.read_for(std::time::Duration::from_millis(300)).await, "still open before the expiry");
    let took = stream.ended_after(expires, STREAM_END_LIMIT + std::time::Duration::from_secs(1)).await;
    let took = took.expect("the stream ends once the session has expired");
    assert!(took <= STREAM_END_LIMIT, "ended {took:?} after the session expired");
    println!("FIGURE live.expiry: an expired session's stream ended {took:?} after the expiry");

    // An expiry moved into the past (as an operator might) is announced at once.
    let again = sign_in(&app, "expiring").await;
    let mut stream = OpenStream::open(&instance, &rounds[0], &again).await;
    let expired = std::time::Instant::now();
    sqlx::query("update sessions set expires_at = now() - interval '1 minute' where id_hash = $1")
        .bind(session_hash(&again))
        .execute(&app.db)
        .await
        .expect("expire now");
    assert!(stream.ended_after(expired, STREAM_END_LIMIT).await.is_some(), "the stream ends");
}

#[tokio::test]
async fn ending_a_users_other_sessions_ends_their_streams_and_keeps_the_askers() {
    let app = TestApp::new().await;
    let kept = app.sign_up("everywhere").await;
    let ended = sign_in(&app, "everywhere").await;
    let (_, rounds) = schedule_loop(&app, &kept, "phone-screen").await;
    let instance = other_instance(&app);
    let mut kept_stream = OpenStream::open(&instance, &rounds[0], &kept).await;
    let mut ended_stream = OpenStream::open(&instance, &rounds[0], &ended).await;
    let user: uuid::Uuid = sqlx::query_scalar("select id from users where username = 'everywhere'")
        .fetch_one(&app.db)
        .await
        .expect("user");

    let asked = std::time::Instant::now();
    let keep = session_hash(&kept);
    let count =
        mockloop::db::sessions::end(&app.db, mockloop::db::sessions::Ending::AllBut { user_id: user, keep: &keep })
            .await
            .expect("sign out everywhere else");
    assert_eq!(count, 1);
    assert!(ended_stream.ended_after(asked, STREAM_END_LIMIT).await.is_some(), "the other session's stream ends");
    let (status, json) = timer(&app, &kept, &rounds[0], "start").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert!(kept_stream.delivers_timer_within(STREAM_END_LIMIT).await, "the asker's stream goes on");
    assert_eq!(app.get(&rounds[0], Some(&ended)).await.status, StatusCode::SEE_OTHER, "signed out");
}

#[tokio::test]
async fn an_interviewer_who_no_longer_takes_part_loses_the_stream_within_5_seconds() {
    let app = TestApp::new().await;
    let f = crate::peer::peer_loop(&app).await;
    let instance = other_instance(&app);
    let mut stream = OpenStream::open(&instance, &f.rounds[0], &f.interviewer_a).await;
    let mut candidates = OpenStream::open(&instance, &f.rounds[0], &f.candidate).await;

    // Withdrawn from the round (as withdrawing an invitation does): no notification, only the re-check.
    let removed = std::time::Instant::now();
    sqlx::query("update rounds set interviewer_id = null where id = $1")
        .bind(id_of(&f.rounds[0]))
        .execute(&app.db)
        .await
        .expect("withdraw");
    let took = stream.ended_after(removed, STREAM_END_LIMIT).await;
    let took = took.expect("the withdrawn interviewer's stream ends within 5 s");
    println!("FIGURE live.withdrawal: a withdrawn interviewer's stream ended {took:?} after the withdrawal");
    assert!(candidates.read_for(std::time::Duration::from_millis(200)).await, "the candidate's stream stays open");
}

#[tokio::test]
async fn signing_out_on_one_server_process_ends_the_stream_another_process_serves() {
    use crate::server_process::{Server, ServerDatabase, free_port, header_value, http};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let db = crate::helpers::TestDb::new().await;
    let url = db.url();
    let (signer, streamer) =
        (Server::start(ServerDatabase::Url(&url), free_port()), Server::start(ServerDatabase::Url(&url), free_port()));
    signer.wait_ready().await;
    streamer.wait_ready().await;

    let form = "username=twoservers&password=correct+horse&password_confirm=correct+horse";
    let signed_up = http(signer.port, "POST /signup HTTP/1.1\r\n", form).await.expect("sign up");
    let cookie =
        header_value(&signed_up, "set-cookie").and_then(|c| c.split(';').next()).expect("session cookie").to_owned();
    let form = "template=phone-screen&team=infra-data&level=junior_mid&mode=self_timed&starts_at=2026-12-01T09%3A30&time_zone=UTC&break_minutes=10";
    let created =
        http(signer.port, &format!("POST /loops HTTP/1.1\r\nCookie: {cookie}\r\n"), form).await.expect("loop");
    let loop_path = header_value(&created, "location").expect("loop location").to_owned();
    let page = http(signer.port, &format!("GET {loop_path} HTTP/1.1\r\nCookie: {cookie}\r\n"), "").await.expect("page");
    let round: String = page[page.find("/rounds/").expect("a round link")..].chars().take(8 + 36).collect();

    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", streamer.port)).await.expect("connect");
    let request = format!(
        "GET {round}/events HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n",
        streamer.port
    );
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&received).contains("event: timer") {
        let read = tokio::time::timeout(std::time::Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("the first event")
            .expect("read");
        assert!(read > 0, "the stream ended early");
        received.extend_from_slice(&buffer[..read]);
    }

    let signed_out = std::time::Instant::now();
    let response =
        http(signer.port, &format!("POST /signout HTTP/1.1\r\nCookie: {cookie}\r\n"), "").await.expect("sign out");
    assert!(response.starts_with("HTTP/1.1 303"), "{response}");
    let ended = tokio::time::timeout(STREAM_END_LIMIT, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return signed_out.elapsed(),
                Ok(_) => continue,
            }
        }
    })
    .await;
    let took = ended.expect("the stream on the other process ended within 5 s of sign-out");
    println!("FIGURE live.sign_out_processes: a stream on another server process ended {took:?} after sign-out");
}
