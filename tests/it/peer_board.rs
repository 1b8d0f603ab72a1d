//! The peer board: posting slots, the board in the viewer's zone with its
//! filters and order, claims (one winner among claims at once), the swap's
//! loops, calendars, cancel, no-shows, notices, the give/take balance, and
//! who may reach which of the board's routes.

use std::time::Duration;

use axum::http::StatusCode;
use uuid::Uuid;

use crate::support::board::{claim, claim_form, local_time, post_slot, rewind_swap, slot_form, swap_path, user_of};
use crate::support::live::{LiveClient, events_named, read_for};
use crate::support::rounds::{end_round, start_round};
use crate::support::{TestApp, id_of};

/// The feed path from the page that shows it once.
async fn feed_of(app: &TestApp, cookie: &str) -> String {
    let created = app.post_form("/calendar/feed", &[], Some(cookie)).await;
    let start = created.body.find("/calendar/feed/").expect("the new address is shown");
    created.body[start..].split('"').next().expect("url").to_owned()
}

#[tokio::test]
async fn a_posted_slot_is_listed_on_home_and_can_be_changed_and_withdrawn() {
    let app = TestApp::new().await;
    let ana = app.sign_up("ana").await;
    let start = local_time(3, 18, "Europe/Berlin");
    let slots = post_slot(&app, &ana, &slot_form(&start, "Europe/Berlin", &[("repeat_weeks", "2")])).await;
    assert_eq!(slots.len(), 3, "the slot and two weekly repeats");
    let series = app.count("select count(distinct series_id) from peer_slots").await;
    assert_eq!(series, 1, "posted together, one series");

    let home = app.get("/", Some(&ana)).await.page();
    assert_eq!(home.count("#own-slots .own-slot"), 3);
    assert!(home.text_of("#own-slots").contains("ML system design"));

    // Change the first: one round kind more, another length.
    let edit_path = format!("/board/slots/{}/edit", slots[0]);
    let form = app.get(&edit_path, Some(&ana)).await.page();
    assert_eq!(form.field_value("#starts_at"), start, "the form shows the slot in the poster's zone");
    let changed = slot_form(
        &start,
        "Europe/Berlin",
        &[("minutes", "60"), ("wants", "behavioral"), ("wants", "ml_system_design")],
    );
    let saved = app.post_form(&edit_path, &changed, Some(&ana)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let minutes: i16 = sqlx::query_scalar("select minutes from peer_slots where id = $1")
        .bind(slots[0])
        .fetch_one(&app.db)
        .await
        .expect("minutes");
    assert_eq!(minutes, 60);

    let withdrawn = app.post_form(&format!("/board/slots/{}/withdraw", slots[1]), &[], Some(&ana)).await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get("/", Some(&ana)).await.page().count("#own-slots .own-slot"), 2);
    let again = app.post_form(&format!("/board/slots/{}/withdraw", slots[1]), &[], Some(&ana)).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "a withdrawn slot cannot be withdrawn twice");
}

#[tokio::test]
async fn an_invalid_slot_is_refused_field_by_field_keeping_what_was_typed() {
    let app = TestApp::new().await;
    let ana = app.sign_up("ana").await;
    let start = local_time(3, 18, "Asia/Kolkata");
    for (extra, field) in [
        (vec![("minutes", "500")], "#minutes-error"),
        (vec![("starts_at", "2020-01-01T10:00")], "#starts_at-error"),
        (vec![("repeat_weeks", "40")], "#repeat_weeks-error"),
    ] {
        let form = slot_form(&start, "Asia/Kolkata", &extra);
        let refused = app.post_form("/board/slots", &form, Some(&ana)).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{extra:?}");
        let page = refused.page();
        assert!(page.has(field), "{field} for {extra:?}");
        assert!(page.has("#form-errors"));
        assert_eq!(page.field_value("#minutes"), extra.iter().find(|(k, _)| *k == "minutes").map_or("90", |p| p.1));
        assert!(page.has("input[name=wants][value=ml_system_design][checked]"), "the ticked kinds stay ticked");
        assert!(page.has("#time_zone option[selected]"));
    }
    // Nothing to practise, and nothing to give in a swap.
    let bare: Vec<_> = slot_form(&start, "Asia/Kolkata", &[])
        .into_iter()
        .filter(|(k, _)| *k != "wants" && *k != "can_interview")
        .collect();
    let page = app.post_form("/board/slots", &bare, Some(&ana)).await.page();
    assert!(page.has("#wants-error") && page.has("#can_interview-error"));
    assert_eq!(app.count("select count(*) from peer_slots").await, 0);
}

