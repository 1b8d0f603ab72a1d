//! One rubric per round kind, as a TOML file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ContentError, content_hash};
use crate::domain::question::is_slug;
use crate::domain::{Pillar, RoundKind};

#[derive(Debug, Clone)]
pub struct RubricFile {
    pub path: PathBuf,
    pub kind: RoundKind,
    pub title: String,
    pub summary: String,
    pub criteria: Vec<CriterionFile>,
    pub content_hash: String,
}

#[derive(Debug, Clone)]
pub struct CriterionFile {
    pub slug: String,
    pub name: String,
    pub pillar: Pillar,
    pub description: String,
    /// What levels 1 to 4 look like, in order.
    pub anchors: [String; 4],
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRubric {
    kind: String,
    title: String,
    summary: String,
    criteria: Vec<RawCriterion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCriterion {
    slug: String,
    name: String,
    pillar: Option<String>,
    description: String,
    anchors: Vec<String>,
}

pub fn parse(path: &Path, text: &str) -> Result<RubricFile, ContentError> {
    let stem = path.file_stem().map(|stem| stem.to_string_lossy().into_owned());
    let error = |entry: Option<String>, problem: String| ContentError { file: path.to_owned(), entry, problem };
    let raw: RawRubric = toml::from_str(text).map_err(|e| error(stem.clone(), e.message().to_owned()))?;
    let kind =
        RoundKind::parse(&raw.kind).ok_or_else(|| error(stem.clone(), format!("unknown kind `{}`", raw.kind)))?;
    if stem.as_deref() != Some(kind.as_str()) {
        return Err(error(stem, "the file name must be the rubric's kind".into()));
    }
    if !(4..=6).contains(&raw.criteria.len()) {
        return Err(error(stem, format!("a rubric needs 4 to 6 criteria, found {}", raw.criteria.len())));
    }

    let mut seen = HashSet::new();
    let mut criteria = Vec::with_capacity(raw.criteria.len());
    for criterion in raw.criteria {
        let fail = |problem: String| error(Some(format!("{}/{}", kind, criterion.slug)), problem);
        if !is_slug(&criterion.slug) {
            return Err(fail("criterion slug must be lowercase letters and digits separated by hyphens".into()));
        }
        if !seen.insert(criterion.slug.clone()) {
            return Err(fail("duplicate criterion slug".into()));
        }
        let pillar_text = criterion.pillar.as_deref().ok_or_else(|| fail("criterion has no pillar".into()))?;
        let pillar = Pillar::parse(pillar_text).ok_or_else(|| {
            fail(format!(
                "unknown pillar `{pillar_text}` (expected one of: {})",
                Pillar::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(", ")
            ))
        })?;
        let anchor_count = criterion.anchors.len();
        let anchors: [String; 4] = criterion
            .anchors
            .try_into()
            .map_err(|_| fail(format!("needs exactly 4 anchors (levels 1 to 4), found {anchor_count}")))?;
        if anchors.iter().any(|anchor| anchor.trim().is_empty()) {
            return Err(fail("an anchor is empty".into()));
        }
        criteria.push(CriterionFile {
            slug: criterion.slug,
            name: criterion.name,
            pillar,
            description: criterion.description,
            anchors,
        });
    }

    Ok(RubricFile {
        path: path.to_owned(),
        kind,
        title: raw.title,
        summary: raw.summary,
        criteria,
        content_hash: content_hash(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rubric_with(criterion_extra: &str, pillar_line: &str) -> String {
        let criterion = format!(
            "[[criteria]]\nslug = \"c{{n}}\"\nname = \"C\"\n{pillar_line}\ndescription = \"d\"\n\
             anchors = [\"a\", \"b\", \"c\", \"d\"{criterion_extra}]\n"
        );
        let mut text = "kind = \"coding\"\ntitle = \"Coding\"\nsummary = \"s\"\n".to_owned();
        for n in 0..4 {
            text.push_str(&criterion.replace("{n}", &n.to_string()));
        }
        text
    }

    fn parse_text(text: &str) -> Result<RubricFile, ContentError> {
        parse(Path::new("rubrics/coding.toml"), text)
    }

    #[test]
    fn a_complete_rubric_parses() {
        let rubric = parse_text(&rubric_with("", "pillar = \"technical_depth\"")).expect("valid");
        assert_eq!(rubric.criteria.len(), 4);
        assert_eq!(rubric.criteria[0].pillar, Pillar::TechnicalDepth);
    }

    #[test]
    fn a_criterion_without_a_pillar_is_refused_by_name() {
        let error = parse_text(&rubric_with("", "")).expect_err("refused");
        assert_eq!(error.entry.as_deref(), Some("coding/c0"));
        assert!(error.problem.contains("no pillar"), "{error}");
    }

    #[test]
    fn five_anchors_are_refused() {
        let error = parse_text(&rubric_with(", \"e\"", "pillar = \"technical_depth\"")).expect_err("refused");
        assert!(error.problem.contains("exactly 4 anchors"), "{error}");
    }

    #[test]
    fn an_unknown_pillar_is_refused() {
        let error = parse_text(&rubric_with("", "pillar = \"vibes\"")).expect_err("refused");
        assert!(error.problem.contains("unknown pillar `vibes`"), "{error}");
    }
}
