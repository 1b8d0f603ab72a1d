//! Withdrawing an interviewer: shut out of the loop, their draft dropped,
//! their submitted card kept and marked, a running clock passed on.

use std::time::Duration;

use axum::http::StatusCode;
use http_body_util::BodyExt;
use serde_json::Value;
use uuid::Uuid;

use super::feedback_seen_by;
use crate::support::live::{LiveClient, STREAM_END_LIMIT, read_for};
use crate::support::loops::{interviewers, invitation_of, withdraw};
use crate::support::rounds::{note_version, run_round, save_note, start_round, timer};
use crate::support::scorecards::{criteria_of_round, draft_form, post_assessment, submit_card};
use crate::support::{TestApp, id_of, peer_loop};

#[tokio::test]
async fn withdrawing_an_accepted_invitation_shuts_the_interviewer_out_drops_their_draft_and_marks_their_card() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let live = LiveClient::new(&app);
    let (r1, r2) = (&f.rounds[0], &f.rounds[1]);
    run_round(&app, &f.interviewer_a, r1).await;
    let verdict = format!("withdrawnverdict{}", Uuid::new_v4().simple());
    submit_card(&app, &f.interviewer_a, r1, &verdict, "hire").await;
    let self_view = format!("selfview{}", Uuid::new_v4().simple());
    submit_card(&app, &f.candidate, r1, &self_view, "hire").await;
    assert!(app.get(&format!("{r1}/feedback"), Some(&f.interviewer_a)).await.body.contains(&self_view));
    start_round(&app, &f.interviewer_b, r2).await;
    let b_draft = format!("bdraft{}", Uuid::new_v4().simple());
    let drafted =
        post_assessment(&app, &f.interviewer_b, r2, &draft_form(&criteria_of_round(&app, r2).await, &b_draft, "x"))
            .await;
    assert_eq!(drafted.status, StatusCode::SEE_OTHER, "{}", drafted.body);
    // Streams the interviewers opened before they were withdrawn.
    let a_stream = live.open(&format!("{r1}/events"), Some(&f.interviewer_a)).await;
    let b_stream = live.open(&format!("{r2}/events"), Some(&f.interviewer_b)).await;
    assert_eq!((a_stream.status(), b_stream.status()), (StatusCode::OK, StatusCode::OK));
    let (mut a_stream, mut b_stream) = (a_stream.into_body(), b_stream.into_body());
    for stream in [&mut a_stream, &mut b_stream] {
        let first = read_for(stream, Duration::from_millis(1000)).await;
        assert!(first.contains("event: timer") && !first.contains("event: gone"), "{first}");
    }

    // The candidate is asked first, and told what withdrawing does.
    let a_invitation = invitation_of(&app, r1).await;
    let asked =
        app.post_form(&format!("{}/invitations/{a_invitation}/revoke", f.loop_path), &[], Some(&f.candidate)).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert!(asked.page().has("#withdraw-confirmation"), "{}", asked.body);
    assert!(asked.body.contains("lose access to the loop") && asked.body.contains("draft scorecard is discarded"));
    assert!(interviewers(&app, &f.loop_path).await[0].is_some(), "nothing changes before the candidate confirms");
    withdraw(&app, &f.candidate, &f.loop_path, a_invitation).await;
    withdraw(&app, &f.candidate, &f.loop_path, invitation_of(&app, r2).await).await;
    assert_eq!(interviewers(&app, &f.loop_path).await, vec![None, None]);

    // Neither reads anything of the loop any more.
    let lp = &f.loop_path;
    let mut refused = 0;
    for (cookie, round) in [(&f.interviewer_a, r1), (&f.interviewer_b, r2)] {
        for path in [
            lp.clone(),
            format!("{lp}/feedback"),
            format!("{lp}/feedback.md"),
            format!("{lp}/feedback.json"),
            format!("{lp}/calendar.ics"),
            round.clone(),
            format!("{round}/state"),
            format!("{round}/assessment"),
            format!("{round}/feedback"),
        ] {
            let response = app.get(&path, Some(cookie)).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{path} after withdrawal: {}", response.body);
            refused += 1;
        }
        let events = live.first_events(&format!("{round}/events"), Some(cookie)).await;
        assert_eq!(events.status, StatusCode::NOT_FOUND, "a new stream is refused");
        let note = save_note(&app, cookie, round, "still here?", 0).await;
        assert_eq!(note.status, StatusCode::NOT_FOUND);
        refused += 2;
        for page in ["/history", "/calendar", "/"] {
            let body = app.get(page, Some(cookie)).await.body;
            assert!(!body.contains(&lp[7..]), "{page} no longer lists the loop");
        }
    }

    // The open streams deliver nothing new: the withdrawal (or the next change) tells
    // them the round is gone, or the 2 s access re-check ends them first; either way
    // they end within the promised limit.
    let later = format!("afterwithdrawal{}", Uuid::new_v4().simple());
    let version = note_version(&app.db, id_of(r1), "scratchpad").await;
    let saved = save_note(&app, &f.candidate, r1, &later, version).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    for (name, stream) in [("A", &mut a_stream), ("B", &mut b_stream)] {
        let read = read_for(stream, STREAM_END_LIMIT).await;
        let ended = matches!(tokio::time::timeout(Duration::from_millis(100), stream.frame()).await, Ok(None));
        assert!(read.contains("event: gone") || ended, "{name}'s stream neither said gone nor ended: {read}");
        assert!(!read.contains(&later), "the candidate's later notes reach withdrawn interviewer {name}: {read}");
    }

    // B's draft is gone; A's submitted card stays on the record, marked.
    let cards: Vec<(String, String, bool)> = sqlx::query_as(
        "select r.position::text, s.status, s.author_withdrawn_at is not null from scorecards s
         join rounds r on r.id = s.round_id where r.loop_id = $1 and s.role = 'interviewer' order by r.position",
    )
    .bind(id_of(lp))
    .fetch_all(&app.db)
    .await
    .expect("interviewer cards");
    assert_eq!(cards, vec![("1".to_owned(), "submitted".to_owned(), true)]);
    let candidate_sees = feedback_seen_by(&app, &f.candidate, lp, &[r1]).await;
    assert!(candidate_sees.contains(&verdict), "the withdrawn interviewer's card stays on the candidate's record");
    assert!(candidate_sees.contains(r#"id="card-1-withdrawn""#), "marked on the feedback pages");
    assert!(candidate_sees.contains("Withdrawn interviewer"), "and in the exports");
    assert!(!candidate_sees.contains(&b_draft));
    let json: Value =
        serde_json::from_str(&app.get(&format!("{lp}/feedback.json"), Some(&f.candidate)).await.body).expect("JSON");
    let cards = json["rounds"][0]["cards"].as_array().expect("round 1's cards");
    let card = cards.iter().find(|c| c["role"] == "interviewer").expect("the interviewer's card");
    assert_eq!(card["withdrawn_interviewer"], Value::Bool(true), "{json}");
    println!(
        "FIGURE withdrawal: {refused} pages, exports, calendars, streams and writes refused (404) to 2 withdrawn interviewers; \
         their 2 open streams told \"gone\" and sent nothing new; 1 submitted card kept and marked, 1 draft discarded"
    );
}

#[tokio::test]
async fn a_round_whose_interviewer_is_withdrawn_mid_round_passes_its_clock_to_the_candidate() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let (r1, r2) = (&f.rounds[0], &f.rounds[1]);
    start_round(&app, &f.interviewer_a, r1).await;
    assert_eq!(timer(&app, &f.candidate, r1, "pause").await.0, StatusCode::FORBIDDEN, "the interviewer's clock");

    withdraw(&app, &f.candidate, &f.loop_path, invitation_of(&app, r1).await).await;
    let page = app.get(r1, Some(&f.candidate)).await;
    assert!(page.page().has("#timer-pause"), "the candidate is given the controls");
    for action in ["pause", "resume", "end"] {
        let (status, json) = timer(&app, &f.candidate, r1, action).await;
        assert_eq!(status, StatusCode::OK, "{action}: {json}");
    }

    // A round not yet started waits for a new interviewer instead.
    withdraw(&app, &f.candidate, &f.loop_path, invitation_of(&app, r2).await).await;
    assert_eq!(timer(&app, &f.candidate, r2, "start").await.0, StatusCode::FORBIDDEN);
}
