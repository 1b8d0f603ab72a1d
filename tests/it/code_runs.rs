//! Test runs: the candidate's browser runs the question's tests (Pyodide in a
//! worker, never the server) and reports each run; the round keeps it, shows
//! it again after a reload, sends it live to the interviewer, and feedback
//! tells the story of the runs beside the final code.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::app::settings;
use crate::support::browser::{Browser, serve_app_on};
use crate::support::rounds::{code_version, end_round, save_code, start_round};
use crate::support::workspace::{make_runnable, paste_code, run_tests};
use crate::support::{LoopBuilder, TestApp, TestDb, id_of, peer_loop};

fn report(names: &[String], passing: usize) -> Value {
    let results: Vec<Value> = names
        .iter()
        .enumerate()
        .map(|(index, name)| {
            json!({"name": name, "call": "f()", "passed": index < passing, "expected": "1", "got": "2",
                   "stdout": "", "error": null})
        })
        .collect();
    json!({"question_position": 1, "outcome": "completed", "code_version": 1, "duration_ms": 14, "message": "",
           "results": results})
}

async fn runs(app: &TestApp, round: &str) -> i64 {
    app.count(&format!("select count(*) from code_runs where round_id = '{}'", id_of(round))).await
}

#[tokio::test]
async fn a_reported_run_is_checked_kept_and_shown_again_with_the_page() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("runner").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let round = &scheduled.rounds[0];
    let question = make_runnable(&app, round).await;
    let names = &question.case_names;

    let kept = app.post_json_body(&format!("{round}/runs"), &report(names, 2), Some(&cookie)).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    assert_eq!(kept.json()["passed"], 2);
    assert_eq!(kept.json()["total"], names.len());

    let short = app.post_json_body(&format!("{round}/runs"), &report(&names[1..], 1), Some(&cookie)).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(short.json()["error"], "A completed run reports one result per test case.");
    let mut unopened = report(names, 1);
    unopened["question_position"] = json!(2);
    let refused = app.post_json_body(&format!("{round}/runs"), &unopened, Some(&cookie)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    let garbled = app.post_json_body(&format!("{round}/runs"), &json!({"outcome": "exploded"}), Some(&cookie)).await;
    assert_eq!(garbled.status, StatusCode::BAD_REQUEST);
    assert!(garbled.body.contains("nothing was saved"), "{}", garbled.body);
    let timed_out = json!({"question_position": 1, "outcome": "timed_out", "code_version": 1, "duration_ms": 5000,
                           "message": "Stopped after 10 s", "results": []});
    let stopped = app.post_json_body(&format!("{round}/runs"), &timed_out, Some(&cookie)).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    assert_eq!(runs(&app, round).await, 2, "only the two well-formed runs are kept");

    // After a reload the page carries the last run for the results panel.
    let page = app.get(round, Some(&cookie)).await.page();
    let last: Value = serde_json::from_str(&page.attr("#runner", "data-last-run").expect("the last run")).unwrap();
    assert_eq!(last["outcome"], "timed_out");
    assert_eq!(last["message"], "Stopped after 10 s");
    let suites: Value = serde_json::from_str(&page.attr("#runner", "data-suites").expect("the tests")).unwrap();
    assert_eq!(suites["1"]["tests"].as_array().map(Vec::len), Some(names.len()));
    assert!(!page.has("#reference-1"), "the candidate is not shown the reference solution during the round");
}

