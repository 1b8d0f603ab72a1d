//! Performance figures for the README: page throughput and latency under wrk
//! (interleaved with two references served by the same binary), the same pages
//! on a 100k-loop database, 5,000 live event streams on one and on two
//! instances, and the idle footprint. Run it with `scripts/bench`.
//!
//! Settings (environment): BENCH_SECONDS per wrk run (5), BENCH_REPEATS of the
//! interleaved A B A B sequence (3), BENCH_LIVE_STREAMS (5000), BENCH_EVENTS
//! per live run (20), BENCH_LARGE=0 to skip the 100k-loop phase.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mockloop::localpg::{Durability, LocalPostgres};
use sqlx::PgPool;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Mutex;
use uuid::Uuid;

const BINARY: &str = env!("CARGO_BIN_EXE_mockloop");
const CONNECTIONS: u32 = 64;
/// A shipped question, for the question page's figures.
const QUESTION_PAGE: &str = "coding-bounding-box-iou";

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn main() -> anyhow::Result<()> {
    raise_open_file_limit();
    let data_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-data");
    let _ = std::fs::remove_dir_all(&data_dir);
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(&data_dir))
}

async fn run(data_dir: &Path) -> anyhow::Result<()> {
    println!("mockloop benchmark: {} cores, {}", num_cores(), cpu_model());

    // Footprint: the first start initialises the cluster; the second is timed.
    let mut first = Server::start(data_dir, free_port()?)?;
    first.wait_ready(Duration::from_secs(60))?;
    first.stop();
    let mut server = Server::start(data_dir, free_port()?)?;
    let ready = server.wait_ready(Duration::from_secs(60))?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    println!(
        "footprint: start to ready {:.0} ms (data directory initialised), idle RSS {:.1} MiB (server process; PostgreSQL runs apart)",
        ready.as_secs_f64() * 1000.0,
        server.rss_kib() as f64 / 1024.0
    );

    let local = tokio::task::spawn_blocking({
        let dir = data_dir.join("postgres");
        move || LocalPostgres::start(&dir, Durability::Durable)
    })
    .await??;
    let pool = mockloop::db::connect(local.connect_options("mockloop"), 4).await?;

    let started = Instant::now();
    demo_data(data_dir, 200, 10, 1)?;
    demo_data(data_dir, 1, 50, 2)?;
    demo_data(data_dir, 1, 1000, 3)?;
    println!("small database: demo data loaded in {:.1} s", started.elapsed().as_secs_f64());

    let fixture = Fixture::prepare(&server, &pool).await?;
    let small = page_benchmarks(&server, &fixture, &pool).await?;
    print_pages("small database (2.3k loops)", &small);

    if setting("BENCH_LARGE", 1) == 1 {
        let started = Instant::now();
        demo_data(data_dir, 10_000, 10, 4)?;
        println!("large database: +10,000 users and 100,000 loops in {:.1} s", started.elapsed().as_secs_f64());
        let counts: (i64, i64, i64) = sqlx::query_as(
            "select (select count(*) from users), (select count(*) from loops), (select count(*) from rounds)",
        )
        .fetch_one(&pool)
        .await?;
        let large = page_benchmarks(&server, &fixture, &pool).await?;
        print_pages(&format!("large database ({} users, {} loops, {} rounds)", counts.0, counts.1, counts.2), &large);
        println!("\nlatency on the large database relative to the small one (p50 / p99):");
        for PageFigures { name, figures, .. } in &large {
            if let Some(before) = small.iter().find(|p| p.name == *name).map(|p| &p.figures) {
                println!(
                    "  {name:<34} {:>5.2}x / {:>5.2}x",
                    figures.p50_ms / before.p50_ms,
                    figures.p99_ms / before.p99_ms
                );
            }
        }
    }

    let streams = setting("BENCH_LIVE_STREAMS", 5000) as usize;
    let events = setting("BENCH_EVENTS", 20) as usize;
    println!("\nlive events: {streams} event streams on one live round, {events} timer changes");
    let one = live_benchmark(&[&server], &fixture, streams, events).await?;
    one.print("one instance");
    let mut second = Server::start(data_dir, free_port()?)?;
    second.wait_ready(Duration::from_secs(60))?;
    let two = live_benchmark(&[&server, &second], &fixture, streams, events).await?;
    two.print("two instances, one PostgreSQL");
    second.stop();

    pool.close().await;
    server.stop();
    Ok(())
}

