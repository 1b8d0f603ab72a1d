//! Self-assessment scorecards: drafts, validation, submission, amendments.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::helpers::{TestApp, TestResponse};
use crate::loops::{id_of, schedule_loop};
use crate::rounds::{run_round, timer};

/// A live rubric criterion, in rubric order.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct Criterion {
    pub id: Uuid,
    pub slug: String,
    pub name: String,
    pub anchors: Vec<String>,
}

/// The live criteria of the rubric for rounds of `kind`.
pub(crate) async fn criteria(app: &TestApp, kind: &str) -> Vec<Criterion> {
    let criteria: Vec<Criterion> = sqlx::query_as(
        "select c.id, c.slug, c.name, c.anchors from rubric_criteria c join rubrics r on r.id = c.rubric_id
         where r.kind = $1 and not c.retired order by c.position",
    )
    .bind(kind)
    .fetch_all(&app.db)
    .await
    .expect("criteria");
    assert!(criteria.len() >= 4, "the {kind} rubric has its criteria");
    criteria
}

/// The criteria of the rubric that applies to `round`.
pub(crate) async fn criteria_of_round(app: &TestApp, round: &str) -> Vec<Criterion> {
    let kind: String = sqlx::query_scalar("select kind from rounds where id = $1")
        .bind(id_of(round))
        .fetch_one(&app.db)
        .await
        .expect("round kind");
    criteria(app, &kind).await
}

/// A scorecard form: criterion `i` gets `scores[i % scores.len()]` and the
/// evidence "Evidence for <slug>".
pub(crate) fn scorecard_form(
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

/// Replaces (or adds) the value of `name` in a form.
pub(crate) fn set(form: &mut Vec<(String, String)>, name: &str, value: &str) {
    match form.iter_mut().find(|(key, _)| key == name) {
        Some(pair) => pair.1 = value.to_owned(),
        None => form.push((name.to_owned(), value.to_owned())),
    }
}

pub(crate) async fn post_assessment(
    app: &TestApp,
    cookie: &str,
    round: &str,
    form: &[(String, String)],
) -> TestResponse {
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post_form(&format!("{round}/assessment"), &pairs, Some(cookie)).await
}

/// Runs `round` and submits a complete self-assessment with `scores` and `recommendation`.
pub(crate) async fn run_and_assess(app: &TestApp, cookie: &str, round: &str, scores: &[&str], recommendation: &str) {
    run_round(app, cookie, round).await;
    submit_assessment(app, cookie, round, scores, recommendation).await;
}

/// Submits a complete self-assessment of a started round.
pub(crate) async fn submit_assessment(app: &TestApp, cookie: &str, round: &str, scores: &[&str], recommendation: &str) {
    let criteria = criteria_of_round(app, round).await;
    let response =
        post_assessment(app, cookie, round, &scorecard_form(&criteria, scores, recommendation, "submit")).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the scorecard is submitted: {}", response.body);
}

async fn card_status(app: &TestApp, round: &str) -> Option<String> {
    sqlx::query_scalar("select status from scorecards where round_id = $1 and role = 'self'")
        .bind(id_of(round))
        .fetch_optional(&app.db)
        .await
        .expect("scorecard status")
}

/// A started phone-screen round and its rubric.
async fn started_round(app: &TestApp, cookie: &str) -> (String, Vec<Criterion>) {
    let (_, rounds) = schedule_loop(app, cookie, "phone-screen").await;
    let round = rounds[0].clone();
    let (status, json) = timer(app, cookie, &round, "start").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let criteria = criteria_of_round(app, &round).await;
    (round, criteria)
}

#[tokio::test]
async fn assessing_a_round_before_it_starts_is_refused() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("eager").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    let criteria = criteria_of_round(&app, &rounds[0]).await;
    for intent in ["save", "submit"] {
        let response =
            post_assessment(&app, &cookie, &rounds[0], &scorecard_form(&criteria, &["3"], "hire", intent)).await;
        assert_eq!(response.status, StatusCode::CONFLICT, "{intent}");
        assert!(response.body.contains("Start the round before assessing it."));
    }
    assert_eq!(app.count("select count(*) from scorecards").await, 0);
}

