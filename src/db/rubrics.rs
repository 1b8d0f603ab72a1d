//! Rubrics and their criteria.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::domain::{Level, Pillar, RoundKind};

#[derive(Debug, Clone)]
pub struct RubricSummary {
    pub kind: RoundKind,
    pub title: String,
    pub summary: String,
    pub criteria_count: i64,
}

#[derive(Debug, Clone)]
pub struct Rubric {
    pub id: Uuid,
    pub kind: RoundKind,
    pub title: String,
    pub summary: String,
}

#[derive(Debug, Clone)]
pub struct Criterion {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub pillar: Pillar,
    pub description: String,
    pub anchors: Vec<String>,
    /// The candidate levels whose scorecards have it; empty for every level.
    pub levels: Vec<Level>,
}

impl Criterion {
    /// Whether a scorecard for a candidate at `level` has it.
    pub fn applies_to(&self, level: Level) -> bool {
        level.is_within(&self.levels)
    }

    /// "Senior / staff only" for a criterion limited to some levels.
    pub fn levels_note(&self) -> Option<String> {
        (!self.levels.is_empty())
            .then(|| format!("{} only", self.levels.iter().map(|l| l.label()).collect::<Vec<_>>().join(", ")))
    }
}

pub async fn list(db: impl PgExecutor<'_>) -> Result<Vec<RubricSummary>, sqlx::Error> {
    sqlx::query_as!(
        RubricSummary,
        r#"select r.kind as "kind: RoundKind", r.title, r.summary,
                count(c.id) filter (where not c.retired) as "criteria_count!"
         from rubrics r left join rubric_criteria c on c.rubric_id = r.id
         group by r.id
         order by array_position(array['coding', 'ml_fundamentals', 'ml_system_design', 'domain',
                                       'behavioral', 'hiring_manager'], r.kind)"#,
    )
    .fetch_all(db)
    .await
}

pub async fn find_by_kind(db: impl PgExecutor<'_>, kind: RoundKind) -> Result<Option<Rubric>, sqlx::Error> {
    sqlx::query_as!(
        Rubric,
        r#"select id, kind as "kind: RoundKind", title, summary from rubrics where kind = $1"#,
        kind as RoundKind,
    )
    .fetch_optional(db)
    .await
}

/// The criteria in use, in rubric order.
pub async fn criteria(db: impl PgExecutor<'_>, rubric_id: Uuid) -> Result<Vec<Criterion>, sqlx::Error> {
    sqlx::query_as!(
        Criterion,
        r#"select id, slug, name, pillar as "pillar: Pillar", description, anchors, levels as "levels: Vec<Level>"
         from rubric_criteria
         where rubric_id = $1 and not retired order by position"#,
        rubric_id,
    )
    .fetch_all(db)
    .await
}

/// Every rubric's criteria in use, by the kind of round it scores, in rubric order:
/// content, read once and held (`shipped`).
pub async fn criteria_in_use(db: impl PgExecutor<'_>) -> Result<Vec<(RoundKind, Criterion)>, sqlx::Error> {
    let rows = sqlx::query!(
        r#"select r.kind as "kind: RoundKind", c.id, c.slug, c.name, c.pillar as "pillar: Pillar", c.description,
                c.anchors, c.levels as "levels: Vec<Level>"
         from rubric_criteria c join rubrics r on r.id = c.rubric_id
         where not c.retired
         order by r.kind, c.position"#,
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let criterion = Criterion {
                id: row.id,
                slug: row.slug,
                name: row.name,
                pillar: row.pillar,
                description: row.description,
                anchors: row.anchors,
                levels: row.levels,
            };
            (row.kind, criterion)
        })
        .collect())
}
