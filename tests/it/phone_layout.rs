//! Pages at a 390 px phone width: nothing scrolls sideways.

use crate::support::app::settings;
use crate::support::browser::{Browser, serve_app_on};
use crate::support::{TestApp, TestDb};

/// How wide the page's content is, and how wide the viewport.
async fn widths(browser: &Browser) -> (i64, i64) {
    let value = browser
        .client
        .execute("return [document.documentElement.scrollWidth, document.documentElement.clientWidth];", vec![])
        .await
        .expect("widths");
    let pair: Vec<i64> = serde_json::from_value(value).expect("two numbers");
    (pair[0], pair[1])
}

#[tokio::test]
async fn history_with_two_years_of_loops_fits_a_phone_without_sideways_scrolling() {
    let db = TestDb::new().await;
    let app = TestApp::on(db.pool.clone(), settings());
    app.sign_up("phonereader").await;
    let request = mockloop::commands::demo_request(1, 30, 31).expect("demo request");
    let mut conn = db.pool.acquire().await.expect("connection");
    mockloop::db::demo::generate(&mut conn, &request, &mut |_| {}).await.expect("demo data");
    // The demo user signs in with the test password, as the browser helper types it.
    sqlx::query(
        "update users set password_hash = (select password_hash from users where username = 'phonereader')
         where username = 'demo-31-1'",
    )
    .execute(&db.pool)
    .await
    .expect("password");
    let base = serve_app_on(&db).await;
    let browser = Browser::launch().await;
    browser.client.set_window_size(390, 844).await.expect("phone size");
    browser.sign_in_at(&format!("{base}/signin"), "demo-31-1").await;
    browser.client.goto(&format!("{base}/history")).await.expect("history");
    browser.text("main h1").await;
    let (content, viewport) = widths(&browser).await;
    let shot = browser.save_screenshot().await;
    let violations = browser.axe_violations().await;
    browser.close().await;
    assert!(content <= viewport, "history is {content} px wide in a {viewport} px viewport; screenshot {shot}");
    assert!(violations.is_empty(), "axe at 390 px: {violations:?}");
}
