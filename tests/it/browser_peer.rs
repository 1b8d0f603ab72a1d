//! A peer round in two Chromium sessions (candidate and interviewer, separate
//! cookies): on one server, and on two server processes sharing one database.

use std::time::{Duration, Instant};

use fantoccini::Locator;

use crate::support::TestDb;
use crate::support::browser::{Browser, serve_app};
use crate::support::server::two_servers;

/// Runs one peer round: invitation, live timer, live scratchpad, scorecard
/// hidden from the candidate until submitted. Each person uses their own base URL.
async fn peer_round(candidate_base: &str, interviewer_base: &str) {
    let candidate = Browser::launch().await;
    let interviewer = Browser::launch().await;
    candidate.sign_up(candidate_base, "candidate").await;
    interviewer.sign_up(interviewer_base, "interviewer").await;

    // The candidate schedules a one-round peer loop and invites the interviewer.
    let loop_url = candidate.schedule_loop(candidate_base, "phone-screen", true).await;
    let loop_path = url::Url::parse(&loop_url).expect("loop URL").path().to_owned();
    let invite_path = candidate.invite_to_first_round().await;

    interviewer.client.goto(&format!("{interviewer_base}{invite_path}")).await.expect("invitation");
    interviewer.click("#accept-invitation").await;
    interviewer.wait_for_text("#timeline", |t| t.contains("interviewer")).await;
    let round_path = interviewer
        .client
        .find(Locator::Css("#round-1 a.button"))
        .await
        .expect("round link")
        .attr("href")
        .await
        .expect("href")
        .expect("a round");

    interviewer.client.goto(&format!("{interviewer_base}{round_path}")).await.expect("interviewer round");
    candidate.client.goto(&format!("{candidate_base}{round_path}")).await.expect("candidate round");
    candidate.text("#question-hidden").await;
    assert!(candidate.client.find(Locator::Css("#timer-start")).await.is_err(), "the candidate has no timer controls");
    assert!(!interviewer.text("#hints-1").await.is_empty(), "the interviewer sees the hints");

    // Start: the candidate's page shows the running clock and the question within a second or two.
    interviewer.click("#timer-start").await;
    let started = Instant::now();
    candidate.text("#question-1").await;
    candidate.wait_for_text("#timer-state", |t| t.starts_with("Running")).await;
    let start_seen = started.elapsed();
    assert!(start_seen < Duration::from_secs(3), "start reached the candidate in {start_seen:?}");
    println!("peer round: timer start seen by the candidate after {start_seen:?} (including the page reload)");
    let prompt = candidate.text("#question-1").await;
    let hints = interviewer.text("#hints-1").await;
    let first_hint = hints.lines().nth(1).unwrap_or_default().trim().to_owned();
    assert!(!first_hint.is_empty() && !prompt.contains(&first_hint), "hints never reach the candidate");

    // The candidate types; the interviewer watches.
    candidate.fill("#notes-body", "Two pointers after sorting: O(n log n).").await;
    let typed = Instant::now();
    interviewer.wait_for_text("#notes-rendered", |t| t.contains("Two pointers after sorting")).await;
    let scratchpad_seen = typed.elapsed();
    assert!(scratchpad_seen < Duration::from_secs(4), "the scratchpad reached the interviewer in {scratchpad_seen:?}");
    println!(
        "peer round: typed notes seen by the interviewer after {scratchpad_seen:?} (800 ms autosave debounce included)"
    );

    interviewer.click("#timer-pause").await;
    let paused = Instant::now();
    candidate.wait_for_text("#timer-state", |t| t.starts_with("Paused")).await;
    println!("peer round: pause seen by the candidate after {:?}", paused.elapsed());
    interviewer.click("#timer-resume").await;
    candidate.wait_for_text("#timer-state", |t| t.starts_with("Running")).await;
    interviewer.click("#timer-end").await;
    candidate.text("#round-complete").await;

    // The scorecard stays hidden from the candidate until it is submitted.
    candidate.client.goto(&format!("{candidate_base}{round_path}/feedback")).await.expect("feedback");
    candidate.text("#no-scorecards").await;
    interviewer.client.goto(&format!("{interviewer_base}{round_path}/assessment")).await.expect("scorecard");
    let groups = interviewer.client.find_all(Locator::Css(".score-options[role=radiogroup]")).await.expect("criteria");
    for group in &groups {
        group.find(Locator::Css("input[value='3']")).await.expect("radio").click().await.expect("click");
    }
    for textarea in interviewer.client.find_all(Locator::Css("textarea[name^=evidence_]")).await.expect("evidence") {
        textarea.send_keys("Sorted first, then two pointers.").await.expect("type");
    }
    interviewer.fill("#summary", "INTERVIEWER-SUMMARY solid round").await;
    interviewer.click("input[name=recommendation][value=hire]").await;
    interviewer.click("#scorecard-submit").await;
    interviewer.wait_for_text("h1", |t| t.starts_with("Round feedback")).await;

    // Blind both ways: it opens to the candidate once they assess themselves, or skip that.
    candidate.client.refresh().await.expect("reload");
    candidate.text("#interviewer-card-sealed").await;
    candidate.click("#skip-self-assessment button").await;
    assert!(candidate.text("#card-1-interviewer").await.contains("INTERVIEWER-SUMMARY solid round"));
    candidate.client.goto(&format!("{candidate_base}{loop_path}/feedback")).await.expect("debrief");
    assert_eq!(candidate.text("#outcome-decision").await, "Hire");

    candidate.close().await;
    interviewer.close().await;
}

#[tokio::test]
async fn a_peer_round_runs_live_in_two_browsers() {
    let (base, _db) = serve_app().await;
    peer_round(&base, &base).await;
}

#[tokio::test]
async fn a_peer_round_stays_in_sync_across_two_server_processes() {
    let db = TestDb::new().await;
    let ([server_a, server_b], [base_a, base_b]) = two_servers(&db).await;
    peer_round(&base_a, &base_b).await;
    server_a.terminate();
    server_b.terminate();
}
