//! The round's call on the server's side: signalling passed from one
//! participant to the other through another instance, a stream resuming after
//! the last signal it saw, the refusals (a withdrawn interviewer, an ended
//! round, a self-timed round, bad, oversized and too many messages), the ICE
//! servers a page is given, and the Permissions-Policy that lets only a call's
//! round page use the camera and microphone.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use mockloop::domain::call::{IceServers, MAX_SIGNAL_BYTES, MAX_SIGNALS_PER_MINUTE};
use mockloop::state::AppState;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::support::app::settings;
use crate::support::live::{events_named, read_for};
use crate::support::loops::{invitation_of, withdraw};
use crate::support::rounds::{end_round, start_round};
use crate::support::server::{free_port, run_cli};
use crate::support::{LoopBuilder, Page, TestApp, TestDb, TestResponse, peer_loop};

fn join(session: &str) -> Value {
    json!({"kind": "join", "session": session})
}

fn offer(session: &str, to: &str) -> Value {
    json!({"kind": "description", "session": session, "to": to, "description": {"type": "offer", "sdp": "v=0\r\n"}})
}

async fn signal(app: &TestApp, round: &str, cookie: &str, body: &Value) -> TestResponse {
    app.post_json_body(&format!("{round}/call/signals"), body, Some(cookie)).await
}

/// Opens `round`'s call stream on `instance`, as a browser reconnecting after `last_event_id`.
async fn call_stream(instance: &Router, round: &str, cookie: &str, after: &str, last_event_id: Option<&str>) -> Body {
    let mut request = Request::get(format!("{round}/call/events?after={after}")).header(header::COOKIE, cookie);
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    let response =
        instance.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("router answers");
    assert_eq!(response.status(), StatusCode::OK);
    response.into_body()
}

/// The ids and data of the `signal` events in a stream's text.
fn signals_in(stream: &str) -> Vec<(i64, Value)> {
    stream
        .split("\n\n")
        .filter(|block| block.lines().any(|line| line == "event: signal"))
        .map(|block| {
            let id =
                block.lines().find_map(|line| line.strip_prefix("id: ")).expect("an id").parse().expect("a number");
            let data = block.lines().find_map(|line| line.strip_prefix("data: ")).expect("data");
            (id, serde_json::from_str(data).expect("JSON"))
        })
        .collect()
}

#[tokio::test]
async fn a_signal_reaches_the_other_participant_through_another_instance_and_a_reconnecting_stream_resumes() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    // Another instance of the app on the same database, as a second server process is.
    let other = app.other_instance();
    let mut interviewer = call_stream(&other, round, &f.interviewer_a, "0", None).await;

    let sent = signal(&app, round, &f.candidate, &join("candidate-page-1")).await;
    assert_eq!(sent.status, StatusCode::OK, "{}", sent.body);
    let first = sent.json()["id"].as_i64().expect("the signal's id");
    let received = read_for(&mut interviewer, Duration::from_secs(2)).await;
    assert_eq!(signals_in(&received), vec![(first, join("candidate-page-1"))], "{received}");

    // The interviewer's own signals do not come back to them; the candidate's do, in order.
    let own = signal(&app, round, &f.interviewer_a, &join("interviewer-page-1")).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    let second = signal(&app, round, &f.candidate, &offer("candidate-page-1", "interviewer-page-1")).await.json()["id"]
        .as_i64()
        .expect("id");
    let third =
        signal(&app, round, &f.candidate, &json!({"kind": "leave", "session": "candidate-page-1"})).await.json()["id"]
            .as_i64()
            .expect("id");
    let received = read_for(&mut interviewer, Duration::from_secs(2)).await;
    let ids: Vec<i64> = signals_in(&received).into_iter().map(|(id, _)| id).collect();
    assert_eq!(ids, vec![second, third], "{received}");

    // A stream that reconnects with Last-Event-ID gets what came after, whatever `after` says.
    let mut resumed = call_stream(&other, round, &f.interviewer_a, "0", Some(&second.to_string())).await;
    let received = read_for(&mut resumed, Duration::from_millis(800)).await;
    assert_eq!(signals_in(&received).into_iter().map(|(id, _)| id).collect::<Vec<_>>(), vec![third]);
    // And a page opened now hears nothing of the calls before it.
    let page = app.get(round, Some(&f.interviewer_a)).await.page();
    let after = page.attr("#call", "data-after").expect("the call panel");
    assert_eq!(after, third.to_string());
    let mut fresh = call_stream(&other, round, &f.interviewer_a, &after, None).await;
    assert!(signals_in(&read_for(&mut fresh, Duration::from_millis(800)).await).is_empty());

    // The candidate's stream carries the interviewer's join, stored as it was read (nothing more).
    let mut candidate = call_stream(&other, round, &f.candidate, "0", None).await;
    let received = read_for(&mut candidate, Duration::from_secs(1)).await;
    assert_eq!(
        signals_in(&received).into_iter().map(|(_, data)| data).collect::<Vec<_>>(),
        vec![join("interviewer-page-1")],
        "{received}"
    );
    assert!(events_named(&received, "timer").is_empty(), "the call stream carries only signals");
}