#[tokio::test]
async fn the_board_shows_others_slots_in_the_viewers_zone_filtered_and_best_matches_first() {
    let app = TestApp::new().await;
    let ana = app.sign_up("ana").await;
    let ben = app.sign_up("ben").await;
    // Ana posts two slots in Berlin; Ben sees them in Tokyo.
    let coding_start = local_time(4, 10, "Europe/Berlin");
    let design_start = local_time(5, 10, "Europe/Berlin");
    let extra = [("wants", "coding"), ("team", "camera-cv"), ("show_loop_count", "yes")];
    let coding_form = slot_form(&coding_start, "Europe/Berlin", &extra);
    let coding = post_slot(&app, &ana, &coding_form).await[0];
    let slots = post_slot(&app, &ana, &slot_form(&design_start, "Europe/Berlin", &[])).await;
    let design = *slots.iter().find(|s| **s != coding).expect("second slot");

    let own_board = app.get("/board", Some(&ana)).await.page();
    assert!(own_board.has("#board-empty"), "nobody sees their own slots on the board");

    let board = app.get("/board?zone=Asia/Tokyo", Some(&ben)).await.page();
    assert_eq!(board.count("#board-slots .board-slot"), 2);
    let instant = mockloop::domain::schedule::parse_local(&coding_start, "Europe/Berlin".parse().expect("zone"))
        .expect("instant");
    let in_tokyo = mockloop::domain::schedule::format_local(instant, "Asia/Tokyo".parse().expect("zone"));
    assert_eq!(board.text_of(&format!("#slot-{coding} h3")), in_tokyo, "shown in the viewer's zone");
    let card = board.text_of(&format!("#slot-{coding}"));
    assert!(card.contains("ana") && card.contains("0 scored loops"), "display name and the opted-in count: {card}");
    assert!(!board.text_of(&format!("#slot-{design}")).contains("scored loop"), "not shown without opting in");

    // Filters: a kind only one slot has, a team, a level, a day.
    for (query, expected) in [
        ("kind=coding", vec![coding, design]),
        ("kind=ml_system_design", vec![design]),
        ("kind=behavioral", vec![]),
        ("team=camera-cv", vec![coding, design]),
        ("team=genai-llm", vec![design]),
        ("level=junior_mid", vec![]),
        (&format!("from={}", &design_start[..10]) as &str, vec![design]),
    ] {
        let page = app.get(&format!("/board?zone=Europe/Berlin&{query}"), Some(&ben)).await.page();
        let shown: Vec<Uuid> = page
            .attrs("#board-slots .board-slot", "id")
            .iter()
            .map(|id| id["slot-".len()..].parse().expect("id"))
            .collect();
        let mut sorted = shown.clone();
        sorted.sort();
        let mut expected = expected.clone();
        expected.sort();
        assert_eq!(sorted, expected, "{query}");
    }

    // Saying nothing of himself, the soonest comes first; once Ben's own slot says he wants coding
    // and can interview for ML system design, the later slot fits both ways and comes first.
    let order = app.get("/board", Some(&ben)).await.page().attrs("#board-slots .board-slot", "id");
    assert_eq!(order, vec![format!("slot-{coding}"), format!("slot-{design}")]);
    let ben_start = local_time(6, 9, "Asia/Tokyo");
    let ben_form = slot_form(&ben_start, "Asia/Tokyo", &[("wants", "coding"), ("can_interview", "ml_system_design")]);
    post_slot(&app, &ben, &ben_form).await;
    let order = app.get("/board", Some(&ben)).await.page().attrs("#board-slots .board-slot", "id");
    assert_eq!(order, vec![format!("slot-{design}"), format!("slot-{coding}")], "best match first");
    assert!(!app.get("/board", Some(&ana)).await.page().has("#board-empty"), "Ana now sees Ben's slot");
}

