//! Limits and headers: oversized bodies, trickled bodies, the per-user cap on
//! live streams, the security headers on every kind of response, and the
//! cross-site request matrix over every state-changing route.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt;
use mockloop::state::{AppState, Limits};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower::ServiceExt;
use uuid::Uuid;

use crate::support::app::settings;
use crate::support::db::repo_path;
use crate::support::rounds::save_note;
use crate::support::server::{ServedCandidate, open_event_stream, send, serve_test_db, sign_up};
use crate::support::{JSON, LoopBuilder, ScheduledLoop, TestApp};

/// The router on `pool` with `limits`, for answers the shared test app cannot give.
fn app_router(pool: sqlx::PgPool, limits: Limits) -> Router {
    mockloop::startup::build_router(AppState::new(pool, settings()).with_limits(limits))
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: String,
}

/// Sends `request`; reads the body unless it is a live stream (which never ends).
async fn answer(router: &Router, request: Request<Body>) -> Answer {
    let response = router.clone().oneshot(request).await.expect("router answers");
    let (status, headers) = (response.status(), response.headers().clone());
    let is_stream = headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let body = if is_stream {
        String::new()
    } else {
        String::from_utf8_lossy(&response.into_body().collect().await.expect("body").to_bytes()).into_owned()
    };
    Answer { status, headers, body }
}

fn post(path: &str, cookie: Option<&str>, extra: &[(&str, &str)], body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("host", "localhost");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    request.body(body.into()).expect("request")
}

fn get(path: &str, cookie: Option<&str>) -> Request<Body> {
    let mut request = Request::get(path).header("host", "localhost");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    request.body(Body::empty()).expect("request")
}

const SAME_ORIGIN: [(&str, &str); 1] = [("sec-fetch-site", "same-origin")];

/// Every POST route of the app, read from the routers in src/web so that a new one cannot be missed.
fn state_changing_routes() -> Vec<String> {
    let mut routes = Vec::new();
    for entry in std::fs::read_dir(repo_path("src/web")).expect("src/web").flatten() {
        let source = std::fs::read_to_string(entry.path()).expect("source");
        for line in source.lines().filter(|line| line.contains(".route(\"")) {
            let path = line.split('"').nth(1).expect("a route path");
            let after = &line[line.find(path).expect("path") + path.len()..];
            for method in ["post(", "put(", "patch(", "delete("] {
                if after.contains(method) {
                    routes.push(path.to_owned());
                }
            }
        }
    }
    routes.sort();
    routes.dedup();
    routes
}

/// A concrete path for a route pattern.
fn concrete(route: &str) -> String {
    let id = Uuid::new_v4().to_string();
    route.replace("{id}", &id).replace("{invitation}", &id).replace("{slug}", "no-such-slug").replace("{token}", "abc")
}

/// The POST routes whose handlers read a form body.
const BODY_TAKING: &[&str] = &[
    "/signup",
    "/signin",
    "/loops",
    "/loops/{id}/reschedule",
    "/loops/{id}/invitations",
    "/questions",
    "/questions/{slug}/edit",
    "/rounds/{id}/timer",
    "/rounds/{id}/notes",
    "/rounds/{id}/marks",
    "/rounds/{id}/swap",
    "/rounds/{id}/assessment",
    "/rounds/{id}/call/signals",
    "/templates/new",
    "/templates/{slug}/edit",
];

