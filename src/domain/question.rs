//! A question's fields and the rules they meet, whether they come from a
//! content file or from the "new question" form.

use serde::{Deserialize, Serialize};

use super::{Difficulty, Level, RoundKind, Team};

text_enum!(
    /// The language of a question's starter code. Only Python runs in the
    /// workspace; C++ is edit-only.
    CodeLanguage {
        Python => ("python", "Python"),
        Cpp => ("cpp", "C++"),
    }
);

/// The code a candidate starts from: a signature and docstring to fill in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Starter {
    pub language: CodeLanguage,
    pub code: String,
}

/// A question's test cases. They run in the candidate's browser, so the
/// candidate may see them (unlike the reference solution).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestSuite {
    /// Python run after the candidate's code and before the cases (helpers, fakes).
    #[serde(default)]
    pub setup: String,
    #[serde(rename = "tests", default)]
    pub cases: Vec<TestCase>,
}

/// One test case: `call` and `expected` are Python expressions, compared by
/// `static/workspace/runner.py`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TestCase {
    pub name: String,
    pub call: String,
    pub expected: String,
    /// Floats compare with `math.isclose(rel_tol=tolerance, abs_tol=tolerance)` when given.
    #[serde(default)]
    pub tolerance: Option<f64>,
}

/// Fields as typed, before checking.
#[derive(Debug, Clone, Default)]
pub struct QuestionDraft {
    pub kind: String,
    pub title: String,
    pub difficulty: i64,
    pub levels: Vec<String>,
    pub teams: Vec<String>,
    pub tags: Vec<String>,
    pub minutes: i64,
    pub prompt: String,
    pub follow_ups: Vec<String>,
    pub hints: Vec<String>,
    pub what_good_looks_like: String,
}

/// A question that meets every rule.
#[derive(Debug, Clone, Serialize)]
pub struct Question {
    pub kind: RoundKind,
    pub title: String,
    #[serde(serialize_with = "serialize_difficulty")]
    pub difficulty: Difficulty,
    pub levels: Vec<Level>,
    pub teams: Vec<Team>,
    pub tags: Vec<String>,
    pub minutes: i16,
    pub prompt: String,
    pub follow_ups: Vec<String>,
    pub hints: Vec<String>,
    pub what_good_looks_like: String,
    /// Runnable coding questions only (set by the content parser, which checks them).
    #[serde(rename = "starter_code")]
    pub starter: Option<Starter>,
    pub tests: Option<TestSuite>,
    /// Interviewer-only: never on the candidate's page, stream or export before the round ends.
    pub reference_solution: Option<String>,
}

fn serialize_difficulty<S: serde::Serializer>(difficulty: &Difficulty, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_u8(difficulty.value())
}

/// One broken rule, with the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub message: String,
}

pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 20_000;

impl QuestionDraft {
    pub fn validate(self) -> Result<Question, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut problem = |field: &'static str, message: String| problems.push(Problem { field, message });

        let kind = RoundKind::parse(&self.kind);
        if kind.is_none() {
            problem(
                "kind",
                format!(
                    "unknown kind `{}` (expected one of: {})",
                    self.kind,
                    names(RoundKind::ALL.iter().map(|k| k.as_str()))
                ),
            );
        }
        let title = self.title.trim().to_owned();
        if title.is_empty() {
            problem("title", "title is empty".into());
        } else if title.chars().count() > MAX_TITLE {
            problem("title", format!("title is longer than {MAX_TITLE} characters"));
        }
        let difficulty = Difficulty::parse(self.difficulty);
        if difficulty.is_none() {
            problem("difficulty", format!("difficulty {} is not 1, 2 or 3", self.difficulty));
        }
        let levels: Vec<Level> = self.levels.iter().filter_map(|l| Level::parse(l)).collect();
        if let Some(level) = self.levels.iter().find(|l| Level::parse(l).is_none()) {
            problem("levels", format!("unknown level `{level}` (expected junior_mid or senior_staff)"));
        } else if levels.is_empty() {
            problem("levels", "levels is empty: name at least one of junior_mid, senior_staff".into());
        }
        let teams: Vec<Team> = self.teams.iter().filter_map(|t| Team::parse(t)).collect();
        if let Some(team) = self.teams.iter().find(|t| Team::parse(t).is_none()) {
            problem(
                "teams",
                format!("unknown team `{team}` (expected one of: {})", names(Team::ALL.iter().map(|t| t.as_str()))),
            );
        }
        if self.tags.is_empty() {
            problem("tags", "tags is empty: give at least one".into());
        } else if let Some(tag) = self.tags.iter().find(|tag| !is_slug(tag)) {
            problem("tags", format!("tag `{tag}` must be lowercase letters and digits separated by hyphens"));
        }
        if !(5..=120).contains(&self.minutes) {
            problem("minutes", format!("minutes {} is outside 5..120", self.minutes));
        }
        let prompt = self.prompt.trim().to_owned();
        if prompt.is_empty() {
            problem("prompt", "the prompt is empty".into());
        }
        let follow_ups = non_empty_items(self.follow_ups);
        if follow_ups.len() < 2 {
            problem("follow_ups", format!("give at least 2 follow-ups, found {}", follow_ups.len()));
        }
        let hints = non_empty_items(self.hints);
        if hints.is_empty() {
            problem("hints", "give at least 1 hint".into());
        }
        let good = self.what_good_looks_like.trim().to_owned();
        if good.is_empty() {
            problem("what_good_looks_like", "\"what good looks like\" is empty".into());
        }
        for (field, text) in [("prompt", &prompt), ("what_good_looks_like", &good)] {
            if text.len() > MAX_TEXT {
                problem(field, format!("longer than {MAX_TEXT} bytes"));
            }
        }

