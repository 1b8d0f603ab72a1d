//! The Markdown renderer's cost is bounded whatever the text: every input up
//! to the largest text the app renders (a note) renders within 50 ms of CPU
//! and 20 MB of heap,
//! over a corpus of adversarial shapes and a property test that makes more;
//! and a real server keeps answering while it saves the note that once stalled
//! it for minutes. Remote images neither render nor reach a Markdown export.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use mockloop::domain::markdown::{self, MAX_NESTING};
use mockloop::web::RENDERED_IN_PLACE_BYTES;
use mockloop::web::rounds::MAX_NOTE_BYTES;
use nix::sys::resource::{UsageWho, getrusage};
use nix::time::{ClockId, clock_gettime};
use proptest::prelude::*;

use crate::support::proof::{proof_count, runner};
use crate::support::rounds::{run_round, save_note};
use crate::support::scorecards::{criteria_of_round, post_assessment, scorecard_form, set};
use crate::support::server::{ServedCandidate, http, serve_test_db};
use crate::support::{TestApp, id_of, peer_loop};

/// Most time one render may take, and most memory it may hold at once.
const TIME_BOUND: Duration = Duration::from_millis(50);
const MEMORY_BOUND: usize = 20 * 1024 * 1024;

/// Counts each thread's live heap bytes and their peak, so that a render's
/// memory is measured on its own while other tests run in other threads.
struct CountingAllocator;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn count(delta: isize) {
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every call goes to the system allocator unchanged; only sizes are counted.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            count(layout.size() as isize);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(pointer, layout) };
        count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            count(new_size as isize - layout.size() as isize);
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// What one render cost: the CPU time of the fastest of a few runs (CPU time,
/// not wall time, so that other processes on a busy machine do not count) and
/// the most heap it held beyond what was live before.
struct Cost {
    time: Duration,
    peak_bytes: usize,
}

/// CPU time this thread has used so far.
fn thread_cpu_time() -> Duration {
    let usage = getrusage(UsageWho::RUSAGE_THREAD).expect("getrusage");
    let micros = |t: nix::sys::time::TimeVal| t.tv_sec() as u64 * 1_000_000 + t.tv_usec() as u64;
    Duration::from_micros(micros(usage.user_time()) + micros(usage.system_time()))
}

fn measure(markdown: &str) -> Cost {
    let mut time = Duration::MAX;
    let mut peak_bytes = 0;
    for _ in 0..3 {
        let before = LIVE.with(Cell::get);
        PEAK.with(|peak| peak.set(before));
        let started = thread_cpu_time();
        let html = markdown::render(markdown);
        time = time.min(thread_cpu_time() - started);
        peak_bytes = peak_bytes.max((PEAK.with(Cell::get) - before) as usize);
        drop(html);
    }
    Cost { time, peak_bytes }
}

/// `unit` repeated up to `size` bytes.
fn filled(unit: &str, size: usize) -> String {
    unit.repeat(size / unit.len())
}

/// Lines from `line(i)` for i = 0, 1, … up to `size` bytes.
fn lines(size: usize, line: impl Fn(usize) -> String) -> String {
    let mut text = String::new();
    for i in 0.. {
        let next = line(i);
        if text.len() + next.len() > size {
            break;
        }
        text.push_str(&next);
    }
    text
}

