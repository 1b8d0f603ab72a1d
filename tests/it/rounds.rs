//! A round: the server-owned timer (transitions, log, milestones, overtime,
//! per-question budgets) and the candidate's autosaved, versioned notes.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::Value;

use crate::support::html::escape_html;
use crate::support::live::{LiveClient, STREAM_END_LIMIT};
use crate::support::rounds::{rewind, run_round, save_note, start_round, timer};
use crate::support::server::{
    ServedCandidate, Server, ServerDatabase, closed_within, free_port, open_event_stream, send,
};
use crate::support::{LoopBuilder, ScheduledLoop, TestApp, TestDb, id_of, peer_loop};

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
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let round = &rounds[0];
    let title: String = sqlx::query_scalar(
        "select q.title from round_questions rq join questions q on q.id = rq.question_id where rq.round_id = $1",
    )
    .bind(id_of(round))
    .fetch_one(&app.db)
    .await
    .expect("question");

    let before = app.get(round, Some(&cookie)).await;
    assert!(before.page().has("#question-hidden"));
    assert!(!before.body.contains(&escape_html(&title)), "the question is hidden before the start");
    assert_eq!(before.page().text_of("#clock"), "45:00");

    let json = start_round(&app, &cookie, round).await;
    assert_eq!(json["timer"]["state"], "running");
    assert!(json["error"].is_null());

    let after = app.get(round, Some(&cookie)).await.page();
    assert!(!after.has("#question-hidden"));
    assert_eq!(after.text_of("#question-1-title"), title, "the question shows once the round runs");
    assert_eq!(after.attr("#timer", "data-state").as_deref(), Some("running"));
    assert!(after.has("#timer-pause"));
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
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
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
    tokio::time::sleep(Duration::from_millis(300)).await;
    let still: Value = app.get(&format!("{round}/state"), Some(&cookie)).await.json();
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
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let round = &rounds[0];
    timer(&app, &cookie, round, "start").await;

    rewind(&app, round, 44).await;
    let state = app.get(&format!("{round}/state"), Some(&cookie)).await.json();
    let remaining = state["remaining_ms"].as_i64().expect("remaining");
    assert!((58_000..=60_000).contains(&remaining), "about a minute left: {remaining}");
    assert_eq!(state["milestone"], "one-minute");
    let page = app.get(round, Some(&cookie)).await.page();
    assert_eq!(page.attr("#clock", "class").as_deref(), Some("clock milestone-one-minute"));
    let clock = page.text_of("#clock");
    assert!(["1:00", "0:59"].contains(&clock.as_str()), "{clock}");

    rewind(&app, round, 6).await;
    let state = app.get(&format!("{round}/state"), Some(&cookie)).await.json();
    let remaining = state["remaining_ms"].as_i64().expect("remaining");
    assert!((-302_000..=-300_000).contains(&remaining), "five minutes over: {remaining}");
    assert_eq!(state["milestone"], "time-up");
    assert!(state["clock"].as_str().is_some_and(|c| c.starts_with("+5:0")), "{}", state["clock"]);
    let page = app.get(round, Some(&cookie)).await.page();
    let clock = page.text_of("#clock");
    assert!(clock.starts_with('+'), "overtime reads +m:ss: {clock}");
    assert_eq!(page.text_of("#timer-state"), "Running · overtime");
}

#[tokio::test]
async fn ending_the_only_round_records_the_time_used_and_completes_the_loop() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("finisher").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
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

    let page = app.get(round, Some(&cookie)).await.page();
    assert!(page.has("#round-complete"));
    let used = page.text_of("#round-complete #time-used");
    assert!(used.starts_with("30:0"), "{used}");
    assert_eq!(app.get(&loop_path, Some(&cookie)).await.page().text_of("#loop-status"), "Completed");
    assert_eq!(timer_actions(&app, round).await.last().map(|(a, _)| a.as_str()), Some("end"));
}

