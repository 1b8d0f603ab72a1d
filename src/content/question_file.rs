//! One question per Markdown file: TOML front matter between `+++` lines, then
//! the sections Prompt, Follow-ups, Hints, "What good looks like" and
//! Calibration, and for a runnable coding question Starter, Tests and
//! Reference solution.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::code_sections::{self, CODE_SECTIONS, RawCodeSections, fence_ticks, is_closing_fence};
use super::{ContentError, content_hash};
use crate::domain::question::{Calibration, Question, QuestionDraft, is_slug};

const SECTIONS: [&str; 5] = ["Prompt", "Follow-ups", "Hints", "What good looks like", "Calibration"];

/// A question as written in its file (and as exported).
#[derive(Debug, Clone, Serialize)]
pub struct QuestionFile {
    #[serde(skip)]
    pub path: PathBuf,
    pub slug: String,
    #[serde(flatten)]
    pub question: Question,
    pub guide_quotes: Vec<String>,
    #[serde(skip)]
    pub content_hash: String,
}

#[derive(Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
struct FrontMatter {
    slug: String,
    kind: String,
    title: String,
    difficulty: i64,
    levels: Vec<String>,
    teams: Vec<String>,
    tags: Vec<String>,
    topic: String,
    minutes: i64,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    guide_quotes: Vec<String>,
}

pub fn parse(path: &Path, text: &str) -> Result<QuestionFile, ContentError> {
    let fallback_entry = path.file_stem().map(|stem| stem.to_string_lossy().into_owned());
    let error = |entry: Option<String>, problem: String| ContentError { file: path.to_owned(), entry, problem };

    // Any line ending (CRLF, or a lone CR) reads as LF, so that an exported file reads back the same.
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let (front, body) = split_front_matter(&text).ok_or_else(|| {
        error(
            fallback_entry.clone(),
            "no front matter: the file must start with a `+++` line and close it with another".into(),
        )
    })?;
    let meta: FrontMatter =
        toml::from_str(front).map_err(|e| error(fallback_entry.clone(), format!("front matter: {}", e.message())))?;
    let fail = |problem: String| error(Some(meta.slug.clone()), problem);

    if !is_slug(&meta.slug) {
        return Err(fail("slug must be lowercase letters and digits separated by single hyphens".into()));
    }
    if fallback_entry.as_deref() != Some(meta.slug.as_str()) {
        return Err(fail("slug must equal the file name (without .md)".into()));
    }
    let Sections { required: [prompt, follow_ups, hints, good, calibration], code } =
        split_sections(body).map_err(&fail)?;
    let calibration = Calibration::parse_markdown(calibration).map_err(&fail)?;
    let draft = QuestionDraft {
        kind: meta.kind,
        title: meta.title,
        difficulty: meta.difficulty,
        levels: meta.levels,
        teams: meta.teams,
        tags: meta.tags,
        topic: meta.topic,
        minutes: meta.minutes,
        prompt: prompt.to_owned(),
        follow_ups: list_items(follow_ups),
        hints: list_items(hints),
        what_good_looks_like: good.to_owned(),
        calibration: calibration.notes().map(str::to_owned),
    };
    let mut question = draft.validate().map_err(|problems| {
        let messages: Vec<String> = problems.into_iter().map(|p| p.message).collect();
        fail(messages.join("; "))
    })?;
    let code = code_sections::parse(code).map_err(&fail)?;
    question.starter = code.starter;
    question.tests = code.tests;
    question.reference_solution = code.reference_solution;
    Ok(QuestionFile {
        path: path.to_owned(),
        content_hash: content_hash(&text),
        slug: meta.slug,
        question,
        guide_quotes: meta.guide_quotes,
    })
}

impl QuestionFile {
    /// The file text that `parse` reads back into the same question.
    pub fn to_markdown(&self) -> String {
        let q = &self.question;
        let meta = FrontMatter {
            slug: self.slug.clone(),
            kind: q.kind.as_str().to_owned(),
            title: q.title.clone(),
            difficulty: i64::from(q.difficulty.value()),
            levels: q.levels.iter().map(|l| l.as_str().to_owned()).collect(),
            teams: q.teams.iter().map(|t| t.as_str().to_owned()).collect(),
            tags: q.tags.clone(),
            topic: q.topic.clone(),
            minutes: i64::from(q.minutes),
            guide_quotes: self.guide_quotes.clone(),
        };
        let front = toml::to_string(&meta).unwrap_or_default();
        // A question without calibration (only a private one) has no section, as no file can.
        let calibration =
            q.calibration.as_ref().map_or(String::new(), |c| format!("\n## Calibration\n\n{}", c.to_markdown()));
        format!(
            "+++\n{front}+++\n\n## Prompt\n\n{}\n\n## Follow-ups\n\n{}\n## Hints\n\n{}\n## What good looks like\n\n{}\n{}{}",
            q.prompt,
            bullet_list(&q.follow_ups),
            bullet_list(&q.hints),
            q.what_good_looks_like,
            calibration,
            code_sections::to_markdown(q.starter.as_ref(), q.tests.as_ref(), q.reference_solution.as_deref()),
        )
    }
}

fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("+++\n")?;
    let end = rest.find("\n+++\n").or_else(|| rest.ends_with("\n+++").then(|| rest.len() - 4))?;
    let body = rest.get(end + 5..).unwrap_or("");
    Some((&rest[..end + 1], body))
}

/// The sections of a question body.
struct Sections<'a> {
    required: [&'a str; SECTIONS.len()],
    code: RawCodeSections<'a>,
}

/// Splits the body at its `## ` headings (outside fenced code), which must be
/// exactly SECTIONS in order, then optionally some of CODE_SECTIONS in order.
fn split_sections(body: &str) -> Result<Sections<'_>, String> {
    let mut found: Vec<(&str, usize, usize)> = Vec::new();
    let mut offset = 0;
    let mut open_fence: Option<usize> = None;
    for line in body.split_inclusive('\n') {
        let text = line.trim_end_matches('\n');
        match open_fence {
            Some(ticks) if is_closing_fence(text, ticks) => open_fence = None,
            Some(_) => {}
            None => {
                if let Some(ticks) = fence_ticks(text) {
                    open_fence = Some(ticks);
                } else if let Some(heading) = line.strip_prefix("## ") {
                    found.push((heading.trim(), offset, offset + line.len()));
                }
            }
        }
        offset += line.len();
    }
    let headings: Vec<&str> = found.iter().map(|(heading, _, _)| *heading).collect();
    let optional = headings.get(SECTIONS.len()..).unwrap_or_default();
    let mut expected_optional = CODE_SECTIONS.iter();
    let optional_in_order = optional.iter().all(|heading| expected_optional.any(|known| known == heading));
    if headings.get(..SECTIONS.len()) != Some(&SECTIONS[..]) || !optional_in_order {
        return Err(format!(
            "sections must be `## {}` in this order, optionally followed by `## {}` (in this order), found: {}",
            SECTIONS.join("`, `## "),
            CODE_SECTIONS.join("`, `## "),
            if headings.is_empty() { "none".to_owned() } else { headings.join(", ") }
        ));
    }
    if !body[..found[0].1].trim().is_empty() {
        return Err("text before `## Prompt` would be lost: move it into a section".into());
    }
    let content = |index: usize| {
        let (_, _, content_start) = found[index];
        let content_end = found.get(index + 1).map_or(body.len(), |next| next.1);
        body[content_start..content_end].trim()
    };
    let mut sections = Sections { required: [""; SECTIONS.len()], code: RawCodeSections::default() };
    for (index, (heading, _, _)) in found.iter().enumerate() {
        match (index, *heading) {
            (index, _) if index < SECTIONS.len() => sections.required[index] = content(index),
            (_, "Starter") => sections.code.starter = Some(content(index)),
            (_, "Tests") => sections.code.tests = Some(content(index)),
            _ => sections.code.reference_solution = Some(content(index)),
        }
    }
    Ok(sections)
}

/// The items of a `- ` list; indented continuation lines join their item.
fn list_items(section: &str) -> Vec<String> {
    let mut items: Vec<String> = Vec::new();
    for line in section.lines() {
        if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            items.push(item.trim().to_owned());
        } else if let (Some(last), true) = (items.last_mut(), line.starts_with(' ')) {
            last.push(' ');
            last.push_str(line.trim());
        }
    }
    items
}