        match (kind, difficulty, problems.is_empty()) {
            (Some(kind), Some(difficulty), true) => Ok(Question {
                kind,
                title,
                difficulty,
                levels,
                teams,
                tags: self.tags,
                minutes: self.minutes as i16,
                prompt,
                follow_ups,
                hints,
                what_good_looks_like: good,
                starter: None,
                tests: None,
                reference_solution: None,
            }),
            _ => Err(problems),
        }
    }
}

fn non_empty_items(items: Vec<String>) -> Vec<String> {
    items.into_iter().map(|item| item.trim().to_owned()).filter(|item| !item.is_empty()).collect()
}

fn names<'a>(values: impl Iterator<Item = &'a str>) -> String {
    values.collect::<Vec<_>>().join(", ")
}

/// True for lowercase letters and digits separated by single hyphens.
pub fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text
            .split('-')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

/// A slug for something a user makes (a private question, a template): a
/// random prefix keeps it apart from shipped slugs and from everyone else's.
pub fn owned_slug(title: &str) -> String {
    let random = uuid::Uuid::new_v4().simple().to_string();
    let words = slugify(title, 50);
    if words.is_empty() { format!("my-{}", &random[..8]) } else { format!("my-{}-{words}", &random[..8]) }
}

/// A slug made from free text: "Two-sum, streaming!" becomes "two-sum-streaming".
pub fn slugify(text: &str, max_len: usize) -> String {
    let mut slug = String::new();
    for word in text.split(|c: char| !c.is_ascii_alphanumeric()).filter(|w| !w.is_empty()) {
        if slug.len() + word.len() + 1 > max_len {
            break;
        }
        if !slug.is_empty() {
            slug.push('-');
        }
        slug.push_str(&word.to_ascii_lowercase());
    }
    slug
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> QuestionDraft {
        QuestionDraft {
            kind: "coding".into(),
            title: "Pairs".into(),
            difficulty: 1,
            levels: vec!["junior_mid".into()],
            teams: vec![],
            tags: vec!["hash-map".into()],
            minutes: 20,
            prompt: "Find pairs.".into(),
            follow_ups: vec!["Sorted?".into(), "Streaming?".into()],
            hints: vec!["Use a set.".into()],
            what_good_looks_like: "O(n).".into(),
        }
    }

    #[test]
    fn a_complete_draft_is_valid() {
        let question = draft().validate().expect("valid");
        assert_eq!(question.kind, RoundKind::Coding);
    }

    #[test]
    fn every_broken_rule_is_reported_with_its_field() {
        let problems = QuestionDraft { kind: "x".into(), minutes: 500, follow_ups: vec!["  ".into()], ..draft() }
            .validate()
            .expect_err("invalid");
        let fields: Vec<&str> = problems.iter().map(|p| p.field).collect();
        assert_eq!(fields, ["kind", "minutes", "follow_ups"]);
    }

    #[test]
    fn tags_must_be_slugs() {
        let problems = QuestionDraft { tags: vec!["Hash Map".into()], ..draft() }.validate().expect_err("invalid");
        assert_eq!(problems[0].field, "tags");
    }

    #[test]
    fn slugify_keeps_ascii_words() {
        assert_eq!(slugify("Two-sum, streaming!", 40), "two-sum-streaming");
        assert_eq!(slugify("Ünïcode only ✓", 40), "n-code-only");
        assert_eq!(slugify("a very long title indeed", 10), "a-very");
    }

    #[test]
    fn owned_slugs_are_valid_even_without_ascii_words() {
        assert!(is_slug(&owned_slug("Two-sum, streaming!")));
        assert!(is_slug(&owned_slug("✓✓")));
        assert_ne!(owned_slug("same"), owned_slug("same"));
    }
}
