//! Self-assessment scorecards: drafts, validation, submission, amendments.

use axum::http::StatusCode;

use mockloop::domain::RoundKind;

use crate::support::html::escape_html;
use crate::support::rounds::run_round;
use crate::support::scorecards::{
    Criterion, criteria_of_round, pairs, post_assessment, run_and_assess, scorecard_form, set, submit_assessment,
};
use crate::support::{LoopBuilder, ScheduledLoop, TestApp, id_of};

async fn card_status(app: &TestApp, round: &str) -> Option<String> {
    sqlx::query_scalar("select status from scorecards where round_id = $1 and role = 'self'")
        .bind(id_of(round))
        .fetch_optional(&app.db)
        .await
        .expect("scorecard status")
}

/// A started phone-screen round and its rubric.
async fn started_round(app: &TestApp, cookie: &str) -> (String, Vec<Criterion>) {
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(cookie).started(app).await;
    let criteria = criteria_of_round(app, &rounds[0]).await;
    (rounds[0].clone(), criteria)
}

#[tokio::test]
async fn assessing_a_round_before_it_starts_is_refused() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("eager").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
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

    let page = app.get(&format!("{round}/assessment"), Some(&cookie)).await.page();
    assert!(page.has(&format!("input[name='score_{}'][value='3'][checked]", first.id)), "the score is kept");
    assert_eq!(page.field_value(&format!("[id='evidence_{}']", first.id)), "Named the invariant before coding.");
    assert_eq!(page.field_value("#summary"), "Half done");
    assert_eq!(page.text_of("#scorecard-status"), "Draft saved");
    assert_eq!(page.attr("#scorecard-status", "aria-live").as_deref(), Some("polite"));

    let autosave = app.post_json(&format!("{round}/assessment"), &pairs(&form), Some(&cookie)).await;
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
    let page = response.page();
    assert!(page.has("#form-errors"));
    let marked = format!("#criterion-{}", missing.slug);
    assert_eq!(
        page.attr(&marked, "class").as_deref(),
        Some("criterion field-invalid"),
        "the unanswered criterion is marked"
    );
    assert_eq!(page.count(".field-invalid"), 1, "only that one");
    assert_eq!(page.text_of(&format!("{marked} .field-error")), "Choose a score, or \"not assessed\".");
    assert!(page.has(&format!("input[name='score_{}'][value='3'][checked]", criteria[0].id)), "answers kept");

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
    let message = response.page().text_of(&format!("#criterion-{} .field-error", criteria[1].slug));
    assert_eq!(message, "Write the evidence behind this score.", "at the criterion without evidence");
    assert_eq!(card_status(&app, &round).await.as_deref(), Some("draft"));

    let mut no_recommendation = scorecard_form(&criteria, &["2"], "", "submit");
    set(&mut no_recommendation, "recommendation", "maybe");
    let response = post_assessment(&app, &cookie, &round, &no_recommendation).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "there is no neutral recommendation");
    assert_eq!(response.page().text_of("#recommendation-group .field-error"), "Choose an overall recommendation.");
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
    let page = app.get(&format!("{round}/assessment"), Some(&cookie)).await.page();
    assert!(page.has("#submitted-note") && page.has("#scorecard-amend"));
    assert!(!page.has("#scorecard-submit"));
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

    let note = app.get(&format!("{round}/assessment"), Some(&cookie)).await.page().text_of("#submitted-note");
    assert!(note.contains(" Amended "), "the page says when it was amended: {note}");

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
        let message = response.page().text_of(&format!("#criterion-{} .field-error", criteria[0].slug));
        assert_eq!(message, "Choose 1 to 4, or \"not assessed\".", "score {bad}");
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

    let page = app.get(&format!("{round}/assessment"), Some(&cookie)).await.page();
    assert!(page.has(&format!("input[name='score_{}'][value=na][checked]", criteria[0].id)));
}