#[tokio::test]
async fn a_loop_is_not_complete_until_its_last_round_ends() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("halfway").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("mle-onsite-5").for_user(&cookie).schedule(&app).await;
    run_round(&app, &cookie, &rounds[0]).await;
    let status: String = sqlx::query_scalar("select status from loops where id = $1")
        .bind(id_of(&loop_path))
        .fetch_one(&app.db)
        .await
        .expect("loop");
    assert_eq!(status, "in_progress");
    let page = app.get(&rounds[0], Some(&cookie)).await.page();
    assert_eq!(page.attr("#next-round", "href"), Some(rounds[1].clone()), "a link on to round 2");
}

#[tokio::test]
async fn a_command_that_does_not_fit_the_state_is_refused_with_409_and_changes_nothing() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("clumsy").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
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

    let unknown = app.post_json(&format!("{round}/timer"), &[("action", "rewind")], Some(&cookie)).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_state_endpoint_agrees_with_a_fresh_page_render() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("twotabs").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let round = &rounds[0];
    timer(&app, &cookie, round, "start").await;
    rewind(&app, round, 12).await;

    let page: i64 = app
        .get(round, Some(&cookie))
        .await
        .page()
        .attr("#timer", "data-remaining-ms")
        .expect("ms")
        .parse()
        .expect("a number");
    let state = app.get(&format!("{round}/state"), Some(&cookie)).await.json();
    let api = state["remaining_ms"].as_i64().expect("remaining");
    assert!((page - api).abs() < 2_000, "page {page} vs state {api}");
    assert!((33 * 60_000 - 2_000..=33 * 60_000).contains(&api), "{api}");
    assert_eq!(state["state"], "running");
}

#[tokio::test]
async fn a_two_question_round_moves_to_the_second_budget_and_flags_an_overrun() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("doubler").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("coding-double").for_user(&cookie).schedule(&app).await;
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
    let page = app.get(round, Some(&cookie)).await.page();
    let budgets = page.texts("#question-budgets li");
    assert!(budgets[0].contains("over budget"), "the first question is over its budget: {budgets:?}");

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
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let round = &rounds[0];

    let first = save_note(&app, &cookie, round, "First idea: a hash map.", 0).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.json()["version"], 1);
    let second = save_note(&app, &cookie, round, "Second idea: two pointers.", 1).await;
    assert_eq!(second.json()["version"], 2);

    // Another tab still at version 1 saves: detected, nothing overwritten.
    let stale = save_note(&app, &cookie, round, "Old tab text", 1).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let conflict = stale.json();
    assert_eq!(conflict["conflict"], true);
    assert_eq!(conflict["version"], 2);
    assert_eq!(conflict["body"], "Second idea: two pointers.");
    let fresh_tab = save_note(&app, &cookie, round, "Another fresh tab", 0).await;
    assert_eq!(fresh_tab.status, StatusCode::CONFLICT, "a tab that never saw a note cannot replace one");

    let (body, version): (String, i32) = sqlx::query_as("select body_md, version from notes where round_id = $1")
        .bind(id_of(round))
        .fetch_one(&app.db)
        .await
        .expect("note");
    assert_eq!((body.as_str(), version), ("Second idea: two pointers.", 2));

    let page = app.get(round, Some(&cookie)).await.page();
    assert_eq!(page.field_value("#notes-body"), "Second idea: two pointers.", "the saved text is back after a reload");
    assert_eq!(page.field_value("#notes-version"), "2");
    assert_eq!(page.text_of("#notes-status"), "Saved");
    assert_eq!(page.attr("#notes-status", "aria-live").as_deref(), Some("polite"));
}

#[tokio::test]
async fn notes_are_stored_as_typed_but_rendered_without_script() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("scripter").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let round = &rounds[0];
    let markdown = "**Plan**\n\n<script>alert('x')</script>\n\n```python\nprint(1)\n```";
    let saved = save_note(&app, &cookie, round, markdown, 0).await;
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
    let feedback = app.get(&format!("{round}/feedback"), Some(&cookie)).await;
    assert_eq!(feedback.page().text_of("#feedback-notes strong"), "Plan", "the notes, rendered, on the feedback page");
    assert!(!feedback.body.contains("<script>alert"), "no script reaches a page");
}