#[tokio::test]
async fn claiming_a_slot_schedules_both_rounds_for_both_people_everywhere() {
    let app = TestApp::new().await;
    let ana = app.sign_up("ana").await;
    let ben = app.sign_up("ben").await;
    let start = local_time(3, 18, "Europe/Berlin");
    let slot = post_slot(&app, &ana, &slot_form(&start, "Europe/Berlin", &[])).await[0];

    let slot_page = app.get(&format!("/board/slots/{slot}"), Some(&ben)).await.page();
    assert!(slot_page.has("#claim-form"));
    assert_eq!(slot_page.text_of("#slot-poster"), "ana", "the display name, nothing more of the account");

    let swap = swap_path(&claim(&app, &ben, slot).await);
    assert_eq!(app.count("select count(*) from loops where mode = 'peer' and template_id is null").await, 2);
    let interviewers = app
        .count(
            "select count(*) from peer_swaps w
             join loops pl on pl.id = w.poster_loop_id join rounds pr on pr.loop_id = pl.id
             join loops cl on cl.id = w.claimer_loop_id join rounds cr on cr.loop_id = cl.id
             where pr.interviewer_id = w.claimer_id and cr.interviewer_id = w.poster_id
               and cr.planned_minutes = 45 and pr.planned_minutes = 45
               and pl.starts_at = cl.starts_at + interval '45 minutes'
               and (select count(*) from round_questions q where q.round_id = pr.id) = 1
               and pr.kind = 'ml_system_design' and cr.kind = 'coding'",
        )
        .await;
    assert_eq!(
        interviewers, 1,
        "two 45-minute rounds back to back, each interviewed by the other, each with a question"
    );

    // Both see the swap and its two rounds; the slot left the board.
    for cookie in [&ana, &ben] {
        let home = app.get("/", Some(cookie)).await.page();
        assert_eq!(home.count("#your-swaps .home-swap"), 1);
        let page = app.get(&swap, Some(cookie)).await.page();
        assert_eq!(page.count("#swap-rounds .swap-round"), 2);
        assert!(page.has("#cancel-swap"));
        let ics = app.get(&format!("{swap}/calendar.ics"), Some(cookie)).await;
        assert_eq!(ics.status, StatusCode::OK);
        assert_eq!(ics.body.matches("BEGIN:VEVENT").count(), 2, "both rounds in the .ics");
        let feed = app.get(&feed_of(&app, cookie).await, None).await;
        assert_eq!(feed.body.matches("BEGIN:VEVENT").count(), 2, "both rounds in the private feed");
    }
    let carl = app.sign_up("carl").await;
    assert!(app.get("/board", Some(&carl)).await.page().has("#board-empty"), "a claimed slot leaves the board");
    assert_eq!(app.get(&swap, Some(&carl)).await.status, StatusCode::NOT_FOUND);
    assert!(app.get(&format!("/board/slots/{slot}"), Some(&ben)).await.page().has("#slot-swap"));

    // The poster was told.
    let home = app.get("/", Some(&ana)).await.page();
    assert_eq!(home.text_of("#notice-count"), "1");
    let notices = app.get("/notices", Some(&ana)).await.page();
    assert!(notices.text_of("#notices").contains("ben claimed your slot"));
    assert!(app.get("/", Some(&ana)).await.page().has("#notice-count[hidden]"), "read once shown");
}

#[tokio::test]
async fn claims_fired_at_the_same_moment_have_exactly_one_winner_and_the_others_are_told_plainly() {
    let app = TestApp::new().await;
    let ana = app.sign_up("ana").await;
    let start = local_time(3, 18, "UTC");
    let slot = post_slot(&app, &ana, &slot_form(&start, "UTC", &[])).await[0];
    let mut claimers = Vec::new();
    for name in ["ben", "carl", "dora", "emil", "fay", "gus"] {
        claimers.push(app.sign_up(name).await);
    }
    let form = claim_form();
    let path = format!("/board/slots/{slot}/claim");
    let answers =
        futures_util::future::join_all(claimers.iter().map(|cookie| app.post_form(&path, &form, Some(cookie)))).await;
    let won = answers.iter().filter(|a| a.status == StatusCode::SEE_OTHER).count();
    let refused: Vec<_> = answers.iter().filter(|a| a.status == StatusCode::CONFLICT).collect();
    assert_eq!(won, 1, "exactly one claim wins: {:?}", answers.iter().map(|a| a.status).collect::<Vec<_>>());
    assert_eq!(refused.len(), claimers.len() - 1);
    for answer in refused {
        assert!(answer.body.contains("Someone else claimed this slot"), "told plainly: {}", answer.body);
    }
    assert_eq!(app.count("select count(*) from peer_swaps").await, 1);
    assert_eq!(app.count("select count(*) from loops").await, 2, "only the winner's loops exist");
    assert_eq!(
        app.post_form(&path, &form, Some(&ana)).await.status,
        StatusCode::CONFLICT,
        "a poster cannot claim their own slot"
    );
}