/// The signed-in users and ids the pages need.
struct Fixture {
    cookie_50: String,
    cookie_1000: String,
    feedback_loop: Uuid,
    feedback_etag: String,
    live_round: Uuid,
    note_rounds: Vec<Uuid>,
    /// A second demo user, whose rounds ahead take the code autosave.
    cookie_code: String,
    code_rounds: Vec<Uuid>,
}

impl Fixture {
    async fn prepare(server: &Server, pool: &PgPool) -> anyhow::Result<Fixture> {
        let cookie_50 = sign_in(server.addr, "demo-2-1")?;
        let cookie_1000 = sign_in(server.addr, "demo-3-1")?;
        let feedback_loop: Uuid = sqlx::query_scalar(
            "select l.id from loops l join users u on u.id = l.candidate_id
             where u.username = 'demo-2-1' and l.mode = 'peer' order by l.starts_at desc limit 1",
        )
        .fetch_one(pool)
        .await?;
        // A loop starting now, with its first round running: the live round.
        let template: String =
            sqlx::query_scalar("select slug from loop_templates where owner_id is null order by slug limit 1")
                .fetch_one(pool)
                .await?;
        schedule_loop(server, &cookie_50, &template, chrono::Utc::now())?;
        let live_round: Uuid = sqlx::query_scalar(
            "select r.id from rounds r join loops l on l.id = r.loop_id join users u on u.id = l.candidate_id
             where u.username = 'demo-2-1' and l.status <> 'completed' order by l.created_at desc, r.position limit 1",
        )
        .fetch_one(pool)
        .await?;
        let started =
            request(server.addr, "POST", &format!("/rounds/{live_round}/timer"), &cookie_50, Some("action=start"))?;
        anyhow::ensure!(started.status == 303, "starting the live round answered {}", started.status);
        // Taken last: a new loop of the candidate changes the page (its "practise next").
        let feedback = request(server.addr, "GET", &format!("/loops/{feedback_loop}/feedback"), &cookie_50, None)?;
        let feedback_etag = feedback
            .headers
            .lines()
            .find_map(|line| line.strip_prefix("etag: ").or_else(|| line.strip_prefix("ETag: ")))
            .ok_or_else(|| anyhow::anyhow!("the feedback page of a completed loop has no ETag"))?
            .to_owned();
        // Autosave cycles through the user's ended rounds (one note each) so no two
        // requests in flight edit the same note.
        let note_rounds: Vec<Uuid> = sqlx::query_scalar(
            "select r.id from rounds r join loops l on l.id = r.loop_id join users u on u.id = l.candidate_id
             where u.username = 'demo-2-1' and l.status = 'completed' order by r.id",
        )
        .fetch_all(pool)
        .await?;
        // Code saves only while a round takes work: another demo user schedules
        // loops ahead (leaving the first user's pages as they were) and saves into their rounds.
        let cookie_code = sign_in(server.addr, "demo-1-1")?;
        for days_ahead in 1..=16 {
            schedule_loop(server, &cookie_code, &template, chrono::Utc::now() + chrono::Duration::days(days_ahead))?;
        }
        let code_rounds: Vec<Uuid> = sqlx::query_scalar(
            "select r.id from rounds r join loops l on l.id = r.loop_id join users u on u.id = l.candidate_id
             where u.username = 'demo-1-1' and r.timer_state = 'not_started' order by r.id",
        )
        .fetch_all(pool)
        .await?;
        // More rounds than connections, or two saves of one round race and one gets a 409.
        anyhow::ensure!(
            code_rounds.len() > CONNECTIONS as usize,
            "the code autosave benchmark needs more open rounds than connections"
        );
        Ok(Fixture {
            cookie_50,
            cookie_1000,
            cookie_code,
            feedback_loop,
            feedback_etag,
            live_round,
            note_rounds,
            code_rounds,
        })
    }
}

