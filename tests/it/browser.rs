//! A first journey in a real headless Chromium: signing up, out and in, then
//! searching the bank and revealing a hint.

use fantoccini::Locator;

use crate::support::browser::{Browser, serve_app};

#[tokio::test]
async fn a_new_user_signs_up_out_and_in_then_searches_and_reveals_a_hint() {
    let (base, _db) = serve_app().await;
    let browser = Browser::launch().await;
    let c = &browser.client;

    c.goto(&base).await.expect("home");
    browser.click("#nav-sign-up").await;
    browser.fill("#username", "journey").await;
    browser.fill("#display_name", "Journey Tester").await;
    browser.fill("#password", "correct horse").await;
    browser.fill("#password_confirm", "correct horse").await;
    browser.click("#sign-up-submit").await;
    assert_eq!(browser.text("#signed-in-as").await, "Journey Tester");

    browser.click("#sign-out").await;
    assert_eq!(browser.text("#nav-sign-in").await, "Sign in");

    // A wrong password first: the form says so and keeps the username.
    browser.click("#nav-sign-in").await;
    browser.fill("#username", "journey").await;
    browser.fill("#password", "wrong horse").await;
    browser.click("#sign-in-submit").await;
    assert_eq!(browser.text("#password-error").await, "Wrong username or password.");
    let kept = browser.field_value("#username").await;
    assert_eq!(kept.as_deref(), Some("journey"));
    browser.fill("#password", "correct horse").await;
    browser.click("#sign-in-submit").await;
    assert_eq!(browser.text("#signed-in-as").await, "Journey Tester");

    c.goto(&format!("{base}/questions")).await.expect("bank");
    browser.fill("#q", "attention positional encodings").await;
    browser.click("#search-submit").await;
    assert!(browser.text("#result-count").await.starts_with("Showing 1–"), "results found");
    browser.click("#question-list li:first-child .question-title").await;
    assert!(!browser.text("#prompt").await.is_empty());

    let first_hint = c.find(Locator::Css("#hints li")).await.expect("hint element");
    assert!(!first_hint.is_displayed().await.expect("visibility"), "hints start hidden");
    browser.click("#reveal-hints summary").await;
    assert!(first_hint.is_displayed().await.expect("visibility"), "revealed");
    assert!(!first_hint.text().await.expect("text").is_empty());

    browser.close().await;
}

#[tokio::test]
async fn the_browser_writes_the_clock_as_the_server_does() {
    let (base, _db) = serve_app().await;
    let browser = Browser::launch().await;
    browser.sign_up(&base, "clockreader").await;
    browser.schedule_loop(&base, "phone-screen", false).await;
    browser.click("#timeline a[href^='/rounds/']").await;
    browser.text("#clock").await;
    // Remaining time rounds up and overtime down, across the minute and hour boundaries.
    let samples: Vec<i64> = vec![
        0, 1, 999, 1_000, 1_001, 59_999, 60_000, 61_500, 599_001, 3_599_999, 3_600_000, 3_661_001, 36_000_000, -1,
        -999, -1_000, -1_001, -59_999, -60_000, -3_600_000, -3_661_999,
    ];
    let written = browser
        .client
        .execute("return arguments[0].map(window.mockloop.formatClock);", vec![serde_json::json!(samples)])
        .await
        .expect("formatClock runs");
    let written: Vec<String> = serde_json::from_value(written).expect("a list of strings");
    let expected: Vec<String> = samples.iter().map(|ms| mockloop::domain::timer::format_clock(*ms)).collect();
    assert_eq!(written, expected);
    browser.close().await;
}
