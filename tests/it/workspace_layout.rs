//! The coding workspace as it lays out in Chromium: on a 1280 px laptop screen
//! the timer, the prompt and the editor are in view together without
//! scrolling; on a 390 px phone nothing runs off the side and the editor and
//! its "Run tests" button are reachable.

use std::time::Duration;

use serde_json::Value;

use crate::support::app::settings;
use crate::support::browser::{Browser, serve_app_on};
use crate::support::workspace::make_runnable;
use crate::support::{LoopBuilder, TestApp, TestDb};

/// Where an element sits in the viewport, and how big the viewport is.
async fn placement(browser: &Browser, css: &str) -> Value {
    browser
        .client
        .execute(
            "const box = document.querySelector(arguments[0]).getBoundingClientRect();
             return { top: box.top, bottom: box.bottom, left: box.left, right: box.right,
                      width: box.width, height: box.height,
                      viewport_width: document.documentElement.clientWidth, viewport_height: window.innerHeight,
                      page_width: document.documentElement.scrollWidth };",
            vec![Value::String(css.to_owned())],
        )
        .await
        .unwrap_or_else(|error| panic!("{css}: {error}"))
}

fn number(placement: &Value, key: &str) -> f64 {
    placement[key].as_f64().unwrap_or_else(|| panic!("{key} in {placement}"))
}

/// Whether at least `least` px of the element's height is inside the viewport, unscrolled.
fn in_view(placement: &Value, least: f64) -> bool {
    let visible =
        number(placement, "bottom").min(number(placement, "viewport_height")) - number(placement, "top").max(0.0);
    visible >= least && number(placement, "right") <= number(placement, "viewport_width") + 0.5
}

#[tokio::test]
async fn the_coding_workspace_fits_a_laptop_screen_and_stays_usable_on_a_phone() {
    let db = TestDb::new().await;
    let app = TestApp::on(db.pool.clone(), settings());
    let cookie = app.sign_up("laptop").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let round = &scheduled.rounds[0];
    make_runnable(&app, round).await;
    let base = serve_app_on(&db).await;
    let browser = Browser::launch().await;
    browser.sign_in_at(&format!("{base}/signin"), "laptop").await;

    // A laptop: 1280 × 800 CSS pixels of page.
    browser.client.set_window_size(1280, 800).await.expect("laptop size");
    browser.client.goto(&format!("{base}{round}")).await.expect("round page");
    browser.text("#code-editor .cm-content").await;
    let laptop = browser.save_screenshot().await;
    for (what, css, least) in [
        ("timer", "#clock", 30.0),
        ("prompt", "#question-1 .prompt", 120.0),
        ("editor", "#code-editor .cm-editor", 200.0),
    ] {
        let seen = placement(&browser, css).await;
        assert!(in_view(&seen, least), "the {what} is in view on a 1280 px screen: {seen}; screenshot {laptop}");
    }

    // A phone: 390 px wide. Nothing runs off the side; the editor fills the width.
    browser.client.set_window_size(390, 844).await.expect("phone size");
    browser.client.goto(&format!("{base}{round}")).await.expect("round page");
    browser.text("#code-editor .cm-content").await;
    let phone = browser.save_screenshot().await;
    let page = placement(&browser, "body").await;
    assert!(
        number(&page, "page_width") <= number(&page, "viewport_width"),
        "no sideways scrolling at 390 px: {page}; screenshot {phone}"
    );
    let editor = placement(&browser, "#code-editor .cm-editor").await;
    assert!(number(&editor, "width") >= 320.0, "the editor takes the width: {editor}; screenshot {phone}");
    assert!(number(&editor, "right") <= number(&editor, "viewport_width") + 0.5, "the editor fits: {editor}");
    browser.click("#run-tests").await;
    browser
        .wait_for_text_within("#run-results .run-summary", Duration::from_secs(60), |summary| {
            summary.contains("tests passed")
        })
        .await;
    let violations = browser.axe_violations().await;
    browser.close().await;
    assert!(violations.is_empty(), "axe at 390 px: {violations:?}");
}
