//! The candidate's whiteboard: saved with a version check like notes and code,
//! drawn by the candidate only, its SVG sanitised before it is stored and shown
//! only as an image, watched live by the interviewer (across two server
//! processes), and kept on the round feedback page and in the Markdown export.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use base64::Engine;

use crate::support::app::settings;
use crate::support::browser::{Browser, serve_app_on};
use crate::support::live::{LiveClient, events_named};
use crate::support::rounds::{end_round, save_scene, scene_version, scene_with_text, start_round, svg_with_text};
use crate::support::workspace::{console_errors, draw_rectangle, drawn_pixels, open_board, other_hosts, write_text};
use crate::support::{LoopBuilder, TestApp, TestDb, id_of, peer_loop};

/// The stored drawing of a round: its scene and sanitised SVG.
async fn stored(app: &TestApp, round: &str) -> (String, Option<String>) {
    sqlx::query_as("select scene, svg from round_scene where round_id = $1")
        .bind(id_of(round))
        .fetch_one(&app.db)
        .await
        .expect("a stored drawing")
}

/// The SVG behind an `<img src="data:image/svg+xml;base64,…">`.
fn decoded(data_uri: &str) -> String {
    let encoded = data_uri.strip_prefix("data:image/svg+xml;base64,").unwrap_or_else(|| panic!("{data_uri}"));
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(encoded).expect("base64")).expect("UTF-8")
}

#[tokio::test]
async fn a_stale_base_version_gets_409_with_the_stored_drawing() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("drawer").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let round = &scheduled.rounds[0];

    let first = save_scene(&app, &cookie, round, &scene_with_text("first"), &svg_with_text("first"), 0).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.json()["version"], 1);
    let second = save_scene(&app, &cookie, round, &scene_with_text("second"), &svg_with_text("second"), 1).await;
    assert_eq!(second.json()["version"], 2);

    let stale = save_scene(&app, &cookie, round, &scene_with_text("other tab"), &svg_with_text("other tab"), 1).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    let conflict = stale.json();
    assert_eq!(conflict["conflict"], true);
    assert_eq!(conflict["version"], 2);
    assert_eq!(conflict["scene"], scene_with_text("second"));
    assert!(decoded(conflict["image"].as_str().expect("the stored image")).contains("second"));
    assert_eq!(scene_version(&app.db, id_of(round)).await, 2, "the stale save changed nothing");
    assert!(stored(&app, round).await.0.contains("second"));

    // Without an image (the page was closing), the scene is saved and the last image stays, marked as older.
    let page = app.get(round, Some(&cookie)).await.page();
    assert_eq!(page.attr("#whiteboard", "data-image-current").as_deref(), Some("true"));
    let no_image = save_scene(&app, &cookie, round, &scene_with_text("third"), "", 2).await;
    assert_eq!(no_image.status, StatusCode::OK, "{}", no_image.body);
    let (scene, svg) = stored(&app, round).await;
    assert!(scene.contains("third") && svg.expect("the last image").contains("second"));
    let page = app.get(round, Some(&cookie)).await.page();
    assert_eq!(page.attr("#whiteboard", "data-image-current").as_deref(), Some("false"));
    assert!(decoded(&page.attr("#whiteboard-image", "src").expect("the last image")).contains("second"));
}

