//! Blind scoring both ways: the sealed self-assessment, the interviewers'
//! drafts, and who reads which scorecard when.

use axum::http::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use super::feedback_seen_by;
use crate::support::rounds::run_round;
use crate::support::scorecards::{criteria_of_round, draft_form, post_assessment, scorecard_form, set, submit_card};
use crate::support::{TestApp, id_of, peer_loop};

#[tokio::test]
async fn the_self_assessment_and_the_interviewers_draft_stay_sealed_until_submitted() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    run_round(&app, &f.interviewer_a, round).await;
    let criteria = criteria_of_round(&app, round).await;
    let draft = format!("interviewerdraft{}", Uuid::new_v4().simple());
    let saved = post_assessment(&app, &f.interviewer_a, round, &draft_form(&criteria, &draft, &draft)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let self_view = format!("selfview{}", Uuid::new_v4().simple());
    submit_card(&app, &f.candidate, round, &self_view, "strong_hire").await;
    let roles: Vec<(String, String)> =
        sqlx::query_as("select role, status from scorecards where round_id = $1 order by role")
            .bind(id_of(round))
            .fetch_all(&app.db)
            .await
            .expect("scorecards");
    assert_eq!(roles, vec![("interviewer".into(), "draft".into()), ("self".into(), "submitted".into())]);

    let pages = |cookie: String| {
        let app = &app;
        let paths = [
            format!("{round}/feedback"),
            format!("{}/feedback", f.loop_path),
            format!("{}/feedback.md", f.loop_path),
            format!("{}/feedback.json", f.loop_path),
        ];
        async move {
            let mut bodies = Vec::new();
            for path in &paths {
                let response = app.get(path, Some(&cookie)).await;
                assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.body);
                bodies.push(response.body);
            }
            bodies.join("\n")
        }
    };

    let candidate_sees = pages(f.candidate.clone()).await;
    assert!(!candidate_sees.contains(&draft), "the candidate sees the interviewer's draft");
    assert!(candidate_sees.contains(&self_view), "the candidate sees their own self-assessment");
    assert!(!candidate_sees.contains(r#"id="card-1-interviewer""#));
    let interviewer_sees = pages(f.interviewer_a.clone()).await;
    assert!(!interviewer_sees.contains(&self_view), "the self-assessment is sealed from the interviewer");
    assert!(!interviewer_sees.contains(r#"id="card-1-self""#));
    let form = app.get(&format!("{round}/assessment"), Some(&f.interviewer_a)).await;
    assert!(form.body.contains(&draft) && !form.body.contains(&self_view), "the interviewer's form is their own");

    let verdict = format!("interviewerfinal{}", Uuid::new_v4().simple());
    submit_card(&app, &f.interviewer_a, round, &verdict, "hire").await;
    let candidate_sees = pages(f.candidate.clone()).await;
    assert!(candidate_sees.contains(&verdict), "the submitted scorecard reaches the candidate");
    assert!(candidate_sees.contains(r#"id="card-1-interviewer""#) && candidate_sees.contains(r#"id="card-1-self""#));
    let interviewer_sees = pages(f.interviewer_a.clone()).await;
    assert!(interviewer_sees.contains(&self_view), "both submitted: the self-assessment opens");
    assert!(interviewer_sees.contains(r#"id="card-1-self""#));
}

#[tokio::test]
async fn an_interviewer_sees_the_other_scorecards_and_the_outcome_only_after_submitting_their_own() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    for (cookie, round) in [(&f.interviewer_a, &f.rounds[0]), (&f.interviewer_b, &f.rounds[1])] {
        run_round(&app, cookie, round).await;
    }
    let b_verdict = format!("bverdict{}", Uuid::new_v4().simple());
    submit_card(&app, &f.interviewer_b, &f.rounds[1], &b_verdict, "hire").await;
    let debrief = format!("{}/feedback", f.loop_path);

    let blind = app.get(&debrief, Some(&f.interviewer_a)).await;
    assert_eq!(blind.status, StatusCode::OK);
    assert!(!blind.body.contains(&b_verdict), "round 2's scorecard before A has scored");
    assert!(!blind.body.contains(r#"id="card-2-interviewer""#));
    assert!(blind.body.contains(r#"<span id="outcome-decision">Pending</span>"#), "{}", blind.body);
    assert!(blind.body.contains("Scoring is blind"));
    assert!(blind.body.contains("1 of 2 scorecards submitted"), "{}", blind.body);
    let json: Value =
        serde_json::from_str(&app.get(&format!("{debrief}.json"), Some(&f.interviewer_a)).await.body).expect("JSON");
    assert_eq!(json["outcome"], Value::Null);
    assert!(!json.to_string().contains(&b_verdict));
    assert!(!app.get(&format!("{debrief}.md"), Some(&f.interviewer_a)).await.body.contains(&b_verdict));
    assert!(!app.get(&format!("{}/feedback", f.rounds[1]), Some(&f.interviewer_a)).await.body.contains(&b_verdict));

    let candidate = app.get(&debrief, Some(&f.candidate)).await;
    assert!(!candidate.body.contains(&b_verdict), "sealed from the candidate until they assess themselves");
    assert!(candidate.body.contains("1 of 2 scorecards submitted"));
    let skipped = app.post_form(&format!("{}/assessment/skip", f.rounds[1]), &[], Some(&f.candidate)).await;
    assert_eq!(skipped.status, StatusCode::SEE_OTHER, "{}", skipped.body);
    let candidate = app.get(&debrief, Some(&f.candidate)).await;
    assert!(candidate.body.contains(&b_verdict), "the candidate reads a submitted scorecard once they skip theirs");
    let own = app.get(&debrief, Some(&f.interviewer_b)).await;
    assert!(own.body.contains(&b_verdict), "B reads their own");

    let a_verdict = format!("averdict{}", Uuid::new_v4().simple());
    submit_card(&app, &f.interviewer_a, &f.rounds[0], &a_verdict, "hire").await;
    let open = app.get(&debrief, Some(&f.interviewer_a)).await;
    assert!(open.body.contains(&b_verdict), "after scoring, A reads round 2's scorecard");
    assert!(!open.body.contains(r#"id="submitted-count""#), "complete: no count");
    assert!(!open.body.contains(r#"<span id="outcome-decision">Pending</span>"#), "the outcome is decided");
    let b_view = app.get(&debrief, Some(&f.interviewer_b)).await;
    assert!(b_view.body.contains(&a_verdict), "B has scored, so B reads round 1's");
}

#[tokio::test]
async fn a_peer_candidate_reads_the_interviewers_card_only_after_submitting_or_skipping_their_self_assessment() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let (r1, r2) = (&f.rounds[0], &f.rounds[1]);
    for (cookie, round) in [(&f.interviewer_a, r1), (&f.interviewer_b, r2)] {
        run_round(&app, cookie, round).await;
    }
    let loop_id = id_of(&f.loop_path);
    let score_points = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from loop_score_points where loop_id = $1 and series = 'kind'")
            .bind(loop_id)
            .fetch_one(&app.db)
            .await
            .expect("score points")
    };

    // Round 1: the interviewer scores first; the candidate's view waits for their own.
    let a_verdict = format!("averdict{}", Uuid::new_v4().simple());
    submit_card(&app, &f.interviewer_a, r1, &a_verdict, "hire").await;
    let sealed = feedback_seen_by(&app, &f.candidate, &f.loop_path, &[r1]).await;
    assert!(!sealed.contains(&a_verdict), "the interviewer's card before the self-assessment");
    assert!(!sealed.contains(r#"id="card-1-interviewer""#));
    assert!(sealed.contains(r#"id="interviewer-card-sealed""#), "the candidate is told why, and how to open it");
    assert!(sealed.contains("Sealed until you submit or skip your self-assessment"));
    assert_eq!(score_points().await, 0, "nor do the history charts carry its scores");
    let self_view = format!("selfview{}", Uuid::new_v4().simple());
    submit_card(&app, &f.candidate, r1, &self_view, "strong_hire").await;
    let open = feedback_seen_by(&app, &f.candidate, &f.loop_path, &[r1]).await;
    assert!(open.contains(&a_verdict) && open.contains(r#"id="card-1-interviewer""#), "submitted: it opens");
    assert!(open.contains(r#"id="self-vs-interviewer""#), "side by side");
    assert!(score_points().await > 0, "and reaches the history charts");

    // Having read it, the candidate cannot rewrite theirs.
    let criteria = criteria_of_round(&app, r1).await;
    let mut amended = scorecard_form(&criteria, &["4"], "strong_hire", "amend");
    set(&mut amended, "summary", "rewritten after reading the interviewer");
    let refused = post_assessment(&app, &f.candidate, r1, &amended).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("final once submitted"), "{}", refused.body);
    let form = app.get(&format!("{r1}/assessment"), Some(&f.candidate)).await.body;
    assert!(!form.contains(r#"id="scorecard-amend""#), "no amend button on a final self-assessment");
    let summaries: i64 = sqlx::query_scalar(
        "select count(*) from scorecards where round_id = $1 and role = 'self' and summary like 'rewritten%'",
    )
    .bind(id_of(r1))
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(summaries, 0);

    // Round 2: skipping opens it too, is recorded, and is final.
    let b_verdict = format!("bverdict{}", Uuid::new_v4().simple());
    submit_card(&app, &f.interviewer_b, r2, &b_verdict, "no_hire").await;
    let draft_text = format!("selfdraft{}", Uuid::new_v4().simple());
    let drafted =
        post_assessment(&app, &f.candidate, r2, &draft_form(&criteria_of_round(&app, r2).await, &draft_text, "x"))
            .await;
    assert_eq!(drafted.status, StatusCode::SEE_OTHER, "{}", drafted.body);
    assert!(
        !feedback_seen_by(&app, &f.candidate, &f.loop_path, &[r2]).await.contains(&b_verdict),
        "a draft is not enough"
    );
    let skip = format!("{r2}/assessment/skip");
    let by_interviewer = app.post_form(&skip, &[], Some(&f.interviewer_b)).await;
    assert_eq!(by_interviewer.status, StatusCode::FORBIDDEN, "only the candidate skips their self-assessment");
    let skipped = app.post_form(&skip, &[], Some(&f.candidate)).await;
    assert_eq!(skipped.status, StatusCode::SEE_OTHER, "{}", skipped.body);
    assert_eq!(skipped.header("location"), format!("{r2}/feedback"));
    let open = feedback_seen_by(&app, &f.candidate, &f.loop_path, &[r2]).await;
    assert!(open.contains(&b_verdict) && !open.contains(&draft_text), "skipped: it opens; the draft is gone");
    let (status, skipped_at): (String, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as("select status, submitted_at from scorecards where round_id = $1 and role = 'self'")
            .bind(id_of(r2))
            .fetch_one(&app.db)
            .await
            .expect("the skipped self-assessment");
    assert_eq!(status, "skipped");
    assert!(skipped_at.is_some(), "when it was skipped is recorded");
    let again = app.post_form(&skip, &[], Some(&f.candidate)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let late = post_assessment(
        &app,
        &f.candidate,
        r2,
        &scorecard_form(&criteria_of_round(&app, r2).await, &["4"], "strong_hire", "submit"),
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "no self-assessment after skipping: {}", late.body);
    assert!(late.body.contains("skipping is final"));
    let page = app.get(&format!("{r2}/assessment"), Some(&f.candidate)).await.body;
    assert!(page.contains(r#"id="skipped-note""#) && !page.contains(r#"id="scorecard-form""#));
    println!(
        "FIGURE blind scoring: the interviewer's card stayed sealed from the candidate on 4 pages and exports \
         until they submitted (then final: amend refused) or skipped (recorded, final) their self-assessment"
    );
}

#[tokio::test]
async fn an_interviewer_never_reads_the_self_assessment_of_a_round_they_did_not_interview() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let (r1, r2) = (&f.rounds[0], &f.rounds[1]);
    let mut verdicts = Vec::new();
    let mut self_views = Vec::new();
    for (cookie, round) in [(&f.interviewer_a, r1), (&f.interviewer_b, r2)] {
        run_round(&app, cookie, round).await;
        let verdict = format!("verdict{}", Uuid::new_v4().simple());
        submit_card(&app, cookie, round, &verdict, "hire").await;
        let self_view = format!("selfview{}", Uuid::new_v4().simple());
        submit_card(&app, &f.candidate, round, &self_view, "hire").await;
        verdicts.push(verdict);
        self_views.push(self_view);
    }
    let a_sees = feedback_seen_by(&app, &f.interviewer_a, &f.loop_path, &[r1]).await;
    assert!(a_sees.contains(&verdicts[1]), "A has scored, so A reads round 2's interviewer card");
    assert!(a_sees.contains(&self_views[0]), "and the self-assessment of the round A interviewed");
    assert!(!a_sees.contains(&self_views[1]), "but never round 2's self-assessment");
    assert!(!a_sees.contains(r#"id="card-2-self""#));
    let b_sees = feedback_seen_by(&app, &f.interviewer_b, &f.loop_path, &[r2]).await;
    assert!(b_sees.contains(&verdicts[0]) && b_sees.contains(&self_views[1]));
    assert!(!b_sees.contains(&self_views[0]), "nor B round 1's");
    let candidate_sees = feedback_seen_by(&app, &f.candidate, &f.loop_path, &[r1, r2]).await;
    for text in verdicts.iter().chain(&self_views) {
        assert!(candidate_sees.contains(text), "the candidate reads every card once theirs are in");
    }
    println!(
        "FIGURE blind scoring: interviewers of one round read 0 of the other round's self-assessments on 4 pages and exports"
    );
}

#[tokio::test]
async fn an_integrity_concern_is_read_beside_the_scores_by_whoever_may_read_the_card_and_changes_no_score() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let (r1, r2) = (&f.rounds[0], &f.rounds[1]);
    for (cookie, round) in [(&f.interviewer_a, r1), (&f.interviewer_b, r2)] {
        run_round(&app, cookie, round).await;
    }
    let criteria = criteria_of_round(&app, r1).await;
    let note = format!("integritynote{}", Uuid::new_v4().simple());
    let mut card = scorecard_form(&criteria, &["3", "2"], "hire", "submit");
    set(&mut card, "integrity", "disclosed_confidential");
    set(&mut card, "integrity_note", &note);
    let submitted = post_assessment(&app, &f.interviewer_a, r1, &card).await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER, "{}", submitted.body);
    let stored: (Vec<String>, String, String) = sqlx::query_as(
        "select integrity_concerns, integrity_note, recommendation from scorecards where round_id = $1 and role = 'interviewer'",
    )
    .bind(id_of(r1))
    .fetch_one(&app.db)
    .await
    .expect("the card");
    assert_eq!(stored, (vec!["disclosed_confidential".to_owned()], note.clone(), "hire".to_owned()));
    let scores: Vec<i16> = sqlx::query_scalar(
        "select cs.score from criterion_scores cs join scorecards s on s.id = cs.scorecard_id
         where s.round_id = $1 and s.role = 'interviewer' and cs.score is not null",
    )
    .bind(id_of(r1))
    .fetch_all(&app.db)
    .await
    .expect("scores");
    assert!(scores.iter().all(|s| [2, 3].contains(s)) && scores.len() == criteria.len(), "scores as given: {scores:?}");

    // Sealed like the rest of the card: from the candidate until they have had their say, and from
    // another interviewer until they have scored.
    let sealed = feedback_seen_by(&app, &f.candidate, &f.loop_path, &[r1]).await;
    assert!(!sealed.contains(&note) && !sealed.contains("integrity-concerns"), "the candidate, before self-assessing");
    let other = feedback_seen_by(&app, &f.interviewer_b, &f.loop_path, &[]).await;
    assert!(!other.contains(&note), "round 2's interviewer, before scoring");
    let own = feedback_seen_by(&app, &f.interviewer_a, &f.loop_path, &[r1]).await;
    assert!(own.contains(&note) && own.contains(r#"id="card-1-interviewer-integrity""#), "its author reads it");

    let skipped = app.post_form(&format!("{r1}/assessment/skip"), &[], Some(&f.candidate)).await;
    assert_eq!(skipped.status, StatusCode::SEE_OTHER, "{}", skipped.body);
    let round_page = app.get(&format!("{r1}/feedback"), Some(&f.candidate)).await.page();
    assert!(round_page.text_of("#card-1-interviewer-integrity").contains("Disclosed confidential details"));
    assert!(round_page.text_of("#card-1-interviewer-integrity").contains(&note));
    let loop_page = app.get(&format!("{}/feedback", f.loop_path), Some(&f.candidate)).await.page();
    let concerns = loop_page.text_of("#integrity-concerns");
    assert!(concerns.contains("raised in round 1") && concerns.contains("Round 1 (Interviewer)"), "{concerns}");
    let markdown = app.get(&format!("{}/feedback.md", f.loop_path), Some(&f.candidate)).await.body;
    assert!(markdown.contains("**Integrity:** An integrity concern was raised in round 1."), "{markdown}");
    assert!(markdown.contains(&format!("Integrity note: {note}")), "{markdown}");
    let json: Value =
        serde_json::from_str(&app.get(&format!("{}/feedback.json", f.loop_path), Some(&f.candidate)).await.body)
            .expect("JSON");
    assert_eq!(json["integrity_concerns"][0]["flag"]["concerns"][0], "disclosed_confidential");
    assert_eq!(json["rounds"][0]["cards"][0]["integrity"]["note"], note.as_str());
    assert_eq!(json["rounds"][0]["recommendation"], "Hire", "the recommendation stands as given");

    // Round 2 scored without a concern: the debrief lists round 1 only, and its outcome comes from the
    // recommendations alone.
    submit_card(&app, &f.interviewer_b, r2, "plain", "hire").await;
    let skipped = app.post_form(&format!("{r2}/assessment/skip"), &[], Some(&f.candidate)).await;
    assert_eq!(skipped.status, StatusCode::SEE_OTHER, "{}", skipped.body);
    let debrief = app.get(&format!("{}/feedback", f.loop_path), Some(&f.interviewer_b)).await.page();
    assert!(debrief.text_of("#integrity-concerns").contains(&note), "B has scored: B reads round 1's concern");
    assert_eq!(debrief.text_of("#outcome-decision"), "Hire");
    assert!(!debrief.text_of("#outcome-rule").to_lowercase().contains("integrity"));
}

#[tokio::test]
async fn an_integrity_note_without_a_concern_is_kept_as_a_draft_but_not_submitted() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    run_round(&app, &f.interviewer_a, round).await;
    let criteria = criteria_of_round(&app, round).await;
    let mut card = scorecard_form(&criteria, &["3"], "hire", "submit");
    set(&mut card, "integrity_note", "They read answers from a second screen.");
    let refused = post_assessment(&app, &f.interviewer_a, round, &card).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    let page = refused.page();
    assert!(page.text_of("#integrity_note-error").contains("Tick the concern this note is about"));
    assert!(refused.body.contains("They read answers from a second screen."), "the note is kept as typed");
    let status: String =
        sqlx::query_scalar("select status from scorecards where round_id = $1 and role = 'interviewer'")
            .bind(id_of(round))
            .fetch_one(&app.db)
            .await
            .expect("the draft");
    assert_eq!(status, "draft");

    // Ticking the concern (the form works without script: a plain post) submits it.
    set(&mut card, "integrity", "outside_help");
    let submitted = post_assessment(&app, &f.interviewer_a, round, &card).await;
    assert_eq!(submitted.status, StatusCode::SEE_OTHER, "{}", submitted.body);
    let form = app.get(&format!("{round}/assessment"), Some(&f.interviewer_a)).await.page();
    assert!(form.has("#integrity-outside_help[checked]") && !form.has("#integrity-disclosed_confidential[checked]"));

    // A value no form of ours sends is refused, named, and changes nothing.
    set(&mut card, "integrity", "nda-breach");
    set(&mut card, "intent", "amend");
    let refused = post_assessment(&app, &f.interviewer_a, round, &card).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.page().text_of("#integrity-error").contains("nda-breach"));
    let concerns: Vec<String> =
        sqlx::query_scalar("select integrity_concerns from scorecards where round_id = $1 and role = 'interviewer'")
            .bind(id_of(round))
            .fetch_one(&app.db)
            .await
            .expect("the card");
    assert_eq!(concerns, ["outside_help"]);
}
