//! Bounded work per page: on a database of demo loops, every hot page runs a
//! fixed number of queries whatever the user's history holds, and none of
//! their plans scans a large table from end to end.
//!
//! Plans come from PostgreSQL's auto_explain, loaded into each of the app's
//! connections and sent back as notices; queries are counted from sqlx's own
//! per-statement log. Both are captured on this test's thread only.
//!
//! A test database is small, and on small tables a whole-table scan is the
//! planner's right choice. So the connections run with sequential scans, hash
//! joins and merge joins disabled, which makes PostgreSQL read a table whole
//! (by a sequential or a full index scan) only when no index can serve the
//! access: one left in a plan is a missing index, at any size. What this cannot
//! show is which plan the planner prefers on a big database; the benchmark's
//! 100k-loop phase is where that is measured.

use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use sqlx::{Executor, PgPool};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::{Layer, Registry};
use uuid::Uuid;

use mockloop::state::AppState;

use crate::support::app::settings;
use crate::support::{LoopBuilder, TestApp, TestDb, TestResponse};

/// Tables that grow with use; reading one whole is a page that slows as the instance ages.
const LARGE_TABLES: &[&str] = &[
    "loops",
    "rounds",
    "round_questions",
    "scorecards",
    "criterion_scores",
    "notes",
    "timer_events",
    "users",
    "loop_score_points",
    "score_buckets",
    "round_versions",
    "round_code",
];

#[derive(Default)]
struct Captured {
    queries: usize,
    plans: Vec<String>,
}

/// Counts sqlx's per-statement events and keeps auto_explain's notices.
struct CaptureLayer(Arc<Mutex<Captured>>);

/// One field of an event, as text.
struct FieldText {
    name: &'static str,
    text: String,
}

impl Visit for FieldText {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == self.name {
            self.text.push_str(value);
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == self.name {
            self.text.push_str(&format!("{value:?}"));
        }
    }
}

fn field_text(event: &tracing::Event<'_>, name: &'static str) -> String {
    let mut field = FieldText { name, text: String::new() };
    event.record(&mut field);
    field.text
}

/// Statements of a connection being set up (this test's auto_explain, the live
/// listener's LISTEN), which the pool runs in the background when it likes.
fn is_connection_setup(summary: &str) -> bool {
    let summary = summary.trim_start().to_lowercase();
    summary.starts_with("load") || summary.starts_with("listen")
}

impl<S: tracing::Subscriber> Layer<S> for CaptureLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let target = event.metadata().target();
        let mut captured = self.0.lock().expect("capture lock");
        if target == "sqlx::query" {
            if !is_connection_setup(&field_text(event, "summary")) {
                captured.queries += 1;
            }
        } else if target == "sqlx::postgres::notice" {
            captured.plans.push(field_text(event, "message"));
        }
    }
}

/// What one request cost: its status, queries and plans.
struct Measured {
    status: StatusCode,
    queries: usize,
    plans: Vec<String>,
}

/// The test database filled with demo loops, and the app on a pool whose
/// connections explain every statement they run.
async fn demo_app() -> (TestApp, TestDb) {
    let db = TestDb::new().await;
    let mut conn = db.pool.acquire().await.expect("connection");
    for (users, loops, seed) in [(150, 10, 1), (1, 10, 2), (1, 200, 3)] {
        let request = mockloop::commands::demo_request(users, loops, seed).expect("demo request");
        mockloop::db::demo::generate(&mut conn, &request, &mut |_| {}).await.expect("demo data");
    }
    drop(conn);
    let explained: PgPool = mockloop::db::pool_options(4)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(
                    "load 'auto_explain'; set auto_explain.log_min_duration = 0;
                     set auto_explain.log_level = 'notice'; set auto_explain.log_format = 'text';
                     set auto_explain.log_nested_statements = on; set enable_seqscan = off;
                     set enable_hashjoin = off; set enable_mergejoin = off",
                )
                .await?;
                Ok(())
            })
        })
        .connect_with(mockloop::db::page_serving(db.options.clone()))
        .await
        .expect("explaining pool");
    let state = AppState::new(explained, settings());
    // Until its listener listens, an instance holds no session or shipped
    // content, and a page's query count would depend on when it started.
    let started = std::time::Instant::now();
    while !state.live.sessions().is_listening() {
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "the live listener never listened");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let app = TestApp::with_state(state);
    (app, db)
}

async fn measure<F: Future<Output = TestResponse>>(request: F) -> Measured {
    let captured = Arc::new(Mutex::new(Captured::default()));
    let subscriber = Registry::default().with(CaptureLayer(captured.clone()));
    let response = {
        let _scope = tracing::subscriber::set_default(subscriber);
        request.await
    };
    let captured = std::mem::take(&mut *captured.lock().expect("capture lock"));
    Measured { status: response.status, queries: captured.queries, plans: captured.plans }
}

