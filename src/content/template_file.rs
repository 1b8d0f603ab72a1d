//! Loop templates: named loop shapes, all in one TOML file.

use std::collections::HashSet;
use std::path::Path;

use serde::Deserialize;

use super::{ContentError, content_hash};
use crate::domain::question::is_slug;
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
                if !(1..=2).contains(&round.questions) {
                    return Err(fail(format!("questions {} must be 1 or 2", round.questions)));
                }
                Ok(TemplateRoundFile {
                    kind,
                    title: round.title.clone(),
                    minutes: round.minutes as i16,
                    questions: round.questions as i16,
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
    fn questions_default_to_one_per_round() {
        let text = "[[templates]]\nslug = \"t\"\nname = \"T\"\ndescription = \"d\"\n\
                    [[templates.rounds]]\nkind = \"domain\"\ntitle = \"Deep dive\"\nminutes = 45\n";
        let templates = parse(Path::new("templates.toml"), text).expect("valid");
        assert_eq!(templates[0].rounds[0].questions, 1);
    }
}
