//! The candidate's code in a round: saved with a version check like notes,
//! written by the candidate only, watched live by the interviewer, and the
//! editor (vendored CodeMirror) on a round page whose CSP stays strict.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use fantoccini::Locator;

use crate::support::app::settings;
use crate::support::browser::{Browser, serve_app_on};
use crate::support::rounds::{code_version, save_code, start_round};
use crate::support::{LoopBuilder, TestApp, TestDb, id_of, peer_loop};

#[tokio::test]
async fn a_stale_base_version_gets_409_with_the_stored_code() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("coder").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let round = &scheduled.rounds[0];

    let first = save_code(&app, &cookie, round, "def first():\n    return 1\n", "python", 0).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.json()["version"], 1);
    let second = save_code(&app, &cookie, round, "int main() { return 0; }", "cpp", 1).await;
    assert_eq!(second.json()["version"], 2);

    let stale = save_code(&app, &cookie, round, "def other():\n    pass\n", "python", 1).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let conflict = stale.json();
    assert_eq!(conflict["version"], 2);
    assert_eq!(conflict["language"], "cpp");
    assert_eq!(conflict["body"], "int main() { return 0; }");
    assert_eq!(code_version(&app.db, id_of(round)).await, 2, "the stale save changed nothing");

    // Without JavaScript the form posts and comes back to the panel.
    let form = [("body", "int main() { return 0; }"), ("language", "cpp"), ("base_version", "2")];
    let posted = app.post_form(&format!("{round}/code"), &form, Some(&cookie)).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    assert_eq!(posted.header("location"), format!("{round}#code"));
    let stale_form = app.post_form(&format!("{round}/code"), &form, Some(&cookie)).await;
    assert_eq!(stale_form.status, StatusCode::CONFLICT, "a stale plain post is refused, not applied");

    // The page shows the saved code as typed, in the textarea that works without JavaScript.
    let page = app.get(round, Some(&cookie)).await.page();
    assert_eq!(page.text_of("#code-body"), "int main() { return 0; }");
    assert_eq!(page.attr("#code-language option[selected]", "value").as_deref(), Some("cpp"));
    assert_eq!(page.attr("#code-version", "value").as_deref(), Some("3"));
}

#[tokio::test]
async fn code_over_the_limit_or_in_an_unknown_language_is_refused_with_a_message() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("bigcoder").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let round = &scheduled.rounds[0];
    let huge = "x".repeat(100_001);
    let refused = save_code(&app, &cookie, round, &huge, "python", 0).await;
    assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(refused.body.contains("100 000 characters"), "{}", refused.body);
    let unknown = save_code(&app, &cookie, round, "print(1)", "rust", 0).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(code_version(&app.db, id_of(round)).await, 0);
}

#[tokio::test]
async fn only_the_candidate_writes_the_code_and_the_interviewer_is_sent_it_live() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    let stranger = save_code(&app, &f.stranger, round, "stranger code", "python", 0).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);
    let other_interviewer = save_code(&app, &f.interviewer_b, round, "other code", "python", 0).await;
    assert_eq!(other_interviewer.status, StatusCode::NOT_FOUND);
    let interviewer = save_code(&app, &f.interviewer_a, round, "interviewer code", "python", 0).await;
    assert_eq!(interviewer.status, StatusCode::FORBIDDEN);
    assert_eq!(code_version(&app.db, id_of(round)).await, 0);

    let saved = save_code(&app, &f.candidate, round, "def peer():\n    return 'ok'\n", "python", 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let page = app.get(round, Some(&f.interviewer_a)).await.page();
    assert_eq!(page.text_of("#code-plain"), "def peer():\n    return 'ok'");
    assert!(!page.has("#code-form"), "the interviewer's view is read-only");
}

#[tokio::test]
async fn vendored_files_are_served_immutable_with_their_types_and_nothing_else() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("vendorreader").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let page_response = app.get(&scheduled.rounds[0], Some(&cookie)).await;
    let page = page_response.page();
    let vendor = page.attr("#code", "data-vendor").expect("the vendored folder's URL");
    let nonce = page.attr("#code", "data-nonce").expect("a nonce");
    let csp = page_response.header("content-security-policy");
    assert!(csp.contains(&format!("style-src 'self' 'nonce-{nonce}';")), "{csp}");
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'; worker-src 'self';"), "{csp}");
    assert!(!csp.contains("'unsafe-inline'") && !csp.contains("'unsafe-eval'"), "{csp}");
    let again = app.get(&scheduled.rounds[0], Some(&cookie)).await.page();
    assert_ne!(again.attr("#code", "data-nonce"), Some(nonce), "a nonce per response");
    let home = app.get("/", Some(&cookie)).await;
    assert!(!home.header("content-security-policy").contains("nonce-"), "other pages keep the strict policy");

    for (path, content_type) in [
        ("codemirror/code-editor.js", "text/javascript; charset=utf-8"),
        ("pyodide/pyodide.asm.wasm", "application/wasm"),
        ("pyodide/pyodide.mjs", "text/javascript; charset=utf-8"),
        ("pyodide/python_stdlib.zip", "application/zip"),
        ("pyodide/pyodide-lock.json", "application/json"),
        ("excalidraw/index.css", "text/css; charset=utf-8"),
    ] {
        let response = app.get(&format!("{vendor}{path}"), None).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert_eq!(response.header("content-type"), content_type, "{path}");
        assert_eq!(response.header("cache-control"), "public, max-age=31536000, immutable", "{path}");
    }
    let script = page.attr("script[type=module]", "src").expect("the code panel's module");
    assert!(script.starts_with("/static/workspace/"), "{script}");
    let worker = app.get(&script.replace("round-code.js", "python-worker.js"), None).await;
    assert_eq!(worker.header("content-type"), "text/javascript; charset=utf-8");
    // A worker obeys its own script's policy: Pyodide may compile WebAssembly there.
    assert!(worker.header("content-security-policy").contains("script-src 'self' 'wasm-unsafe-eval';"));

    for missing in [
        format!("{vendor}SHA256SUMS"),
        format!("{vendor}VERSIONS"),
        format!("{vendor}nothing.js"),
        "/static/vendor/0123456789ab/codemirror/code-editor.js".to_owned(),
        format!("{vendor}../app.css"),
    ] {
        assert_eq!(app.get(&missing, None).await.status, StatusCode::NOT_FOUND, "{missing}");
    }
}

