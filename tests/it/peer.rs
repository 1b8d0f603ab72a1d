//! Peer loops: invitation links and every way one is refused, what the
//! interviewer and the candidate each see of a round (pages, JSON, live
//! events), who runs the timer, hint ticks, question swaps, private notes,
//! the sealed self-assessment, blind scoring and per-person calendars.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use mockloop::state::{AppState, Settings};
use serde_json::Value;
use tower::ServiceExt;
use uuid::Uuid;

use crate::helpers::{TestApp, TestResponse};
use crate::loops::{escape_html, id_of};
use crate::rounds::{run_round, timer};
use crate::scorecards::{Criterion, criteria_of_round, post_assessment, scorecard_form, set};

/// Headers the round page's script sends.
pub(crate) const JSON: [(&str, &str); 2] = [("sec-fetch-site", "same-origin"), ("accept", "application/json")];

/// A peer loop of two rounds: `interviewer_a` accepted an invitation to round
/// 1 (`token`), `interviewer_b` one to round 2; `stranger` takes no part.
pub(crate) struct PeerFixture {
    pub candidate: String,
    pub interviewer_a: String,
    pub interviewer_b: String,
    pub stranger: String,
    pub loop_path: String,
    pub rounds: Vec<String>,
    pub token: String,
}

pub(crate) async fn peer_loop(app: &TestApp) -> PeerFixture {
    let candidate = app.sign_up("casey").await;
    let interviewer_a = app.sign_up("avery").await;
    let interviewer_b = app.sign_up("blake").await;
    let stranger = app.sign_up("sasha").await;
    let (loop_path, rounds) = schedule_peer_loop(app, &candidate).await;
    let token = invite(app, &candidate, &loop_path, &rounds[..1]).await;
    accept(app, &interviewer_a, &token, &loop_path).await;
    let token_b = invite(app, &candidate, &loop_path, &rounds[1..2]).await;
    accept(app, &interviewer_b, &token_b, &loop_path).await;
    PeerFixture { candidate, interviewer_a, interviewer_b, stranger, loop_path, rounds, token }
}

/// Builds a private two-round template (coding, then ML fundamentals) for the
/// signed-in user and returns its slug.
async fn two_round_template(app: &TestApp, cookie: &str) -> String {
    let name = format!("Peer pair {}", Uuid::new_v4().simple());
    let form = [
        ("name", name.as_str()),
        ("description", "Two rounds for peer tests."),
        ("team", ""),
        ("kind_0", "coding"),
        ("title_0", "Coding & algorithms"),
        ("minutes_0", "45"),
        ("questions_0", "1"),
        ("kind_1", "ml_fundamentals"),
        ("title_1", "ML fundamentals"),
        ("minutes_1", "45"),
        ("questions_1", "1"),
        ("op", "save"),
    ];
    let response = app.post_form("/templates/new", &form, Some(cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the template is saved: {}", response.body);
    sqlx::query_scalar("select slug from loop_templates where name = $1")
        .bind(&name)
        .fetch_one(&app.db)
        .await
        .expect("template slug")
}

/// Schedules a two-round peer loop for the signed-in candidate and returns
/// its path and its rounds' paths, in order.
pub(crate) async fn schedule_peer_loop(app: &TestApp, candidate: &str) -> (String, Vec<String>) {
    let template = two_round_template(app, candidate).await;
    let key = Uuid::new_v4().to_string();
    let form = [
        ("template", template.as_str()),
        ("team", "genai-llm"),
        ("level", "senior_staff"),
        ("mode", "peer"),
        ("starts_at", "2027-01-12T10:00"),
        ("time_zone", "Europe/Berlin"),
        ("break_minutes", "10"),
        ("request_key", key.as_str()),
    ];
    let response = app.post_form("/loops", &form, Some(candidate)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the peer loop is scheduled: {}", response.body);
    let loop_path = response.header("location").to_owned();
    let round_ids: Vec<Uuid> = sqlx::query_scalar("select id from rounds where loop_id = $1 order by position")
        .bind(id_of(&loop_path))
        .fetch_all(&app.db)
        .await
        .expect("rounds");
    assert_eq!(round_ids.len(), 2);
    (loop_path, round_ids.iter().map(|id| format!("/rounds/{id}")).collect())
}

/// The candidate invites a peer to `rounds`; returns the link's token.
pub(crate) async fn invite(app: &TestApp, candidate: &str, loop_path: &str, rounds: &[String]) -> String {
    let ids: Vec<String> = rounds.iter().map(|round| id_of(round).to_string()).collect();
    let form: Vec<(&str, &str)> = ids.iter().map(|id| ("round", id.as_str())).collect();
    let response = app.post_form(&format!("{loop_path}/invitations"), &form, Some(candidate)).await;
    assert_eq!(response.status, StatusCode::OK, "the invitation is created: {}", response.body);
    token_in(&response.body)
}

/// Accepts an invitation and checks that it leads to the loop.
pub(crate) async fn accept(app: &TestApp, cookie: &str, token: &str, loop_path: &str) {
    let response = app.post_form(&format!("/invite/{token}"), &[], Some(cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the invitation is accepted: {}", response.body);
    assert_eq!(response.header("location"), loop_path);
}

/// The token of the `/invite/<token>` link on a page.
fn token_in(body: &str) -> String {
    let start = body.find("/invite/").unwrap_or_else(|| panic!("an invitation link on the page: {body}")) + 8;
    let token: String =
        body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    assert_eq!(token.len(), 43, "a 256-bit URL-safe token: {token}");
    token
}

/// The newest invitation of a loop.
async fn latest_invitation(app: &TestApp, loop_path: &str) -> Uuid {
    sqlx::query_scalar("select id from invitations where loop_id = $1 order by created_at desc limit 1")
        .bind(id_of(loop_path))
        .fetch_one(&app.db)
        .await
        .expect("invitation")
}

/// The text of the `id="invitation-problem"` element, if there is one.
fn invitation_problem(body: &str) -> Option<&str> {
    let at = body.find(r#"id="invitation-problem""#)?;
    let start = at + body[at..].find('>')? + 1;
    Some(body[start..start + body[start..].find('<')?].trim())
}

async fn user_id(app: &TestApp, username: &str) -> Uuid {
    sqlx::query_scalar("select id from users where username = $1")
        .bind(username)
        .fetch_one(&app.db)
        .await
        .expect("user id")
}

async fn interviewers(app: &TestApp, loop_path: &str) -> Vec<Option<Uuid>> {
    sqlx::query_scalar("select interviewer_id from rounds where loop_id = $1 order by position")
        .bind(id_of(loop_path))
        .fetch_all(&app.db)
        .await
        .expect("interviewers")
}

/// A question of a round, as the bank holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct BankQuestion {
    pub title: String,
    pub prompt_md: String,
    pub hints: Vec<String>,
    pub follow_ups: Vec<String>,
    pub good_answer_md: String,
}

pub(crate) async fn questions_of_round(app: &TestApp, round: &str) -> Vec<BankQuestion> {
    let questions: Vec<BankQuestion> = sqlx::query_as(
        "select q.title, q.prompt_md, q.hints, q.follow_ups, q.good_answer_md
         from round_questions rq join questions q on q.id = rq.question_id
         where rq.round_id = $1 order by rq.position",
    )
    .bind(id_of(round))
    .fetch_all(&app.db)
    .await
    .expect("round questions");
    assert!(!questions.is_empty(), "the round has a question");
    questions
}

/// The longest run of plain words (letters, digits, spaces, commas) in
/// `text` that none of `elsewhere` contains. Such a run reads the same in
/// HTML, JSON, Markdown and event streams, so any response that carries
/// `text`, rendered or not, carries it.
pub(crate) fn fragment(text: &str, elsewhere: &[&str]) -> Option<String> {
    let mut runs: Vec<&str> = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == ' ' || c == ','))
        .map(str::trim)
        .filter(|run| run.len() >= 16 && run.contains(' '))
        .collect();
    runs.sort_by_key(|run| std::cmp::Reverse(run.len()));
    runs.into_iter().find(|run| elsewhere.iter().all(|other| !other.contains(run))).map(str::to_owned)
}

/// Distinctive pieces of what only the interviewer may see: each hint, each
/// follow-up and the "what good looks like" text, labelled.
pub(crate) fn guidance_fragments(question: &BankQuestion) -> Vec<(String, String)> {
    let elsewhere = [question.prompt_md.as_str(), question.title.as_str()];
    let mut pieces = Vec::new();
    for (index, hint) in question.hints.iter().enumerate() {
        pieces.extend(fragment(hint, &elsewhere).map(|f| (format!("hint {index}"), f)));
    }
    for (index, item) in question.follow_ups.iter().enumerate() {
        pieces.extend(fragment(item, &elsewhere).map(|f| (format!("follow-up {index}"), f)));
    }
    pieces.extend(fragment(&question.good_answer_md, &elsewhere).map(|f| ("what good looks like".to_owned(), f)));
    assert!(pieces.iter().any(|(label, _)| label.starts_with("hint")), "a distinctive hint: {question:?}");
    assert!(pieces.iter().any(|(label, _)| label.starts_with("what good")), "a distinctive good answer");
    pieces
}

/// Saves a note as the round page's script does (the scratchpad for the
/// candidate, private notes for the interviewer).
pub(crate) async fn save_note(app: &TestApp, cookie: &str, round: &str, body: &str, base_version: i32) -> TestResponse {
    let version = base_version.to_string();
    app.post_form_with(&format!("{round}/notes"), &[("body", body), ("base_version", &version)], Some(cookie), &JSON)
        .await
}

/// A complete scorecard for `round` with `summary`, submitted.
pub(crate) async fn submit_card(app: &TestApp, cookie: &str, round: &str, summary: &str, recommendation: &str) {
    let criteria = criteria_of_round(app, round).await;
    let mut form = scorecard_form(&criteria, &["3", "2"], recommendation, "submit");
    set(&mut form, "summary", summary);
    let response = post_assessment(app, cookie, round, &form).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the scorecard is submitted: {}", response.body);
}

/// A draft scorecard for `round`: the first criterion scored with `evidence`, and `summary`.
pub(crate) fn draft_form(criteria: &[Criterion], summary: &str, evidence: &str) -> Vec<(String, String)> {
    vec![
        (format!("score_{}", criteria[0].id), "2".to_owned()),
        (format!("evidence_{}", criteria[0].id), evidence.to_owned()),
        ("summary".to_owned(), summary.to_owned()),
        ("intent".to_owned(), "save".to_owned()),
    ]
}

fn settings() -> Settings {
    Settings { base_url: "http://localhost".into(), secure_cookies: false, behind_proxy: false }
}

/// A second instance of the app on the test app's database, for reading
/// server-sent events (whose bodies never end, so `TestApp::send` cannot).
pub(crate) struct LiveClient {
    router: Router,
}

impl LiveClient {
    pub(crate) fn new(app: &TestApp) -> LiveClient {
        LiveClient { router: mockloop::startup::build_router(AppState::new(app.db.clone(), settings())) }
    }

    /// GETs `path`; an event stream is read until its first events have come
    /// (and nothing more follows for a moment), then dropped.
    pub(crate) async fn first_events(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let response = self.open(path, cookie).await;
        let status = response.status();
        let headers = response.headers().clone();
        let mut body = response.into_body();
        let mut bytes = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let seen_timer = String::from_utf8_lossy(&bytes).contains("event: timer");
            let wait = if seen_timer {
                Duration::from_millis(300)
            } else {
                deadline.saturating_duration_since(tokio::time::Instant::now())
            };
            match tokio::time::timeout(wait, body.frame()).await {
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        bytes.extend_from_slice(&data);
                    }
                }
                Ok(Some(Err(error))) => panic!("the event stream fails: {error}"),
                Ok(None) | Err(_) => break,
            }
        }
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }
}

