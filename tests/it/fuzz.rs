//! Property tests on the code that turns outside text into something else:
//! the Markdown renderer (whose output reaches other people's pages) must
//! never emit anything that runs script; the content parsers (questions,
//! rubrics, templates) must answer every input with content or a clear
//! error, never a panic; calendar text must stay inside its property. The
//! case count is reduced by default and large under `MOCKLOOP_PROOF=full`.

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use mockloop::content::{question_file, rubric_file, template_file};
use mockloop::domain::{ics, markdown};
use proptest::prelude::*;

use crate::support::proof::{proof_count, runner};

/// Pieces of Markdown and HTML that attacks are made of; strategies join
/// random runs of them so that the renderer sees them in odd combinations.
const ATTACK_PIECES: &[&str] = &[
    "<script>",
    "</script>",
    "<script src=//evil.example/x.js>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>",
    "<iframe src=javascript:alert(1)>",
    "<object data=x>",
    "<embed src=x>",
    "<style>*{}</style>",
    "<link rel=stylesheet href=x>",
    "<meta http-equiv=refresh content=0;url=javascript:alert(1)>",
    "<form action=javascript:alert(1)><button>",
    "<a href=\"javascript:alert(1)\">",
    "<a href='jav&#x09;ascript:alert(1)'>",
    "<a href=\"&#106;avascript:alert(1)\">",
    "<div style=\"background:url(javascript:alert(1))\">",
    "<p onclick=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<base href=//evil.example/>",
    "<template><script>alert(1)</script></template>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<!--",
    "-->",
    "<![CDATA[",
    "]]>",
    "[link](javascript:alert(1))",
    "[link](JaVaScRiPt:alert(1))",
    "[link](java\tscript:alert(1))",
    "[link](vbscript:msgbox(1))",
    "[link](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![img](javascript:alert(1))",
    "![p](https://evil.example/p.png)",
    "![p](//evil.example/p.png)",
    "![p](/\\evil.example/p.png)",
    "<img src=http://evil.example/p.png>",
    "![img](x \"onerror=alert(1)\")",
    "<javascript:alert(1)>",
    "[ref]: javascript:alert(1)\n",
    "[ref]",
    "```html\n",
    "```",
    "`",
    "    ",
    "\n",
    "\n\n",
    "> ",
    "- ",
    "1. ",
    "| a | b |\n|---|---|\n",
    "- [ ] ",
    "~~",
    "**",
    "_",
    "&lt;script&gt;",
    "&#60;script&#62;",
    "\"",
    "'",
    "<",
    ">",
    "&",
    "=",
    "(",
    ")",
    "[",
    "]",
    "\u{200b}",
    "\u{202e}",
    "\0",
    "{{ 7*7 }}",
    "{% if %}",
    "'; drop table users; --",
];

fn adversarial_markdown() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::collection::vec(prop::sample::select(ATTACK_PIECES), 0..40).prop_map(|pieces| pieces.concat()),
        any::<String>(),
        (prop::collection::vec(prop::sample::select(ATTACK_PIECES), 0..10), "[ -~\n]{0,200}")
            .prop_map(|(pieces, text)| format!("{}{text}{}", pieces.concat(), pieces.concat())),
    ]
}

/// The elements the renderer may emit (ammonia's default set): none runs
/// script or loads a document.
const ALLOWED_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "acronym",
    "area",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "data",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hgroup",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "map",
    "mark",
    "nav",
    "ol",
    "p",
    "pre",
    "q",
    "rp",
    "rt",
    "rtc",
    "ruby",
    "s",
    "samp",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
    "input",
];