#[tokio::test]
async fn notes_over_100000_bytes_are_refused_with_413() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("novelist").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let round = &rounds[0];

    let too_long = save_note(&app, &cookie, round, &"x".repeat(100_001), 0).await;
    assert_eq!(too_long.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.count("select count(*) from notes").await, 0);

    let at_limit = save_note(&app, &cookie, round, &"y".repeat(100_000), 0).await;
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
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let cancelled = app.post_form(&format!("{loop_path}/cancel"), &[], Some(&cookie)).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let response = app.post_json(&format!("{}/timer", rounds[0]), &[("action", "start")], Some(&cookie)).await;
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
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("mle-onsite-5").for_user(&cookie).schedule(&app).await;
    start_round(&app, &cookie, &rounds[0]).await;
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
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
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
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("coding-double").for_user(&cookie).schedule(&app).await;
    let round = &rounds[0];
    timer(&app, &cookie, round, "start").await;
    let page = app.get(round, Some(&cookie)).await.page();
    assert!(page.has("#question-1") && !page.has("#question-2"), "only the first question at first");
    timer(&app, &cookie, round, "next_question").await;
    let page = app.get(round, Some(&cookie)).await.page();
    assert!(page.has("#question-2"), "the second question once the round moves on");
}

fn session_hash(cookie: &str) -> Vec<u8> {
    mockloop::web::session::hash_token(cookie.trim_start_matches("mockloop_session="))
}

#[tokio::test]
async fn signing_out_ends_that_sessions_streams_on_every_instance_within_5_seconds() {
    let app = TestApp::new().await;
    let laptop = app.sign_up("leaver").await;
    let phone = app.sign_in("leaver").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&laptop).schedule(&app).await;
    let (second, third) = (LiveClient::new(&app), LiveClient::new(&app));
    let mut on_second = second.open_stream(&rounds[0], &laptop).await;
    let mut on_third = third.open_stream(&rounds[0], &laptop).await;
    let mut other_session = second.open_stream(&rounds[0], &phone).await;

    // Signed out through the test app's own instance; the streams live on two others.
    let signed_out = Instant::now();
    let response = app.post_form("/signout", &[], Some(&laptop)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let took = on_second.ended_after(signed_out, STREAM_END_LIMIT).await;
    let took = took.expect("the signed-out session's stream on another instance ended within 5 s");
    let also = on_third.ended_after(signed_out, STREAM_END_LIMIT).await;
    assert!(also.is_some(), "every stream of the session ends");
    println!("FIGURE live.sign_out: the session's streams on two other instances ended {took:?} after sign-out");

    // The same user's other session keeps its stream, and it still delivers.
    start_round(&app, &phone, &rounds[0]).await;
    assert!(other_session.delivers_timer_within(STREAM_END_LIMIT).await, "{}", other_session.received);
}

