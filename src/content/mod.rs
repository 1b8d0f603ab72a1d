//! The shipped content — questions, rubrics, loop templates — read from data
//! files and checked as a whole before anything is written to the database.

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

/// Reads `dir/questions/**/*.md`, `dir/rubrics/*.toml` and `dir/templates.toml`
/// (each part optional, so a directory of questions alone can be imported).
pub fn load_dir(dir: &Path) -> Result<ContentBundle, ContentErrors> {
    let mut errors = Vec::new();
    let mut bundle = ContentBundle::default();
    if !dir.is_dir() {
        return Err(ContentErrors(vec![ContentError {
            file: dir.to_owned(),
            entry: None,
            problem: "not a directory".into(),
        }]));
    }

    let question_root = if dir.join("questions").is_dir() { dir.join("questions") } else { dir.to_owned() };
    for path in files_with_extension(&question_root, "md", &mut errors) {
        if path.file_name().is_some_and(|name| name == "README.md") {
            continue;
        }
        match read(&path).and_then(|text| question_file::parse(&path, &text)) {
            Ok(question) => bundle.questions.push(question),
            Err(error) => errors.push(error),
        }
    }

    let rubric_dir = dir.join("rubrics");
    if rubric_dir.is_dir() {
        for path in files_with_extension(&rubric_dir, "toml", &mut errors) {
            match read(&path).and_then(|text| rubric_file::parse(&path, &text)) {
                Ok(rubric) => bundle.rubrics.push(rubric),
                Err(error) => errors.push(error),
            }
        }
    }

    let templates_path = dir.join("templates.toml");
    if templates_path.is_file() {
        match read(&templates_path).and_then(|text| template_file::parse(&templates_path, &text)) {
            Ok(templates) => bundle.templates = templates,
            Err(error) => errors.push(error),
        }
    }

    errors.extend(duplicate_slugs(bundle.questions.iter().map(|q| (q.slug.as_str(), &q.path))));
    errors.extend(duplicate_slugs(bundle.rubrics.iter().map(|r| (r.kind.as_str(), &r.path))));
    errors.extend(duplicate_slugs(bundle.templates.iter().map(|t| (t.slug.as_str(), &templates_path))));

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

/// All files under `root` (recursively) ending in `.extension`, sorted for stable errors.
fn files_with_extension(root: &Path, extension: &str, errors: &mut Vec<ContentError>) -> Vec<PathBuf> {
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
            } else if path.extension().is_some_and(|ext| ext == extension) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

fn duplicate_slugs<'a>(entries: impl Iterator<Item = (&'a str, &'a PathBuf)>) -> Vec<ContentError> {
    let mut first_seen: HashMap<&str, &PathBuf> = HashMap::new();
    let mut errors = Vec::new();
    for (slug, path) in entries {
        if let Some(first) = first_seen.insert(slug, path) {
            errors.push(ContentError {
                file: path.clone(),
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
