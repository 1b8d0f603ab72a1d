//! Scheduling loops: the form, the timeline page, question selection,
//! calendars, rescheduling, cancelling, and who may see or change a loop.

use std::collections::HashSet;

use axum::http::StatusCode;
use uuid::Uuid;

use crate::support::html::escape_html;
use crate::support::rounds::start_round;
use crate::support::{LoopBuilder, ScheduledLoop, TestApp, TestResponse, id_of};

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
    let response = app.post_form("/loops", &LoopBuilder::self_timed("mle-onsite").form(), Some(&cookie)).await;
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
    assert_eq!(picked, onsite_questions(&app).await, "every round gets the questions its template asks for");
    let (seed, starts_at, zone): (i64, chrono::DateTime<chrono::Utc>, String) =
        sqlx::query_as("select selection_seed, starts_at, time_zone from loops where id = $1")
            .bind(loop_id)
            .fetch_one(&app.db)
            .await
            .expect("loop");
    assert_eq!(starts_at.to_rfc3339(), "2026-12-01T08:30:00+00:00", "09:30 in Berlin is 08:30 UTC in December");
    assert_eq!(zone, "Europe/Berlin");

    let response = app.get(&loop_path, Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::OK);
    let page = response.page();
    assert_eq!(page.text_of("#loop-seed"), seed.to_string(), "the seed is shown");
    let slots = page.texts("#timeline tbody tr");
    let expected = ["09:30–10:15", "10:25–11:10", "11:20–12:20", "12:30–13:15", "13:25–14:10", "14:20–15:05"];
    assert_eq!(slots.len(), expected.len(), "a timeline row per round: {slots:?}");
    for (row, slot) in slots.iter().zip(expected) {
        assert!(row.contains(slot), "the rounds run in order, this one at {slot}: {row}");
    }
    for title in question_titles(&app, &loop_path).await {
        assert!(!response.body.contains(&escape_html(&title)), "{title} is hidden before its round starts");
    }
    assert_eq!(page.texts("#timeline td").iter().filter(|t| *t == "Revealed when the round starts").count(), 6);
}

#[tokio::test]
async fn a_question_title_appears_on_the_loop_page_once_its_round_starts() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("starter").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("mle-onsite").for_user(&cookie).schedule(&app).await;
    let titles = question_titles(&app, &loop_path).await;
    start_round(&app, &cookie, &rounds[0]).await;
    let response = app.get(&loop_path, Some(&cookie)).await;
    let page = response.page();
    let first_row = page.text_of("#timeline #round-1");
    assert!(first_row.contains(&titles[0]), "the started round's question shows in its row: {first_row}");
    assert!(!response.body.contains(&escape_html(&titles[1])), "the next round's question stays hidden");
    assert_eq!(page.texts("#timeline td").iter().filter(|t| *t == "Revealed when the round starts").count(), 5);
}

#[tokio::test]
async fn invalid_schedules_are_refused_with_messages_and_keep_what_was_typed() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("typo").await;
    let key = Uuid::new_v4().to_string();
    let schedule = LoopBuilder::self_timed("mle-onsite").request_key(&key);
    // The field set wrong, its value, the message, and a field that keeps what was typed.
    let cases: [(&str, &str, &str, (&str, &str)); 4] = [
        ("time_zone", "Mars/Olympus", "Unknown time zone `Mars/Olympus`", ("#starts_at", "2026-12-01T09:30")),
        (
            "starts_at",
            "next tuesday-ish",
            "Enter a date and time such as 2026-12-01T09:30",
            ("#starts_at", "next tuesday-ish"),
        ),
        (
            "starts_at",
            "2026-03-29T02:30",
            "2026-03-29T02:30 does not exist in Europe/Berlin",
            ("#starts_at", "2026-03-29T02:30"),
        ),
        ("break_minutes", "500", "Enter a break of 0 to 120 minutes.", ("#break_minutes", "500")),
    ];
    for (field, value, message, (kept_field, kept)) in cases {
        let mut form = schedule.form();
        for pair in form.iter_mut().filter(|(name, _)| *name == field) {
            pair.1 = value;
        }
        let response = app.post_form("/loops", &form, Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{field}={value}");
        let page = response.page();
        assert!(page.has("#form-errors"), "{field}={value}");
        assert!(
            page.texts(".field-error").iter().any(|e| e.contains(message)),
            "{field}={value} says {message:?}: {}",
            response.body
        );
        assert_eq!(page.field_value(kept_field), kept, "{field}={value} keeps {kept_field}");
        assert!(page.has("input[name=template][value=mle-onsite][checked]"), "the template stays chosen");
        assert_eq!(page.field_value("input[name=request_key]"), key, "the request key is kept");
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
    let page = zone_kept.page();
    assert_eq!(page.field_value("#time_zone"), "Asia/Tokyo", "the zone stays selected");
    assert_eq!((page.field_value("#team"), page.field_value("#level")), ("camera-cv".into(), "junior_mid".into()));
    assert_eq!(page.field_value("#break_minutes"), "15", "the break is kept");
    assert_eq!(app.count("select count(*) from loops").await, 0, "nothing was scheduled");
}

#[tokio::test]
async fn posting_the_same_form_twice_creates_one_loop() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("doubleclick").await;
    let schedule = LoopBuilder::self_timed("mle-onsite");
    let form = schedule.form();
    let first = app.post_form("/loops", &form, Some(&cookie)).await;
    let second = app.post_form("/loops", &form, Some(&cookie)).await;
    assert_eq!((first.status, second.status), (StatusCode::SEE_OTHER, StatusCode::SEE_OTHER));
    assert_eq!(first.header("location"), second.header("location"), "both lead to the same loop");
    assert_eq!(app.count("select count(*) from loops").await, 1);
    assert_eq!(app.count("select count(*) from rounds").await, 6);
    assert_eq!(app.count("select count(*) from round_questions").await, onsite_questions(&app).await);

    let third = app.post_form("/loops", &LoopBuilder::self_timed("mle-onsite").form(), Some(&cookie)).await;
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

    let ScheduledLoop { path: first, .. } =
        LoopBuilder::self_timed("mle-onsite").for_user(&cookie).schedule(&app).await;
    let ScheduledLoop { path: second, .. } =
        LoopBuilder::self_timed("mle-onsite").for_user(&cookie).schedule(&app).await;
    let first_ids: HashSet<Uuid> = question_ids(&app, &first).await.into_iter().collect();
    let second_ids: Vec<Uuid> = question_ids(&app, &second).await;
    let wanted = onsite_questions(&app).await as usize;
    assert_eq!((first_ids.len(), second_ids.len()), (wanted, wanted));
    let repeated: Vec<&Uuid> = second_ids.iter().filter(|id| first_ids.contains(id)).collect();
    assert!(repeated.is_empty(), "no question of the first loop comes back: {repeated:?}");
}