fn assert_security_headers(what: &str, headers: &HeaderMap) {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("");
    let csp = value("content-security-policy");
    assert!(
        csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"),
        "{what}: content-security-policy {csp:?}"
    );
    assert_eq!(value("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(value("referrer-policy"), "same-origin", "{what}");
    assert_eq!(value("x-frame-options"), "DENY", "{what}");
    assert_eq!(value("cross-origin-opener-policy"), "same-origin", "{what}");
    assert!(value("permissions-policy").contains("camera=()"), "{what}");
}

#[tokio::test]
async fn an_oversized_body_gets_a_413_page_on_every_route_that_reads_one() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("bigsender").await;
    let routes = state_changing_routes();
    for route in BODY_TAKING {
        assert!(routes.iter().any(|r| r == route), "{route} is still a POST route");
    }
    let router = app_router(app.db.clone(), Limits::default());
    let oversized = format!("body={}", "a".repeat(mockloop::web::limits::MAX_BODY_BYTES + 1));
    let mut checked = 0;
    for route in BODY_TAKING {
        for accept in ["text/html", "application/json"] {
            let extra = [("sec-fetch-site", "same-origin"), ("accept", accept)];
            let response = answer(&router, post(&concrete(route), Some(&cookie), &extra, oversized.clone())).await;
            assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE, "{route} ({accept}): {}", response.body);
            assert!(response.body.contains("Too much text") && response.body.contains("site-nav"), "{route}: a page");
            assert_security_headers(route, &response.headers);
            checked += 1;
        }
    }
    // Under the body limit but over a field's own limit: the field's message.
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let notes = save_note(&app, &cookie, &rounds[0], &"n".repeat(150_000), 0).await;
    assert_eq!(notes.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(notes.body.contains("100 000 characters"), "{}", notes.body);
    println!(
        "FIGURE limits.oversized: {checked} oversized posts over {} body-taking routes (form and JSON clients), \
         all 413 with a page",
        BODY_TAKING.len()
    );
}

#[tokio::test]
async fn a_body_trickled_slower_than_the_deadline_is_cut_off_with_408() {
    let (_db, server) = serve_test_db(&["--request-body-timeout", "2"]).await;
    let port = server.port;
    let cookie = sign_up(port, "trickler").await;

    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let head = format!(
        "POST /loops HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nSec-Fetch-Site: same-origin\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("headers");
    let began = Instant::now();
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    // One byte every 200 ms, reading whatever comes back in between.
    let closed = loop {
        assert!(began.elapsed() < Duration::from_secs(15), "the slow body was not cut off");
        if stream.write_all(b"a").await.is_err() {
            break true;
        }
        match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break true,
            Ok(Ok(read)) => answer.extend_from_slice(&buffer[..read]),
            Err(_) => {}
        }
    };
    let took = began.elapsed();
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.read_to_end(&mut answer)).await;
    let text = String::from_utf8_lossy(&answer);
    assert!(closed, "the connection was closed");
    assert!(text.starts_with("HTTP/1.1 408"), "answered 408: {text}");
    assert!(text.contains("That took too long"), "with a page: {text}");
    assert!(text.to_ascii_lowercase().contains("content-security-policy"), "and the headers");
    assert!(took < Duration::from_secs(6), "cut off after {took:?} with a 2 s deadline");
    // Ordinary requests are unaffected.
    let normal = send(port, "GET", "/healthz", None, &[], "").await.expect("healthz");
    assert_eq!(normal.status, 200);
    drop(server);
    println!(
        "FIGURE limits.slow_body: a body trickled at 5 bytes/s cut off with 408 after {:.1} s (deadline 2 s), connection closed",
        took.as_secs_f64()
    );
}

#[tokio::test]
async fn headers_trickled_for_over_ten_seconds_are_cut_off() {
    let (_db, server) = serve_test_db(&[]).await;
    let port = server.port;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.expect("request line");
    let began = Instant::now();
    let mut buffer = [0u8; 1024];
    // A header line every 500 ms, never the blank line that ends them.
    loop {
        assert!(began.elapsed() < Duration::from_secs(20), "trickled headers were not cut off");
        if stream.write_all(b"X-Slow: yes\r\n").await.is_err() {
            break;
        }
        match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Ok(Ok(_)) => panic!("answered before the headers ended"),
            Err(_) => {}
        }
    }
    let took = began.elapsed();
    assert!(took >= Duration::from_secs(9), "not cut off early ({took:?})");
    drop(server);
    println!(
        "FIGURE limits.slow_headers: headers trickled at 2 lines/s cut off after {:.1} s (limit 10 s)",
        took.as_secs_f64()
    );
}

