//! One question per Markdown file: TOML front matter between `+++` lines, then
//! the sections Prompt, Follow-ups, Hints and "What good looks like".

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ContentError, content_hash};
use crate::domain::question::{Question, QuestionDraft, is_slug};

const SECTIONS: [&str; 4] = ["Prompt", "Follow-ups", "Hints", "What good looks like"];

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
    let [prompt, follow_ups, hints, good] = split_sections(body).map_err(&fail)?;
    let draft = QuestionDraft {
        kind: meta.kind,
        title: meta.title,
        difficulty: meta.difficulty,
        levels: meta.levels,
        teams: meta.teams,
        tags: meta.tags,
        minutes: meta.minutes,
        prompt: prompt.to_owned(),
        follow_ups: list_items(follow_ups),
        hints: list_items(hints),
        what_good_looks_like: good.to_owned(),
    };
    let question = draft.validate().map_err(|problems| {
        let messages: Vec<String> = problems.into_iter().map(|p| p.message).collect();
        fail(messages.join("; "))
    })?;
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
            minutes: i64::from(q.minutes),
            guide_quotes: self.guide_quotes.clone(),
        };
        let front = toml::to_string(&meta).unwrap_or_default();
        format!(
            "+++\n{front}+++\n\n## Prompt\n\n{}\n\n## Follow-ups\n\n{}\n## Hints\n\n{}\n## What good looks like\n\n{}\n",
            q.prompt,
            bullet_list(&q.follow_ups),
            bullet_list(&q.hints),
            q.what_good_looks_like
        )
    }
}

fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text.strip_prefix("+++\n")?;
    let end = rest.find("\n+++\n").or_else(|| rest.ends_with("\n+++").then(|| rest.len() - 4))?;
    let body = rest.get(end + 5..).unwrap_or("");
    Some((&rest[..end + 1], body))
}

/// Splits the body at its `## ` headings, which must be exactly SECTIONS in order.
fn split_sections(body: &str) -> Result<[&str; 4], String> {
    let mut found: Vec<(&str, usize, usize)> = Vec::new();
    let mut offset = 0;
    for line in body.split_inclusive('\n') {
        if let Some(heading) = line.strip_prefix("## ") {
            found.push((heading.trim(), offset, offset + line.len()));
        }
        offset += line.len();
    }
    let headings: Vec<&str> = found.iter().map(|(heading, _, _)| *heading).collect();
    if headings != SECTIONS {
        return Err(format!(
            "sections must be `## {}` in this order, found: {}",
            SECTIONS.join("`, `## "),
            if headings.is_empty() { "none".to_owned() } else { headings.join(", ") }
        ));
    }
    if !body[..found[0].1].trim().is_empty() {
        return Err("text before `## Prompt` would be lost: move it into a section".into());
    }
    let mut sections = [""; 4];
    for (index, (_, _, content_start)) in found.iter().enumerate() {
        let content_end = found.get(index + 1).map_or(body.len(), |next| next.1);
        sections[index] = body[*content_start..content_end].trim();
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
        levels = [\"junior_mid\"]\nteams = []\ntags = [\"hash-map\"]\nminutes = 20\n+++\n\n\
        ## Prompt\n\nFind pairs.\n\n## Follow-ups\n\n- Sorted input?\n- Streaming\n  input?\n\n\
        ## Hints\n\n- Use a set.\n\n## What good looks like\n\nO(n) with a hash set.\n";

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

    #[test]
    fn a_slug_that_differs_from_the_file_name_is_refused() {
        let error = parse_text(&GOOD.replace("slug = \"two-sum\"", "slug = \"pairs\"")).expect_err("refused");
        assert!(error.problem.contains("file name"), "{error}");
    }
}
