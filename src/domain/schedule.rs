//! When each round of a loop happens: local start times in a time zone, and
//! the timeline of rounds separated by breaks.

use chrono::{DateTime, Duration, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// One round's slot in the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
}

/// Rounds back to back, `break_minutes` apart, from `starts_at`.
pub fn timeline(starts_at: DateTime<Utc>, round_minutes: &[i16], break_minutes: i16) -> Vec<Slot> {
    let mut next = starts_at;
    round_minutes
        .iter()
        .map(|minutes| {
            let slot = Slot { starts_at: next, ends_at: next + Duration::minutes(i64::from(*minutes)) };
            next = slot.ends_at + Duration::minutes(i64::from(break_minutes));
            slot
        })
        .collect()
}

pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
    name.trim().parse::<Tz>().map_err(|_| format!("unknown time zone `{}`", name.trim()))
}

/// A wall-clock time typed in a form (`2026-12-01T09:30`) in `zone`, as an instant.
/// A time skipped by a daylight-saving change is refused; a repeated one takes the first.
pub fn parse_local(input: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    let input = input.trim();
    let naive = NaiveDateTime::parse_from_str(input, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(input, "%Y-%m-%dT%H:%M:%S"))
        .map_err(|_| "enter a date and time such as 2026-12-01T09:30".to_owned())?;
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(local) => Ok(local.with_timezone(&Utc)),
        LocalResult::Ambiguous(first, _) => Ok(first.with_timezone(&Utc)),
        LocalResult::None => Err(format!("{input} does not exist in {zone} (the clocks change then)")),
    }
}

/// The value of a `datetime-local` input showing `instant` in `zone`.
pub fn to_local_input(instant: DateTime<Utc>, zone: Tz) -> String {
    instant.with_timezone(&zone).format("%Y-%m-%dT%H:%M").to_string()
}

/// "Tue 1 Dec 2026, 09:30" in `zone`.
pub fn format_local(instant: DateTime<Utc>, zone: Tz) -> String {
    instant.with_timezone(&zone).format("%a %-d %b %Y, %H:%M").to_string()
}

/// "Tue 1 Dec 2026, 15:00 (Asia/Kolkata)": a loop's time in the zone it was
/// scheduled in, named, wherever the loop is shown (a zone no longer known reads as UTC).
pub fn format_in_zone_named(instant: DateTime<Utc>, zone_name: &str) -> String {
    let zone = parse_time_zone(zone_name).unwrap_or(Tz::UTC);
    format!("{} ({})", format_local(instant, zone), zone.name())
}

/// "1 Dec 2026 08:30 UTC", where no zone applies (export files, audit times).
pub fn format_utc(instant: DateTime<Utc>) -> String {
    instant.format("%-d %b %Y %H:%M UTC").to_string()
}

/// "09:30" in `zone`.
pub fn format_local_time(instant: DateTime<Utc>, zone: Tz) -> String {
    instant.with_timezone(&zone).format("%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        text.parse().expect("instant")
    }

    #[test]
    fn a_loop_time_reads_in_its_own_zone_with_the_zone_named() {
        for (zone, shown) in [
            ("Asia/Kolkata", "Wed 2 Dec 2026, 09:30 (Asia/Kolkata)"),
            ("America/Los_Angeles", "Tue 1 Dec 2026, 20:00 (America/Los_Angeles)"),
            ("UTC", "Wed 2 Dec 2026, 04:00 (UTC)"),
            ("Mars/Olympus", "Wed 2 Dec 2026, 04:00 (UTC)"),
        ] {
            assert_eq!(format_in_zone_named(utc("2026-12-02T04:00:00Z"), zone), shown, "{zone}");
        }
    }

    #[test]
    fn rounds_follow_each_other_with_breaks() {
        let slots = timeline(utc("2026-12-01T08:00:00Z"), &[45, 60], 15);
        assert_eq!(slots[0].ends_at, utc("2026-12-01T08:45:00Z"));
        assert_eq!(slots[1].starts_at, utc("2026-12-01T09:00:00Z"));
        assert_eq!(slots[1].ends_at, utc("2026-12-01T10:00:00Z"));
    }

    #[test]
    fn local_times_become_instants_in_their_zone() {
        let berlin = parse_time_zone("Europe/Berlin").expect("zone");
        assert_eq!(parse_local("2026-12-01T09:30", berlin), Ok(utc("2026-12-01T08:30:00Z")));
        assert_eq!(parse_local("2026-07-01T09:30", berlin), Ok(utc("2026-07-01T07:30:00Z")));
        assert_eq!(to_local_input(utc("2026-12-01T08:30:00Z"), berlin), "2026-12-01T09:30");
    }

    #[test]
    fn a_time_skipped_by_daylight_saving_is_refused() {
        let berlin = parse_time_zone("Europe/Berlin").expect("zone");
        let error = parse_local("2026-03-29T02:30", berlin).expect_err("skipped hour");
        assert!(error.contains("does not exist"), "{error}");
    }

    #[test]
    fn unknown_zones_and_malformed_times_are_refused() {
        assert!(parse_time_zone("Mars/Olympus").is_err());
        assert!(parse_local("tomorrow", Tz::UTC).is_err());
    }
}