#[tokio::test]
async fn signalling_is_refused_with_a_reason_once_the_invitation_is_withdrawn_or_the_round_has_ended() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let (first, second) = (&f.rounds[0], &f.rounds[1]);

    // Round 2's interviewer is withdrawn: they are no longer part of it, and the candidate has nobody to call.
    withdraw(&app, &f.candidate, &f.loop_path, invitation_of(&app, second).await).await;
    let withdrawn = signal(&app, second, &f.interviewer_b, &join("withdrawn-page")).await;
    assert_eq!(withdrawn.status, StatusCode::NOT_FOUND);
    let alone = signal(&app, second, &f.candidate, &join("candidate-page")).await;
    assert_eq!(alone.status, StatusCode::CONFLICT);
    assert!(alone.json()["error"].as_str().unwrap().contains("no interviewer now"), "{}", alone.body);
    assert!(!app.get(second, Some(&f.candidate)).await.page().has("#call"), "no call panel without an interviewer");

    // Round 1 runs, then ends: the call ends with it, and its signalling is forgotten.
    start_round(&app, &f.interviewer_a, first).await;
    assert_eq!(signal(&app, first, &f.candidate, &join("candidate-page")).await.status, StatusCode::OK);
    assert_eq!(app.count("select count(*) from call_signals").await, 1);
    end_round(&app, &f.interviewer_a, first).await;
    assert_eq!(app.count("select count(*) from call_signals").await, 0, "nothing of the call is kept");
    for cookie in [&f.candidate, &f.interviewer_a] {
        let ended = signal(&app, first, cookie, &join("late-page-1")).await;
        assert_eq!(ended.status, StatusCode::CONFLICT);
        assert_eq!(ended.json()["error"], "The round has ended, and its call with it.");
        assert!(!app.get(first, Some(cookie)).await.page().has("#call"), "no call panel after the round");
    }
    let stranger = signal(&app, first, &f.stranger, &join("stranger-page")).await;
    assert_eq!(stranger.status, StatusCode::NOT_FOUND);

    // A self-timed round has nobody to call.
    let alone = app.sign_up("solo").await;
    let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&alone).started(&app).await;
    let refused = signal(&app, &scheduled.rounds[0], &alone, &join("solo-page-1")).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.json()["error"], "A self-timed round has no call.");
    assert_eq!(app.count("select count(*) from call_signals").await, 0);
}

