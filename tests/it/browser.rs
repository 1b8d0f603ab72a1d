//! Journeys in a real headless Chromium (Debian's chromium + chromedriver),
//! against the app served on a loopback port.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use mockloop::startup::Application;
use mockloop::state::{AppState, Settings};

use crate::helpers::TestDb;

/// chromedriver on a free port, killed when dropped.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    fn start() -> ChromeDriver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port();
        let binary = std::env::var("CHROMEDRIVER").unwrap_or_else(|_| "chromedriver".into());
        let child = Command::new(&binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot start {binary} ({e}): install chromium and chromium-driver (scripts/test does)")
            });
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        ChromeDriver { child, port }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A headless Chromium session with its own profile (so its own cookies).
pub struct Browser {
    pub client: Client,
    _driver: ChromeDriver,
    profile: std::path::PathBuf,
}

impl Browser {
    pub async fn launch() -> Browser {
        let driver = ChromeDriver::start();
        let profile = std::env::temp_dir().join(format!("mockloop-chrome-{}", uuid::Uuid::new_v4().simple()));
        let binary = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
        let capabilities = serde_json::json!({
            // The console, for Content-Security-Policy violations (see `console_entries`).
            "goog:loggingPrefs": { "browser": "ALL" },
            "goog:chromeOptions": {
                "binary": binary,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--no-first-run", "--disable-quic", "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else { unreachable!("a JSON object literal") };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{}", driver.port))
            .await
            .expect("Chromium session starts");
        Browser { client, _driver: driver, profile }
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
        let _ = std::fs::remove_dir_all(&self.profile);
    }

    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .expect("click");
    }

    /// The text of `css`, waiting up to 15 s for it (through page reloads, which
    /// abort a find): CI runs many browsers at once on two cores.
    pub async fn text(&self, css: &str) -> String {
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let error = match self.client.find(Locator::Css(css)).await {
                Ok(element) => match element.text().await {
                    Ok(text) => return text,
                    Err(error) => error,
                },
                Err(error) => error,
            };
            if std::time::Instant::now() > deadline {
                let shot = self.save_screenshot().await;
                let url = self.client.current_url().await.map(|u| u.to_string()).unwrap_or_default();
                panic!("{css} not found on {url} ({error}); screenshot: {shot}")
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The console messages logged since the last call (chromedriver's log endpoint).
    pub async fn console_entries(&self) -> Vec<String> {
        let entries = self.client.issue_cmd(BrowserLog).await.expect("the browser log");
        entries
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter_map(|entry| entry.get("message").and_then(|m| m.as_str()).map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Saves what the browser shows, for a failing test's message.
    pub async fn save_screenshot(&self) -> String {
        let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join(format!("failure-{}.png", uuid::Uuid::new_v4().simple()));
        match self.client.screenshot().await {
            Ok(png) if std::fs::write(&path, &png).is_ok() => path.display().to_string(),
            _ => "unavailable".into(),
        }
    }
}

/// chromedriver's (non-W3C) command for the console log.
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base_url: &url::Url, session_id: Option<&str>) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or_default()))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// The app on a loopback port, on its own database.
pub async fn serve_app() -> (String, TestDb) {
    let db = TestDb::new().await;
    let base = serve_app_on(&db).await;
    (base, db)
}

/// The app on a loopback port, on `db`; its base URL.
pub async fn serve_app_on(db: &TestDb) -> String {
    let state = AppState::new(
        db.pool.clone(),
        Settings { base_url: String::new(), secure_cookies: false, behind_proxy: false },
    );
    let app = Application::bind(state, "127.0.0.1:0".parse().expect("addr")).await.expect("bind");
    let base = format!("http://{}", app.local_addr().expect("addr"));
    tokio::spawn(app.run_until(std::future::pending()));
    base
}

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
    let kept = c.find(Locator::Css("#username")).await.expect("field").prop("value").await.expect("value");
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