/// Why `html` (the renderer's output) could run script or make a reader's
/// browser fetch an image from another site, or None if it cannot.
/// The output is serialised HTML: text has `<` escaped and attribute values
/// are double-quoted with `"` escaped, so a small scanner reads every tag.
fn script_risk(html: &str) -> Option<String> {
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open + 1..];
        let closing = rest.starts_with('/');
        let name_start = usize::from(closing);
        let name_len = rest[name_start..].find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len() - name_start);
        let name = rest[name_start..name_start + name_len].to_ascii_lowercase();
        if !ALLOWED_ELEMENTS.contains(&name.as_str()) {
            return Some(format!("element <{name}>"));
        }
        rest = &rest[name_start + name_len..];
        // Attributes: name, or name="value", until `>` (or `/>`).
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix('>').or_else(|| rest.strip_prefix("/>")) {
                rest = after;
                break;
            }
            let attribute_len = rest.find(['=', ' ', '>', '/']).unwrap_or(rest.len());
            if attribute_len == 0 {
                return Some(format!("unparseable tag near {:?}", rest.chars().take(40).collect::<String>()));
            }
            let attribute = rest[..attribute_len].to_ascii_lowercase();
            rest = &rest[attribute_len..];
            let mut value = String::new();
            if let Some(after) = rest.strip_prefix("=\"") {
                let end = after.find('"')?;
                value = decode_entities(&after[..end]);
                rest = &after[end + 1..];
            }
            if attribute.starts_with("on") || attribute == "style" || attribute == "srcdoc" || attribute == "formaction"
            {
                return Some(format!("attribute {attribute} on <{name}>"));
            }
            if matches!(attribute.as_str(), "href" | "src" | "action" | "xlink:href" | "cite" | "background")
                && !safe_url(&value)
            {
                return Some(format!("{attribute}={value:?} on <{name}>"));
            }
            if attribute == "src" && !same_origin_path(&value) {
                return Some(format!("remote {attribute}={value:?} on <{name}>"));
            }
        }
    }
    None
}

/// Entities the serialiser writes in attribute values, decoded as a browser would.
fn decode_entities(value: &str) -> String {
    value.replace("&quot;", "\"").replace("&nbsp;", "\u{a0}").replace("&amp;", "&")
}

/// A path on this site, read as a browser reads it (ignoring ASCII tabs and
/// newlines; `\` as `/`): not `//host/…` nor an absolute URL.
fn same_origin_path(value: &str) -> bool {
    let cleaned: String = value.chars().filter(|c| !matches!(c, '\t' | '\n' | '\r')).collect();
    let cleaned = cleaned.trim_start_matches(|c: char| c.is_ascii_control() || c == ' ').replace('\\', "/");
    cleaned.starts_with('/') && !cleaned.starts_with("//")
}

/// A relative URL or one with an allowed scheme, read as a browser reads it
/// (ignoring ASCII whitespace and control characters, in any case).
fn safe_url(value: &str) -> bool {
    let cleaned: String = value.chars().filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control()).collect();
    let lower = cleaned.to_ascii_lowercase();
    let Some(colon) = lower.find(':') else { return true };
    let scheme = &lower[..colon];
    // Only letters, digits, `+`, `-`, `.` after a first letter make a scheme; anything else is a relative URL.
    let is_scheme = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    !is_scheme || matches!(scheme, "http" | "https" | "mailto")
}

#[test]
fn the_scanner_flags_what_the_renderer_must_never_emit() {
    // The property below is only as good as this scanner: it must catch each of these.
    for dangerous in [
        "<script>alert(1)</script>",
        "<p onclick=\"x\">",
        "<a href=\"javascript:alert(1)\">",
        "<a href=\" JaVaScript:x\">",
        "<a href=\"vbscript:x\">",
        "<a href=\"java\tscript:x\">",
        "<img src=\"data:text/html,x\">",
        "<img src=\"https://evil.example/p.png\">",
        "<img src=\"//evil.example/p.png\">",
        "<img src=\"/\\evil.example/p.png\">",
        "<img src=\"/\t/evil.example/p.png\">",
        "<svg>",
        "<div style=\"x\">",
        "<iframe>",
    ] {
        assert!(script_risk(dangerous).is_some(), "not flagged: {dangerous}");
    }
    for harmless in [
        "<p>javascript:alert(1) &lt;script&gt;</p>",
        "<a href=\"/x:y\" rel=\"noopener\">",
        "<a href=\":\">",
        "<br>",
        "<img src=\"/static/x.png\">",
    ] {
        assert_eq!(script_risk(harmless), None, "{harmless}");
    }
}

