//! The round's call in two Chromiums with fake cameras and microphones, each
//! on its own server process, one PostgreSQL between them: both join and
//! media flows both ways within 10 s; mute stops the candidate's outgoing
//! audio; the candidate's server restarts under a flowing call, and the round's
//! start (which reloads both pages) is followed by both pages rejoining by
//! themselves; leaving shows the other side "left". The pages ask no other host
//! and log no errors; axe finds nothing on the round page with the call in it.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde_json::json;

use crate::support::app::settings;
use crate::support::browser::Browser;
use crate::support::server::{Server, ServerDatabase, two_servers};
use crate::support::workspace::{console_errors, other_hosts};
use crate::support::{TestApp, TestDb, id_of, peer_loop};

/// How soon media must flow both ways once both have joined (the bound).
const MEDIA_WITHIN: Duration = Duration::from_secs(10);

/// The bytes of one kind of media ("audio", "video") the page's call
/// connection has received ("inbound") or sent ("outbound"), from `getStats()`.
async fn rtp_bytes(browser: &Browser, direction: &str, kind: &str) -> u64 {
    let total = browser
        .client
        .execute_async(
            "const [direction, kind, done] = arguments;
             const connection = window.mockloop && window.mockloop.call && window.mockloop.call.connection();
             if (!connection) return done(0);
             connection.getStats().then(stats => {
               let total = 0;
               stats.forEach(entry => {
                 if (entry.type === direction + '-rtp' && entry.kind === kind) {
                   total += (direction === 'inbound' ? entry.bytesReceived : entry.bytesSent) || 0;
                 }
               });
               done(total);
             }, () => done(0));",
            vec![json!(direction), json!(kind)],
        )
        .await
        .expect("the call's statistics");
    total.as_u64().unwrap_or(0)
}

/// Waits until the page's inbound audio and video bytes both grow between two
/// readings, within `limit`; how long that took.
async fn media_flows_in(browser: &Browser, who: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut before = (rtp_bytes(browser, "inbound", "audio").await, rtp_bytes(browser, "inbound", "video").await);
    loop {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let now = (rtp_bytes(browser, "inbound", "audio").await, rtp_bytes(browser, "inbound", "video").await);
        if now.0 > before.0 && now.1 > before.1 && before.0 > 0 && before.1 > 0 {
            return started.elapsed();
        }
        if started.elapsed() > limit {
            panic!(
                "{who}'s inbound media did not grow within {limit:?}: audio and video bytes {before:?} then {now:?}; screenshot {}",
                browser.save_screenshot().await
            );
        }
        before = now;
    }
}

async fn call_status(browser: &Browser) -> String {
    browser.text("#call-status").await
}

async fn wait_connected(browser: &Browser, limit: Duration) {
    browser.wait_for_text_within("#call-status", limit, |status| status.starts_with("Connected with")).await;
}

/// Console errors, less the refused connections of a server that was restarting on purpose.
async fn errors_besides_the_restart(browser: &Browser) -> Vec<String> {
    console_errors(browser)
        .await
        .into_iter()
        .filter(|entry| !entry.contains("ERR_CONNECTION_REFUSED") && !entry.contains("503"))
        .collect()
}

