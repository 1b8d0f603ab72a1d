//! Writing a checked content bundle into the database, all or nothing.

use crate::shipped::CONTENT_CHANNEL;
use serde_json::json;
use sqlx::PgConnection;

use super::templates::{self, RoundSpec};
use crate::content::ContentBundle;
use crate::domain::{RoundKind, Team, markdown};

/// How many rows an import inserted or changed.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub questions_changed: u64,
    pub rubrics_changed: u64,
    pub templates_changed: u64,
}

/// Upserts everything by slug inside the caller's transaction `tx` (all or
/// nothing is the caller's to ensure); rows whose file is unchanged are not touched.
/// Every instance hears of the import when it commits (`crate::shipped`).
pub async fn import(tx: &mut PgConnection, bundle: &ContentBundle) -> Result<ImportSummary, sqlx::Error> {
    let summary = ImportSummary {
        questions_changed: import_questions(tx, bundle).await?,
        rubrics_changed: import_rubrics(tx, bundle).await?,
        templates_changed: import_templates(tx, bundle).await?,
    };
    sqlx::query!("select pg_notify($1, '')", CONTENT_CHANNEL).execute(&mut *tx).await?;
    Ok(summary)
}

async fn import_questions(db: &mut PgConnection, bundle: &ContentBundle) -> Result<u64, sqlx::Error> {
    if bundle.questions.is_empty() {
        return Ok(0);
    }
    // One round trip for the whole bank: the rows travel as a JSON array.
    let rows: Vec<_> = bundle
        .questions
        .iter()
        .map(|file| {
            let q = &file.question;
            json!({
                "slug": file.slug,
                "kind": q.kind,
                "title": q.title,
                "prompt_md": q.prompt,
                "prompt_html": markdown::render(&q.prompt),
                "follow_ups": q.follow_ups,
                "hints": q.hints,
                "good_answer_md": q.what_good_looks_like,
                "good_answer_html": markdown::render(&q.what_good_looks_like),
                "tags": q.tags,
                "topic": q.topic,
                "calibration_md": q.calibration.as_ref().map(|c| c.to_markdown()),
                "calibration_html": q.calibration.as_ref().map(|c| markdown::render(&c.to_markdown())),
                "teams": q.teams,
                "levels": q.levels,
                "difficulty": q.difficulty.value(),
                "suggested_minutes": q.minutes,
                "guide_quotes": file.guide_quotes,
                "starter_language": q.starter.as_ref().map(|starter| starter.language.as_str()),
                "starter_code": q.starter.as_ref().map(|starter| starter.code.as_str()),
                "tests": q.tests,
                "reference_solution": q.reference_solution,
                "content_hash": file.content_hash,
            })
        })
        .collect();
    let result = sqlx::query!(
        "insert into questions (slug, kind, title, prompt_md, prompt_html, follow_ups, hints,
                                good_answer_md, good_answer_html, calibration_md, calibration_html, tags, topic,
                                teams, levels, difficulty, suggested_minutes, guide_quotes, starter_language,
                                starter_code, tests, reference_solution, content_hash)
         select slug, kind, title, prompt_md, prompt_html, follow_ups, hints,
                good_answer_md, good_answer_html, calibration_md, calibration_html, tags, topic,
                teams, levels, difficulty, suggested_minutes, guide_quotes, starter_language,
                starter_code, tests, reference_solution, content_hash
         from jsonb_to_recordset($1) as q(slug text, kind text, title text, prompt_md text,
              prompt_html text, follow_ups text[], hints text[], good_answer_md text,
              good_answer_html text, calibration_md text, calibration_html text, tags text[], topic text,
              teams text[], levels text[], difficulty smallint,
              suggested_minutes smallint, guide_quotes text[], starter_language text, starter_code text,
              tests jsonb, reference_solution text, content_hash text)
         on conflict (slug) do update set
             kind = excluded.kind, title = excluded.title, prompt_md = excluded.prompt_md,
             prompt_html = excluded.prompt_html, follow_ups = excluded.follow_ups,
             hints = excluded.hints, good_answer_md = excluded.good_answer_md,
             good_answer_html = excluded.good_answer_html, calibration_md = excluded.calibration_md,
             calibration_html = excluded.calibration_html, tags = excluded.tags, topic = excluded.topic,
             teams = excluded.teams, levels = excluded.levels, difficulty = excluded.difficulty,
             suggested_minutes = excluded.suggested_minutes, guide_quotes = excluded.guide_quotes,
             starter_language = excluded.starter_language, starter_code = excluded.starter_code,
             tests = excluded.tests, reference_solution = excluded.reference_solution,
             content_hash = excluded.content_hash
         where questions.owner_id is null and questions.content_hash <> excluded.content_hash",
        serde_json::Value::Array(rows),
    )
    .execute(&mut *db)
    .await?;
    Ok(result.rows_affected())
}

