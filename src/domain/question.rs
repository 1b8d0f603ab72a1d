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
    /// The core concept the question tests (a slug); a loop never holds two questions of one topic.
    pub topic: String,
    pub minutes: i64,
    pub prompt: String,
    pub follow_ups: Vec<String>,
    pub hints: Vec<String>,
    pub what_good_looks_like: String,
    /// The three calibration notes as typed, in the order of [`CALIBRATION_LABELS`]; all blank for none.
    pub calibration: [String; 3],
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
    pub topic: String,
    pub minutes: i16,
    pub prompt: String,
    pub follow_ups: Vec<String>,
    pub hints: Vec<String>,
    pub what_good_looks_like: String,
    /// Interviewer-only, like what good looks like. Every content file has one;
    /// a private question may go without.
    pub calibration: Option<Calibration>,
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

/// The labels of the calibration notes, in order: what separates a 1 from a 2
/// on the question, a 3 from a 4, and how the bar differs by candidate level.
pub const CALIBRATION_LABELS: [&str; 3] = ["1 vs 2", "3 vs 4", "Junior/mid vs senior/staff"];

/// One calibration note under the label a reader sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalibrationNote<'a> {
    pub label: String,
    /// Markdown.
    pub text: &'a str,
}

/// What separates the scores on one question, for the interviewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Calibration {
    pub one_vs_two: String,
    pub three_vs_four: String,
    pub junior_mid_vs_senior_staff: String,
}

impl Calibration {
    fn from_notes([one_vs_two, three_vs_four, junior_mid_vs_senior_staff]: [String; 3]) -> Self {
        Calibration { one_vs_two, three_vs_four, junior_mid_vs_senior_staff }
    }

    /// The notes in the order of [`CALIBRATION_LABELS`].
    pub fn notes(&self) -> [&str; 3] {
        [&self.one_vs_two, &self.three_vs_four, &self.junior_mid_vs_senior_staff]
    }

    /// The notes as an assessor of a loop at `level` reads them: what separates
    /// a 1 from a 2 and a 3 from a 4, then the level note under the loop's level.
    pub fn for_level(&self, level: Level) -> [CalibrationNote<'_>; 3] {
        [
            CalibrationNote { label: CALIBRATION_LABELS[0].to_owned(), text: &self.one_vs_two },
            CalibrationNote { label: CALIBRATION_LABELS[1].to_owned(), text: &self.three_vs_four },
            CalibrationNote {
                label: format!("This loop's level, {}", level.label()),
                text: &self.junior_mid_vs_senior_staff,
            },
        ]
    }

    /// The Markdown it is stored and written as: one list item per note, after its bold label.
    pub fn to_markdown(&self) -> String {
        CALIBRATION_LABELS.iter().zip(self.notes()).map(|(label, note)| format!("- **{label}:** {note}\n")).collect()
    }

    /// Reads calibration Markdown (a file's `## Calibration` section, or a
    /// stored one): exactly three `- ` items labelled as [`CALIBRATION_LABELS`]
    /// in order, an item's lines after the first indented. Anything else is
    /// refused with a message for the author.
    pub fn parse_markdown(text: &str) -> Result<Calibration, String> {
        let shape = || {
            let items: Vec<String> = CALIBRATION_LABELS.iter().map(|label| format!("`- **{label}:** …`")).collect();
            format!("`## Calibration` must be exactly three list items, {}", items.join(", "))
        };
        let mut items: Vec<String> = Vec::new();
        for line in text.lines() {
            if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
                items.push(item.trim().to_owned());
            } else if line.trim().is_empty() {
                continue;
            } else if let (Some(last), true) = (items.last_mut(), line.starts_with(' ')) {
                last.push(' ');
                last.push_str(line.trim());
            } else {
                return Err(format!("{}; found text outside them: `{}`", shape(), line.trim()));
            }
        }
        if items.len() != CALIBRATION_LABELS.len() {
            return Err(format!("{}; found {} item(s)", shape(), items.len()));
        }
        let mut notes: [String; 3] = Default::default();
        for ((note, item), label) in notes.iter_mut().zip(items).zip(CALIBRATION_LABELS) {
            let Some(text) = item.strip_prefix(&format!("**{label}:**")) else {
                let start: String = item.chars().take(40).collect();
                return Err(format!("{}; an item starts `{start}` where `**{label}:**` belongs", shape()));
            };
            if text.trim().is_empty() {
                return Err(format!("`## Calibration`: the `**{label}:**` item says nothing after its label"));
            }
            *note = text.trim().to_owned();
        }
        Ok(Calibration::from_notes(notes))
    }
}