#[tokio::test]
async fn a_drawing_over_the_limit_or_unreadable_is_refused_with_a_message() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("bigdrawer").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let round = &scheduled.rounds[0];
    let svg = svg_with_text("fine");
    let scene = scene_with_text("fine");
    let huge_scene = scene_with_text(&"x".repeat(600_001));
    let huge_svg = svg_with_text(&"x".repeat(600_001));
    for (scene, svg) in [(huge_scene.as_str(), svg.as_str()), (scene.as_str(), huge_svg.as_str())] {
        let refused = save_scene(&app, &cookie, round, scene, svg, 0).await;
        assert_eq!(refused.status, StatusCode::PAYLOAD_TOO_LARGE);
        assert!(refused.body.contains("too large to save"), "{}", refused.body);
    }
    for (scene, svg, says) in [
        ("{\"elements\": [", svg.as_str(), "scene that could not be read"),
        ("[]", svg.as_str(), "scene that could not be read"),
        (scene.as_str(), "<svg><rect></svg>", "image that could not be read"),
        (scene.as_str(), "<html><script>alert(1)</script></html>", "image that could not be read"),
    ] {
        let refused = save_scene(&app, &cookie, round, scene, svg, 0).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{scene} {svg}");
        assert!(refused.body.contains(says), "{}", refused.body);
    }
    assert_eq!(scene_version(&app.db, id_of(round)).await, 0);
}

#[tokio::test]
async fn only_the_candidate_draws_and_only_the_interviewer_is_sent_the_scene_live() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    let (scene, svg) = (scene_with_text("Feature store"), svg_with_text("Feature store"));
    for (who, status) in [
        (&f.stranger, StatusCode::NOT_FOUND),
        (&f.interviewer_b, StatusCode::NOT_FOUND),
        (&f.interviewer_a, StatusCode::FORBIDDEN),
    ] {
        assert_eq!(save_scene(&app, who, round, &scene, &svg, 0).await.status, status);
    }
    assert_eq!(scene_version(&app.db, id_of(round)).await, 0);

    let saved = save_scene(&app, &f.candidate, round, &scene, &svg, 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let live = LiveClient::new(&app);
    let watched = live.first_events(&format!("{round}/events"), Some(&f.interviewer_a)).await;
    let sent = events_named(&watched.body, "scene");
    // The save's own notification may arrive after the stream opened and send the same drawing again.
    let event: serde_json::Value = serde_json::from_str(sent.last().expect("the scene event")).expect("JSON");
    assert_eq!(event["version"], 1);
    assert_eq!(event["scene"], scene);
    let own = live.first_events(&format!("{round}/events"), Some(&f.candidate)).await;
    assert!(events_named(&own.body, "scene").is_empty(), "the candidate has the drawing on their own screen");

    // Without script, the interviewer's panel shows the saved drawing as an image, with its words as the alternative.
    let page = app.get(round, Some(&f.interviewer_a)).await.page();
    assert_eq!(page.attr("#whiteboard", "data-mode").as_deref(), Some("view"));
    let alt = page.attr("#whiteboard-image", "alt").expect("the image");
    assert_eq!(alt, "Whiteboard drawing: 2 shapes, with the text: Feature store");
    assert!(decoded(&page.attr("#whiteboard-image", "src").expect("src")).contains("Feature store"));
    assert!(!page.has("#whiteboard-status"), "the interviewer's view does not save");
}

#[tokio::test]
async fn the_svg_is_sanitised_before_it_is_stored_and_shown_only_as_an_image() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("hostiledrawer").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
    let round = &scheduled.rounds[0];
    let hostile = svg_with_text("plan").replace(
        "</svg>",
        concat!(
            r#"<script>window.__pwned=1</script>"#,
            r#"<rect width="5" height="5" onload="window.__pwned=1"/>"#,
            r#"<foreignObject width="9" height="9"><div xmlns="http://www.w3.org/1999/xhtml">__pwned html</div></foreignObject>"#,
            r#"<image href="https://tracker.example/pixel.png" width="1" height="1"/>"#,
            r#"<a href="javascript:window.__pwned=1"><text>link</text></a>"#,
            "</svg>"
        ),
    );
    let saved = save_scene(&app, &cookie, round, &scene_with_text("plan"), &hostile, 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let svg = stored(&app, round).await.1.expect("the sanitised image");
    for gone in ["<script", "onload", "foreignObject", "__pwned", "tracker.example", "javascript:"] {
        assert!(!svg.contains(gone), "{gone} stored: {svg}");
    }
    assert!(svg.contains("<rect") && svg.contains("plan"), "the drawing itself is kept: {svg}");

    let response = app.get(round, Some(&cookie)).await;
    let page = response.page();
    assert_eq!(decoded(&page.attr("#whiteboard-image", "src").expect("src")), svg);
    assert!(!response.body.contains("<svg"), "the drawing is never inlined into the page");
}

