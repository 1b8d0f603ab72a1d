//! Driving a round's workspace in Chromium as a person does: typing and
//! pasting code, running the tests, drawing on the whiteboard; and what a page
//! did besides (console errors, requests to other hosts).

use std::time::{Duration, Instant};

use fantoccini::Locator;
use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::key::Key;
use serde_json::{Value, json};

use super::browser::Browser;
use super::{TestApp, id_of};

/// A runnable question every test round is set to, so the tests do not depend on the draw.
pub const RUNNABLE_QUESTION: &str = "coding-moving-average-stream";

pub struct Runnable {
    pub starter: String,
    pub reference: String,
    pub case_names: Vec<String>,
}

/// Sets `round`'s first question to [`RUNNABLE_QUESTION`] and returns its runnable parts.
pub async fn make_runnable(app: &TestApp, round: &str) -> Runnable {
    sqlx::query(
        "update round_questions set question_id = (select id from questions where slug = $2)
         where round_id = $1 and position = 1",
    )
    .bind(id_of(round))
    .bind(RUNNABLE_QUESTION)
    .execute(&app.db)
    .await
    .expect("the round takes the runnable question");
    let (starter, reference, tests): (String, String, Value) =
        sqlx::query_as("select starter_code, reference_solution, tests from questions where slug = $1")
            .bind(RUNNABLE_QUESTION)
            .fetch_one(&app.db)
            .await
            .expect("the question is runnable");
    let case_names = tests["tests"]
        .as_array()
        .expect("cases")
        .iter()
        .map(|case| case["name"].as_str().unwrap().to_owned())
        .collect();
    Runnable { starter, reference, case_names }
}

/// Types into the CodeMirror editor under `#code-editor`.
pub async fn type_code(browser: &Browser, text: &str) {
    // The editor mounts once its module has loaded.
    browser.text("#code-editor .cm-content").await;
    let content = browser.client.find(Locator::Css("#code-editor .cm-content")).await.expect("the editor");
    content.click().await.expect("focus the editor");
    content.send_keys(text).await.expect("type");
}

/// Waits until the editor under `#code-editor` shows `text`.
pub async fn editor_shows(browser: &Browser, text: &str) -> Duration {
    let started = Instant::now();
    browser.wait_for_text("#code-editor .cm-content", |shown| shown.contains(text)).await;
    started.elapsed()
}

/// Replaces the candidate's editor text as a paste does (select all, paste),
/// so that auto-indent leaves it as it is.
pub async fn paste_code(browser: &Browser, code: &str) {
    browser.text("#code-editor .cm-content").await;
    let content = browser.client.find(Locator::Css("#code-editor .cm-content")).await.expect("the editor");
    content.click().await.expect("focus the editor");
    content.send_keys(&format!("{}a", Key::Control)).await.expect("select all");
    browser
        .client
        .execute(
            "const data = new DataTransfer();
             data.setData('text/plain', arguments[0]);
             document.querySelector('#code-editor .cm-content').dispatchEvent(
                 new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));",
            vec![json!(code)],
        )
        .await
        .expect("paste the code");
    let first_line = code.lines().next().unwrap_or_default().to_owned();
    browser.wait_for_text("#code-editor .cm-content", |shown| shown.starts_with(&first_line)).await;
}

pub async fn run_tests(browser: &Browser, expect: impl Fn(&str) -> bool) -> (String, Duration) {
    let started = Instant::now();
    browser.click("#run-tests").await;
    let summary = browser.wait_for_text_within("#run-results .run-summary", Duration::from_secs(60), &expect).await;
    (summary, started.elapsed())
}

