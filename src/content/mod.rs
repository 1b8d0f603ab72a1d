//! The shipped content — questions, rubrics, loop templates — read from data
//! files and checked as a whole before anything is written to the database.

pub mod code_sections;
pub mod question_file;
pub mod rubric_file;
pub mod template_file;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

pub use question_file::QuestionFile;
pub use rubric_file::RubricFile;
pub use template_file::TemplateFile;

/// One problem found in one file, worded so that the author can fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentError {
    pub file: PathBuf,
    /// The slug, criterion or round the problem is in, when there is one.
    pub entry: Option<String>,
    pub problem: String,
}

impl fmt::Display for ContentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(entry) = &self.entry {
            write!(f, " [{entry}]")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// Every problem found in a content directory; loading refuses all of it.
#[derive(Debug)]
pub struct ContentErrors(pub Vec<ContentError>);

impl fmt::Display for ContentErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "content refused, nothing was loaded ({} problem(s)):", self.0.len())?;
        for error in &self.0 {
            writeln!(f, "  {error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ContentErrors {}

/// A fully parsed and cross-checked content directory.
#[derive(Debug, Default)]
pub struct ContentBundle {
    pub questions: Vec<QuestionFile>,
    pub rubrics: Vec<RubricFile>,
    pub templates: Vec<TemplateFile>,
}

/// One content file: where it sits inside the content root, what to call it
/// in messages, and its text.
struct SourceFile {
    relative: PathBuf,
    shown_as: PathBuf,
    text: String,
}

/// The content shipped with this build, compiled into the binary so that it
/// runs the same from any directory.
static SHIPPED: include_dir::Dir<'static> = include_dir::include_dir!("$CARGO_MANIFEST_DIR/content");

/// Parses the content compiled into the binary.
pub fn shipped() -> Result<ContentBundle, ContentErrors> {
    let mut files = Vec::new();
    let mut pending = vec![&SHIPPED];
    while let Some(dir) = pending.pop() {
        pending.extend(dir.dirs());
        for file in dir.files() {
            files.push(SourceFile {
                relative: file.path().to_owned(),
                shown_as: Path::new("(built-in content)").join(file.path()),
                text: String::from_utf8_lossy(file.contents()).into_owned(),
            });
        }
    }
    parse_files(files, Vec::new())
}

/// Reads `dir/questions/**/*.md`, `dir/rubrics/*.toml` and `dir/templates.toml`
/// (each part optional, so a directory of questions alone can be imported).
pub fn load_dir(dir: &Path) -> Result<ContentBundle, ContentErrors> {
    if !dir.is_dir() {
        return Err(ContentErrors(vec![ContentError {
            file: dir.to_owned(),
            entry: None,
            problem: "not a directory".into(),
        }]));
    }
    let mut errors = Vec::new();
    let mut files = Vec::new();
    for path in files_under(dir, &mut errors) {
        match read(&path) {
            Ok(text) => files.push(SourceFile {
                relative: path.strip_prefix(dir).unwrap_or(&path).to_owned(),
                shown_as: path,
                text,
            }),
            Err(error) => errors.push(error),
        }
    }
    parse_files(files, errors)
}

/// Sorts files into questions, rubrics and templates by where they sit, parses
/// each, and checks the whole: any problem refuses all of it.
fn parse_files(files: Vec<SourceFile>, mut errors: Vec<ContentError>) -> Result<ContentBundle, ContentErrors> {
    let mut bundle = ContentBundle::default();
    let has_question_dir = files.iter().any(|file| file.relative.starts_with("questions"));
    let mut templates_path = PathBuf::from("templates.toml");
    for file in files {
        let extension = file.relative.extension().and_then(|ext| ext.to_str());
        let is_question = extension == Some("md")
            && file.relative.file_name().is_some_and(|name| name != "README.md")
            && (!has_question_dir || file.relative.starts_with("questions"));
        if is_question {
            match question_file::parse(&file.shown_as, &file.text) {
                Ok(question) => bundle.questions.push(question),
                Err(error) => errors.push(error),
            }
        } else if extension == Some("toml") && file.relative.parent() == Some(Path::new("rubrics")) {
            match rubric_file::parse(&file.shown_as, &file.text) {
                Ok(rubric) => bundle.rubrics.push(rubric),
                Err(error) => errors.push(error),
            }
        } else if file.relative == Path::new("templates.toml") {
            match template_file::parse(&file.shown_as, &file.text) {
                Ok(templates) => bundle.templates = templates,
                Err(error) => errors.push(error),
            }
            templates_path = file.shown_as;
        }
    }
    check_and_sort(bundle, errors, &templates_path)
}

impl ContentBundle {
    /// This bundle with `operator`'s entries added on top: a question, rubric or
    /// template of the same slug (or round kind) replaces the shipped one.
    pub fn overlaid_with(mut self, operator: ContentBundle) -> ContentBundle {
        for question in operator.questions {
            self.questions.retain(|shipped| shipped.slug != question.slug);
            self.questions.push(question);
        }
        for rubric in operator.rubrics {
            self.rubrics.retain(|shipped| shipped.kind != rubric.kind);
            self.rubrics.push(rubric);
        }
        for template in operator.templates {
            self.templates.retain(|shipped| shipped.slug != template.slug);
            self.templates.push(template);
        }
        self.questions.sort_by(|a, b| a.slug.cmp(&b.slug));
        self.rubrics.sort_by_key(|r| r.kind);
        self
    }
}

fn check_and_sort(
    mut bundle: ContentBundle,
    mut errors: Vec<ContentError>,
    templates_path: &Path,
) -> Result<ContentBundle, ContentErrors> {
    errors.extend(duplicate_slugs(bundle.questions.iter().map(|q| (q.slug.as_str(), q.path.as_path()))));
    errors.extend(duplicate_slugs(bundle.rubrics.iter().map(|r| (r.kind.as_str(), r.path.as_path()))));
    errors.extend(duplicate_slugs(bundle.templates.iter().map(|t| (t.slug.as_str(), templates_path))));

    if errors.is_empty() {
        bundle.questions.sort_by(|a, b| a.slug.cmp(&b.slug));
        bundle.rubrics.sort_by_key(|r| r.kind);
        Ok(bundle)
    } else {
        Err(ContentErrors(errors))
    }
}

fn read(path: &Path) -> Result<String, ContentError> {
    std::fs::read_to_string(path).map_err(|error| ContentError {
        file: path.to_owned(),
        entry: None,
        problem: format!("cannot read: {error}"),
    })
}

/// Every file under `root` (recursively), sorted for stable errors.
fn files_under(root: &Path, errors: &mut Vec<ContentError>) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_owned()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(error) => {
                errors.push(ContentError { file: dir, entry: None, problem: format!("cannot list: {error}") });
                continue;
            }
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn duplicate_slugs<'a>(entries: impl Iterator<Item = (&'a str, &'a Path)>) -> Vec<ContentError> {
    let mut first_seen: HashMap<&str, &Path> = HashMap::new();
    let mut errors = Vec::new();
    for (slug, path) in entries {
        if let Some(first) = first_seen.insert(slug, path) {
            errors.push(ContentError {
                file: path.to_owned(),
                entry: Some(slug.to_owned()),
                problem: format!("duplicate slug, also used in {}", first.display()),
            });
        }
    }
    errors
}

/// True for a lowercase slug of letters and digits separated by single hyphens.
pub fn is_valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug
            .split('-')
            .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()))
}

