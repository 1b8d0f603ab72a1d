//! iCalendar (RFC 5545) files: one event per round, stable UIDs, and a
//! SEQUENCE that grows when a loop is rescheduled or cancelled.

use chrono::{DateTime, Utc};

pub struct CalendarEvent {
    /// Stable across reschedules: calendars update the event instead of adding one.
    pub uid: String,
    pub sequence: i32,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub summary: String,
    pub description: String,
    pub url: String,
    pub cancelled: bool,
}

/// A calendar of `events`; METHOD:CANCEL when every event is cancelled.
pub fn calendar(name: &str, events: &[CalendarEvent], now: DateTime<Utc>) -> String {
    let method = if !events.is_empty() && events.iter().all(|e| e.cancelled) { "CANCEL" } else { "PUBLISH" };
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//mockloop//mockloop//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        format!("METHOD:{method}"),
        format!("X-WR-CALNAME:{}", escape(name)),
    ];
    for event in events {
        lines.extend([
            "BEGIN:VEVENT".to_owned(),
            format!("UID:{}", event.uid),
            format!("DTSTAMP:{}", stamp(now)),
            format!("DTSTART:{}", stamp(event.starts_at)),
            format!("DTEND:{}", stamp(event.ends_at)),
            format!("SEQUENCE:{}", event.sequence),
            format!("STATUS:{}", if event.cancelled { "CANCELLED" } else { "CONFIRMED" }),
            format!("SUMMARY:{}", escape(&event.summary)),
            format!("DESCRIPTION:{}", escape(&event.description)),
            format!("URL:{}", event.url),
            "END:VEVENT".to_owned(),
        ]);
    }
    lines.push("END:VCALENDAR".to_owned());
    lines.iter().map(|line| fold(line)).collect::<Vec<_>>().join("")
}

fn stamp(instant: DateTime<Utc>) -> String {
    instant.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT values escape backslashes, separators and newlines.
fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace(['\n', '\r'], "\\n")
}

/// Lines longer than 75 octets continue on the next line after a space; every line ends in CRLF.
fn fold(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 8);
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(cancelled: bool) -> CalendarEvent {
        CalendarEvent {
            uid: "round-1@mockloop".into(),
            sequence: 2,
            starts_at: "2026-12-01T08:00:00Z".parse().expect("instant"),
            ends_at: "2026-12-01T08:45:00Z".parse().expect("instant"),
            summary: "Coding, round 1; of 6".into(),
            description: "Line one\nLine two".into(),
            url: "http://localhost/loops/x".into(),
            cancelled,
        }
    }

    #[test]
    fn events_carry_utc_times_sequence_and_escaped_text() {
        let text = calendar("My loop", &[event(false)], "2026-11-26T10:00:00Z".parse().expect("now"));
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.contains("DTSTART:20261201T080000Z\r\n") && text.contains("DTEND:20261201T084500Z\r\n"));
        assert!(text.contains("SEQUENCE:2\r\n") && text.contains("METHOD:PUBLISH\r\n"));
        assert!(text.contains("SUMMARY:Coding\\, round 1\\; of 6\r\n"));
        assert!(text.contains("DESCRIPTION:Line one\\nLine two\r\n"));
    }

    #[test]
    fn a_cancelled_loop_cancels_its_events() {
        let text = calendar("My loop", &[event(true)], Utc::now());
        assert!(text.contains("METHOD:CANCEL\r\n") && text.contains("STATUS:CANCELLED\r\n"));
    }

    #[test]
    fn long_lines_are_folded_at_75_octets() {
        let mut long = event(false);
        long.description = "x".repeat(200);
        let text = calendar("n", &[long], Utc::now());
        assert!(text.split("\r\n").all(|line| line.len() <= 75));
        assert!(text.contains("\r\n x"));
    }
}