#[tokio::test]
async fn a_saved_draft_is_kept_as_a_draft_and_shown_again() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("drafter").await;
    let (round, criteria) = started_round(&app, &cookie).await;
    let first = &criteria[0];
    let form = vec![
        (format!("score_{}", first.id), "3".to_owned()),
        (format!("evidence_{}", first.id), "Named the invariant before coding.".to_owned()),
        ("summary".to_owned(), "Half done".to_owned()),
        ("intent".to_owned(), "save".to_owned()),
    ];
    let saved = post_assessment(&app, &cookie, &round, &form).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(saved.header("location"), format!("{round}/assessment"));
    assert_eq!(card_status(&app, &round).await.as_deref(), Some("draft"));

    let page = app.get(&format!("{round}/assessment"), Some(&cookie)).await.body;
    assert!(page.contains(&format!(r#"name="score_{}" value="3" checked"#, first.id)), "the score is kept");
    assert!(page.contains(">Named the invariant before coding.</textarea>"));
    assert!(page.contains(">Half done</textarea>"));
    assert!(page.contains(r#"id="scorecard-status" aria-live="polite">Draft saved<"#));

    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let autosave = app
        .post_form_with(
            &format!("{round}/assessment"),
            &pairs,
            Some(&cookie),
            &[("sec-fetch-site", "same-origin"), ("accept", "application/json")],
        )
        .await;
    assert_eq!(autosave.status, StatusCode::OK);
    assert_eq!(autosave.body, r#"{"saved":true}"#);
    assert_eq!(app.count("select count(*) from scorecards").await, 1, "still one scorecard");
}

#[tokio::test]
async fn submitting_with_a_criterion_unanswered_names_it_and_keeps_the_draft() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("forgetful").await;
    let (round, criteria) = started_round(&app, &cookie).await;
    let missing = criteria.last().expect("a criterion");
    let mut form = scorecard_form(&criteria, &["3"], "hire", "submit");
    form.retain(|(key, _)| *key != format!("score_{}", missing.id));

    let response = post_assessment(&app, &cookie, &round, &form).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains(r#"id="form-errors""#));
    assert!(
        response
            .body
            .contains(&format!(r#"<fieldset class="criterion field-invalid" id="criterion-{}">"#, missing.slug)),
        "the unanswered criterion is marked: {}",
        response.body
    );
    assert_eq!(response.body.matches("field-invalid").count(), 1, "only that one");
    assert!(response.body.contains("Choose a score, or &#34;not assessed&#34;."));
    assert!(response.body.contains(&format!(r#"name="score_{}" value="3" checked"#, criteria[0].id)), "answers kept");

    assert_eq!(card_status(&app, &round).await.as_deref(), Some("draft"), "the draft is kept");
    assert_eq!(app.count("select count(*) from criterion_scores where score = 3").await, criteria.len() as i64 - 1);
}

#[tokio::test]
async fn a_score_without_evidence_is_refused() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("vague").await;
    let (round, criteria) = started_round(&app, &cookie).await;
    let mut form = scorecard_form(&criteria, &["2"], "no_hire", "submit");
    set(&mut form, &format!("evidence_{}", criteria[1].id), "   ");

    let response = post_assessment(&app, &cookie, &round, &form).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Write the evidence behind this score."), "{}", response.body);
    assert!(response.body.contains(&format!(r#"id="criterion-{}">"#, criteria[1].slug)));
    assert_eq!(card_status(&app, &round).await.as_deref(), Some("draft"));

    let mut no_recommendation = scorecard_form(&criteria, &["2"], "", "submit");
    set(&mut no_recommendation, "recommendation", "maybe");
    let response = post_assessment(&app, &cookie, &round, &no_recommendation).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "there is no neutral recommendation");
    assert!(response.body.contains("Choose an overall recommendation."));
    assert_eq!(card_status(&app, &round).await.as_deref(), Some("draft"));
}

#[tokio::test]
async fn a_complete_submission_locks_the_scorecard() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("decisive").await;
    let (round, criteria) = started_round(&app, &cookie).await;
    let response =
        post_assessment(&app, &cookie, &round, &scorecard_form(&criteria, &["3", "4"], "hire", "submit")).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.header("location"), format!("{round}/feedback"));
    let (status, submitted_at, recommendation): (String, Option<chrono::DateTime<chrono::Utc>>, Option<String>) =
        sqlx::query_as("select status, submitted_at, recommendation from scorecards where round_id = $1")
            .bind(id_of(&round))
            .fetch_one(&app.db)
            .await
            .expect("scorecard");
    assert_eq!(status, "submitted");
    assert!(submitted_at.is_some());
    assert_eq!(recommendation.as_deref(), Some("hire"));

    let mut change = scorecard_form(&criteria, &["1"], "strong_no_hire", "save");
    set(&mut change, "summary", "Changed my mind");
    let later = post_assessment(&app, &cookie, &round, &change).await;
    assert_eq!(later.status, StatusCode::CONFLICT);
    assert!(later.body.contains("use &#34;Amend&#34; to change it"), "{}", later.body);
    set(&mut change, "intent", "submit");
    assert_eq!(post_assessment(&app, &cookie, &round, &change).await.status, StatusCode::CONFLICT);

    let (recommendation, summary): (Option<String>, String) =
        sqlx::query_as("select recommendation, summary from scorecards where round_id = $1")
            .bind(id_of(&round))
            .fetch_one(&app.db)
            .await
            .expect("scorecard");
    assert_eq!((recommendation.as_deref(), summary.as_str()), (Some("hire"), "Solid round overall."));
    assert_eq!(app.count("select count(*) from criterion_scores where score = 1").await, 0, "scores unchanged");
    let page = app.get(&format!("{round}/assessment"), Some(&cookie)).await.body;
    assert!(page.contains(r#"id="submitted-note""#) && page.contains(r#"id="scorecard-amend""#));
    assert!(!page.contains(r#"id="scorecard-submit""#));
}

#[tokio::test]
async fn an_amendment_changes_a_submitted_scorecard_and_records_what_it_said() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("reconsider").await;
    let (round, criteria) = started_round(&app, &cookie).await;
    let submitted = post_assessment(&app, &cookie, &round, &scorecard_form(&criteria, &["3"], "hire", "submit")).await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER);

    let mut amended = scorecard_form(&criteria, &["4"], "strong_hire", "amend");
    set(&mut amended, "summary", "On reflection, excellent.");
    let response = post_assessment(&app, &cookie, &round, &amended).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.header("location"), format!("{round}/feedback"));

    let (status, recommendation, summary): (String, Option<String>, String) =
        sqlx::query_as("select status, recommendation, summary from scorecards where round_id = $1")
            .bind(id_of(&round))
            .fetch_one(&app.db)
            .await
            .expect("scorecard");
    assert_eq!(status, "submitted");
    assert_eq!((recommendation.as_deref(), summary.as_str()), (Some("strong_hire"), "On reflection, excellent."));
    assert_eq!(app.count("select count(*) from criterion_scores where score = 4").await, criteria.len() as i64);
    assert_eq!(app.count("select count(*) from scorecard_amendments").await, 1);
    let previous: (String, String, i64) = sqlx::query_as(
        "select previous->>'recommendation', previous->>'summary',
                (select count(*) from jsonb_array_elements(previous->'scores') s where (s->>'score')::int = 3)
         from scorecard_amendments",
    )
    .fetch_one(&app.db)
    .await
    .expect("amendment");
    assert_eq!(previous, ("hire".to_owned(), "Solid round overall.".to_owned(), criteria.len() as i64));

    let page = app.get(&format!("{round}/assessment"), Some(&cookie)).await.body;
    assert!(page.contains(" Amended "), "the page says when it was amended");

    let mut incomplete = scorecard_form(&criteria, &["4"], "strong_hire", "amend");
    set(&mut incomplete, &format!("score_{}", criteria[0].id), "");
    let refused = post_assessment(&app, &cookie, &round, &incomplete).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "an amendment must be complete too");
    assert_eq!(app.count("select count(*) from scorecard_amendments").await, 1);
}

#[tokio::test]
async fn scores_outside_one_to_four_are_refused() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("generous").await;
    let (round, criteria) = started_round(&app, &cookie).await;
    for (bad, intent) in [("5", "submit"), ("0", "submit"), ("0", "save"), ("-1", "save"), ("3.5", "submit")] {
        let mut form = scorecard_form(&criteria, &["3"], "hire", intent);
        set(&mut form, &format!("score_{}", criteria[0].id), bad);
        let response = post_assessment(&app, &cookie, &round, &form).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "score {bad} with {intent}");
        assert!(response.body.contains("Choose 1 to 4, or &#34;not assessed&#34;."), "score {bad}");
        assert_ne!(card_status(&app, &round).await.as_deref(), Some("submitted"), "score {bad}");
    }
    assert_eq!(app.count("select count(*) from criterion_scores where score not between 1 and 4").await, 0);
}

#[tokio::test]
async fn not_assessed_is_stored_as_not_assessed_and_needs_no_evidence() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("honest").await;
    let (round, criteria) = started_round(&app, &cookie).await;
    let mut form = scorecard_form(&criteria, &["3"], "hire", "submit");
    set(&mut form, &format!("score_{}", criteria[0].id), "na");
    set(&mut form, &format!("evidence_{}", criteria[0].id), "");
    let response = post_assessment(&app, &cookie, &round, &form).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);

    let (score, not_assessed): (Option<i16>, bool) =
        sqlx::query_as("select score, not_assessed from criterion_scores where criterion_id = $1")
            .bind(criteria[0].id)
            .fetch_one(&app.db)
            .await
            .expect("criterion score");
    assert_eq!((score, not_assessed), (None, true));
    assert_eq!(app.count("select count(*) from criterion_scores where not_assessed").await, 1);

    let page = app.get(&format!("{round}/assessment"), Some(&cookie)).await.body;
    assert!(page.contains(&format!(r#"name="score_{}" value="na" checked"#, criteria[0].id)));
}

#[tokio::test]
async fn the_round_page_links_to_the_self_assessment_once_it_ends() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("linker").await;
    let (_, rounds) = schedule_loop(&app, &cookie, "phone-screen").await;
    run_round(&app, &cookie, &rounds[0]).await;
    let page = app.get(&rounds[0], Some(&cookie)).await.body;
    assert!(page.contains(&format!(r#"href="{}/assessment" id="self-assess">Assess yourself<"#, rounds[0])));
    submit_assessment(&app, &cookie, &rounds[0], &["2"], "no_hire").await;
    let page = app.get(&rounds[0], Some(&cookie)).await.body;
    assert!(page.contains(r#"id="self-assess">View your self-assessment<"#));
}

#[tokio::test]
async fn an_out_of_range_score_does_not_wipe_the_answer_already_saved() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("careful").await;
    let (round, criteria) = started_round(&app, &cookie).await;
    let saved = post_assessment(&app, &cookie, &round, &scorecard_form(&criteria, &["3"], "hire", "save")).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);

    let mut bad = scorecard_form(&criteria, &["3"], "hire", "save");
    set(&mut bad, &format!("score_{}", criteria[0].id), "5");
    let refused = post_assessment(&app, &cookie, &round, &bad).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let score: Option<i16> = sqlx::query_scalar("select score from criterion_scores where criterion_id = $1")
        .bind(criteria[0].id)
        .fetch_one(&app.db)
        .await
        .expect("criterion score");
    assert_eq!(score, Some(3), "the saved 3 is kept, not replaced by \"unanswered\"");
    let pairs: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let autosave = app
        .post_form_with(
            &format!("{round}/assessment"),
            &pairs,
            Some(&cookie),
            &[("sec-fetch-site", "same-origin"), ("accept", "application/json")],
        )
        .await;
    assert_ne!(autosave.body, r#"{"saved":true}"#, "an autosave with a refused score does not claim to be saved");
}
