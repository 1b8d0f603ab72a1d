//! Chromium journeys: chromedriver and a headless Chromium of the test's own
//! (Debian's chromium + chromedriver; CHROMIUM and CHROMEDRIVER override the
//! paths), the app served on a loopback port, and the steps journeys share.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use mockloop::startup::Application;
use mockloop::state::{AppState, Settings};

use super::app::PASSWORD;
use super::db::TestDb;

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
                    // The round's call: a fake camera and microphone, granted without a prompt.
                    // Pages other than a call's never ask (their Permissions-Policy denies both).
                    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
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

    /// Clicks `css` and waits up to 15 s until the page it leads to has loaded:
    /// the old page is marked first, since a form that reloads the same path
    /// leaves the URL's path unchanged and the old page answers finds meanwhile.
    pub async fn click_to_new_page(&self, css: &str) {
        self.client.execute("window.__oldPage = true;", vec![]).await.expect("mark the page");
        self.click(css).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(15);
        loop {
            let loaded = self
                .client
                .execute("return !window.__oldPage && document.readyState === 'complete';", vec![])
                .await
                .ok()
                .and_then(|value| value.as_bool());
            if loaded == Some(true) {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "clicking {css} led to no new page");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
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

/// Steps of journeys, as a person takes them in the browser.
impl Browser {
    /// Waits up to 10 s until `css` exists and its text satisfies `check`.
    pub async fn wait_for_text(&self, css: &str, check: impl Fn(&str) -> bool) -> String {
        self.wait_for_text_within(css, Duration::from_secs(10), check).await
    }

    /// Waits up to `limit` until `css` exists and its text satisfies `check`.
    pub async fn wait_for_text_within(&self, css: &str, limit: Duration, check: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + limit;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
                && check(&text)
            {
                return text;
            }
            assert!(Instant::now() < deadline, "{css} never matched");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// axe-core's WCAG violations on the page the browser shows, one line each
    /// (axe is vendored in tests/fixtures/axe by scripts/vendor-axe).
    pub async fn axe_violations(&self) -> Vec<String> {
        const AXE: &str = include_str!("../../fixtures/axe/axe.min.js");
        self.client.execute(&format!("{AXE}\nreturn typeof axe;"), vec![]).await.expect("axe loads");
        let found = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                    .then(r => done(r.violations.map(v => v.id + ' (' + v.impact + '): '
                        + v.nodes.map(n => n.target.join(' ')).join(', '))))
                    .catch(e => done(['axe failed: ' + e]));",
                vec![],
            )
            .await
            .expect("axe runs");
        serde_json::from_value(found).expect("a list of violations")
    }

    /// The current value of the form field `css`.
    pub async fn field_value(&self, css: &str) -> Option<String> {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.prop("value").await.expect("value")
    }

    /// Signs `name` up (password [`PASSWORD`]) through the form on `base`.
    pub async fn sign_up(&self, base: &str, name: &str) {
        self.client.goto(&format!("{base}/signup")).await.expect("sign-up page");
        self.fill("#username", name).await;
        self.fill("#password", PASSWORD).await;
        self.fill("#password_confirm", PASSWORD).await;
        self.click("#sign-up-submit").await;
        self.text("#signed-in-as").await;
    }

    /// Signs `name` in (password [`PASSWORD`]) through the form at `sign_in_url`.
    pub async fn sign_in_at(&self, sign_in_url: &str, name: &str) {
        self.client.goto(sign_in_url).await.expect("sign-in page");
        self.fill("#username", name).await;
        self.fill("#password", PASSWORD).await;
        self.click("#sign-in-submit").await;
        self.text("#signed-in-as").await;
    }

    /// Schedules a loop of the shipped `template` with the form's defaults
    /// (as a peer loop if `peer`); returns the loop page's URL.
    pub async fn schedule_loop(&self, base: &str, template: &str, peer: bool) -> String {
        self.client.goto(&format!("{base}/loops/new")).await.expect("new loop");
        self.click(&format!("input[name=template][value={template}]")).await;
        if peer {
            self.click("#mode option[value=peer]").await;
        }
        self.click("#schedule-loop").await;
        // The loop page has a seed; reading the URL before it loads would give /loops/new.
        self.wait_for_text("#loop-seed", |t| !t.is_empty()).await;
        self.client.current_url().await.expect("url").to_string()
    }

    /// On the loop page, invites a peer to the first round; returns the
    /// link's path (`/invite/<token>`).
    pub async fn invite_to_first_round(&self) -> String {
        self.click("#invite-form input[name=round]").await;
        self.click("#create-invitation").await;
        self.text("#invite-link").await;
        let link = self.field_value("#invite-link").await.expect("a link");
        link.split_once("/invite/").map(|(_, token)| format!("/invite/{token}")).expect("an invite path")
    }
}