#[tokio::test]
async fn the_round_page_links_to_the_self_assessment_once_it_ends() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("linker").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    run_round(&app, &cookie, &rounds[0]).await;
    let page = app.get(&rounds[0], Some(&cookie)).await.page();
    assert_eq!(page.attr("#self-assess", "href"), Some(format!("{}/assessment", rounds[0])));
    assert_eq!(page.text_of("#self-assess"), "Assess yourself");
    submit_assessment(&app, &cookie, &rounds[0], &["2"], "no_hire").await;
    let page = app.get(&rounds[0], Some(&cookie)).await.page();
    assert_eq!(page.text_of("#self-assess"), "View your self-assessment");
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
    let autosave = app.post_json(&format!("{round}/assessment"), &pairs(&bad), Some(&cookie)).await;
    assert_ne!(autosave.body, r#"{"saved":true}"#, "an autosave with a refused score does not claim to be saved");
}

#[tokio::test]
async fn a_criterion_retired_from_its_rubric_keeps_its_score_on_the_cards_that_scored_it() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("retiree").await;
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let round = &rounds[0];
    let criteria = criteria_of_round(&app, round).await;
    run_and_assess(&app, &cookie, round, &["3"], "hire").await;

    // The rubric file loses its last criterion (as an operator's edit would) and is imported again.
    let mut bundle = mockloop::content::shipped().expect("the built-in content");
    bundle.questions.clear();
    bundle.templates.clear();
    bundle.rubrics.retain(|rubric| rubric.kind == RoundKind::Coding);
    let retired = bundle.rubrics[0].criteria.pop().expect("a criterion");
    bundle.rubrics[0].content_hash = "edited".into();
    let mut tx = app.db.begin().await.expect("transaction");
    mockloop::db::content::import(&mut tx, &bundle).await.expect("import");
    tx.commit().await.expect("commit");
    assert_eq!(app.count("select count(*) from rubric_criteria where retired").await, 1);

    let page = app.get(&format!("{round}/feedback"), Some(&cookie)).await.page();
    assert_eq!(page.count("#card-1-self tbody tr"), criteria.len(), "the card reads as it was written");
    assert!(page.text_of("#card-1-self").contains(&retired.name), "{} keeps its score", retired.name);

    // A new card has the live criteria only.
    let ScheduledLoop { rounds, .. } = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let form = app.get(&format!("{}/assessment", rounds[0]), Some(&cookie)).await;
    assert!(!form.body.contains(&format!("id=\"criterion-{}\"", retired.slug)), "a retired criterion is not asked");
    assert!(!form.body.contains(&escape_html(&retired.description)));
}

#[tokio::test]
async fn a_senior_behavioral_scorecard_has_the_leadership_criterion_and_a_junior_one_does_not() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("leveller").await;
    for (level, leads) in [("senior_staff", true), ("junior_mid", false)] {
        let ScheduledLoop { rounds, .. } =
            LoopBuilder::self_timed("phone-screen-resume").level(level).for_user(&cookie).schedule(&app).await;
        let round = &rounds[0];
        run_round(&app, &cookie, round).await;
        let form = app.get(&format!("{round}/assessment"), Some(&cookie)).await.page();
        assert_eq!(form.has("#criterion-leadership-mentoring"), leads, "{level}");
        let criteria = criteria_of_round(&app, round).await;
        assert_eq!(criteria.len(), if leads { 6 } else { 5 }, "{level}");
        let submitted =
            post_assessment(&app, &cookie, round, &scorecard_form(&criteria, &["4", "2"], "hire", "submit")).await;
        assert_eq!(submitted.status, StatusCode::SEE_OTHER, "{}", submitted.body);

        // Feedback covers the card's own criteria, and shows each question's calibration for the loop's level.
        let feedback = app.get(&format!("{round}/feedback"), Some(&cookie)).await.page();
        assert_eq!(feedback.count("#card-1-self tbody tr"), criteria.len(), "{level}");
        let label = if leads { "This loop's level, Senior / staff:" } else { "This loop's level, Junior / mid:" };
        let calibration = feedback.text_of("#calibration-1");
        assert!(
            calibration.contains("1 vs 2:") && calibration.contains("3 vs 4:") && calibration.contains(label),
            "{calibration}"
        );
    }
}