#[tokio::test]
async fn an_invalid_claim_is_refused_with_the_choices_kept() {
    let app = TestApp::new().await;
    let ana = app.sign_up("ana").await;
    let ben = app.sign_up("ben").await;
    let start = local_time(3, 18, "UTC");
    let slot = post_slot(&app, &ana, &slot_form(&start, "UTC", &[])).await[0];
    let mut form = claim_form();
    form.retain(|(k, _)| *k != "poster_kind");
    form.push(("poster_kind", "behavioral"));
    let refused = app.post_form(&format!("/board/slots/{slot}/claim"), &form, Some(&ben)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.page().has("#claim-form .field-error"));
    assert_eq!(app.count("select count(*) from peer_slots where status = 'open'").await, 1, "still open");
}

#[tokio::test]
async fn a_one_way_slot_becomes_one_round_for_its_poster() {
    let app = TestApp::new().await;
    let ana = app.sign_up("ana").await;
    let ben = app.sign_up("ben").await;
    let start = local_time(3, 18, "UTC");
    let form = slot_form(&start, "UTC", &[("mode", "one_way"), ("minutes", "60")]);
    let slot = post_slot(&app, &ana, &form).await[0];
    let swap = swap_path(&claim(&app, &ben, slot).await);
    let page = app.get(&swap, Some(&ben)).await.page();
    assert_eq!(page.count("#swap-rounds .swap-round"), 1);
    assert!(page.text_of("#swap-rounds").contains("you interview ana"));
    assert_eq!(app.count("select count(*) from rounds where planned_minutes = 60").await, 1);
}

#[tokio::test]
async fn cancelling_a_swap_tells_the_other_person_and_their_feed_shows_it_cancelled() {
    let app = TestApp::new().await;
    let ana = app.sign_up("ana").await;
    let ben = app.sign_up("ben").await;
    let start = local_time(3, 18, "UTC");
    let slot = post_slot(&app, &ana, &slot_form(&start, "UTC", &[])).await[0];
    let swap = swap_path(&claim(&app, &ben, slot).await);
    let feed = feed_of(&app, &ben).await;
    let before = app.get(&feed, None).await.body;
    assert_eq!(before.matches("STATUS:CONFIRMED").count(), 2);
    assert_eq!(before.matches("SEQUENCE:0").count(), 2);

    // Ben watches his notice count while Ana cancels.
    let live = LiveClient::new(&app);
    let mut stream = live.open("/notices/events", Some(&ben)).await.into_body();
    let first = read_for(&mut stream, Duration::from_millis(800)).await;
    assert_eq!(events_named(&first, "notices").first(), Some(&"0"), "the count at once: {first}");

    let cancelled = app.post_form(&format!("{swap}/cancel"), &[], Some(&ana)).await;
    assert_eq!(cancelled.status, StatusCode::SEE_OTHER);
    let after = app.get(&feed, None).await.body;
    assert_eq!(after.matches("STATUS:CANCELLED").count(), 2, "{after}");
    assert_eq!(after.matches("SEQUENCE:1").count(), 2, "a higher SEQUENCE");
    let next = read_for(&mut stream, Duration::from_secs(3)).await;
    assert!(events_named(&next, "notices").contains(&"1"), "the count arrives live: {next}");
    let home = app.get("/", Some(&ben)).await.page();
    assert_eq!(home.text_of("#notice-count"), "1");
    assert!(home.text_of("#your-swaps").contains("Cancelled"));
    assert!(app.get("/notices", Some(&ben)).await.body.contains("ana cancelled your swap"));
    assert_eq!(app.post_form(&format!("{swap}/cancel"), &[], Some(&ben)).await.status, StatusCode::CONFLICT);
    assert_eq!(app.count("select count(*) from loops where status = 'cancelled'").await, 2);
}

