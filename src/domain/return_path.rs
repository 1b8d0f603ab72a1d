//! Where to send someone after they sign in or up: a path on this site, and
//! nothing a browser could read as another site.

/// The path to return to when `next` is one of ours, otherwise "/".
///
/// Accepted: an absolute path (with query or fragment) of URL characters that
/// a browser reads back unchanged (letters, digits, `-._~!$&()*+,;=:@/?#%`),
/// not starting `//`. Browsers strip tabs and newlines and read `\` as `/`
/// before resolving a Location, so `/<TAB>/evil.example` or `/\evil.example`
/// would leave the site; anything outside the set is refused, not repaired.
/// Percent-escapes are kept as they are: a browser never decodes them into
/// the host.
pub fn return_path(next: Option<&str>) -> String {
    match next {
        Some(path) if is_local_path(path) => path.to_owned(),
        _ => "/".to_owned(),
    }
}

fn is_local_path(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~!$&()*+,;=:@/?#%".contains(&b))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::return_path;

    /// How a browser reads a Location header sent by `https://app.example/page`.
    fn as_a_browser_reads(location: &str) -> url::Url {
        url::Url::parse("https://app.example/page").and_then(|base| base.join(location)).expect("resolves")
    }

    /// The accepted path, read by a browser, stays on the site and spells the same path.
    fn stays_home_and_parses_back(path: &str) {
        let url = as_a_browser_reads(path);
        assert_eq!(url.origin().ascii_serialization(), "https://app.example", "{path:?}");
        assert_eq!(&url[url::Position::BeforePath..], path, "{path:?}");
    }

    #[test]
    fn paths_on_this_site_are_kept() {
        for path in [
            "/",
            "/questions?q=graph",
            "/loops/5b6f/rounds?x=1&y=%2F%2Fevil.example",
            "/invite/abc_DEF-123",
            "/rounds/1#notes",
            "/%2F%2Fevil.example/",
            "/%5Cevil.example",
            "/a//b",
            "/a?b=c&d=e;f:g@h!$()*+,~",
        ] {
            assert_eq!(return_path(Some(path)), path, "{path:?}");
            stays_home_and_parses_back(path);
        }
    }

    #[test]
    fn anything_that_could_leave_the_site_or_break_a_header_becomes_the_home_page() {
        for hostile in [
            "",
            "//evil.example",
            "//evil.example/",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "/\t/evil.example/",
            "/\n/evil.example/",
            "/\r/evil.example/",
            "/\x0b/evil.example/",
            "/\x0c/evil.example/",
            "/\0",
            "/\x7f",
            "/ /evil.example",
            "/\u{a0}/evil.example",
            "/\u{3000}/evil.example",
            "/\u{2028}/evil.example",
            "/\u{ff0f}evil.example",
            "/a\\b",
            "https://evil.example",
            "http:evil.example",
            "https:/evil.example",
            "javascript:alert(1)",
            "data:text/html,hi",
            "evil.example",
            "./x",
            "?next=/",
            "#top",
            "\t/x",
            " /x",
            "/\"<script>",
            "/`{x}`",
            "/?q='x'",
        ] {
            assert_eq!(return_path(Some(hostile)), "/", "{hostile:?}");
        }
        assert_eq!(return_path(None), "/");
    }

    proptest! {
        #[test]
        fn whatever_is_asked_for_the_browser_stays_on_the_site(next in prop_oneof![
            any::<String>(),
            "[/\\\\\t\n\r\x0b\x0c %a-z.:?#@]{0,12}",
        ]) {
            stays_home_and_parses_back(&return_path(Some(&next)));
        }
    }
}