/// Types into the CodeMirror editor under `#code-editor`.
async fn type_code(browser: &Browser, text: &str) {
    // The editor mounts once its module has loaded.
    browser.text("#code-editor .cm-content").await;
    let content = browser.client.find(Locator::Css("#code-editor .cm-content")).await.expect("the editor");
    content.click().await.expect("focus the editor");
    content.send_keys(text).await.expect("type");
}

/// Waits until the editor under `#code-editor` shows `text`.
async fn editor_shows(browser: &Browser, text: &str) -> Duration {
    let started = Instant::now();
    browser.wait_for_text("#code-editor .cm-content", |shown| shown.contains(text)).await;
    started.elapsed()
}

#[tokio::test]
async fn the_candidate_types_code_reloads_and_it_is_still_there_with_no_console_error() {
    let db = TestDb::new().await;
    let app = TestApp::on(db.pool.clone(), settings());
    let cookie = app.sign_up("typist").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let base = serve_app_on(&db).await;
    let browser = Browser::launch().await;
    browser.sign_in_at(&format!("{base}/signin"), "typist").await;
    let round_url = format!("{base}{}", scheduled.rounds[0]);
    browser.client.goto(&round_url).await.expect("round page");

    type_code(&browser, "answer = 42").await;
    browser.wait_for_text("#code-status", |status| status.starts_with("Saved at")).await;
    assert_eq!(code_version(&app.db, id_of(&scheduled.rounds[0])).await, 1);

    browser.client.goto(&round_url).await.expect("reload");
    editor_shows(&browser, "answer = 42").await;
    assert_eq!(browser.field_value("#code-language").await.as_deref(), Some("python"));

    let violations = &browser.axe_violations().await;
    let console: Vec<String> =
        browser.console_entries().await.into_iter().filter(|entry| !entry.contains("favicon")).collect();
    browser.close().await;
    assert!(violations.is_empty(), "axe on the round page with the editor: {violations:?}");
    assert!(console.is_empty(), "console errors or CSP violations: {console:?}");
}

#[tokio::test]
async fn the_interviewer_sees_the_candidates_code_within_two_seconds_of_a_save() {
    let db = TestDb::new().await;
    let app = TestApp::on(db.pool.clone(), settings());
    let f = peer_loop(&app).await;
    let round = f.rounds[0].clone();
    start_round(&app, &f.interviewer_a, &round).await;
    let base = serve_app_on(&db).await;
    let candidate = Browser::launch().await;
    let interviewer = Browser::launch().await;
    candidate.sign_in_at(&format!("{base}/signin"), "casey").await;
    interviewer.sign_in_at(&format!("{base}/signin"), "avery").await;
    candidate.client.goto(&format!("{base}{round}")).await.expect("candidate's round");
    interviewer.client.goto(&format!("{base}{round}")).await.expect("interviewer's round");
    interviewer.text("#code-editor .cm-content").await;

    type_code(&candidate, "total = sum(values)").await;
    candidate.wait_for_text("#code-status", |status| status.starts_with("Saved at")).await;
    let seen = editor_shows(&interviewer, "total = sum(values)").await;
    println!("round code: the interviewer saw a save after {seen:?}");
    assert!(seen < Duration::from_secs(2), "the interviewer saw the code after {seen:?}");
    // Read-only, as CodeMirror means it: selectable and focusable, but typing changes nothing.
    type_code(&interviewer, "zzz").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let shown = interviewer.text("#code-editor .cm-content").await;
    assert!(!shown.contains("zzz"), "the interviewer's editor is read-only: {shown}");
    let console = interviewer.console_entries().await;
    candidate.close().await;
    interviewer.close().await;
    assert!(console.iter().all(|entry| entry.contains("favicon")), "interviewer's console: {console:?}");
}

#[tokio::test]
async fn a_coding_rounds_editor_starts_from_the_questions_starter_and_never_holds_its_reference() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("starter").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let round = &scheduled.rounds[0];
    let (starter, reference): (String, String) = sqlx::query_as(
        "select q.starter_code, q.reference_solution from round_questions rq join questions q on q.id = rq.question_id
         where rq.round_id = $1 and rq.position = 1",
    )
    .bind(id_of(round))
    .fetch_one(&app.db)
    .await
    .expect("the phone screen's first question is runnable");
    let page = app.get(round, Some(&cookie)).await;
    assert_eq!(page.page().text_of("#code-body"), starter.trim());
    assert!(!page.body.contains(reference.trim()), "the reference solution reaches the candidate");
}