#[tokio::test]
async fn after_a_swap_each_side_can_mark_the_other_a_no_show_once_and_claimers_see_the_count() {
    let app = TestApp::new().await;
    let ana = app.sign_up("ana").await;
    let ben = app.sign_up("ben").await;
    let start = local_time(3, 18, "UTC");
    let slots = post_slot(&app, &ana, &slot_form(&start, "UTC", &[("repeat_weeks", "1")])).await;
    let swap = swap_path(&claim(&app, &ben, slots[0]).await);
    assert_eq!(
        app.post_form(&format!("{swap}/no-show"), &[], Some(&ben)).await.status,
        StatusCode::CONFLICT,
        "not before the swap's time has passed"
    );
    assert!(!app.get(&swap, Some(&ben)).await.page().has("#mark-no-show"));
    rewind_swap(&app, &swap, 4 * 24 * 60).await;
    let page = app.get(&swap, Some(&ben)).await.page();
    assert!(page.has("#mark-no-show") && !page.has("#cancel-swap"));
    assert_eq!(app.post_form(&format!("{swap}/no-show"), &[], Some(&ben)).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.post_form(&format!("{swap}/no-show"), &[], Some(&ben)).await.status, StatusCode::CONFLICT);
    assert!(app.get(&swap, Some(&ben)).await.page().has("#no-show-marked"));

    // Ana's next slot shows her no-show to whoever would claim it.
    let carl = app.sign_up("carl").await;
    let page = app.get(&format!("/board/slots/{}", slots[1]), Some(&carl)).await.page();
    assert_eq!(page.text_of("#slot-no-shows"), "1");
    assert!(app.get("/board", Some(&carl)).await.page().text_of(".slot-no-shows").contains("1 no-show"));
}

#[tokio::test]
async fn swaps_about_to_start_are_announced_to_both_sides_once() {
    let app = TestApp::new().await;
    let ana = app.sign_up("ana").await;
    let ben = app.sign_up("ben").await;
    let start = local_time(3, 18, "UTC");
    let slot = post_slot(&app, &ana, &slot_form(&start, "UTC", &[])).await[0];
    let swap = swap_path(&claim(&app, &ben, slot).await);
    let soon = mockloop::domain::peer_board::STARTING_SOON;
    assert!(mockloop::db::peer_board::notice_starting_soon(&app.db, soon).await.expect("notices").is_empty());
    let id: Uuid = swap.trim_start_matches("/swaps/").parse().expect("id");
    sqlx::query("update peer_swaps set starts_at = now() + interval '10 minutes' where id = $1")
        .bind(id)
        .execute(&app.db)
        .await
        .expect("move");
    assert_eq!(mockloop::db::peer_board::notice_starting_soon(&app.db, soon).await.expect("notices").len(), 2);
    let again = mockloop::db::peer_board::notice_starting_soon(&app.db, soon).await.expect("notices");
    assert!(again.is_empty(), "once");
    assert!(app.get("/notices", Some(&ben)).await.body.contains("Your swap with ana starts soon"));
}

#[tokio::test]
async fn the_balance_setting_hides_the_slots_of_people_too_far_in_debt() {
    let db = crate::support::TestDb::new().await;
    let state = mockloop::state::AppState::new(db.pool.clone(), crate::support::app::settings())
        .with_peer_board_balance(Some(0));
    let app = TestApp::with_state(state);
    let ana = app.sign_up("ana").await;
    let ben = app.sign_up("ben").await;
    let carl = app.sign_up("carl").await;
    // Ana takes one round from Ben in a one-way swap: one round in debt.
    let first = local_time(3, 18, "UTC");
    let slot = post_slot(&app, &ana, &slot_form(&first, "UTC", &[("mode", "one_way"), ("minutes", "30")])).await[0];
    let swap = swap_path(&claim(&app, &ben, slot).await);
    let round: Uuid = sqlx::query_scalar(
        "select r.id from rounds r join peer_swaps w on w.poster_loop_id = r.loop_id where w.id = $1",
    )
    .bind(id_of(&swap))
    .fetch_one(&app.db)
    .await
    .expect("round");
    start_round(&app, &ben, &format!("/rounds/{round}")).await;
    end_round(&app, &ben, &format!("/rounds/{round}")).await;
    assert!(
        app.get("/", Some(&ana))
            .await
            .page()
            .text_of("#give-take")
            .contains("interviewed 0 rounds for others and been interviewed in 1")
    );
    assert!(app.get("/", Some(&ben)).await.page().text_of("#give-take").contains("interviewed 1 round for others"));

    let second = local_time(4, 18, "UTC");
    post_slot(&app, &ana, &slot_form(&second, "UTC", &[])).await;
    post_slot(&app, &ben, &slot_form(&second, "UTC", &[])).await;
    let board = app.get("/board", Some(&carl)).await.page();
    assert_eq!(board.count("#board-slots .board-slot"), 1, "Ana's slot is hidden, Ben's shown");
    assert!(board.text_of("#board-slots").contains("ben"));
    assert!(board.has("#balance-note"));
    assert!(!app.get("/board", Some(&ana)).await.page().text_of("#board-slots").is_empty(), "Ana still sees the board");
    assert_ne!(user_of(&app, &ana).await, user_of(&app, &ben).await);
}

