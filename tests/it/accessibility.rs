//! Every main page, as a signed-out visitor and as a user through a whole
//! self-timed round, has no WCAG problem axe-core can find (0 violations).
//! axe-core is vendored in tests/fixtures/axe (scripts/vendor-axe).

use fantoccini::Locator;

use crate::support::browser::{Browser, serve_app};

/// Opens `path` and records any violations under its name.
async fn check(browser: &Browser, base: &str, path: &str, problems: &mut Vec<String>, pages: &mut usize) {
    browser.client.goto(&format!("{base}{path}")).await.expect("page");
    browser.text("main").await;
    check_here(browser, path, problems, pages).await;
}

async fn check_here(browser: &Browser, name: &str, problems: &mut Vec<String>, pages: &mut usize) {
    *pages += 1;
    problems.extend(browser.axe_violations().await.into_iter().map(|v| format!("{name}: {v}")));
}

#[tokio::test]
async fn every_main_page_has_no_violation_axe_can_find() {
    let (base, _db) = serve_app().await;
    let browser = Browser::launch().await;
    let c = &browser.client;
    let mut problems = Vec::new();
    let mut pages = 0;

    for path in ["/", "/signin", "/signup", "/questions", "/rubrics"] {
        check(&browser, &base, path, &mut problems, &mut pages).await;
    }

    browser.sign_up(&base, "axeuser").await;
    for path in [
        "/",
        "/questions",
        "/questions?q=gradient&kind=coding",
        "/questions/coding-bounding-box-iou",
        "/rubrics",
        "/templates",
        "/templates/new",
        "/loops/new",
        "/history",
        "/history/questions",
        "/account",
    ] {
        check(&browser, &base, path, &mut problems, &mut pages).await;
    }

    // A self-timed phone screen: loop page, the round running with notes holding
    // a code block wider than the page, the self-assessment, both feedback pages.
    let loop_url = browser.schedule_loop(&base, "phone-screen", false).await;
    browser.click("#cancel-loop-confirm summary").await;
    check_here(&browser, "loop page, cancel asking to confirm", &mut problems, &mut pages).await;
    browser.click("#round-1 a.button").await;
    browser.text("#question-hidden").await;
    check_here(&browser, "round, not started", &mut problems, &mut pages).await;
    browser.click("#timer-start").await;
    browser.text("#question-1").await;
    let wide = format!("Plan:\n\n```python\nscores = [{}]\n```", "0.5, ".repeat(80));
    browser.fill("#notes-body", &wide).await;
    browser.wait_for_text("#notes-status", |t| t.starts_with("Saved")).await;
    c.refresh().await.expect("reload");
    browser.text("#question-1").await;
    check_here(&browser, "round, running", &mut problems, &mut pages).await;
    browser.click("#timer-end").await;
    browser.text("#round-complete").await;
    check_here(&browser, "round, ended", &mut problems, &mut pages).await;
    browser.click("#self-assess").await;
    browser.text("main").await;
    check_here(&browser, "self-assessment", &mut problems, &mut pages).await;
    let round_url = c.current_url().await.expect("url").to_string();
    let round_path = round_url.trim_end_matches("/assessment").to_owned();
    // Submitted with an integrity concern, so that the feedback pages show its flag too.
    for radio in c.find_all(Locator::Css("#scorecard-form input[value='na']")).await.expect("radios") {
        radio.click().await.expect("not assessed");
    }
    browser.click("#scorecard-form input[name='recommendation'][value='hire']").await;
    browser.click("#integrity-disclosed_confidential").await;
    browser.fill("#integrity_note", "Named a product that is not announced.").await;
    browser.click("#scorecard-submit").await;
    browser.text("#card-1-self-integrity").await;
    c.goto(&format!("{round_path}/feedback")).await.expect("round feedback");
    assert!(
        c.find(Locator::Css("pre[tabindex='0']")).await.is_ok(),
        "the round feedback shows the notes' code block, keyboard-scrollable"
    );
    check_here(&browser, "round feedback", &mut problems, &mut pages).await;
    c.goto(&format!("{loop_url}/feedback")).await.expect("loop feedback");
    browser.text("#integrity-concerns").await;
    check_here(&browser, "loop feedback", &mut problems, &mut pages).await;

    println!("FIGURE accessibility: {pages} pages checked with axe-core, {} violations", problems.len());
    assert!(problems.is_empty(), "{} violations:\n{}", problems.len(), problems.join("\n"));
    browser.close().await;
}

/// The peer pages: a new invitation, the interviewer's round with hints and
/// rubric, the scorecard form, the candidate's sealed feedback with its skip
/// action, and the confirmation before an interviewer is withdrawn.
#[tokio::test]
async fn the_peer_pages_have_no_violation_axe_can_find() {
    let (base, _db) = serve_app().await;
    let candidate = Browser::launch().await;
    let interviewer = Browser::launch().await;
    let mut problems = Vec::new();
    let mut pages = 0;
    candidate.sign_up(&base, "axecandidate").await;
    interviewer.sign_up(&base, "axeinterviewer").await;

    let c = &candidate.client;
    let loop_url = candidate.schedule_loop(&base, "phone-screen", true).await;
    let invite_path = candidate.invite_to_first_round().await;
    check_here(&candidate, "new invitation", &mut problems, &mut pages).await;

    let i = &interviewer.client;
    i.goto(&format!("{base}{invite_path}")).await.expect("invitation");
    interviewer.text("#accept-invitation").await;
    check_here(&interviewer, "invitation", &mut problems, &mut pages).await;
    interviewer.click("#accept-invitation").await;
    interviewer.wait_for_text("#timeline", |t| t.contains("interviewer")).await;
    check_here(&interviewer, "loop page, interviewer", &mut problems, &mut pages).await;
    // The candidate is asked before the interviewer is withdrawn (and does not confirm here).
    c.goto(&loop_url).await.expect("loop");
    candidate.click("form[action$='/revoke'] button").await;
    candidate.text("#withdraw-confirmation").await;
    check_here(&candidate, "withdraw confirmation", &mut problems, &mut pages).await;
    interviewer.click("#round-1 a.button").await;
    interviewer.text("#hints-1").await;
    check_here(&interviewer, "round, interviewer, not started", &mut problems, &mut pages).await;
    interviewer.click("#timer-start").await;
    interviewer.wait_for_text("#timer-state", |t| t.starts_with("Running")).await;
    check_here(&interviewer, "round, interviewer, running", &mut problems, &mut pages).await;
    let round_path = i.current_url().await.expect("url").path().to_owned();
    interviewer.click("#timer-end").await;
    interviewer.wait_for_text("#timer-state", |t| t.starts_with("Ended")).await;
    i.goto(&format!("{base}{round_path}/assessment")).await.expect("scorecard");
    interviewer.text("main").await;
    check_here(&interviewer, "scorecard form", &mut problems, &mut pages).await;

    c.goto(&format!("{base}{round_path}/feedback")).await.expect("feedback");
    candidate.text("main").await;
    check_here(&candidate, "round feedback, candidate, sealed", &mut problems, &mut pages).await;

    println!("FIGURE accessibility.peer: {pages} peer pages checked with axe-core, {} violations", problems.len());
    assert!(problems.is_empty(), "{} violations:\n{}", problems.len(), problems.join("\n"));
    candidate.close().await;
    interviewer.close().await;
}