fn bullet_list(items: &[String]) -> String {
    items.iter().map(|item| format!("- {item}\n")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "+++\nslug = \"two-sum\"\nkind = \"coding\"\ntitle = \"Pairs\"\ndifficulty = 1\n\
        levels = [\"junior_mid\"]\nteams = []\ntags = [\"hash-map\"]\ntopic = \"arrays-hashing\"\nminutes = 20\n+++\n\n\
        ## Prompt\n\nFind pairs.\n\n## Follow-ups\n\n- Sorted input?\n- Streaming\n  input?\n\n\
        ## Hints\n\n- Use a set.\n\n## What good looks like\n\nO(n) with a hash set.\n\n\
        ## Calibration\n\n- **1 vs 2:** A 1 has no working loop.\n- **3 vs 4:** A 4 names the\n  trade-off.\n\
        - **Junior/mid vs senior/staff:** Seniors reach O(n) unprompted.\n";

    fn parse_text(text: &str) -> Result<QuestionFile, ContentError> {
        parse(Path::new("questions/coding/two-sum.md"), text)
    }

    #[test]
    fn a_complete_file_parses_with_all_fields() {
        let question = parse_text(GOOD).expect("valid");
        assert_eq!(question.question.kind, crate::domain::RoundKind::Coding);
        assert_eq!(question.question.follow_ups, ["Sorted input?", "Streaming input?"]);
        assert_eq!(question.question.hints, ["Use a set."]);
        assert_eq!(question.question.what_good_looks_like, "O(n) with a hash set.");
        assert_eq!(question.question.topic, "arrays-hashing");
        let calibration = question.question.calibration.expect("calibration");
        assert_eq!(
            calibration.notes(),
            ["A 1 has no working loop.", "A 4 names the trade-off.", "Seniors reach O(n) unprompted."]
        );
    }

    #[test]
    fn a_file_without_a_topic_or_calibration_or_with_another_shape_is_refused_naming_the_file() {
        let (no_calibration, calibration) = GOOD.split_once("\n## Calibration").expect("a calibration section");
        let cases: [(&str, String, &str); 9] = [
            ("no topic", GOOD.replace("topic = \"arrays-hashing\"\n", ""), "front matter: missing field `topic`"),
            ("empty topic", GOOD.replace("\"arrays-hashing\"", "\"\""), "topic is empty"),
            (
                "topic not a slug",
                GOOD.replace("\"arrays-hashing\"", "\"Arrays & hashing\""),
                "topic `Arrays & hashing` must be",
            ),
            (
                "calibration after the code",
                format!("{no_calibration}{CODE}\n## Calibration{calibration}"),
                "found: Prompt, Follow-ups, Hints, What good looks like, Starter, Tests, Reference solution, Calibration",
            ),
            (
                "no calibration",
                no_calibration.to_owned(),
                "sections must be `## Prompt`, `## Follow-ups`, `## Hints`, `## What good looks like`, `## Calibration` in this order",
            ),
            (
                "calibration before what good looks like",
                GOOD.replace("## What good looks like", "## Tmp")
                    .replace("## Calibration", "## What good looks like")
                    .replace("## Tmp", "## Calibration"),
                "found: Prompt, Follow-ups, Hints, Calibration, What good looks like",
            ),
            ("two items", GOOD.replace("- **1 vs 2:** A 1 has no working loop.\n", ""), "found 2 item(s)"),
            ("a wrong label", GOOD.replace("**3 vs 4:**", "**2 vs 4:**"), "where `**3 vs 4:**` belongs"),
            ("an empty item", GOOD.replace("Seniors reach O(n) unprompted.", ""), "says nothing after its label"),
        ];
        for (name, text, expected) in cases {
            let error = parse_text(&text).expect_err(name).to_string();
            assert!(error.starts_with("questions/coding/two-sum.md"), "{name}: {error}");
            assert!(error.contains(expected), "{name}: {error}");
        }
    }

    #[test]
    fn export_then_parse_gives_the_same_question() {
        let question = parse_text(GOOD).expect("valid");
        let again = parse_text(&question.to_markdown()).expect("re-parse");
        assert_eq!(serde_json::to_value(&question).ok(), serde_json::to_value(&again).ok());
    }

    #[test]
    fn stray_carriage_returns_read_as_line_ends_and_export_reads_back_the_same() {
        let question = parse_text(&GOOD.replace("O(n) with", "O(n)\r\r\nwith")).expect("valid");
        assert_eq!(question.question.what_good_looks_like, "O(n)\n\nwith a hash set.");
        let again = parse_text(&question.to_markdown()).expect("re-parse");
        assert_eq!(serde_json::to_value(&question).ok(), serde_json::to_value(&again).ok());
    }

    #[test]
    fn an_unknown_kind_is_named_with_the_file_and_slug() {
        let error = parse_text(&GOOD.replace("\"coding\"", "\"cooking\"")).expect_err("refused");
        assert_eq!(error.entry.as_deref(), Some("two-sum"));
        assert!(error.to_string().contains("questions/coding/two-sum.md [two-sum]: unknown kind `cooking`"), "{error}");
    }

    #[test]
    fn a_missing_field_is_refused() {
        let error = parse_text(&GOOD.replace("minutes = 20\n", "")).expect_err("refused");
        assert!(error.problem.contains("missing field `minutes`"), "{error}");
    }

    #[test]
    fn a_single_follow_up_is_refused() {
        let error = parse_text(&GOOD.replace("- Sorted input?\n", "")).expect_err("refused");
        assert!(error.problem.contains("at least 2 follow-ups"), "{error}");
    }

    #[test]
    fn sections_out_of_order_are_refused() {
        let text = GOOD.replace("## Hints", "## Hints2");
        let error = parse_text(&text).expect_err("refused");
        assert!(error.problem.contains("sections must be"), "{error}");
    }

    const CODE: &str = "\n## Starter\n\n```python\ndef pairs(nums):\n    ## not a heading: inside the fence\n    raise NotImplementedError\n```\n\n\
        ## Tests\n\n```toml\n[[tests]]\nname = \"a\"\ncall = \"pairs([])\"\nexpected = \"[]\"\n\n\
        [[tests]]\nname = \"b\"\ncall = \"pairs([1])\"\nexpected = \"[]\"\n\n\
        [[tests]]\nname = \"c\"\ncall = \"pairs([1, 1])\"\nexpected = \"[(1, 1)]\"\n\n\
        [[tests]]\nname = \"d\"\ncall = \"pairs([2, 0])\"\nexpected = \"[(0, 2)]\"\n\n\
        [[tests]]\nname = \"e\"\ncall = \"len(pairs([1] * 9))\"\nexpected = \"1\"\ntolerance = 0.5\n```\n\n\
        ## Reference solution\n\n```python\ndef pairs(nums):\n    return []\n```\n";

    #[test]
    fn a_runnable_question_parses_its_starter_tests_and_reference() {
        let question = parse_text(&format!("{GOOD}{CODE}")).expect("valid").question;
        let starter = question.starter.expect("starter");
        assert_eq!(starter.language, crate::domain::question::CodeLanguage::Python);
        assert!(starter.code.contains("## not a heading"), "{}", starter.code);
        let tests = question.tests.expect("tests");
        assert_eq!(tests.cases.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(), ["a", "b", "c", "d", "e"]);
        assert_eq!(tests.cases[4].tolerance, Some(0.5));
        assert_eq!(question.reference_solution.as_deref(), Some("def pairs(nums):\n    return []"));
        assert_eq!(question.what_good_looks_like, "O(n) with a hash set.");
    }

    #[test]
    fn a_runnable_question_exports_and_parses_back_the_same() {
        let question = parse_text(&format!("{GOOD}{CODE}")).expect("valid");
        let again = parse_text(&question.to_markdown()).expect("re-parse");
        assert_eq!(serde_json::to_value(&question).ok(), serde_json::to_value(&again).ok());
        assert!(again.question.reference_solution.is_some());
    }

    #[test]
    fn code_sections_out_of_order_are_refused() {
        let text = format!("{GOOD}{CODE}")
            .replace("## Tests", "## Tmp")
            .replace("## Starter", "## Tests")
            .replace("## Tmp", "## Starter");
        let error = parse_text(&text).expect_err("refused");
        assert!(
            error.problem.contains("optionally followed by `## Starter`, `## Tests`, `## Reference solution`"),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_extra_section_is_refused() {
        let error = parse_text(&format!("{GOOD}\n## Notes\n\nmore\n")).expect_err("refused");
        assert!(
            error.problem.contains("found: Prompt, Follow-ups, Hints, What good looks like, Calibration, Notes"),
            "{error}"
        );
    }

    #[test]
    fn a_broken_code_section_is_named_with_the_file_and_slug() {
        let text = format!("{GOOD}{CODE}").replace("name = \"b\"", "name = \"a\"");
        let error = parse_text(&text).expect_err("refused");
        assert_eq!(
            error.to_string(),
            "questions/coding/two-sum.md [two-sum]: duplicate test name `a`: names must be unique"
        );
    }

    #[test]
    fn every_shipped_coding_question_is_runnable() {
        let bundle = super::super::shipped().expect("the built-in content parses");
        let coding: Vec<&QuestionFile> =
            bundle.questions.iter().filter(|q| q.question.kind == crate::domain::RoundKind::Coding).collect();
        assert!(coding.len() >= 24, "{} coding questions", coding.len());
        for file in coding {
            let q = &file.question;
            assert!(q.starter.is_some(), "{} has no starter", file.slug);
            if q.starter.as_ref().is_some_and(|s| s.language == crate::domain::question::CodeLanguage::Python) {
                assert!(q.tests.as_ref().is_some_and(|t| t.cases.len() >= 5), "{}", file.slug);
                assert!(q.reference_solution.is_some(), "{}", file.slug);
            }
        }
    }

    #[test]
    fn every_shipped_question_exports_and_reads_back_the_same() {
        for file in super::super::shipped().expect("the built-in content parses").questions {
            let again = parse(&file.path, &file.to_markdown()).expect("the export re-parses");
            assert_eq!(serde_json::to_value(&file).ok(), serde_json::to_value(&again).ok(), "{}", file.slug);
        }
    }

    #[test]
    fn a_slug_that_differs_from_the_file_name_is_refused() {
        let error = parse_text(&GOOD.replace("slug = \"two-sum\"", "slug = \"pairs\"")).expect_err("refused");
        assert!(error.problem.contains("file name"), "{error}");
    }
}