#[tokio::test]
async fn only_the_candidate_reports_runs_and_only_while_the_round_takes_work() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    let question = make_runnable(&app, round).await;
    start_round(&app, &f.interviewer_a, round).await;
    let body = report(&question.case_names, 1);
    for (who, cookie, status) in [
        ("a stranger", &f.stranger, StatusCode::NOT_FOUND),
        ("another round's interviewer", &f.interviewer_b, StatusCode::NOT_FOUND),
        ("the interviewer", &f.interviewer_a, StatusCode::FORBIDDEN),
    ] {
        let refused = app.post_json_body(&format!("{round}/runs"), &body, Some(cookie)).await;
        assert_eq!(refused.status, status, "{who}: {}", refused.body);
    }
    assert_eq!(runs(&app, round).await, 0);
    let kept = app.post_json_body(&format!("{round}/runs"), &body, Some(&f.candidate)).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);

    // The interviewer's page shows the run, and the reference solution, which only they see.
    let page = app.get(round, Some(&f.interviewer_a)).await.page();
    assert!(page.attr("#runner", "data-last-run").is_some_and(|run| run.contains("\"passed\":1")));
    assert!(page.text_of("#reference-1").contains(question.reference.trim().lines().next().unwrap()));
    assert!(!page.has("#run-tests"), "the interviewer watches; only the candidate runs");

    // Just after the end a save in flight still lands; a while later the code is final.
    end_round(&app, &f.interviewer_a, round).await;
    let in_flight = app.post_json_body(&format!("{round}/runs"), &body, Some(&f.candidate)).await;
    assert_eq!(in_flight.status, StatusCode::OK, "{}", in_flight.body);
    let base = code_version(&app.db, id_of(round)).await;
    let in_flight_code = save_code(&app, &f.candidate, round, "def solve(): pass", "python", base).await;
    assert_eq!(in_flight_code.status, StatusCode::OK, "a code save in flight lands too: {}", in_flight_code.body);
    sqlx::query("update rounds set ended_at = ended_at - interval '1 minute' where id = $1")
        .bind(id_of(round))
        .execute(&app.db)
        .await
        .expect("move the end back");
    let late = app.post_json_body(&format!("{round}/runs"), &body, Some(&f.candidate)).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(late.json()["error"], "The round has ended, so this run was not recorded.");
    let late_code = save_code(&app, &f.candidate, round, "def changed(): pass", "python", 0).await;
    assert_eq!(late_code.status, StatusCode::CONFLICT);
    assert!(late_code.json()["closed"].as_str().is_some_and(|text| text.contains("final")), "{}", late_code.body);

    // After the round the candidate may read the reference solution.
    let after = app.get(round, Some(&f.candidate)).await.page();
    assert!(after.text_of("#reference-1").contains(question.reference.trim().lines().next().unwrap()));
    assert!(!question.starter.is_empty());
}

#[tokio::test]
async fn feedback_shows_the_final_code_and_when_every_test_first_passed() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("finisher").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let round = &scheduled.rounds[0];
    let question = make_runnable(&app, round).await;
    let names = &question.case_names;
    let saved = save_code(
        &app,
        &cookie,
        round,
        "def moving_averages(values, window):\n    return [] # <b>x</b>\n",
        "python",
        0,
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK);
    for passing in [1, names.len(), 2] {
        let kept = app.post_json_body(&format!("{round}/runs"), &report(names, passing), Some(&cookie)).await;
        assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    }
    end_round(&app, &cookie, round).await;

    let page = app.get(&format!("{round}/feedback"), Some(&cookie)).await.page();
    let tests_line = page.text_of(".final-code .tests-line");
    assert!(tests_line.starts_with("First all-pass at "), "{tests_line}");
    assert!(tests_line.ends_with("· 3 runs"), "{tests_line}");
    assert!(page.text_of(".final-code code").contains("return [] # <b>x</b>"), "the code is shown as text");

    let markdown = app.get(&format!("{}/feedback.md", scheduled.path), Some(&cookie)).await.body;
    assert!(markdown.contains("```python\ndef moving_averages(values, window):"), "{markdown}");
    assert!(markdown.contains("First all-pass at "), "{markdown}");
    let loop_page = app.get(&format!("{}/feedback", scheduled.path), Some(&cookie)).await.page();
    assert!(loop_page.text_of("#rounds-table .tests-line").starts_with("First all-pass at "));
}

