//! Charts drawn on the server as SVG: no script, readable without CSS, with a
//! text alternative. Every label is escaped here, since the SVG is inserted raw.

use std::fmt::Write;

use chrono::{DateTime, Datelike, Months, NaiveDate, NaiveTime, Utc};

use super::page::escape_html as escape;

/// Horizontal bars on the 1–4 rubric scale, each under its label (long pillar
/// names need the width); `None` draws "not assessed".
pub fn score_bars(title: &str, bars: &[(String, Option<f64>)]) -> String {
    let (width, row, top, bar_width) = (480.0, 52.0, 22.0, 400.0);
    let height = top + row * bars.len() as f64;
    let mut svg = format!(
        "<svg class=\"chart chart-bars\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"chart-{id}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"chart-{id}\">{title}</title>",
        id = slug(title),
        title = escape(title),
    );
    for tick in 1..=4 {
        let x = bar_width * f64::from(tick) / 4.0;
        let anchor = if tick == 4 { "end" } else { "middle" };
        let _ = write!(
            svg,
            "<line x1=\"{x}\" y1=\"{top}\" x2=\"{x}\" y2=\"{height}\" class=\"grid\"/><text x=\"{x}\" y=\"15\" class=\"tick\" text-anchor=\"{anchor}\">{tick}</text>"
        );
    }
    for (index, (label, value)) in bars.iter().enumerate() {
        let y = top + row * index as f64;
        let _ = write!(svg, "<text x=\"0\" y=\"{:.1}\" class=\"label\">{}</text>", y + 18.0, escape(label));
        match value {
            Some(value) => {
                let length = bar_width * value.clamp(0.0, 4.0) / 4.0;
                let _ = write!(
                    svg,
                    "<rect x=\"0\" y=\"{:.1}\" width=\"{length:.1}\" height=\"20\" class=\"bar\"/>\
                     <text x=\"{:.1}\" y=\"{:.1}\" class=\"value\">{value:.1}</text>",
                    y + 25.0,
                    length + 6.0,
                    y + 41.0
                );
            }
            None => {
                let _ = write!(svg, "<text x=\"0\" y=\"{:.1}\" class=\"value muted\">not assessed</text>", y + 41.0);
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A named line: its points in time order.
pub type Series = (String, Vec<(DateTime<Utc>, f64)>);

/// One line per series over time, on the 1–4 rubric scale.
pub fn score_lines(title: &str, series: &[Series]) -> String {
    lines(title, series, 1, 4)
}

/// One line per series over time, on the scale `low..=high` (whole-number
/// ticks), the full width of its panel, dated along the bottom; the legend is
/// HTML below the plot so it wraps instead of being cut off, and stays legible
/// on a phone where the drawing is scaled down.
pub fn lines(title: &str, series: &[Series], low: i32, high: i32) -> String {
    let (width, height, left, right, top, bottom) = (560.0, 230.0, 34.0, 14.0, 12.0, 34.0);
    let (low_f, high_f) = (f64::from(low), f64::from(high.max(low + 1)));
    let points: Vec<&DateTime<Utc>> = series.iter().flat_map(|(_, p)| p.iter().map(|(t, _)| t)).collect();
    let (Some(first), Some(last)) = (points.iter().min(), points.iter().max()) else {
        return String::new();
    };
    let (first, last) = (**first, **last);
    let span = (last - first).num_seconds() as f64;
    let plot_width = width - left - right;
    // A single instant sits in the middle rather than on the axis.
    let x_of = |t: &DateTime<Utc>| match span > 0.0 {
        true => left + plot_width * ((*t - first).num_seconds() as f64 / span),
        false => left + plot_width / 2.0,
    };
    let y_of = |v: f64| top + (height - top - bottom) * (high_f - v.clamp(low_f, high_f)) / (high_f - low_f);
    let mut svg = format!(
        "<svg class=\"chart chart-lines\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"chart-{id}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"chart-{id}\">{title}</title>",
        id = slug(title),
        title = escape(title)
    );
    for tick in low..=high {
        let y = y_of(f64::from(tick));
        let _ = write!(
            svg,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{x2}\" y2=\"{y:.1}\" class=\"grid\"/><text x=\"{tx}\" y=\"{ty:.1}\" class=\"tick\" text-anchor=\"end\">{tick}</text>",
            x2 = width - right,
            tx = left - 6.0,
            ty = y + 5.0
        );
    }
    let place = |ticks: &[(DateTime<Utc>, String)]| time_labels(ticks, x_of, left, width - right);
    // A unit whose labels would run into each other at the largest size steps up to a coarser one.
    let ticks = time_ticks(first, last, |ticks| {
        place(ticks).windows(2).all(|pair| pair[0].span.1 + TICK_SIZE / 2.0 <= pair[1].span.0)
    });
    for (TimeLabel { x, anchor, .. }, (_, label)) in place(&ticks).into_iter().zip(&ticks) {
        let _ = write!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{top}\" x2=\"{x:.1}\" y2=\"{y2}\" class=\"grid\"/><text x=\"{x:.1}\" y=\"{ty}\" class=\"tick\" text-anchor=\"{anchor}\">{label}</text>",
            y2 = height - bottom,
            ty = height - 10.0
        );
    }
    let mut legend = String::from("<ul class=\"chart-legend\">");
    for (index, (name, points)) in series.iter().enumerate() {
        if points.is_empty() {
            continue;
        }
        let path: Vec<String> = points.iter().map(|(t, v)| format!("{:.1},{:.1}", x_of(t), y_of(*v))).collect();
        let _ = write!(svg, "<polyline points=\"{}\" class=\"series series-{index}\"/>", path.join(" "));
        for (t, v) in points {
            let _ = write!(
                svg,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" class=\"series-{index}\"/>",
                x_of(t),
                y_of(*v)
            );
        }
        let _ = write!(
            legend,
            "<li><span class=\"swatch series-{index}\" aria-hidden=\"true\"></span>{}</li>",
            escape(name)
        );
    }
    svg.push_str("</svg>");
    legend.push_str("</ul>");
    svg + &legend
}

/// The size time labels are drawn at where it is largest, in viewBox units (a
/// phone's, `.chart-lines` in app.css), and a generous width per character of it.
const TICK_SIZE: f64 = 22.0;
const TICK_CHAR_WIDTH: f64 = 0.6 * TICK_SIZE;

/// A time label placed under the plot: its tick's x, its anchor, and the span
/// it covers at [`TICK_SIZE`].
struct TimeLabel {
    x: f64,
    anchor: &'static str,
    span: (f64, f64),
}

/// Places each label centred under its tick, except that one which would
/// pass the plot's edge (`from`, `to`) starts or ends at its tick instead.
fn time_labels(
    ticks: &[(DateTime<Utc>, String)],
    x_of: impl Fn(&DateTime<Utc>) -> f64,
    from: f64,
    to: f64,
) -> Vec<TimeLabel> {
    ticks
        .iter()
        .map(|(at, label)| {
            let (x, width) = (x_of(at), label.chars().count() as f64 * TICK_CHAR_WIDTH);
            match (x - width / 2.0 < from, x + width / 2.0 > to) {
                (true, _) => TimeLabel { x, anchor: "start", span: (x, x + width) },
                (_, true) => TimeLabel { x, anchor: "end", span: (x - width, x) },
                _ => TimeLabel { x, anchor: "middle", span: (x - width / 2.0, x + width / 2.0) },
            }
        })
        .collect()
}

/// Dates for the time axis: boundaries of the finest unit that gives a few
/// ticks (day, week, month, quarter, year) whose labels `fit`, each labelled
/// once and distinctly; a span within one day gets one date.
fn time_ticks(
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    fit: impl Fn(&[(DateTime<Utc>, String)]) -> bool,
) -> Vec<(DateTime<Utc>, String)> {
    const MOST: usize = 6;
    let (start, end) = (first.date_naive(), last.date_naive());
    if start == end {
        return vec![(first, first.format("%-d %b %Y").to_string())];
    }
    let month_starts = |every: i64| -> Vec<NaiveDate> {
        let mut month = start.with_day(1).unwrap_or(start);
        let mut dates = Vec::new();
        while month <= end {
            if month >= start && (i64::from(month.year()) * 12 + i64::from(month.month0())) % every == 0 {
                dates.push(month);
            }
            month = month.checked_add_months(Months::new(1)).unwrap_or(NaiveDate::MAX);
        }
        dates
    };
    let days_from = |step: u64, from: NaiveDate| -> Vec<NaiveDate> {
        from.iter_days().step_by(step as usize).take_while(|d| *d <= end).filter(|d| *d >= start).collect()
    };
    let monday = start - chrono::Duration::days(i64::from(start.weekday().num_days_from_monday()));
    let choices: [(Vec<NaiveDate>, &str); 8] = [
        (days_from(1, start), "%-d %b"),
        (days_from(7, monday), "%-d %b"),
        (month_starts(1), "%b %Y"),
        (month_starts(3), "%b %Y"),
        (month_starts(6), "%b %Y"),
        (month_starts(12), "%Y"),
        (month_starts(24), "%Y"),
        (month_starts(60), "%Y"),
    ];
    let labelled = |dates: Vec<NaiveDate>, format: &str| -> Vec<(DateTime<Utc>, String)> {
        dates
            .into_iter()
            .map(|date| (date.and_time(NaiveTime::MIN).and_utc().max(first), date.format(format).to_string()))
            .collect()
    };
    choices
        .into_iter()
        .filter(|(dates, _)| !dates.is_empty() && dates.len() <= MOST)
        .map(|(dates, format)| labelled(dates, format))
        .find(|ticks| fit(ticks))
        .unwrap_or_else(|| labelled(vec![start, end], "%-d %b %Y"))
}

fn slug(text: &str) -> String {
    crate::domain::question::slugify(text, 40)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_scaled_to_four_and_labels_escaped() {
        let svg = score_bars("Pillars <of> you", &[("A & B".into(), Some(2.0)), ("C".into(), None)]);
        assert!(svg.contains("width=\"200.0\""), "2 of 4 is half of 400: {svg}");
        assert!(svg.contains("A &amp; B") && svg.contains("Pillars &lt;of&gt; you"));
        assert!(svg.contains("not assessed"));
        assert!(!svg.contains("<of>"));
    }

    #[test]
    fn lines_span_the_dates_and_skip_empty_series() {
        let day = |d: u32| format!("2026-11-{d:02}T10:00:00Z").parse::<DateTime<Utc>>().expect("date");
        let svg =
            score_lines("Trend", &[("Depth".into(), vec![(day(1), 1.0), (day(21), 4.0)]), ("Empty".into(), vec![])]);
        assert!(svg.contains("<polyline points=\"34.0,196.0 546.0,12.0\""), "{svg}");
        assert!(svg.contains("<li><span class=\"swatch series-0\" aria-hidden=\"true\"></span>Depth</li>"), "{svg}");
        assert!(!svg.contains("Empty"));
        assert_eq!(score_lines("Nothing", &[]), "");
    }

    #[test]
    fn time_labels_that_would_run_together_on_a_phone_step_up_to_a_coarser_unit() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().expect("instant");
        let two_years = vec![(at("2024-12-02T09:00:00Z"), 2.0), (at("2026-11-30T09:00:00Z"), 3.0)];
        let svg = score_lines("Two years", &[("Depth".into(), two_years)]);
        assert!(svg.contains(">2025</text>") && svg.contains(">2026</text>"), "{svg}");
        assert!(!svg.contains("Jul 2025"), "half-years run together at a phone's size: {svg}");
    }

    #[test]
    fn the_time_axis_labels_each_date_once_at_a_sensible_unit() {
        let at = |text: &str| text.parse::<DateTime<Utc>>().expect("instant");
        let cases: &[(&str, &str, &[&str])] = &[
            ("2026-11-03T09:00:00Z", "2026-11-03T09:00:00Z", &["3 Nov 2026"]),
            ("2026-11-03T09:00:00Z", "2026-11-03T17:00:00Z", &["3 Nov 2026"]),
            ("2026-11-03T09:00:00Z", "2026-11-05T09:00:00Z", &["3 Nov", "4 Nov", "5 Nov"]),
            ("2026-11-03T09:00:00Z", "2026-11-30T09:00:00Z", &["9 Nov", "16 Nov", "23 Nov", "30 Nov"]),
            ("2026-08-15T09:00:00Z", "2026-11-30T09:00:00Z", &["Sep 2026", "Oct 2026", "Nov 2026"]),
            ("2025-12-02T09:00:00Z", "2026-11-30T09:00:00Z", &["Jan 2026", "Apr 2026", "Jul 2026", "Oct 2026"]),
            ("2024-12-02T09:00:00Z", "2026-11-30T09:00:00Z", &["Jan 2025", "Jul 2025", "Jan 2026", "Jul 2026"]),
            ("2018-03-02T09:00:00Z", "2026-11-30T09:00:00Z", &["2020", "2022", "2024", "2026"]),
        ];
        for (first, last, expected) in cases {
            let labels: Vec<String> =
                time_ticks(at(first), at(last), |_| true).into_iter().map(|(_, label)| label).collect();
            assert_eq!(&labels, expected, "{first} to {last}");
        }
    }
}
