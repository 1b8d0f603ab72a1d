//! PostgreSQL stopped mid-load or frozen: the app answers 503 quickly, turns
//! `/readyz` red, and recovers by itself.

use std::time::{Duration, Instant};

use crate::support::proof::proof_count;
use crate::support::server::{Server, ServerDatabase, free_port, send};
use tokio::sync::watch;

use super::cluster::{OwnCluster, readyz, wait_for_readyz};
use super::writers::{WriterLog, finish_writers, start_writers};
use super::{JSON, follow_timer_versions};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_stopped_mid_load_answers_503_quickly_and_recovers_without_a_restart() {
    let stops = proof_count(2, 10);
    let mut cluster = OwnCluster::start("faults-pgstop").await;
    let port = free_port();
    let server = Server::start(ServerDatabase::Url(&cluster.url), port);
    server.wait_ready().await;
    let (candidates, handles, stop) = start_writers(port, &cluster.pool, 3, "outage").await;
    let watched = &candidates[0];
    let (sender, mut follower) = watch::channel(0);
    tokio::spawn(follow_timer_versions(port, watched.cookie.clone(), watched.round, sender));

    let mut slowest_red = Duration::ZERO;
    let mut slowest_recovery = Duration::ZERO;
    let mut slowest_converged = Duration::ZERO;
    for stop_number in 0..stops {
        tokio::time::sleep(Duration::from_millis(800)).await;
        cluster.stop_immediately().await;
        slowest_red = slowest_red.max(wait_for_readyz(port, Duration::from_secs(10), |s| s != Some(200)).await);
        // Down long enough for the writers to meet it.
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_ne!(readyz(port).await, Some(200), "/readyz stays red while PostgreSQL is down");
        assert!(readyz(port).await.is_some(), "the app itself stays up");
        let restarting = Instant::now();
        cluster.restart().await;
        wait_for_readyz(port, Duration::from_secs(30), |s| s == Some(200)).await;
        slowest_recovery = slowest_recovery.max(restarting.elapsed());
        // The stream opened before the outage shows a change made once it is over.
        let action = if stop_number.is_multiple_of(2) { "pause" } else { "resume" };
        let timer_path = format!("/rounds/{}/timer", watched.round);
        let changed = send(port, "POST", &timer_path, Some(&watched.cookie), &JSON, &format!("action={action}"))
            .await
            .expect("timer change");
        assert_eq!(changed.status, 200, "{action}: {}", changed.body);
        let expected = changed.json()["timer"]["version"].as_i64().expect("version");
        let changed_at = Instant::now();
        tokio::time::timeout(Duration::from_secs(5), follower.wait_for(|seen| *seen >= expected))
            .await
            .expect("the live stream converges within 5 s of the change")
            .expect("the live stream stays open through the outage");
        slowest_converged = slowest_converged.max(changed_at.elapsed());
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    cluster.pool.close().await;
    let pool = mockloop::db::pool_options(2)
        .connect_with(cluster.local.as_ref().expect("running").connect_options("mockloop"))
        .await
        .expect("reconnect");
    let (logs, audit) = finish_writers(&pool, &candidates, handles, &stop).await;
    drop(server);

    let acknowledged: usize = logs.iter().map(WriterLog::acknowledged).sum();
    let unavailable: usize = logs.iter().map(|log| log.unavailable).sum();
    let slowest = logs.iter().map(|log| log.slowest).max().unwrap_or_default();
    let unexpected: Vec<u16> = logs.iter().flat_map(|log| log.unexpected.clone()).collect();
    println!(
        "FIGURE faults.pg_stop: {stops} immediate stops, {acknowledged} acknowledged writes, {} lost, \
         {} torn/duplicated, {unavailable} answered 503, slowest answer {:.1} s, /readyz red within {:.1} s, \
         ready again within {:.1} s of the restart (no app restart), live stream current again within {:.2} s",
        audit.lost,
        audit.torn_or_duplicated,
        slowest.as_secs_f64(),
        slowest_red.as_secs_f64(),
        slowest_recovery.as_secs_f64(),
        slowest_converged.as_secs_f64()
    );
    assert_eq!(audit.lost, 0, "acknowledged writes lost");
    assert_eq!(audit.torn_or_duplicated, 0, "torn or duplicated rows");
    assert!(unexpected.is_empty(), "answers other than 2xx, 409 or 503: {unexpected:?}");
    assert!(unavailable > 0, "the writers met the outage");
    assert!(slowest < Duration::from_secs(5), "a request waited {slowest:?}");
    assert!(acknowledged > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_frozen_postgres_turns_readyz_red_within_seconds() {
    let freezes = proof_count(1, 3);
    let cluster = OwnCluster::start("faults-pgfreeze").await;
    let port = free_port();
    let server = Server::start(ServerDatabase::Url(&cluster.url), port);
    server.wait_ready().await;
    let mut slowest = Duration::ZERO;
    for _ in 0..freezes {
        let frozen = cluster.signal_all(nix::sys::signal::Signal::SIGSTOP);
        let asked = Instant::now();
        let status = readyz(port).await;
        let took = asked.elapsed();
        cluster.signal_all(nix::sys::signal::Signal::SIGCONT);
        assert!(frozen > 1, "the postmaster and its backends were frozen");
        assert!(status.is_some_and(|s| s != 200), "/readyz is red while PostgreSQL is frozen: {status:?}");
        assert!(took < Duration::from_secs(3), "/readyz took {took:?}");
        slowest = slowest.max(took);
        wait_for_readyz(port, Duration::from_secs(10), |s| s == Some(200)).await;
    }
    drop(server);
    println!(
        "FIGURE faults.pg_freeze: {freezes} SIGSTOPs of every PostgreSQL process, /readyz red after {:.1} s at most \
         (limit 3 s), green again after SIGCONT",
        slowest.as_secs_f64()
    );
}
