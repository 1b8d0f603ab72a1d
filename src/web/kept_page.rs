//! A rendered page kept with holes for what differs on every response (the CSP
//! nonce, a running clock): rendered once with a marker in each hole, kept
//! without them, and filled on each response. The markers are random per
//! process, so no text a user writes can open a hole.

use std::sync::LazyLock;

use super::render_cache::Kept;

/// Letters and digits only, so that HTML escaping leaves a marker whole.
static MARKER_PREFIX: LazyLock<String> = LazyLock::new(|| {
    let bytes: [u8; 16] = rand::random();
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!("hole{hex}n")
});

/// A marker names its hole in this many digits.
const INDEX_DIGITS: usize = 2;

#[derive(Debug, Clone, PartialEq)]
pub struct HoledPage {
    /// The page without its markers.
    text: String,
    /// Where each hole is in `text`, and which it is, in order.
    holes: Vec<(usize, usize)>,
}

impl HoledPage {
    /// What to render in hole `index` (below 100).
    pub fn marker(index: usize) -> String {
        format!("{}{index:0width$}", *MARKER_PREFIX, width = INDEX_DIGITS)
    }

    /// `rendered` with its markers taken out and their places noted.
    pub fn from_rendered(rendered: &str) -> HoledPage {
        let prefix = MARKER_PREFIX.as_str();
        let mut text = String::with_capacity(rendered.len());
        let mut holes = Vec::new();
        let mut rest = rendered;
        while let Some(at) = rest.find(prefix) {
            text.push_str(&rest[..at]);
            let after = &rest[at + prefix.len()..];
            match after.get(..INDEX_DIGITS).and_then(|digits| digits.parse::<usize>().ok()) {
                Some(index) => {
                    holes.push((text.len(), index));
                    rest = &after[INDEX_DIGITS..];
                }
                None => {
                    text.push_str(prefix);
                    rest = after;
                }
            }
        }
        text.push_str(rest);
        HoledPage { text, holes }
    }

    /// The page with each hole `i` filled by `fills[i]` (empty past the end).
    pub fn fill(&self, fills: &[&str]) -> String {
        let extra: usize = self.holes.iter().map(|(_, index)| fills.get(*index).map_or(0, |f| f.len())).sum();
        let mut page = String::with_capacity(self.text.len() + extra);
        let mut from = 0;
        for (at, index) in &self.holes {
            page.push_str(&self.text[from..*at]);
            page.push_str(fills.get(*index).copied().unwrap_or_default());
            from = *at;
        }
        page.push_str(&self.text[from..]);
        page
    }
}

impl Kept for HoledPage {
    fn size(&self) -> usize {
        self.text.len() + self.holes.len() * std::mem::size_of::<(usize, usize)>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_each_hole_where_its_marker_was() {
        let (a, b) = (HoledPage::marker(0), HoledPage::marker(1));
        let cases: &[(String, &[&str], &str)] = &[
            (format!("<p nonce=\"{a}\">{b}</p>{a}"), &["N", "clock"], "<p nonce=\"N\">clock</p>N"),
            (format!("{a}{b}"), &["x", "y"], "xy"),
            ("no holes".to_owned(), &["x"], "no holes"),
            (format!("[{b}]"), &["x"], "[]"),
            (format!("{}zz{a}", &a[..a.len() - INDEX_DIGITS]), &["x"], &format!("{}zzx", &a[..a.len() - INDEX_DIGITS])),
        ];
        for (rendered, fills, expected) in cases {
            let page = HoledPage::from_rendered(rendered);
            assert_eq!(page.fill(fills), *expected, "{rendered}");
        }
    }

    #[test]
    fn markers_are_letters_and_digits_that_escaping_leaves_alone() {
        let marker = HoledPage::marker(7);
        assert!(marker.chars().all(|c| c.is_ascii_alphanumeric()), "{marker}");
        assert_eq!(crate::web::page::escape_html(&marker), marker);
    }
}
