//! Peer history: self-versus-interviewer gaps and interviewer calibration.

use axum::http::StatusCode;

use mockloop::domain::markdown::render_inline;

use crate::support::html::{escape_html, rendered_text};
use crate::support::loops::id_of;
use crate::support::rounds::{run_round, start_round};
use crate::support::scorecards::{criteria_of_round, draft_form, post_assessment, submit_assessment};
use crate::support::{LoopBuilder, TestApp};

/// A five-round peer loop of `candidate`'s with `interviewers[i]` interviewing round i+1.
async fn peer_loop(app: &TestApp, candidate: &str, interviewers: &[&String]) -> Vec<String> {
    let scheduled = LoopBuilder::peer("mle-onsite-5")
        .team("siri-nlp")
        .level("junior_mid")
        .starts_at("2026-12-02T10:00")
        .time_zone("UTC")
        .break_minutes("5")
        .for_user(candidate)
        .interviewed_by(interviewers)
        .schedule(app)
        .await;
    scheduled.rounds
}

#[tokio::test]
async fn the_candidate_sees_their_gap_to_the_interviewer_and_the_interviewer_sees_calibration() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("gapcand").await;
    let generous = app.sign_up("generous").await;
    let strict = app.sign_up("strict").await;
    let rounds = peer_loop(&app, &candidate, &[&generous, &strict]).await;

    run_round(&app, &generous, &rounds[0]).await;
    run_round(&app, &strict, &rounds[1]).await;
    submit_assessment(&app, &generous, &rounds[0], &["4"; 6], "strong_hire").await;
    // Sealed until both are in: the interviewer does not see the self-assessment yet.
    submit_assessment(&app, &candidate, &rounds[0], &["2"; 6], "no_hire").await;
    let feedback = app.get(&format!("{}/feedback", rounds[0]), Some(&candidate)).await.page();
    let side_by_side = feedback.text_of("#self-vs-interviewer");
    assert!(side_by_side.contains("-2 (you scored lower)"), "both submitted: side by side: {side_by_side}");
    submit_assessment(&app, &strict, &rounds[1], &["1"; 6], "no_hire").await;

    assert!(app.get("/history", Some(&candidate)).await.page().has("#gap-progress"), "the gap is charted");

    let calibration = app.get("/history", Some(&generous)).await.page().text_of("#calibration");
    assert!(calibration.contains("3.0 higher than"), "4 against the other interviewer's 1: {calibration}");
    let strict_view = app.get("/history", Some(&strict)).await.page().text_of("#calibration");
    assert!(strict_view.contains("3.0 lower than"), "{strict_view}");
}

#[tokio::test]
async fn the_interviewer_keeps_the_rubric_in_view_and_sees_the_hints_they_gave_on_the_scorecard() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("rubcand").await;
    let interviewer = app.sign_up("rubint").await;
    let rounds = peer_loop(&app, &candidate, &[&interviewer]).await;
    let round = &rounds[0];
    assert!(app.get(round, Some(&interviewer)).await.page().has("#rubric"), "the rubric is on the interviewer's page");
    start_round(&app, &interviewer, round).await;
    assert!(!app.get(round, Some(&candidate)).await.page().has("#rubric"));

    let first_hint: String = sqlx::query_scalar(
        "select q.hints[1] from round_questions rq join questions q on q.id = rq.question_id where rq.round_id = $1::uuid",
    )
    .bind(round.trim_start_matches("/rounds/"))
    .fetch_one(&app.db)
    .await
    .expect("hint");
    let marked = app.post_form(&format!("{round}/marks"), &[("hint_1_0", "on")], Some(&interviewer)).await;
    assert_eq!(marked.status, StatusCode::SEE_OTHER);
    let scorecard = app.get(&format!("{round}/assessment"), Some(&interviewer)).await.page();
    assert!(scorecard.text_of("#given").contains(&rendered_text(&first_hint)), "the scorecard lists the hint given");
    let own = app.get(&format!("{round}/assessment"), Some(&candidate)).await.body;
    assert!(
        !own.contains(&escape_html(&first_hint)) && !own.contains(&render_inline(&first_hint)),
        "the candidate's self-assessment page does not"
    );
}