/// Schedules a self-timed loop of `template` at `starts_at` (UTC) as the signed-in user.
fn schedule_loop(
    server: &Server,
    cookie: &str,
    template: &str,
    starts_at: chrono::DateTime<chrono::Utc>,
) -> anyhow::Result<()> {
    let form = format!(
        "template={template}&team=genai-llm&level=senior_staff&mode=self_timed&starts_at={}\
         &time_zone=UTC&break_minutes=10&request_key={}",
        starts_at.format("%Y-%m-%dT%H:%M"),
        Uuid::new_v4()
    );
    let created = request(server.addr, "POST", "/loops", cookie, Some(&form))?;
    anyhow::ensure!(created.status == 303, "scheduling a loop answered {}", created.status);
    Ok(())
}

#[derive(Debug, Clone, Copy, Default)]
struct WrkFigures {
    requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: u64,
}

struct Target {
    name: &'static str,
    path: String,
    cookie: String,
    script: Option<(PathBuf, Autosave)>,
    /// A further request header, e.g. the `If-None-Match` of a revisit.
    header: Option<String>,
    /// Issue 14's target: the least req/s as a share of `/readyz`'s (none for the references).
    goal: Option<f64>,
}

impl Target {
    fn get(name: &'static str, path: String, cookie: &str) -> Target {
        Target { name, path, cookie: cookie.to_owned(), script: None, header: None, goal: None }
    }

    fn aiming_at(self, goal: f64) -> Target {
        Target { goal: Some(goal), ..self }
    }
}

/// A page's figures beside its target.
struct PageFigures {
    name: &'static str,
    goal: Option<f64>,
    figures: WrkFigures,
}

async fn page_benchmarks(server: &Server, fixture: &Fixture, pool: &PgPool) -> anyhow::Result<Vec<PageFigures>> {
    let script = |name: &str| std::env::temp_dir().join(format!("mockloop-{name}-{}.lua", std::process::id()));
    let feedback = format!("/loops/{}/feedback", fixture.feedback_loop);
    let targets = vec![
        Target::get("plaintext reference (/healthz)", "/healthz".into(), ""),
        Target::get("one-query reference (/readyz)", "/readyz".into(), ""),
        Target::get("home (signed in)", "/".into(), &fixture.cookie_50).aiming_at(0.5),
        Target::get("a question page", format!("/questions/{QUESTION_PAGE}"), &fixture.cookie_50).aiming_at(0.5),
        Target::get("question bank search", "/questions?q=gradient+descent".into(), &fixture.cookie_50).aiming_at(0.5),
        Target::get("live round page", format!("/rounds/{}", fixture.live_round), &fixture.cookie_50).aiming_at(0.5),
        Target::get("loop feedback (6 rounds)", feedback.clone(), &fixture.cookie_50).aiming_at(0.3),
        Target {
            header: Some(format!("If-None-Match: {}", fixture.feedback_etag)),
            ..Target::get("loop feedback, revisit (304)", feedback, &fixture.cookie_50)
        },
        Target::get("history, 50 loops", "/history".into(), &fixture.cookie_50).aiming_at(0.3),
        Target::get("history, 1,000 loops", "/history".into(), &fixture.cookie_1000).aiming_at(0.2),
        Target::get("peer board", "/board".into(), &fixture.cookie_50).aiming_at(0.5),
        Target {
            script: Some((script("notes"), Autosave::Notes)),
            ..Target::get("notes autosave (POST)", "/".into(), &fixture.cookie_50).aiming_at(0.3)
        },
        Target {
            script: Some((script("code"), Autosave::Code)),
            ..Target::get("code autosave (POST)", "/".into(), &fixture.cookie_code).aiming_at(0.3)
        },
    ];
    let repeats = setting("BENCH_REPEATS", 3);
    let seconds = setting("BENCH_SECONDS", 5);
    let mut runs: HashMap<&'static str, Vec<WrkFigures>> = HashMap::new();
    for _ in 0..repeats {
        for target in &targets {
            if let Some((script, autosave)) = &target.script {
                write_autosave_script(script, *autosave, fixture, pool).await?;
            }
            runs.entry(target.name).or_default().push(wrk(server.addr, target, seconds)?);
        }
    }
    Ok(targets.iter().map(|t| PageFigures { name: t.name, goal: t.goal, figures: median(&runs[t.name]) }).collect())
}

