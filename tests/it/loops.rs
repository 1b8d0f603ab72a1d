//! Scheduling loops: the form, the timeline page, question selection,
//! calendars, rescheduling, cancelling, and who may see or change a loop.

use std::collections::HashSet;

use axum::http::StatusCode;
use uuid::Uuid;

use crate::helpers::{TestApp, TestResponse};
use crate::rounds::timer;

/// The schedule form for `template` on 1 Dec 2026, 09:30 in Berlin, with 10-minute breaks.
fn loop_form<'a>(template: &'a str, request_key: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("template", template),
        ("team", "genai-llm"),
        ("level", "senior_staff"),
        ("mode", "self_timed"),
        ("starts_at", "2026-12-01T09:30"),
        ("time_zone", "Europe/Berlin"),
        ("break_minutes", "10"),
        ("request_key", request_key),
    ]
}

/// Schedules a self-timed loop of `template` (see [`loop_form`]) and returns
/// its path and its rounds' paths, in order.
pub(crate) async fn schedule_loop(app: &TestApp, cookie: &str, template: &str) -> (String, Vec<String>) {
    let key = Uuid::new_v4().to_string();
    let response = app.post_form("/loops", &loop_form(template, &key), Some(cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the loop is scheduled: {}", response.body);
    let loop_path = response.header("location").to_owned();
    let round_ids: Vec<Uuid> = sqlx::query_scalar("select id from rounds where loop_id = $1 order by position")
        .bind(id_of(&loop_path))
        .fetch_all(&app.db)
        .await
        .expect("rounds");
    (loop_path, round_ids.iter().map(|id| format!("/rounds/{id}")).collect())
}

/// The id at the end of a path such as `/loops/<id>` or `/rounds/<id>`.
pub(crate) fn id_of(path: &str) -> Uuid {
    path.rsplit('/').next().and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("no id at the end of {path}"))
}

/// Text as askama escapes it into a page.
pub(crate) fn escape_html(text: &str) -> String {
    text.replace('&', "&#38;").replace('<', "&#60;").replace('>', "&#62;").replace('"', "&#34;").replace('\'', "&#39;")
}

/// The question ids of every round of a loop.
async fn question_ids(app: &TestApp, loop_path: &str) -> Vec<Uuid> {
    sqlx::query_scalar(
        "select rq.question_id from round_questions rq join rounds r on r.id = rq.round_id
         where r.loop_id = $1 order by r.position, rq.position",
    )
    .bind(id_of(loop_path))
    .fetch_all(&app.db)
    .await
    .expect("question ids")
}

async fn question_titles(app: &TestApp, loop_path: &str) -> Vec<String> {
    sqlx::query_scalar(
        "select q.title from round_questions rq join rounds r on r.id = rq.round_id
         join questions q on q.id = rq.question_id where r.loop_id = $1 order by r.position, rq.position",
    )
    .bind(id_of(loop_path))
    .fetch_all(&app.db)
    .await
    .expect("question titles")
}

/// The events of an iCalendar file, each as its lines (folded lines joined).
fn calendar_events(ics: &str) -> Vec<Vec<String>> {
    let unfolded = ics.replace("\r\n ", "");
    let mut events = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in unfolded.split("\r\n") {
        match line {
            "BEGIN:VEVENT" => current = Some(Vec::new()),
            "END:VEVENT" => events.extend(current.take()),
            _ => {
                if let Some(event) = current.as_mut() {
                    event.push(line.to_owned());
                }
            }
        }
    }
    events
}

/// The value of `property` in each event, in order.
fn property(events: &[Vec<String>], property: &str) -> Vec<String> {
    let prefix = format!("{property}:");
    events
        .iter()
        .map(|event| {
            event.iter().find_map(|line| line.strip_prefix(&prefix)).map(str::to_owned).unwrap_or_else(|| {
                panic!("every event has {property}: {event:?}");
            })
        })
        .collect()
}

async fn calendar(app: &TestApp, cookie: &str, loop_path: &str) -> TestResponse {
    let response = app.get(&format!("{loop_path}/calendar.ics"), Some(cookie)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    response
}

async fn reschedule(
    app: &TestApp,
    cookie: &str,
    loop_path: &str,
    starts_at: &str,
    break_minutes: &str,
) -> TestResponse {
    app.post_form(
        &format!("{loop_path}/reschedule"),
        &[("starts_at", starts_at), ("time_zone", "Europe/Berlin"), ("break_minutes", break_minutes)],
        Some(cookie),
    )
    .await
}

#[tokio::test]
async fn scheduling_a_loop_creates_its_rounds_and_keeps_the_questions_hidden() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("scheduler").await;
    let key = Uuid::new_v4().to_string();
    let response = app.post_form("/loops", &loop_form("mle-onsite", &key), Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let loop_path = response.header("location").to_owned();
    assert!(loop_path.starts_with("/loops/"), "{loop_path}");
    let loop_id = id_of(&loop_path);

    let rounds = app.count(&format!("select count(*) from rounds where loop_id = '{loop_id}'")).await;
    assert_eq!(rounds, 6);
    let picked = app
        .count(&format!(
            "select count(*) from round_questions rq join rounds r on r.id = rq.round_id where r.loop_id = '{loop_id}'"
        ))
        .await;
    assert_eq!(picked, 6);
    let (seed, starts_at, zone): (i64, chrono::DateTime<chrono::Utc>, String) =
        sqlx::query_as("select selection_seed, starts_at, time_zone from loops where id = $1")
            .bind(loop_id)
            .fetch_one(&app.db)
            .await
            .expect("loop");
    assert_eq!(starts_at.to_rfc3339(), "2026-12-01T08:30:00+00:00", "09:30 in Berlin is 08:30 UTC in December");
    assert_eq!(zone, "Europe/Berlin");

    let page = app.get(&loop_path, Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!(r#"id="loop-seed">{seed}</code>"#)), "the seed is shown: {}", page.body);
    let timeline_at = page.body.find(r#"id="timeline""#).expect("a timeline");
    let timeline = &page.body[timeline_at..];
    let mut last = 0;
    for slot in ["09:30–10:15", "10:25–11:10", "11:20–12:20", "12:30–13:15", "13:25–14:10", "14:20–15:05"] {
        let at = timeline.find(slot).unwrap_or_else(|| panic!("{slot} in the timeline: {timeline}"));
        assert!(at > last, "{slot} comes after the previous round");
        last = at;
    }
    for title in question_titles(&app, &loop_path).await {
        assert!(!page.body.contains(&escape_html(&title)), "{title} is hidden before its round starts");
    }
    assert_eq!(page.body.matches("Revealed when the round starts").count(), 6);
}

#[tokio::test]
async fn a_question_title_appears_on_the_loop_page_once_its_round_starts() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("starter").await;
    let (loop_path, rounds) = schedule_loop(&app, &cookie, "mle-onsite").await;
    let titles = question_titles(&app, &loop_path).await;
    let (status, _) = timer(&app, &cookie, &rounds[0], "start").await;
    assert_eq!(status, StatusCode::OK);
    let page = app.get(&loop_path, Some(&cookie)).await.body;
    assert!(page.contains(&escape_html(&titles[0])), "the started round's question shows");
    assert!(!page.contains(&escape_html(&titles[1])), "the next round's question stays hidden");
    assert_eq!(page.matches("Revealed when the round starts").count(), 5);
}

#[tokio::test]
async fn invalid_schedules_are_refused_with_messages_and_keep_what_was_typed() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("typo").await;
    let key = Uuid::new_v4().to_string();
    let cases: [(&str, &str, &str, &str); 4] = [
        ("time_zone", "Mars/Olympus", "Unknown time zone `Mars/Olympus`", r#"value="2026-12-01T09:30""#),
        (
            "starts_at",
            "next tuesday-ish",
            "Enter a date and time such as 2026-12-01T09:30",
            r#"value="next tuesday-ish""#,
        ),
        (
            "starts_at",
            "2026-03-29T02:30",
            "2026-03-29T02:30 does not exist in Europe/Berlin",
            r#"value="2026-03-29T02:30""#,
        ),
        ("break_minutes", "500", "Enter a break of 0 to 120 minutes.", r#"value="500""#),
    ];
    for (field, value, message, kept) in cases {
        let mut form = loop_form("mle-onsite", &key);
        for pair in form.iter_mut().filter(|(name, _)| *name == field) {
            pair.1 = value;
        }
        let response = app.post_form("/loops", &form, Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}");
        assert!(response.body.contains(r#"id="form-errors""#), "{field}={value}");
        assert!(response.body.contains(message), "{field}={value} says {message:?}: {}", response.body);
        assert!(response.body.contains(kept), "{field}={value} keeps {kept}");
        assert!(response.body.contains(r#"value="mle-onsite" checked"#), "the template stays chosen");
        assert!(response.body.contains(&format!(r#"name="request_key" value="{key}""#)), "the request key is kept");
    }
    let zone_kept = app
        .post_form(
            "/loops",
            &[
                ("template", "mle-onsite"),
                ("team", "camera-cv"),
                ("level", "junior_mid"),
                ("mode", "self_timed"),
                ("starts_at", "soon"),
                ("time_zone", "Asia/Tokyo"),
                ("break_minutes", "15"),
            ],
            Some(&cookie),
        )
        .await;
    assert_eq!(zone_kept.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = zone_kept.body;
    assert!(body.contains("<option selected>Asia/Tokyo</option>"), "the zone stays selected");
    assert!(
        body.contains(r#"<option value="camera-cv" selected>"#)
            && body.contains(r#"<option value="junior_mid" selected>"#)
    );
    assert!(body.contains(r#"value="15""#), "the break is kept");
    assert_eq!(app.count("select count(*) from loops").await, 0, "nothing was scheduled");
}

#[tokio::test]
async fn posting_the_same_form_twice_creates_one_loop() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("doubleclick").await;
    let key = Uuid::new_v4().to_string();
    let form = loop_form("mle-onsite", &key);
    let first = app.post_form("/loops", &form, Some(&cookie)).await;
    let second = app.post_form("/loops", &form, Some(&cookie)).await;
    assert_eq!((first.status, second.status), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    assert_eq!(first.header("location"), second.header("location"), "both lead to the same loop");
    assert_eq!(app.count("select count(*) from loops").await, 1);
    assert_eq!(app.count("select count(*) from rounds").await, 6);
    assert_eq!(app.count("select count(*) from round_questions").await, 6);

    let other_key = Uuid::new_v4().to_string();
    let third = app.post_form("/loops", &loop_form("mle-onsite", &other_key), Some(&cookie)).await;
    assert_eq!(third.status, StatusCode::SEE_OTHER);
    assert_ne!(third.header("location"), first.header("location"), "a new key is a new loop");
    assert_eq!(app.count("select count(*) from loops").await, 2);
}

#[tokio::test]
async fn a_second_loop_does_not_repeat_a_question_of_the_first_while_unseen_ones_remain() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("repeat").await;
    // Enough fitting questions for two loops: two per round kind at this level.
    let thin_kinds = app
        .count(
            "select count(*) from (select k from unnest(array['coding', 'ml_fundamentals', 'ml_system_design',
                 'domain', 'behavioral', 'hiring_manager']) as k
             where (select count(*) from questions q where q.kind = k and q.owner_id is null
                    and 'senior_staff' = any(q.levels)) < 2) thin",
        )
        .await;
    assert_eq!(thin_kinds, 0, "the bank has at least two senior questions of every kind");

    let (first, _) = schedule_loop(&app, &cookie, "mle-onsite").await;
    let (second, _) = schedule_loop(&app, &cookie, "mle-onsite").await;
    let first_ids: HashSet<Uuid> = question_ids(&app, &first).await.into_iter().collect();
    let second_ids: Vec<Uuid> = question_ids(&app, &second).await;
    assert_eq!((first_ids.len(), second_ids.len()), (6, 6));
    let repeated: Vec<&Uuid> = second_ids.iter().filter(|id| first_ids.contains(id)).collect();
    assert!(repeated.is_empty(), "no question of the first loop comes back: {repeated:?}");
}

#[tokio::test]
async fn other_users_get_404_for_someone_elses_loop_and_cannot_change_it() {
    let app = TestApp::new().await;
    let owner = app.sign_up("owner").await;
    let stranger = app.sign_up("stranger").await;
    let (loop_path, rounds) = schedule_loop(&app, &owner, "phone-screen").await;
    let round = &rounds[0];

    for path in [
        loop_path.clone(),
        format!("{loop_path}/calendar.ics"),
        format!("{loop_path}/feedback"),
        format!("{loop_path}/feedback.md"),
        format!("{loop_path}/feedback.json"),
        round.clone(),
        format!("{round}/events"),
        format!("{round}/state"),
        format!("{round}/assessment"),
        format!("{round}/feedback"),
    ] {
        let response = app.get(&path, Some(&stranger)).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "GET {path}");
    }

    let criterion: Uuid = sqlx::query_scalar(
        "select c.id from rubric_criteria c join rubrics r on r.id = c.rubric_id where r.kind = 'coding' limit 1",
    )
    .fetch_one(&app.db)
    .await
    .expect("a coding criterion");
    let score_field = format!("score_{criterion}");
    let evidence_field = format!("evidence_{criterion}");
    let posts: Vec<(String, Vec<(&str, &str)>)> = vec![
        (format!("{round}/timer"), vec![("action", "start")]),
        (format!("{round}/notes"), vec![("body", "not mine"), ("base_version", "0")]),
        (
            format!("{round}/assessment"),
            vec![
                (score_field.as_str(), "1"),
                (evidence_field.as_str(), "sabotage"),
                ("recommendation", "strong_no_hire"),
                ("intent", "submit"),
            ],
        ),
        (
            format!("{loop_path}/reschedule"),
            vec![("starts_at", "2027-01-05T08:00"), ("time_zone", "UTC"), ("break_minutes", "0")],
        ),
        (format!("{loop_path}/cancel"), vec![]),
    ];
    for (path, form) in &posts {
        let response = app.post_form(path, form, Some(&stranger)).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "POST {path}");
    }

    let (status, sequence, starts_at): (String, i32, chrono::DateTime<chrono::Utc>) =
        sqlx::query_as("select status, calendar_sequence, starts_at from loops where id = $1")
            .bind(id_of(&loop_path))
            .fetch_one(&app.db)
            .await
            .expect("loop");
    assert_eq!((status.as_str(), sequence), ("scheduled", 0));
    assert_eq!(starts_at.to_rfc3339(), "2026-12-01T08:30:00+00:00");
    assert_eq!(app.count("select count(*) from rounds where timer_state <> 'not_started'").await, 0);
    assert_eq!(app.count("select count(*) from timer_events").await, 0);
    assert_eq!(app.count("select count(*) from notes").await, 0);
    assert_eq!(app.count("select count(*) from scorecards").await, 0);
    assert!(app.get("/history", Some(&stranger)).await.body.contains(r#"id="history-empty""#));
}

#[tokio::test]
async fn visitors_are_sent_to_sign_in() {
    let app = TestApp::new().await;
    let owner = app.sign_up("host").await;
    let (loop_path, rounds) = schedule_loop(&app, &owner, "phone-screen").await;
    let round = &rounds[0];
    for path in ["/loops/new".to_owned(), "/history".to_owned(), loop_path.clone(), round.clone()] {
        let response = app.get(&path, None).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "GET {path}");
        assert!(response.header("location").starts_with("/signin?next="), "GET {path}");
    }
    let key = Uuid::new_v4().to_string();
    for (path, form) in [
        ("/loops".to_owned(), loop_form("phone-screen", &key)),
        (format!("{round}/timer"), vec![("action", "start")]),
        (format!("{loop_path}/cancel"), vec![]),
    ] {
        let response = app.post_form(&path, &form, None).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "POST {path}");
        assert!(response.header("location").starts_with("/signin?next="), "POST {path}");
    }
    assert_eq!(app.count("select count(*) from loops").await, 1);
    assert_eq!(app.count("select count(*) from timer_events").await, 0);
    assert_eq!(app.count("select count(*) from loops where status = 'scheduled'").await, 1);
}

#[tokio::test]
async fn the_calendar_has_an_event_per_round_and_tracks_reschedules_and_cancellation() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("planner").await;
    let (loop_path, rounds) = schedule_loop(&app, &cookie, "mle-onsite").await;

    let first = calendar(&app, &cookie, &loop_path).await;
    assert!(first.header("content-type").starts_with("text/calendar"), "{}", first.header("content-type"));
    assert!(first.body.starts_with("BEGIN:VCALENDAR\r\n") && first.body.contains("METHOD:PUBLISH\r\n"));
    let events = calendar_events(&first.body);
    assert_eq!(events.len(), 6);
    let uids = property(&events, "UID");
    assert_eq!(uids.iter().collect::<HashSet<_>>().len(), 6, "one UID per round: {uids:?}");
    for (uid, round) in uids.iter().zip(&rounds) {
        assert!(uid.contains(&id_of(round).to_string()), "{uid} names its round");
    }
    assert_eq!(property(&events, "DTSTART")[0], "20261201T083000Z", "09:30 in Berlin, in UTC");
    assert_eq!(property(&events, "DTEND")[0], "20261201T091500Z");
    assert_eq!(property(&events, "DTSTART")[1], "20261201T092500Z", "after a 10-minute break");
    assert!(property(&events, "SEQUENCE").iter().all(|s| s == "0"));

    let moved = reschedule(&app, &cookie, &loop_path, "2026-12-02T10:00", "15").await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{}", moved.body);
    let second = calendar_events(&calendar(&app, &cookie, &loop_path).await.body);
    assert_eq!(property(&second, "UID"), uids, "UIDs stay the same, so calendars update the events");
    assert_eq!(property(&second, "DTSTART")[0], "20261202T090000Z");
    assert_eq!(property(&second, "DTSTART")[1], "20261202T100000Z", "45 minutes and a 15-minute break later");
    assert!(property(&second, "SEQUENCE").iter().all(|s| s == "1"));
    assert!(property(&second, "STATUS").iter().all(|s| s == "CONFIRMED"));

    let cancelled = app.post_form(&format!("{loop_path}/cancel"), &[], Some(&cookie)).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let third = calendar(&app, &cookie, &loop_path).await.body;
    assert!(third.contains("METHOD:CANCEL\r\n"), "{third}");
    let third = calendar_events(&third);
    assert_eq!(property(&third, "UID"), uids);
    assert!(property(&third, "STATUS").iter().all(|s| s == "CANCELLED"));
    assert!(property(&third, "SEQUENCE").iter().all(|s| s == "2"));
    assert!(app.get(&loop_path, Some(&cookie)).await.body.contains(r#"id="loop-status">Cancelled<"#));
}

#[tokio::test]
async fn a_started_loop_cannot_be_rescheduled_and_a_bad_new_time_is_refused() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("latecomer").await;
    let (loop_path, rounds) = schedule_loop(&app, &cookie, "mle-onsite").await;
    let invalid = reschedule(&app, &cookie, &loop_path, "2026-12-02T10:00", "500").await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(invalid.body.contains("Enter a break of 0 to 120 minutes."), "{}", invalid.body);
    assert!(invalid.body.contains(r#"id="reschedule" open"#), "the form stays open with its error");

    let (status, _) = timer(&app, &cookie, &rounds[0], "start").await;
    assert_eq!(status, StatusCode::OK);
    let refused = reschedule(&app, &cookie, &loop_path, "2026-12-02T10:00", "10").await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("Only a loop that has not started can be rescheduled"), "{}", refused.body);

    let (starts_at, sequence, status): (chrono::DateTime<chrono::Utc>, i32, String) =
        sqlx::query_as("select starts_at, calendar_sequence, status from loops where id = $1")
            .bind(id_of(&loop_path))
            .fetch_one(&app.db)
            .await
            .expect("loop");
    assert_eq!(starts_at.to_rfc3339(), "2026-12-01T08:30:00+00:00");
    assert_eq!((sequence, status.as_str()), (0, "in_progress"));
}