#[tokio::test]
async fn the_interviewer_finds_their_rounds_on_the_dashboard() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("dashcand").await;
    let interviewer = app.sign_up("dashint").await;
    let rounds = peer_loop(&app, &candidate, &[&interviewer]).await;
    let home = app.get("/", Some(&interviewer)).await.page();
    assert!(home.attrs("#interviews a", "href").contains(&rounds[0]), "the interviews list links to the round");
    assert!(!app.get("/", Some(&candidate)).await.page().has("#interviews"));
}

/// `cookie`'s history page: its ETag and body, checking a revisit with the ETag is a 304.
async fn history_version(app: &TestApp, cookie: &str) -> (String, String) {
    let page = app.get("/history", Some(cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let etag = page.header("etag").to_owned();
    let request = axum::http::Request::get("/history")
        .header("cookie", cookie)
        .header("if-none-match", &etag)
        .body(axum::body::Body::empty())
        .expect("request");
    assert_eq!(app.send(request).await.status, StatusCode::NOT_MODIFIED, "unchanged, the kept page revalidates");
    (etag, page.body)
}

#[tokio::test]
async fn a_kept_history_page_changes_for_every_participant_when_what_it_shows_changes() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("keptcand").await;
    let first = app.sign_up("keptone").await;
    let second = app.sign_up("kepttwo").await;
    let rounds = peer_loop(&app, &candidate, &[&first, &second]).await;
    run_round(&app, &first, &rounds[0]).await;
    run_round(&app, &second, &rounds[1]).await;
    // A begun draft is a stage of blind scoring; typing more into it is on no one's history.
    let criteria = criteria_of_round(&app, &rounds[0]).await;
    let save_draft = async |summary: &str| {
        let draft = post_assessment(&app, &first, &rounds[0], &draft_form(&criteria, summary, "so far")).await;
        assert_eq!(draft.status, StatusCode::SEE_OTHER, "draft saved: {}", draft.body);
    };
    save_draft("begun").await;
    let people = [&candidate, &first, &second];
    let mut seen = Vec::new();
    for cookie in people {
        seen.push(history_version(&app, cookie).await);
    }
    save_draft("typing on").await;
    for (cookie, (etag, _)) in people.iter().zip(&seen) {
        assert_eq!(&history_version(&app, cookie).await.0, etag, "a draft changes no history page");
    }

    // Each submission reaches all three: the other interviewer's calibration reads it too.
    submit_assessment(&app, &first, &rounds[0], &["4"; 6], "strong_hire").await;
    submit_assessment(&app, &second, &rounds[1], &["1"; 6], "no_hire").await;
    for (cookie, (etag, _)) in people.iter().zip(&seen) {
        assert_ne!(&history_version(&app, cookie).await.0, etag, "a submission changes every participant's page");
    }
    let calibration = app.get("/history", Some(&first)).await.page().text_of("#calibration");
    assert!(calibration.contains("3.0 higher than"), "the kept page was not served stale: {calibration}");

    // Cancelling the loop shows on every participant's page at once.
    let loop_id: uuid::Uuid = sqlx::query_scalar("select loop_id from rounds where id = $1")
        .bind(id_of(&rounds[0]))
        .fetch_one(&app.db)
        .await
        .expect("the round's loop");
    let cancelled = app.post_form(&format!("/loops/{loop_id}/cancel"), &[], Some(&candidate)).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER, "cancelled: {}", cancelled.body);
    for cookie in people {
        let lines = app.get("/history", Some(cookie)).await.page().text_of("#history-loops");
        assert!(lines.contains("Cancelled"), "every participant sees the cancellation: {lines}");
    }
}