/// Units that shapes repeat: every block and inline opener, long runs of each
/// delimiter, raw HTML, references. A 100 KB run of any of them once cost
/// seconds (`>`: minutes) or is known to be hard for CommonMark parsers.
const UNITS: &[&str] = &[
    ">",
    "> ",
    "*",
    "_",
    "`",
    "[",
    "]",
    "<",
    "|",
    "~",
    "!",
    "\\",
    "&",
    "#",
    "-",
    "=",
    "(",
    ")",
    "\"",
    "\n",
    " ",
    "\t",
    "- ",
    "* ",
    "+ ",
    "1. ",
    "> - ",
    "- > ",
    "> 1. ",
    "- [ ] ",
    "*a",
    "**a",
    "_a",
    "__a",
    "a*",
    "a_",
    "*a*",
    "**a**",
    "*_",
    "_*",
    "**_",
    "*a _b **c __d ",
    "~~a",
    "~a",
    "[a",
    "[a]",
    "[a](",
    "![a](",
    "](",
    "[](",
    "[![",
    "[[",
    "]]",
    "[a](/u)",
    "![a](/u.png)",
    "<a",
    "<a>",
    "</a>",
    "<div>",
    "<div>\n",
    "</div>",
    "<span>",
    "<em>",
    "<b>",
    "<!--",
    "-->",
    "<?",
    "<![CDATA[",
    "<!X",
    "<http://a",
    "<a@b.c>",
    "`a",
    "``a",
    "a`",
    "| a |\n",
    "|-",
    "a|",
    "&amp;",
    "&#",
    "&#x",
    "\\*",
    "\n>",
    "\n- ",
    "\n\n",
    "    a\n",
    "```\n",
    "~~~\n",
    "# ",
    "---\n",
    "a\n=\n",
    "[a]: /u\n",
    "[a]\n",
    "[a][a]",
    "<a href=",
    "<img src=x ",
    "\"'",
    "*[",
    "]*",
    "_[a](",
    "`<",
    "<`",
    "[`",
    "`]",
    "$",
    "^",
];

/// Shapes no repeated unit makes: nesting by indentation, growing delimiter
/// runs, wide tables, many reference definitions and their uses.
fn structured_shapes(size: usize) -> Vec<(String, String)> {
    let half = size / 2;
    vec![
        ("lists nested by indentation".into(), lines(size, |i| format!("{}- a\n", "  ".repeat(i)))),
        ("ordered lists nested by indentation".into(), lines(size, |i| format!("{}1. a\n", "   ".repeat(i)))),
        ("quotes and lists, one level more each line".into(), lines(size, |i| format!("{}a\n", "> - ".repeat(i)))),
        ("backtick runs of growing length".into(), lines(size, |i| format!("{}a", "`".repeat(i + 1)))),
        ("asterisk runs of growing length".into(), lines(size, |i| format!("{}a ", "*".repeat(i + 1)))),
        ("bracket runs of growing length".into(), lines(size, |i| format!("{}a", "[".repeat(i + 1)))),
        ("open then close emphasis".into(), format!("{}a{}", "*".repeat(half / 2), "*".repeat(half / 2))),
        ("open then close mixed emphasis".into(), format!("{}a{}", "*_".repeat(half / 4), "_*".repeat(half / 4))),
        ("nested links".into(), format!("{}a{}", "[".repeat(half / 5), "](/u)".repeat(half / 5))),
        ("nested images".into(), format!("{}a{}", "![".repeat(half / 6), "](/u)".repeat(half / 6))),
        ("nested divs".into(), format!("{}{}", "<div>".repeat(half / 5), "</div>".repeat(half / 6))),
        ("nested strikethrough".into(), format!("{}a{}", "~~".repeat(half / 4), "~~".repeat(half / 4))),
        (
            "a table 2000 columns wide".into(),
            format!(
                "{}\n{}\n{}",
                "|a".repeat(2000),
                "|-".repeat(2000),
                lines(size.saturating_sub(12_000), |_| "|b".repeat(50) + "\n")
            ),
        ),
        ("a table 2 columns wide, rows to the end".into(), format!("|a|b|\n|-|-|\n{}", filled("c\n", size - 12))),
        (
            "a table just under the cell limit, then more".into(),
            format!("{}\n{}\n{}", "|a".repeat(100), "|-".repeat(100), lines(size - 500, |_| "b\n".into())),
        ),
        ("tables one after another".into(), filled("|a|b|c|d|\n|-|-|-|-|\n|e|f|g|h|\n\n", size)),
        ("a table in deep quotes".into(), {
            let quotes = "> ".repeat(40);
            format!("{quotes}| a | b |\n{quotes}|---|---|\n{}", filled(&format!("{quotes}x\n"), size / 2))
        }),
        (
            "many reference definitions, then their uses".into(),
            format!(
                "{}{}",
                lines(half, |i| format!("[r{i}]: /u{i}\n")),
                lines(half, |i| format!("[r{}][] ![r{}] ", i % 4000, i % 4000))
            ),
        ),
        ("many links".into(), lines(size, |i| format!("[l{i}](https://e.example/{i}) "))),
        ("many remote images".into(), lines(size, |i| format!("![i{i}](https://e.example/{i}.png) "))),
        ("links in deep quotes".into(), lines(size, |i| format!("{}[a](/u)\n", "> ".repeat(i % 200)))),
    ]
}