#[test]
fn rendered_markdown_never_carries_script_for_any_input() {
    let count = AtomicU32::new(0);
    let cases = proof_count(10_000, 500_000);
    runner(cases)
        .run(&adversarial_markdown(), |markdown| {
            count.fetch_add(1, Ordering::Relaxed);
            let html = markdown::render(&markdown);
            prop_assert_eq!(script_risk(&html), None, "input {:?} rendered as {:?}", markdown, html);
            // Sanitising is idempotent: rendering the output again as text changes nothing dangerous.
            prop_assert_eq!(script_risk(&markdown::render(&html)), None);
            Ok(())
        })
        .expect("the renderer's output is safe for every input");
    println!("FIGURE fuzz.markdown: {} cases, 0 unsafe outputs", count.load(Ordering::Relaxed));
}

const FRONT_MATTER_LINES: &[&str] = &[
    "slug = \"fuzzed-question\"",
    "slug = \"other-slug\"",
    "slug = \"\"",
    "kind = \"coding\"",
    "kind = \"cooking\"",
    "title = \"A title\"",
    "title = \"\"",
    "title = \"<script>alert(1)</script>\"",
    "difficulty = 2",
    "difficulty = 99",
    "difficulty = -9223372036854775808",
    "difficulty = \"two\"",
    "levels = [\"junior_mid\"]",
    "levels = []",
    "levels = [\"wizard\"]",
    "teams = []",
    "teams = [\"genai-llm\", \"genai-llm\"]",
    "tags = [\"x\"]",
    "tags = [\"\"]",
    "topic = \"x\"",
    "topic = \"\"",
    "topic = \"Not a slug\"",
    "minutes = 30",
    "minutes = 0",
    "minutes = 9223372036854775807",
    "guide_quotes = [\"q\"]",
    "unknown = 1",
    "[table]",
    "slug = ",
    "\"unterminated",
    "+++",
];

const BODY_LINES: &[&str] = &[
    "## Prompt",
    "## Follow-ups",
    "## Hints",
    "## What good looks like",
    "## Calibration",
    "- **1 vs 2:** a",
    "- **3 vs 4:** b",
    "- **Junior/mid vs senior/staff:** c",
    "- **1 vs 2:**",
    "## Other",
    "##",
    "## ",
    "- an item",
    "* an item",
    "-",
    "- ",
    "  continued",
    "text",
    "",
    "+++",
    "```",
    "\r",
    "\u{feff}",
    "é",
];

const VALID_FRONT_MATTER: &str = "+++\nslug = \"fuzzed-question\"\nkind = \"coding\"\ntitle = \"A title\"\n\
    difficulty = 2\nlevels = [\"junior_mid\"]\nteams = []\ntags = [\"x\"]\ntopic = \"x\"\nminutes = 30\n+++\n";

/// A shipped file with a few of its lines dropped and a few random ones spliced in.
fn mutated(original: &'static str) -> impl Strategy<Value = String> {
    let lines: Vec<&'static str> = original.lines().collect();
    let count = lines.len();
    (prop::collection::vec(prop::bool::weighted(0.99), count), prop::collection::vec((0..=count, ".{0,30}"), 0..4))
        .prop_map(move |(keep, splices)| {
            let mut kept: Vec<String> =
                lines.iter().zip(keep).filter(|(_, keep)| *keep).map(|(line, _)| (*line).to_owned()).collect();
            for (at, text) in splices {
                kept.insert(at.min(kept.len()), text);
            }
            kept.join("\n")
        })
}

const SHIPPED_QUESTION: &str =
    include_str!("../../content/questions/behavioral/behavioral-challenging-technical-problem.md");
