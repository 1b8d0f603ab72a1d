//! A round as its participants drive it: the timer (as the page's script
//! sends its commands), the clock moved back in the database, and notes.

use axum::http::StatusCode;
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

use super::app::{TestApp, TestResponse};
use super::loops::id_of;

/// Sends a timer `action` as the page's script does, and returns the status and JSON answer.
pub async fn timer(app: &TestApp, cookie: &str, round: &str, action: &str) -> (StatusCode, Value) {
    let response = app.post_json(&format!("{round}/timer"), &[("action", action)], Some(cookie)).await;
    let json = serde_json::from_str(&response.body).unwrap_or(Value::Null);
    (response.status, json)
}

/// Sends a timer `action` that must succeed; returns the JSON answer.
pub async fn timer_ok(app: &TestApp, cookie: &str, round: &str, action: &str) -> Value {
    let (status, json) = timer(app, cookie, round, action).await;
    assert_eq!(status, StatusCode::OK, "{action}: {json}");
    json
}

/// Starts a round (as whoever runs its clock).
pub async fn start_round(app: &TestApp, cookie: &str, round: &str) -> Value {
    timer_ok(app, cookie, round, "start").await
}

/// Ends a running or paused round.
pub async fn end_round(app: &TestApp, cookie: &str, round: &str) -> Value {
    timer_ok(app, cookie, round, "end").await
}

/// Starts and ends a round, leaving its time used as recorded.
pub async fn run_round(app: &TestApp, cookie: &str, round: &str) {
    start_round(app, cookie, round).await;
    end_round(app, cookie, round).await;
}

/// Pretends a running round started `minutes` earlier than it did.
pub async fn rewind(app: &TestApp, round: &str, minutes: i32) {
    let moved = sqlx::query(
        "update rounds set running_since = running_since - make_interval(mins => $2),
                           started_at = started_at - make_interval(mins => $2)
         where id = $1 and timer_state = 'running'",
    )
    .bind(id_of(round))
    .bind(minutes)
    .execute(&app.db)
    .await
    .expect("rewind");
    assert_eq!(moved.rows_affected(), 1, "the round is running");
}

/// Saves a note as the round page's script does (the scratchpad for the
/// candidate, private notes for an interviewer) over `base_version`.
pub async fn save_note(app: &TestApp, cookie: &str, round: &str, body: &str, base_version: i32) -> TestResponse {
    let version = base_version.to_string();
    app.post_json(&format!("{round}/notes"), &[("body", body), ("base_version", &version)], Some(cookie)).await
}

/// The stored version of a round's note of `kind` (0 when none was saved).
pub async fn note_version(db: &PgPool, round_id: Uuid, kind: &str) -> i32 {
    sqlx::query_scalar("select coalesce(max(version), 0) from notes where round_id = $1 and kind = $2")
        .bind(round_id)
        .bind(kind)
        .fetch_one(db)
        .await
        .expect("note version")
}

/// Saves the candidate's code as the code panel's script does, over `base_version`.
pub async fn save_code(
    app: &TestApp,
    cookie: &str,
    round: &str,
    body: &str,
    language: &str,
    base_version: i32,
) -> TestResponse {
    let version = base_version.to_string();
    let form = [("body", body), ("language", language), ("base_version", version.as_str())];
    app.post_json(&format!("{round}/code"), &form, Some(cookie)).await
}

/// The stored version of a round's code (0 when none was saved).
pub async fn code_version(db: &PgPool, round_id: Uuid) -> i32 {
    sqlx::query_scalar("select coalesce(max(version), 0) from round_code where round_id = $1")
        .bind(round_id)
        .fetch_one(db)
        .await
        .expect("code version")
}

/// An Excalidraw scene as the whiteboard saves it: a rectangle and a text element saying `text`.
pub fn scene_with_text(text: &str) -> String {
    serde_json::json!({
        "type": "excalidraw",
        "version": 2,
        "elements": [
            {"id": "box", "type": "rectangle", "x": 10, "y": 10, "width": 120, "height": 60, "version": 3, "isDeleted": false},
            {"id": "label", "type": "text", "x": 20, "y": 30, "width": 100, "height": 20, "version": 2, "isDeleted": false,
             "text": text, "originalText": text},
        ],
        "appState": {"viewBackgroundColor": "#ffffff"},
    })
    .to_string()
}

/// An SVG as the whiteboard exports one: a rectangle, and `text` in an embedded font.
pub fn svg_with_text(text: &str) -> String {
    let text = text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        r##"<svg version="1.1" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 152 92" width="152" height="92"><defs><style class="style-fonts">@font-face {{ font-family: Excalifont; src: url(data:font/woff2;base64,d09GMgABAAAAAA); }}</style></defs><rect x="0" y="0" width="152" height="92" fill="#ffffff"/><g stroke-linecap="round" transform="translate(16 16)"><path d="M0 0 L120 0 L120 60 L0 60 Z" stroke="#1e1e1e" stroke-width="2" fill="none"/></g><text x="26" y="50" font-family="Excalifont, Segoe UI Emoji" font-size="16px" fill="#1e1e1e" style="white-space: pre;">{text}</text></svg>"##
    )
}

/// Saves the candidate's whiteboard as its script does, over `base_version`.
pub async fn save_scene(
    app: &TestApp,
    cookie: &str,
    round: &str,
    scene: &str,
    svg: &str,
    base_version: i32,
) -> TestResponse {
    let version = base_version.to_string();
    let form = [("scene", scene), ("svg", svg), ("base_version", version.as_str())];
    app.post_json(&format!("{round}/scene"), &form, Some(cookie)).await
}

/// The stored version of a round's whiteboard (0 when none was saved).
pub async fn scene_version(db: &PgPool, round_id: Uuid) -> i32 {
    sqlx::query_scalar("select coalesce(max(version), 0) from round_scene where round_id = $1")
        .bind(round_id)
        .fetch_one(db)
        .await
        .expect("scene version")
}
