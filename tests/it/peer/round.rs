//! Running a peer round: who runs the timer, hint ticks, question swaps, and
//! the candidate's scratchpad on the interviewer's live stream.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::Value;
use uuid::Uuid;

use mockloop::domain::markdown::render_inline;

use crate::support::html::{Page, escape_html, rendered_text};
use crate::support::live::{LiveClient, events_named};
use crate::support::questions::questions_of_round;
use crate::support::rounds::{end_round, save_code, save_note, start_round, timer};
use crate::support::scorecards::submit_card;
use crate::support::{TestApp, TestResponse, id_of, peer_loop};

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
    assert!(!page.page().has("#timer-start"), "no controls for the candidate");
    for (who, cookie, status) in [
        ("candidate", &f.candidate, StatusCode::FORBIDDEN),
        ("round 2's interviewer", &f.interviewer_b, StatusCode::NOT_FOUND),
        ("stranger", &f.stranger, StatusCode::NOT_FOUND),
    ] {
        let (got, _) = timer(&app, cookie, round, "start").await;
        assert_eq!(got, status, "{who} starts the timer");
    }
    assert_eq!(state().await, "not_started");

    let json = start_round(&app, &f.interviewer_a, round).await;
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
    start_round(&app, &f.interviewer_a, round).await;

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
    let page = page.page();
    assert!(page.has("#hints-1 input[name=hint_1_0][checked]"), "the tick is shown again");
    assert!(page.has("#follow-ups-1 input[name=follow_1_0][checked]"));

    end_round(&app, &f.interviewer_a, round).await;
    let sealed = app.get(&format!("{round}/feedback"), Some(&f.candidate)).await;
    assert_eq!(sealed.status, StatusCode::OK, "{}", sealed.body);
    assert!(!sealed.body.contains("Hints given"), "nothing is released before the scorecard");
    assert!(!sealed.body.contains(&escape_html(&question.hints[0])));
    assert!(!sealed.body.contains(&render_inline(&question.hints[0])));

    submit_card(&app, &f.interviewer_a, round, "Good use of the first hint.", "hire").await;
    let released = app.get(&format!("{round}/feedback"), Some(&f.candidate)).await;
    assert_eq!(released.status, StatusCode::OK);
    let given = released.page().text_of("#hints-given-1");
    assert!(given.contains(&rendered_text(&question.hints[0])), "the ticked hint is listed as given: {given}");
    let asked = released.page().text_of("#follow-ups-asked-1");
    assert!(
        asked.contains(&rendered_text(&question.follow_ups[0])),
        "the ticked follow-up is listed as asked: {asked}"
    );
    for hint in question.hints.iter().skip(1) {
        assert!(
            !released.body.contains(&escape_html(hint)) && !released.body.contains(&render_inline(hint)),
            "an unticked hint stays hidden: {hint:?}"
        );
    }
    assert!(!released.body.contains("What good looks like"), "guidance stays the interviewer's");
    let interviewers_view = app.get(&format!("{round}/feedback"), Some(&f.interviewer_a)).await;
    assert!(interviewers_view.page().has("#hints-given-1"));
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

    start_round(&app, &f.interviewer_a, round).await;
    let late = app.post_form(&format!("{round}/swap"), &[("position", "1")], Some(&f.interviewer_a)).await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert!(late.body.contains("A question can be swapped only before the round starts."));
    assert_eq!(question_id().await, replacement);
    assert!(!app.get(round, Some(&f.interviewer_a)).await.page().has("#swap-1"));
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

