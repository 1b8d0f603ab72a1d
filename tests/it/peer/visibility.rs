//! What the interviewer and the candidate each see of a round (pages, JSON,
//! live events, the bank, calendars), and what never reaches the other side.

use axum::http::StatusCode;
use uuid::Uuid;

use mockloop::domain::markdown::render_inline;

use crate::support::html::{escape_html, rendered_text, urlencode};
use crate::support::live::{LiveClient, events_named};
use crate::support::questions::{guidance_fragments, questions_of_round, slugs_of_round};
use crate::support::rounds::{end_round, save_note, start_round, timer};
use crate::support::scorecards::submit_card;
use crate::support::{Page, TestApp, id_of, peer_loop};

#[tokio::test]
async fn the_interviewer_sees_hints_follow_ups_guidance_timer_controls_and_the_candidates_notes() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let saved = save_note(&app, &f.candidate, &f.rounds[0], "## Plan\n\nKeep a **min-heap** of size k.", 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);

    let page = app.get(&f.rounds[0], Some(&f.interviewer_a)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let question = &questions_of_round(&app, &f.rounds[0]).await[0];
    let html = page.page();
    assert!(html.text_of("#question-1-title").contains(&question.title));
    let hints = html.texts("#question-1 #hints-1 label");
    for hint in question.hints.iter().map(|hint| rendered_text(hint)) {
        assert!(hints.contains(&hint), "hint {hint:?} in the interviewer's hint panel: {hints:?}");
    }
    let follow_ups = html.texts("#question-1 #follow-ups-1 label");
    for item in question.follow_ups.iter().map(|item| rendered_text(item)) {
        assert!(follow_ups.contains(&item), "follow-up {item:?} in the interviewer's follow-up panel");
    }
    assert_eq!(html.text_of("#question-1 details.reveal summary"), "What good looks like");
    let panel = html.text_of("#question-1");
    for (label, piece) in guidance_fragments(question) {
        assert!(panel.contains(&piece), "{label} ({piece:?}) in the interviewer's question panel");
    }
    assert!(html.has("#timer-start"));
    assert_eq!(html.text_of("#notes-rendered strong"), "min-heap", "the candidate's notes, rendered");
    assert!(html.has("[data-kind=private]"), "their own notes are private notes");
    assert!(html.has("#swap-1"));
    assert!(html.has("#score-round"));

    // The accepted link is spent: a second visitor is told so.
    let spent = app.get(&format!("/invite/{}", f.token), Some(&f.stranger)).await;
    assert_eq!(spent.status, StatusCode::GONE);
    assert_eq!(
        spent.page().text_of("#invitation-problem"),
        "Every round of this invitation already has an interviewer."
    );
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
    let waiting = before.page().text_of("#question-hidden");
    assert!(waiting.contains("your interviewer starts"), "the question waits for the start: {waiting}");
    assert!(!before.body.contains(&escape_html(&question.title)));

    start_round(&app, &f.interviewer_a, round).await;
    let page = app.get(round, Some(&f.candidate)).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.page();
    assert!(html.text_of("#question-1-title").contains(&question.title), "the prompt is shown once the round runs");
    assert!(html.has("#clock"));
    assert_eq!(html.attr("#timer", "data-state").as_deref(), Some("running"));
    assert!(html.has("[data-kind=scratchpad]"));
    assert_eq!(html.field_value("#notes-body"), "I would use a *hash map* first.");
    for absent in ["#timer-controls", "#hints-1", "#follow-ups-1"] {
        assert!(!html.has(absent), "{absent} on the candidate's page");
    }
    for absent in ["What good looks like", "Stuck?"] {
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
                !body.contains(&escape_html(hint)) && !body.contains(hint) && !body.contains(&render_inline(hint)),
                "hint {hint:?} in the candidate's {what}"
            );
        }
        for (label, piece) in &guidance {
            assert!(!body.contains(piece), "{label} ({piece:?}) in the candidate's {what}");
        }
    }
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
    assert_eq!((kind.as_str(), author), ("private", app.user_id("avery").await));
    let own = app.get(round, Some(&f.interviewer_a)).await;
    assert!(own.body.contains(&secret), "the interviewer gets their notes back");
    let by_other = save_note(&app, &f.interviewer_b, round, "not mine", 0).await;
    assert_eq!(by_other.status, StatusCode::NOT_FOUND);

    let mut seen = vec![app.get(round, Some(&f.candidate)).await];
    start_round(&app, &f.interviewer_a, round).await;
    seen.push(app.get(round, Some(&f.candidate)).await);
    seen.push(live.first_events(&format!("{round}/events"), Some(&f.candidate)).await);
    end_round(&app, &f.interviewer_a, round).await;
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
    let notes = Page::parse(&page).inner_html("#notes-rendered");
    assert!(notes.contains("<strong>Plan</strong>"), "{notes}");
    for (what, html) in [("page", notes.as_str()), ("stream", stream.as_str())] {
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
    let own = app.get(&f.loop_path, Some(&f.interviewer_b)).await.page();
    assert!(
        own.text_of("#timeline #round-2").contains(&title),
        "round 2's interviewer sees their question on the loop page"
    );

    for path in [f.loop_path.clone(), format!("{}/feedback", f.loop_path), format!("{}/feedback.json", f.loop_path)] {
        let response = app.get(&path, Some(&f.interviewer_a)).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert!(
            !response.body.contains(&escaped) && !response.body.contains(&title),
            "round 1's interviewer reads round 2's question {title:?} on {path} before round 2 starts"
        );
    }
}

#[tokio::test]
async fn the_bank_keeps_a_peer_candidates_question_guidance_from_them_until_their_round_ends() {
    let app = TestApp::new().await;
    let f = peer_loop(&app).await;
    let round = &f.rounds[0];
    let question = &questions_of_round(&app, round).await[0];
    let page = format!("/questions/{}", slugs_of_round(&app, round).await[0]);
    let search = format!("/questions?q={}", urlencode(&question.title));
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
        assert!(response.page().has("#guidance-withheld"), "{stage}: the page says why");
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
            assert!(!theirs.page().has("#guidance-withheld"));
        }
    }
    // Round 2 has not started either: its question is kept back as well.
    let second = format!("/questions/{}", slugs_of_round(&app, &f.rounds[1]).await[0]);
    assert!(app.get(&second, Some(&f.candidate)).await.page().has("#guidance-withheld"));

    end_round(&app, &f.interviewer_a, round).await;
    let after = app.get(&page, Some(&f.candidate)).await;
    assert_eq!(shown(&after.body).len(), guidance.len(), "once the round has ended the bank shows it all");
    assert!(!after.page().has("#guidance-withheld"));
    assert!(app.get(&second, Some(&f.candidate)).await.page().has("#guidance-withheld"), "round 2 still to run");
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
