//! Cross-site request refusal and the headers on every response.

use axum::http::StatusCode;
use mockloop::state::Settings;

use crate::support::browser::{Browser, serve_app};
use crate::support::{LoopBuilder, ScheduledLoop, TestApp};

#[tokio::test]
async fn a_forged_cross_site_sign_up_is_refused_and_changes_nothing() {
    let app = TestApp::new().await;
    let form = [("username", "mallory"), ("password", "correct horse"), ("password_confirm", "correct horse")];
    let response = app.post_form_with("/signup", &form, None, &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert!(response.body.contains("Request refused"), "{}", response.body);
    assert_eq!(app.count("select count(*) from users").await, 0);
}

#[tokio::test]
async fn a_post_from_another_origin_without_fetch_metadata_is_refused() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("victim").await;
    let response = app
        .post_form_with("/signout", &[], Some(&cookie), &[("origin", "https://evil.example"), ("host", "localhost")])
        .await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("select count(*) from sessions").await, 1, "the session survived");
}

#[tokio::test]
async fn a_post_from_the_same_host_on_another_scheme_is_refused() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("schemer").await;
    let https_origin = [("origin", "https://localhost"), ("host", "localhost")];
    let refused = app.post_form_with("/signout", &[], Some(&cookie), &https_origin).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "an https page is another site to an http server");
    assert_eq!(app.count("select count(*) from sessions").await, 1, "the session survived");

    let same = app
        .post_form_with("/signout", &[], Some(&cookie), &[("origin", "http://localhost"), ("host", "localhost")])
        .await;
    assert_eq!(same.status, StatusCode::SEE_OTHER, "the site's own origin is accepted");

    let secure = TestApp::with_settings(Settings {
        base_url: "https://localhost".into(),
        secure_cookies: true,
        behind_proxy: true,
    })
    .await;
    let form = [("username", "mallory"), ("password", "correct horse"), ("password_confirm", "correct horse")];
    let downgraded =
        secure.post_form_with("/signup", &form, None, &[("origin", "http://localhost"), ("host", "localhost")]).await;
    assert_eq!(downgraded.status, StatusCode::FORBIDDEN, "an http page is another site to an https one");
    let own =
        secure.post_form_with("/signup", &form, None, &[("origin", "https://localhost"), ("host", "localhost")]).await;
    assert_eq!(own.status, StatusCode::SEE_OTHER, "{}", own.body);
}

#[tokio::test]
async fn pages_that_show_a_secret_link_are_not_stored() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("secretive").await;
    let feed = app.post_form("/calendar/feed", &[], Some(&cookie)).await;
    assert_eq!(feed.status, StatusCode::OK);
    assert!(feed.body.contains("/calendar/feed/"), "the page shows the feed URL");
    assert_eq!(feed.header("cache-control"), "no-store");

    let ScheduledLoop { path: loop_path, rounds, .. } = LoopBuilder::peer_pair().for_user(&cookie).schedule(&app).await;
    let round_id = rounds[0].trim_start_matches("/rounds/");
    let invitation = app.post_form(&format!("{loop_path}/invitations"), &[("round", round_id)], Some(&cookie)).await;
    assert_eq!(invitation.status, StatusCode::OK, "{}", invitation.body);
    assert!(invitation.body.contains("/invite/"), "the page shows the invitation link");
    assert_eq!(invitation.header("cache-control"), "no-store");
}

/// A signed-in Chromium sent to the sign-in page with a crafted `next`, then
/// one that signs in through the form: both end up on the site's home page.
#[tokio::test]
async fn a_browser_sent_to_sign_in_with_a_hostile_next_stays_on_the_site() {
    let (base, _db) = serve_app().await;
    let browser = Browser::launch().await;
    let site = url::Url::parse(&base).expect("base URL");
    let hostile = [
        "%2F%09%2Fevil.example%2F",
        "%2F%0A%2Fevil.example%2F",
        "%2F%5Cevil.example%2F",
        "%2F%2Fevil.example%2F",
        "https%3A%2F%2Fevil.example%2F",
        "%2F%0D%0ALocation%3A%20https%3A%2F%2Fevil.example",
    ];
    let landed_on = |url: url::Url, next: &str| {
        assert_eq!(url.origin(), site.origin(), "next={next} took the browser to {url}");
        assert_eq!(url.path(), "/", "next={next}");
    };

    browser.sign_up(&base, "browsing").await;
    for next in hostile {
        if let Err(error) = browser.client.goto(&format!("{base}/signin?next={next}")).await {
            panic!("next={next}: the browser was sent off the site ({error})");
        }
        landed_on(browser.client.current_url().await.expect("url"), next);
    }

    browser.click("#sign-out").await;
    browser.text("#nav-sign-in").await;
    for next in hostile {
        browser.sign_in_at(&format!("{base}/signin?next={next}"), "browsing").await;
        landed_on(browser.client.current_url().await.expect("url"), next);
        browser.click("#sign-out").await;
        browser.text("#nav-sign-in").await;
    }
    browser.close().await;
}

#[tokio::test]
async fn a_same_site_subdomain_post_is_refused_too() {
    let app = TestApp::new().await;
    let form = [("username", "mallory"), ("password", "correct horse")];
    let response = app.post_form_with("/signin", &form, None, &[("sec-fetch-site", "same-site")]).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("hedy").await;
    let slug: String =
        sqlx::query_scalar("select slug from questions limit 1").fetch_one(&app.db).await.expect("a question");
    let mut responses = Vec::new();
    for path in [
        "/",
        "/signin",
        "/signup",
        "/questions",
        &format!("/questions/{slug}"),
        "/rubrics",
        "/rubrics/coding",
        "/templates",
        "/static/app.css",
        "/no-such-page",
        "/questions/no-such-question",
        "/healthz",
        "/readyz",
    ] {
        responses.push((path.to_owned(), app.get(path, Some(&cookie)).await));
    }
    responses.push((
        "forged post".into(),
        app.post_form_with("/signout", &[], None, &[("sec-fetch-site", "cross-site")]).await,
    ));
    responses.push(("bad sign-in".into(), app.post_form("/signin", &[("username", "x")], None).await));

    for (what, response) in &responses {
        let csp = response.header("content-security-policy");
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"), "{what}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{what}: no inline script or style");
        assert_eq!(response.header("x-content-type-options"), "nosniff", "{what}");
        assert_eq!(response.header("referrer-policy"), "same-origin", "{what}");
    }
    let not_found = &responses.iter().find(|(p, _)| p == "/no-such-page").expect("404").1;
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);
    assert!(not_found.body.contains("Page not found") && not_found.page().has(".site-nav"), "404 is in the layout");
}

#[tokio::test]
async fn pages_have_no_inline_script_or_style() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("inline").await;
    for path in ["/", "/questions", "/rubrics", "/signin"] {
        let response = app.get(path, Some(&cookie)).await;
        let page = response.page();
        assert!(!response.body.contains("<script>") && !response.body.contains(" style="), "{path}");
        let inline = (page.count("script:not([src])"), page.count("[style]"), page.count("style"));
        assert_eq!(inline, (0, 0, 0), "{path}: inline scripts, style attributes, style elements");
    }
}
