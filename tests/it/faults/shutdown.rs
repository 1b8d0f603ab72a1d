//! SIGTERM under load: in-flight saves finish, streams close, a stalled
//! upload is cut off, and the server exits promptly.

use std::time::{Duration, Instant};

use crate::support::server::{ServedCandidate, serve_test_db};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::follow_timer_versions;
use super::writers::{WriterLog, finish_writers, start_writers};
use crate::support::server::{form, parse_reply};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_finishes_in_flight_saves_closes_streams_and_exits_promptly() {
    let (db, server) = serve_test_db(&[]).await;
    let port = server.port;
    let (candidates, handles, stop) = start_writers(port, &db.pool, 3, "sigterm").await;
    let mut streams = Vec::new();
    for candidate in &candidates {
        let (sender, receiver) = watch::channel(0);
        streams.push(tokio::spawn(follow_timer_versions(port, candidate.cookie.clone(), candidate.round, sender)));
        let mut receiver = receiver;
        tokio::time::timeout(Duration::from_secs(5), receiver.wait_for(|version| *version > 0))
            .await
            .expect("the stream sends the timer")
            .expect("open");
    }
    // A save in flight: headers and half the body sent before SIGTERM, the rest after.
    let slow = ServedCandidate::with_running_round(port, &db.pool, "sigterminflight").await;
    let body = form(&[("body", "sent across the shutdown"), ("base_version", "0")]);
    let (first_half, second_half) = body.split_at(body.len() / 2);
    let mut in_flight = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let head = format!(
        "POST /rounds/{}/notes HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nSec-Fetch-Site: same-origin\r\nCookie: {}\r\n\
         Accept: application/json\r\nConnection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\n\r\n{first_half}",
        slow.round,
        slow.cookie,
        body.len()
    );
    in_flight.write_all(head.as_bytes()).await.expect("first half");
    // And a client that stalls half-way through its body and never finishes it.
    let mut stalled = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    stalled.write_all(head.as_bytes()).await.expect("stalled half");
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let asked = Instant::now();
    let exit = tokio::task::spawn_blocking(move || server.terminate());
    tokio::time::sleep(Duration::from_millis(300)).await;
    in_flight.write_all(second_half.as_bytes()).await.expect("second half");
    let mut answer = Vec::new();
    in_flight.read_to_end(&mut answer).await.expect("answer");
    let status = exit.await.expect("join");
    let took = asked.elapsed();
    let in_flight_answer = parse_reply(&answer).expect("the in-flight save is answered");
    let mut stalled_answer = Vec::new();
    let stalled_closed =
        tokio::time::timeout(Duration::from_secs(2), stalled.read_to_end(&mut stalled_answer)).await.is_ok();

    let mut streams_closed = 0;
    for stream in streams {
        if tokio::time::timeout(Duration::from_secs(2), stream).await.is_ok() {
            streams_closed += 1;
        }
    }
    let (logs, audit) = finish_writers(&db.pool, &candidates, handles, &stop).await;
    let acknowledged: usize = logs.iter().map(WriterLog::acknowledged).sum();
    println!(
        "FIGURE faults.sigterm: exited in {:.1} s (limit 10 s), {streams_closed}/{} streams closed, \
         in-flight save answered {}, a stalled upload cut off, {acknowledged} acknowledged writes, {} lost",
        took.as_secs_f64(),
        candidates.len(),
        in_flight_answer.status,
        audit.lost
    );
    assert!(stalled_closed, "the stalled upload's connection was closed");
    assert!(status.success(), "clean exit");
    assert!(took < Duration::from_secs(10), "exited after {took:?}");
    assert_eq!(streams_closed, candidates.len(), "every live stream was closed");
    assert_eq!(in_flight_answer.status, 200, "the in-flight save completed: {}", in_flight_answer.body);
    let stored: Option<String> = sqlx::query_scalar("select body_md from notes where round_id = $1")
        .bind(slow.round)
        .fetch_optional(&db.pool)
        .await
        .expect("note");
    assert_eq!(stored.as_deref(), Some("sent across the shutdown"), "and it is stored");
    assert_eq!(audit.lost, 0);
    assert_eq!(audit.torn_or_duplicated, 0);
}
