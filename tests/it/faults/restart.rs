//! A server killed with `kill -9` at random moments, and a running timer
//! across server and PostgreSQL restarts.

use std::time::{Duration, Instant};

use rand::Rng;

use crate::support::proof::proof_count;
use crate::support::server::{ServedCandidate, Server, ServerDatabase, free_port, send, serve_test_db};

use super::cluster::{OwnCluster, wait_for_readyz};
use super::writers::{WriterLog, finish_writers, start_writers};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_at_random_moments_loses_no_acknowledged_write() {
    let kills = proof_count(5, 50);
    let (db, mut server) = serve_test_db(&[]).await;
    let port = server.port;
    let url = db.url();
    let (candidates, handles, stop) = start_writers(port, &db.pool, 4, "killed").await;

    for _ in 0..kills {
        let pause = rand::thread_rng().gen_range(150..900);
        tokio::time::sleep(Duration::from_millis(pause)).await;
        server.kill();
        server = Server::start(ServerDatabase::Url(&url), port);
        server.wait_ready().await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (logs, audit) = finish_writers(&db.pool, &candidates, handles, &stop).await;
    drop(server);

    let acknowledged: usize = logs.iter().map(WriterLog::acknowledged).sum();
    let code_saves: usize = logs.iter().map(|log| log.code.acknowledged.len()).sum();
    let unexpected: Vec<u16> = logs.iter().flat_map(|log| log.unexpected.clone()).collect();
    println!(
        "FIGURE faults.kill9: {kills} kills, {acknowledged} acknowledged writes ({code_saves} of code), {} lost, {} torn/duplicated",
        audit.lost, audit.torn_or_duplicated
    );
    assert!(acknowledged > kills, "the writers got work done between kills ({acknowledged})");
    assert!(code_saves > kills, "code saves got done between kills ({code_saves})");
    assert_eq!(audit.lost, 0, "acknowledged writes lost");
    assert_eq!(audit.torn_or_duplicated, 0, "torn or duplicated rows");
    assert!(unexpected.is_empty(), "unexpected answers: {unexpected:?}");
}

/// The round's remaining time per its /state, measured at the middle of the exchange.
async fn remaining_ms(port: u16, candidate: &ServedCandidate) -> (i64, Instant) {
    let asked = Instant::now();
    let reply = send(port, "GET", &format!("/rounds/{}/state", candidate.round), Some(&candidate.cookie), &[], "")
        .await
        .expect("state");
    let answered = Instant::now();
    assert_eq!(reply.status, 200, "{}", reply.body);
    let remaining = reply.json()["remaining_ms"].as_i64().expect("remaining_ms");
    (remaining, asked + (answered - asked) / 2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_running_timer_keeps_its_time_across_server_and_postgres_restarts() {
    let restarts = proof_count(1, 3);
    let mut cluster = OwnCluster::start("faults-timer").await;
    let port = free_port();
    let mut server = Server::start(ServerDatabase::Url(&cluster.url), port);
    server.wait_ready().await;
    let candidate = ServedCandidate::with_running_round(port, &cluster.pool, "timekeeper").await;
    let (first, first_at) = remaining_ms(port, &candidate).await;

    let mut worst_ms = 0i64;
    let check = async |worst: &mut i64| {
        let (now, now_at) = remaining_ms(port, &candidate).await;
        let expected = first - (now_at - first_at).as_millis() as i64;
        *worst = (*worst).max((now - expected).abs());
    };
    for _ in 0..restarts {
        server.kill();
        server = Server::start(ServerDatabase::Url(&cluster.url), port);
        server.wait_ready().await;
        check(&mut worst_ms).await;

        cluster.stop_immediately().await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        cluster.restart().await;
        wait_for_readyz(port, Duration::from_secs(30), |s| s == Some(200)).await;
        check(&mut worst_ms).await;
    }
    drop(server);
    println!(
        "FIGURE faults.timer_restart: {restarts} server kill -9 + {restarts} PostgreSQL immediate restarts, \
         worst timer error {worst_ms} ms (limit 1000 ms)"
    );
    assert!(worst_ms <= 1000, "the timer drifted {worst_ms} ms");
}
