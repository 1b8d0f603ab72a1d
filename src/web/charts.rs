//! Charts drawn on the server as SVG: no script, readable without CSS, with a
//! text alternative. Every label is escaped here, since the SVG is inserted raw.

use std::fmt::Write;

use chrono::{DateTime, Utc};

/// Escapes text for SVG/XML content and attribute values.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// Horizontal bars on the 1–4 rubric scale; `None` draws "not assessed".
pub fn score_bars(title: &str, bars: &[(String, Option<f64>)]) -> String {
    let row = 34;
    let label_width = 260.0;
    let bar_width = 300.0;
    let height = 30 + bars.len() * row;
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 640 {height}\" role=\"img\" aria-labelledby=\"chart-{id}\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"chart-{id}\">{title}</title>",
        id = slug(title),
        title = escape(title),
    );
    for tick in 1..=4 {
        let x = label_width + bar_width * f64::from(tick) / 4.0;
        let _ = write!(
            svg,
            "<line x1=\"{x}\" y1=\"18\" x2=\"{x}\" y2=\"{bottom}\" class=\"grid\"/><text x=\"{x}\" y=\"13\" class=\"tick\" text-anchor=\"middle\">{tick}</text>",
            bottom = height - 6
        );
    }
    for (index, (label, value)) in bars.iter().enumerate() {
        let y = 24 + index * row;
        let _ = write!(svg, "<text x=\"0\" y=\"{}\" class=\"label\">{}</text>", y + 17, escape(label));
        match value {
            Some(value) => {
                let width = bar_width * value.clamp(0.0, 4.0) / 4.0;
                let _ = write!(
                    svg,
                    "<rect x=\"{label_width}\" y=\"{y}\" width=\"{width:.1}\" height=\"22\" class=\"bar\"/>\
                     <text x=\"{tx:.1}\" y=\"{ty}\" class=\"value\">{value:.1}</text>",
                    tx = label_width + width + 6.0,
                    ty = y + 16
                );
            }
            None => {
                let _ =
                    write!(svg, "<text x=\"{label_width}\" y=\"{}\" class=\"value muted\">not assessed</text>", y + 16);
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

/// One line per series over time, on the scale `low..=high` (whole-number ticks).
pub fn lines(title: &str, series: &[Series], low: i32, high: i32) -> String {
    let (width, height, left, right, top, bottom) = (640.0, 260.0, 40.0, 150.0, 20.0, 40.0);
    let (low_f, high_f) = (f64::from(low), f64::from(high.max(low + 1)));
    let points: Vec<&DateTime<Utc>> = series.iter().flat_map(|(_, p)| p.iter().map(|(t, _)| t)).collect();
    let (Some(first), Some(last)) = (points.iter().min(), points.iter().max()) else {
        return String::new();
    };
    let span = (**last - **first).num_seconds().max(1) as f64;
    let x_of = |t: &DateTime<Utc>| left + (width - left - right) * ((*t - **first).num_seconds() as f64 / span);
    let y_of = |v: f64| top + (height - top - bottom) * (high_f - v.clamp(low_f, high_f)) / (high_f - low_f);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"chart-{id}\" xmlns=\"http://www.w3.org/2000/svg\">\
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
            tx = left - 8.0,
            ty = y + 4.0
        );
    }
    let _ = write!(
        svg,
        "<text x=\"{left}\" y=\"{y}\" class=\"tick\">{}</text><text x=\"{x}\" y=\"{y}\" class=\"tick\" text-anchor=\"end\">{}</text>",
        first.format("%-d %b %Y"),
        last.format("%-d %b %Y"),
        y = height - 12.0,
        x = width - right
    );
    for (index, (name, points)) in series.iter().enumerate() {
        if points.is_empty() {
            continue;
        }
        let path: Vec<String> = points.iter().map(|(t, v)| format!("{:.1},{:.1}", x_of(t), y_of(*v))).collect();
        let _ = write!(svg, "<polyline points=\"{}\" class=\"series series-{index}\"/>", path.join(" "));
        for (t, v) in points {
            let _ =
                write!(svg, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" class=\"series-{index}\"/>", x_of(t), y_of(*v));
        }
        let legend_y = top + 18.0 * index as f64 + 6.0;
        let _ = write!(
            svg,
            "<rect x=\"{lx}\" y=\"{ry:.1}\" width=\"12\" height=\"4\" class=\"swatch series-{index}\"/><text x=\"{tx}\" y=\"{legend_y:.1}\" class=\"label\">{}</text>",
            escape(name),
            lx = width - right + 12.0,
            ry = legend_y - 5.0,
            tx = width - right + 30.0
        );
    }
    svg.push_str("</svg>");
    svg
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
        assert!(svg.contains("width=\"150.0\""), "2 of 4 is half of 300: {svg}");
        assert!(svg.contains("A &amp; B") && svg.contains("Pillars &lt;of&gt; you"));
        assert!(svg.contains("not assessed"));
        assert!(!svg.contains("<of>"));
    }

    #[test]
    fn lines_span_the_dates_and_skip_empty_series() {
        let day = |d: u32| format!("2026-11-{d:02}T10:00:00Z").parse::<DateTime<Utc>>().expect("date");
        let svg =
            score_lines("Trend", &[("Depth".into(), vec![(day(1), 1.0), (day(21), 4.0)]), ("Empty".into(), vec![])]);
        assert!(svg.contains("<polyline points=\"40.0,220.0 490.0,20.0\""), "{svg}");
        assert!(!svg.contains("Empty"));
        assert_eq!(score_lines("Nothing", &[]), "");
    }
}
