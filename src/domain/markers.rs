//! The interviewer's markers: a short label dropped at a moment of the round
//! ("asked about complexity here"), shown on the feedback timeline.

use chrono::{DateTime, Utc};

use super::code_runs;
use super::timer::TimerState;

/// Longest label kept (the database allows a little more).
pub const MAX_MARKER_CHARS: usize = 200;
/// Most markers one round keeps.
pub const MAX_MARKERS_PER_ROUND: i64 = 200;

/// The label as kept: trimmed, one line, not empty, not too long.
pub fn label(text: &str) -> Result<String, &'static str> {
    let label = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match label.chars().count() {
        0 => Err("Write a few words for the marker, such as \"asked about complexity\"."),
        n if n > MAX_MARKER_CHARS => Err("A marker is at most 200 characters."),
        _ => Ok(label),
    }
}

/// Markers mark moments of a round under way: once it started, and (like the
/// candidate's work) until a moment after it ended.
pub fn may_drop(timer: TimerState, ended_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    timer != TimerState::NotStarted && code_runs::takes_work(timer, ended_at, now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_one_trimmed_line_of_a_bounded_length() {
        let long = "x".repeat(MAX_MARKER_CHARS + 1);
        let longest = "x".repeat(MAX_MARKER_CHARS);
        let table: [(&str, Result<&str, &str>); 5] = [
            ("  asked about\n complexity ", Ok("asked about complexity")),
            ("", Err("Write a few words for the marker, such as \"asked about complexity\".")),
            (" \t\n", Err("Write a few words for the marker, such as \"asked about complexity\".")),
            (&longest, Ok(&longest)),
            (&long, Err("A marker is at most 200 characters.")),
        ];
        for (text, expected) in table {
            assert_eq!(label(text), expected.map(str::to_owned), "{text:?}");
        }
    }

    #[test]
    fn markers_are_dropped_while_the_round_is_under_way() {
        let now = DateTime::from_timestamp(2_000_000, 0).unwrap();
        let long_ago = now - chrono::Duration::minutes(5);
        let table = [
            (TimerState::NotStarted, None, false),
            (TimerState::Running, None, true),
            (TimerState::Paused, None, true),
            (TimerState::Ended, Some(now), true),
            (TimerState::Ended, Some(long_ago), false),
        ];
        for (timer, ended_at, expected) in table {
            assert_eq!(may_drop(timer, ended_at, now), expected, "{timer:?} {ended_at:?}");
        }
    }
}