/// Every adversarial input, named, each as large as a note may be.
fn corpus() -> Vec<(String, String)> {
    let mut corpus: Vec<(String, String)> =
        UNITS.iter().map(|unit| (format!("{unit:?} repeated"), filled(unit, MAX_NOTE_BYTES))).collect();
    corpus.extend(structured_shapes(MAX_NOTE_BYTES));
    corpus.push(("the note that stalled the server: 99 000 '>'".into(), ">".repeat(99_000)));
    corpus
}

#[test]
fn every_adversarial_shape_renders_within_50_ms_and_20_mb() {
    let corpus = corpus();
    let mut worst_time = (Duration::ZERO, String::new());
    let mut worst_memory = (0, String::new());
    let mut over = Vec::new();
    for (name, markdown) in &corpus {
        assert!(markdown.len() <= MAX_NOTE_BYTES, "{name} fits in a note");
        let cost = measure(markdown);
        if cost.time > TIME_BOUND || cost.peak_bytes > MEMORY_BOUND {
            over.push(format!("{name}: {:?}, {} KB", cost.time, cost.peak_bytes / 1024));
        }
        if cost.time > worst_time.0 {
            worst_time = (cost.time, name.clone());
        }
        if cost.peak_bytes > worst_memory.0 {
            worst_memory = (cost.peak_bytes, name.clone());
        }
    }
    println!(
        "FIGURE markdown: worst render {:.1} ms CPU over {} adversarial inputs of up to {} KB, peak extra heap {:.1} MB",
        worst_time.0.as_secs_f64() * 1000.0,
        corpus.len(),
        MAX_NOTE_BYTES / 1000,
        worst_memory.0 as f64 / 1024.0 / 1024.0
    );
    println!("slowest: {} ({:?}); largest: {}", worst_time.1, worst_time.0, worst_memory.1);
    assert!(over.is_empty(), "over {TIME_BOUND:?} or {} MB: {over:#?}", MEMORY_BOUND >> 20);
}

/// A short note renders on the async worker that received it (no hand-off to
/// the blocking pool), so its worst case must stay below a slow query's time.
#[test]
fn every_adversarial_shape_short_enough_to_render_in_place_takes_under_2_ms() {
    let size = RENDERED_IN_PLACE_BYTES;
    // Each shape made at this size, and the start of each full-size one.
    let mut shapes: Vec<(String, String)> = structured_shapes(size);
    shapes.extend(corpus().into_iter().map(|(name, mut markdown)| {
        markdown.truncate(markdown.floor_char_boundary(size));
        (format!("the start of {name}"), markdown)
    }));
    shapes.retain(|(_, markdown)| markdown.len() <= size);
    // Renders this short are below getrusage's tick: the thread's CPU clock
    // times a run of them (other tests share the cores; CPU time ignores them).
    const RUNS: u32 = 50;
    let thread_clock = || {
        let now = clock_gettime(ClockId::CLOCK_THREAD_CPUTIME_ID).expect("thread CPU clock");
        Duration::new(now.tv_sec() as u64, now.tv_nsec() as u32)
    };
    let per_render = |markdown: &str| {
        let started = thread_clock();
        for _ in 0..RUNS {
            drop(markdown::render(markdown));
        }
        (thread_clock() - started) / RUNS
    };
    let (worst, name) = shapes.iter().map(|(name, markdown)| (per_render(markdown), name)).max().expect("shapes");
    println!(
        "FIGURE markdown in place: worst render {worst:?} over {} inputs of up to {size} bytes ({name})",
        shapes.len()
    );
    assert!(worst < Duration::from_millis(2), "{name} took {worst:?}");
}