#[tokio::test]
async fn the_candidate_runs_the_tests_in_the_browser_and_an_endless_loop_is_stopped() {
    let db = TestDb::new().await;
    let app = TestApp::on(db.pool.clone(), settings());
    let cookie = app.sign_up("pyodide").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let round = &scheduled.rounds[0];
    let question = make_runnable(&app, round).await;
    let total = question.case_names.len();
    let base = serve_app_on(&db).await;
    let browser = Browser::launch().await;
    browser.sign_in_at(&format!("{base}/signin"), "pyodide").await;
    let round_url = format!("{base}{round}");
    browser.client.goto(&round_url).await.expect("round page");

    // The starter fails; the first run loads Python.
    browser.wait_for_text("#run-status", |status| status == "Not run yet.").await;
    let (failing, cold) = run_tests(&browser, |summary| summary.contains("tests passed")).await;
    assert!(failing.contains(&format!("0 of {total} tests passed")), "the starter fails: {failing}");
    browser.wait_for_text("#run-status", |status| status.contains("saved with the round")).await;
    assert!(browser.text("#run-results .case-fail").await.contains("NotImplementedError"));

    paste_code(&browser, &question.reference).await;
    let (passing, warm) = run_tests(&browser, |summary| summary.contains("All tests passed")).await;
    println!("test runs: cold first run {cold:?}, warm run {warm:?} ({passing})");
    browser.wait_for_text("#run-status", |status| status.contains("saved with the round")).await;

    paste_code(&browser, "while True:\n    pass\n").await;
    let (stopped, _) = run_tests(&browser, |summary| summary.contains("Stopped after")).await;
    assert!(stopped.contains("infinite loop"), "{stopped}");
    browser.wait_for_text("#run-status", |status| status.contains("saved with the round")).await;
    // The page stays usable: Python restarts and the next run works.
    paste_code(&browser, &question.reference).await;
    run_tests(&browser, |summary| summary.contains("All tests passed")).await;
    browser.wait_for_text("#run-status", |status| status.contains("saved with the round")).await;

    // A reload keeps the code and shows the last result.
    browser.wait_for_text("#code-status", |status| status.starts_with("Saved at")).await;
    browser.client.goto(&round_url).await.expect("reload");
    let restored = browser.wait_for_text("#run-results .run-summary", |summary| summary.starts_with("Last run")).await;
    assert!(restored.contains("All tests passed"), "{restored}");
    let first_line = question.reference.trim().lines().next().unwrap().to_owned();
    browser.wait_for_text("#code-editor .cm-content", |shown| shown.contains(&first_line)).await;
    assert_eq!(runs(&app, round).await, 4);

    let violations = browser.axe_violations().await;
    let console: Vec<String> =
        browser.console_entries().await.into_iter().filter(|entry| !entry.contains("favicon")).collect();
    browser.close().await;
    assert!(violations.is_empty(), "axe on the round page with results: {violations:?}");
    assert!(console.is_empty(), "console errors or CSP violations: {console:?}");
}

#[tokio::test]
async fn the_interviewer_drops_markers_that_the_feedback_timeline_shows_with_the_runs() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    let question = make_runnable(&app, round).await;
    let marker = |label: &'static str| [("label", label)];
    let early = app.post_json(&format!("{round}/markers"), &marker("too early"), Some(&f.interviewer_a)).await;
    assert_eq!(early.status, StatusCode::CONFLICT, "no marker before the round starts");
    start_round(&app, &f.interviewer_a, round).await;
    for (who, cookie, status) in [
        ("the candidate", &f.candidate, StatusCode::FORBIDDEN),
        ("another round's interviewer", &f.interviewer_b, StatusCode::NOT_FOUND),
        ("a stranger", &f.stranger, StatusCode::NOT_FOUND),
    ] {
        let refused = app.post_json(&format!("{round}/markers"), &marker("mine"), Some(cookie)).await;
        assert_eq!(refused.status, status, "{who}");
    }
    let blank = app.post_json(&format!("{round}/markers"), &marker("  "), Some(&f.interviewer_a)).await;
    assert_eq!(blank.status, StatusCode::BAD_REQUEST);
    let dropped = app
        .post_json(&format!("{round}/markers"), &marker("asked about\ncomplexity here"), Some(&f.interviewer_a))
        .await;
    assert_eq!(dropped.status, StatusCode::OK, "{}", dropped.body);
    assert_eq!(dropped.json()["label"], "asked about complexity here");
    // Without JavaScript the form posts and comes back to the clock.
    let plain = app.post_form(&format!("{round}/markers"), &marker("edge cases"), Some(&f.interviewer_a)).await;
    assert_eq!(plain.status, StatusCode::SEE_OTHER);
    let run = app.post_json_body(&format!("{round}/runs"), &report(&question.case_names, 1), Some(&f.candidate)).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    end_round(&app, &f.interviewer_a, round).await;

    let seen = app.get(&format!("{round}/feedback"), Some(&f.interviewer_a)).await.page();
    let timeline = seen.text_of("#timeline");
    for expected in ["Marker: asked about complexity here", "Marker: edge cases", "Tests: 1 of"] {
        assert!(timeline.contains(expected), "{expected} in {timeline}");
    }
    // The candidate reads the markers with the interviewer's scorecard, as the hints given.
    let candidate_view = app.get(&format!("{round}/feedback"), Some(&f.candidate)).await.page();
    assert!(!candidate_view.text_of("#timeline").contains("Marker:"), "markers wait for the scorecard");
}
