//! A peer round's workspace across two server processes sharing one
//! PostgreSQL: the candidate on one, the interviewer on the other. The
//! interviewer sees the candidate's code, each test run and the whiteboard
//! live, within two seconds, and both find the work on the round's feedback.

use std::time::{Duration, Instant};

use crate::support::app::settings;
use crate::support::browser::Browser;
use crate::support::rounds::{end_round, start_round};
use crate::support::server::two_servers;
use crate::support::workspace::{
    console_errors, draw_rectangle, drawn_pixels, editor_shows, make_runnable, open_board, other_hosts, paste_code,
    run_tests,
};
use crate::support::{Page, TestApp, TestDb, peer_loop};

/// How soon the interviewer must see what the candidate did.
const LIVE_WITHIN: Duration = Duration::from_secs(2);

#[tokio::test]
async fn the_interviewer_on_another_server_sees_code_a_test_run_and_a_drawn_rectangle_within_two_seconds() {
    let db = TestDb::new().await;
    let app = TestApp::on(db.pool.clone(), settings());
    let f = peer_loop(&app).await;
    let round = f.rounds[0].clone();
    let question = make_runnable(&app, &round).await;
    start_round(&app, &f.interviewer_a, &round).await;
    let ([server_a, server_b], [base_a, base_b]) = two_servers(&db).await;

    let candidate = Browser::launch().await;
    let interviewer = Browser::launch().await;
    candidate.sign_in_at(&format!("{base_a}/signin"), "casey").await;
    interviewer.sign_in_at(&format!("{base_b}/signin"), "avery").await;
    candidate.client.goto(&format!("{base_a}{round}")).await.expect("candidate's round");
    interviewer.client.goto(&format!("{base_b}{round}")).await.expect("interviewer's round");
    interviewer.text("#code-editor .cm-content").await;
    interviewer.wait_for_text("#run-status", |status| status.contains("has not run the tests")).await;

    // Code: measured from the end of the paste (the autosave's pause included).
    paste_code(&candidate, &question.reference).await;
    let first_line = question.reference.trim().lines().next().expect("a line of code").to_owned();
    let code_seen = editor_shows(&interviewer, &first_line).await;

    // A test run: measured from the moment the candidate's page shows its result.
    let (summary, _) = run_tests(&candidate, |summary| summary.contains("All tests passed")).await;
    let ran = Instant::now();
    interviewer.wait_for_text("#run-results .run-summary", |shown| shown.contains("All tests passed")).await;
    let run_seen = ran.elapsed();
    let cases = interviewer
        .client
        .execute("return document.querySelectorAll('#run-results .case').length;", vec![])
        .await
        .expect("the interviewer's cases");
    assert_eq!(cases.as_u64(), Some(question.case_names.len() as u64), "every case, as the candidate saw: {summary}");

    // The whiteboard: measured from the end of the stroke (debounce, export and save included).
    open_board(&candidate).await;
    open_board(&interviewer).await;
    assert_eq!(drawn_pixels(&interviewer).await, 0, "nothing drawn yet");
    draw_rectangle(&candidate).await;
    let drawn = Instant::now();
    while drawn_pixels(&interviewer).await == 0 {
        if drawn.elapsed() > Duration::from_secs(8) {
            panic!("the interviewer never saw the rectangle; screenshot: {}", interviewer.save_screenshot().await);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let board_seen = drawn.elapsed();
    println!(
        "workspace across two servers: the interviewer saw the code {code_seen:?} after the paste, \
         the test run {run_seen:?} after the candidate's result, the rectangle {board_seen:?} after the stroke"
    );
    for (what, seen) in [("code", code_seen), ("test run", run_seen), ("rectangle", board_seen)] {
        assert!(seen < LIVE_WITHIN, "the interviewer saw the {what} {seen:?} later");
    }
    let candidate_console = console_errors(&candidate).await;
    let interviewer_console = console_errors(&interviewer).await;
    let elsewhere = [other_hosts(&candidate, &base_a).await, other_hosts(&interviewer, &base_b).await].concat();

    // The round ends (each page reloads to show it); both find the work on the round's feedback page.
    end_round(&app, &f.interviewer_a, &round).await;
    for (browser, base) in [(&candidate, &base_a), (&interviewer, &base_b)] {
        browser.text("#round-complete").await;
        browser.client.goto(&format!("{base}{round}/feedback")).await.expect("feedback");
        browser.text("#feedback-whiteboard").await;
        let shown = browser
            .client
            .execute("const img = document.querySelector('#feedback-whiteboard img'); return img.complete && img.naturalWidth;", vec![])
            .await
            .expect("the image");
        assert!(shown.as_u64().unwrap_or(0) > 0, "the drawing renders as an image: {shown}");
    }
    let feedback_console = [console_errors(&candidate).await, console_errors(&interviewer).await].concat();
    candidate.close().await;
    interviewer.close().await;
    server_a.terminate();
    server_b.terminate();
    assert!(candidate_console.is_empty(), "candidate's console: {candidate_console:?}");
    assert!(interviewer_console.is_empty(), "interviewer's console: {interviewer_console:?}");
    assert!(feedback_console.is_empty(), "feedback pages' console: {feedback_console:?}");
    assert!(elsewhere.is_empty(), "requests to another host: {elsewhere:?}");
    let page = Page::parse(&app.get(&format!("{round}/feedback"), Some(&f.candidate)).await.body);
    assert!(page.has("#feedback-whiteboard img[alt^='Whiteboard drawing: 1 shape']"));
    assert!(page.text_of(".tests-line").starts_with("First all-pass at "), "the run is on feedback");
}