fn median(runs: &[WrkFigures]) -> WrkFigures {
    let pick = |f: fn(&WrkFigures) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    };
    WrkFigures {
        requests_per_second: pick(|f| f.requests_per_second),
        p50_ms: pick(|f| f.p50_ms),
        p99_ms: pick(|f| f.p99_ms),
        errors: runs.iter().map(|f| f.errors).sum(),
    }
}

/// Each page's figures and ratio to `/readyz`, against its target: the ratio,
/// and a p99 of at most 2 × `/readyz`'s p99 ÷ the target.
fn print_pages(title: &str, pages: &[PageFigures]) {
    let reference = pages.iter().find(|p| p.name.starts_with("one-query")).map(|p| p.figures);
    println!("\n{title}: wrk, {CONNECTIONS} connections, medians of interleaved runs");
    println!(
        "  {:<34} {:>9} {:>9} {:>9} {:>8} {:>7} {:>7} {:>9}",
        "page", "req/s", "p50 ms", "p99 ms", "ratio", "target", "errors", "met"
    );
    for PageFigures { name, goal, figures: f } in pages {
        let ratio = reference.map_or(0.0, |r| f.requests_per_second / r.requests_per_second);
        let (target, met) = match (goal, reference) {
            (Some(goal), Some(r)) => {
                let tail_bound = 2.0 * r.p99_ms / goal;
                let verdict = match (ratio >= *goal, f.p99_ms <= tail_bound) {
                    (true, true) => "yes",
                    (true, false) => "tail no",
                    (false, _) => "no",
                };
                (format!("{goal:.1}x"), verdict)
            }
            _ => (String::new(), ""),
        };
        println!(
            "  {name:<34} {:>9.0} {:>9.2} {:>9.2} {:>7.2}x {:>7} {:>7} {:>9}",
            f.requests_per_second, f.p50_ms, f.p99_ms, ratio, target, f.errors, met
        );
    }
}

/// Which autosave a wrk script sends.
#[derive(Debug, Clone, Copy)]
enum Autosave {
    Notes,
    Code,
}

