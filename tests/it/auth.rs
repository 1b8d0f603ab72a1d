//! Accounts: sign up, sign in, sign out, sessions and throttling.

use axum::http::StatusCode;
use mockloop::state::Settings;

use crate::helpers::TestApp;

#[tokio::test]
async fn signing_up_signs_you_in_and_shows_your_name() {
    let app = TestApp::new().await;
    let response = app
        .post_form(
            "/signup",
            &[
                ("username", "Ada"),
                ("display_name", "Ada L."),
                ("password", "correct horse"),
                ("password_confirm", "correct horse"),
            ],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let cookie = response.session_cookie().expect("cookie");
    let set_cookie = response.header("set-cookie");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");

    let home = app.get("/", Some(&cookie)).await;
    assert!(home.body.contains(r#"id="signed-in-as">Ada L.<"#), "{}", home.body);
    let stored: String = sqlx::query_scalar("select password_hash from users where username = 'ada'")
        .fetch_one(&app.db)
        .await
        .expect("user stored lowercased");
    assert!(stored.starts_with("$argon2id$"), "stored as argon2id: {stored}");
}

#[tokio::test]
async fn sign_up_errors_keep_what_was_typed_except_the_password() {
    let app = TestApp::new().await;
    let response = app
        .post_form(
            "/signup",
            &[("username", "grace"), ("display_name", "Grace H"), ("password", "tiny"), ("password_confirm", "tiny")],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Use at least 8 characters."), "{}", response.body);
    assert!(response.body.contains(r#"value="grace""#) && response.body.contains(r#"value="Grace H""#));
    assert!(!response.body.contains("tiny"), "the password is never echoed back");
    assert_eq!(app.count("select count(*) from users").await, 0);
}

#[tokio::test]
async fn a_taken_username_is_refused_whatever_its_case() {
    let app = TestApp::new().await;
    app.sign_up("linus").await;
    let response = app
        .post_form(
            "/signup",
            &[("username", "LINUS"), ("password", "another pass"), ("password_confirm", "another pass")],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("That username is taken"), "{}", response.body);
    assert_eq!(app.count("select count(*) from users").await, 1);
}

#[tokio::test]
async fn mismatched_passwords_are_refused() {
    let app = TestApp::new().await;
    let response = app
        .post_form(
            "/signup",
            &[("username", "ken"), ("password", "correct horse"), ("password_confirm", "correct horsf")],
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("The two passwords differ."));
}

#[tokio::test]
async fn a_wrong_password_gets_a_form_error_and_keeps_the_username() {
    let app = TestApp::new().await;
    app.sign_up("barbara").await;
    let response = app.post_form("/signin", &[("username", "Barbara"), ("password", "wrong horse")], None).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Wrong username or password."), "{}", response.body);
    assert!(response.body.contains(r#"value="Barbara""#));
    assert!(!response.body.contains("wrong horse"));
    assert!(response.session_cookie().is_none());
}

#[tokio::test]
async fn signing_in_issues_a_new_session_id_and_retires_the_old_one() {
    let app = TestApp::new().await;
    let first = app.sign_up("edsger").await;
    let response =
        app.post_form("/signin", &[("username", "edsger"), ("password", "correct horse")], Some(&first)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    let second = response.session_cookie().expect("new cookie");
    assert_ne!(first, second, "the session id changes at sign-in");
    assert!(app.get("/", Some(&second)).await.body.contains("signed-in-as"));
    assert!(!app.get("/", Some(&first)).await.body.contains("signed-in-as"), "the old id no longer works");
}

#[tokio::test]
async fn signing_in_returns_to_the_page_that_asked_but_never_off_site() {
    let app = TestApp::new().await;
    app.sign_up("tony").await;
    let back = app
        .post_form(
            "/signin",
            &[("username", "tony"), ("password", "correct horse"), ("next", "/questions?q=graph")],
            None,
        )
        .await;
    assert_eq!(back.header("location"), "/questions?q=graph");
    let evil = app
        .post_form("/signin", &[("username", "tony"), ("password", "correct horse"), ("next", "//evil.example/")], None)
        .await;
    assert_eq!(evil.header("location"), "/");
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("margaret").await;
    let response = app.post_form("/signout", &[], Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert!(response.header("set-cookie").contains("Max-Age=0"));
    assert!(!app.get("/", Some(&cookie)).await.body.contains("signed-in-as"), "the old cookie is dead");
    assert_eq!(app.count("select count(*) from sessions").await, 0);
}

#[tokio::test]
async fn repeated_wrong_passwords_are_throttled_with_retry_after() {
    let app = TestApp::new().await;
    app.sign_up("alan").await;
    for _ in 0..5 {
        let response = app.post_form("/signin", &[("username", "alan"), ("password", "nope nope")], None).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Even the right password waits now.
    let response = app.post_form("/signin", &[("username", "alan"), ("password", "correct horse")], None).await;
    assert_eq!(response.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = response.header("retry-after").parse().expect("Retry-After in seconds");
    assert!((1..=900).contains(&wait), "{wait}");
    assert!(response.body.contains("Too many failed attempts"), "{}", response.body);
    assert!(response.session_cookie().is_none());
    println!(
        "FIGURE limits.throttle_account: 5 wrong passwords, then 429 with Retry-After {wait} s, even for the right one"
    );
}

#[tokio::test]
async fn many_failures_from_one_address_throttle_every_account_from_it() {
    let app = TestApp::with_settings(Settings {
        base_url: "http://localhost".into(),
        secure_cookies: false,
        behind_proxy: true,
    })
    .await;
    app.sign_up("victim").await;
    let from = [("sec-fetch-site", "same-origin"), ("x-forwarded-for", "203.0.113.9")];
    for n in 0..20 {
        let name = format!("guess{n}");
        app.post_form_with("/signin", &[("username", &name), ("password", "whatever1")], None, &from).await;
    }
    let blocked =
        app.post_form_with("/signin", &[("username", "victim"), ("password", "correct horse")], None, &from).await;
    assert_eq!(blocked.status, StatusCode::TOO_MANY_REQUESTS);
    let elsewhere = [("sec-fetch-site", "same-origin"), ("x-forwarded-for", "198.51.100.7")];
    let other =
        app.post_form_with("/signin", &[("username", "victim"), ("password", "correct horse")], None, &elsewhere).await;
    assert_eq!(other.status, StatusCode::SEE_OTHER, "another address is not affected");
    println!(
        "FIGURE limits.throttle_address: 20 failures from one address, then 429 with Retry-After {} s for every account from it, other addresses unaffected",
        blocked.header("retry-after")
    );
}

#[tokio::test]
async fn secure_cookies_are_marked_secure() {
    let app =
        TestApp::with_settings(Settings { base_url: "https://x".into(), secure_cookies: true, behind_proxy: false })
            .await;
    let response = app
        .post_form(
            "/signup",
            &[("username", "sam"), ("password", "correct horse"), ("password_confirm", "correct horse")],
            None,
        )
        .await;
    assert!(response.header("set-cookie").contains("; Secure"));
    assert!(response.header("strict-transport-security").contains("max-age="));
}
