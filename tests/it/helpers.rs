//! Test fixtures: a PostgreSQL database per test (copied from a migrated,
//! content-loaded template), the app's router, and small HTTP helpers.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use mockloop::localpg::{Durability, LocalPostgres};
use mockloop::state::{AppState, Settings};
use sqlx::postgres::PgConnectOptions;
use sqlx::{Connection, PgConnection, PgPool};
use tokio::sync::OnceCell;
use tower::ServiceExt;

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Where test databases come from: DATABASE_URL's server if set, otherwise a
/// throwaway local cluster under target/ shared by all test processes.
struct TestCluster {
    admin: PgConnectOptions,
    template: String,
}

static CLUSTER: OnceCell<TestCluster> = OnceCell::const_new();

async fn cluster() -> &'static TestCluster {
    CLUSTER.get_or_init(init_cluster).await
}

async fn init_cluster() -> TestCluster {
    let admin: PgConnectOptions = match std::env::var("DATABASE_URL") {
        Ok(url) => url.parse::<PgConnectOptions>().expect("DATABASE_URL parses").database("postgres"),
        Err(_) => {
            let data_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("postgres");
            let local = tokio::task::spawn_blocking(move || LocalPostgres::start(&data_dir, Durability::Throwaway))
                .await
                .expect("join")
                .expect("local PostgreSQL starts for the tests");
            local.connect_options("postgres")
        }
    };
    let mut conn = PgConnection::connect_with(&admin).await.expect("connect to the test cluster");
    // Serialises template creation across test processes.
    sqlx::query("select pg_advisory_lock(72001)").execute(&mut conn).await.expect("lock");
    drop_stale_test_databases(&mut conn).await;
    let template = format!("mockloop_tpl_{}", fingerprint_of_schema_and_content());
    let exists: bool = sqlx::query_scalar("select exists (select 1 from pg_database where datname = $1)")
        .bind(&template)
        .fetch_one(&mut conn)
        .await
        .expect("query");
    if !exists {
        let building = format!("{template}_building");
        sqlx::query(&format!("drop database if exists {building}")).execute(&mut conn).await.expect("drop");
        sqlx::query(&format!("create database {building}")).execute(&mut conn).await.expect("create");
        let pool = PgPool::connect_with(admin.clone().database(&building)).await.expect("connect");
        mockloop::db::migrate(&pool).await.expect("migrations apply");
        mockloop::commands::import(&pool, &repo_path("content")).await.expect("shipped content imports");
        pool.close().await;
        sqlx::query(&format!("alter database {building} rename to {template}"))
            .execute(&mut conn)
            .await
            .expect("rename");
    }
    sqlx::query("select pg_advisory_unlock(72001)").execute(&mut conn).await.expect("unlock");
    TestCluster { admin, template }
}

/// Test databases are named t_<unix seconds>_<random>; ones over ten minutes old are leftovers.
async fn drop_stale_test_databases(conn: &mut PgConnection) {
    let cutoff = chrono::Utc::now().timestamp() - 600;
    let names: Vec<String> = sqlx::query_scalar("select datname from pg_database where datname ~ '^t_[0-9]+_'")
        .fetch_all(&mut *conn)
        .await
        .expect("list");
    for name in names {
        let created: i64 = name.split('_').nth(1).and_then(|s| s.parse().ok()).unwrap_or(i64::MAX);
        if created < cutoff {
            let _ = sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut *conn).await;
        }
    }
}

fn fingerprint_of_schema_and_content() -> String {
    let mut text = String::new();
    for dir in ["migrations", "content"] {
        let mut pending = vec![repo_path(dir)];
        let mut files = Vec::new();
        while let Some(dir) = pending.pop() {
            for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
                if entry.path().is_dir() { pending.push(entry.path()) } else { files.push(entry.path()) }
            }
        }
        files.sort();
        for file in files {
            text.push_str(&file.to_string_lossy());
            text.push_str(&std::fs::read_to_string(&file).unwrap_or_default());
        }
    }
    mockloop::content::content_hash(&text)
}

/// A fresh database holding the migrated schema and the shipped content.
pub struct TestDb {
    pub pool: PgPool,
    pub options: PgConnectOptions,
}

impl TestDb {
    pub async fn new() -> TestDb {
        let cluster = cluster().await;
        let name = format!("t_{}_{}", chrono::Utc::now().timestamp(), uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect_with(&cluster.admin).await.expect("connect");
        sqlx::query(&format!("create database {name} template {}", cluster.template))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let options = cluster.admin.clone().database(&name);
        let pool = mockloop::db::connect(options.clone(), 5).await.expect("connect to test database");
        TestDb { pool, options }
    }

    /// A URL for this database, for running the `mockloop` binary against it.
    pub fn url(&self) -> String {
        let o = &self.options;
        let database = o.get_database().unwrap_or("postgres");
        match o.get_socket() {
            Some(socket) => format!(
                "postgres://{}@localhost:{}/{database}?host={}",
                o.get_username(),
                o.get_port(),
                socket.display()
            ),
            None => format!("postgres://{}@{}:{}/{database}", o.get_username(), o.get_host(), o.get_port()),
        }
    }
}

/// The app's router on its own test database.
pub struct TestApp {
    pub db: PgPool,
    router: Router,
}

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
}

impl TestApp {
    pub async fn new() -> TestApp {
        Self::with_settings(Settings {
            base_url: "http://localhost".into(),
            secure_cookies: false,
            behind_proxy: false,
        })
        .await
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

    /// Signs up `username` (password "correct horse") and returns the session cookie.
    pub async fn sign_up(&self, username: &str) -> String {
        let response = self
            .post_form(
                "/signup",
                &[("username", username), ("password", "correct horse"), ("password_confirm", "correct horse")],
                None,
            )
            .await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "sign-up succeeds: {}", response.body);
        response.session_cookie().expect("sign-up sets a session cookie")
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(&self.db).await.expect("count query")
    }
}

/// The stored version of a round's note of `kind` (0 when none was saved).
pub async fn note_version(db: &PgPool, round_id: uuid::Uuid, kind: &str) -> i32 {
    sqlx::query_scalar("select coalesce(max(version), 0) from notes where round_id = $1 and kind = $2")
        .bind(round_id)
        .bind(kind)
        .fetch_one(db)
        .await
        .expect("note version")
}