/// wrk's Lua script for an autosave POST: each wrk thread takes its own
/// rounds in turn, sending the version the previous save of that note or code
/// made (read afresh before each run, since earlier runs moved them on). A
/// save overtaken by the next one of the same round gets a 409 carrying the
/// stored text and version; the text names its round (`r<index>x`), so the
/// script takes that version up instead of sending stale ones from then on.
async fn write_autosave_script(
    path: &Path,
    autosave: Autosave,
    fixture: &Fixture,
    pool: &PgPool,
) -> anyhow::Result<()> {
    let (rounds, versions_sql, route, fields) = match autosave {
        Autosave::Notes => (
            &fixture.note_rounds,
            "select r.id, coalesce(n.version, 0) from unnest($1::uuid[]) with ordinality as r(id, n)
             left join notes n on n.round_id = r.id and n.kind = 'scratchpad'
             order by r.n",
            "notes",
            "Autosaved+note+r\" .. at .. \"x+\" .. sent .. \"%0A%0A-+point+one%0A-+point+two",
        ),
        Autosave::Code => (
            &fixture.code_rounds,
            "select r.id, coalesce(c.version, 0) from unnest($1::uuid[]) with ordinality as r(id, n)
             left join round_code c on c.round_id = r.id
             order by r.n",
            "code",
            "%23+r\" .. at .. \"x%0Adef+solve%28values%29%3A%0A++++return+sorted%28values%29%5B-\" .. sent .. \"%3A%5D%0A&language=python",
        ),
    };
    let versions: Vec<(Uuid, i32)> = sqlx::query_as(versions_sql).bind(rounds).fetch_all(pool).await?;
    let rounds: Vec<String> = versions.iter().map(|(id, _)| format!("\"{id}\"")).collect();
    let bases: Vec<String> = versions.iter().map(|(_, version)| version.to_string()).collect();
    let script = format!(
        r#"local rounds = {{{rounds}}}
local bases = {{{bases}}}
local threads = 0
local cookie = "{cookie}"
function setup(thread)
  thread:set("index", threads)
  threads = threads + 1
end
function init(args)
  -- Two threads: even rounds to the first, odd to the second.
  sent = 0
end
function request()
  local per_thread = math.floor(#rounds / 2)
  local slot = sent % per_thread
  sent = sent + 1
  local at = slot * 2 + index + 1
  local round = rounds[at]
  local base = bases[at]
  bases[at] = base + 1
  local body = "base_version=" .. base .. "&body={fields}"
  return wrk.format("POST", "/rounds/" .. round .. "/{route}", {{
    ["Cookie"] = cookie, ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json", ["Origin"] = "http://" .. wrk.host .. ":" .. wrk.port,
    ["Sec-Fetch-Site"] = "same-origin"}}, body)
end
function response(status, headers, body)
  if status == 409 then
    local at = tonumber(string.match(body, "r(%d+)x"))
    local version = tonumber(string.match(body, '"version":(%d+)'))
    if at and version then bases[at] = version end
  end
end
"#,
        rounds = rounds.join(", "),
        bases = bases.join(", "),
        cookie = match autosave {
            Autosave::Notes => &fixture.cookie_50,
            Autosave::Code => &fixture.cookie_code,
        },
    );
    std::fs::write(path, script)?;
    Ok(())
}

fn wrk(addr: SocketAddr, target: &Target, seconds: u64) -> anyhow::Result<WrkFigures> {
    let mut command = Command::new("wrk");
    command.args(["-t2", &format!("-c{CONNECTIONS}"), &format!("-d{seconds}s"), "--latency"]);
    if !target.cookie.is_empty() {
        command.args(["-H", &format!("Cookie: {}", target.cookie)]);
    }
    if let Some(header) = &target.header {
        command.args(["-H", header]);
    }
    if let Some((script, _)) = &target.script {
        command.arg("-s").arg(script);
    }
    let output = command.arg(format!("http://{addr}{}", target.path)).output()?;
    anyhow::ensure!(output.status.success(), "wrk failed: {}", String::from_utf8_lossy(&output.stderr));
    parse_wrk(&String::from_utf8_lossy(&output.stdout))
}

fn parse_wrk(text: &str) -> anyhow::Result<WrkFigures> {
    let mut figures = WrkFigures::default();
    for line in text.lines().map(str::trim) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields.as_slice() {
            ["50%", value] => figures.p50_ms = duration_ms(value)?,
            ["99%", value] => figures.p99_ms = duration_ms(value)?,
            ["Requests/sec:", value] => figures.requests_per_second = value.parse()?,
            ["Non-2xx", "or", "3xx", "responses:", count] => figures.errors += count.parse::<u64>()?,
            ["Socket", "errors:", rest @ ..] => {
                figures.errors += rest.iter().filter_map(|v| v.trim_end_matches(',').parse::<u64>().ok()).sum::<u64>()
            }
            _ => {}
        }
    }
    anyhow::ensure!(figures.requests_per_second > 0.0, "wrk printed no figures:\n{text}");
    Ok(figures)
}

fn duration_ms(value: &str) -> anyhow::Result<f64> {
    let split = value.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse()?;
    Ok(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        _ => anyhow::bail!("unknown wrk unit in {value}"),
    })
}

