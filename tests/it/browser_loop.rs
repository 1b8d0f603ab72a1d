//! A self-timed loop in Chromium, from building its template to the history
//! page; and a round that survives the server being killed and restarted.

use std::time::Duration;

use fantoccini::Locator;

use crate::support::TestDb;
use crate::support::browser::{Browser, serve_app};
use crate::support::server::{Server, ServerDatabase, free_port};

/// "44:58" or "+1:02:03" as signed seconds remaining.
fn clock_seconds(text: &str) -> i64 {
    let (sign, digits) = match text.trim().strip_prefix('+') {
        Some(rest) => (-1, rest),
        None => (1, text.trim()),
    };
    sign * digits.split(':').fold(0, |total, part| total * 60 + part.parse::<i64>().unwrap_or(0))
}

async fn schedule_two_round_loop(browser: &Browser, base: &str) -> String {
    let c = &browser.client;
    c.goto(&format!("{base}/templates/new")).await.expect("builder");
    browser.fill("#name", "Two-round practice").await;
    browser.fill("#minutes_0", "20").await;
    browser.fill("#minutes_1", "15").await;
    browser.click("#save-template").await;
    browser.wait_for_text("#template-list", |t| t.contains("Two-round practice")).await;

    c.goto(&format!("{base}/loops/new")).await.expect("new loop");
    browser.click("input[name=template][value^=my-]").await;
    browser.click("#schedule-loop").await;
    browser.wait_for_text("#loop-seed", |t| !t.is_empty()).await;
    c.current_url().await.expect("url").to_string()
}

async fn assess(browser: &Browser, recommendation: &str) {
    browser.click("#self-assess").await;
    let groups = browser
        .client
        .find_all(Locator::Css("fieldset.criterion .score-options[role=radiogroup]"))
        .await
        .expect("criteria");
    for (index, group) in groups.iter().enumerate() {
        let value = if index == 0 { "na" } else { "3" };
        group
            .find(Locator::Css(&format!("input[value='{value}']")))
            .await
            .expect("radio")
            .click()
            .await
            .expect("click");
    }
    for textarea in browser.client.find_all(Locator::Css("textarea[name^=evidence_]")).await.expect("evidence") {
        textarea.send_keys("Explained the trade-offs clearly.").await.expect("type");
    }
    browser.click(&format!("input[name=recommendation][value={recommendation}]")).await;
    browser.fill("#strengths", "Structured answers").await;
    browser.fill("#areas_to_improve", "Test edge cases earlier").await;
    browser.click("#scorecard-submit").await;
    browser.wait_for_text("h1", |t| t.starts_with("Round feedback")).await;
}

#[tokio::test]
async fn a_two_round_self_timed_loop_runs_from_scheduling_to_history() {
    let (base, _db) = serve_app().await;
    let browser = Browser::launch().await;
    let c = &browser.client;
    browser.sign_up(&base, "looper").await;
    let loop_url = schedule_two_round_loop(&browser, &base).await;
    assert!(browser.text("#timeline").await.contains("Revealed when the round starts"));

    // Round 1: hidden until started, then the clock runs.
    browser.click("#round-1 a.button").await;
    browser.text("#question-hidden").await;
    assert_eq!(browser.text("#clock").await, "20:00");
    browser.click("#timer-start").await;
    browser.text("#question-1").await;
    browser.wait_for_text("#clock", |t| clock_seconds(t) < 1200).await;

    browser.click("#timer-pause").await;
    browser.wait_for_text("#timer-state", |t| t.starts_with("Paused")).await;
    browser.click("#timer-resume").await;
    browser.wait_for_text("#timer-state", |t| t.starts_with("Running")).await;
    browser.click("#timer-extend").await;
    browser.wait_for_text("#clock", |t| clock_seconds(t) > 1200).await;

    // Notes autosave; a reload shows the same notes and the same time.
    browser.fill("#notes-body", "Use a min-heap.\n\n```python\nheapq.heappush(h, x)\n```").await;
    browser.wait_for_text("#notes-status", |t| t.starts_with("Saved")).await;
    browser.click("#timer-pause").await;
    browser.wait_for_text("#timer-state", |t| t.starts_with("Paused")).await;
    let before = browser.text("#clock").await;
    c.refresh().await.expect("reload");
    assert_eq!(browser.text("#clock").await, before, "a paused timer reads the same after a reload");
    let notes = browser.field_value("#notes-body").await;
    assert_eq!(notes.as_deref(), Some("Use a min-heap.\n\n```python\nheapq.heappush(h, x)\n```"));
    browser.click("#timer-resume").await;
    browser.wait_for_text("#timer-state", |t| t.starts_with("Running")).await;
    let running = clock_seconds(&browser.text("#clock").await);
    c.refresh().await.expect("reload");
    let after_reload = clock_seconds(&browser.text("#clock").await);
    assert!(
        (running - after_reload).abs() <= 3,
        "running timer consistent across reloads: {running} vs {after_reload}"
    );

    browser.click("#timer-end").await;
    browser.text("#round-complete").await;
    assess(&browser, "hire").await;
    assert!(browser.text("#card-1-self").await.contains("Explained the trade-offs clearly."));

    // Round 2, from the loop page.
    c.goto(&loop_url).await.expect("loop");
    browser.click("#round-2 a.button").await;
    browser.click("#timer-start").await;
    browser.text("#question-1").await;
    browser.click("#timer-end").await;
    browser.text("#round-complete").await;
    assess(&browser, "strong_hire").await;

    c.goto(&format!("{loop_url}/feedback")).await.expect("debrief");
    assert_eq!(browser.text("#outcome-decision").await, "Strong Hire");
    assert!(!browser.text("#outcome-rule").await.is_empty());
    c.find(Locator::Css("#pillar-chart svg rect.bar")).await.expect("the pillar chart has bars");
    let rounds = browser.text("#rounds-table").await;
    assert!(rounds.contains("Hire") && rounds.contains("Strong Hire"), "{rounds}");

    c.goto(&format!("{base}/history")).await.expect("history");
    assert!(browser.text("#history-loops").await.contains("Two-round practice"));
    c.find(Locator::Css("#pillar-progress svg polyline")).await.expect("progress chart drawn");
    c.goto(&format!("{base}/history/questions")).await.expect("questions had");
    assert!(browser.text("#questions-seen").await.contains("score 3.0"));
    browser.close().await;
}

