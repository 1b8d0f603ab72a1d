//! Calendar files as responses: the events of the rounds a user takes part
//! in, and the `.ics` answer (the per-loop download and the private feed).

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::db::calendar::LoopRoundRow;
use crate::domain::{LoopStatus, ics, schedule};

/// Calendar events for the rounds `user` takes part in: all of a loop they are
/// the candidate of, and only their own rounds in others' loops.
pub fn events_for(user: uuid::Uuid, rows: &[LoopRoundRow], base_url: &str) -> Vec<ics::CalendarEvent> {
    let mut events = Vec::new();
    for loop_rows in rows.chunk_by(|a, b| a.loop_id == b.loop_id) {
        let first = &loop_rows[0];
        let minutes: Vec<i16> = loop_rows.iter().map(|r| r.planned_minutes).collect();
        let slots = schedule::timeline(first.starts_at, &minutes, first.break_minutes);
        for (row, slot) in loop_rows.iter().zip(slots) {
            if first.candidate_id != user && row.interviewer_id != Some(user) {
                continue;
            }
            events.push(ics::CalendarEvent {
                uid: format!("round-{}@mockloop", row.round_id),
                sequence: row.calendar_sequence,
                starts_at: slot.starts_at,
                ends_at: slot.ends_at,
                summary: format!("mockloop: {} (round {} of {})", row.title, row.position, loop_rows.len()),
                description: format!("{} · {} loop", row.kind.label(), row.template_name),
                url: format!("{base_url}/loops/{}", row.loop_id),
                cancelled: row.status == LoopStatus::Cancelled,
            });
        }
    }
    events
}

/// An `.ics` download, never cached: it lists private rounds.
pub fn ics_response(body: String, filename: &str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/calendar; charset=utf-8"));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    response
}