impl LiveClient {
    /// GETs `path` and hands back the answer unread, for a stream to be read later.
    pub(crate) async fn open(&self, path: &str, cookie: Option<&str>) -> axum::response::Response {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(header::COOKIE, cookie);
        }
        self.router.clone().oneshot(request.body(Body::empty()).expect("request")).await.expect("router answers")
    }
}

/// Reads what an open event stream delivers within `wait`.
pub(crate) async fn read_for(body: &mut Body, wait: Duration) -> String {
    let mut bytes = Vec::new();
    let deadline = tokio::time::Instant::now() + wait;
    while let Ok(Some(Ok(frame))) = tokio::time::timeout_at(deadline, body.frame()).await {
        if let Ok(data) = frame.into_data() {
            bytes.extend_from_slice(&data);
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The invitation through which `round`'s interviewer came.
pub(crate) async fn invitation_of(app: &TestApp, round: &str) -> Uuid {
    sqlx::query_scalar(
        "select ir.invitation_id from invitation_rounds ir join rounds r on r.id = ir.round_id
         where ir.round_id = $1 and ir.accepted_by = r.interviewer_id",
    )
    .bind(id_of(round))
    .fetch_one(&app.db)
    .await
    .expect("the accepted invitation")
}

/// The candidate withdraws an accepted invitation, confirming that its interviewer leaves.
pub(crate) async fn withdraw(app: &TestApp, candidate: &str, loop_path: &str, invitation: Uuid) {
    let path = format!("{loop_path}/invitations/{invitation}/revoke");
    let response = app.post_form(&path, &[("confirm", "yes")], Some(candidate)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the invitation is withdrawn: {}", response.body);
}

/// The `data:` of each `event: <name>` in an event stream.
fn events_named<'a>(stream: &'a str, name: &str) -> Vec<&'a str> {
    stream
        .split("\n\n")
        .filter(|block| block.lines().any(|line| line == format!("event: {name}")))
        .filter_map(|block| block.lines().find_map(|line| line.strip_prefix("data: ")))
        .collect()
}

#[tokio::test]
async fn an_invitation_link_makes_whoever_accepts_it_the_rounds_interviewer() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("casey").await;
    let (loop_path, rounds) = schedule_peer_loop(&app, &candidate).await;
    let page = app.get(&loop_path, Some(&candidate)).await;
    assert!(page.body.contains(r#"id="invite-form""#), "the candidate can invite: {}", page.body);
    assert!(page.body.contains("Not yet invited"));

    let (r1, r2) = (id_of(&rounds[0]).to_string(), id_of(&rounds[1]).to_string());
    let created = app
        .post_form(
            &format!("{loop_path}/invitations"),
            &[("round", &r1), ("round", &r2), ("expires_days", "3")],
            Some(&candidate),
        )
        .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    assert!(created.body.contains("2 rounds"), "{}", created.body);
    let token = token_in(&created.body);
    assert!(created.body.contains(&format!("http://localhost/invite/{token}")));

    // Shown once, stored only as a hash, expiring as asked.
    let later = app.get(&loop_path, Some(&candidate)).await;
    assert!(!later.body.contains(&token), "the loop page does not show the token again");
    assert!(later.body.contains(r#"id="invitation-list""#) && later.body.contains("Waiting"));
    let (hash, days): (Vec<u8>, f64) = sqlx::query_as(
        "select token_hash, extract(epoch from expires_at - created_at)::float8 / 86400 from invitations where loop_id = $1",
    )
    .bind(id_of(&loop_path))
    .fetch_one(&app.db)
    .await
    .expect("the invitation");
    assert_eq!(hash.len(), 32, "a SHA-256 digest");
    assert_ne!(hash, token.as_bytes());
    assert!((days - 3.0).abs() < 0.01, "expires in 3 days, not {days}");

    // A visitor is asked to sign in or up and brought back.
    let visitor = app.get(&format!("/invite/{token}"), None).await;
    assert_eq!(visitor.status, StatusCode::OK, "{}", visitor.body);
    assert!(visitor.body.contains("Round 1: Coding") && visitor.body.contains("Round 2: ML fundamentals"));
    assert!(visitor.body.contains(&format!(r#"href="/signin?next=%2Finvite%2F{token}""#)), "{}", visitor.body);
    assert!(visitor.body.contains(&format!(r#"href="/signup?next=%2Finvite%2F{token}""#)));
    assert!(!visitor.body.contains(r#"id="accept-invitation""#));
    let refused = app.post_form(&format!("/invite/{token}"), &[], None).await;
    assert_eq!(refused.status, StatusCode::SEE_OTHER);
    assert!(refused.header("location").starts_with("/signin?next="), "{}", refused.header("location"));

    let signed_up = app
        .post_form(
            "/signup",
            &[
                ("username", "avery"),
                ("password", "correct horse"),
                ("password_confirm", "correct horse"),
                ("next", &format!("/invite/{token}")),
            ],
            None,
        )
        .await;
    assert_eq!(signed_up.status, StatusCode::SEE_OTHER, "{}", signed_up.body);
    assert_eq!(signed_up.header("location"), format!("/invite/{token}"));
    let avery = signed_up.session_cookie().expect("a session");
    let invited = app.get(&format!("/invite/{token}"), Some(&avery)).await;
    assert_eq!(invited.status, StatusCode::OK);
    assert!(invited.body.contains(r#"id="accept-invitation""#), "{}", invited.body);
    assert!(invited.body.contains("casey"));

    accept(&app, &avery, &token, &loop_path).await;
    let avery_id = user_id(&app, "avery").await;
    assert_eq!(interviewers(&app, &loop_path).await, vec![Some(avery_id), Some(avery_id)]);
    assert_eq!(app.count("select count(*) from invitation_rounds where accepted_by is not null").await, 2);
    let page = app.get(&loop_path, Some(&candidate)).await;
    assert!(!page.body.contains("Not yet invited"), "the loop page names the interviewer");
    assert!(page.body.contains("Accepted"));
    let theirs = app.get(&loop_path, Some(&avery)).await;
    assert_eq!(theirs.status, StatusCode::OK, "the interviewer now sees the loop");
    assert_eq!(app.get(&rounds[1], Some(&avery)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn malformed_unknown_revoked_expired_reused_and_own_links_are_refused_with_a_reason() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("casey").await;
    let avery = app.sign_up("avery").await;
    let stranger = app.sign_up("sasha").await;
    let (loop_path, rounds) = schedule_peer_loop(&app, &candidate).await;

    let revoked = invite(&app, &candidate, &loop_path, &rounds[..1]).await;
    let revoked_id = latest_invitation(&app, &loop_path).await;
    let expired = invite(&app, &candidate, &loop_path, &rounds[..1]).await;
    let expired_id = latest_invitation(&app, &loop_path).await;
    let reused = invite(&app, &candidate, &loop_path, &rounds[..1]).await;

    let revoke_path = format!("{loop_path}/invitations/{revoked_id}/revoke");
    let not_theirs = app.post_form(&revoke_path, &[], Some(&stranger)).await;
    assert_eq!(not_theirs.status, StatusCode::NOT_FOUND, "only the candidate withdraws an invitation");
    let withdrawn = app.post_form(&revoke_path, &[], Some(&candidate)).await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER, "{}", withdrawn.body);
    assert!(app.get(&loop_path, Some(&candidate)).await.body.contains("Withdrawn"));
    sqlx::query(
        "update invitations set created_at = now() - interval '15 days', expires_at = now() - interval '1 day'
         where id = $1",
    )
    .bind(expired_id)
    .execute(&app.db)
    .await
    .expect("expire the invitation");
    accept(&app, &avery, &reused, &loop_path).await;

    let unknown = "A".repeat(43);
    let not_valid = "This invitation link is not valid. Check that it was copied whole, or ask for a new one.";
    let cases: [(&str, &str, &str, StatusCode, &str); 7] = [
        ("malformed", "not-a-token", &stranger, StatusCode::NOT_FOUND, not_valid),
        ("too long", &"B".repeat(44), &stranger, StatusCode::NOT_FOUND, not_valid),
        ("unknown", &unknown, &stranger, StatusCode::NOT_FOUND, not_valid),
        (
            "revoked",
            &revoked,
            &stranger,
            StatusCode::GONE,
            "This invitation was withdrawn by the candidate. Ask them for a new link if they still need you.",
        ),
        (
            "expired",
            &expired,
            &stranger,
            StatusCode::GONE,
            "This invitation has expired. Ask the candidate for a new link.",
        ),
        ("reused", &reused, &stranger, StatusCode::GONE, "Every round of this invitation already has an interviewer."),
        (
            "own",
            &reused,
            &candidate,
            StatusCode::CONFLICT,
            "This is an invitation to your own loop: send the link to the peer who will interview you.",
        ),
    ];
    for (case, token, cookie, status, message) in cases {
        let path = format!("/invite/{token}");
        for response in [app.get(&path, Some(cookie)).await, app.post_form(&path, &[], Some(cookie)).await] {
            assert_eq!(response.status, status, "{case}: {}", response.body);
            assert_eq!(invitation_problem(&response.body), Some(message), "{case}: {}", response.body);
            assert!(!response.body.contains(r#"id="accept-invitation""#), "{case}");
        }
    }
    // The problem page is the same for a visitor who is not signed in.
    let visitor = app.get(&format!("/invite/{revoked}"), None).await;
    assert_eq!(visitor.status, StatusCode::GONE);
    assert!(invitation_problem(&visitor.body).is_some_and(|m| m.starts_with("This invitation was withdrawn")));

    let avery_id = user_id(&app, "avery").await;
    assert_eq!(interviewers(&app, &loop_path).await, vec![Some(avery_id), None], "no refused link took a round");
    assert_eq!(app.count("select count(*) from invitation_rounds where accepted_by is not null").await, 1);
}

#[tokio::test]
async fn the_interviewer_sees_hints_follow_ups_guidance_timer_controls_and_the_candidates_notes() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let saved = save_note(&app, &f.candidate, &f.rounds[0], "## Plan\n\nKeep a **min-heap** of size k.", 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let page = app.get(&f.rounds[0], Some(&f.interviewer_a)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let question = &questions_of_round(&app, &f.rounds[0]).await[0];
    assert!(page.body.contains(&escape_html(&question.title)));
    assert!(page.body.contains(r#"id="hints-1""#));
    for hint in &question.hints {
        assert!(page.body.contains(&escape_html(hint)), "hint {hint:?} on the interviewer's page");
    }
    assert!(page.body.contains(r#"id="follow-ups-1""#));
    for item in &question.follow_ups {
        assert!(page.body.contains(&escape_html(item)), "follow-up {item:?} on the interviewer's page");
    }
    assert!(page.body.contains("What good looks like"));
    for (label, piece) in guidance_fragments(question) {
        assert!(page.body.contains(&piece), "{label} ({piece:?}) on the interviewer's page");
    }
    assert!(page.body.contains(r#"id="timer-start""#));
    assert!(page.body.contains(r#"id="notes-rendered""#));
    assert!(page.body.contains("<strong>min-heap</strong>"), "the candidate's notes, rendered");
    assert!(page.body.contains(r#"data-kind="private""#), "their own notes are private notes");
    assert!(page.body.contains(r#"id="swap-1""#));
    assert!(page.body.contains(r#"id="score-round""#));

    // The accepted link is spent: a second visitor is told so.
    let spent = app.get(&format!("/invite/{}", f.token), Some(&f.stranger)).await;
    assert_eq!(spent.status, StatusCode::GONE);
    assert_eq!(invitation_problem(&spent.body), Some("Every round of this invitation already has an interviewer."));
}

#[tokio::test]
async fn the_candidate_sees_only_the_prompt_the_timer_and_their_scratchpad() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let live = LiveClient::new(&app);
    let round = &f.rounds[0];
    let question = &questions_of_round(&app, round).await[0];
    let guidance = guidance_fragments(question);
    let saved = save_note(&app, &f.candidate, round, "I would use a *hash map* first.", 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let before = app.get(round, Some(&f.candidate)).await;
    assert_eq!(before.status, StatusCode::OK);
    assert!(before.body.contains(r#"id="question-hidden""#), "the question waits for the start");
    assert!(before.body.contains("your interviewer starts"));
    assert!(!before.body.contains(&escape_html(&question.title)));

    let (status, json) = timer(&app, &f.interviewer_a, round, "start").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let page = app.get(round, Some(&f.candidate)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&escape_html(&question.title)), "the prompt is shown once the round runs");
    assert!(page.body.contains(r#"id="clock""#) && page.body.contains(r#"data-state="running""#));
    assert!(page.body.contains(r#"data-kind="scratchpad""#) && page.body.contains("I would use a *hash map* first."));
    for absent in
        [r#"id="timer-controls""#, r#"id="hints-1""#, r#"id="follow-ups-1""#, "What good looks like", "Stuck?"]
    {
        assert!(!page.body.contains(absent), "{absent} on the candidate's page");
    }
    let state = app.get(&format!("{round}/state"), Some(&f.candidate)).await;
    assert_eq!(state.status, StatusCode::OK);
    let events = live.first_events(&format!("{round}/events"), Some(&f.candidate)).await;
    assert_eq!(events.status, StatusCode::OK);
    assert!(events.header("content-type").starts_with("text/event-stream"));
    assert!(!events_named(&events.body, "timer").is_empty(), "the timer event: {}", events.body);
    assert!(events_named(&events.body, "scratchpad").is_empty(), "the candidate is not sent their notes back");
    for (what, body) in [("page", &page.body), ("state", &state.body), ("events", &events.body)] {
        for hint in &question.hints {
            assert!(
                !body.contains(&escape_html(hint)) && !body.contains(hint),
                "hint {hint:?} in the candidate's {what}"
            );
        }
        for (label, piece) in &guidance {
            assert!(!body.contains(piece), "{label} ({piece:?}) in the candidate's {what}");
        }
    }
}

#[tokio::test]
async fn the_interviewers_event_stream_carries_the_candidates_scratchpad() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let live = LiveClient::new(&app);
    let round = &f.rounds[0];
    let saved = save_note(&app, &f.candidate, round, "First idea: **two pointers**.", 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let stream = live.first_events(&format!("{round}/events"), Some(&f.interviewer_a)).await;
    assert_eq!(stream.status, StatusCode::OK);
    let timers = events_named(&stream.body, "timer");
    assert!(!timers.is_empty(), "{}", stream.body);
    let timer: Value = serde_json::from_str(timers[0]).expect("timer JSON");
    assert_eq!(timer["state"], "not_started");
    let pads = events_named(&stream.body, "scratchpad");
    assert!(!pads.is_empty(), "the interviewer gets the scratchpad: {}", stream.body);
    let pad: Value = serde_json::from_str(pads[0]).expect("scratchpad JSON");
    assert_eq!(pad["version"], 1);
    assert!(pad["html"].as_str().is_some_and(|html| html.contains("<strong>two pointers</strong>")), "{pad}");

    // Nobody outside the round gets a stream.
    let other = live.first_events(&format!("{round}/events"), Some(&f.interviewer_b)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert!(!other.body.contains("two pointers"));
    let visitor = live.first_events(&format!("{round}/events"), None).await;
    assert_eq!(visitor.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn only_the_interviewer_runs_the_timer_of_a_peer_round() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    let state = || async {
        sqlx::query_scalar::<_, String>("select timer_state from rounds where id = $1")
            .bind(id_of(round))
            .fetch_one(&app.db)
            .await
            .expect("timer state")
    };

    let page = app.get(round, Some(&f.candidate)).await;
    assert!(!page.body.contains(r#"id="timer-start""#), "no controls for the candidate");
    for (who, cookie, status) in [
        ("candidate", &f.candidate, StatusCode::FORBIDDEN),
        ("round 2's interviewer", &f.interviewer_b, StatusCode::NOT_FOUND),
        ("stranger", &f.stranger, StatusCode::NOT_FOUND),
    ] {
        let (got, _) = timer(&app, cookie, round, "start").await;
        assert_eq!(got, status, "{who} starts the timer");
    }
    assert_eq!(state().await, "not_started");

    let (status, json) = timer(&app, &f.interviewer_a, round, "start").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(json["timer"]["state"], "running");
    let (status, _) = timer(&app, &f.candidate, round, "pause").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the candidate cannot pause");
    let form_post = app.post_form(&format!("{round}/timer"), &[("action", "end")], Some(&f.candidate)).await;
    assert_eq!(form_post.status, StatusCode::FORBIDDEN, "nor end it with the plain form");
    assert_eq!(state().await, "running");
    let (status, json) = timer(&app, &f.interviewer_a, round, "pause").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(state().await, "paused");
    let candidates_view = app.get(&format!("{round}/state"), Some(&f.candidate)).await;
    let view: Value = serde_json::from_str(&candidates_view.body).expect("state JSON");
    assert_eq!(view["state"], "paused", "the candidate sees the interviewer's change");
}

#[tokio::test]
async fn ticked_hints_are_stored_and_shown_in_feedback_once_the_interviewer_submits() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    let question = &questions_of_round(&app, round).await[0];
    assert!(!question.follow_ups.is_empty());
    let (status, json) = timer(&app, &f.interviewer_a, round, "start").await;
    assert_eq!(status, StatusCode::OK, "{json}");

    let refused = app.post_form(&format!("{round}/marks"), &[("hint_1_0", "on")], Some(&f.candidate)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "the candidate cannot tick hints");
    let ticked = app
        .post_form(&format!("{round}/marks"), &[("hint_1_0", "on"), ("follow_1_0", "on")], Some(&f.interviewer_a))
        .await;
    assert_eq!(ticked.status, StatusCode::SEE_OTHER, "{}", ticked.body);
    let (hints, follow_ups): (Vec<i16>, Vec<i16>) =
        sqlx::query_as("select hints_used, follow_ups_used from round_questions where round_id = $1 and position = 1")
            .bind(id_of(round))
            .fetch_one(&app.db)
            .await
            .expect("marks");
    assert_eq!((hints, follow_ups), (vec![0], vec![0]));
    let page = app.get(round, Some(&f.interviewer_a)).await;
    assert!(page.body.contains(r#"name="hint_1_0" checked"#), "the tick is shown again");
    assert!(page.body.contains(r#"name="follow_1_0" checked"#));

    let (status, json) = timer(&app, &f.interviewer_a, round, "end").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let sealed = app.get(&format!("{round}/feedback"), Some(&f.candidate)).await;
    assert_eq!(sealed.status, StatusCode::OK, "{}", sealed.body);
    assert!(!sealed.body.contains("Hints given"), "nothing is released before the scorecard");
    assert!(!sealed.body.contains(&escape_html(&question.hints[0])));

    submit_card(&app, &f.interviewer_a, round, "Good use of the first hint.", "hire").await;
    let released = app.get(&format!("{round}/feedback"), Some(&f.candidate)).await;
    assert_eq!(released.status, StatusCode::OK);
    assert!(released.body.contains(r#"id="hints-given-1""#), "{}", released.body);
    assert!(released.body.contains(&escape_html(&question.hints[0])));
    assert!(released.body.contains(r#"id="follow-ups-asked-1""#));
    assert!(released.body.contains(&escape_html(&question.follow_ups[0])));
    for hint in question.hints.iter().skip(1) {
        assert!(!released.body.contains(&escape_html(hint)), "an unticked hint stays hidden: {hint:?}");
    }
    assert!(!released.body.contains("What good looks like"), "guidance stays the interviewer's");
    let interviewers_view = app.get(&format!("{round}/feedback"), Some(&f.interviewer_a)).await;
    assert!(interviewers_view.body.contains(r#"id="hints-given-1""#));
}

#[tokio::test]
async fn the_interviewer_swaps_the_question_only_before_the_round_starts() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    let question_id = || async {
        sqlx::query_scalar::<_, Uuid>("select question_id from round_questions where round_id = $1 and position = 1")
            .bind(id_of(round))
            .fetch_one(&app.db)
            .await
            .expect("question")
    };
    let original = question_id().await;

    let by_candidate = app.post_form(&format!("{round}/swap"), &[("position", "1")], Some(&f.candidate)).await;
    assert_eq!(by_candidate.status, StatusCode::FORBIDDEN, "the candidate cannot pick their question");
    let by_other = app.post_form(&format!("{round}/swap"), &[("position", "1")], Some(&f.interviewer_b)).await;
    assert_eq!(by_other.status, StatusCode::NOT_FOUND);
    assert_eq!(question_id().await, original);

    let swapped = app.post_form(&format!("{round}/swap"), &[("position", "1")], Some(&f.interviewer_a)).await;
    assert_eq!(swapped.status, StatusCode::SEE_OTHER, "{}", swapped.body);
    assert_eq!(swapped.header("location"), round.as_str());
    let replacement = question_id().await;
    assert_ne!(replacement, original);
    let kind: String = sqlx::query_scalar("select kind from questions where id = $1")
        .bind(replacement)
        .fetch_one(&app.db)
        .await
        .expect("kind");
    assert_eq!(kind, "coding", "the replacement fits the round");
    let page = app.get(round, Some(&f.interviewer_a)).await;
    let title = &questions_of_round(&app, round).await[0].title;
    assert!(page.body.contains(&escape_html(title)));

    let (status, json) = timer(&app, &f.interviewer_a, round, "start").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let late = app.post_form(&format!("{round}/swap"), &[("position", "1")], Some(&f.interviewer_a)).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(late.body.contains("A question can be swapped only before the round starts."));
    assert_eq!(question_id().await, replacement);
    assert!(!app.get(round, Some(&f.interviewer_a)).await.body.contains(r#"id="swap-1""#));
}

#[tokio::test]
async fn the_interviewers_private_notes_never_reach_the_candidate() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let live = LiveClient::new(&app);
    let round = &f.rounds[0];
    let secret = format!("privatecanary{}", Uuid::new_v4().simple());
    let saved = save_note(&app, &f.interviewer_a, round, &format!("Struggled with **{secret}**."), 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let (kind, author): (String, Uuid) = sqlx::query_as("select kind, author_id from notes where round_id = $1")
        .bind(id_of(round))
        .fetch_one(&app.db)
        .await
        .expect("one note");
    assert_eq!((kind.as_str(), author), ("private", user_id(&app, "avery").await));
    let own = app.get(round, Some(&f.interviewer_a)).await;
    assert!(own.body.contains(&secret), "the interviewer gets their notes back");
    let by_other = save_note(&app, &f.interviewer_b, round, "not mine", 0).await;
    assert_eq!(by_other.status, StatusCode::NOT_FOUND);

    let mut seen = vec![app.get(round, Some(&f.candidate)).await];
    let (status, _) = timer(&app, &f.interviewer_a, round, "start").await;
    assert_eq!(status, StatusCode::OK);
    seen.push(app.get(round, Some(&f.candidate)).await);
    seen.push(live.first_events(&format!("{round}/events"), Some(&f.candidate)).await);
    let (status, _) = timer(&app, &f.interviewer_a, round, "end").await;
    assert_eq!(status, StatusCode::OK);
    submit_card(&app, &f.interviewer_a, round, "Submitted summary.", "hire").await;
    for path in [
        round.clone(),
        format!("{round}/state"),
        format!("{round}/feedback"),
        format!("{round}/assessment"),
        format!("{}/feedback", f.loop_path),
        format!("{}/feedback.md", f.loop_path),
        format!("{}/feedback.json", f.loop_path),
        "/history".to_owned(),
    ] {
        seen.push(app.get(&path, Some(&f.candidate)).await);
    }
    for response in &seen {
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        assert!(!response.body.contains(&secret), "the interviewer's private notes leak: {}", response.body);
    }
}

#[tokio::test]
async fn the_self_assessment_and_the_interviewers_draft_stay_sealed_until_submitted() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    run_round(&app, &f.interviewer_a, round).await;
    let criteria = criteria_of_round(&app, round).await;
    let draft = format!("interviewerdraft{}", Uuid::new_v4().simple());
    let saved = post_assessment(&app, &f.interviewer_a, round, &draft_form(&criteria, &draft, &draft)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let self_view = format!("selfview{}", Uuid::new_v4().simple());
    submit_card(&app, &f.candidate, round, &self_view, "strong_hire").await;
    let roles: Vec<(String, String)> =
        sqlx::query_as("select role, status from scorecards where round_id = $1 order by role")
            .bind(id_of(round))
            .fetch_all(&app.db)
            .await
            .expect("scorecards");
    assert_eq!(roles, vec![("interviewer".into(), "draft".into()), ("self".into(), "submitted".into())]);

    let pages = |cookie: String| {
        let app = &app;
        let paths = [
            format!("{round}/feedback"),
            format!("{}/feedback", f.loop_path),
            format!("{}/feedback.md", f.loop_path),
            format!("{}/feedback.json", f.loop_path),
        ];
        async move {
            let mut bodies = Vec::new();
            for path in &paths {
                let response = app.get(path, Some(&cookie)).await;
                assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.body);
                bodies.push(response.body);
            }
            bodies.join("\n")
        }
    };

    let candidate_sees = pages(f.candidate.clone()).await;
    assert!(!candidate_sees.contains(&draft), "the candidate sees the interviewer's draft");
    assert!(candidate_sees.contains(&self_view), "the candidate sees their own self-assessment");
    assert!(!candidate_sees.contains(r#"id="card-1-interviewer""#));
    let interviewer_sees = pages(f.interviewer_a.clone()).await;
    assert!(!interviewer_sees.contains(&self_view), "the self-assessment is sealed from the interviewer");
    assert!(!interviewer_sees.contains(r#"id="card-1-self""#));
    let form = app.get(&format!("{round}/assessment"), Some(&f.interviewer_a)).await;
    assert!(form.body.contains(&draft) && !form.body.contains(&self_view), "the interviewer's form is their own");

    let verdict = format!("interviewerfinal{}", Uuid::new_v4().simple());
    submit_card(&app, &f.interviewer_a, round, &verdict, "hire").await;
    let candidate_sees = pages(f.candidate.clone()).await;
    assert!(candidate_sees.contains(&verdict), "the submitted scorecard reaches the candidate");
    assert!(candidate_sees.contains(r#"id="card-1-interviewer""#) && candidate_sees.contains(r#"id="card-1-self""#));
    let interviewer_sees = pages(f.interviewer_a.clone()).await;
    assert!(interviewer_sees.contains(&self_view), "both submitted: the self-assessment opens");
    assert!(interviewer_sees.contains(r#"id="card-1-self""#));
}

#[tokio::test]
async fn an_interviewer_sees_the_other_scorecards_and_the_outcome_only_after_submitting_their_own() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    for (cookie, round) in [(&f.interviewer_a, &f.rounds[0]), (&f.interviewer_b, &f.rounds[1])] {
        run_round(&app, cookie, round).await;
    }
    let b_verdict = format!("bverdict{}", Uuid::new_v4().simple());
    submit_card(&app, &f.interviewer_b, &f.rounds[1], &b_verdict, "hire").await;
    let debrief = format!("{}/feedback", f.loop_path);

    let blind = app.get(&debrief, Some(&f.interviewer_a)).await;
    assert_eq!(blind.status, StatusCode::OK);
    assert!(!blind.body.contains(&b_verdict), "round 2's scorecard before A has scored");
    assert!(!blind.body.contains(r#"id="card-2-interviewer""#));
    assert!(blind.body.contains(r#"<span id="outcome-decision">Pending</span>"#), "{}", blind.body);
    assert!(blind.body.contains("Scoring is blind"));
    assert!(blind.body.contains("1 of 2 scorecards submitted"), "{}", blind.body);
    let json: Value =
        serde_json::from_str(&app.get(&format!("{debrief}.json"), Some(&f.interviewer_a)).await.body).expect("JSON");
    assert_eq!(json["outcome"], Value::Null);
    assert!(!json.to_string().contains(&b_verdict));
    assert!(!app.get(&format!("{debrief}.md"), Some(&f.interviewer_a)).await.body.contains(&b_verdict));
    assert!(!app.get(&format!("{}/feedback", f.rounds[1]), Some(&f.interviewer_a)).await.body.contains(&b_verdict));

    let candidate = app.get(&debrief, Some(&f.candidate)).await;
    assert!(!candidate.body.contains(&b_verdict), "sealed from the candidate until they assess themselves");
    assert!(candidate.body.contains("1 of 2 scorecards submitted"));
    let skipped = app.post_form(&format!("{}/assessment/skip", f.rounds[1]), &[], Some(&f.candidate)).await;
    assert_eq!(skipped.status, StatusCode::SEE_OTHER, "{}", skipped.body);
    let candidate = app.get(&debrief, Some(&f.candidate)).await;
    assert!(candidate.body.contains(&b_verdict), "the candidate reads a submitted scorecard once they skip theirs");
    let own = app.get(&debrief, Some(&f.interviewer_b)).await;
    assert!(own.body.contains(&b_verdict), "B reads their own");

    let a_verdict = format!("averdict{}", Uuid::new_v4().simple());
    submit_card(&app, &f.interviewer_a, &f.rounds[0], &a_verdict, "hire").await;
    let open = app.get(&debrief, Some(&f.interviewer_a)).await;
    assert!(open.body.contains(&b_verdict), "after scoring, A reads round 2's scorecard");
    assert!(!open.body.contains(r#"id="submitted-count""#), "complete: no count");
    assert!(!open.body.contains(r#"<span id="outcome-decision">Pending</span>"#), "the outcome is decided");
    let b_view = app.get(&debrief, Some(&f.interviewer_b)).await;
    assert!(b_view.body.contains(&a_verdict), "B has scored, so B reads round 1's");
}

#[tokio::test]
async fn each_participants_calendar_holds_only_their_rounds() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let uid = |round: &str| format!("UID:round-{}@mockloop", id_of(round));
    let path = format!("{}/calendar.ics", f.loop_path);
    for (who, cookie, rounds) in [
        ("candidate", &f.candidate, vec![0, 1]),
        ("interviewer A", &f.interviewer_a, vec![0]),
        ("interviewer B", &f.interviewer_b, vec![1]),
    ] {
        let response = app.get(&path, Some(cookie)).await;
        assert_eq!(response.status, StatusCode::OK, "{who}");
        let ics = response.body.replace("\r\n ", "");
        assert_eq!(ics.matches("BEGIN:VEVENT").count(), rounds.len(), "{who}: {ics}");
        for (index, round) in f.rounds.iter().enumerate() {
            assert_eq!(ics.contains(&uid(round)), rounds.contains(&index), "{who}, round {}", index + 1);
        }
    }
    assert_eq!(app.get(&path, Some(&f.stranger)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_invitation_to_several_rounds_gives_the_accepter_only_those_still_open() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("casey").await;
    let avery = app.sign_up("avery").await;
    let blake = app.sign_up("blake").await;
    let (loop_path, rounds) = schedule_peer_loop(&app, &candidate).await;
    let both = invite(&app, &candidate, &loop_path, &rounds).await;
    let first = invite(&app, &candidate, &loop_path, &rounds[..1]).await;
    accept(&app, &avery, &first, &loop_path).await;

    accept(&app, &blake, &both, &loop_path).await;
    let (avery_id, blake_id) = (user_id(&app, "avery").await, user_id(&app, "blake").await);
    assert_eq!(interviewers(&app, &loop_path).await, vec![Some(avery_id), Some(blake_id)], "round 1 stays avery's");
    let again = app.post_form(&format!("/invite/{both}"), &[], Some(&app.sign_up("sasha").await)).await;
    assert_eq!(again.status, StatusCode::GONE, "nothing is left to take");
    assert_eq!(interviewers(&app, &loop_path).await, vec![Some(avery_id), Some(blake_id)]);
}

#[tokio::test]
async fn an_invitation_naming_no_round_of_the_loop_is_refused() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("casey").await;
    let (loop_path, _) = schedule_peer_loop(&app, &candidate).await;
    let (_, other_rounds) = schedule_peer_loop(&app, &candidate).await;
    let foreign = id_of(&other_rounds[0]).to_string();
    let response = app.post_form(&format!("{loop_path}/invitations"), &[("round", &foreign)], Some(&candidate)).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "an invitation to a round of another loop");
    assert!(!response.body.contains("/invite/"), "no link that could never be used");
    assert_eq!(app.count("select count(*) from invitations").await, 0);
}

#[tokio::test]
async fn raw_html_in_the_scratchpad_never_reaches_the_interviewer() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let live = LiveClient::new(&app);
    let round = &f.rounds[0];
    let typed =
        "**Plan**\n\n<script>alert('x')</script>\n\n<img src=x onerror=alert(1)>\n\n[click](javascript:alert(1))";
    let saved = save_note(&app, &f.candidate, round, typed, 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let page = app.get(round, Some(&f.interviewer_a)).await.body;
    let stream = live.first_events(&format!("{round}/events"), Some(&f.interviewer_a)).await.body;
    let notes_at = page.find(r#"id="notes-rendered""#).expect("the candidate's notes");
    let notes = &page[notes_at..notes_at + page[notes_at..].find("</section>").expect("section end")];
    assert!(notes.contains("<strong>Plan</strong>"), "{notes}");
    for (what, html) in [("page", notes), ("stream", stream.as_str())] {
        let html = html.to_lowercase();
        for bad in ["<script", "<img", "javascript:"] {
            assert!(!html.contains(bad), "{bad} in the interviewer's {what}: {html}");
        }
        // Raw HTML shows as the text the candidate typed.
        assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"), "{html}");
    }
    assert!(stream.contains("<strong>Plan</strong>"), "the stream carries the rendered notes: {stream}");
}

#[tokio::test]
async fn another_rounds_interviewer_does_not_learn_its_question_before_it_starts() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let title = questions_of_round(&app, &f.rounds[1]).await[0].title.clone();
    let escaped = escape_html(&title);
    let own = app.get(&f.loop_path, Some(&f.interviewer_b)).await;
    assert!(own.body.contains(&escaped), "round 2's interviewer sees their question on the loop page");

    for path in [f.loop_path.clone(), format!("{}/feedback", f.loop_path), format!("{}/feedback.json", f.loop_path)] {
        let response = app.get(&path, Some(&f.interviewer_a)).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert!(
            !response.body.contains(&escaped) && !response.body.contains(&title),
            "round 1's interviewer reads round 2's question {title:?} on {path} before round 2 starts"
        );
    }
}

/// The pages and exports where a round's scorecards can be read, joined.
async fn feedback_seen_by(app: &TestApp, cookie: &str, loop_path: &str, rounds: &[&String]) -> String {
    let mut paths: Vec<String> = ["", ".md", ".json"].iter().map(|ext| format!("{loop_path}/feedback{ext}")).collect();
    paths.extend(rounds.iter().map(|round| format!("{round}/feedback")));
    let mut bodies = Vec::new();
    for path in &paths {
        let response = app.get(path, Some(cookie)).await;
        assert_eq!(response.status, StatusCode::OK, "{path}: {}", response.body);
        bodies.push(response.body);
    }
    bodies.join("\n")
}

#[tokio::test]
async fn a_peer_candidate_reads_the_interviewers_card_only_after_submitting_or_skipping_their_self_assessment() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let (r1, r2) = (&f.rounds[0], &f.rounds[1]);
    for (cookie, round) in [(&f.interviewer_a, r1), (&f.interviewer_b, r2)] {
        run_round(&app, cookie, round).await;
    }
    let loop_id = id_of(&f.loop_path);
    let score_points = || async {
        sqlx::query_scalar::<_, i64>("select count(*) from loop_score_points where loop_id = $1 and series = 'kind'")
            .bind(loop_id)
            .fetch_one(&app.db)
            .await
            .expect("score points")
    };

    // Round 1: the interviewer scores first; the candidate's view waits for their own.
    let a_verdict = format!("averdict{}", Uuid::new_v4().simple());
    submit_card(&app, &f.interviewer_a, r1, &a_verdict, "hire").await;
    let sealed = feedback_seen_by(&app, &f.candidate, &f.loop_path, &[r1]).await;
    assert!(!sealed.contains(&a_verdict), "the interviewer's card before the self-assessment");
    assert!(!sealed.contains(r#"id="card-1-interviewer""#));
    assert!(sealed.contains(r#"id="interviewer-card-sealed""#), "the candidate is told why, and how to open it");
    assert!(sealed.contains("Sealed until you submit or skip your self-assessment"));
    assert_eq!(score_points().await, 0, "nor do the history charts carry its scores");
    let self_view = format!("selfview{}", Uuid::new_v4().simple());
    submit_card(&app, &f.candidate, r1, &self_view, "strong_hire").await;
    let open = feedback_seen_by(&app, &f.candidate, &f.loop_path, &[r1]).await;
    assert!(open.contains(&a_verdict) && open.contains(r#"id="card-1-interviewer""#), "submitted: it opens");
    assert!(open.contains(r#"id="self-vs-interviewer""#), "side by side");
    assert!(score_points().await > 0, "and reaches the history charts");

    // Having read it, the candidate cannot rewrite theirs.
    let criteria = criteria_of_round(&app, r1).await;
    let mut amended = scorecard_form(&criteria, &["4"], "strong_hire", "amend");
    set(&mut amended, "summary", "rewritten after reading the interviewer");
    let refused = post_assessment(&app, &f.candidate, r1, &amended).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("final once submitted"), "{}", refused.body);
    let form = app.get(&format!("{r1}/assessment"), Some(&f.candidate)).await.body;
    assert!(!form.contains(r#"id="scorecard-amend""#), "no amend button on a final self-assessment");
    let summaries: i64 = sqlx::query_scalar(
        "select count(*) from scorecards where round_id = $1 and role = 'self' and summary like 'rewritten%'",
    )
    .bind(id_of(r1))
    .fetch_one(&app.db)
    .await
    .expect("count");
    assert_eq!(summaries, 0);

    // Round 2: skipping opens it too, is recorded, and is final.
    let b_verdict = format!("bverdict{}", Uuid::new_v4().simple());
    submit_card(&app, &f.interviewer_b, r2, &b_verdict, "no_hire").await;
    let draft_text = format!("selfdraft{}", Uuid::new_v4().simple());
    let drafted =
        post_assessment(&app, &f.candidate, r2, &draft_form(&criteria_of_round(&app, r2).await, &draft_text, "x"))
            .await;
    assert_eq!(drafted.status, StatusCode::SEE_OTHER, "{}", drafted.body);
    assert!(
        !feedback_seen_by(&app, &f.candidate, &f.loop_path, &[r2]).await.contains(&b_verdict),
        "a draft is not enough"
    );
    let skip = format!("{r2}/assessment/skip");
    let by_interviewer = app.post_form(&skip, &[], Some(&f.interviewer_b)).await;
    assert_eq!(by_interviewer.status, StatusCode::FORBIDDEN, "only the candidate skips their self-assessment");
    let skipped = app.post_form(&skip, &[], Some(&f.candidate)).await;
    assert_eq!(skipped.status, StatusCode::SEE_OTHER, "{}", skipped.body);
    assert_eq!(skipped.header("location"), format!("{r2}/feedback"));
    let open = feedback_seen_by(&app, &f.candidate, &f.loop_path, &[r2]).await;
    assert!(open.contains(&b_verdict) && !open.contains(&draft_text), "skipped: it opens; the draft is gone");
    let (status, skipped_at): (String, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as("select status, submitted_at from scorecards where round_id = $1 and role = 'self'")
            .bind(id_of(r2))
            .fetch_one(&app.db)
            .await
            .expect("the skipped self-assessment");
    assert_eq!(status, "skipped");
    assert!(skipped_at.is_some(), "when it was skipped is recorded");
    let again = app.post_form(&skip, &[], Some(&f.candidate)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let late = post_assessment(
        &app,
        &f.candidate,
        r2,
        &scorecard_form(&criteria_of_round(&app, r2).await, &["4"], "strong_hire", "submit"),
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT, "no self-assessment after skipping: {}", late.body);
    assert!(late.body.contains("skipping is final"));
    let page = app.get(&format!("{r2}/assessment"), Some(&f.candidate)).await.body;
    assert!(page.contains(r#"id="skipped-note""#) && !page.contains(r#"id="scorecard-form""#));
    println!(
        "FIGURE blind scoring: the interviewer's card stayed sealed from the candidate on 4 pages and exports \
         until they submitted (then final: amend refused) or skipped (recorded, final) their self-assessment"
    );
}

#[tokio::test]
async fn an_interviewer_never_reads_the_self_assessment_of_a_round_they_did_not_interview() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let (r1, r2) = (&f.rounds[0], &f.rounds[1]);
    let mut verdicts = Vec::new();
    let mut self_views = Vec::new();
    for (cookie, round) in [(&f.interviewer_a, r1), (&f.interviewer_b, r2)] {
        run_round(&app, cookie, round).await;
        let verdict = format!("verdict{}", Uuid::new_v4().simple());
        submit_card(&app, cookie, round, &verdict, "hire").await;
        let self_view = format!("selfview{}", Uuid::new_v4().simple());
        submit_card(&app, &f.candidate, round, &self_view, "hire").await;
        verdicts.push(verdict);
        self_views.push(self_view);
    }
    let a_sees = feedback_seen_by(&app, &f.interviewer_a, &f.loop_path, &[r1]).await;
    assert!(a_sees.contains(&verdicts[1]), "A has scored, so A reads round 2's interviewer card");
    assert!(a_sees.contains(&self_views[0]), "and the self-assessment of the round A interviewed");
    assert!(!a_sees.contains(&self_views[1]), "but never round 2's self-assessment");
    assert!(!a_sees.contains(r#"id="card-2-self""#));
    let b_sees = feedback_seen_by(&app, &f.interviewer_b, &f.loop_path, &[r2]).await;
    assert!(b_sees.contains(&verdicts[0]) && b_sees.contains(&self_views[1]));
    assert!(!b_sees.contains(&self_views[0]), "nor B round 1's");
    let candidate_sees = feedback_seen_by(&app, &f.candidate, &f.loop_path, &[r1, r2]).await;
    for text in verdicts.iter().chain(&self_views) {
        assert!(candidate_sees.contains(text), "the candidate reads every card once theirs are in");
    }
    println!(
        "FIGURE blind scoring: interviewers of one round read 0 of the other round's self-assessments on 4 pages and exports"
    );
}

#[tokio::test]
async fn withdrawing_an_accepted_invitation_shuts_the_interviewer_out_drops_their_draft_and_marks_their_card() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let live = LiveClient::new(&app);
    let (r1, r2) = (&f.rounds[0], &f.rounds[1]);
    run_round(&app, &f.interviewer_a, r1).await;
    let verdict = format!("withdrawnverdict{}", Uuid::new_v4().simple());
    submit_card(&app, &f.interviewer_a, r1, &verdict, "hire").await;
    let self_view = format!("selfview{}", Uuid::new_v4().simple());
    submit_card(&app, &f.candidate, r1, &self_view, "hire").await;
    assert!(app.get(&format!("{r1}/feedback"), Some(&f.interviewer_a)).await.body.contains(&self_view));
    let (status, json) = timer(&app, &f.interviewer_b, r2, "start").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let b_draft = format!("bdraft{}", Uuid::new_v4().simple());
    let drafted =
        post_assessment(&app, &f.interviewer_b, r2, &draft_form(&criteria_of_round(&app, r2).await, &b_draft, "x"))
            .await;
    assert_eq!(drafted.status, StatusCode::SEE_OTHER, "{}", drafted.body);
    // Streams the interviewers opened before they were withdrawn.
    let a_stream = live.open(&format!("{r1}/events"), Some(&f.interviewer_a)).await;
    let b_stream = live.open(&format!("{r2}/events"), Some(&f.interviewer_b)).await;
    assert_eq!((a_stream.status(), b_stream.status()), (StatusCode::OK, StatusCode::OK));
    let (mut a_stream, mut b_stream) = (a_stream.into_body(), b_stream.into_body());
    for stream in [&mut a_stream, &mut b_stream] {
        let first = read_for(stream, Duration::from_millis(1000)).await;
        assert!(first.contains("event: timer") && !first.contains("event: gone"), "{first}");
    }

    // The candidate is asked first, and told what withdrawing does.
    let a_invitation = invitation_of(&app, r1).await;
    let asked =
        app.post_form(&format!("{}/invitations/{a_invitation}/revoke", f.loop_path), &[], Some(&f.candidate)).await;
    assert_eq!(asked.status, StatusCode::OK, "{}", asked.body);
    assert!(asked.body.contains(r#"id="withdraw-confirmation""#), "{}", asked.body);
    assert!(asked.body.contains("lose access to the loop") && asked.body.contains("draft scorecard is discarded"));
    assert!(interviewers(&app, &f.loop_path).await[0].is_some(), "nothing changes before the candidate confirms");
    withdraw(&app, &f.candidate, &f.loop_path, a_invitation).await;
    withdraw(&app, &f.candidate, &f.loop_path, invitation_of(&app, r2).await).await;
    assert_eq!(interviewers(&app, &f.loop_path).await, vec![None, None]);

    // Neither reads anything of the loop any more.
    let lp = &f.loop_path;
    let mut refused = 0;
    for (cookie, round) in [(&f.interviewer_a, r1), (&f.interviewer_b, r2)] {
        for path in [
            lp.clone(),
            format!("{lp}/feedback"),
            format!("{lp}/feedback.md"),
            format!("{lp}/feedback.json"),
            format!("{lp}/calendar.ics"),
            round.clone(),
            format!("{round}/state"),
            format!("{round}/assessment"),
            format!("{round}/feedback"),
        ] {
            let response = app.get(&path, Some(cookie)).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "{path} after withdrawal: {}", response.body);
            refused += 1;
        }
        let events = live.first_events(&format!("{round}/events"), Some(cookie)).await;
        assert_eq!(events.status, StatusCode::NOT_FOUND, "a new stream is refused");
        let note = save_note(&app, cookie, round, "still here?", 0).await;
        assert_eq!(note.status, StatusCode::NOT_FOUND);
        refused += 2;
        for page in ["/history", "/calendar", "/"] {
            let body = app.get(page, Some(cookie)).await.body;
            assert!(!body.contains(&lp[7..]), "{page} no longer lists the loop");
        }
    }

    // The open streams deliver nothing new: the next change tells them the round is gone.
    let later = format!("afterwithdrawal{}", Uuid::new_v4().simple());
    let version = crate::helpers::note_version(&app.db, id_of(r1), "scratchpad").await;
    let saved = save_note(&app, &f.candidate, r1, &later, version).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let a_read = read_for(&mut a_stream, Duration::from_millis(1500)).await;
    assert!(a_read.contains("event: gone"), "{a_read}");
    assert!(!a_read.contains(&later), "the candidate's later notes reach the withdrawn interviewer: {a_read}");
    let b_read = read_for(&mut b_stream, Duration::from_millis(500)).await;
    assert!(b_read.contains("event: gone"), "{b_read}");

    // B's draft is gone; A's submitted card stays on the record, marked.
    let cards: Vec<(String, String, bool)> = sqlx::query_as(
        "select r.position::text, s.status, s.author_withdrawn_at is not null from scorecards s
         join rounds r on r.id = s.round_id where r.loop_id = $1 and s.role = 'interviewer' order by r.position",
    )
    .bind(id_of(lp))
    .fetch_all(&app.db)
    .await
    .expect("interviewer cards");
    assert_eq!(cards, vec![("1".to_owned(), "submitted".to_owned(), true)]);
    let candidate_sees = feedback_seen_by(&app, &f.candidate, lp, &[r1]).await;
    assert!(candidate_sees.contains(&verdict), "the withdrawn interviewer's card stays on the candidate's record");
    assert!(candidate_sees.contains(r#"id="card-1-withdrawn""#), "marked on the feedback pages");
    assert!(candidate_sees.contains("Withdrawn interviewer"), "and in the exports");
    assert!(!candidate_sees.contains(&b_draft));
    let json: Value =
        serde_json::from_str(&app.get(&format!("{lp}/feedback.json"), Some(&f.candidate)).await.body).expect("JSON");
    let cards = json["rounds"][0]["cards"].as_array().expect("round 1's cards");
    let card = cards.iter().find(|c| c["role"] == "interviewer").expect("the interviewer's card");
    assert_eq!(card["withdrawn_interviewer"], Value::Bool(true), "{json}");
    println!(
        "FIGURE withdrawal: {refused} pages, exports, calendars, streams and writes refused (404) to 2 withdrawn interviewers; \
         their 2 open streams told \"gone\" and sent nothing new; 1 submitted card kept and marked, 1 draft discarded"
    );
}
/// The bank slug of each question of a round, in order.
async fn slugs_of_round(app: &TestApp, round: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select q.slug from round_questions rq join questions q on q.id = rq.question_id
         where rq.round_id = $1 order by rq.position",
    )
    .bind(id_of(round))
    .fetch_all(&app.db)
    .await
    .expect("round question slugs")
}

#[tokio::test]
async fn the_bank_keeps_a_peer_candidates_question_guidance_from_them_until_their_round_ends() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    let question = &questions_of_round(&app, round).await[0];
    let page = format!("/questions/{}", slugs_of_round(&app, round).await[0]);
    let search = format!("/questions?q={}", urlencoding(&question.title));
    let guidance = guidance_fragments(question);
    let shown = |body: &str| -> Vec<String> {
        guidance.iter().filter(|(_, piece)| body.contains(piece)).map(|(label, _)| label.clone()).collect()
    };

    for stage in ["scheduled", "running", "paused"] {
        if stage != "scheduled" {
            let action = if stage == "running" { "start" } else { "pause" };
            let (status, json) = timer(&app, &f.interviewer_a, round, action).await;
            assert_eq!(status, StatusCode::OK, "{json}");
        }
        let response = app.get(&page, Some(&f.candidate)).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        assert!(response.body.contains(&escape_html(&question.title)), "the question itself is still there");
        assert!(response.body.contains(r#"id="guidance-withheld""#), "{stage}: the page says why");
        assert_eq!(shown(&response.body), Vec::<String>::new(), "{stage}: the candidate reads their round's guidance");
        let listed = app.get(&search, Some(&f.candidate)).await;
        assert_eq!(listed.status, StatusCode::OK);
        assert!(listed.body.contains(&page), "{stage}: the search finds the question");
        assert_eq!(shown(&listed.body), Vec::<String>::new(), "{stage}: guidance in the search results");
        // Everyone else reads the bank as before: the interviewers, and someone with no part in the loop.
        for (who, cookie) in
            [("interviewer", &f.interviewer_a), ("other interviewer", &f.interviewer_b), ("stranger", &f.stranger)]
        {
            let theirs = app.get(&page, Some(cookie)).await;
            assert_eq!(shown(&theirs.body).len(), guidance.len(), "{stage}: the {who} reads all the guidance");
            assert!(!theirs.body.contains(r#"id="guidance-withheld""#));
        }
    }
    // Round 2 has not started either: its question is kept back as well.
    let second = format!("/questions/{}", slugs_of_round(&app, &f.rounds[1]).await[0]);
    assert!(app.get(&second, Some(&f.candidate)).await.body.contains(r#"id="guidance-withheld""#));

    let (status, json) = timer(&app, &f.interviewer_a, round, "end").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    let after = app.get(&page, Some(&f.candidate)).await;
    assert_eq!(shown(&after.body).len(), guidance.len(), "once the round has ended the bank shows it all");
    assert!(!after.body.contains(r#"id="guidance-withheld""#));
    assert!(
        app.get(&second, Some(&f.candidate)).await.body.contains(r#"id="guidance-withheld""#),
        "round 2 still to run"
    );
}

/// `text` as a query-string value.
fn urlencoding(text: &str) -> String {
    serde_urlencoded::to_string([("", text)]).expect("encodes").trim_start_matches('=').to_owned()
}

#[tokio::test]
async fn a_round_whose_interviewer_is_withdrawn_mid_round_passes_its_clock_to_the_candidate() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let (r1, r2) = (&f.rounds[0], &f.rounds[1]);
    let (status, json) = timer(&app, &f.interviewer_a, r1, "start").await;
    assert_eq!(status, StatusCode::OK, "{json}");
    assert_eq!(timer(&app, &f.candidate, r1, "pause").await.0, StatusCode::FORBIDDEN, "the interviewer's clock");

    withdraw(&app, &f.candidate, &f.loop_path, invitation_of(&app, r1).await).await;
    let page = app.get(r1, Some(&f.candidate)).await;
    assert!(page.body.contains(r#"id="timer-pause""#), "the candidate is given the controls");
    for action in ["pause", "resume", "end"] {
        let (status, json) = timer(&app, &f.candidate, r1, action).await;
        assert_eq!(status, StatusCode::OK, "{action}: {json}");
    }

    // A round not yet started waits for a new interviewer instead.
    withdraw(&app, &f.candidate, &f.loop_path, invitation_of(&app, r2).await).await;
    assert_eq!(timer(&app, &f.candidate, r2, "start").await.0, StatusCode::FORBIDDEN);
}
