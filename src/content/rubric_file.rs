//! One rubric per round kind, as a TOML file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{ContentError, content_hash};
use crate::domain::question::is_slug;
use crate::domain::{Level, Pillar, RoundKind};

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
    /// The candidate levels whose scorecards have it; empty for every level.
    pub levels: Vec<Level>,
}

impl CriterionFile {
    pub fn applies_to(&self, level: Level) -> bool {
        level.is_within(&self.levels)
    }
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
    levels: Option<Vec<String>>,
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
        let levels = match &criterion.levels {
            None => Vec::new(),
            Some(names) if names.is_empty() => {
                return Err(fail("`levels` lists no level; leave it out for every level".into()));
            }
            Some(names) => names
                .iter()
                .map(|name| {
                    Level::parse(name).ok_or_else(|| {
                        fail(format!(
                            "unknown level `{name}` (expected one of: {})",
                            Level::ALL.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ")
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        };
        criteria.push(CriterionFile {
            slug: criterion.slug,
            name: criterion.name,
            pillar,
            description: criterion.description,
            anchors,
            levels,
        });
    }
    // A scorecard holds the criteria for its loop's level: 4 to 6 at every level.
    for level in Level::ALL {
        let count = criteria.iter().filter(|criterion| criterion.applies_to(*level)).count();
        if !(4..=6).contains(&count) {
            return Err(error(
                stem.clone(),
                format!("a {} scorecard needs 4 to 6 criteria, found {count}", level.label()),
            ));
        }
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
    fn a_criterion_limited_to_a_level_counts_only_at_that_level() {
        let mut text = rubric_with("", "pillar = \"technical_depth\"");
        text.push_str(
            "[[criteria]]\nslug = \"leadership\"\nname = \"L\"\npillar = \"communication_culture\"\n\
             description = \"d\"\nanchors = [\"a\", \"b\", \"c\", \"d\"]\nlevels = [\"senior_staff\"]\n",
        );
        let rubric = parse_text(&text).expect("valid");
        let leadership = &rubric.criteria[4];
        assert!(leadership.applies_to(Level::SeniorStaff));
        assert!(!leadership.applies_to(Level::JuniorMid));
        assert!(rubric.criteria[0].applies_to(Level::JuniorMid), "no levels: every level");
    }

    #[test]
    fn levels_that_leave_a_level_short_or_name_no_level_are_refused() {
        let senior_only = rubric_with("", "pillar = \"technical_depth\"\nlevels = [\"senior_staff\"]");
        let error = parse_text(&senior_only).expect_err("a junior/mid card would have no criteria");
        assert!(error.problem.contains("Junior / mid scorecard needs 4 to 6 criteria, found 0"), "{error}");
        let error = parse_text(&rubric_with("", "pillar = \"technical_depth\"\nlevels = []")).expect_err("refused");
        assert!(error.problem.contains("lists no level"), "{error}");
        let error =
            parse_text(&rubric_with("", "pillar = \"technical_depth\"\nlevels = [\"staff\"]")).expect_err("refused");
        assert!(error.problem.contains("unknown level `staff`"), "{error}");
    }

    #[test]
    fn an_unknown_pillar_is_refused() {
        let error = parse_text(&rubric_with("", "pillar = \"vibes\"")).expect_err("refused");
        assert!(error.problem.contains("unknown pillar `vibes`"), "{error}");
    }
}