/// Every read of a large table from end to end: a sequential scan, or an index
/// scan with no index condition (what the planner falls back to without them).
fn whole_table_scans(plans: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for plan in plans {
        let query = plan.lines().find(|l| l.contains("Query Text:")).unwrap_or("").trim();
        let lines: Vec<&str> = plan.lines().collect();
        for (at, line) in lines.iter().enumerate() {
            let scanned = if let Some(rest) = line.split("Seq Scan on ").nth(1) {
                Some(("sequential scan", rest))
            } else if line.contains("Index Scan using ") || line.contains("Index Only Scan using ") {
                line.split(" on ")
                    .nth(1)
                    .filter(|_| !has_index_condition(&lines[at..]))
                    .map(|rest| ("full index scan", rest))
            } else {
                None
            };
            if let Some((how, rest)) = scanned {
                let table = rest.split_whitespace().next().unwrap_or("");
                if LARGE_TABLES.contains(&table) {
                    found.push(format!("{how} of {table}: {query}"));
                }
            }
        }
    }
    found
}

/// Whether the plan node starting at `node[0]` has an "Index Cond" among its own
/// detail lines (those indented under it, before its first child node).
fn has_index_condition(node: &[&str]) -> bool {
    let indent = |line: &str| line.len() - line.trim_start().len();
    let own = indent(node[0]);
    node[1..]
        .iter()
        .take_while(|line| indent(line) > own && !line.trim_start().starts_with("->"))
        .any(|line| line.trim_start().starts_with("Index Cond:"))
}

async fn latest_loop(app: &TestApp, username: &str) -> (Uuid, Uuid) {
    sqlx::query_as(
        "select l.id, r.id from loops l join users u on u.id = l.candidate_id join rounds r on r.loop_id = l.id
         where u.username = $1 order by l.starts_at desc, r.position limit 1",
    )
    .bind(username)
    .fetch_one(&app.db)
    .await
    .expect("a demo loop")
}

#[tokio::test]
async fn hot_pages_run_a_fixed_number_of_index_driven_queries() {
    let (app, _db) = demo_app().await;
    let mut checked = 0;
    let mut scans = Vec::new();
    let mut per_user: Vec<Vec<(String, usize)>> = Vec::new();
    for username in ["demo-2-1", "demo-3-1"] {
        let cookie = app.sign_in_with(username, mockloop::commands::DEMO_PASSWORD).await;
        let (loop_id, round_id) = latest_loop(&app, username).await;
        let pages = [
            "/".to_owned(),
            "/history".to_owned(),
            "/history/questions".to_owned(),
            "/questions?q=gradient+descent".to_owned(),
            "/questions/coding-bounding-box-iou".to_owned(),
            "/loops/new".to_owned(),
            format!("/loops/{loop_id}"),
            format!("/loops/{loop_id}/feedback"),
            format!("/loops/{loop_id}/feedback.json"),
            format!("/rounds/{round_id}"),
            format!("/rounds/{round_id}/feedback"),
            format!("/rounds/{round_id}/assessment"),
            format!("/rounds/{round_id}/state"),
        ];
        let mut figures = Vec::new();
        for page in &pages {
            // The first request prepares statements; the second is the steady state.
            // A kept bank page would be served from memory: the measured search is
            // a new one, so its own statements are the ones checked.
            app.get(page, Some(&cookie)).await;
            let measured_page = page.replace("q=gradient+descent", "q=descent+gradient");
            let measured = measure(app.get(&measured_page, Some(&cookie))).await;
            assert_eq!(measured.status, StatusCode::OK, "{username} {page}");
            assert!(!measured.plans.is_empty(), "auto_explain sent no plans for {page}");
            scans.extend(whole_table_scans(&measured.plans).into_iter().map(|s| format!("{page}: {s}")));
            let label = page.replace(&loop_id.to_string(), "{loop}").replace(&round_id.to_string(), "{round}");
            figures.push((label, measured.queries));
            checked += 1;
        }
        // The round page is kept too: after a change, its full read is measured.
        sqlx::query(
            "insert into round_versions as v (round_id, version) values ($1, 1)
             on conflict (round_id) do update set version = v.version + 1",
        )
        .bind(round_id)
        .execute(&app.db)
        .await
        .expect("a change to the round");
        let changed = measure(app.get(&format!("/rounds/{round_id}"), Some(&cookie))).await;
        assert_eq!(changed.status, StatusCode::OK, "{username} changed round page");
        scans.extend(whole_table_scans(&changed.plans).into_iter().map(|s| format!("changed round page: {s}")));
        figures.push(("/rounds/{round} after a change".to_owned(), changed.queries));
        let notes = measure(app.post_form(
            &format!("/rounds/{round_id}/notes"),
            &[("body", "More **notes**"), ("base_version", "3")],
            Some(&cookie),
        ))
        .await;
        assert!(notes.status.is_redirection(), "notes save: {}", notes.status);
        scans.extend(whole_table_scans(&notes.plans).into_iter().map(|s| format!("notes save: {s}")));
        figures.push(("notes save".to_owned(), notes.queries));
        let schedule = LoopBuilder::self_timed("mle-onsite").starts_at("2030-01-07T09:00").time_zone("UTC");
        let created = measure(app.post_form("/loops", &schedule.form(), Some(&cookie))).await;
        assert_eq!(created.status, StatusCode::SEE_OTHER, "loop created");
        scans.extend(whole_table_scans(&created.plans).into_iter().map(|s| format!("loop create: {s}")));
        figures.push(("loop create".to_owned(), created.queries));
        // The new loop's first round takes code: a code autosave is measured there.
        let (_, open_round) = latest_loop(&app, username).await;
        let code = measure(app.post_form(
            &format!("/rounds/{open_round}/code"),
            &[("body", "def solve(values):\n    return sorted(values)"), ("language", "python"), ("base_version", "0")],
            Some(&cookie),
        ))
        .await;
        assert!(code.status.is_redirection(), "code save: {}", code.status);
        scans.extend(whole_table_scans(&code.plans).into_iter().map(|s| format!("code save: {s}")));
        figures.push(("code save".to_owned(), code.queries));
        checked += 4;
        per_user.push(figures);
    }
    assert!(scans.is_empty(), "whole-table reads of large tables:\n{}", scans.join("\n"));
    let (small, large) = (&per_user[0], &per_user[1]);
    for ((page, few), (_, many)) in small.iter().zip(large) {
        assert_eq!(few, many, "{page}: {few} queries with 10 loops, {many} with 200");
    }
    let summary: Vec<String> = small.iter().map(|(page, n)| format!("{page} {n}")).collect();
    println!(
        "FIGURE scale.queries: {checked} page loads as users with 10 and with 200 loops, the same query count for both, \
         0 whole-table reads (sequential or full index scans) of large tables; queries per page: {}",
        summary.join(", ")
    );
}