struct LiveFigures {
    streams: usize,
    connected: usize,
    rss_per_stream_kib: f64,
    deliveries: usize,
    expected: usize,
    p50_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

impl LiveFigures {
    fn print(&self, title: &str) {
        println!(
            "  {title}: {}/{} streams open, {:.1} KiB server RSS per stream, {}/{} events delivered \
             ({} lost), delivery p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.connected,
            self.streams,
            self.rss_per_stream_kib,
            self.deliveries,
            self.expected,
            self.expected - self.deliveries,
            self.p50_ms,
            self.p99_ms,
            self.max_ms
        );
    }
}

/// Opens `streams` event streams on the live round (spread over `servers`),
/// then pauses and resumes the timer `events` times, timing each delivery
/// from the moment the change was sent.
async fn live_benchmark(
    servers: &[&Server],
    fixture: &Fixture,
    streams: usize,
    events: usize,
) -> anyhow::Result<LiveFigures> {
    let rss_before: u64 = servers.iter().map(|s| s.rss_kib()).sum();
    // Per stream, the arrival time of each timer event after the first (the current state).
    let arrivals: Arc<Mutex<Vec<Vec<Instant>>>> = Arc::new(Mutex::new(vec![Vec::new(); streams]));
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<bool>(streams);
    let mut tasks = Vec::with_capacity(streams);
    for index in 0..streams {
        let addr = servers[index % servers.len()].addr;
        let path = format!("/rounds/{}/events", fixture.live_round);
        let cookie = fixture.cookie_50.clone();
        let arrivals = arrivals.clone();
        let ready = ready_tx.clone();
        tasks.push(tokio::spawn(async move {
            let outcome = follow_stream(addr, &path, &cookie, index, &arrivals, &ready).await;
            if outcome.is_err() {
                let _ = ready.send(false).await;
            }
        }));
        if index % 200 == 199 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    let (mut connected, mut answered) = (0, 0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while answered < streams {
        match tokio::time::timeout_at(deadline, ready_rx.recv()).await {
            Ok(Some(true)) => connected += 1,
            Ok(Some(false)) => {}
            Ok(None) | Err(_) => break,
        }
        answered += 1;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after: u64 = servers.iter().map(|s| s.rss_kib()).sum();

    let mut sent_at = Vec::with_capacity(events);
    for event in 0..events {
        let action = if event % 2 == 0 { "pause" } else { "resume" };
        let now = Instant::now();
        let addr = servers[0].addr;
        let cookie = fixture.cookie_50.clone();
        let path = format!("/rounds/{}/timer", fixture.live_round);
        let answer = tokio::task::spawn_blocking(move || {
            request(addr, "POST", &path, &cookie, Some(&format!("action={action}")))
        })
        .await??;
        anyhow::ensure!(answer.status == 303, "timer {action} answered {}", answer.status);
        sent_at.push(now);
        // Let every stream catch up before the next change, as a person would.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let done = arrivals.lock().await.iter().filter(|a| a.len() > event).count();
            if done >= connected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    if events % 2 == 1 {
        // Leave the timer running for the next run, which starts with a pause.
        let (addr, cookie, path) =
            (servers[0].addr, fixture.cookie_50.clone(), format!("/rounds/{}/timer", fixture.live_round));
        tokio::task::spawn_blocking(move || request(addr, "POST", &path, &cookie, Some("action=resume"))).await??;
    }
    for task in tasks {
        task.abort();
    }
    let arrivals = arrivals.lock().await;
    let mut latencies: Vec<f64> = Vec::new();
    for stream in arrivals.iter() {
        for (event, at) in stream.iter().enumerate().take(events) {
            latencies.push(at.saturating_duration_since(sent_at[event]).as_secs_f64() * 1000.0);
        }
    }
    latencies.sort_by(f64::total_cmp);
    let percentile = |p: f64| {
        latencies
            .get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    Ok(LiveFigures {
        streams,
        connected,
        rss_per_stream_kib: (rss_after.saturating_sub(rss_before)) as f64 / connected.max(1) as f64,
        deliveries: latencies.len(),
        expected: streams * events,
        p50_ms: percentile(0.5),
        p99_ms: percentile(0.99),
        max_ms: latencies.last().copied().unwrap_or(f64::NAN),
    })
}

async fn follow_stream(
    addr: SocketAddr,
    path: &str,
    cookie: &str,
    index: usize,
    arrivals: &Mutex<Vec<Vec<Instant>>>,
    ready: &tokio::sync::mpsc::Sender<bool>,
) -> anyhow::Result<()> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nAccept: text/event-stream\r\n\r\n")
                .as_bytes(),
        )
        .await?;
    let mut lines = BufReader::new(stream).lines();
    let status = lines.next_line().await?.unwrap_or_default();
    anyhow::ensure!(status.contains(" 200 "), "event stream answered {status}");
    let mut first = true;
    while let Some(line) = lines.next_line().await? {
        if line == "event: timer" {
            if first {
                first = false;
                let _ = ready.send(true).await;
            } else {
                arrivals.lock().await[index].push(Instant::now());
            }
        }
    }
    Ok(())
}

/// A `mockloop serve` process on its own port.
struct Server {
    child: Child,
    addr: SocketAddr,
    started: Instant,
}

impl Server {
    fn start(data_dir: &Path, port: u16) -> anyhow::Result<Server> {
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let child = Command::new(BINARY)
            .args(["--data-dir", &data_dir.to_string_lossy(), "--bind", &addr.to_string()])
            .args(["--max-live-streams-per-user", "100000", "--log-format", "json"])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        Ok(Server { child, addr, started: Instant::now() })
    }

    /// Waits for /readyz and says how long it took from the start.
    fn wait_ready(&self, limit: Duration) -> anyhow::Result<Duration> {
        while self.started.elapsed() < limit {
            if let Ok(answer) = request(self.addr, "GET", "/readyz", "", None)
                && answer.status == 200
            {
                return Ok(self.started.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        anyhow::bail!("the server on {} was not ready within {limit:?}", self.addr)
    }

    fn rss_kib(&self) -> u64 {
        let pid = self.child.id();
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|status| {
                status.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
            })
            .unwrap_or(0)
    }

    fn stop(&mut self) {
        let pid = nix::unistd::Pid::from_raw(self.child.id() as i32);
        let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
        let _ = self.child.wait();
    }
}

/// A failed run stops its servers too (and with them the PostgreSQL they started).
impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.stop();
        }
    }
}

fn demo_data(data_dir: &Path, users: u32, loops_per_user: u32, seed: u32) -> anyhow::Result<()> {
    let output = Command::new(BINARY)
        .args(["--data-dir", &data_dir.to_string_lossy()])
        .args(["demo-data", "--users", &users.to_string(), "--loops-per-user", &loops_per_user.to_string()])
        .args(["--seed", &seed.to_string()])
        .env("RUST_LOG", "warn")
        .output()?;
    anyhow::ensure!(output.status.success(), "demo-data failed: {}", String::from_utf8_lossy(&output.stderr));
    print!("  {}", String::from_utf8_lossy(&output.stdout).lines().next().unwrap_or_default());
    println!();
    Ok(())
}

struct Answer {
    status: u16,
    headers: String,
}

/// One HTTP/1.1 request on its own connection, as a same-origin browser would send it.
fn request(addr: SocketAddr, method: &str, path: &str, cookie: &str, form: Option<&str>) -> anyhow::Result<Answer> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = form.unwrap_or("");
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !cookie.is_empty() {
        head.push_str(&format!("Cookie: {cookie}\r\n"));
    }
    if form.is_some() {
        head.push_str(&format!(
            "Origin: http://{addr}\r\nSec-Fetch-Site: same-origin\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let text = String::from_utf8_lossy(&response);
    let headers = text.split("\r\n\r\n").next().unwrap_or_default().to_owned();
    let status = headers.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok(Answer { status, headers })
}

fn sign_in(addr: SocketAddr, username: &str) -> anyhow::Result<String> {
    let answer = request(
        addr,
        "POST",
        "/signin",
        "",
        Some(&format!("username={username}&password={}", mockloop::commands::DEMO_PASSWORD)),
    )?;
    answer
        .headers
        .lines()
        .filter_map(|line| line.strip_prefix("set-cookie: ").or_else(|| line.strip_prefix("Set-Cookie: ")))
        .find(|cookie| cookie.starts_with("mockloop_session="))
        .and_then(|cookie| cookie.split(';').next())
        .map(str::to_owned)
        .ok_or_else(|| anyhow::anyhow!("signing in as {username} set no session cookie (status {})", answer.status))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// 5,000 streams need more descriptors than the usual 1,024; children inherit the limit.
fn raise_open_file_limit() {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    if let Ok((_, hard)) = getrlimit(Resource::RLIMIT_NOFILE) {
        let _ = setrlimit(Resource::RLIMIT_NOFILE, hard.min(65_536), hard.min(65_536));
    }
}

fn num_cores() -> usize {
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}