const SHIPPED_RUBRIC: &str = include_str!("../../content/rubrics/coding.toml");
const SHIPPED_TEMPLATES: &str = include_str!("../../content/templates.toml");

/// Question files close to valid: the right shape with lines dropped,
/// repeated, reordered or replaced, then random bytes spliced in.
fn question_files() -> impl Strategy<Value = String> {
    let lines = |pool: &'static [&'static str], max| prop::collection::vec(prop::sample::select(pool), 0..max);
    prop_oneof![
        any::<String>(),
        mutated(SHIPPED_QUESTION),
        (lines(FRONT_MATTER_LINES, 14), lines(BODY_LINES, 24))
            .prop_map(|(front, body)| format!("+++\n{}\n+++\n{}", front.join("\n"), body.join("\n"))),
        (lines(BODY_LINES, 6), any::<String>(), any::<String>()).prop_map(|(extra, prompt, hint)| {
            format!(
                "{VALID_FRONT_MATTER}\n## Prompt\n\n{prompt}\n\n## Follow-ups\n\n- {hint}\n- And then?\n\n## Hints\n\n- {hint}\n{}\n\
                 ## What good looks like\n\n{prompt}\n\n## Calibration\n\n- **1 vs 2:** {hint}\n- **3 vs 4:** {prompt}\n\
                 - **Junior/mid vs senior/staff:** {hint}\n",
                extra.join("\n")
            )
        }),
    ]
}

#[test]
fn the_question_parser_answers_every_input_with_a_question_or_a_clear_error() {
    let count = AtomicU32::new(0);
    let parsed = AtomicU32::new(0);
    let path = Path::new("questions/coding/fuzzed-question.md");
    let shipped = Path::new("questions/behavioral/behavioral-challenging-technical-problem.md");
    runner(proof_count(10_000, 500_000))
        .run(&question_files(), |text| {
            count.fetch_add(1, Ordering::Relaxed);
            // A mutated shipped file keeps its own slug, so it is read under its own name.
            let path = if text.contains("behavioral-challenging-technical-problem") { shipped } else { path };
            match question_file::parse(path, &text) {
                Ok(question) => {
                    parsed.fetch_add(1, Ordering::Relaxed);
                    // What parses exports to a file that reads back as the same question.
                    let again = question_file::parse(path, &question.to_markdown());
                    prop_assert!(again.is_ok(), "export of {:?} does not re-parse: {:?}", text, again.err());
                    let again = again.ok().and_then(|q| serde_json::to_value(q.question).ok());
                    prop_assert_eq!(serde_json::to_value(&question.question).ok(), again);
                }
                Err(error) => {
                    prop_assert!(!error.problem.trim().is_empty(), "an error without a message for {:?}", text);
                    prop_assert!(error.to_string().contains(".md"), "the error names the file: {error}");
                }
            }
            Ok(())
        })
        .expect("the parser never panics and explains every refusal");
    let (count, parsed) = (count.load(Ordering::Relaxed), parsed.load(Ordering::Relaxed));
    assert!(parsed > 0, "no generated file was valid, so the round trip was never checked");
    println!("FIGURE fuzz.question_parser: {count} cases ({parsed} valid, round-tripped), 0 panics");
}

