//! Loop templates and their rounds.

use sqlx::PgExecutor;
use sqlx::types::Json;

use crate::domain::selection::TagFilter;
use crate::domain::{RoundKind, Team};

#[derive(Debug, Clone)]
pub struct TemplateWithRounds {
    pub id: uuid::Uuid,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub team: Option<Team>,
    pub rounds: Json<Vec<TemplateRound>>,
    pub is_own: bool,
}

#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct TemplateRound {
    pub kind: RoundKind,
    pub title: String,
    pub minutes: i16,
    pub question_count: i16,
    #[serde(default)]
    pub with_tag: Option<String>,
    #[serde(default)]
    pub without_tag: Option<String>,
}

impl TemplateRound {
    /// The part of the kind's pool the round draws from.
    pub fn filter(&self) -> TagFilter {
        TagFilter::from_columns(self.with_tag.clone(), self.without_tag.clone())
    }
}

/// `owner`'s own templates, or the shipped ones (no owner) for none; the longest loops first.
pub async fn list_owned_by(
    db: impl PgExecutor<'_>,
    owner: Option<uuid::Uuid>,
) -> Result<Vec<TemplateWithRounds>, sqlx::Error> {
    sqlx::query_as!(
        TemplateWithRounds,
        r#"select t.id, t.slug, t.name, t.description, t.team as "team: Team",
                coalesce(jsonb_agg(jsonb_build_object('kind', r.kind, 'title', r.title,
                    'minutes', r.minutes, 'question_count', r.question_count, 'with_tag', r.with_tag,
                    'without_tag', r.without_tag) order by r.position)
                    filter (where r.position is not null), '[]') as "rounds!: Json<Vec<TemplateRound>>",
                t.owner_id is not null as "is_own!"
         from loop_templates t left join template_rounds r on r.template_id = t.id
         where t.owner_id = $1 or ($1::uuid is null and t.owner_id is null)
         group by t.id
         order by count(r.position) desc, t.name"#,
        owner,
    )
    .fetch_all(db)
    .await
}

/// One round of a template being saved.
pub struct RoundSpec<'a> {
    pub kind: RoundKind,
    pub title: &'a str,
    pub minutes: i16,
    pub question_count: i16,
    pub filter: TagFilter,
}

/// Creates or (for its owner) replaces a user's own template; `false` when the
/// slug belongs to someone else or to a shipped template.
pub async fn save_owned(
    db: &mut sqlx::PgConnection,
    owner: uuid::Uuid,
    slug: &str,
    name: &str,
    description: &str,
    team: Option<Team>,
    rounds: &[RoundSpec<'_>],
) -> Result<bool, sqlx::Error> {
    let id = sqlx::query_scalar!(
        "insert into loop_templates (slug, owner_id, name, description, team) values ($1, $2, $3, $4, $5)
         on conflict (slug) do update set name = excluded.name, description = excluded.description, team = excluded.team
         where loop_templates.owner_id = $2
         returning id",
        slug,
        owner,
        name,
        description,
        team as Option<Team>,
    )
    .fetch_optional(&mut *db)
    .await?;
    let Some(id) = id else { return Ok(false) };
    replace_rounds(db, id, rounds).await?;
    Ok(true)
}

/// Replaces a template's rounds wholesale: loops copy their rounds, so none point here.
pub async fn replace_rounds(
    db: &mut sqlx::PgConnection,
    template_id: uuid::Uuid,
    rounds: &[RoundSpec<'_>],
) -> Result<(), sqlx::Error> {
    sqlx::query!("delete from template_rounds where template_id = $1", template_id).execute(&mut *db).await?;
    let rows: Vec<_> = rounds
        .iter()
        .enumerate()
        .map(|(index, r)| {
            serde_json::json!({
                "position": index + 1, "kind": r.kind, "title": r.title, "minutes": r.minutes,
                "question_count": r.question_count, "with_tag": r.filter.with_tag(),
                "without_tag": r.filter.without_tag(),
            })
        })
        .collect();
    sqlx::query!(
        "insert into template_rounds (template_id, position, kind, title, minutes, question_count, with_tag, without_tag)
         select $1, position, kind, title, minutes, question_count, with_tag, without_tag
         from jsonb_to_recordset($2) as r(position smallint, kind text, title text, minutes smallint,
                                          question_count smallint, with_tag text, without_tag text)",
        template_id,
        serde_json::Value::Array(rows),
    )
    .execute(db)
    .await?;
    Ok(())
}

/// A user's own template, for its edit form.
pub async fn find_owned(
    db: impl PgExecutor<'_>,
    owner: uuid::Uuid,
    slug: &str,
) -> Result<Option<TemplateWithRounds>, sqlx::Error> {
    sqlx::query_as!(
        TemplateWithRounds,
        r#"select t.id, t.slug, t.name, t.description, t.team as "team: Team",
                coalesce(jsonb_agg(jsonb_build_object('kind', r.kind, 'title', r.title,
                    'minutes', r.minutes, 'question_count', r.question_count, 'with_tag', r.with_tag,
                    'without_tag', r.without_tag) order by r.position)
                    filter (where r.position is not null), '[]') as "rounds!: Json<Vec<TemplateRound>>",
                true as "is_own!"
         from loop_templates t left join template_rounds r on r.template_id = t.id
         where t.slug = $1 and t.owner_id = $2
         group by t.id"#,
        slug,
        owner,
    )
    .fetch_optional(db)
    .await
}

pub async fn delete_owned(db: impl PgExecutor<'_>, owner: uuid::Uuid, slug: &str) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query!("delete from loop_templates where slug = $1 and owner_id = $2", slug, owner).execute(db).await?;
    Ok(done.rows_affected() == 1)
}