#[tokio::test]
async fn malformed_oversized_and_too_many_signals_are_refused_with_a_clear_message() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    let refused = [
        (json!({"kind": "record", "session": "page-aaaa1111"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"kind": "join", "session": "a b"}), StatusCode::UNPROCESSABLE_ENTITY),
        (json!({"kind": "join", "session": "page-aaaa1111", "note": "extra"}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            json!({"kind": "description", "session": "page-aaaa1111", "to": "page-bbbb2222",
                   "description": {"type": "offer", "sdp": "a".repeat(MAX_SIGNAL_BYTES)}}),
            StatusCode::PAYLOAD_TOO_LARGE,
        ),
    ];
    for (body, status) in refused {
        let answer = signal(&app, round, &f.candidate, &body).await;
        assert_eq!(answer.status, status, "{}", answer.body);
        let error = answer.json()["error"].as_str().expect("a message").to_owned();
        assert!(error.contains("call message"), "{error}");
    }
    let garbled = app.post_bytes(&format!("{round}/call/signals"), b"kind=join".to_vec(), Some(&f.candidate)).await;
    assert_eq!(garbled.status, StatusCode::UNPROCESSABLE_ENTITY);

    // A participant's signals are bounded per minute; the other participant's are counted apart.
    for n in 0..MAX_SIGNALS_PER_MINUTE {
        let sent = signal(&app, round, &f.candidate, &join(&format!("page-{n:08}"))).await;
        assert_eq!(sent.status, StatusCode::OK, "signal {n}: {}", sent.body);
    }
    let over = signal(&app, round, &f.candidate, &join("page-one-more")).await;
    assert_eq!(over.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(over.json()["error"].as_str().unwrap().starts_with("Too many call messages"), "{}", over.body);
    assert_eq!(signal(&app, round, &f.interviewer_a, &join("interviewer-page")).await.status, StatusCode::OK);
    assert_eq!(app.count("select count(*) from call_signals").await, MAX_SIGNALS_PER_MINUTE + 1);
}

#[tokio::test]
async fn a_page_gets_no_ice_servers_by_default_and_minted_turn_credentials_when_configured() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    let page = app.get(round, Some(&f.candidate)).await.page();
    assert_eq!(page.attr("#call", "data-ice-servers").as_deref(), Some("[]"), "host candidates only, no third party");
    assert_eq!(page.attr("#call", "data-polite").as_deref(), Some("true"));
    assert_eq!(
        app.get(round, Some(&f.interviewer_a)).await.page().attr("#call", "data-polite").as_deref(),
        Some("false")
    );

    let urls = ["stun:stun.example.org:3478".to_owned(), "turn:turn.example.org:3478".to_owned()];
    let servers = IceServers::parse(&urls, Some("coturn-shared-secret".into())).expect("valid settings");
    let configured = TestApp::with_state(AppState::new(app.db.clone(), settings()).with_ice_servers(servers));
    let page = configured.get(round, Some(&f.candidate)).await.page();
    let list: Value =
        serde_json::from_str(&page.attr("#call", "data-ice-servers").expect("the call panel")).expect("JSON");
    assert_eq!(list[0], json!({"urls": ["stun:stun.example.org:3478"]}));
    assert_eq!(list[1]["urls"], json!(["turn:turn.example.org:3478"]));
    let username = list[1]["username"].as_str().expect("a TURN username");
    let (expires, user) = username.split_once(':').expect("<expiry>:<user>");
    assert_eq!(user, app.user_id("casey").await.to_string());
    let lifetime = expires.parse::<i64>().expect("unix seconds") - chrono::Utc::now().timestamp();
    assert!((4 * 3600 - 60..=4 * 3600 + 60).contains(&lifetime), "valid for four hours: {lifetime}");
    assert_eq!(list[1]["credential"].as_str().expect("a credential").len(), 28, "base64 of an HMAC-SHA1");
}

#[tokio::test]
async fn the_server_refuses_to_start_with_turn_urls_but_no_secret() {
    let db = TestDb::new().await;
    let port = free_port().to_string();
    let bind = format!("127.0.0.1:{port}");
    let output = run_cli(&db, &["serve", "--bind", &bind, "--ice-servers", "turn:turn.example.org:3478"], "");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("TURN URLs need --turn-secret"), "{stderr}");
    let output = run_cli(&db, &["serve", "--bind", &bind, "--ice-servers", "https://stun.example.org"], "");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && stderr.contains("is not a STUN or TURN URL"), "{stderr}");
}

#[tokio::test]
async fn only_a_call_round_page_may_use_the_camera_and_microphone_and_every_other_policy_stays_as_it_was() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    let site_csp = app.get("/signin", None).await.header("content-security-policy").to_owned();
    assert_eq!(
        site_csp,
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    for cookie in [&f.candidate, &f.interviewer_a] {
        let page = app.get(round, Some(cookie)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert_eq!(
            page.header("permissions-policy"),
            "camera=(self), microphone=(self), geolocation=(), interest-cohort=()"
        );
        let csp = page.header("content-security-policy");
        assert!(csp.contains("connect-src 'self';") && !csp.contains("unsafe-inline") && !csp.contains('*'), "{csp}");
        assert!(Page::parse(&page.body).has("#call"));
    }

    let solo = app.sign_up("solo").await;
    let self_timed = LoopBuilder::self_timed("phone-screen").for_user(&solo).started(&app).await;
    let (assessment, state) = (format!("{round}/assessment"), format!("{round}/state"));
    let candidate = Some(f.candidate.as_str());
    let denied = [
        ("/", None),
        ("/signin", None),
        ("/questions", candidate),
        ("/history", candidate),
        (f.loop_path.as_str(), candidate),
        (assessment.as_str(), candidate),
        (state.as_str(), candidate),
        (self_timed.rounds[0].as_str(), Some(solo.as_str())),
        (round.as_str(), Some(f.stranger.as_str())),
        ("/no-such-page", None),
    ];
    for (path, cookie) in denied {
        let response = app.get(path, cookie).await;
        assert_eq!(
            response.header("permissions-policy"),
            "camera=(), microphone=(), geolocation=(), interest-cohort=()",
            "{path}"
        );
        if path != self_timed.rounds[0] {
            assert_eq!(response.header("content-security-policy"), site_csp, "{path}");
        }
    }
}