#[test]
fn the_rubric_and_template_parsers_answer_every_input_with_content_or_a_clear_error() {
    let count = AtomicU32::new(0);
    let parsed = AtomicU32::new(0);
    let inputs = prop_oneof![any::<String>(), mutated(SHIPPED_RUBRIC), mutated(SHIPPED_TEMPLATES)];
    runner(proof_count(5_000, 200_000))
        .run(&inputs, |text| {
            count.fetch_add(1, Ordering::Relaxed);
            let rubric = rubric_file::parse(Path::new("rubrics/coding.toml"), &text).map(|_| ());
            let templates = template_file::parse(Path::new("templates.toml"), &text).map(|_| ());
            for (file, outcome) in [("coding.toml", rubric), ("templates.toml", templates)] {
                match outcome {
                    Ok(()) => {
                        parsed.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(error) => {
                        prop_assert!(!error.problem.trim().is_empty(), "an error without a message for {:?}", text);
                        prop_assert!(error.to_string().contains(file), "the error names the file: {error}");
                    }
                }
            }
            Ok(())
        })
        .expect("the rubric and template parsers never panic and explain every refusal");
    let (count, parsed) = (count.load(Ordering::Relaxed), parsed.load(Ordering::Relaxed));
    assert!(parsed > 0, "no generated file was valid, so acceptance was never reached");
    println!("FIGURE fuzz.content_files: {count} cases (rubrics and templates, {parsed} accepted), 0 panics");
}

/// An iCalendar TEXT value read back as a calendar app reads it.
fn unescape_ics(value: &str) -> String {
    let mut text = String::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (c, c == '\\') {
            (_, true) => match chars.next() {
                Some('n' | 'N') => text.push('\n'),
                Some(other) => text.push(other),
                None => text.push('\\'),
            },
            (c, false) => text.push(c),
        }
    }
    text
}

#[test]
fn calendar_text_never_breaks_out_of_its_property_and_reads_back_as_written() {
    let count = AtomicU32::new(0);
    let text = prop_oneof![
        any::<String>(),
        prop::collection::vec(
            prop::sample::select(
                &["\r\n", "\n", "\r", ";", ",", "\\", "\\n", ":", "BEGIN:VEVENT", " ", "é", "👩🏽‍💻", "x"][..]
            ),
            0..60
        )
        .prop_map(|pieces| pieces.concat()),
    ];
    runner(proof_count(10_000, 200_000))
        .run(&(text.clone(), text.clone(), text), |(name, summary, description)| {
            count.fetch_add(1, Ordering::Relaxed);
            let event = ics::CalendarEvent {
                uid: "round-1@mockloop".into(),
                sequence: 1,
                starts_at: chrono::DateTime::UNIX_EPOCH,
                ends_at: chrono::DateTime::UNIX_EPOCH,
                summary: summary.clone(),
                description: description.clone(),
                url: "http://localhost/loops/1".into(),
                cancelled: false,
            };
            let calendar = ics::calendar(&name, &[event], chrono::DateTime::UNIX_EPOCH);
            for line in calendar.split_terminator("\r\n") {
                prop_assert!(line.len() <= 75, "a line over 75 octets: {:?}", line);
            }
            let unfolded = calendar.replace("\r\n ", "");
            let lines: Vec<&str> = unfolded.split_terminator("\r\n").collect();
            let names: Vec<&str> = lines.iter().map(|line| line.split(':').next().unwrap_or("")).collect();
            prop_assert_eq!(
                names,
                [
                    "BEGIN",
                    "VERSION",
                    "PRODID",
                    "CALSCALE",
                    "METHOD",
                    "X-WR-CALNAME",
                    "BEGIN",
                    "UID",
                    "DTSTAMP",
                    "DTSTART",
                    "DTEND",
                    "SEQUENCE",
                    "STATUS",
                    "SUMMARY",
                    "DESCRIPTION",
                    "URL",
                    "END",
                    "END"
                ]
            );
            let line_ends = |text: &str| text.replace("\r\n", "\n").replace('\r', "\n");
            for (property, written) in
                [("X-WR-CALNAME:", &name), ("SUMMARY:", &summary), ("DESCRIPTION:", &description)]
            {
                let value = lines.iter().find_map(|line| line.strip_prefix(property)).unwrap_or_default();
                prop_assert_eq!(unescape_ics(value), line_ends(written), "{} did not read back", property);
            }
            Ok(())
        })
        .expect("calendar text stays inside its property and reads back as written");
    println!("FIGURE fuzz.ics: {} cases, 0 broken calendars", count.load(Ordering::Relaxed));
}
