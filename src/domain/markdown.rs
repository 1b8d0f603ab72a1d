//! Markdown to safe HTML. Rendered once when text is saved, never per view.
//!
//! Safe by construction rather than by sanitising afterwards: raw HTML is shown
//! as text, so every tag in the output is one the Markdown writer made, and the
//! only attribute values taken from the text (link and image addresses) are
//! checked here. Cost is bounded whatever the shape of the text: before parsing,
//! no line may open more than [`MAX_LINE_CONTAINERS`] containers and no table may
//! have more than [`MAX_TABLE_CELLS`] cells; after it, containers nested past
//! [`MAX_NESTING`] lose their markup (not their text). The HTML sanitiser this
//! replaces cost more than the rendering and grew with the square of nesting
//! depth: a note of 99 000 `>` once stalled the server for minutes.

use std::borrow::Cow;
use std::ops::Range;

use pulldown_cmark::{Alignment, CowStr, Event, Options, Parser, Tag, TagEnd, html};

/// Block quotes, lists, emphasis and links nested deeper than this are rendered
/// as their text alone; nobody writes notes nested this deep on purpose.
pub const MAX_NESTING: usize = 16;

const OPTIONS: Options = Options::ENABLE_TABLES.union(Options::ENABLE_STRIKETHROUGH).union(Options::ENABLE_TASKLISTS);

/// Renders Markdown (with tables, strikethrough and fenced code) into HTML that
/// can neither run script nor load anything from another site: raw HTML shows
/// as text, links go only to web and mail addresses (or relative ones), and an
/// image from another site becomes a link to it.
pub fn render(markdown: &str) -> String {
    let markdown = bounded_source(markdown);
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut html, Bounded::new(Parser::new_ext(&markdown, OPTIONS)));
    html
}

/// Container markers (`>`, `-`, `1.`) one line may open before the rest of it
/// is read as text: the parser's own cost grows faster than linearly with
/// nesting opened on one line, and past [`MAX_NESTING`] it shows as text anyway.
const MAX_LINE_CONTAINERS: usize = 2 * MAX_NESTING;

/// Cells one table may have (header and body rows times columns); a larger
/// table shows as text. The parser fills every row to the header's width, so
/// under a wide header each two-byte line would become a full row.
const MAX_TABLE_CELLS: usize = 10_000;

/// A table being read in [`bounded_source`].
struct TableSeen {
    /// Where a backslash would stop its delimiter row (`|---|`) from being one.
    delimiter_dash: usize,
    columns: usize,
    rows: usize,
}

impl TableSeen {
    fn escape_if_too_large(self) -> Option<usize> {
        (self.rows.saturating_mul(self.columns) > MAX_TABLE_CELLS).then_some(self.delimiter_dash)
    }
}

/// `markdown` with a backslash before each container marker that would open
/// more than [`MAX_LINE_CONTAINERS`] on one line, and before the delimiter row
/// of each table of more than [`MAX_TABLE_CELLS`]: what follows is then text.
fn bounded_source(markdown: &str) -> Cow<'_, str> {
    let mut escapes = Vec::new();
    let mut table: Option<TableSeen> = None;
    let mut line_start = 0;
    for line in markdown.split_inclusive('\n') {
        let (content, past_limit) = container_prefix(line.as_bytes());
        escapes.extend(past_limit.map(|at| line_start + at));
        let rest = &line[content..];
        if rest.trim().is_empty() {
            escapes.extend(table.take().and_then(TableSeen::escape_if_too_large));
        } else if let Some(open) = table.as_mut() {
            open.rows += 1;
        } else if let Some(columns) = delimiter_columns(rest) {
            let delimiter_dash = line_start + content + rest.find('-').unwrap_or_default();
            // Two rows so far: the header above and the delimiter row.
            table = Some(TableSeen { delimiter_dash, columns, rows: 2 });
        }
        line_start += line.len();
    }
    escapes.extend(table.and_then(TableSeen::escape_if_too_large));
    if escapes.is_empty() {
        return Cow::Borrowed(markdown);
    }
    escapes.sort_unstable();
    let mut bounded = String::with_capacity(markdown.len() + escapes.len());
    let mut copied = 0;
    for at in escapes {
        bounded.push_str(&markdown[copied..at]);
        bounded.push('\\');
        copied = at;
    }
    bounded.push_str(&markdown[copied..]);
    Cow::Owned(bounded)
}

