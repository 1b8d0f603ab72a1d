//! The HTTP test client: the app's router on its own test database, driven
//! with `oneshot` requests as a browser on the site sends them, and the
//! accounts tests sign up and in with.

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use mockloop::state::{AppState, Settings};
use serde_json::Value;
use sqlx::PgPool;
use tower::ServiceExt;
use uuid::Uuid;

use super::db::TestDb;
use super::html::Page;

/// The password every test account is made with.
pub const PASSWORD: &str = "correct horse";

/// Headers the pages' scripts send: same-origin, asking for JSON.
pub const JSON: [(&str, &str); 2] = [("sec-fetch-site", "same-origin"), ("accept", "application/json")];

/// The settings of a test app: plain HTTP on localhost, not behind a proxy.
pub fn settings() -> Settings {
    Settings { base_url: "http://localhost".into(), secure_cookies: false, behind_proxy: false }
}

/// [`settings`], behind a proxy: the client address comes from X-Forwarded-For.
pub fn behind_proxy() -> Settings {
    Settings { behind_proxy: true, ..settings() }
}

/// The app's router on its own test database.
pub struct TestApp {
    pub db: PgPool,
    router: Router,
}

/// A whole answer of the router: status, headers and the body as text.
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    /// The session cookie this response sets, as `name=value`.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("mockloop_session=") && !v.starts_with("mockloop_session=;"))
            .and_then(|v| v.split(';').next())
            .map(str::to_owned)
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// The body as an HTML document, for structural checks.
    pub fn page(&self) -> Page {
        Page::parse(&self.body)
    }

    /// The body as JSON (panics with the body if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("JSON: {}", self.body))
    }
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_settings(settings()).await
    }

    pub async fn with_settings(settings: Settings) -> TestApp {
        Self::on(TestDb::new().await.pool, settings)
    }

    /// The router on a database that something else (a served app, say) uses too.
    pub fn on(db: PgPool, settings: Settings) -> TestApp {
        Self::with_state(AppState::new(db.clone(), settings))
    }

    /// The router over state built by the test (another sign-up policy, say).
    pub fn with_state(state: AppState) -> TestApp {
        TestApp { db: state.db.clone(), router: mockloop::startup::build_router(state) }
    }

    /// Another instance of the app on this app's database, with its own pool and
    /// live-event listener as a second server process has: sharing this app's
    /// five connections, three listeners left two for every request and read.
    pub fn other_instance(&self) -> Router {
        let options = (*self.db.connect_options()).clone();
        let pool = mockloop::db::pool_options(5).connect_lazy_with(options);
        mockloop::startup::build_router(AppState::new(pool, settings()))
    }

    /// [`TestApp::other_instance`] to send requests to as to this one.
    pub fn other_instance_app(&self) -> TestApp {
        TestApp { db: self.db.clone(), router: self.other_instance() }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn get(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).expect("request")).await
    }

    /// A form post as a browser on this site sends it.
    pub async fn post_form(&self, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> TestResponse {
        self.post_form_with(path, form, cookie, &[("sec-fetch-site", "same-origin")]).await
    }

    /// A form post as the pages' scripts send it (asking for JSON).
    pub async fn post_json(&self, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> TestResponse {
        self.post_form_with(path, form, cookie, &JSON).await
    }

    pub async fn post_form_with(
        &self,
        path: &str,
        form: &[(&str, &str)],
        cookie: Option<&str>,
        extra_headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        for (name, value) in extra_headers {
            request = request.header(*name, *value);
        }
        let body = serde_urlencoded::to_string(form).expect("form encodes");
        self.send(request.body(Body::from(body)).expect("request")).await
    }

    /// A JSON post as the pages' scripts send it.
    pub async fn post_json_body(&self, path: &str, body: &serde_json::Value, cookie: Option<&str>) -> TestResponse {
        let mut request = Request::post(path).header(header::CONTENT_TYPE, "application/json");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        for (name, value) in JSON {
            request = request.header(name, value);
        }
        self.send(request.body(Body::from(body.to_string())).expect("request")).await
    }

    /// A form post whose body is these exact bytes (which need not be UTF-8).
    pub async fn post_bytes(&self, path: &str, body: Vec<u8>, cookie: Option<&str>) -> TestResponse {
        let mut request = Request::post(path)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("sec-fetch-site", "same-origin");
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.send(request.body(Body::from(body)).expect("request")).await
    }

    /// Sends the sign-up form with these three fields, as a visitor.
    pub async fn post_sign_up(&self, username: &str, password: &str, password_confirm: &str) -> TestResponse {
        let form = [("username", username), ("password", password), ("password_confirm", password_confirm)];
        self.post_form("/signup", &form, None).await
    }

    /// Signs up `username` (password [`PASSWORD`]) and returns the session cookie.
    pub async fn sign_up(&self, username: &str) -> String {
        let response = self.post_sign_up(username, PASSWORD, PASSWORD).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "sign-up succeeds: {}", response.body);
        response.session_cookie().expect("sign-up sets a session cookie")
    }

    /// Signs `username` in with `password` (another session) and returns its cookie.
    pub async fn sign_in_with(&self, username: &str, password: &str) -> String {
        let response = self.post_form("/signin", &[("username", username), ("password", password)], None).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{username} signs in: {}", response.body);
        response.session_cookie().expect("a session")
    }

    /// Signs `username` in with [`PASSWORD`] (another session) and returns its cookie.
    pub async fn sign_in(&self, username: &str) -> String {
        self.sign_in_with(username, PASSWORD).await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.db).await.expect("count query")
    }

    /// The id of the account `username`, if there is one.
    pub async fn find_user(&self, username: &str) -> Option<Uuid> {
        sqlx::query_scalar("select id from users where username = $1")
            .bind(username)
            .fetch_optional(&self.db)
            .await
            .expect("user lookup")
    }

    /// The id of the account `username`.
    pub async fn user_id(&self, username: &str) -> Uuid {
        self.find_user(username).await.unwrap_or_else(|| panic!("no account {username}"))
    }
}