/// Autosaves are announced after their commit, pending rounds in one
/// statement: a stream already open on another instance still gets each
/// burst's latest scratchpad and code.
#[tokio::test]
async fn an_open_stream_on_another_instance_gets_the_latest_scratchpad_and_code_of_a_burst_of_saves() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let live = LiveClient::new(&app);
    let round = &f.rounds[0];
    let mut stream = live.open_stream(round, &f.interviewer_a).await;
    let latest = |name: &str, received: &str| {
        events_named(received, name)
            .last()
            .and_then(|data| serde_json::from_str::<Value>(data).ok())
            .and_then(|event| event["version"].as_i64())
    };
    // Each kind of save alone: either one's news makes the stream re-read both.
    for kind in ["scratchpad", "code"] {
        for version in 0..5 {
            let text = format!("idea {}", version + 1);
            let saved = match kind {
                "scratchpad" => save_note(&app, &f.candidate, round, &text, version).await,
                _ => save_code(&app, &f.candidate, round, &text, "python", version).await,
            };
            assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(2);
        while latest(kind, &stream.received) != Some(5) {
            assert!(tokio::time::Instant::now() < deadline, "the last {kind} never arrived: {}", stream.received);
            assert!(stream.read_for(Duration::from_millis(200)).await, "the stream ended");
        }
    }
    let pads = events_named(&stream.received, "scratchpad");
    let pad: Value = serde_json::from_str(pads[pads.len() - 1]).expect("scratchpad JSON");
    assert!(pad["html"].as_str().is_some_and(|html| html.contains("idea 5")), "{pad}");
    let codes = events_named(&stream.received, "code");
    let code: Value = serde_json::from_str(codes[codes.len() - 1]).expect("code JSON");
    assert_eq!(code["body"], "idea 5");
}

#[tokio::test]
async fn a_swap_never_brings_in_a_topic_another_round_of_the_loop_holds() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let (coding_round, other_round) = (id_of(&f.rounds[0]), id_of(&f.rounds[1]));
    let held = |round: Uuid| {
        let db = app.db.clone();
        async move {
            sqlx::query_as::<_, (Uuid, String)>(
                "select q.id, q.topic from round_questions rq join questions q on q.id = rq.question_id
                 where rq.round_id = $1 and rq.position = 1",
            )
            .bind(round)
            .fetch_one(&db)
            .await
            .expect("the round's question")
        }
    };
    let (original, _) = held(coding_round).await;
    let (_, taken_topic) = held(other_round).await;
    // Every other coding question for the loop's level but one takes the other round's topic.
    let free: Uuid = sqlx::query_scalar(
        "select q.id from questions q, loops l
         where l.id = (select loop_id from rounds where id = $1) and q.kind = 'coding' and q.id <> $2
           and l.level = any(q.levels) and q.owner_id is null
           -- Its own topic must be free too: the other rounds' questions are drawn at random.
           and q.topic not in (select x.topic from rounds r join round_questions rq on rq.round_id = r.id
                               join questions x on x.id = rq.question_id where r.loop_id = l.id)
         order by q.slug limit 1",
    )
    .bind(coding_round)
    .bind(original)
    .fetch_one(&app.db)
    .await
    .expect("another coding question");
    sqlx::query("update questions set topic = $1 where kind = 'coding' and id <> all($2)")
        .bind(&taken_topic)
        .bind(vec![original, free])
        .execute(&app.db)
        .await
        .expect("topics");

    let swap_path = format!("{}/swap", f.rounds[0]);
    let swap = || app.post_form(&swap_path, &[("position", "1")], Some(&f.interviewer_a));
    assert_eq!(swap().await.status, StatusCode::SEE_OTHER);
    assert_eq!(held(coding_round).await.0, free, "the one question on a topic the loop does not hold");
    assert_eq!(swap().await.status, StatusCode::SEE_OTHER);
    assert_eq!(held(coding_round).await.0, original, "the swapped-out question may come back; no other may");

    sqlx::query("update questions set topic = $1 where id = $2")
        .bind(&taken_topic)
        .bind(free)
        .execute(&app.db)
        .await
        .expect("topic");
    let refused = swap().await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("on a topic the rest of the loop does not already cover"), "{}", refused.body);
    assert_eq!(held(coding_round).await.0, original);
}

/// The page on both instances (each keeps its own copy), as `cookie` sees it.
async fn round_pages(app: &TestApp, other: &TestApp, round: &str, cookie: &str) -> Vec<Page> {
    let mut pages = Vec::new();
    for instance in [app, other] {
        let response = instance.get(round, Some(cookie)).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        pages.push(response.page());
    }
    pages
}

