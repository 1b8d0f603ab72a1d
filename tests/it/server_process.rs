//! The `mockloop` binary as a user runs it: no DATABASE_URL, its own
//! PostgreSQL in a data directory, stopped and started again; and SIGTERM
//! with a live stream open.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::support::server::{
    ServedCandidate, Server, ServerDatabase, closed_within, free_port, http, open_event_stream, serve_test_db, sign_up,
};

#[tokio::test]
async fn the_server_runs_its_own_postgres_and_keeps_accounts_across_restarts() {
    let data_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("server-{}", uuid::Uuid::new_v4().simple()));
    let port = free_port();

    let server = Server::start(ServerDatabase::DataDir(&data_dir), port);
    server.wait_ready().await;
    sign_up(port, "persistent").await;
    assert!(server.terminate().success(), "clean exit on SIGTERM");

    let cluster = mockloop::localpg::effective_data_dir(&data_dir.join("postgres")).expect("cluster directory");
    assert!(cluster.join("PG_VERSION").exists(), "the server initialised {}", cluster.display());
    assert!(!cluster.join("postmaster.pid").exists(), "PostgreSQL was shut down with the server");

    let server = Server::start(ServerDatabase::DataDir(&data_dir), port);
    server.wait_ready().await;
    let signed_in =
        http(port, "POST /signin HTTP/1.1\r\n", "username=persistent&password=correct+horse").await.expect("sign in");
    assert!(signed_in.starts_with("HTTP/1.1 303"), "the account survived the restart: {signed_in}");
    assert!(signed_in.contains("mockloop_session="), "{signed_in}");
    assert!(server.terminate().success());
    let _ = std::fs::remove_dir_all(&data_dir);
    let _ = std::fs::remove_dir_all(&cluster);
}

#[tokio::test]
async fn sigterm_closes_open_live_streams_and_the_server_exits_promptly() {
    let (db, server) = serve_test_db(&[]).await;
    let port = server.port;
    let candidate = ServedCandidate::with_round(port, &db.pool, "streamer").await;
    let (mut stream, received) = open_event_stream(port, &candidate.cookie, &candidate.round_path()).await;
    assert!(received.contains("event: timer"), "the first event: {received}");

    let asked = Instant::now();
    let status = server.terminate();
    let took = asked.elapsed();
    assert!(status.success(), "clean exit");
    assert!(took < Duration::from_secs(10), "exited {took:?} after SIGTERM with a live stream open");
    // Whatever was still in flight, the stream then ends: a read returns 0 (or the socket errors).
    let ended = closed_within(&mut stream, Instant::now(), Duration::from_secs(2)).await;
    assert!(ended.is_some(), "the live stream was closed");
    println!("SIGTERM with an open live stream: exited in {took:?}");
}