/// Who may reach which of the board's routes: a visitor is sent to sign in;
/// a stranger sees open slots but not a claimed one, nor any swap; the poster
/// and claimer see each other's chosen fields and their swap.
#[tokio::test]
async fn the_boards_routes_answer_each_role_as_the_matrix_says() {
    let app = TestApp::new().await;
    let poster = app.sign_up("poster").await;
    let claimer = app.sign_up("claimer").await;
    let stranger = app.sign_up("stranger").await;
    let start = local_time(3, 18, "UTC");
    let slots = post_slot(&app, &poster, &slot_form(&start, "UTC", &[("repeat_weeks", "1")])).await;
    let (claimed, open) = (slots[0], slots[1]);
    let swap = swap_path(&claim(&app, &claimer, claimed).await);

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum E {
        Ok,
        Done,
        SignIn,
        NotFound,
        Conflict,
    }
    use E::*;
    let get = |path: String| (false, path);
    let post = |path: String| (true, path);
    // Columns: visitor, stranger, claimer, poster.
    let rows: Vec<((bool, String), [E; 4])> = vec![
        (get("/board".into()), [SignIn, Ok, Ok, Ok]),
        (get("/board/slots/new".into()), [SignIn, Ok, Ok, Ok]),
        (get(format!("/board/slots/{open}")), [SignIn, Ok, Ok, Ok]),
        (get(format!("/board/slots/{claimed}")), [SignIn, NotFound, Ok, Ok]),
        (get(format!("/board/slots/{open}/edit")), [SignIn, NotFound, NotFound, Ok]),
        (get(format!("/board/slots/{claimed}/edit")), [SignIn, NotFound, NotFound, Conflict]),
        (get(swap.clone()), [SignIn, NotFound, Ok, Ok]),
        (get(format!("{swap}/calendar.ics")), [SignIn, NotFound, Ok, Ok]),
        (get("/notices".into()), [SignIn, Ok, Ok, Ok]),
        (post(format!("/board/slots/{open}/withdraw")), [SignIn, NotFound, NotFound, Done]),
        (post(format!("/board/slots/{claimed}/claim")), [SignIn, Conflict, Done, Conflict]),
        (post(format!("{swap}/no-show")), [SignIn, NotFound, Conflict, Conflict]),
        (post(format!("{swap}/cancel")), [SignIn, NotFound, Done, Conflict]),
    ];
    for ((is_post, path), expected) in rows {
        for (column, cookie) in [None, Some(&stranger), Some(&claimer), Some(&poster)].into_iter().enumerate() {
            let cookie = cookie.map(String::as_str);
            let response =
                if is_post { app.post_form(&path, &claim_form(), cookie).await } else { app.get(&path, cookie).await };
            let location = response.header("location");
            let got = match response.status {
                StatusCode::OK => Ok,
                StatusCode::SEE_OTHER if location.starts_with("/signin") => SignIn,
                StatusCode::SEE_OTHER => Done,
                StatusCode::NOT_FOUND => NotFound,
                StatusCode::CONFLICT => Conflict,
                other => panic!("{path} as column {column}: {other}"),
            };
            assert_eq!(got, expected[column], "{} {path} as column {column}", if is_post { "POST" } else { "GET" });
            // Nobody's page names the other person's username or links their history.
            if got == Ok && !path.ends_with(".ics") {
                assert!(!response.body.contains("/history?"), "{path}");
            }
        }
    }
    // The claimer's and the poster's pages show the other's display name, never more.
    let page = app.get(&swap, Some(&claimer)).await.page();
    assert!(page.text_of("h1").contains("poster"));
}

