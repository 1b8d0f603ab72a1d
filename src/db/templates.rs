//! Loop templates and their rounds.

use sqlx::PgExecutor;
use sqlx::types::Json;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateWithRounds {
    pub id: uuid::Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub team: Option<String>,
    pub rounds: Json<Vec<TemplateRound>>,
}

#[derive(Debug, Clone, serde::Deserialize)]
pub struct TemplateRound {
    pub kind: String,
    pub title: String,
    pub minutes: i16,
    pub question_count: i16,
}

/// Shipped templates (and the viewer's own), each with its rounds, in one query.
pub async fn list_visible(
    db: impl PgExecutor<'_>,
    viewer: Option<uuid::Uuid>,
) -> Result<Vec<TemplateWithRounds>, sqlx::Error> {
    sqlx::query_as(
        "select t.id, t.slug, t.name, t.description, t.team,
                coalesce(jsonb_agg(jsonb_build_object('kind', r.kind, 'title', r.title,
                    'minutes', r.minutes, 'question_count', r.question_count) order by r.position)
                    filter (where r.position is not null), '[]') as rounds
         from loop_templates t left join template_rounds r on r.template_id = t.id
         where t.owner_id is null or t.owner_id = $1
         group by t.id
         order by t.owner_id nulls first, (select count(*) from template_rounds x where x.template_id = t.id) desc, t.name",
    )
    .bind(viewer)
    .fetch_all(db)
    .await
}