/// Opens the whiteboard panel (if folded) and waits for Excalidraw to mount.
pub async fn open_board(browser: &Browser) {
    let open: bool = serde_json::from_value(
        browser.client.execute("return document.getElementById('whiteboard-details').open;", vec![]).await.expect("js"),
    )
    .expect("a boolean");
    if !open {
        browser.click("#whiteboard-details summary").await;
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while browser.client.find(Locator::Css("#whiteboard-canvas canvas.excalidraw__canvas")).await.is_err() {
        if Instant::now() > deadline {
            panic!("the whiteboard never mounted; screenshot: {}", browser.save_screenshot().await);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Draws a rectangle as a person does: the rectangle tool, then a drag on the canvas.
pub async fn draw_rectangle(browser: &Browser) {
    browser.click("#whiteboard-canvas label:has(> [data-testid='toolbar-rectangle'])").await;
    let canvas = browser
        .client
        .find(Locator::Css("#whiteboard-canvas canvas.excalidraw__canvas.interactive"))
        .await
        .expect("the drawing surface");
    let drag = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement { element: canvas, duration: None, x: -120.0, y: -60.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(150)), x: 120.0, y: 60.0 })
        .then(PointerAction::MoveBy { duration: Some(Duration::from_millis(150)), x: 120.0, y: 40.0 })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    browser.client.perform_actions(drag).await.expect("drag");
    browser.client.release_actions().await.expect("release");
}

/// Writes `text` on the board as a person does: the text tool, a click, typing, Escape.
pub async fn write_text(browser: &Browser, text: &str) {
    browser.click("#whiteboard-canvas label:has(> [data-testid='toolbar-text'])").await;
    let canvas = browser
        .client
        .find(Locator::Css("#whiteboard-canvas canvas.excalidraw__canvas.interactive"))
        .await
        .expect("the drawing surface");
    let click = MouseActions::new("mouse".into())
        .then(PointerAction::MoveToElement { element: canvas, duration: None, x: -100.0, y: 120.0 })
        .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT })
        .then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
    browser.client.perform_actions(click).await.expect("click");
    browser.client.release_actions().await.expect("release");
    let editor = browser.client.find(Locator::Css("textarea.excalidraw-wysiwyg")).await.expect("the text editor");
    editor.send_keys(text).await.expect("type");
    editor.send_keys("\u{e00c}").await.expect("Escape");
}

/// Dark pixels on the whiteboard's canvases: strokes drawn there (the empty board has none).
pub async fn drawn_pixels(browser: &Browser) -> u64 {
    let count = browser
        .client
        .execute(
            "let dark = 0;
             for (const canvas of document.querySelectorAll('#whiteboard-canvas canvas')) {
               if (!canvas.width || !canvas.height) continue;
               // Read through a copy made for reading, as Chromium asks of repeated reads.
               const copy = document.createElement('canvas');
               copy.width = canvas.width;
               copy.height = canvas.height;
               const context = copy.getContext('2d', { willReadFrequently: true });
               context.drawImage(canvas, 0, 0);
               const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
               for (let i = 0; i < data.length; i += 4) {
                 if (data[i + 3] > 128 && data[i] < 100 && data[i + 1] < 100 && data[i + 2] < 100) dark++;
               }
             }
             return dark;",
            vec![],
        )
        .await
        .expect("the canvases");
    count.as_u64().unwrap_or(0)
}

/// Every resource the page loaded came from `base` (or was inline data).
pub async fn other_hosts(browser: &Browser, base: &str) -> Vec<String> {
    let names = browser
        .client
        .execute("return performance.getEntriesByType('resource').map(e => e.name);", vec![])
        .await
        .expect("resource timing");
    serde_json::from_value::<Vec<String>>(names)
        .expect("names")
        .into_iter()
        .filter(|name| !name.starts_with(base) && !name.starts_with("data:") && !name.starts_with("blob:"))
        .collect()
}

/// Console errors and CSP violations, the favicon's 404 aside, and Excalidraw's
/// note that its font-subsetting worker took over a second to answer (a busy
/// machine), after which it subsets in the page as designed: the export still
/// embeds its font, which the tests check.
pub async fn console_errors(browser: &Browser) -> Vec<String> {
    browser
        .console_entries()
        .await
        .into_iter()
        .filter(|entry| !entry.contains("favicon"))
        .filter(|entry| {
            !entry.contains("Failed to use workers for subsetting") || !entry.contains("did not respond for")
        })
        .collect()
}