#[tokio::test]
async fn an_expired_session_loses_its_stream_within_5_seconds() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("expiring").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let instance = LiveClient::new(&app);
    let mut stream = instance.open_stream(&rounds[0], &cookie).await;

    // Expiry as time makes it: nothing is written when the moment passes.
    sqlx::query("update sessions set expires_at = now() + interval '1 second' where id_hash = $1")
        .bind(session_hash(&cookie))
        .execute(&app.db)
        .await
        .expect("expire soon");
    let expires = Instant::now() + Duration::from_secs(1);
    assert!(stream.read_for(Duration::from_millis(300)).await, "still open before the expiry");
    let took = stream.ended_after(expires, STREAM_END_LIMIT + Duration::from_secs(1)).await;
    let took = took.expect("the stream ends once the session has expired");
    assert!(took <= STREAM_END_LIMIT, "ended {took:?} after the session expired");
    println!("FIGURE live.expiry: an expired session's stream ended {took:?} after the expiry");

    // An expiry moved into the past (as an operator might) is announced at once.
    let again = app.sign_in("expiring").await;
    let mut stream = instance.open_stream(&rounds[0], &again).await;
    let expired = Instant::now();
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
    let ended = app.sign_in("everywhere").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&kept).schedule(&app).await;
    let instance = LiveClient::new(&app);
    let mut kept_stream = instance.open_stream(&rounds[0], &kept).await;
    let mut ended_stream = instance.open_stream(&rounds[0], &ended).await;
    let user: uuid::Uuid = sqlx::query_scalar("select id from users where username = 'everywhere'")
        .fetch_one(&app.db)
        .await
        .expect("user");

    let asked = Instant::now();
    let keep = session_hash(&kept);
    let count =
        mockloop::db::sessions::end(&app.db, mockloop::db::sessions::Ending::AllBut { user_id: user, keep: &keep })
            .await
            .expect("sign out everywhere else");
    assert_eq!(count, 1);
    assert!(ended_stream.ended_after(asked, STREAM_END_LIMIT).await.is_some(), "the other session's stream ends");
    start_round(&app, &kept, &rounds[0]).await;
    assert!(kept_stream.delivers_timer_within(STREAM_END_LIMIT).await, "the asker's stream goes on");
    assert_eq!(app.get(&rounds[0], Some(&ended)).await.status, StatusCode::SEE_OTHER, "signed out");
}

#[tokio::test]
async fn an_interviewer_who_no_longer_takes_part_loses_the_stream_within_5_seconds() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let instance = LiveClient::new(&app);
    let mut stream = instance.open_stream(&f.rounds[0], &f.interviewer_a).await;
    let mut candidates = instance.open_stream(&f.rounds[0], &f.candidate).await;

    // Withdrawn from the round (as withdrawing an invitation does): no notification, only the re-check.
    let removed = Instant::now();
    sqlx::query("update rounds set interviewer_id = null where id = $1")
        .bind(id_of(&f.rounds[0]))
        .execute(&app.db)
        .await
        .expect("withdraw");
    let took = stream.ended_after(removed, STREAM_END_LIMIT).await;
    let took = took.expect("the withdrawn interviewer's stream ends within 5 s");
    println!("FIGURE live.withdrawal: a withdrawn interviewer's stream ended {took:?} after the withdrawal");
    assert!(candidates.read_for(Duration::from_millis(200)).await, "the candidate's stream stays open");
}

#[tokio::test]
async fn signing_out_on_one_server_process_ends_the_stream_another_process_serves() {
    let db = TestDb::new().await;
    let url = db.url();
    let (signer, streamer) =
        (Server::start(ServerDatabase::Url(&url), free_port()), Server::start(ServerDatabase::Url(&url), free_port()));
    signer.wait_ready().await;
    streamer.wait_ready().await;

    let candidate = ServedCandidate::with_round(signer.port, &db.pool, "twoservers").await;
    let (mut stream, received) = open_event_stream(streamer.port, &candidate.cookie, &candidate.round_path()).await;
    assert!(received.contains("event: timer"), "the stream is open on the other process: {received}");

    let signed_out = Instant::now();
    let response = send(signer.port, "POST", "/signout", Some(&candidate.cookie), &[], "").await.expect("sign out");
    assert_eq!(response.status, 303, "{}", response.body);
    let took = closed_within(&mut stream, signed_out, STREAM_END_LIMIT).await;
    let took = took.expect("the stream on the other process ended within 5 s of sign-out");
    println!("FIGURE live.sign_out_processes: a stream on another server process ended {took:?} after sign-out");
}

