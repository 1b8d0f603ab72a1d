//! Live event streams read in-process: a second instance of the app on the
//! test app's database (its own listener, as another server process has),
//! whose server-sent event bodies never end, so that `TestApp::send` cannot
//! read them.

use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

use super::app::{TestApp, TestResponse};

/// How long a stream may take to end once its session or access has ended.
pub const STREAM_END_LIMIT: Duration = Duration::from_secs(5);

/// Another instance of the app on the test app's database, for streams.
pub struct LiveClient {
    router: Router,
}

impl LiveClient {
    pub fn new(app: &TestApp) -> LiveClient {
        LiveClient { router: app.other_instance() }
    }

    /// GETs `path` and hands back the answer unread, for a stream to be read later.
    pub async fn open(&self, path: &str, cookie: Option<&str>) -> axum::response::Response {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.router.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("router answers")
    }

    /// GETs `path`; an event stream is read until its first events have come
    /// (and nothing more follows for a moment), then dropped.
    pub async fn first_events(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let response = self.open(path, cookie).await;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let seen_timer = String::from_utf8_lossy(&bytes).contains("event: timer");
            let wait = if seen_timer {
                Duration::from_millis(300)
            } else {
                deadline.saturating_duration_since(tokio::time::Instant::now())
            };
            match tokio::time::timeout(wait, body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        bytes.extend_from_slice(&data);
                    }
                }
                Ok(Some(Err(error))) => panic!("the event stream fails: {error}"),
                Ok(None) | Err(_) => break,
            }
        }
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// GETs `path` and reads the body only of a refusal: an event stream's
    /// answer is its status and headers (the stream is dropped unread).
    pub async fn head_of(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let response = self.open(path, cookie).await;
        let (status, headers) = (response.status(), response.headers().clone());
        let body = match status {
            StatusCode::OK => String::new(),
            _ => {
                let bytes = response.into_body().collect().await.expect("body").to_bytes();
                String::from_utf8_lossy(&bytes).into_owned()
            }
        };
        TestResponse { status, headers, body }
    }

    /// Opens `round`'s event stream and reads it up to the first timer event.
    pub async fn open_stream(&self, round: &str, cookie: &str) -> OpenStream {
        let response = self.open(&format!("{round}/events"), Some(cookie)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let mut stream = OpenStream { body: response.into_body(), received: String::new() };
        while !stream.received.contains("event: timer") {
            let more = stream.read_for(Duration::from_secs(5)).await;
            assert!(more, "the first timer event arrives: {}", stream.received);
        }
        stream
    }
}

/// Reads what an open event stream delivers within `wait`.
pub async fn read_for(body: &mut Body, wait: Duration) -> String {
    let mut bytes = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, body.frame()).await {
        if let Ok(data) = frame.into_data() {
            bytes.extend_from_slice(&data);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The `data:` of each `event: <name>` in an event stream.
pub fn events_named<'a>(stream: &'a str, name: &str) -> Vec<&'a str> {
    stream
        .split("\n\n")
        .filter(|block| block.lines().any(|line| line == format!("event: {name}")))
        .filter_map(|block| block.lines().find_map(|line| line.strip_prefix("data: ")))
        .collect()
}

/// An event stream kept open and read as a browser would.
pub struct OpenStream {
    body: Body,
    pub received: String,
}

impl OpenStream {
    /// Reads for at most `limit`; false once the stream has ended.
    pub async fn read_for(&mut self, limit: Duration) -> bool {
        match tokio::time::timeout(limit, self.body.frame()).await {
            Ok(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    self.received.push_str(&String::from_utf8_lossy(&data));
                }
                true
            }
            Ok(Some(Err(_)) | None) => false,
            Err(_) => true,
        }
    }

    /// How long after `since` the stream ended, if it ends within `limit` of now.
    pub async fn ended_after(&mut self, since: Instant, limit: Duration) -> Option<Duration> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if !self.read_for(deadline.saturating_duration_since(Instant::now())).await {
                return Some(since.elapsed());
            }
        }
        None
    }

    /// Whether a timer event comes within `limit` (the stream still delivers).
    pub async fn delivers_timer_within(&mut self, limit: Duration) -> bool {
        let before = self.received.matches("event: timer").count();
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if !self.read_for(deadline.saturating_duration_since(Instant::now())).await {
                return false;
            }
            if self.received.matches("event: timer").count() > before {
                return true;
            }
        }
        false
    }
}