/// The round page is kept rendered between visits: every change it shows
/// reaches both participants on both instances at once, and each visit still
/// draws its own clock, nonce and call credentials.
#[tokio::test]
async fn a_kept_round_page_follows_every_change_it_shows_on_every_instance() {
    let app = TestApp::new().await;
    let other = app.other_instance_app();
    let f = peer_loop(&app).await;
    let (round, next) = (&f.rounds[0], &f.rounds[1]);
    for cookie in [&f.candidate, &f.interviewer_a] {
        round_pages(&app, &other, round, cookie).await;
    }

    start_round(&app, &f.interviewer_a, round).await;
    for page in round_pages(&app, &other, round, &f.candidate).await {
        assert!(!page.has("#question-hidden"), "the timer's start shows the question");
        assert_eq!(page.attr("#timer", "data-state").as_deref(), Some("running"));
    }

    // Two visits to one kept page: a clock of their own, and a nonce each that the policy names.
    let early = app.get(round, Some(&f.candidate)).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let later = app.get(round, Some(&f.candidate)).await;
    let remaining = |response: &TestResponse| -> i64 {
        response.page().attr("#timer", "data-remaining-ms").expect("remaining").parse().expect("a number")
    };
    assert!(remaining(&early) - remaining(&later) >= 1000, "the clock moved on between two visits");
    let nonce = |response: &TestResponse| response.page().attr("#code", "data-nonce").expect("a nonce");
    assert_ne!(nonce(&early), nonce(&later));
    for response in [&early, &later] {
        let policy = response.header("content-security-policy");
        assert!(policy.contains(&format!("'nonce-{}'", nonce(response))), "{policy}");
        assert!(!response.body.contains("hole"), "no marker is left in the page");
    }

    assert_eq!(save_note(&app, &f.candidate, round, "Scratch **kept**", 0).await.status, StatusCode::OK);
    assert_eq!(save_code(&app, &f.candidate, round, "print('kept')", "python", 0).await.status, StatusCode::OK);
    assert_eq!(save_note(&app, &f.interviewer_a, round, "A private thought", 0).await.status, StatusCode::OK);
    let ticked = app.post_form(&format!("{round}/marks"), &[("hint_1_0", "on")], Some(&f.interviewer_a)).await;
    assert_eq!(ticked.status, StatusCode::SEE_OTHER);
    let signal = app
        .post_json_body(
            &format!("{round}/call/signals"),
            &serde_json::json!({"kind": "join", "session": "candidate-page-1"}),
            Some(&f.candidate),
        )
        .await
        .json()["id"]
        .to_string();
    for page in round_pages(&app, &other, round, &f.interviewer_a).await {
        assert!(page.text_of("#notes-rendered").contains("Scratch kept"), "the candidate's scratchpad");
        assert!(page.text_of("#code-plain").contains("print('kept')"), "the candidate's code");
        assert_eq!(page.text_of("#notes-body"), "A private thought", "the interviewer's own notes");
        assert!(page.has("#hints-1 input[name=hint_1_0][checked]"), "the hint ticked");
        assert_eq!(page.attr("#call", "data-after"), Some(signal.clone()), "the call's latest signal");
    }

    sqlx::query(
        "update questions set title = 'Retitled while kept'
         where id = (select question_id from round_questions where round_id = $1 and position = 1)",
    )
    .bind(id_of(round))
    .execute(&app.db)
    .await
    .expect("the question changes");
    for cookie in [&f.candidate, &f.interviewer_a] {
        for page in round_pages(&app, &other, round, cookie).await {
            assert_eq!(page.text_of("#question-1-title"), "Retitled while kept");
        }
    }

    end_round(&app, &f.interviewer_a, round).await;
    sqlx::query("update rounds set title = 'The next one, renamed' where id = $1")
        .bind(id_of(next))
        .execute(&app.db)
        .await
        .expect("the next round changes");
    submit_card(&app, &f.interviewer_a, round, "Kept pages follow.", "hire").await;
    for page in round_pages(&app, &other, round, &f.interviewer_a).await {
        assert!(page.has("#round-complete"));
        assert!(page.text_of("#next-round").contains("The next one, renamed"), "another round of the loop");
        assert_eq!(page.text_of("#score-round"), "Your scorecard (submitted)", "the scorecard's stage");
    }
}
