//! How the history charts are drawn at any length: a point per loop while that
//! stays readable, then the mean of each week, then of each month, so a series
//! never has more than about [`MAX_POINTS`] points however many loops there are.

use chrono::{DateTime, Utc};

/// The most points a series shows before loops are grouped.
pub const MAX_POINTS: i64 = 60;

/// What one point of a history chart stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartGrain {
    Loop,
    Week,
    Month,
}

impl ChartGrain {
    /// How the chart's title says what a point is.
    pub fn per(self) -> &'static str {
        match self {
            ChartGrain::Loop => "per loop",
            ChartGrain::Week => "weekly mean",
            ChartGrain::Month => "monthly mean",
        }
    }

    /// The spelling of `score_buckets.grain`; none for a point per loop.
    pub fn bucket(self) -> Option<&'static str> {
        match self {
            ChartGrain::Loop => None,
            ChartGrain::Week => Some("week"),
            ChartGrain::Month => Some("month"),
        }
    }

    /// The finest grain that keeps `loops` loops, the first at `first`, to about
    /// [`MAX_POINTS`] points by `now` (months beyond that show the latest 60).
    pub fn for_history(loops: i64, first: Option<DateTime<Utc>>, now: DateTime<Utc>) -> ChartGrain {
        let Some(first) = first.filter(|_| loops > MAX_POINTS) else {
            return ChartGrain::Loop;
        };
        if (now - first).num_weeks() < MAX_POINTS { ChartGrain::Week } else { ChartGrain::Month }
    }
}

/// The instant a history page is drawn as of: the end of the current UTC day.
/// A page is then the same all day until its data changes, so it can be kept;
/// trends weigh points by their age relative to the newest, which this leaves alone.
pub fn history_as_of(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now.date_naive().succ_opt().unwrap_or(now.date_naive());
    tomorrow.and_time(chrono::NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_drawn_as_of_the_end_of_the_day() {
        let at = |text: &str| -> DateTime<Utc> { text.parse().expect("instant") };
        let cases = [
            ("2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z"),
            ("2026-12-01T12:34:56Z", "2026-12-02T00:00:00Z"),
            ("2026-12-01T23:59:59.999Z", "2026-12-02T00:00:00Z"),
            ("2026-12-31T18:00:00Z", "2027-01-01T00:00:00Z"),
        ];
        for (now, expected) in cases {
            assert_eq!(history_as_of(at(now)), at(expected), "{now}");
        }
    }

    #[test]
    fn loops_are_grouped_only_beyond_sixty_points() {
        let now: DateTime<Utc> = "2026-12-01T12:00:00Z".parse().expect("instant");
        let ago = |days: i64| Some(now - chrono::Duration::days(days));
        let cases = [
            (0, None, ChartGrain::Loop),
            (1, ago(0), ChartGrain::Loop),
            (60, ago(730), ChartGrain::Loop),
            (61, ago(30), ChartGrain::Week),
            (1000, ago(59 * 7), ChartGrain::Week),
            (1000, ago(60 * 7), ChartGrain::Month),
            (1000, ago(730), ChartGrain::Month),
            (61, None, ChartGrain::Loop),
        ];
        for (loops, first, expected) in cases {
            assert_eq!(ChartGrain::for_history(loops, first, now), expected, "{loops} loops from {first:?}");
        }
    }
}