/// One broken rule, with the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub field: &'static str,
    pub message: String,
}

pub const MAX_TITLE: usize = 200;
pub const MAX_TEXT: usize = 20_000;
/// Room for a private question's own slug, which is its topic when none is given.
pub const MAX_TOPIC: usize = 80;

impl QuestionDraft {
    /// A private question written without a topic takes its own slug as its
    /// topic, so that it never shares one with another question.
    pub fn with_topic_defaulting_to(mut self, slug: &str) -> Self {
        if self.topic.trim().is_empty() {
            self.topic = slug.to_owned();
        }
        self
    }

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
        let topic = self.topic.trim().to_owned();
        if topic.is_empty() {
            problem("topic", "topic is empty: name the core concept the question tests, e.g. `attention`".into());
        } else if !is_slug(&topic) || topic.len() > MAX_TOPIC {
            problem(
                "topic",
                format!(
                    "topic `{topic}` must be lowercase letters and digits separated by hyphens, at most {MAX_TOPIC} characters"
                ),
            );
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
        // A note is one paragraph: its lines join as a list item's continuation lines do.
        let notes = self.calibration.map(|note| note.split_whitespace().collect::<Vec<_>>().join(" "));
        let calibration = match notes.iter().filter(|note| note.is_empty()).count() {
            3 => None,
            0 => Some(Calibration::from_notes(notes)),
            _ => {
                problem("calibration", "give all three calibration notes, or none".into());
                None
            }
        };
        let calibration_len = calibration.as_ref().map_or(0, |c| c.to_markdown().len());
        for (field, len) in
            [("prompt", prompt.len()), ("what_good_looks_like", good.len()), ("calibration", calibration_len)]
        {
            if len > MAX_TEXT {
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
                topic,
                minutes: self.minutes as i16,
                prompt,
                follow_ups,
                hints,
                what_good_looks_like: good,
                calibration,
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
            topic: "arrays-hashing".into(),
            minutes: 20,
            prompt: "Find pairs.".into(),
            follow_ups: vec!["Sorted?".into(), "Streaming?".into()],
            hints: vec!["Use a set.".into()],
            what_good_looks_like: "O(n).".into(),
            calibration: Default::default(),
        }
    }

    fn notes(one: &str, three: &str, level: &str) -> [String; 3] {
        [one.into(), three.into(), level.into()]
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
    fn a_topic_must_be_a_slug_and_may_default_to_the_questions_own_slug() {
        let cases: [(&str, &str, Option<&str>); 6] = [
            ("a slug", "attention", Some("attention")),
            ("spaces around", "  sliding-window ", Some("sliding-window")),
            ("empty", "", None),
            ("capitals", "Attention", None),
            ("spaces inside", "sliding window", None),
            ("too long", &"a".repeat(MAX_TOPIC + 1), None),
        ];
        for (name, topic, expected) in cases {
            let result = QuestionDraft { topic: topic.into(), ..draft() }.validate();
            match expected {
                Some(topic) => assert_eq!(result.expect(name).topic, topic, "{name}"),
                None => assert_eq!(result.expect_err(name)[0].field, "topic", "{name}"),
            }
        }
        let own = QuestionDraft { topic: " ".into(), ..draft() }.with_topic_defaulting_to("my-1a2b3c4d-pairs");
        assert_eq!(own.validate().expect("valid").topic, "my-1a2b3c4d-pairs");
        let given = QuestionDraft { topic: "graphs".into(), ..draft() }.with_topic_defaulting_to("my-1a2b3c4d-pairs");
        assert_eq!(given.validate().expect("valid").topic, "graphs");
    }

    #[test]
    fn calibration_takes_all_three_notes_or_none() {
        let cases: [(&str, [String; 3], Result<bool, ()>); 5] = [
            ("none", notes("", " ", "\n"), Ok(false)),
            ("all three", notes("a", "b", "c"), Ok(true)),
            ("one missing", notes("a", "", "c"), Err(())),
            ("only one", notes("", "", "c"), Err(())),
            ("too long", notes(&"x".repeat(MAX_TEXT), "b", "c"), Err(())),
        ];
        for (name, calibration, expected) in cases {
            let result = QuestionDraft { calibration, ..draft() }.validate();
            match expected {
                Ok(present) => assert_eq!(result.expect(name).calibration.is_some(), present, "{name}"),
                Err(()) => assert_eq!(result.expect_err(name)[0].field, "calibration", "{name}"),
            }
        }
    }

    #[test]
    fn a_loops_level_labels_the_level_note_and_the_score_boundaries_stay() {
        let calibration = Calibration::from_notes(["a 1 stalls".into(), "a 4 extends".into(), "seniors lead".into()]);
        // (level, label of the third note)
        let table = [
            (Level::JuniorMid, "This loop's level, Junior / mid"),
            (Level::SeniorStaff, "This loop's level, Senior / staff"),
        ];
        for (level, label) in table {
            let notes = calibration.for_level(level);
            let labels: Vec<&str> = notes.iter().map(|note| note.label.as_str()).collect();
            assert_eq!(labels, ["1 vs 2", "3 vs 4", label]);
            let texts: Vec<&str> = notes.iter().map(|note| note.text).collect();
            assert_eq!(texts, ["a 1 stalls", "a 4 extends", "seniors lead"]);
        }
    }

    #[test]
    fn a_calibration_note_typed_on_several_lines_is_one_paragraph() {
        let question =
            QuestionDraft { calibration: notes("a 1 stalls;\r\n  a 2 gets there", "b", "c"), ..draft() }.validate();
        let calibration = question.expect("valid").calibration.expect("calibration");
        assert_eq!(calibration.one_vs_two, "a 1 stalls; a 2 gets there");
        assert_eq!(Calibration::parse_markdown(&calibration.to_markdown()), Ok(calibration));
    }

    #[test]
    fn calibration_markdown_has_exactly_the_three_labelled_items() {
        const GOOD: &str = "- **1 vs 2:** A 1 has no plan.\n- **3 vs 4:** A 4 also\n  proves it.\n\n\
            - **Junior/mid vs senior/staff:** Seniors lead.\n";
        let parsed = Calibration::parse_markdown(GOOD).expect("valid");
        assert_eq!(parsed.notes(), ["A 1 has no plan.", "A 4 also proves it.", "Seniors lead."]);
        assert_eq!(Calibration::parse_markdown(&GOOD.replace("- ", "* ")), Ok(parsed.clone()));
        assert_eq!(Calibration::parse_markdown(&parsed.to_markdown()), Ok(parsed));

        let refusals: [(&str, String, &str); 8] = [
            ("empty", String::new(), "found 0 item(s)"),
            ("two items", GOOD.replace("- **3 vs 4:** A 4 also\n  proves it.\n", ""), "found 2 item(s)"),
            ("four items", format!("{GOOD}- **Notes:** more\n"), "found 4 item(s)"),
            (
                "out of order",
                GOOD.replace("1 vs 2", "X").replace("3 vs 4", "1 vs 2").replace("X", "3 vs 4"),
                "where `**1 vs 2:**` belongs",
            ),
            (
                "another label",
                GOOD.replace("**3 vs 4:**", "**2 vs 3:**"),
                "an item starts `**2 vs 3:** A 4 also proves it.` where `**3 vs 4:**` belongs",
            ),
            ("unbolded label", GOOD.replace("**1 vs 2:**", "1 vs 2:"), "where `**1 vs 2:**` belongs"),
            (
                "nothing after a label",
                GOOD.replace("Seniors lead.", ""),
                "the `**Junior/mid vs senior/staff:**` item says nothing",
            ),
            ("a paragraph", format!("Some intro.\n\n{GOOD}"), "found text outside them: `Some intro.`"),
        ];
        for (name, text, expected) in refusals {
            let error = Calibration::parse_markdown(&text).expect_err(name);
            assert!(error.contains(expected), "{name}: {error}");
            assert!(error.starts_with("`## Calibration`"), "{name}: {error}");
        }
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
