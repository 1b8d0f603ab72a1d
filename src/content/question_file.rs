//! One question per Markdown file: TOML front matter between `+++` lines, then
//! the sections Prompt, Follow-ups, Hints and "What good looks like".

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{ContentError, content_hash, is_valid_slug};
use crate::domain::{Difficulty, Level, RoundKind, Team};

const SECTIONS: [&str; 4] = ["Prompt", "Follow-ups", "Hints", "What good looks like"];

/// A question as written in its file (and as exported).
#[derive(Debug, Clone, Serialize)]
pub struct QuestionFile {
    #[serde(skip)]
    pub path: PathBuf,
    pub slug: String,
    pub kind: RoundKind,
    pub title: String,
    #[serde(serialize_with = "serialize_difficulty")]
    pub difficulty: Difficulty,
    pub levels: Vec<Level>,
    pub teams: Vec<Team>,
    pub tags: Vec<String>,
    pub minutes: i16,
    pub guide_quotes: Vec<String>,
    pub prompt: String,
    pub follow_ups: Vec<String>,
    pub hints: Vec<String>,
    pub what_good_looks_like: String,
    #[serde(skip)]
    pub content_hash: String,
}

fn serialize_difficulty<S: serde::Serializer>(difficulty: &Difficulty, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u8(difficulty.value())
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

    let text = text.replace("\r\n", "\n");
    let (front, body) = split_front_matter(&text).ok_or_else(|| {
        error(
            fallback_entry.clone(),
            "no front matter: the file must start with a `+++` line and close it with another".into(),
        )
    })?;
    let meta: FrontMatter =
        toml::from_str(front).map_err(|e| error(fallback_entry.clone(), format!("front matter: {}", e.message())))?;
    let entry = Some(meta.slug.clone());
    let fail = |problem: String| error(entry.clone(), problem);

    if !is_valid_slug(&meta.slug) {
        return Err(fail("slug must be lowercase letters and digits separated by single hyphens".into()));
    }
    if fallback_entry.as_deref() != Some(meta.slug.as_str()) {
        return Err(fail("slug must equal the file name (without .md)".into()));
    }
    let kind = RoundKind::parse(&meta.kind).ok_or_else(|| {
        fail(format!(
            "unknown kind `{}` (expected one of: {})",
            meta.kind,
            names(RoundKind::ALL.iter().map(|k| k.as_str()))
        ))
    })?;
    if meta.title.trim().is_empty() {
        return Err(fail("title is empty".into()));
    }
    let difficulty = Difficulty::parse(meta.difficulty)
        .ok_or_else(|| fail(format!("difficulty {} is not 1, 2 or 3", meta.difficulty)))?;
    if meta.levels.is_empty() {
        return Err(fail("levels is empty: name at least one of junior_mid, senior_staff".into()));
    }
    let levels = meta
        .levels
        .iter()
        .map(|level| {
            Level::parse(level)
                .ok_or_else(|| fail(format!("unknown level `{level}` (expected junior_mid or senior_staff)")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let teams = meta
        .teams
        .iter()
        .map(|team| {
            Team::parse(team).ok_or_else(|| {
                fail(format!(
                    "unknown team `{team}` (expected one of: {})",
                    names(Team::ALL.iter().map(|t| t.as_str()))
                ))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    if meta.tags.is_empty() {
        return Err(fail("tags is empty: give at least one".into()));
    }
    if let Some(tag) = meta.tags.iter().find(|tag| !is_valid_slug(tag)) {
        return Err(fail(format!("tag `{tag}` must be lowercase letters and digits separated by hyphens")));
    }
    if !(5..=120).contains(&meta.minutes) {
        return Err(fail(format!("minutes {} is outside 5..120", meta.minutes)));
    }

    let sections = split_sections(body).map_err(&fail)?;
    let [prompt, follow_ups, hints, good] = sections;
    let follow_ups = list_items(follow_ups);
    let hints = list_items(hints);
    if prompt.is_empty() {
        return Err(fail("section `Prompt` is empty".into()));
    }
    if follow_ups.len() < 2 {
        return Err(fail(format!("section `Follow-ups` needs at least 2 list items, found {}", follow_ups.len())));
    }
    if hints.is_empty() {
        return Err(fail("section `Hints` needs at least 1 list item".into()));
    }
    if good.is_empty() {
        return Err(fail("section `What good looks like` is empty".into()));
    }

    Ok(QuestionFile {
        path: path.to_owned(),
        content_hash: content_hash(&text),
        slug: meta.slug,
        kind,
        title: meta.title.trim().to_owned(),
        difficulty,
        levels,
        teams,
        tags: meta.tags,
        minutes: meta.minutes as i16,
        guide_quotes: meta.guide_quotes,
        prompt: prompt.to_owned(),
        follow_ups,
        hints,
        what_good_looks_like: good.to_owned(),
    })
}

impl QuestionFile {
    /// The file text that `parse` reads back into the same question.
    pub fn to_markdown(&self) -> String {
        let meta = FrontMatter {
            slug: self.slug.clone(),
            kind: self.kind.as_str().to_owned(),
            title: self.title.clone(),
            difficulty: i64::from(self.difficulty.value()),
            levels: self.levels.iter().map(|l| l.as_str().to_owned()).collect(),
            teams: self.teams.iter().map(|t| t.as_str().to_owned()).collect(),
            tags: self.tags.clone(),
            minutes: i64::from(self.minutes),
            guide_quotes: self.guide_quotes.clone(),
        };
        let front = toml::to_string(&meta).unwrap_or_default();
        format!(
            "+++\n{front}+++\n\n## Prompt\n\n{}\n\n## Follow-ups\n\n{}\n## Hints\n\n{}\n## What good looks like\n\n{}\n",
            self.prompt,
            bullet_list(&self.follow_ups),
            bullet_list(&self.hints),
            self.what_good_looks_like
        )
    }
}

fn names<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(", ")
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
        assert_eq!(question.kind, RoundKind::Coding);
        assert_eq!(question.follow_ups, ["Sorted input?", "Streaming input?"]);
        assert_eq!(question.hints, ["Use a set."]);
        assert_eq!(question.what_good_looks_like, "O(n) with a hash set.");
    }

    #[test]
    fn export_then_parse_gives_the_same_question() {
        let question = parse_text(GOOD).expect("valid");
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
        assert!(error.problem.contains("at least 2"), "{error}");
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
