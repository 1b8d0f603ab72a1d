//! The `mockloop` binary as a user runs it (`mockloop serve` as a process,
//! on a test database or a data directory of its own), and raw HTTP/1.1 to
//! whatever serves on a loopback port.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use uuid::Uuid;

use super::app::PASSWORD;
use super::db::TestDb;
use super::loops::LoopBuilder;
use super::scorecards::criterion_ids;

/// The `mockloop serve` process.
pub struct Server {
    child: Child,
    pub port: u16,
}

/// Which database the process uses.
pub enum ServerDatabase<'a> {
    /// Its own PostgreSQL in this data directory.
    DataDir(&'a Path),
    Url(&'a str),
}

impl Server {
    pub fn start(database: ServerDatabase, port: u16) -> Server {
        Self::start_with_args(database, port, &[])
    }

    /// Starts it with extra command-line flags (limits, say).
    pub fn start_with_args(database: ServerDatabase, port: u16, args: &[&str]) -> Server {
        let mut command = Self::command(port, "warn");
        command.args(args).stdout(Stdio::null()).stderr(Stdio::inherit());
        Self::spawn(command, database, port)
    }

    /// Starts the server with its stdout and stderr both written to `log`, at `level`.
    pub fn start_logging_to(database: ServerDatabase, port: u16, log: &Path, level: &str) -> Server {
        let file = std::fs::File::create(log).expect("log file");
        let mut command = Self::command(port, level);
        command.stdout(file.try_clone().expect("log file")).stderr(file);
        Self::spawn(command, database, port)
    }

    fn command(port: u16, log_level: &str) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mockloop"));
        command
            .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
            // Away from the checkout, as an installed binary runs: the content is built in.
            .current_dir(env!("CARGO_TARGET_TMPDIR"))
            .env("RUST_LOG", log_level);
        command
    }

    fn spawn(mut command: Command, database: ServerDatabase, port: u16) -> Server {
        match database {
            ServerDatabase::DataDir(dir) => command.arg("--data-dir").arg(dir).env_remove("DATABASE_URL"),
            ServerDatabase::Url(url) => command.env("DATABASE_URL", url),
        };
        Server { child: command.spawn().expect("mockloop starts"), port }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `kill -9`: no chance to finish anything.
    pub fn kill(self) {
        drop(self);
    }

    pub async fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(90);
        while Instant::now() < deadline {
            if let Ok(response) = http(self.port, "GET /readyz HTTP/1.1\r\n", "").await
                && response.starts_with("HTTP/1.1 200")
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("server did not become ready");
    }

    /// A memory figure of the process from `/proc` (`VmRSS`, or `VmHWM` for its peak), in KB.
    pub fn memory_kb(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("process status");
        status
            .lines()
            .find_map(|line| line.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix(" kB")?.parse().ok())
            .unwrap_or_else(|| panic!("{field} in {status}"))
    }

    /// SIGTERM, as a service manager stops it; returns once it has exited.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), nix::sys::signal::Signal::SIGTERM)
            .expect("signal");
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "server did not exit after SIGTERM");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// Two server processes on `db`, as two instances behind a proxy, once both
/// are ready; with the base URL of each.
pub async fn two_servers(db: &TestDb) -> ([Server; 2], [String; 2]) {
    let url = db.url();
    let servers = [free_port(), free_port()].map(|port| Server::start(ServerDatabase::Url(&url), port));
    for server in &servers {
        server.wait_ready().await;
    }
    let bases = [0, 1].map(|index| format!("http://127.0.0.1:{}", servers[index].port));
    (servers, bases)
}

impl Drop for Server {
    /// A failed test must not leave a server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 answer, read to the end of a `Connection: close` exchange.
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.head, name)
    }

    /// The session cookie it sets, as `name=value`.
    pub fn session_cookie(&self) -> Option<String> {
        self.head
            .lines()
            .filter_map(|line| line.split_once(':'))
            .filter(|(key, _)| key.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, value)| value.trim())
            .find(|value| value.starts_with("mockloop_session=") && !value.starts_with("mockloop_session=;"))
            .and_then(|value| value.split(';').next())
            .map(str::to_owned)
    }

    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// A same-origin request over a fresh connection, as a browser on the site sends it;
/// an error when the server is down, dies mid-answer or takes over 15 s.
pub async fn send(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<Reply> {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nSec-Fetch-Site: same-origin\r\nConnection: close\r\n"
        );
        if let Some(cookie) = cookie {
            request.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        if method == "POST" {
            request.push_str(&format!(
                "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
                body.len()
            ));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await?;
        parse_reply(&raw)
    };
    tokio::time::timeout(Duration::from_secs(15), exchange)
        .await
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::TimedOut, "no answer in 15 s"))?
}

