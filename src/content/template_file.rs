//! Loop templates: named loop shapes, all in one TOML file.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::{ContentError, content_hash};
use crate::domain::question::is_slug;
use crate::domain::selection::TagFilter;
use crate::domain::{RoundKind, Team};

#[derive(Debug, Clone)]
pub struct TemplateFile {
    pub slug: String,
    pub name: String,
    pub description: String,
    pub team: Option<Team>,
    pub rounds: Vec<TemplateRoundFile>,
    pub content_hash: String,
}

#[derive(Debug, Clone)]
pub struct TemplateRoundFile {
    pub kind: RoundKind,
    pub title: String,
    pub minutes: i16,
    pub questions: i16,
    /// The part of the kind's pool the round draws from.
    pub filter: TagFilter,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    templates: Vec<RawTemplate>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    slug: String,
    name: String,
    description: String,
    team: Option<String>,
    rounds: Vec<RawRound>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawRound {
    kind: String,
    title: String,
    minutes: i64,
    #[serde(default = "one")]
    questions: i64,
    with_tag: Option<String>,
    without_tag: Option<String>,
}

fn one() -> i64 {
    1
}

pub fn parse(path: &Path, text: &str) -> Result<Vec<TemplateFile>, ContentError> {
    let error = |entry: Option<String>, problem: String| ContentError { file: path.to_owned(), entry, problem };
    let raw: RawFile = toml::from_str(text).map_err(|e| error(None, e.message().to_owned()))?;
    let mut slugs = HashSet::new();
    let mut templates = Vec::with_capacity(raw.templates.len());
    for template in raw.templates {
        let fail = |problem: String| error(Some(template.slug.clone()), problem);
        if !is_slug(&template.slug) {
            return Err(fail("slug must be lowercase letters and digits separated by hyphens".into()));
        }
        if !slugs.insert(template.slug.clone()) {
            return Err(fail("duplicate template slug".into()));
        }
        let team = match &template.team {
            Some(team) => Some(Team::parse(team).ok_or_else(|| fail(format!("unknown team `{team}`")))?),
            None => None,
        };
        if template.rounds.is_empty() || template.rounds.len() > 8 {
            return Err(fail(format!("a template needs 1 to 8 rounds, found {}", template.rounds.len())));
        }
        let rounds = template
            .rounds
            .iter()
            .enumerate()
            .map(|(index, round)| {
                let fail = |problem: String| error(Some(format!("{} round {}", template.slug, index + 1)), problem);
                let kind =
                    RoundKind::parse(&round.kind).ok_or_else(|| fail(format!("unknown kind `{}`", round.kind)))?;
                if !(15..=120).contains(&round.minutes) {
                    return Err(fail(format!("minutes {} is outside 15..120", round.minutes)));
                }
                if !(1..=3).contains(&round.questions) {
                    return Err(fail(format!("questions {} must be 1, 2 or 3", round.questions)));
                }
                for tag in [&round.with_tag, &round.without_tag].into_iter().flatten() {
                    if !is_slug(tag) {
                        return Err(fail(format!(
                            "tag `{tag}` must be lowercase letters and digits separated by hyphens"
                        )));
                    }
                }
                if round.with_tag.is_some() && round.without_tag.is_some() {
                    return Err(fail("a round takes `with_tag` or `without_tag`, not both".into()));
                }
                Ok(TemplateRoundFile {
                    kind,
                    title: round.title.clone(),
                    minutes: round.minutes as i16,
                    questions: round.questions as i16,
                    filter: TagFilter::from_columns(round.with_tag.clone(), round.without_tag.clone()),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        templates.push(TemplateFile {
            content_hash: content_hash(&format!("{template:?}")),
            slug: template.slug,
            name: template.name,
            description: template.description,
            team,
            rounds,
        });
    }
    Ok(templates)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_round_longer_than_two_hours_is_refused() {
        let text = "[[templates]]\nslug = \"t\"\nname = \"T\"\ndescription = \"d\"\n\
                    [[templates.rounds]]\nkind = \"coding\"\ntitle = \"Coding\"\nminutes = 150\n";
        let error = parse(Path::new("templates.toml"), text).expect_err("refused");
        assert_eq!(error.entry.as_deref(), Some("t round 1"));
        assert!(error.problem.contains("outside 15..120"), "{error}");
    }

    #[test]
    fn rounds_take_one_to_three_questions_and_at_most_one_tag_filter() {
        let round = |extra: &str| {
            format!(
                "[[templates]]\nslug = \"t\"\nname = \"T\"\ndescription = \"d\"\n\
                 [[templates.rounds]]\nkind = \"coding\"\ntitle = \"Coding\"\nminutes = 45\n{extra}\n"
            )
        };
        let parse_round = |extra: &str| parse(Path::new("templates.toml"), &round(extra));
        // (extra lines, accepted, part of the problem)
        let table = [
            ("questions = 3", true, ""),
            ("questions = 4", false, "must be 1, 2 or 3"),
            ("questions = 0", false, "must be 1, 2 or 3"),
            ("with_tag = \"ml-coding\"", true, ""),
            ("without_tag = \"ml-coding\"", true, ""),
            ("with_tag = \"ML coding\"", false, "tag `ML coding`"),
            ("with_tag = \"a\"\nwithout_tag = \"b\"", false, "not both"),
        ];
        for (extra, accepted, problem) in table {
            match parse_round(extra) {
                Ok(_) => assert!(accepted, "{extra} was accepted"),
                Err(error) => {
                    assert!(!accepted, "{extra}: {error}");
                    assert!(error.problem.contains(problem), "{extra}: {error}");
                }
            }
        }
        let filtered = parse_round("with_tag = \"ml-coding\"").expect("valid");
        assert_eq!(filtered[0].rounds[0].filter, TagFilter::With("ml-coding".into()));
        let plain = parse_round("").expect("valid");
        assert_eq!(plain[0].rounds[0].filter, TagFilter::Any);
    }

    #[test]
    fn questions_default_to_one_per_round() {
        let text = "[[templates]]\nslug = \"t\"\nname = \"T\"\ndescription = \"d\"\n\
                    [[templates.rounds]]\nkind = \"domain\"\ntitle = \"Deep dive\"\nminutes = 45\n";
        let templates = parse(Path::new("templates.toml"), text).expect("valid");
        assert_eq!(templates[0].rounds[0].questions, 1);
    }
}
