//! Fault injection against the `mockloop` binary: kill -9 at random moments,
//! PostgreSQL stopped mid-load or frozen, the live listener's connection
//! killed, SIGTERM under load, a running timer across restarts, and parallel
//! double submits; and the limits and headers that keep a server up. Counts
//! are small by default and full with `MOCKLOOP_PROOF=full`; every test prints
//! one `FIGURE` line.

mod cluster;
mod double_submit;
mod limits;
mod live;
mod outage;
mod restart;
mod shutdown;
mod writers;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use uuid::Uuid;

/// The header the round page's script sends with its commands.
const JSON: [(&str, &str); 1] = [("Accept", "application/json")];

/// Reads a live stream, publishing the highest timer version it has seen.
pub(crate) async fn follow_timer_versions(port: u16, cookie: String, round: Uuid, seen: watch::Sender<i64>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let request = format!(
        "GET /rounds/{round}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut pending = String::new();
    let mut buffer = [0u8; 8192];
    loop {
        let read = match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        pending.push_str(&String::from_utf8_lossy(&buffer[..read]));
        while let Some(end) = pending.find('\n') {
            let line: String = pending.drain(..=end).collect();
            if let Some(data) = line.trim_end().strip_prefix("data: ")
                && let Ok(timer) = serde_json::from_str::<Value>(data)
                && let Some(version) = timer["version"].as_i64()
                && timer.get("state").is_some()
            {
                seen.send_if_modified(|highest| {
                    let newer = version > *highest;
                    *highest = (*highest).max(version);
                    newer
                });
            }
        }
    }
}