#[tokio::test]
async fn the_whiteboard_is_open_in_a_design_round_and_folded_in_the_others_until_used() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("designer").await;
    let scheduled = LoopBuilder::self_timed("mle-onsite").for_user(&cookie).schedule(&app).await;
    let kinds: Vec<String> = sqlx::query_scalar("select kind from rounds where loop_id = $1 order by position")
        .bind(scheduled.id)
        .fetch_all(&app.db)
        .await
        .expect("kinds");
    for (round, kind) in scheduled.rounds.iter().zip(&kinds) {
        let page = app.get(round, Some(&cookie)).await.page();
        assert!(page.has("#whiteboard"), "every round has a whiteboard ({kind})");
        assert_eq!(page.has("#whiteboard-details[open]"), kind == "ml_system_design", "{kind}");
    }
    let coding = &scheduled.rounds[0];
    let saved = save_scene(&app, &cookie, coding, &scene_with_text("sketch"), &svg_with_text("sketch"), 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let page = app.get(coding, Some(&cookie)).await.page();
    assert!(page.has("#whiteboard-details[open]"), "a round with a drawing shows it");
    assert_eq!(page.attr("#whiteboard", "data-version").as_deref(), Some("1"));
    assert_eq!(page.attr("#whiteboard", "data-scene"), Some(scene_with_text("sketch")));
}

#[tokio::test]
async fn round_feedback_and_the_markdown_export_carry_the_final_drawing_to_those_who_may_see_it() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    start_round(&app, &f.interviewer_a, round).await;
    let words = "Feature store <img src=x onerror=alert(1)> ![x](https://tracker.example/p.png)";
    let saved =
        save_scene(&app, &f.candidate, round, &scene_with_text(words), &svg_with_text("Feature store"), 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    end_round(&app, &f.interviewer_a, round).await;

    for reader in [&f.candidate, &f.interviewer_a] {
        let response = app.get(&format!("{round}/feedback"), Some(reader)).await;
        let page = response.page();
        let image = page.attr("#feedback-whiteboard img", "src").expect("the drawing");
        assert!(decoded(&image).contains("Feature store"));
        let alt = page.attr("#feedback-whiteboard img", "alt").expect("a text alternative");
        assert!(alt.starts_with("Whiteboard drawing: 2 shapes, with the text: Feature store"), "{alt}");
        assert!(!response.body.contains("<img src=x"), "the drawing's words are escaped");

        let export = app.get(&format!("{}/feedback.md", f.loop_path), Some(reader)).await;
        assert_eq!(export.status, StatusCode::OK);
        assert!(export.body.contains("## Whiteboards"), "{}", export.body);
        let image_line = export
            .body
            .lines()
            .find(|line| line.starts_with("![Whiteboard drawing of round 1](data:image/svg+xml;base64,"))
            .expect("the drawing as a data URI image");
        assert!(
            decoded(image_line.trim_start_matches("![Whiteboard drawing of round 1](").trim_end_matches(')'))
                .contains("Feature store")
        );
        assert!(!export.body.contains("<img src=x") && !export.body.contains("![x](https://tracker"), "defused");
    }
    // Round 2's interviewer sees none of round 1's work.
    let other = app.get(&format!("{}/feedback.md", f.loop_path), Some(&f.interviewer_b)).await;
    assert_eq!(other.status, StatusCode::OK);
    assert!(!other.body.contains("Whiteboard") && !other.body.contains("Feature store"), "{}", other.body);
}

