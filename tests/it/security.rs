//! Cross-site request refusal and the headers on every response.

use axum::http::StatusCode;

use crate::helpers::TestApp;

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
    assert!(not_found.body.contains("Page not found") && not_found.body.contains("site-nav"), "404 is in the layout");
}

#[tokio::test]
async fn pages_have_no_inline_script_or_style() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("inline").await;
    for path in ["/", "/questions", "/rubrics", "/signin"] {
        let body = app.get(path, Some(&cookie)).await.body;
        assert!(!body.contains("<script>") && !body.contains(" style=") && !body.contains("<style"), "{path}");
    }
}
