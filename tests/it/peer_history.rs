//! Peer history: self-versus-interviewer gaps and interviewer calibration.

use axum::http::StatusCode;

use crate::helpers::TestApp;
use crate::rounds::timer;
use crate::scorecards::submit_assessment;

/// A peer loop of `template` with `interviewers[i]` interviewing round i+1.
async fn peer_loop(app: &TestApp, candidate: &str, interviewers: &[&str], key: &str) -> (String, Vec<String>) {
    let created = app
        .post_form(
            "/loops",
            &[
                ("template", "mle-onsite-5"),
                ("team", "siri-nlp"),
                ("level", "junior_mid"),
                ("mode", "peer"),
                ("starts_at", "2026-12-02T10:00"),
                ("time_zone", "UTC"),
                ("break_minutes", "5"),
                ("request_key", key),
            ],
            Some(candidate),
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let loop_path = created.header("location").to_owned();
    let ids: Vec<uuid::Uuid> = sqlx::query_scalar(
        "select r.id from rounds r join loops l on l.id = r.loop_id where l.id = $1::uuid order by r.position",
    )
    .bind(loop_path.trim_start_matches("/loops/"))
    .fetch_all(&app.db)
    .await
    .expect("rounds");
    for (index, interviewer) in interviewers.iter().enumerate() {
        let id = ids[index].to_string();
        let page = app.post_form(&format!("{loop_path}/invitations"), &[("round", id.as_str())], Some(candidate)).await;
        let start = page.body.find("/invite/").expect("a link");
        let invite: String = page.body[start..].chars().take_while(|c| *c != '"').collect();
        let accepted = app.post_form(&invite, &[], Some(interviewer)).await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    }
    (loop_path, ids.iter().map(|id| format!("/rounds/{id}")).collect())
}

#[tokio::test]
async fn the_candidate_sees_their_gap_to_the_interviewer_and_the_interviewer_sees_calibration() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("gapcand").await;
    let generous = app.sign_up("generous").await;
    let strict = app.sign_up("strict").await;
    let (_, rounds) = peer_loop(&app, &candidate, &[&generous, &strict], "4c4c2a1e-0b7a-4d6e-9a55-000000000001").await;

    timer(&app, &generous, &rounds[0], "start").await;
    timer(&app, &generous, &rounds[0], "end").await;
    timer(&app, &strict, &rounds[1], "start").await;
    timer(&app, &strict, &rounds[1], "end").await;
    submit_assessment(&app, &generous, &rounds[0], &["4"; 6], "strong_hire").await;
    // Sealed until both are in: the interviewer does not see the self-assessment yet.
    submit_assessment(&app, &candidate, &rounds[0], &["2"; 6], "no_hire").await;
    let feedback = app.get(&format!("{}/feedback", rounds[0]), Some(&candidate)).await.body;
    assert!(feedback.contains("id=\"self-vs-interviewer\""), "both submitted: side by side");
    assert!(feedback.contains("-2 (you scored lower)"), "{feedback}");
    submit_assessment(&app, &strict, &rounds[1], &["1"; 6], "no_hire").await;

    let history = app.get("/history", Some(&candidate)).await.body;
    assert!(history.contains("id=\"gap-progress\""), "the gap is charted");

    let calibration = app.get("/history", Some(&generous)).await.body;
    assert!(calibration.contains("id=\"calibration\""));
    assert!(calibration.contains("3.0 higher than"), "4 against the other interviewer's 1: {calibration}");
    let strict_view = app.get("/history", Some(&strict)).await.body;
    assert!(strict_view.contains("3.0 lower than"));
}

#[tokio::test]
async fn the_interviewer_keeps_the_rubric_in_view_and_sees_the_hints_they_gave_on_the_scorecard() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("rubcand").await;
    let interviewer = app.sign_up("rubint").await;
    let (_, rounds) = peer_loop(&app, &candidate, &[&interviewer], "4c4c2a1e-0b7a-4d6e-9a55-000000000002").await;
    let round = &rounds[0];
    let interviewer_page = app.get(round, Some(&interviewer)).await.body;
    assert!(interviewer_page.contains("id=\"rubric\""), "the rubric is on the interviewer's page");
    timer(&app, &interviewer, round, "start").await;
    assert!(!app.get(round, Some(&candidate)).await.body.contains("id=\"rubric\""));

    let first_hint: String = sqlx::query_scalar(
        "select q.hints[1] from round_questions rq join questions q on q.id = rq.question_id where rq.round_id = $1::uuid",
    )
    .bind(round.trim_start_matches("/rounds/"))
    .fetch_one(&app.db)
    .await
    .expect("hint");
    let marked = app.post_form(&format!("{round}/marks"), &[("hint_1_0", "on")], Some(&interviewer)).await;
    assert_eq!(marked.status, StatusCode::SEE_OTHER);
    let scorecard = app.get(&format!("{round}/assessment"), Some(&interviewer)).await.body;
    let escaped = crate::loops::escape_html(&first_hint);
    assert!(scorecard.contains("id=\"given\"") && scorecard.contains(&escaped), "the scorecard lists the hint given");
    let own = app.get(&format!("{round}/assessment"), Some(&candidate)).await.body;
    assert!(!own.contains(&escaped), "the candidate's self-assessment page does not");
}

#[tokio::test]
async fn the_interviewer_finds_their_rounds_on_the_dashboard() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("dashcand").await;
    let interviewer = app.sign_up("dashint").await;
    let (_, rounds) = peer_loop(&app, &candidate, &[&interviewer], "4c4c2a1e-0b7a-4d6e-9a55-000000000003").await;
    let home = app.get("/", Some(&interviewer)).await.body;
    assert!(home.contains("id=\"interviews\"") && home.contains(&format!("href=\"{}\"", rounds[0])), "{home}");
    assert!(!app.get("/", Some(&candidate)).await.body.contains("id=\"interviews\""));
}
