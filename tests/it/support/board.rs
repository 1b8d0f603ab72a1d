//! The peer board: posting slots as a browser's form does, claiming them,
//! and times a few days ahead in a given zone.

use axum::http::StatusCode;
use chrono::{Duration, Timelike, Utc};
use uuid::Uuid;

use super::app::{TestApp, TestResponse};

/// `days` from now at `hour`:00 in `zone`, as a `datetime-local` value.
pub fn local_time(days: i64, hour: u32, zone: &str) -> String {
    let zone: chrono_tz::Tz = zone.parse().expect("zone");
    let day = (Utc::now() + Duration::days(days)).with_timezone(&zone);
    let at = day.with_hour(hour).and_then(|d| d.with_minute(0)).expect("a time");
    at.format("%Y-%m-%dT%H:%M").to_string()
}

/// A slot form: a 90-minute reciprocal slot at `starts_at` in `zone`, wanting
/// ML system design, able to interview for coding; `extra` replaces the fields it names.
pub fn slot_form<'a>(starts_at: &'a str, zone: &'a str, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![
        ("starts_at", starts_at),
        ("time_zone", zone),
        ("minutes", "90"),
        ("repeat_weeks", "0"),
        ("mode", "reciprocal"),
        ("wants", "ml_system_design"),
        ("can_interview", "coding"),
        ("team", ""),
        ("level", "senior_staff"),
    ];
    // A field the extras name replaces the default (all of it, for the repeated checkboxes).
    form.retain(|(key, _)| !extra.iter().any(|(k, _)| k == key));
    form.extend_from_slice(extra);
    form
}

/// Posts a slot; returns the ids of the open slots `cookie`'s user has, soonest first.
pub async fn post_slot(app: &TestApp, cookie: &str, form: &[(&str, &str)]) -> Vec<Uuid> {
    let response = app.post_form("/board/slots", form, Some(cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the slot is posted: {}", response.body);
    let user = user_of(app, cookie).await;
    sqlx::query_scalar("select id from peer_slots where poster_id = $1 and status = 'open' order by starts_at")
        .bind(user)
        .fetch_all(&app.db)
        .await
        .expect("slots")
}

/// The account behind a session cookie.
pub async fn user_of(app: &TestApp, cookie: &str) -> Uuid {
    let page = app.get("/account", Some(cookie)).await.page();
    let username = page.text_of("#signed-in-as");
    sqlx::query_scalar("select id from users where display_name = $1")
        .bind(username)
        .fetch_one(&app.db)
        .await
        .expect("user")
}

/// Claims `slot` as a reciprocal swap with the form's defaults (what the
/// poster wants, what they can interview for, genai-llm, senior/staff, UTC).
pub async fn claim(app: &TestApp, cookie: &str, slot: Uuid) -> TestResponse {
    app.post_form(&format!("/board/slots/{slot}/claim"), &claim_form(), Some(cookie)).await
}

pub fn claim_form() -> Vec<(&'static str, &'static str)> {
    vec![
        ("poster_kind", "ml_system_design"),
        ("claimer_kind", "coding"),
        ("team", "genai-llm"),
        ("level", "senior_staff"),
        ("time_zone", "UTC"),
    ]
}

/// The swap a claim redirected to.
pub fn swap_path(response: &TestResponse) -> String {
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the claim succeeds: {}", response.body);
    let location = response.header("location").to_owned();
    assert!(location.starts_with("/swaps/"), "{location}");
    location
}

/// Moves a swap (and its loops) `minutes` into the past, as if its time had passed.
pub async fn rewind_swap(app: &TestApp, swap: &str, minutes: i32) {
    let id: Uuid = swap.trim_start_matches("/swaps/").parse().expect("swap id");
    sqlx::query(
        "with w as (update peer_swaps set starts_at = starts_at - make_interval(mins => $2),
                                          ends_at = now() - interval '1 minute'
                    where id = $1 returning poster_loop_id, claimer_loop_id)
         update loops set starts_at = starts_at - make_interval(mins => $2)
         where id in (select poster_loop_id from w union select claimer_loop_id from w)",
    )
    .bind(id)
    .bind(minutes)
    .execute(&app.db)
    .await
    .expect("rewind");
}
