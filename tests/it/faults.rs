//! Fault injection against the `mockloop` binary: kill -9 at random moments,
//! PostgreSQL stopped mid-load, the live listener's connection killed, SIGTERM
//! under load, a running timer across restarts, and parallel double submits.
//! Counts are small by default and full with `MOCKLOOP_PROOF=full`; every test
//! prints one `FIGURE` line.

mod limits;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use mockloop::localpg::{Durability, LocalPostgres};
use rand::Rng;
use serde_json::Value;
use sqlx::PgPool;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;
use uuid::Uuid;

use crate::browser::Browser;
use crate::browser_loop::wait_for_text;
use crate::helpers::{TestApp, TestDb};
use crate::server_process::{Server, ServerDatabase, free_port};

/// `reduced` in an ordinary test run, `full` when MOCKLOOP_PROOF=full.
pub(crate) fn proof_count(reduced: usize, full: usize) -> usize {
    if std::env::var("MOCKLOOP_PROOF").is_ok_and(|value| value == "full") { full } else { reduced }
}

/// One HTTP/1.1 answer, read to the end of a `Connection: close` exchange.
pub(crate) struct Reply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
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
pub(crate) async fn send(
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

fn parse_reply(raw: &[u8]) -> std::io::Result<Reply> {
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

pub(crate) fn form(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).expect("form encodes")
}

const JSON: [(&str, &str); 1] = [("Accept", "application/json")];

/// A signed-up account with a self-timed one-round loop whose round is running.
#[derive(Clone)]
pub(crate) struct Candidate {
    pub cookie: String,
    pub round: Uuid,
    pub criteria: Vec<Uuid>,
}

pub(crate) async fn sign_up(port: u16, username: &str) -> String {
    let body = form(&[("username", username), ("password", "correct horse"), ("password_confirm", "correct horse")]);
    let reply = send(port, "POST", "/signup", None, &[], &body).await.expect("sign up");
    assert_eq!(reply.status, 303, "sign-up succeeds: {}", reply.body);
    reply.session_cookie().expect("a session cookie")
}

/// The schedule form for a self-timed phone screen, with `request_key`.
fn phone_screen_form(request_key: &str) -> [(&'static str, &str); 8] {
    [
        ("template", "phone-screen"),
        ("team", "infra-data"),
        ("level", "junior_mid"),
        ("mode", "self_timed"),
        ("starts_at", "2026-12-01T09:30"),
        ("time_zone", "UTC"),
        ("break_minutes", "10"),
        ("request_key", request_key),
    ]
}

/// Signs up `username`, schedules a phone screen and starts its round.
pub(crate) async fn candidate_with_running_round(port: u16, db: &PgPool, username: &str) -> Candidate {
    let cookie = sign_up(port, username).await;
    let key = Uuid::new_v4().to_string();
    let body = form(&phone_screen_form(&key));
    let created = send(port, "POST", "/loops", Some(&cookie), &[], &body).await.expect("schedule");
    assert_eq!(created.status, 303, "the loop is scheduled: {}", created.body);
    let loop_id: Uuid =
        created.header("location").and_then(|l| l.rsplit('/').next()?.parse().ok()).expect("loop location");
    let (round, kind): (Uuid, String) =
        sqlx::query_as("select id, kind from rounds where loop_id = $1 order by position limit 1")
            .bind(loop_id)
            .fetch_one(db)
            .await
            .expect("the round");
    let started = send(port, "POST", &format!("/rounds/{round}/timer"), Some(&cookie), &JSON, "action=start")
        .await
        .expect("start");
    assert_eq!(started.status, 200, "the round starts: {}", started.body);
    let criteria = sqlx::query_scalar(
        "select c.id from rubric_criteria c join rubrics r on r.id = c.rubric_id
         where r.kind = $1 and not c.retired order by c.position",
    )
    .bind(kind)
    .fetch_all(db)
    .await
    .expect("criteria");
    Candidate { cookie, round, criteria }
}

/// A complete scorecard form with `summary`, to submit or amend.
fn scorecard_form(criteria: &[Uuid], summary: &str, intent: &str) -> String {
    let mut pairs: Vec<(String, String)> = criteria
        .iter()
        .flat_map(|id| [(format!("score_{id}"), "3".to_owned()), (format!("evidence_{id}"), format!("seen {id}"))])
        .collect();
    pairs.extend([
        ("recommendation".into(), "hire".into()),
        ("summary".into(), summary.into()),
        ("strengths".into(), "clear".into()),
        ("areas_to_improve".into(), "edge cases".into()),
        ("intent".into(), intent.into()),
    ]);
    serde_urlencoded::to_string(&pairs).expect("form encodes")
}

/// What one writer sent and what the server acknowledged with a 2xx (or 303).
#[derive(Default)]
struct WriterLog {
    notes_sent: Vec<String>,
    /// (version, body) of each acknowledged notes save.
    notes_acknowledged: Vec<(i32, String)>,
    /// Summaries of every submit or amend sent, in order.
    scorecards_sent: Vec<String>,
    scorecards_acknowledged: Vec<String>,
    amends_acknowledged: usize,
    /// A conflict answer showing a version below one already acknowledged.
    regressions: usize,
    /// Answers that are neither success, conflict nor 503 (a 500, say).
    unexpected: Vec<u16>,
    /// Longest wait for any answer, error or not.
    slowest: Duration,
    unavailable: usize,
}

impl WriterLog {
    fn acknowledged(&self) -> usize {
        self.notes_acknowledged.len() + self.scorecards_acknowledged.len()
    }
}

/// Autosaves notes and submits, then amends, the scorecard until `stop`,
/// retrying through outages as the page's script does.
async fn write_until(port: u16, writer: usize, candidate: Candidate, stop: Arc<AtomicBool>) -> WriterLog {
    let mut log = WriterLog::default();
    let mut version = 0;
    let mut submitted = false;
    let notes_path = format!("/rounds/{}/notes", candidate.round);
    let assessment_path = format!("/rounds/{}/assessment", candidate.round);
    let mut step = 0usize;
    while !stop.load(Ordering::Relaxed) {
        step += 1;
        let body = format!("writer {writer} save {step}");
        log.notes_sent.push(body.clone());
        let asked = Instant::now();
        let saved = send(
            port,
            "POST",
            &notes_path,
            Some(&candidate.cookie),
            &JSON,
            &form(&[("body", &body), ("base_version", &version.to_string())]),
        )
        .await;
        log.slowest = log.slowest.max(asked.elapsed());
        match saved {
            Ok(reply) if reply.status == 200 => match reply.json()["version"].as_i64() {
                Some(saved_version) => {
                    version = saved_version as i32;
                    log.notes_acknowledged.push((version, body));
                }
                None => log.unexpected.push(reply.status),
            },
            Ok(reply) if reply.status == 409 => {
                let current = reply.json()["version"].as_i64().unwrap_or(0) as i32;
                if log.notes_acknowledged.last().is_some_and(|(acknowledged, _)| current < *acknowledged) {
                    log.regressions += 1;
                }
                version = current;
            }
            Ok(reply) if reply.status == 503 => {
                log.unavailable += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(reply) => log.unexpected.push(reply.status),
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
        if !step.is_multiple_of(3) {
            continue;
        }
        let (summary, intent) = if submitted {
            (format!("writer {writer} amend {step}"), "amend")
        } else {
            (format!("writer {writer} submit {step}"), "submit")
        };
        log.scorecards_sent.push(summary.clone());
        let asked = Instant::now();
        let posted = send(
            port,
            "POST",
            &assessment_path,
            Some(&candidate.cookie),
            &[],
            &scorecard_form(&candidate.criteria, &summary, intent),
        )
        .await;
        log.slowest = log.slowest.max(asked.elapsed());
        match posted {
            Ok(reply) if reply.status == 303 => {
                log.scorecards_acknowledged.push(summary);
                log.amends_acknowledged += usize::from(submitted);
                submitted = true;
            }
            // An earlier submit went through although its answer was lost.
            Ok(reply) if reply.status == 409 && !submitted => submitted = true,
            Ok(reply) if reply.status == 503 => log.unavailable += 1,
            Ok(reply) => log.unexpected.push(reply.status),
            Err(_) => {}
        }
    }
    log
}

/// Checks the database against one writer's log: counts (acknowledged writes
/// missing, torn or duplicated rows) after every fault.
#[derive(Debug, Default)]
struct Audit {
    lost: usize,
    torn_or_duplicated: usize,
}

async fn audit(db: &PgPool, candidate: &Candidate, log: &WriterLog) -> Audit {
    let mut audit = Audit { lost: log.regressions, torn_or_duplicated: 0 };
    let notes: Vec<(i32, String, String)> =
        sqlx::query_as("select version, body_md, body_html from notes where round_id = $1 and kind = 'scratchpad'")
            .bind(candidate.round)
            .fetch_all(db)
            .await
            .expect("notes");
    audit.torn_or_duplicated += notes.len().saturating_sub(1);
    if let Some((acknowledged_version, acknowledged_body)) = log.notes_acknowledged.last() {
        match notes.first() {
            None => audit.lost += 1,
            Some((version, body, _)) => {
                if version < acknowledged_version || (version == acknowledged_version && body != acknowledged_body) {
                    audit.lost += 1;
                }
            }
        }
    }
    if let Some((_, body, html)) = notes.first()
        && (!log.notes_sent.contains(body) || *html != mockloop::domain::markdown::render(body))
    {
        audit.torn_or_duplicated += 1;
    }

    let cards: Vec<(Uuid, String, String)> =
        sqlx::query_as("select id, status, summary from scorecards where round_id = $1 and role = 'self'")
            .bind(candidate.round)
            .fetch_all(db)
            .await
            .expect("scorecards");
    audit.torn_or_duplicated += cards.len().saturating_sub(1);
    if let Some(last_acknowledged) = log.scorecards_acknowledged.last() {
        let Some((card, status, summary)) = cards.first() else {
            audit.lost += 1;
            return audit;
        };
        let position = |text: &str| log.scorecards_sent.iter().position(|sent| sent == text);
        // The stored summary is the last acknowledged one or one sent after it.
        if status != "submitted" || position(summary) < position(last_acknowledged) {
            audit.lost += 1;
        }
        let amendments: i64 = sqlx::query_scalar("select count(*) from scorecard_amendments where scorecard_id = $1")
            .bind(card)
            .fetch_one(db)
            .await
            .expect("amendments");
        let amends_sent = log.scorecards_sent.iter().filter(|s| s.contains(" amend ")).count();
        audit.lost += log.amends_acknowledged.saturating_sub(amendments as usize);
        audit.torn_or_duplicated += (amendments as usize).saturating_sub(amends_sent);
        let scores: i64 = sqlx::query_scalar(
            "select count(*) from criterion_scores where scorecard_id = $1 and score = 3 and evidence like 'seen %'",
        )
        .bind(card)
        .fetch_one(db)
        .await
        .expect("scores");
        if scores as usize != candidate.criteria.len() {
            audit.torn_or_duplicated += 1;
        }
    }
    audit
}

/// Starts `writers` writers on `port` (signing each up), returning their handles.
async fn start_writers(
    port: u16,
    db: &PgPool,
    writers: usize,
    prefix: &str,
) -> (Vec<Candidate>, Vec<tokio::task::JoinHandle<WriterLog>>, Arc<AtomicBool>) {
    let stop = Arc::new(AtomicBool::new(false));
    let mut candidates = Vec::new();
    let mut handles = Vec::new();
    for writer in 0..writers {
        let candidate = candidate_with_running_round(port, db, &format!("{prefix}{writer}")).await;
        candidates.push(candidate.clone());
        handles.push(tokio::spawn(write_until(port, writer, candidate, stop.clone())));
    }
    (candidates, handles, stop)
}

/// Stops the writers and audits each against the database.
async fn finish_writers(
    db: &PgPool,
    candidates: &[Candidate],
    handles: Vec<tokio::task::JoinHandle<WriterLog>>,
    stop: &AtomicBool,
) -> (Vec<WriterLog>, Audit) {
    stop.store(true, Ordering::Relaxed);
    let mut logs = Vec::new();
    for handle in handles {
        logs.push(handle.await.expect("writer"));
    }
    let mut total = Audit::default();
    for (candidate, log) in candidates.iter().zip(&logs) {
        let audit = audit(db, candidate, log).await;
        total.lost += audit.lost;
        total.torn_or_duplicated += audit.torn_or_duplicated;
    }
    (logs, total)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_at_random_moments_loses_no_acknowledged_write() {
    let kills = proof_count(5, 50);
    let db = TestDb::new().await;
    let url = db.url();
    let port = free_port();
    let mut server = Server::start(ServerDatabase::Url(&url), port);
    server.wait_ready().await;
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
    let unexpected: Vec<u16> = logs.iter().flat_map(|log| log.unexpected.clone()).collect();
    println!(
        "FIGURE faults.kill9: {kills} kills, {acknowledged} acknowledged writes, {} lost, {} torn/duplicated",
        audit.lost, audit.torn_or_duplicated
    );
    assert!(acknowledged > kills, "the writers got work done between kills ({acknowledged})");
    assert_eq!(audit.lost, 0, "acknowledged writes lost");
    assert_eq!(audit.torn_or_duplicated, 0, "torn or duplicated rows");
    assert!(unexpected.is_empty(), "unexpected answers: {unexpected:?}");
}

/// A throwaway PostgreSQL cluster of one test's own, which it may stop and start.
/// Durable, unlike the shared test cluster: an immediate stop must keep every
/// commit it acknowledged, which `synchronous_commit = off` does not promise.
struct OwnCluster {
    dir: PathBuf,
    local: Option<LocalPostgres>,
    url: String,
    pool: PgPool,
}

impl OwnCluster {
    async fn start(name: &str) -> OwnCluster {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", Uuid::new_v4().simple()));
        let local = Self::start_postgres(&dir).await;
        mockloop::commands::ensure_database(&local, "mockloop").await.expect("database");
        let options = local.connect_options("mockloop");
        let socket = options.get_socket().expect("a Unix socket").display().to_string();
        let url =
            format!("postgres://{}@localhost:{}/mockloop?host={socket}", options.get_username(), options.get_port());
        let pool = mockloop::db::pool_options(2).connect_with(options).await.expect("connect");
        OwnCluster { dir, local: Some(local), url, pool }
    }

    async fn start_postgres(dir: &Path) -> LocalPostgres {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || LocalPostgres::start(&dir, Durability::Durable))
            .await
            .expect("join")
            .expect("PostgreSQL starts")
    }

    /// `pg_ctl stop -m immediate`: every backend dies at once, no checkpoint.
    async fn stop_immediately(&self) {
        let data_dir = self.local.as_ref().expect("running").data_dir().to_owned();
        let status = tokio::task::spawn_blocking(move || {
            pg_ctl_as_postgres_owner(&data_dir, &["stop", "-m", "immediate", "-w", "-s"])
        })
        .await
        .expect("join");
        assert!(status, "pg_ctl stop -m immediate");
    }

    async fn restart(&mut self) {
        self.local = Some(Self::start_postgres(&self.dir).await);
    }
}

impl OwnCluster {
    /// Sends `signal` to the postmaster and every backend (SIGSTOP freezes the
    /// server with its sockets open, as a hung machine does).
    fn signal_all(&self, signal: nix::sys::signal::Signal) -> usize {
        let data_dir = self.local.as_ref().expect("running").data_dir();
        let pid_file = std::fs::read_to_string(data_dir.join("postmaster.pid")).expect("postmaster.pid");
        let postmaster: i32 = pid_file.lines().next().and_then(|line| line.trim().parse().ok()).expect("pid");
        let children = std::fs::read_dir("/proc").expect("/proc").flatten().filter_map(|entry| {
            let pid: i32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            // The parent pid is the second field after the parenthesised command name.
            let parent: i32 = stat.rsplit_once(')')?.1.split_whitespace().nth(1)?.parse().ok()?;
            (parent == postmaster).then_some(pid)
        });
        let pids: Vec<i32> = std::iter::once(postmaster).chain(children).collect();
        for pid in &pids {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(*pid), signal);
        }
        pids.len()
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        if let Some(local) = &self.local {
            pg_ctl_as_postgres_owner(local.data_dir(), &["stop", "-m", "immediate", "-w", "-s"]);
            let _ = std::fs::remove_dir_all(local.data_dir());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(self.dir.with_extension("lock"));
        if let Some(socket) = self.pool.connect_options().get_socket()
            && socket.starts_with(std::env::temp_dir())
        {
            let _ = std::fs::remove_dir_all(socket);
        }
    }
}

/// Runs pg_ctl on `data_dir` as the owner of that directory (PostgreSQL refuses root).
fn pg_ctl_as_postgres_owner(data_dir: &Path, args: &[&str]) -> bool {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::process::CommandExt;
    let Ok(meta) = std::fs::metadata(data_dir) else { return false };
    let pg_ctl = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin/pg_ctl"))
        .find(|path| path.exists())
        .unwrap_or_else(|| PathBuf::from("pg_ctl"));
    let mut command = std::process::Command::new(pg_ctl);
    command.arg("-D").arg(data_dir).args(args).current_dir("/").uid(meta.uid()).gid(meta.gid());
    command.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null());
    command.status().is_ok_and(|status| status.success())
}

async fn readyz(port: u16) -> Option<u16> {
    send(port, "GET", "/readyz", None, &[], "").await.ok().map(|reply| reply.status)
}

/// Polls /readyz until `wanted(status)`, returning how long that took.
async fn wait_for_readyz(port: u16, limit: Duration, wanted: impl Fn(Option<u16>) -> bool) -> Duration {
    let began = Instant::now();
    loop {
        if wanted(readyz(port).await) {
            return began.elapsed();
        }
        assert!(began.elapsed() < limit, "/readyz did not change within {limit:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

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

/// Reads a live stream, publishing the highest timer version it has seen.
async fn follow_timer_versions(port: u16, cookie: String, round: Uuid, seen: watch::Sender<i64>) {
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
    let db = TestDb::new().await;
    let url = db.url();
    let port = free_port();
    let server = Server::start(ServerDatabase::Url(&url), port);
    server.wait_ready().await;
    let candidate = candidate_with_running_round(port, &db.pool, "listener").await;
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
        let changed = send(
            port,
            "POST",
            &format!("/rounds/{}/timer", candidate.round),
            Some(&candidate.cookie),
            &JSON,
            &format!("action={action}"),
        )
        .await
        .expect("timer change");
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
async fn sigterm_under_load_finishes_in_flight_saves_closes_streams_and_exits_promptly() {
    let db = TestDb::new().await;
    let url = db.url();
    let port = free_port();
    let server = Server::start(ServerDatabase::Url(&url), port);
    server.wait_ready().await;
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
    let slow = candidate_with_running_round(port, &db.pool, "sigterminflight").await;
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

/// The round's remaining time per its /state, measured at the middle of the exchange.
async fn remaining_ms(port: u16, candidate: &Candidate) -> (i64, Instant) {
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
    let candidate = candidate_with_running_round(port, &cluster.pool, "timekeeper").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_identical_parallel_posts_create_one_row() {
    let app = Arc::new(TestApp::new().await);
    let cookie = app.sign_up("doubleposter").await;
    let key = Uuid::new_v4().to_string();
    let loop_form = phone_screen_form(&key);
    let posts = (0..20).map(|_| {
        let (app, cookie) = (app.clone(), cookie.clone());
        let form = loop_form.map(|(k, v)| (k.to_owned(), v.to_owned()));
        tokio::spawn(async move {
            let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            app.post_form("/loops", &pairs, Some(&cookie)).await
        })
    });
    let mut locations = HashSet::new();
    for post in futures_util::future::join_all(posts).await {
        let response = post.expect("join");
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
        locations.insert(response.header("location").to_owned());
    }
    let loops = app.count("select count(*) from loops").await;
    assert_eq!((loops, locations.len()), (1, 1), "one loop, and every post leads to it");
    assert_eq!(app.count("select count(*) from rounds").await, 1);

    let round: Uuid = sqlx::query_scalar("select id from rounds").fetch_one(&app.db).await.expect("round");
    let started = app
        .post_form_with(
            &format!("/rounds/{round}/timer"),
            &[("action", "start")],
            Some(&cookie),
            &[("sec-fetch-site", "same-origin"), ("accept", "application/json")],
        )
        .await;
    assert_eq!(started.status, StatusCode::OK);
    let criteria: Vec<Uuid> = sqlx::query_scalar(
        "select c.id from rubric_criteria c join rubrics r on r.id = c.rubric_id
         where r.kind = 'coding' and not c.retired",
    )
    .fetch_all(&app.db)
    .await
    .expect("criteria");
    let mut figures = Vec::new();
    for intent in ["submit", "amend"] {
        let body: Vec<(String, String)> =
            serde_urlencoded::from_str(&scorecard_form(&criteria, &format!("double clicked {intent}"), intent))
                .expect("form");
        let posts = (0..20).map(|_| {
            let (app, cookie, body) = (app.clone(), cookie.clone(), body.clone());
            tokio::spawn(async move {
                let pairs: Vec<(&str, &str)> = body.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                app.post_form(&format!("/rounds/{round}/assessment"), &pairs, Some(&cookie)).await
            })
        });
        let mut accepted = 0;
        for post in futures_util::future::join_all(posts).await {
            let response = post.expect("join");
            assert!(
                [StatusCode::SEE_OTHER, StatusCode::CONFLICT].contains(&response.status),
                "{intent}: {} {}",
                response.status,
                response.body
            );
            accepted += usize::from(response.status == StatusCode::SEE_OTHER);
        }
        figures.push(format!("{intent}: {accepted} accepted"));
    }
    let cards = app.count("select count(*) from scorecards").await;
    let scores = app.count("select count(*) from criterion_scores").await;
    let amendments = app.count("select count(*) from scorecard_amendments").await;
    println!(
        "FIGURE faults.double_submit: 20 parallel identical posts each of create-loop, submit-scorecard and \
         amend-scorecard: {loops} loop, {cards} scorecard, {amendments} amendment ({})",
        figures.join(", ")
    );
    assert_eq!(cards, 1, "one scorecard");
    assert_eq!(scores as usize, criteria.len(), "one score per criterion");
    assert_eq!(amendments, 1, "an identical amendment sent 20 times is recorded once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_page_whose_live_stream_was_refused_gets_it_back_by_itself() {
    let db = TestDb::new().await;
    let url = db.url();
    let port = free_port();
    let server = Server::start_with_args(ServerDatabase::Url(&url), port, &["--max-live-streams-per-user", "1"]);
    server.wait_ready().await;
    let candidate = candidate_with_running_round(port, &db.pool, "refusedtab").await;
    // Another tab holds the account's only stream, so the page's stream is refused (429),
    // as it would be by a restarting instance (503) or a proxy without upstream (502).
    let (slot_sender, _) = watch::channel(0);
    let other_tab = tokio::spawn(follow_timer_versions(port, candidate.cookie.clone(), candidate.round, slot_sender));
    tokio::time::sleep(Duration::from_millis(500)).await;

    let base = format!("http://127.0.0.1:{port}");
    let browser = Browser::launch().await;
    browser.client.goto(&format!("{base}/signin")).await.expect("sign-in page");
    browser.fill("#username", "refusedtab").await;
    browser.fill("#password", "correct horse").await;
    browser.click("#sign-in-submit").await;
    browser.text("#signed-in-as").await;
    browser.client.goto(&format!("{base}/rounds/{}", candidate.round)).await.expect("round page");
    wait_for_text(&browser, "#connection", |t| t.contains("Live updates paused")).await;

    other_tab.abort();
    let freed = Instant::now();
    wait_for_text(&browser, "#connection", str::is_empty).await;
    let back_after = freed.elapsed();
    // And it is live: a pause made elsewhere shows without a reload.
    let paused = send(
        port,
        "POST",
        &format!("/rounds/{}/timer", candidate.round),
        Some(&candidate.cookie),
        &JSON,
        "action=pause",
    )
    .await
    .expect("pause");
    assert_eq!(paused.status, 200);
    wait_for_text(&browser, "#timer-state", |t| t.starts_with("Paused")).await;
    browser.close().await;
    drop(server);
    println!(
        "FIGURE faults.refused_stream: a page whose live stream was refused (429) was live again {:.1} s after a slot freed",
        back_after.as_secs_f64()
    );
}
