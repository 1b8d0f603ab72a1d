//! The question bank and rubric pages.

use axum::http::StatusCode;

use crate::support::html::rendered_text;
use crate::support::proof::{proof_count, runner};
use crate::support::{LoopBuilder, Page, TestApp};

/// The slugs listed on a bank page, in order.
fn listed_slugs(body: &str) -> Vec<String> {
    let hrefs = Page::parse(body).attrs("a.question-title", "href");
    hrefs.iter().map(|href| href.trim_start_matches("/questions/").to_owned()).collect()
}

#[tokio::test]
async fn the_bank_asks_visitors_to_sign_in_first() {
    let app = TestApp::new().await;
    let response = app.get("/questions?q=graph", None).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.header("location"), "/signin?next=%2Fquestions%3Fq%3Dgraph");
}

#[tokio::test]
async fn full_text_search_ranks_matching_questions_first() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("searcher").await;
    let body = app.get("/questions?q=moving+average", Some(&cookie)).await.body;
    let slugs = listed_slugs(&body);
    assert!(!slugs.is_empty(), "{body}");
    let top_title: String = sqlx::query_scalar("select title || ' ' || prompt_md from questions where slug = $1")
        .bind(&slugs[0])
        .fetch_one(&app.db)
        .await
        .expect("question");
    assert!(top_title.to_lowercase().contains("moving average"), "{top_title}");

    let none = app.get("/questions?q=zzzqqqxxy", Some(&cookie)).await;
    assert!(none.page().has("#no-results"));
}

#[tokio::test]
async fn filters_narrow_the_list_and_can_be_combined() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("filterer").await;
    let body = app.get("/questions?kind=domain&team=camera-cv", Some(&cookie)).await.body;
    let slugs = listed_slugs(&body);
    let expected: i64 =
        app.count("select count(*) from questions where kind = 'domain' and 'camera-cv' = any(teams)").await;
    assert_eq!(slugs.len() as i64, expected);
    assert!(expected >= 5);
    assert!(slugs.iter().all(|s| s.starts_with("domain-")), "{slugs:?}");
    assert!(Page::parse(&body).has("option[value=domain][selected]"), "the chosen filter stays selected");

    let hard = listed_slugs(&app.get("/questions?difficulty=3&kind=coding", Some(&cookie)).await.body);
    let hard_count = app.count("select count(*) from questions where difficulty = 3 and kind = 'coding'").await;
    assert_eq!(hard.len() as i64, hard_count.min(20));

    let tag: String = sqlx::query_scalar("select tags[1] from questions where kind = 'coding' order by slug limit 1")
        .fetch_one(&app.db)
        .await
        .expect("tag");
    let tagged = listed_slugs(&app.get(&format!("/questions?tag={tag}"), Some(&cookie)).await.body);
    let tag_count = app.count(&format!("select count(*) from questions where '{tag}' = any(tags)")).await;
    assert_eq!(tagged.len() as i64, tag_count.min(20));
}

#[tokio::test]
async fn pages_of_results_do_not_overlap_and_keep_the_filters() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("pager").await;
    let first = app.get("/questions?kind=coding", Some(&cookie)).await.body;
    let page = Page::parse(&first);
    assert!(page.text_of("#result-count").starts_with("Showing 1–20 of"), "{first}");
    assert!(page.attrs("a", "href").contains(&"/questions?kind=coding&page=2".to_owned()), "{first}");
    let second = app.get("/questions?kind=coding&page=2", Some(&cookie)).await.body;
    let (a, b) = (listed_slugs(&first), listed_slugs(&second));
    assert_eq!(a.len(), 20);
    assert!(!b.is_empty() && b.iter().all(|slug| !a.contains(slug)), "{a:?} / {b:?}");
}

#[tokio::test]
async fn odd_query_strings_are_treated_as_no_filter() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("fuzzer").await;
    for query in
        ["kind=nonsense", "difficulty=9", "page=-4", "page=abc", "q=%27%3B+drop+table+questions%3B--", "q=a%26b%7Cc%21"]
    {
        let response = app.get(&format!("/questions?{query}"), Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::OK, "{query}");
    }
    assert!(app.count("select count(*) from questions").await >= 120);
}