#[tokio::test]
async fn the_round_page_and_the_whiteboards_workers_may_compile_webassembly_and_nothing_more() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("policyreader").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).schedule(&app).await;
    let response = app.get(&scheduled.rounds[0], Some(&cookie)).await;
    let csp = response.header("content-security-policy").to_owned();
    assert!(csp.contains("script-src 'self' 'wasm-unsafe-eval'; worker-src 'self';"), "{csp}");
    assert!(!csp.contains("'unsafe-inline'") && !csp.contains("'unsafe-eval'"), "{csp}");
    let page = response.page();
    let vendor = page.attr("#whiteboard", "data-vendor").expect("the vendored folder");
    let board = page.attr("#whiteboard", "data-board").expect("the board module");
    // A worker runs under its own script's policy: the bundle's scripts carry one that allows WebAssembly.
    for script in [format!("{vendor}excalidraw/excalidraw.js"), board] {
        let served = app.get(&script, None).await;
        assert_eq!(served.status, StatusCode::OK, "{script}");
        let policy = served.header("content-security-policy");
        assert!(policy.contains("script-src 'self' 'wasm-unsafe-eval';"), "{script}: {policy}");
        assert!(!policy.contains("'unsafe-eval'") && !policy.contains("'unsafe-inline'"), "{script}: {policy}");
    }
    let css = app.get(&format!("{vendor}excalidraw/index.css"), None).await;
    assert!(!css.header("content-security-policy").contains("wasm"), "only scripts get it");
    assert!(!app.get("/", Some(&cookie)).await.header("content-security-policy").contains("wasm"), "nor other pages");
}

// --- In Chromium ------------------------------------------------------------

#[tokio::test]
async fn the_candidate_draws_reloads_and_the_drawing_is_still_there_with_no_error_and_no_other_host() {
    let db = TestDb::new().await;
    let app = TestApp::on(db.pool.clone(), settings());
    let cookie = app.sign_up("sketcher").await;
    let scheduled = LoopBuilder::self_timed("mle-onsite").for_user(&cookie).schedule(&app).await;
    // The third round is the ML system design round, where the whiteboard is open.
    let round = &scheduled.rounds[2];
    start_round(&app, &cookie, round).await;
    let base = serve_app_on(&db).await;
    let browser = Browser::launch().await;
    browser.sign_in_at(&format!("{base}/signin"), "sketcher").await;
    let round_url = format!("{base}{round}");
    browser.client.goto(&round_url).await.expect("round page");
    open_board(&browser).await;
    assert_eq!(drawn_pixels(&browser).await, 0, "an empty board");

    draw_rectangle(&browser).await;
    write_text(&browser, "Feature store").await;
    browser.wait_for_text("#whiteboard-status", |status| status.starts_with("Saved at")).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let (scene, svg) = loop {
        let status = browser.text("#whiteboard-status").await;
        let drawing = stored(&app, round).await;
        if status.starts_with("Saved at") && drawing.0.contains("Feature store") {
            break drawing;
        }
        assert!(Instant::now() < deadline, "the drawing is saved: {status}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(scene.contains("\"rectangle\""), "{scene}");
    // The export embeds the glyphs it uses, subset in a worker; the server keeps them through sanitising.
    let svg = svg.expect("the exported image");
    assert!(svg.contains("<path") && svg.contains("Feature store"), "{svg}");
    assert!(svg.contains("@font-face") && svg.contains("url(data:font/"), "{svg}");

    browser.client.goto(&round_url).await.expect("reload");
    open_board(&browser).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    while drawn_pixels(&browser).await == 0 {
        assert!(Instant::now() < deadline, "the rectangle is back after a reload");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let violations = browser.axe_violations().await;
    let console = console_errors(&browser).await;
    let elsewhere = other_hosts(&browser, &base).await;
    browser.close().await;
    assert!(violations.is_empty(), "axe on the round page with the whiteboard open: {violations:?}");
    assert!(console.is_empty(), "console errors or CSP violations: {console:?}");
    assert!(elsewhere.is_empty(), "requests to another host: {elsewhere:?}");
}