#[tokio::test]
async fn live_streams_past_the_per_user_cap_are_refused_with_429() {
    let cap = 3;
    let (db, server) = serve_test_db(&["--max-live-streams-per-user", &cap.to_string()]).await;
    let port = server.port;
    let candidate = ServedCandidate::with_running_round(port, &db.pool, "tabhoarder").await;
    let mut open = Vec::new();
    for _ in 0..cap {
        let (stream, text) = open_event_stream(port, &candidate.cookie, &candidate.round_path()).await;
        assert!(text.starts_with("HTTP/1.1 200"), "{text}");
        open.push(stream);
    }
    let (_, refused) = open_event_stream(port, &candidate.cookie, &candidate.round_path()).await;
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    assert!(refused.to_ascii_lowercase().contains("retry-after:"), "{refused}");
    assert!(refused.contains("Too many open round pages"), "{refused}");
    assert!(refused.to_ascii_lowercase().contains("content-security-policy"), "{refused}");

    // Another account is counted apart.
    let other = ServedCandidate::with_running_round(port, &db.pool, "othertabs").await;
    let (_other_stream, text) = open_event_stream(port, &other.cookie, &other.round_path()).await;
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");

    // Closing a tab frees its slot (noticed at the latest at the next keep-alive).
    drop(open.pop());
    let began = Instant::now();
    let reopened = loop {
        let (stream, text) = open_event_stream(port, &candidate.cookie, &candidate.round_path()).await;
        if text.starts_with("HTTP/1.1 200") {
            break stream;
        }
        assert!(began.elapsed() < Duration::from_secs(25), "the closed stream's slot was not freed");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let freed_after = began.elapsed();
    drop(reopened);
    drop(server);
    println!(
        "FIGURE limits.live_cap: cap {cap} per user (--max-live-streams-per-user): stream {} refused with 429, \
         other users unaffected, a closed stream's slot free again after {:.1} s",
        cap + 1,
        freed_after.as_secs_f64()
    );
}

#[tokio::test]
async fn every_kind_of_response_carries_the_full_security_header_set() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("headers").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let round = &rounds[0];
    let router = app_router(app.db.clone(), Limits { max_live_streams_per_user: 1, ..Limits::default() });

    let mut cases: Vec<(&str, Request<Body>, Option<StatusCode>)> = vec![
        ("home page", get("/", Some(&cookie)), Some(StatusCode::OK)),
        ("signed-out redirect", get("/history", None), Some(StatusCode::SEE_OTHER)),
        ("static css", get("/static/app.css", None), Some(StatusCode::OK)),
        ("static svg", get("/static/favicon.svg", None), Some(StatusCode::OK)),
        ("healthz", get("/healthz", None), Some(StatusCode::OK)),
        ("readyz", get("/readyz", None), Some(StatusCode::OK)),
        ("loop page", get(&loop_path, Some(&cookie)), Some(StatusCode::OK)),
        ("calendar file", get(&format!("{loop_path}/calendar.ics"), Some(&cookie)), Some(StatusCode::OK)),
        ("round state JSON", get(&format!("{round}/state"), Some(&cookie)), Some(StatusCode::OK)),
        ("live stream", get(&format!("{round}/events"), Some(&cookie)), Some(StatusCode::OK)),
        (
            "live stream over the cap",
            get(&format!("{round}/events"), Some(&cookie)),
            Some(StatusCode::TOO_MANY_REQUESTS),
        ),
        ("bad path id", get("/rounds/not-a-uuid", Some(&cookie)), Some(StatusCode::NOT_FOUND)),
        ("missing page", get("/no-such-page", None), Some(StatusCode::NOT_FOUND)),
        ("wrong method", get("/signout", None), Some(StatusCode::METHOD_NOT_ALLOWED)),
        (
            "cross-site post",
            post("/signout", None, &[("sec-fetch-site", "cross-site")], ""),
            Some(StatusCode::FORBIDDEN),
        ),
        (
            "timer conflict",
            post(&format!("{round}/timer"), Some(&cookie), &JSON, "action=pause"),
            Some(StatusCode::CONFLICT),
        ),
        (
            "form error",
            post("/signin", None, &SAME_ORIGIN, "username=x&password=y"),
            Some(StatusCode::UNPROCESSABLE_ENTITY),
        ),
        (
            "unreadable form",
            post(&format!("{round}/notes"), Some(&cookie), &SAME_ORIGIN, "body=x&base_version=abc"),
            Some(StatusCode::BAD_REQUEST),
        ),
        (
            "oversized body",
            post("/signin", None, &SAME_ORIGIN, "a".repeat(3 << 20)),
            Some(StatusCode::PAYLOAD_TOO_LARGE),
        ),
    ];
    for _ in 0..5 {
        let _ = answer(&router, post("/signin", None, &SAME_ORIGIN, "username=headers&password=wrong+one")).await;
    }
    cases.push((
        "throttled sign-in",
        post("/signin", None, &SAME_ORIGIN, "username=headers&password=wrong+one"),
        Some(StatusCode::TOO_MANY_REQUESTS),
    ));

    let mut checked = Vec::new();
    let mut held_streams = Vec::new();
    for (what, request, expected) in cases {
        let response = router.clone().oneshot(request).await.expect("answer");
        let status = response.status();
        if let Some(expected) = expected {
            assert_eq!(status, expected, "{what}");
        }
        assert_security_headers(what, response.headers());
        // Live streams stay open (holding their slot) until the end of the test.
        if response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/event")) {
            held_streams.push(response);
        } else if status.is_client_error() || status.is_server_error() {
            let body =
                String::from_utf8_lossy(&response.into_body().collect().await.expect("body").to_bytes()).into_owned();
            let is_page = body.contains("site-nav") || body.starts_with('{');
            assert!(is_page, "{what}: an error page, not bare text: {body}");
        }
        checked.push(status.as_u16());
    }

    // A database that is gone (503) or refuses the connection outright (500).
    let gone = PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(1))
        .connect_lazy_with(PgConnectOptions::new().socket("/nonexistent-mockloop-socket").database("x"));
    let gone_router = app_router(gone, Limits::default());
    let mut missing_options = app.db.connect_options().as_ref().clone();
    missing_options = missing_options.database("no_such_database_for_mockloop");
    let missing = PgPoolOptions::new().acquire_timeout(Duration::from_secs(1)).connect_lazy_with(missing_options);
    let missing_router = app_router(missing, Limits::default());
    for (what, router, path) in [
        ("readyz, database gone", &gone_router, "/readyz"),
        ("page, database gone", &gone_router, "/questions"),
        ("page, database refuses", &missing_router, "/questions"),
    ] {
        let response = answer(router, get(path, Some(&cookie))).await;
        assert!(response.status.is_server_error(), "{what}: {}", response.status);
        assert_security_headers(what, &response.headers);
        assert!(response.body.contains("site-nav"), "{what}: an error page: {}", response.body);
        checked.push(response.status.as_u16());
    }
    drop(held_streams);
    let mut statuses = checked.clone();
    statuses.sort_unstable();
    statuses.dedup();
    println!(
        "FIGURE limits.headers: {} responses checked, statuses {statuses:?}, all with the full security-header set",
        checked.len()
    );
}