#[tokio::test]
async fn a_question_page_hides_hints_and_guidance_behind_reveal_controls() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("reader").await;
    let (slug, hint): (String, String) = sqlx::query_as("select slug, hints[1] from questions order by slug limit 1")
        .fetch_one(&app.db)
        .await
        .expect("question");
    let page = app.get(&format!("/questions/{slug}"), Some(&cookie)).await.page();
    let hints = page.texts("details.reveal#reveal-hints li");
    assert!(hints.contains(&rendered_text(&hint)), "the hint is inside the reveal control: {hints:?}");
    assert!(page.has("details#reveal-guidance"));

    let missing = app.get("/questions/no-such-question", Some(&cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rubric_pages_show_every_criterion_with_four_anchors_and_a_pillar() {
    let app = TestApp::new().await;
    let list = app.get("/rubrics", None).await;
    assert_eq!(list.page().count("a[href^='/rubrics/']"), 6);
    let page = app.get("/rubrics/ml_system_design", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let criteria = app
        .count("select count(*) from rubric_criteria c join rubrics r on r.id = c.rubric_id where r.kind = 'ml_system_design'")
        .await;
    assert_eq!(page.page().count("section.criterion") as i64, criteria);
    assert_eq!(page.page().count("section.criterion th[scope=row]") as i64, criteria * 4);
    assert!(page.body.contains("Engineering Excellence &#38; Scalability"));
    assert_eq!(app.get("/rubrics/astrology", None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_templates_page_lists_the_shipped_loop_shapes() {
    let app = TestApp::new().await;
    let body = app.get("/templates", None).await.body;
    for name in ["MLE onsite (6 rounds)", "MLE onsite, 5-round variant", "GenAI / LLM onsite", "Technical phone screen"]
    {
        assert!(body.contains(name), "{name}");
    }
}

#[tokio::test]
async fn operator_only_searches_find_nothing_and_keep_the_text_in_the_box() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("hyphens").await;
    for typed in ["-".repeat(33), "-(".repeat(100), "!!!(((|&<->".to_owned()] {
        let query = serde_urlencoded::to_string([("q", &typed)]).expect("encodes");
        let response = app.get(&format!("/questions?{query}"), Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::OK, "{typed}: {}", response.body);
        let page = response.page();
        assert!(page.has("#no-results"), "{typed}: nothing matches");
        assert_eq!(page.field_value("input[name=q]"), typed, "{typed}: the text stays in the box");
    }
    // Exclusions, phrases and "or" still work.
    let found = async |query: &str| total(&app.get(&format!("/questions?{query}"), Some(&cookie)).await.body);
    let with_stream: i64 = app
        .count(
            "select count(*) from questions where search @@ websearch_to_tsquery('english', 'moving average stream')",
        )
        .await;
    let (both, excluded) = (found("q=moving+average").await, found("q=moving+average+-stream").await);
    assert!(with_stream > 0 && excluded == both - with_stream, "{both} found, {excluded} without 'stream'");
    let (phrase, word) = (found("q=%22moving+average%22").await, found("q=attention").await);
    assert!(phrase > 0 && word > 0);
    assert!(found("q=%22moving+average%22+or+attention").await > phrase.max(word), "or widens the search");
}

/// How many questions a bank page says match.
fn total(body: &str) -> i64 {
    let text = Page::parse(body).text_of("#result-count");
    match text.find(" of ") {
        Some(of) => text[of + 4..].split(' ').next().and_then(|n| n.parse().ok()).expect("a number"),
        None => 0,
    }
}

/// Pieces hostile search text is made of: tsquery and websearch operators,
/// quotes, unbalanced brackets, odd whitespace and scripts, words.
const SEARCH_PIECES: &[&str] = &[
    "-",
    "--",
    "(",
    ")",
    "-(",
    "\"",
    "'",
    "|",
    "||",
    "&",
    "&&",
    "!",
    "!(",
    "<->",
    "<2>",
    ":*",
    ":",
    "\\",
    "or",
    "OR",
    "and",
    "not",
    " ",
    "  ",
    "\t",
    "\n",
    "\r\n",
    "word",
    "attention",
    "-word",
    "\"moving average\"",
    "é",
    "中文",
    "🙂",
    "\u{200b}",
    "\u{202e}",
    "%",
    "+",
    "*",
    ".",
    ",",
    ";",
    "a:*",
    "__",
    "k-means",
    "c++",
];

fn hostile_search() -> impl proptest::strategy::Strategy<Value = String> {
    use proptest::prelude::*;
    prop_oneof![
        4 => prop::collection::vec(prop::sample::select(SEARCH_PIECES), 0..400).prop_map(|pieces| pieces.concat()),
        1 => any::<String>(),
        1 => (prop::sample::select(SEARCH_PIECES), 1..3000usize).prop_map(|(piece, times)| piece.repeat(times)),
        // A NUL anywhere: refused with a message, never a server error.
        1 => (prop::collection::vec(prop::sample::select(SEARCH_PIECES), 0..20), 0..20usize)
            .prop_map(|(pieces, at)| { let mut pieces = pieces; pieces.insert(at.min(pieces.len()), "\0"); pieces.concat() }),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_search_text_gives_a_server_error() {
    use std::sync::atomic::{AtomicU32, Ordering};
    let app = TestApp::new().await;
    let cookie = app.sign_up("search-fuzzer").await;
    let handle = tokio::runtime::Handle::current();
    let (count, refused) = (AtomicU32::new(0), AtomicU32::new(0));
    let slowest = std::sync::Mutex::new(std::time::Duration::ZERO);
    runner(proof_count(300, 5_000))
        .run(&hostile_search(), |typed| {
            count.fetch_add(1, Ordering::Relaxed);
            let query = serde_urlencoded::to_string([("q", &typed)]).expect("encodes");
            let started = std::time::Instant::now();
            let response =
                tokio::task::block_in_place(|| handle.block_on(app.get(&format!("/questions?{query}"), Some(&cookie))));
            let took = started.elapsed();
            let mut slowest = slowest.lock().expect("lock");
            *slowest = (*slowest).max(took);
            // A NUL is refused with a message, like in any text; everything else is a search.
            if response.status == StatusCode::BAD_REQUEST && typed.contains('\0') {
                proptest::prop_assert!(response.body.contains("NUL character"), "{}", response.body);
                refused.fetch_add(1, Ordering::Relaxed);
            } else {
                proptest::prop_assert_eq!(response.status, StatusCode::OK, "q={:?}", typed);
            }
            Ok(())
        })
        .expect("every search text gets a page");
    println!(
        "FIGURE search.fuzz: {} hostile search texts, 0 server errors ({} NUL refusals), slowest {:?}",
        count.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed),
        *slowest.lock().expect("lock")
    );
}

#[tokio::test]
async fn an_empty_bank_says_how_to_load_questions_rather_than_that_nothing_matches() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("early-bird").await;
    sqlx::query("delete from questions").execute(&app.db).await.expect("an empty bank");
    for path in ["/questions", "/questions?kind=coding&q=graph"] {
        let page = app.get(path, Some(&cookie)).await.page();
        assert!(!page.has("#no-results"), "{path}: not a filter problem");
        let advice = page.text_of("#bank-empty");
        for what in ["The question bank is empty", "each time it starts", "--content-dir", "mockloop questions import"]
        {
            assert!(advice.contains(what), "{path}: {what} in {advice}");
        }
    }
}

#[tokio::test]
async fn filters_that_match_nothing_offer_to_clear_them() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("too-picky").await;
    let page = app.get("/questions?q=zzzqqqxxy&kind=behavioral", Some(&cookie)).await.page();
    assert!(!page.has("#bank-empty"));
    assert!(page.text_of("#no-results").contains("No question matches these filters"));
    assert_eq!(page.attr("#clear-filters", "href").as_deref(), Some("/questions"));
    let cleared = app.get("/questions", Some(&cookie)).await.page();
    assert!(cleared.has("#question-list") && !cleared.has("#no-results"));
}

/// Question texts are held in memory under their version: once a question
/// changes in the database, its page and the round that asks it show the new
/// text on every instance, also on one that held the old text.
#[tokio::test]
async fn a_changed_question_shows_its_new_text_on_every_instance_that_held_the_old_one() {
    let app = TestApp::new().await;
    let other = app.other_instance_app();
    let cookie = app.sign_up("reader").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let round = &scheduled.rounds[0];
    let slug: String = sqlx::query_scalar(
        "select q.slug from round_questions rq join questions q on q.id = rq.question_id
         where rq.round_id = $1 order by rq.position limit 1",
    )
    .bind(scheduled.round_ids[0])
    .fetch_one(&app.db)
    .await
    .expect("round 1's first question");
    let pages = [format!("/questions/{slug}"), round.clone()];
    for instance in [&app, &other] {
        for page in &pages {
            let shown = instance.get(page, Some(&cookie)).await;
            assert_eq!(shown.status, StatusCode::OK, "{page}: {}", shown.body);
            assert!(!shown.body.contains("The prompt as it reads now"), "{page}");
        }
    }
    sqlx::query("update questions set prompt_html = '<p>The prompt as it reads now.</p>' where slug = $1")
        .bind(&slug)
        .execute(&app.db)
        .await
        .expect("the prompt changes");
    for instance in [&app, &other] {
        for page in &pages {
            let shown = instance.get(page, Some(&cookie)).await;
            assert!(shown.body.contains("The prompt as it reads now."), "{page} shows the old prompt: {}", shown.body);
        }
    }
}

/// The shipped tags are read on the first search after a start (or a content
/// import): a burst of searches larger than the pool, arriving then, must not
/// hold every connection while each waits for one more to read them.
#[tokio::test]
async fn a_burst_of_searches_on_a_cold_start_is_answered_without_waiting_for_a_connection() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("searcher").await;
    let started = std::time::Instant::now();
    let searches = (0..20).map(|_| app.get("/questions?q=gradient+descent", Some(&cookie)));
    let answers = futures_util::future::join_all(searches).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|answer| answer.status).collect();
    assert!(statuses.iter().all(|status| *status == StatusCode::OK), "{statuses:?}");
    // The pool's wait is 3 s: a burst that waited it out would also be refused above.
    assert!(started.elapsed() < std::time::Duration::from_secs(3), "took {:?}", started.elapsed());
}
