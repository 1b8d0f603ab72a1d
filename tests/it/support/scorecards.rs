//! Scorecards as the assessment form sends them: the rubric's criteria, a
//! complete or draft form, and submitting one.

use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use super::app::{TestApp, TestResponse};
use super::loops::id_of;
use super::rounds::run_round;

/// A live rubric criterion, in rubric order.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Criterion {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub anchors: Vec<String>,
}

/// The criteria a scorecard of `round` has: its kind's rubric, for its loop's level.
pub async fn criteria_of_round(app: &TestApp, round: &str) -> Vec<Criterion> {
    let criteria: Vec<Criterion> = sqlx::query_as(
        "select c.id, c.slug, c.name, c.anchors from rubric_criteria c join rubrics rb on rb.id = c.rubric_id
         join rounds r on r.kind = rb.kind join loops l on l.id = r.loop_id
         where r.id = $1 and not c.retired and (cardinality(c.levels) = 0 or l.level = any(c.levels))
         order by c.position",
    )
    .bind(id_of(round))
    .fetch_all(&app.db)
    .await
    .expect("criteria");
    assert!(criteria.len() >= 4, "the round's rubric has its criteria");
    criteria
}

/// The ids of the criteria a scorecard of the round `round` has, in rubric order.
pub async fn criterion_ids(db: &PgPool, round: Uuid) -> Vec<Uuid> {
    sqlx::query_scalar(
        "select c.id from rubric_criteria c join rubrics rb on rb.id = c.rubric_id
         join rounds r on r.kind = rb.kind join loops l on l.id = r.loop_id
         where r.id = $1 and not c.retired and (cardinality(c.levels) = 0 or l.level = any(c.levels))
         order by c.position",
    )
    .bind(round)
    .fetch_all(db)
    .await
    .expect("criteria")
}

/// A scorecard form: criterion `i` gets `scores[i % scores.len()]` and the
/// evidence "Evidence for <slug>".
pub fn scorecard_form(
    criteria: &[Criterion],
    scores: &[&str],
    recommendation: &str,
    intent: &str,
) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> = criteria
        .iter()
        .enumerate()
        .flat_map(|(index, c)| {
            [
                (format!("score_{}", c.id), scores[index % scores.len()].to_owned()),
                (format!("evidence_{}", c.id), format!("Evidence for {}", c.slug)),
            ]
        })
        .collect();
    form.extend([
        ("recommendation".to_owned(), recommendation.to_owned()),
        ("summary".to_owned(), "Solid round overall.".to_owned()),
        ("strengths".to_owned(), "Clear reasoning out loud.".to_owned()),
        ("areas_to_improve".to_owned(), "Test edge cases earlier.".to_owned()),
        ("intent".to_owned(), intent.to_owned()),
    ]);
    form
}

/// A draft scorecard: the first criterion scored 2 with `evidence`, and `summary`.
pub fn draft_form(criteria: &[Criterion], summary: &str, evidence: &str) -> Vec<(String, String)> {
    vec![
        (format!("score_{}", criteria[0].id), "2".to_owned()),
        (format!("evidence_{}", criteria[0].id), evidence.to_owned()),
        ("summary".to_owned(), summary.to_owned()),
        ("intent".to_owned(), "save".to_owned()),
    ]
}

/// Replaces (or adds) the value of `name` in a form.
pub fn set(form: &mut Vec<(String, String)>, name: &str, value: &str) {
    match form.iter_mut().find(|(key, _)| key == name) {
        Some(pair) => pair.1 = value.to_owned(),
        None => form.push((name.to_owned(), value.to_owned())),
    }
}

/// A form of owned pairs as the borrowed pairs the client sends.
pub fn pairs(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Posts the assessment form of `round` as a plain form post.
pub async fn post_assessment(app: &TestApp, cookie: &str, round: &str, form: &[(String, String)]) -> TestResponse {
    app.post_form(&format!("{round}/assessment"), &pairs(form), Some(cookie)).await
}

/// Submits a complete scorecard of a started round with `scores` and `recommendation`.
pub async fn submit_assessment(app: &TestApp, cookie: &str, round: &str, scores: &[&str], recommendation: &str) {
    let criteria = criteria_of_round(app, round).await;
    let response =
        post_assessment(app, cookie, round, &scorecard_form(&criteria, scores, recommendation, "submit")).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the scorecard is submitted: {}", response.body);
}

/// Runs `round` and submits a complete self-assessment with `scores` and `recommendation`.
pub async fn run_and_assess(app: &TestApp, cookie: &str, round: &str, scores: &[&str], recommendation: &str) {
    run_round(app, cookie, round).await;
    submit_assessment(app, cookie, round, scores, recommendation).await;
}

/// A complete scorecard for `round` (scores 3 and 2) with `summary`, submitted.
pub async fn submit_card(app: &TestApp, cookie: &str, round: &str, summary: &str, recommendation: &str) {
    let criteria = criteria_of_round(app, round).await;
    let mut form = scorecard_form(&criteria, &["3", "2"], recommendation, "submit");
    set(&mut form, "summary", summary);
    let response = post_assessment(app, cookie, round, &form).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the scorecard is submitted: {}", response.body);
}