pub fn parse_reply(raw: &[u8]) -> std::io::Result<Reply> {
    let text = String::from_utf8_lossy(raw);
    let incomplete = || std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "incomplete answer");
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(incomplete)?;
    let status = head.split(' ').nth(1).and_then(|code| code.parse().ok()).ok_or_else(incomplete)?;
    if let Some(length) = head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case("content-length").then(|| value.trim().parse::<usize>().ok())?
    }) && body.len() < length
    {
        return Err(incomplete());
    }
    Ok(Reply { status, head: head.to_owned(), body: body.to_owned() })
}

/// Form-encodes `pairs` as a request body.
pub fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).expect("form encodes")
}

/// Runs the `mockloop` command line with `args` on `db`, `stdin` on its
/// standard input; returns what it printed and how it ended.
pub fn run_cli(db: &TestDb, args: &[&str], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mockloop"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mockloop runs");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    child.wait_with_output().expect("mockloop ends")
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

/// `mockloop serve` with `args` on a fresh test database, ready to answer.
pub async fn serve_test_db(args: &[&str]) -> (TestDb, Server) {
    let db = TestDb::new().await;
    let server = Server::start_with_args(ServerDatabase::Url(&db.url()), free_port(), args);
    server.wait_ready().await;
    (db, server)
}

/// Sends `request_line_and_headers` and `body` exactly as given (with Host,
/// same-origin, form content headers and `Connection: close` added) and
/// returns the whole raw answer; no time limit.
pub async fn http(port: u16, request_line_and_headers: &str, body: &str) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    let request = format!(
        "{request_line_and_headers}Host: 127.0.0.1:{port}\r\nSec-Fetch-Site: same-origin\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response)
}

/// The value of `name` in a raw HTTP response's headers.
pub fn header_value<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    response.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Opens `round`'s live stream (`/rounds/<id>`) as `cookie` and reads until its
/// first timer event, or until an answer other than 200 has its head; returns
/// the connection, still open, and what it read.
pub async fn open_event_stream(port: u16, cookie: &str, round: &str) -> (TcpStream, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let request = format!(
        "GET {round}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\
         Connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received);
        if text.contains("event: timer") || (text.contains("\r\n\r\n") && !text.starts_with("HTTP/1.1 200")) {
            return (stream, text.into_owned());
        }
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("an answer")
            .expect("read");
        assert!(read > 0, "the stream ended early: {text}");
        received.extend_from_slice(&buffer[..read]);
    }
}

/// Reads from an open connection until the server closes it; how long that
/// took after `since`, if within `limit`.
pub async fn closed_within(stream: &mut TcpStream, since: Instant, limit: Duration) -> Option<Duration> {
    let mut buffer = [0u8; 4096];
    tokio::time::timeout(limit, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return since.elapsed(),
                Ok(_) => continue,
            }
        }
    })
    .await
    .ok()
}

/// Signs `username` up (password [`PASSWORD`]) on the app served on `port`;
/// returns the session cookie.
pub async fn sign_up(port: u16, username: &str) -> String {
    let body = form(&[("username", username), ("password", PASSWORD), ("password_confirm", PASSWORD)]);
    let reply = send(port, "POST", "/signup", None, &[], &body).await.expect("sign up");
    assert_eq!(reply.status, 303, "sign-up succeeds: {}", reply.body);
    reply.session_cookie().expect("a session cookie")
}

/// An account on a served app with a self-timed phone screen of one round
/// (Junior/Mid, infra and data, 1 Dec 2026, 09:30 UTC).
#[derive(Clone)]
pub struct ServedCandidate {
    pub cookie: String,
    pub round: Uuid,
    /// The round's rubric criteria, in order.
    pub criteria: Vec<Uuid>,
}

impl ServedCandidate {
    /// Signs `username` up on `port` and schedules the phone screen (`db` is the served database).
    pub async fn with_round(port: u16, db: &PgPool, username: &str) -> ServedCandidate {
        let cookie = sign_up(port, username).await;
        let scheduled = LoopBuilder::self_timed("phone-screen")
            .team("infra-data")
            .level("junior_mid")
            .time_zone("UTC")
            .for_user(&cookie)
            .schedule_on(port, db)
            .await;
        let round = scheduled.round_ids[0];
        let criteria = criterion_ids(db, round).await;
        ServedCandidate { cookie, round, criteria }
    }

    /// [`ServedCandidate::with_round`], with the round started.
    pub async fn with_running_round(port: u16, db: &PgPool, username: &str) -> ServedCandidate {
        let candidate = Self::with_round(port, db, username).await;
        let started = candidate.timer(port, "start").await.expect("start");
        assert_eq!(started.status, 200, "the round starts: {}", started.body);
        candidate
    }

    /// The round's path.
    pub fn round_path(&self) -> String {
        format!("/rounds/{}", self.round)
    }

    /// Sends a timer `action` as the page's script does.
    pub async fn timer(&self, port: u16, action: &str) -> std::io::Result<Reply> {
        let path = format!("/rounds/{}/timer", self.round);
        send(port, "POST", &path, Some(&self.cookie), &[("Accept", "application/json")], &format!("action={action}"))
            .await
    }
}