/// Where the text after a line's container markers (spaces, `>`, list markers)
/// starts, and where the first marker past [`MAX_LINE_CONTAINERS`] is to be
/// escaped: at a `>`, `-`, `+` or `*`, or at the `.` or `)` after a number.
fn container_prefix(line: &[u8]) -> (usize, Option<usize>) {
    let mut at = 0;
    let mut markers = 0;
    loop {
        while matches!(line.get(at), Some(b' ' | b'\t')) {
            at += 1;
        }
        let digits = line[at..].iter().take_while(|b| b.is_ascii_digit()).count();
        let marker = match line.get(at) {
            Some(b'>') => at,
            Some(b'-' | b'+' | b'*') if matches!(line.get(at + 1), Some(b' ' | b'\t')) => at,
            Some(b'0'..=b'9')
                if digits <= 9
                    && matches!(line.get(at + digits), Some(b'.' | b')'))
                    && matches!(line.get(at + digits + 1), Some(b' ' | b'\t')) =>
            {
                at + digits
            }
            _ => return (at, None),
        };
        if markers == MAX_LINE_CONTAINERS {
            return (marker, Some(marker));
        }
        markers += 1;
        at = marker + 1;
    }
}

/// The number of columns if `text` could be a table's delimiter row
/// (`| --- | :-: |`), read generously: only pipes, dashes, colons and spaces,
/// with at least one pipe.
fn delimiter_columns(text: &str) -> Option<usize> {
    let text = text.trim();
    if !text.contains('|') || !text.bytes().all(|b| matches!(b, b'|' | b'-' | b':' | b' ' | b'\t')) {
        return None;
    }
    let columns = text.split('|').filter(|cell| cell.contains('-')).count();
    (columns > 0).then_some(columns)
}

/// Whether a link may point at `url`: an `http`, `https` or `mailto` address,
/// or a relative one (where a `/`, `?` or `#` comes before any `:`, so no
/// scheme). Anything a browser could read differently (control characters,
/// space before the scheme) is refused.
fn is_safe_link(url: &str) -> bool {
    if url.chars().any(char::is_control) {
        return false;
    }
    match url.split_once(':') {
        None => true,
        Some((before, _)) if before.contains(['/', '?', '#']) => true,
        Some((scheme, _)) => ["http", "https", "mailto"].iter().any(|allowed| scheme.eq_ignore_ascii_case(allowed)),
    }
}

/// Whether an image source is a path on this site (`/static/x.png`). Anything
/// else (`https://…`, `//host/…`, `/\host/…`, which browsers read as `//host/…`)
/// would make every reader's browser fetch from another server.
fn is_same_origin_path(url: &str) -> bool {
    let mut chars = url.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && !url.chars().any(|c| c == '\\' || c.is_control() || c.is_whitespace())
}

/// `text` escaped for a double-quoted HTML attribute value.
fn push_attribute(html: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#39;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            c => html.push(c),
        }
    }
}

/// The events that open and close a link to `url`, or none when it may not be linked.
fn link<'a>(url: &str, title: &str) -> (Option<Event<'a>>, Option<Event<'a>>) {
    if !is_safe_link(url) {
        return (None, None);
    }
    (Some(link_tag(url, title)), Some(Event::InlineHtml(CowStr::Borrowed("</a>"))))
}

/// The opening tag of a link, written here to add `rel`.
fn link_tag<'a>(url: &str, title: &str) -> Event<'a> {
    let mut tag = String::from("<a href=\"");
    push_attribute(&mut tag, url);
    if !title.is_empty() {
        tag.push_str("\" title=\"");
        push_attribute(&mut tag, title);
    }
    tag.push_str("\" rel=\"noopener noreferrer nofollow\">");
    Event::InlineHtml(tag.into())
}

