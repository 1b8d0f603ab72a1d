//! Live streams through faults: the listener's connection killed, and a page
//! whose stream was refused getting it back by itself.

use std::time::{Duration, Instant};

use crate::support::proof::proof_count;
use crate::support::server::{ServedCandidate, serve_test_db};
use sqlx::PgPool;
use tokio::sync::watch;

use super::follow_timer_versions;
use crate::support::browser::Browser;

/// The process id of the server's live-event listener connection.
async fn listener_pid(db: &PgPool) -> Option<i32> {
    sqlx::query_scalar(
        "select pid from pg_stat_activity where datname = current_database() and query ilike 'listen%' limit 1",
    )
    .fetch_optional(db)
    .await
    .expect("pg_stat_activity")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn killing_the_live_listener_connection_still_brings_every_stream_the_current_timer() {
    let kills = proof_count(3, 20);
    let streams = 4;
    let (db, server) = serve_test_db(&[]).await;
    let port = server.port;
    let candidate = ServedCandidate::with_running_round(port, &db.pool, "listener").await;
    let mut followers = Vec::new();
    for _ in 0..streams {
        let (sender, receiver) = watch::channel(0);
        tokio::spawn(follow_timer_versions(port, candidate.cookie.clone(), candidate.round, sender));
        followers.push(receiver);
    }

    let mut slowest = Duration::ZERO;
    for kill in 0..kills {
        let before = Instant::now();
        let pid = loop {
            if let Some(pid) = listener_pid(&db.pool).await {
                break pid;
            }
            assert!(before.elapsed() < Duration::from_secs(10), "the listener reconnects");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let killed: bool =
            sqlx::query_scalar("select pg_terminate_backend($1)").bind(pid).fetch_one(&db.pool).await.expect("kill");
        assert!(killed, "the listener connection was terminated");
        // A change right after the kill: its notification has nobody listening.
        let action = if kill.is_multiple_of(2) { "pause" } else { "resume" };
        let changed = candidate.timer(port, action).await.expect("timer change");
        assert_eq!(changed.status, 200, "{action}: {}", changed.body);
        let expected = changed.json()["timer"]["version"].as_i64().expect("version");
        let changed_at = Instant::now();
        for follower in &mut followers {
            tokio::time::timeout(Duration::from_secs(5), follower.wait_for(|seen| *seen >= expected))
                .await
                .unwrap_or_else(|_| panic!("a stream did not see timer version {expected} within 5 s"))
                .expect("stream open");
        }
        slowest = slowest.max(changed_at.elapsed());
    }
    drop(server);
    println!(
        "FIGURE faults.listener_kill: {kills} listener connections killed, {streams} streams each, \
         all converged, slowest {:.2} s (limit 5 s)",
        slowest.as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_page_whose_live_stream_was_refused_gets_it_back_by_itself() {
    let (db, server) = serve_test_db(&["--max-live-streams-per-user", "1"]).await;
    let port = server.port;
    let candidate = ServedCandidate::with_running_round(port, &db.pool, "refusedtab").await;
    // Another tab holds the account's only stream, so the page's stream is refused (429),
    // as it would be by a restarting instance (503) or a proxy without upstream (502).
    let (slot_sender, _) = watch::channel(0);
    let other_tab = tokio::spawn(follow_timer_versions(port, candidate.cookie.clone(), candidate.round, slot_sender));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let base = format!("http://127.0.0.1:{port}");
    let browser = Browser::launch().await;
    browser.sign_in_at(&format!("{base}/signin"), "refusedtab").await;
    browser.client.goto(&format!("{base}/rounds/{}", candidate.round)).await.expect("round page");
    browser.wait_for_text("#connection", |t| t.contains("Live updates paused")).await;

    other_tab.abort();
    let freed = Instant::now();
    browser.wait_for_text("#connection", str::is_empty).await;
    let back_after = freed.elapsed();
    // And it is live: a pause made elsewhere shows without a reload.
    let paused = candidate.timer(port, "pause").await.expect("pause");
    assert_eq!(paused.status, 200);
    browser.wait_for_text("#timer-state", |t| t.starts_with("Paused")).await;
    browser.close().await;
    drop(server);
    println!(
        "FIGURE faults.refused_stream: a page whose live stream was refused (429) was live again {:.1} s after a slot freed",
        back_after.as_secs_f64()
    );
}