/// Every table the round page is drawn from moves the version it is kept
/// under (migration 0023), but notes and code, whose own versions it reads.
#[tokio::test]
async fn every_table_the_round_page_reads_moves_its_kept_version() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("keeper").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let round = id_of(&rounds[0]);
    let writes: &[(&str, &str)] = &[
        (
            "the loop",
            "update loops set time_zone = 'Europe/Paris' where id = (select loop_id from rounds where id = $1)",
        ),
        ("the round", "update rounds set title = 'Renamed' where id = $1"),
        ("its questions", "update round_questions set hints_used = '{0}' where round_id = $1"),
        (
            "a question's text",
            "update questions set title = 'Retitled' where id = (select question_id from round_questions where round_id = $1 limit 1)",
        ),
        (
            "a code run",
            "insert into code_runs (round_id, round_elapsed_ms, question_position, language, outcome, code_version,
                                    passed, total, duration_ms, results)
             values ($1, 1000, 1, 'python', 'completed', 1, 1, 1, 10, '[]')",
        ),
        ("the drawing", "insert into round_scene (round_id, scene, version) values ($1, '{}', 1)"),
        (
            "a scorecard",
            "insert into scorecards (round_id, author_id, role)
             select r.id, l.candidate_id, 'self' from rounds r join loops l on l.id = r.loop_id where r.id = $1",
        ),
        (
            "a call signal",
            "insert into call_signals (round_id, sender_id, kind, body)
             select r.id, l.candidate_id, 'join', '{}' from rounds r join loops l on l.id = r.loop_id where r.id = $1",
        ),
        ("a call signal gone", "delete from call_signals where round_id = $1"),
    ];
    let version = async || -> i64 {
        sqlx::query_scalar("select coalesce((select version from round_versions where round_id = $1), 0)")
            .bind(round)
            .fetch_one(&app.db)
            .await
            .expect("version")
    };
    for (what, write) in writes {
        let before = version().await;
        sqlx::query(write).bind(round).execute(&app.db).await.unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(version().await > before, "a change to {what} leaves the kept round page as it was");
    }
}

/// Saves that arrive together are written together (`write_batches`): each
/// is answered as if it had come alone, and one save's refusal is its own.
#[tokio::test]
async fn autosaves_arriving_together_are_each_answered_as_if_alone() {
    let app = TestApp::new().await;
    let mut writers = Vec::new();
    for n in 0..8 {
        let cookie = app.sign_up(&format!("together{n}")).await;
        let ScheduledLoop { rounds, .. } =
            LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
        writers.push((cookie, rounds[0].clone()));
    }
    let stranger = app.sign_up("outsider").await;
    let (first_cookie, first_round) = writers[0].clone();
    let texts: Vec<String> = (0..writers.len()).map(|n| format!("Note {n}")).collect();
    let saves =
        writers.iter().zip(&texts).map(|((cookie, round), text)| save_note(&app, cookie, round, text, 0)).chain([
            // The same note twice at once: the second meets the first's version.
            save_note(&app, &first_cookie, &first_round, "Note 0, again", 0),
            save_note(&app, &stranger, &first_round, "Not mine", 0),
            save_note(&app, &first_cookie, &writers[1].1, "Not mine either", 0),
        ]);
    let answers = futures_util::future::join_all(saves).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|answer| answer.status).collect();
    assert!(statuses[..8].iter().all(|status| *status == StatusCode::OK), "{statuses:?}");
    assert_eq!(statuses[8], StatusCode::CONFLICT, "the same note twice at once");
    assert_eq!(answers[8].json()["body"], "Note 0", "the conflict shows the text saved first");
    assert_eq!(&statuses[9..], [StatusCode::NOT_FOUND, StatusCode::NOT_FOUND], "strangers to the rounds");
    for (n, (_, round)) in writers.iter().enumerate() {
        let stored: (String, i32) =
            sqlx::query_as("select body_md, version from notes where round_id = $1 and kind = 'scratchpad'")
                .bind(id_of(round))
                .fetch_one(&app.db)
                .await
                .expect("a note");
        assert_eq!(stored, (format!("Note {n}"), 1));
    }
    let nul = save_note(&app, &first_cookie, &first_round, "a\0b", 1).await;
    assert_eq!(nul.status, StatusCode::BAD_REQUEST);
    assert_eq!(save_note(&app, &first_cookie, &first_round, "Note 0, later", 1).await.status, StatusCode::OK);
}