/// The parser's events made safe and bounded: nesting capped, raw HTML turned
/// into text, links checked, remote images turned into links, and no
/// attributes from the text (code languages, table alignments as `style`).
struct Bounded<'a, I> {
    events: I,
    /// For each open tag, what to emit when it closes (`None`: nothing, its markup was dropped).
    open: Vec<Open<'a>>,
    /// Open containers whose markup was kept and that count toward the limit.
    nesting: usize,
    /// Open links and images whose markup was kept (neither may hold another).
    links: usize,
}

struct Open<'a> {
    close: Option<Event<'a>>,
    nests: bool,
    link: bool,
}

impl<'a, I: Iterator<Item = Event<'a>>> Bounded<'a, I> {
    fn new(events: I) -> Self {
        Bounded { events, open: Vec::new(), nesting: 0, links: 0 }
    }

    /// What to emit for a start tag, noting what to emit when it closes.
    fn start(&mut self, tag: Tag<'a>) -> Option<Event<'a>> {
        let nests = matches!(
            tag,
            Tag::BlockQuote(_)
                | Tag::List(_)
                | Tag::Emphasis
                | Tag::Strong
                | Tag::Strikethrough
                | Tag::Link { .. }
                | Tag::Image { .. }
        );
        let kept = match &tag {
            // An item goes with its list.
            Tag::Item => self.open.last().is_none_or(|list| list.close.is_some()),
            Tag::Link { .. } | Tag::Image { .. } if self.links > 0 => false,
            _ => !nests || self.nesting < MAX_NESTING,
        };
        let linking = matches!(tag, Tag::Link { .. } | Tag::Image { .. });
        let (start, close) = match tag {
            _ if !kept => (None, None),
            Tag::Image { dest_url, title, .. } if !is_same_origin_path(&dest_url) => link(&dest_url, &title),
            Tag::Link { dest_url, title, .. } => link(&dest_url, &title),
            // Focusable, so a block that scrolls sideways can be scrolled from the keyboard.
            Tag::CodeBlock(_) => (
                Some(Event::InlineHtml(CowStr::Borrowed("<pre tabindex=\"0\"><code>"))),
                Some(Event::InlineHtml(CowStr::Borrowed("</code></pre>\n"))),
            ),
            tag => {
                let tag = match tag {
                    Tag::HtmlBlock => Tag::Paragraph,
                    Tag::Table(alignments) => Tag::Table(vec![Alignment::None; alignments.len()]),
                    tag => tag,
                };
                let close = Event::End(tag.to_end());
                (Some(Event::Start(tag)), Some(close))
            }
        };
        let link = linking && start.is_some();
        let nests = nests && start.is_some();
        self.nesting += usize::from(nests);
        self.links += usize::from(link);
        self.open.push(Open { close, nests, link });
        start
    }

    /// What to emit for the end tag of the innermost open tag.
    fn end(&mut self, end: TagEnd) -> Option<Event<'a>> {
        let open = self.open.pop()?;
        self.nesting -= usize::from(open.nests);
        self.links -= usize::from(open.link);
        match open.close {
            Some(close) => Some(close),
            // Keeps the text of dropped blocks (list items, say) from running together.
            None if matches!(end, TagEnd::Item | TagEnd::BlockQuote(_) | TagEnd::List(_)) => Some(Event::SoftBreak),
            None => None,
        }
    }
}

impl<'a, I: Iterator<Item = Event<'a>>> Iterator for Bounded<'a, I> {
    type Item = Event<'a>;

    fn next(&mut self) -> Option<Event<'a>> {
        loop {
            let event = match self.events.next()? {
                Event::Start(tag) => self.start(tag),
                Event::End(end) => self.end(end),
                Event::Html(html) | Event::InlineHtml(html) => Some(Event::Text(html)),
                event => Some(event),
            };
            if event.is_some() {
                return event;
            }
        }
    }
}

/// One short item's Markdown (a hint, a follow-up: a line or two, where a
/// `code span` is common) as inline HTML: [`render`] without the paragraph
/// around it. Such items are rendered where they are shown; anything longer
/// than one paragraph keeps its blocks.
pub fn render_inline(markdown: &str) -> String {
    let html = render(markdown);
    match html.trim_end().strip_prefix("<p>").and_then(|inner| inner.strip_suffix("</p>")) {
        Some(inner) if !inner.contains("<p>") => inner.to_owned(),
        _ => html,
    }
}