#[tokio::test]
async fn a_running_round_survives_the_server_being_killed_and_restarted() {
    let db = TestDb::new().await;
    let url = db.url();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let server = Server::start(ServerDatabase::Url(&url), port);
    server.wait_ready().await;

    let browser = Browser::launch().await;
    browser.sign_up(&base, "survivor").await;
    let loop_url = schedule_two_round_loop(&browser, &base).await;
    browser.client.goto(&loop_url).await.expect("loop");
    browser.click("#round-1 a.button").await;
    browser.click("#timer-start").await;
    browser.text("#question-1").await;
    browser.fill("#notes-body", "Notes written before the crash").await;
    browser.wait_for_text("#notes-status", |t| t.starts_with("Saved")).await;
    let before = clock_seconds(&browser.text("#clock").await);

    server.kill();
    // While it is down the page keeps counting and says it is reconnecting.
    browser.wait_for_text("#connection", |t| t.contains("Reconnecting")).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let server = Server::start(ServerDatabase::Url(&url), port);
    server.wait_ready().await;

    // The live stream reconnects by itself; then a reload reads the stored state.
    browser.wait_for_text("#connection", |t| t.is_empty()).await;
    browser.client.refresh().await.expect("reload");
    let after = clock_seconds(&browser.text("#clock").await);
    assert!(
        after < before && before - after <= 20,
        "the timer kept running on the server's clock: {before} then {after}"
    );
    assert_eq!(browser.text("#timer-state").await, "Running");
    let notes = browser.field_value("#notes-body").await;
    assert_eq!(notes.as_deref(), Some("Notes written before the crash"));
    browser.close().await;
    server.terminate();
}

#[tokio::test]
async fn only_the_five_minute_milestone_is_announced_when_the_clock_crosses_it() {
    let (base, db) = serve_app().await;
    let browser = Browser::launch().await;
    browser.sign_up(&base, "listener").await;
    schedule_two_round_loop(&browser, &base).await;
    browser.click("#round-1 a.button").await;
    browser.click("#timer-start").await;
    browser.text("#question-1").await;

    // Move the stored start back so that 5:02 of the 20 minutes remain.
    sqlx::query(
        "update rounds set running_since = running_since - interval '898 seconds',
                           started_at = started_at - interval '898 seconds'
         where timer_state = 'running'",
    )
    .execute(&db.pool)
    .await
    .expect("rewind");
    browser.client.refresh().await.expect("reload");
    let clock = browser.text("#clock").await;
    assert!((295..=302).contains(&clock_seconds(&clock)), "{clock}");
    assert_eq!(browser.text("#timer-announcer").await, "", "the ticking itself is not announced");
    let role = browser.client.find(Locator::Css("#clock")).await.expect("clock").attr("role").await.expect("role");
    assert_eq!(role.as_deref(), Some("timer"));
    let announced = browser.wait_for_text("#timer-announcer", |t| !t.is_empty()).await;
    assert_eq!(announced, "Five minutes left.");
    assert!(
        browser.client.find(Locator::Css("#clock.milestone-five-minutes")).await.is_ok(),
        "the warning colour is on"
    );
    browser.close().await;
}