#[tokio::test]
async fn two_browsers_on_two_servers_talk_mute_survive_a_restart_and_a_reload_and_see_the_other_leave() {
    let db = TestDb::new().await;
    let app = TestApp::on(db.pool.clone(), settings());
    let f = peer_loop(&app).await;
    let round = f.rounds[0].clone();
    let ([server_a, server_b], [base_a, base_b]) = two_servers(&db).await;
    let port_a = server_a.port;

    let candidate = Browser::launch().await;
    let interviewer = Browser::launch().await;
    candidate.sign_in_at(&format!("{base_a}/signin"), "casey").await;
    interviewer.sign_in_at(&format!("{base_b}/signin"), "avery").await;
    candidate.client.goto(&format!("{base_a}{round}")).await.expect("candidate's round");
    interviewer.client.goto(&format!("{base_b}{round}")).await.expect("interviewer's round");
    for browser in [&candidate, &interviewer] {
        browser.wait_for_text("#call-join", |label| label == "Join the call").await;
        assert_eq!(call_status(browser).await, "You are not in the call.");
    }

    // Both join; measured from the second "Join" to both pages saying "Connected".
    candidate.click("#call-join").await;
    candidate.wait_for_text("#call-status", |status| status.starts_with("Waiting for your interviewer")).await;
    interviewer
        .wait_for_text("#call-status", |status| status == "The candidate is in the call. Join when you are ready.")
        .await;
    interviewer.click("#call-join").await;
    let joined = Instant::now();
    wait_connected(&interviewer, MEDIA_WITHIN).await;
    wait_connected(&candidate, MEDIA_WITHIN).await;
    let to_connected = joined.elapsed();
    let interviewer_media =
        media_flows_in(&interviewer, "the interviewer", MEDIA_WITHIN.saturating_sub(joined.elapsed())).await;
    let candidate_media =
        media_flows_in(&candidate, "the candidate", MEDIA_WITHIN.saturating_sub(joined.elapsed())).await;
    let to_media = joined.elapsed();
    assert!(to_media < MEDIA_WITHIN, "media flowed both ways only after {to_media:?}");
    assert_eq!(call_status(&candidate).await, "Connected with your interviewer.");
    assert_eq!(call_status(&interviewer).await, "Connected with the candidate.");

    // The server's work for one call's set-up: every signal is a row until the round ends.
    let (messages, bytes): (i64, i64) = sqlx::query_as(
        "select count(*), coalesce(sum(octet_length(body)), 0)::bigint from call_signals where round_id = $1",
    )
    .bind(id_of(&round))
    .fetch_one(&db.pool)
    .await
    .expect("the round's signals");
    let by_kind: Vec<(String, i64)> =
        sqlx::query_as("select kind, count(*) from call_signals where round_id = $1 group by kind order by kind")
            .bind(id_of(&round))
            .fetch_all(&db.pool)
            .await
            .expect("signals by kind");
    println!(
        "FIGURE call: Join to connected on loopback {to_connected:?} (media flowing both ways after {to_media:?}: \
         interviewer {interviewer_media:?}, candidate {candidate_media:?}); one call set-up: {messages} signalling \
         messages, {bytes} bytes ({by_kind:?})"
    );
    assert!(messages >= 4, "join, join, offer, answer at least: {by_kind:?}");

    let mut problems = Vec::new();
    for (who, browser) in [("candidate", &candidate), ("interviewer", &interviewer)] {
        problems.extend(browser.axe_violations().await.into_iter().map(|v| format!("{who}: {v}")));
    }
    assert!(problems.is_empty(), "axe on the round page with the call: {problems:?}");

    // Mute: the candidate's outgoing audio stops (it flowed before), their video does not.
    let audio_before = rtp_bytes(&candidate, "outbound", "audio").await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(rtp_bytes(&candidate, "outbound", "audio").await > audio_before, "audio flows before the mute");
    candidate.click("#call-mute").await;
    assert_eq!(
        candidate
            .client
            .find(fantoccini::Locator::Css("#call-mute"))
            .await
            .expect("mute")
            .attr("aria-pressed")
            .await
            .expect("attr"),
        Some("true".into())
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (audio_muted, video_muted) =
        (rtp_bytes(&candidate, "outbound", "audio").await, rtp_bytes(&candidate, "outbound", "video").await);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rtp_bytes(&candidate, "outbound", "audio").await, audio_muted, "no audio leaves a muted microphone");
    assert!(rtp_bytes(&candidate, "outbound", "video").await > video_muted, "the camera still sends");
    candidate.click("#call-mute").await;

    let mut console = [console_errors(&candidate).await, console_errors(&interviewer).await].concat();
    let mut elsewhere = [other_hosts(&candidate, &base_a).await, other_hosts(&interviewer, &base_b).await].concat();

    // The candidate's server restarts: the media, peer to peer, flows on meanwhile.
    let stopped = server_a.terminate();
    assert!(stopped.success(), "{stopped:?}");
    media_flows_in(&candidate, "the candidate, their server down", Duration::from_secs(5)).await;
    media_flows_in(&interviewer, "the interviewer, the other server down", Duration::from_secs(5)).await;
    let server_a = Server::start(ServerDatabase::Url(&db.url()), port_a);
    server_a.wait_ready().await;
    assert!(call_status(&candidate).await.starts_with("Connected with"), "the call went on through the restart");

    // Starting the round reloads both pages; both rejoin by themselves, signalling through the restarted server.
    interviewer.click("#timer-start").await;
    let started = Instant::now();
    for browser in [&candidate, &interviewer] {
        browser.wait_for_text_within("#question-1", Duration::from_secs(15), |shown| !shown.is_empty()).await;
        wait_connected(browser, Duration::from_secs(15)).await;
    }
    let rejoined = started.elapsed();
    media_flows_in(&interviewer, "the interviewer, after the reload", MEDIA_WITHIN).await;
    media_flows_in(&candidate, "the candidate, after the reload", MEDIA_WITHIN).await;
    println!("FIGURE call: both pages reloaded (round started) and were connected again {rejoined:?} later");

    // The interviewer leaves: the candidate's page says so.
    interviewer.click("#call-leave").await;
    assert_eq!(call_status(&interviewer).await, "You left the call.");
    candidate.wait_for_text("#call-status", |status| status == "Your interviewer left the call.").await;
    interviewer.wait_for_text("#call-join", |label| label == "Join the call").await;

    // A stranger's signal is not passed on: the round does not exist for them.
    let stranger = app
        .post_json_body(
            &format!("{round}/call/signals"),
            &json!({"kind": "join", "session": "stranger-page"}),
            Some(&f.stranger),
        )
        .await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);

    console.extend(errors_besides_the_restart(&candidate).await);
    console.extend(errors_besides_the_restart(&interviewer).await);
    elsewhere.extend([other_hosts(&candidate, &base_a).await, other_hosts(&interviewer, &base_b).await].concat());
    candidate.close().await;
    interviewer.close().await;
    server_a.terminate();
    server_b.terminate();
    assert!(console.is_empty(), "console errors: {console:?}");
    assert!(elsewhere.is_empty(), "requests to another host: {elsewhere:?}");
}
