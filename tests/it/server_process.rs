//! The `mockloop` binary as a user runs it: no DATABASE_URL, its own
//! PostgreSQL in a data directory, stopped and started again.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

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

impl Drop for Server {
    /// A failed test must not leave a server running.
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn http(port: u16, request_line_and_headers: &str, body: &str) -> std::io::Result<String> {
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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

#[tokio::test]
async fn the_server_runs_its_own_postgres_and_keeps_accounts_across_restarts() {
    let data_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("server-{}", uuid::Uuid::new_v4().simple()));
    let port = free_port();

    let server = Server::start(ServerDatabase::DataDir(&data_dir), port);
    server.wait_ready().await;
    let signed_up = http(
        port,
        "POST /signup HTTP/1.1\r\n",
        "username=persistent&password=correct+horse&password_confirm=correct+horse",
    )
    .await
    .expect("sign up");
    assert!(signed_up.starts_with("HTTP/1.1 303"), "{signed_up}");
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

/// The value of `name` in a raw HTTP response's headers.
pub(crate) fn header_value<'a>(response: &'a str, name: &str) -> Option<&'a str> {
    response.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// Signs `username` up on a served app and schedules a self-timed loop; returns
/// the session cookie (`name=value`) and the path of the loop's first round.
pub(crate) async fn self_timed_round(port: u16, username: &str) -> (String, String) {
    let signed_up = http(
        port,
        "POST /signup HTTP/1.1\r\n",
        &format!("username={username}&password=correct+horse&password_confirm=correct+horse"),
    )
    .await
    .expect("sign up");
    let cookie =
        header_value(&signed_up, "set-cookie").and_then(|c| c.split(';').next()).expect("session cookie").to_owned();
    let form = "template=phone-screen&team=infra-data&level=junior_mid&mode=self_timed&starts_at=2026-12-01T09%3A30&time_zone=UTC&break_minutes=10";
    let created = http(port, &format!("POST /loops HTTP/1.1\r\nCookie: {cookie}\r\n"), form).await.expect("loop");
    let loop_path = header_value(&created, "location").expect("loop location").to_owned();
    let page = http(port, &format!("GET {loop_path} HTTP/1.1\r\nCookie: {cookie}\r\n"), "").await.expect("loop page");
    let round: String = page[page.find("/rounds/").expect("a round link")..].chars().take(8 + 36).collect();
    (cookie, round)
}

#[tokio::test]
async fn sigterm_closes_open_live_streams_and_the_server_exits_promptly() {
    let db = crate::helpers::TestDb::new().await;
    let url = db.url();
    let port = free_port();
    let server = Server::start(ServerDatabase::Url(&url), port);
    server.wait_ready().await;
    let (cookie, round) = self_timed_round(port, "streamer").await;

    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let request = format!(
        "GET {round}/events HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("request");
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    while !String::from_utf8_lossy(&received).contains("event: timer") {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buffer))
            .await
            .expect("first event")
            .expect("read");
        assert!(read > 0, "the stream ended early");
        received.extend_from_slice(&buffer[..read]);
    }

    let asked = Instant::now();
    let status = server.terminate();
    let took = asked.elapsed();
    assert!(status.success(), "clean exit");
    assert!(took < Duration::from_secs(10), "exited {took:?} after SIGTERM with a live stream open");
    // Whatever was still in flight, the stream then ends: a read returns 0 (or the socket errors).
    let ended = tokio::time::timeout(Duration::from_secs(2), async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    })
    .await;
    assert!(ended.is_ok(), "the live stream was closed");
    println!("SIGTERM with an open live stream: exited in {took:?}");
}