/// Makes a Markdown document safe to open in a Markdown viewer whatever the
/// text of other people it quotes: raw HTML shows as text (`<` becomes
/// `&lt;`) and images become links (`!` becomes `&#33;`), so nothing in it
/// runs script or fetches from another server when it is read.
pub fn defuse(markdown: &str) -> String {
    let mut text = markdown.to_owned();
    // Escaping an HTML block can turn what it held into Markdown (an image, say), so
    // look again; a few rounds settle any real text, and past them escape bluntly.
    for _ in 0..4 {
        let live = live_markup(&text);
        if live.is_empty() {
            return text;
        }
        text = escape_at(&text, &live);
    }
    if live_markup(&text).is_empty() { text } else { text.replace('<', "&lt;").replace("![", "&#33;[") }
}

/// Byte offsets of each `<` that opens raw HTML and each `!` that opens an image,
/// as GitHub's dialect reads the text and as one with `![[wiki]]` images does.
fn live_markup(markdown: &str) -> Vec<usize> {
    let github = OPTIONS | Options::ENABLE_GFM | Options::ENABLE_FOOTNOTES;
    let mut offsets = Vec::new();
    for dialect in [github, github | Options::ENABLE_WIKILINKS] {
        for (event, range) in Parser::new_ext(markdown, dialect).into_offset_iter() {
            match event {
                Event::Html(_) | Event::InlineHtml(_) => offsets.extend(angle_brackets(markdown, range)),
                Event::Start(Tag::Image { .. }) if markdown[range.clone()].starts_with('!') => {
                    offsets.push(range.start)
                }
                _ => {}
            }
        }
    }
    offsets.sort_unstable();
    offsets.dedup();
    offsets
}

fn angle_brackets(markdown: &str, range: Range<usize>) -> impl Iterator<Item = usize> + '_ {
    let start = range.start;
    markdown[range].match_indices('<').map(move |(at, _)| start + at)
}

/// `markdown` with the `<` or `!` at each offset replaced by its character reference.
fn escape_at(markdown: &str, offsets: &[usize]) -> String {
    let mut escaped = String::with_capacity(markdown.len() + offsets.len() * 4);
    let mut copied = 0;
    for &at in offsets {
        escaped.push_str(&markdown[copied..at]);
        escaped.push_str(if markdown[at..].starts_with('<') { "&lt;" } else { "&#33;" });
        copied = at + 1;
    }
    escaped.push_str(&markdown[copied..]);
    escaped
}

#[cfg(test)]
mod tests {
    use super::{
        MAX_LINE_CONTAINERS, MAX_NESTING, MAX_TABLE_CELLS, bounded_source, defuse, is_safe_link, is_same_origin_path,
        render,
    };

    #[test]
    fn code_blocks_and_emphasis_survive() {
        let html = render("Use **care**:\n\n```python\nprint(1 < 2)\n```\n");
        assert!(html.contains("<strong>care</strong>"), "{html}");
        assert!(html.contains("<pre tabindex=\"0\"><code>") && html.contains("print(1 &lt; 2)"), "{html}");
    }

    #[test]
    fn tables_links_lists_and_strikethrough_survive() {
        let html = render("| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n- ~~gone~~ [docs](https://example.com)\n");
        for expected in ["<table>", "<td>1</td>", "<ul>", "<li>", "<del>gone</del>", "<a href=\"https://example.com\""]
        {
            assert!(html.contains(expected), "{expected} in {html}");
        }
    }