/// A long history stays one screen of charts: past 60 loops a series is drawn
/// from weekly or monthly means, and the page's size does not grow with the loops.
#[tokio::test]
async fn a_long_history_draws_bucketed_charts_in_a_bounded_page() {
    let (app, _db) = demo_app().await;
    let cookie = app.sign_in_with("demo-3-1", mockloop::commands::DEMO_PASSWORD).await;
    let history = app.get("/history", Some(&cookie)).await;
    assert_eq!(history.status, StatusCode::OK);
    let page = history.page();
    assert!(page.text_of("#pillar-progress .chart-title").contains("monthly mean"), "200 loops over two years");
    for points in page.attrs("#pillar-progress polyline", "points") {
        let count = points.split_whitespace().count();
        assert!((1..=60).contains(&count), "{count} points in a series");
    }
    assert_eq!(page.count("#pillar-progress .chart-legend li"), 4, "a legend entry per pillar, in HTML");
    assert_eq!(page.count("#current-levels dd"), 4, "where the user stands per pillar");
    assert_eq!(page.count("#history-loops tbody tr"), 20, "the newest loops, then paging");
    assert!(history.body.len() < 150 * 1024, "history is {} bytes", history.body.len());

    let questions = app.get("/history/questions", Some(&cookie)).await.page();
    assert_eq!(questions.count("#questions-seen tbody tr"), 20, "questions had, a page at a time");
    assert!(questions.has("#questions-had-older"), "with older ones on the next page");
    let second = app.get("/history/questions?page=2", Some(&cookie)).await.page();
    assert!(second.count("#questions-seen tbody tr") > 0);
    assert_ne!(questions.texts("#questions-seen th a"), second.texts("#questions-seen th a"));
}

/// `mockloop demo-data` says how far it has got and how fast it writes, a
/// line per step when its output is not a terminal (a log, CI).
#[tokio::test]
async fn demo_data_reports_each_step_and_its_rate_as_it_goes() {
    let db = TestDb::new().await;
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_mockloop"))
        .args(["demo-data", "--users", "3", "--loops-per-user", "2", "--seed", "77"])
        .env("DATABASE_URL", db.url())
        .env_remove("MOCKLOOP_CONTENT_DIR")
        .env("RUST_LOG", "warn")
        .output()
        .expect("mockloop runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let steps: Vec<&str> = stderr.lines().filter(|line| line.starts_with("demo data: step ")).collect();
    let total = steps.len();
    assert!(total >= 10, "a line per step: {stderr}");
    for (index, line) in steps.iter().enumerate() {
        assert!(line.starts_with(&format!("demo data: step {}/{total} ", index + 1)), "in order: {line}");
        assert!(line.ends_with(" rows/s)"), "with the rate so far: {line}");
    }
    assert!(steps[0].contains("people to create: 3 rows"), "{}", steps[0]);
    assert!(steps.iter().any(|line| line.contains(" loops: 6 rows")), "{stderr}");
    assert!(!stderr.contains('\r'), "no redrawn bar when stderr is not a terminal");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.starts_with("demo data: 3 users, 6 loops"), "{stdout}");
}