#[tokio::test]
async fn other_users_get_404_for_someone_elses_loop_and_cannot_change_it() {
    let app = TestApp::new().await;
    let owner = app.sign_up("owner").await;
    let stranger = app.sign_up("stranger").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("phone-screen").for_user(&owner).schedule(&app).await;
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
    assert!(app.get("/history", Some(&stranger)).await.page().has("#history-empty"));
}

#[tokio::test]
async fn visitors_are_sent_to_sign_in() {
    let app = TestApp::new().await;
    let owner = app.sign_up("host").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("phone-screen").for_user(&owner).schedule(&app).await;
    let round = &rounds[0];
    for path in ["/loops/new".to_owned(), "/history".to_owned(), loop_path.clone(), round.clone()] {
        let response = app.get(&path, None).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "GET {path}");
        assert!(response.header("location").starts_with("/signin?next="), "GET {path}");
    }
    let schedule = LoopBuilder::self_timed("phone-screen");
    for (path, form) in [
        ("/loops".to_owned(), schedule.form()),
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
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("mle-onsite").for_user(&cookie).schedule(&app).await;

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

    // The page asks first: the button that cancels is inside a closed disclosure.
    let page = app.get(&loop_path, Some(&cookie)).await.page();
    assert!(page.has("details#cancel-loop-confirm:not([open]) form button#cancel-loop"), "cancelling asks first");
    let cancelled = app.post_form(&format!("{loop_path}/cancel"), &[], Some(&cookie)).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let third = calendar(&app, &cookie, &loop_path).await.body;
    assert!(third.contains("METHOD:CANCEL\r\n"), "{third}");
    let third = calendar_events(&third);
    assert_eq!(property(&third, "UID"), uids);
    assert!(property(&third, "STATUS").iter().all(|s| s == "CANCELLED"));
    assert!(property(&third, "SEQUENCE").iter().all(|s| s == "2"));
    assert_eq!(app.get(&loop_path, Some(&cookie)).await.page().text_of("#loop-status"), "Cancelled");
}

#[tokio::test]
async fn a_started_loop_cannot_be_rescheduled_and_a_bad_new_time_is_refused() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("latecomer").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::self_timed("mle-onsite").for_user(&cookie).schedule(&app).await;
    let invalid = reschedule(&app, &cookie, &loop_path, "2026-12-02T10:00", "500").await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(invalid.body.contains("Enter a break of 0 to 120 minutes."), "{}", invalid.body);
    assert!(invalid.page().has("details#reschedule[open]"), "the form stays open with its error");

    start_round(&app, &cookie, &rounds[0]).await;
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

#[tokio::test]
async fn a_round_the_bank_cannot_fill_without_repeating_a_topic_says_so_on_the_loop_page() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("one-topic").await;
    sqlx::query("update questions set topic = 'the-only-topic' where kind = 'coding'")
        .execute(&app.db)
        .await
        .expect("one topic for every coding question");
    let scheduled = LoopBuilder::self_timed("coding-double").for_user(&cookie).schedule(&app).await;
    assert_eq!(question_ids(&app, &scheduled.path).await.len(), 1, "never a second question of the same topic");
    let page = app.get(&scheduled.path, Some(&cookie)).await.page();
    let note = page.text_of("#round-1-short");
    assert!(note.starts_with("Only 1 of 2 questions:"), "{note}");
    assert!(note.contains("on a topic the loop does not already cover"), "{note}");

    let full = LoopBuilder::self_timed("mle-onsite").for_user(&cookie).schedule(&app).await;
    assert!(!app.get(&full.path, Some(&cookie)).await.page().has("[id$=-short]"), "a full loop has no note");
}

/// How many questions the MLE onsite template asks for across its rounds (some rounds take several).
async fn onsite_questions(app: &TestApp) -> i64 {
    app.count(
        "select sum(r.question_count) from template_rounds r join loop_templates t on t.id = r.template_id
         where t.slug = 'mle-onsite'",
    )
    .await
}