/// Random mixtures of the units, repeated to a note's full size, with random
/// nesting in front: what the fixed corpus does not think of.
#[test]
fn random_mixtures_of_delimiters_and_nesting_render_within_50_ms() {
    let mut runner = runner(proof_count(40, 300));
    let shape = (
        prop::collection::vec(prop::sample::select(UNITS), 1..6),
        prop::collection::vec(prop::sample::select(&["> ", "- ", "1. ", "* ", "  "][..]), 0..64),
        "[a-z ]{0,3}",
    );
    runner
        .run(&shape, |(units, nesting, word)| {
            let unit = format!("{}{}", units.concat(), word);
            let head = nesting.concat();
            let markdown = format!("{head}{}", filled(&unit, MAX_NOTE_BYTES - head.len()));
            let cost = measure(&markdown);
            prop_assert!(cost.time <= TIME_BOUND, "{:?} for {:?}…", cost.time, &markdown[..markdown.len().min(80)]);
            prop_assert!(cost.peak_bytes <= MEMORY_BOUND, "{} KB", cost.peak_bytes / 1024);
            Ok(())
        })
        .expect("every mixture renders within the bounds");
}

#[test]
fn deep_nesting_loses_markup_past_the_limit_but_keeps_every_word() {
    let words: Vec<String> = (0..200).map(|i| format!("w{i}")).collect();
    let markdown: String = words.iter().enumerate().map(|(i, w)| format!("{}{w}\n", "> ".repeat(i))).collect();
    let html = markdown::render(&markdown);
    assert_eq!(html.matches("<blockquote>").count(), MAX_NESTING, "{html}");
    for word in &words {
        assert!(html.contains(word.as_str()), "{word} is kept");
    }
}

/// The repro of the stall, against the real binary: while it saves a note of
/// 99 000 `>`, `/healthz` keeps answering, and the note is stored.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_keeps_answering_while_it_saves_a_pathological_note() {
    let (db, server) = serve_test_db(&[]).await;
    let port = server.port;
    let candidate = ServedCandidate::with_round(port, &db.pool, "stalling").await;
    let (cookie, round) = (candidate.cookie.clone(), candidate.round_path());
    let rss_before = server.memory_kb("VmRSS");

    let body = format!("body={}&base_version=0", "%3E".repeat(99_000));
    let save_request = format!("POST {round}/notes HTTP/1.1\r\nCookie: {cookie}\r\nAccept: application/json\r\n");
    let started = Instant::now();
    let save = tokio::spawn(async move {
        let response = http(port, &save_request, &body).await.expect("note saved");
        (response, started.elapsed())
    });
    let mut probes = Vec::new();
    while !save.is_finished() || probes.len() < 10 {
        let asked = Instant::now();
        let answer = tokio::time::timeout(Duration::from_secs(2), http(port, "GET /healthz HTTP/1.1\r\n", "")).await;
        let took = asked.elapsed();
        assert!(
            matches!(&answer, Ok(Ok(response)) if response.starts_with("HTTP/1.1 200")),
            "/healthz did not answer within 2 s while the note was saved: {answer:?}"
        );
        probes.push(took);
        assert!(started.elapsed() < Duration::from_secs(20), "the note is still not saved after 20 s");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (response, saved_in) = save.await.expect("save task");
    assert!(response.starts_with("HTTP/1.1 200"), "{}", &response[..response.len().min(500)]);
    let rss_peak = server.memory_kb("VmHWM");

    let (body_md, body_html): (String, String) =
        sqlx::query_as("select body_md, body_html from notes where round_id = $1 and kind = 'scratchpad'")
            .bind(id_of(&round))
            .fetch_one(&db.pool)
            .await
            .expect("the note is stored");
    assert_eq!(body_md.len(), 99_000, "stored as typed");
    assert!(body_html.matches("<blockquote>").count() <= MAX_NESTING, "nesting is bounded");
    let slowest = probes.iter().max().expect("probes");
    println!(
        "FIGURE markdown.stall: 99 000 '>' note saved in {} ms; /healthz meanwhile: slowest {} ms of {} probes; \
         server peak RSS {} MB ({} MB before)",
        saved_in.as_millis(),
        slowest.as_millis(),
        probes.len(),
        rss_peak / 1024,
        rss_before / 1024
    );
}

