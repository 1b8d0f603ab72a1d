//! Markdown to sanitised HTML. Rendered once when text is saved, never per view.

use pulldown_cmark::{Options, Parser, html};

/// Renders Markdown (with tables, strikethrough and fenced code) and strips
/// anything that could run script or load remote content.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(markdown, options));
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn code_blocks_and_emphasis_survive() {
        let html = render("Use **care**:\n\n```python\nprint(1 < 2)\n```\n");
        assert!(html.contains("<strong>care</strong>"), "{html}");
        assert!(html.contains("<pre><code") && html.contains("print(1 &lt; 2)"), "{html}");
    }

    #[test]
    fn script_and_event_handlers_are_removed() {
        let html = render("<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[x](javascript:alert(3))");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
    }
}