/// The claim itself, without the page's checks before it: two transactions
/// claiming one slot, the second while the first still holds it. The
/// conditional update lets exactly one have it, whatever the timing.
#[tokio::test]
async fn the_claim_statement_gives_a_slot_to_one_transaction_only() {
    let app = TestApp::new().await;
    let ana = app.sign_up("ana").await;
    let ben = app.sign_up("ben").await;
    let carl = app.sign_up("carl").await;
    let slot = post_slot(&app, &ana, &slot_form(&local_time(3, 18, "UTC"), "UTC", &[])).await[0];
    let (ben, carl) = (user_of(&app, &ben).await, user_of(&app, &carl).await);

    let mut first = app.db.begin().await.expect("first transaction");
    let won = mockloop::db::peer_board::claim(&mut first, slot, ben).await.expect("claim");
    assert!(won.is_some(), "the first claim takes the open slot");
    let db = app.db.clone();
    let second = tokio::spawn(async move {
        let mut tx = db.begin().await.expect("second transaction");
        let claimed = mockloop::db::peer_board::claim(&mut tx, slot, carl).await.expect("claim");
        tx.commit().await.expect("commit");
        claimed
    });
    first.commit().await.expect("commit");
    assert!(second.await.expect("join").is_none(), "the second finds it claimed");
    let holder: Option<Uuid> = sqlx::query_scalar("select claimed_by from peer_slots where id = $1")
        .bind(slot)
        .fetch_one(&app.db)
        .await
        .expect("slot");
    assert_eq!(holder, Some(ben));
}

/// A minimal SMTP server on a loopback port, as an operator's relay: it takes
/// every message and hands on each one's DATA.
async fn fake_smtp() -> (u16, tokio::sync::mpsc::UnboundedReceiver<String>) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (sender, received) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let sender = sender.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 relay.test ESMTP\r\n").await;
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(body) = data.as_mut() {
                        if line == "." {
                            let _ = sender.send(data.take().unwrap_or_default());
                            let _ = write.write_all(b"250 queued\r\n").await;
                        } else {
                            body.push_str(&line);
                            body.push('\n');
                        }
                        continue;
                    }
                    let command = line.to_ascii_uppercase();
                    let reply: &[u8] = if command.starts_with("DATA") {
                        data = Some(String::new());
                        b"354 go ahead\r\n"
                    } else if command.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        break;
                    } else {
                        b"250 ok\r\n"
                    };
                    let _ = write.write_all(reply).await;
                }
            });
        }
    });
    (port, received)
}

async fn next_mail(received: &mut tokio::sync::mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(Duration::from_secs(15), received.recv())
        .await
        .expect("a mail arrives")
        .expect("the relay runs")
}

#[tokio::test]
async fn with_an_smtp_relay_configured_claims_and_cancellations_are_mailed_to_e_mail_usernames() {
    let (port, mut received) = fake_smtp().await;
    let mailer = mockloop::mail::Mailer::new(&format!("smtp://127.0.0.1:{port}"), "mockloop <mockloop@localhost>")
        .expect("mailer");
    let db = crate::support::TestDb::new().await;
    let state =
        mockloop::state::AppState::new(db.pool.clone(), crate::support::app::settings()).with_mailer(Some(mailer));
    let app = TestApp::with_state(state);
    let ana = app.sign_up("ana@example.org").await;
    let ben = app.sign_up("ben@example.org").await;
    let slot = post_slot(&app, &ana, &slot_form(&local_time(3, 18, "UTC"), "UTC", &[])).await[0];
    let swap = swap_path(&claim(&app, &ben, slot).await);

    let claimed = next_mail(&mut received).await;
    assert!(claimed.contains("To: ana@example.org"), "{claimed}");
    assert!(claimed.contains("claimed your slot") && claimed.contains(&swap), "{claimed}");

    app.post_form(&format!("{swap}/cancel"), &[], Some(&ana)).await;
    let cancelled = next_mail(&mut received).await;
    assert!(cancelled.contains("To: ben@example.org") && cancelled.contains("cancelled your swap"), "{cancelled}");
}