/// In a peer loop, each side writes raw HTML, a remote image and a script into
/// their scorecard; neither's Markdown export carries any of it live, nor does
/// any page show a remote image.
#[tokio::test]
async fn other_peoples_html_and_remote_images_stay_inert_in_exports_and_pages() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    run_round(&app, &f.interviewer_a, round).await;
    let hostile = |who: &str| {
        format!(
            "{who} says <img src=http://evil.example/{who}.png> and <script>alert(1)</script>\n\n\
             ![pixel](https://evil.example/{who}-pixel.png) ![near](//evil.example/{who}-near.png)"
        )
    };
    let criteria = criteria_of_round(&app, round).await;
    for (who, cookie) in [("candidate", &f.candidate), ("interviewer", &f.interviewer_a)] {
        let mut form = scorecard_form(&criteria, &["3"], "hire", "submit");
        set(&mut form, "summary", &hostile(who));
        set(&mut form, &format!("evidence_{}", criteria[0].id), &hostile(who));
        let response = post_assessment(&app, cookie, round, &form).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{who}'s scorecard is submitted: {}", response.body);
    }
    let note = "![p](https://evil.example/pixel.png) ![q](//evil.example/p.png) <img src=http://evil.example/r.png> \
                ![ok](/static/logo.png)";
    let saved = save_note(&app, &f.candidate, round, note, 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    for (reader, other) in [(&f.candidate, "interviewer"), (&f.interviewer_a, "candidate")] {
        let export = app.get(&format!("{}/feedback.md", f.loop_path), Some(reader)).await;
        assert_eq!(export.status, StatusCode::OK);
        let md = export.body;
        assert!(md.contains(&format!("{other} says")), "the other side's text is in the export: {md}");
        for live in ["<img", "<script", "![pixel]", "![near]"] {
            assert!(!md.contains(live), "{live} from the {other} is live in the export: {md}");
        }
        // As a Markdown viewer reads it: no raw HTML, no image.
        let live: Vec<_> = pulldown_cmark::Parser::new_ext(&md, pulldown_cmark::Options::all())
            .filter(|event| {
                use pulldown_cmark::{Event, Tag};
                matches!(event, Event::Html(_) | Event::InlineHtml(_) | Event::Start(Tag::Image { .. }))
            })
            .collect();
        assert!(live.is_empty(), "live markup in the export: {live:?}\n{md}");
    }
    let page = app.get(round, Some(&f.interviewer_a)).await.page();
    let notes = page.inner_html("#notes-rendered");
    let sources = page.attrs("#notes-rendered img", "src");
    assert_eq!(sources, ["/static/logo.png"], "only the same-origin image stays an image: {notes}");
    assert!(
        !notes.contains("src=\"https:") && !notes.contains("src=\"//") && !notes.contains("src=\"http:"),
        "{notes}"
    );
    let links = page.attrs("#notes-rendered a", "href");
    assert!(links.contains(&"https://evil.example/pixel.png".to_owned()), "a remote image becomes a link: {notes}");
    let stored: String = sqlx::query_scalar("select body_html from notes where round_id = $1 and kind = 'scratchpad'")
        .bind(id_of(round))
        .fetch_one(&app.db)
        .await
        .expect("note");
    assert!(!stored.contains("<img src=\"http") && !stored.contains("<img src=\"//"), "stored: {stored}");
}