    #[test]
    fn links_get_rel_and_no_attribute_comes_from_the_text() {
        let html = render(
            "[a](https://e.example \"t\\\"x\")\n\n| l | r |\n|:--|--:|\n| 1 | 2 |\n\n```rust\tstyle=x\nfn f() {}\n```",
        );
        assert!(
            html.contains(r#"<a href="https://e.example" title="t&quot;x" rel="noopener noreferrer nofollow">a</a>"#),
            "{html}"
        );
        assert!(!html.contains("style") && !html.contains("class"), "{html}");
        assert!(html.contains("<pre tabindex=\"0\"><code>fn f() {}"), "{html}");
    }

    #[test]
    fn links_go_only_to_web_and_mail_addresses_or_relative_ones() {
        for (url, safe) in [
            ("https://e.example/a", true),
            ("HTTP://e.example", true),
            ("mailto:a@e.example", true),
            ("/rounds/1", true),
            ("#notes", true),
            ("a/b:c", true),
            ("?q=a:b", true),
            ("javascript:alert(1)", false),
            ("JavaScript:alert(1)", false),
            (" javascript:alert(1)", false),
            ("java\tscript:alert(1)", false),
            ("\u{1}javascript:alert(1)", false),
            ("vbscript:x", false),
            ("data:text/html,x", false),
        ] {
            assert_eq!(is_safe_link(url), safe, "{url:?}");
        }
    }

    #[test]
    fn a_line_opens_a_bounded_number_of_containers() {
        let limit = MAX_LINE_CONTAINERS;
        for (line, capped) in [
            ("> > a".to_owned(), "> > a".to_owned()),
            (">".repeat(limit + 3), format!("{}\\>>>", ">".repeat(limit))),
            ("- ".repeat(limit + 1), format!("{}\\- ", "- ".repeat(limit))),
            ("1. ".repeat(limit + 1), format!("{}1\\. ", "1. ".repeat(limit))),
            (format!("{}x\n> y", "> ".repeat(limit + 1)), format!("{}\\> x\n> y", "> ".repeat(limit))),
            ("-".repeat(limit * 2), "-".repeat(limit * 2)),
        ] {
            assert_eq!(bounded_source(&line), capped, "{line:?}");
        }
    }

    #[test]
    fn a_table_past_the_cell_limit_shows_as_text() {
        let table = |columns: usize, rows: usize| {
            format!("{}\n{}\n{}", "|a".repeat(columns), "|-".repeat(columns), "b\n".repeat(rows))
        };
        let small = render(&table(4, 100));
        assert!(small.contains("<table>") && small.matches("<tr>").count() == 101, "{small}");
        let wide = table(2000, 10);
        assert!(!render(&wide).contains("<table>"));
        let long = table(2, MAX_TABLE_CELLS);
        assert!(!render(&long).contains("<table>"));
        let quoted = format!("> | a | b |\n> |---|---|\n{}", "> x\n".repeat(MAX_TABLE_CELLS));
        assert!(!render(&quoted).contains("<table>"));
    }

    #[test]
    fn script_and_event_handlers_are_removed() {
        let html = render("<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n[x](javascript:alert(3))");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        for (markdown, shown) in [
            ("<div>block</div>", "&lt;div&gt;block&lt;/div&gt;"),
            ("a <b>bold</b> word", "a &lt;b&gt;bold&lt;/b&gt; word"),
            ("<!-- hidden -->", "&lt;!-- hidden --&gt;"),
            ("<img src=http://evil.example/p.png>", "&lt;img src=http://evil.example/p.png&gt;"),
        ] {
            let html = render(markdown);
            assert!(html.contains(shown), "{markdown:?} shows as text: {html}");
        }
    }

    #[test]
    fn only_images_from_this_site_stay_images() {
        for (markdown, stays) in [
            ("![p](/static/x.png)", true),
            ("![p](/)", true),
            ("![p](https://evil.example/pixel.png)", false),
            ("![p](http://evil.example/pixel.png)", false),
            ("![p](//evil.example/p.png)", false),
            ("![p](/\\evil.example/p.png)", false),
            ("![p](</\t/evil.example/p.png>)", false),
            ("![p](data:image/png;base64,AAAA)", false),
            ("![p](x.png)", false),
            ("![p][r]\n\n[r]: https://evil.example/r.png", false),
            ("[![p](https://evil.example/p.png)](https://example.com)", false),
        ] {
            let html = render(markdown);
            assert_eq!(html.contains("<img"), stays, "{markdown:?}: {html}");
            assert!(!html.contains("src=\"https:") && !html.contains("src=\"//"), "{markdown:?}: {html}");
        }
        let html = render("![the pixel](https://evil.example/pixel.png)");
        assert!(
            html.contains("<a href=\"https://evil.example/pixel.png\"") && html.contains(">the pixel</a>"),
            "{html}"
        );
    }

    #[test]
    fn same_origin_paths_are_told_from_other_sites() {
        for (url, same) in [
            ("/static/x.png", true),
            ("/a/b?c=d#e", true),
            ("//evil.example/x", false),
            ("/\\evil.example/x", false),
            ("/a\\b", false),
            ("/\t/evil.example", false),
            ("https://evil.example", false),
            ("evil.png", false),
            ("", false),
        ] {
            assert_eq!(is_same_origin_path(url), same, "{url:?}");
        }
    }

    #[test]
    fn nesting_past_the_limit_keeps_text_but_not_markup() {
        for (opener, tag) in [("> ", "<blockquote>"), ("- ", "<ul>"), ("1. ", "<ol>")] {
            let markdown = format!("{}deep", opener.repeat(MAX_NESTING * 4));
            let html = render(&markdown);
            assert_eq!(html.matches(tag).count(), MAX_NESTING, "{opener:?}: {html}");
            assert!(html.contains("deep"), "{html}");
        }
        for (open, close, tag) in [("*a ", " a*", "em"), ("**a ", " a**", "strong"), ("[a ", " a](/u)", "a")] {
            let html = render(&format!("{}deep{}", open.repeat(MAX_NESTING * 2), close.repeat(MAX_NESTING * 2)));
            let depth = deepest(&html, tag);
            assert!(depth > 0 && depth <= MAX_NESTING && html.contains("deep"), "{tag} {depth}: {html}");
        }
    }

    /// How deeply `tag` elements nest in `html`.
    fn deepest(html: &str, tag: &str) -> usize {
        let (open, close) = (format!("<{tag}"), format!("</{tag}>"));
        let (mut depth, mut deepest) = (0, 0);
        for (at, _) in html.match_indices('<') {
            if html[at..].starts_with(&close) {
                depth -= 1;
            } else if html[at..].starts_with(&open) && html[at + open.len()..].starts_with(['>', ' ']) {
                depth += 1;
                deepest = deepest.max(depth);
            }
        }
        deepest
    }

    #[test]
    fn dropped_list_items_do_not_run_together() {
        let deep = "> ".repeat(MAX_NESTING);
        let html = render(&format!("{deep}- one\n{deep}- two\n"));
        assert!(!html.contains("onetwo"), "{html}");
    }

    #[test]
    fn defused_markdown_has_no_live_html_or_images() {
        for (markdown, expected) in [
            ("plain **text**", "plain **text**"),
            ("<img src=http://evil.example/p.png>", "&lt;img src=http://evil.example/p.png>"),
            ("say <script>alert(1)</script>", "say &lt;script>alert(1)&lt;/script>"),
            ("![p](https://evil.example/p.png)", "&#33;[p](https://evil.example/p.png)"),
            ("\\\\![p](https://evil.example/p.png)", "\\\\&#33;[p](https://evil.example/p.png)"),
            ("`<b>` stays code", "`<b>` stays code"),
            ("a < b and c > d", "a < b and c > d"),
            ("![[https://evil.example/p.png]]", "&#33;[[https://evil.example/p.png]]"),
            (
                "<script>\n![p](https://evil.example/p.png)\n</script>",
                "&lt;script>\n&#33;[p](https://evil.example/p.png)\n&lt;/script>",
            ),
        ] {
            assert_eq!(defuse(markdown), expected, "{markdown:?}");
        }
    }

    #[test]
    fn a_short_item_renders_inline_and_stays_safe() {
        for (item, html) in [
            ("Use `heapq` with *k* items", "Use <code>heapq</code> with <em>k</em> items"),
            ("plain <b>text</b>", "plain &lt;b&gt;text&lt;/b&gt;"),
            ("first\n\nsecond", "<p>first</p>\n<p>second</p>\n"),
            ("", ""),
        ] {
            assert_eq!(crate::domain::markdown::render_inline(item), html, "{item}");
        }
    }

}