/// A stable fingerprint of a file's text, so unchanged content is not rewritten.
pub fn content_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(12).map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::{RoundKind, Team};

    const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    const START: &str = "<!-- bank-counts: generated from the built-in content by `cargo test --lib readme_counts`";
    const END: &str = "<!-- /bank-counts -->";

    /// The README's counts of the built-in bank: questions and topics, per
    /// kind and per team focus; and the shipped templates with their rounds.
    fn counts_markdown(bundle: &ContentBundle) -> String {
        let questions = &bundle.questions;
        let topics: BTreeSet<&str> = questions.iter().map(|q| q.question.topic.as_str()).collect();
        let count = |team: Option<Team>, kind: Option<RoundKind>| {
            questions
                .iter()
                .filter(|q| kind.is_none_or(|kind| q.question.kind == kind))
                .filter(|q| match team {
                    Some(team) => q.question.teams.contains(&team),
                    None => q.question.teams.is_empty(),
                })
                .count()
        };
        let kinds = RoundKind::ALL;
        let mut out = format!(
            "The built-in bank holds **{} questions** on **{} topics** (a loop never asks two questions of one topic); \
             {} coding questions run their tests in the browser.\n\n",
            questions.len(),
            topics.len(),
            questions.iter().filter(|q| q.question.tests.is_some()).count(),
        );
        out.push_str("| team focus | ");
        out.push_str(&kinds.iter().map(|k| k.label()).collect::<Vec<_>>().join(" | "));
        out.push_str(" | all |\n|---|");
        out.push_str(&"---:|".repeat(kinds.len() + 1));
        out.push('\n');
        let rows = std::iter::once((None, "General (any team)")).chain(Team::ALL.iter().map(|t| (Some(*t), t.label())));
        for (team, label) in rows {
            let cells: Vec<String> = kinds.iter().map(|kind| count(team, Some(*kind)).to_string()).collect();
            out.push_str(&format!("| {label} | {} | {} |\n", cells.join(" | "), count(team, None)));
        }
        let totals: Vec<String> = kinds
            .iter()
            .map(|kind| questions.iter().filter(|q| q.question.kind == *kind).count().to_string())
            .collect();
        out.push_str(&format!("| **every question** | {} | {} |\n", totals.join(" | "), questions.len()));
        out.push_str("\nA question written for several teams counts in each of their rows.\n");
        out.push_str(&format!(
            "\n{} loop templates ship with it; each round's questions are picked for the loop's team and level \
             (an ML coding round from the {} coding questions tagged `ml-coding`):\n\n\
             | template | rounds (questions) | minutes of rounds |\n|---|---|---:|\n",
            bundle.templates.len(),
            questions.iter().filter(|q| q.question.tags.iter().any(|tag| tag == "ml-coding")).count(),
        ));
        for template in &bundle.templates {
            let rounds: Vec<String> = template
                .rounds
                .iter()
                .map(|round| match round.questions {
                    1 => round.title.clone(),
                    n => format!("{} ({n})", round.title),
                })
                .collect();
            let minutes: i32 = template.rounds.iter().map(|round| i32::from(round.minutes)).sum();
            out.push_str(&format!("| {} | {} | {minutes} |\n", template.name, rounds.join(" · ")));
        }
        out
    }

    #[test]
    fn readme_counts_match_the_built_in_content() {
        let counts = counts_markdown(&shipped().expect("the built-in content loads"));
        let readme = std::fs::read_to_string(README).expect("README.md");
        // The generated text runs from the end of the opening comment to the closing one.
        let start = readme.find(START).and_then(|at| Some(at + readme[at..].find("-->\n")? + 4));
        let end = start.and_then(|start| Some(start + readme[start..].find(END)?));
        let (Some(start), Some(end)) = (start, end) else { panic!("README.md has no `{START}` … `{END}` block") };
        if readme[start..end] != counts {
            if std::env::var_os("MOCKLOOP_UPDATE_README").is_some() {
                std::fs::write(README, format!("{}{counts}{}", &readme[..start], &readme[end..])).expect("README.md");
            } else {
                panic!(
                    "README.md's counts of the bank are out of date; run \
                     `MOCKLOOP_UPDATE_README=1 cargo test --lib readme_counts` or paste:\n\n{counts}"
                );
            }
        }
    }
}