#[derive(Clone, Copy, Debug)]
enum OriginHeader {
    Same,
    Other,
    Null,
    Absent,
}

/// Whether a browser request with these headers is from another site and must be refused.
fn is_cross_origin(fetch_site: Option<&str>, origin: OriginHeader) -> bool {
    match fetch_site {
        Some("same-origin" | "none") => false,
        Some(_) => true,
        None => matches!(origin, OriginHeader::Other | OriginHeader::Null),
    }
}

#[tokio::test]
async fn the_cross_site_matrix_refuses_every_state_changing_route_from_elsewhere() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("matrix").await;
    let router = app_router(app.db.clone(), Limits::default());
    let mut routes = state_changing_routes();
    assert!(routes.len() >= 20, "the routers were read: {routes:?}");
    // Signing out ends the session the other cells use: last.
    routes.sort_by_key(|route| route == "/signout");
    let fetch_sites = [Some("same-origin"), Some("same-site"), Some("cross-site"), Some("none"), None];
    let origins = [OriginHeader::Same, OriginHeader::Other, OriginHeader::Null, OriginHeader::Absent];
    let (mut cells, mut refused) = (0, 0);
    for route in &routes {
        for fetch_site in fetch_sites {
            for origin in origins {
                let mut headers = Vec::new();
                if let Some(site) = fetch_site {
                    headers.push(("sec-fetch-site", site));
                }
                match origin {
                    OriginHeader::Same => headers.push(("origin", "http://localhost")),
                    OriginHeader::Other => headers.push(("origin", "https://evil.example")),
                    OriginHeader::Null => headers.push(("origin", "null")),
                    OriginHeader::Absent => {}
                }
                let response = answer(&router, post(&concrete(route), Some(&cookie), &headers, "")).await;
                let was_refused = response.status == StatusCode::FORBIDDEN && response.body.contains("Request refused");
                assert_eq!(
                    was_refused,
                    is_cross_origin(fetch_site, origin),
                    "{route} with Sec-Fetch-Site {fetch_site:?} and Origin {origin:?}: {}",
                    response.status
                );
                assert!(!response.status.is_server_error(), "{route}: {}", response.status);
                cells += 1;
                refused += usize::from(was_refused);
            }
        }
    }
    println!(
        "FIGURE limits.csrf: {cells} cells ({} state-changing routes x 5 Sec-Fetch-Site x 4 Origin), \
         {refused} cross-origin refused, {} same-origin or non-browser accepted",
        routes.len(),
        cells - refused
    );
}