async fn import_rubrics(db: &mut PgConnection, bundle: &ContentBundle) -> Result<u64, sqlx::Error> {
    let mut changed = 0;
    for rubric in &bundle.rubrics {
        let rubric_id = sqlx::query_scalar!(
            "insert into rubrics (kind, title, summary, content_hash) values ($1, $2, $3, $4)
             on conflict (kind) do update set title = excluded.title, summary = excluded.summary,
                 content_hash = excluded.content_hash, updated_at = now()
             where rubrics.content_hash <> excluded.content_hash
             returning id",
            rubric.kind as RoundKind,
            rubric.title,
            rubric.summary,
            rubric.content_hash,
        )
        .fetch_optional(&mut *db)
        .await?;
        let Some(rubric_id) = rubric_id else { continue };
        changed += 1;
        let criteria: Vec<_> = rubric
            .criteria
            .iter()
            .enumerate()
            .map(|(index, c)| {
                json!({
                    "slug": c.slug, "position": index + 1, "name": c.name, "pillar": c.pillar,
                    "description": c.description, "anchors": c.anchors, "levels": c.levels,
                })
            })
            .collect();
        sqlx::query!(
            "insert into rubric_criteria (rubric_id, slug, position, name, pillar, description, anchors, levels,
                                          retired)
             select $1, slug, position, name, pillar, description, anchors, levels, false
             from jsonb_to_recordset($2) as c(slug text, position smallint, name text, pillar text,
                                              description text, anchors text[], levels text[])
             on conflict (rubric_id, slug) do update set position = excluded.position,
                 name = excluded.name, pillar = excluded.pillar, description = excluded.description,
                 anchors = excluded.anchors, levels = excluded.levels, retired = false",
            rubric_id,
            serde_json::Value::Array(criteria),
        )
        .execute(&mut *db)
        .await?;
        let slugs: Vec<&str> = rubric.criteria.iter().map(|c| c.slug.as_str()).collect();
        sqlx::query!(
            "update rubric_criteria set retired = true where rubric_id = $1 and slug <> all($2)",
            rubric_id,
            slugs.as_slice() as &[&str],
        )
        .execute(&mut *db)
        .await?;
    }
    Ok(changed)
}

async fn import_templates(db: &mut PgConnection, bundle: &ContentBundle) -> Result<u64, sqlx::Error> {
    let mut changed = 0;
    for template in &bundle.templates {
        let template_id = sqlx::query_scalar!(
            "insert into loop_templates (slug, name, description, team, content_hash) values ($1, $2, $3, $4, $5)
             on conflict (slug) do update set name = excluded.name, description = excluded.description,
                 team = excluded.team, content_hash = excluded.content_hash
             where loop_templates.owner_id is null and loop_templates.content_hash <> excluded.content_hash
             returning id",
            template.slug,
            template.name,
            template.description,
            template.team as Option<Team>,
            template.content_hash,
        )
        .fetch_optional(&mut *db)
        .await?;
        let Some(template_id) = template_id else { continue };
        changed += 1;
        let rounds: Vec<RoundSpec> = template
            .rounds
            .iter()
            .map(|r| RoundSpec {
                kind: r.kind,
                title: &r.title,
                minutes: r.minutes,
                question_count: r.questions,
                filter: r.filter.clone(),
            })
            .collect();
        templates::replace_rounds(&mut *db, template_id, &rounds).await?;
    }
    Ok(changed)
}
