//! The peer board in Chromium with three people: Ana posts two slots; Ben (in
//! New York) sees them in his time, filters and claims one while Cleo claims
//! the same slot at the same moment (one of them wins, the other is told);
//! the swap runs as two peer rounds with the live timer and scoring; Ben
//! claims the other slot, Ana cancels it, and Ben's calendar feed shows it
//! cancelled. Every board page is checked with axe on the way.

use fantoccini::Locator;
use uuid::Uuid;

use crate::support::board::local_time;
use crate::support::browser::{Browser, serve_app};
use crate::support::server::send;

const ANA_ZONE: &str = "Europe/Berlin";
const BEN_ZONE: &str = "America/New_York";

/// Sets a form field's value as a person choosing it would (datetime-local
/// and long selects are awkward to type into).
async fn set_value(browser: &Browser, css: &str, value: &str) {
    browser
        .client
        .execute(
            "const field = document.querySelector(arguments[0]); field.value = arguments[1];
             field.dispatchEvent(new Event('change', { bubbles: true }));",
            vec![css.into(), value.into()],
        )
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
}

async fn axe_clean(browser: &Browser, page: &str, problems: &mut Vec<String>) {
    problems.extend(browser.axe_violations().await.into_iter().map(|v| format!("{page}: {v}")));
}

/// Ana posts a 90-minute swap slot at `starts_at` (her zone) through the form.
async fn post_slot(ana: &Browser, base: &str, starts_at: &str) {
    ana.client.goto(&format!("{base}/board/slots/new")).await.expect("slot form");
    set_value(ana, "#starts_at", starts_at).await;
    set_value(ana, "#time_zone", ANA_ZONE).await;
    ana.fill("#minutes", "90").await;
    ana.click("input[name=wants][value=ml_system_design]").await;
    ana.click("input[name=can_interview][value=coding]").await;
    ana.click("#save-slot").await;
    ana.text("#own-slots").await;
}

async fn hrefs(browser: &Browser, css: &str) -> Vec<String> {
    let mut found = Vec::new();
    for link in browser.client.find_all(Locator::Css(css)).await.expect(css) {
        found.push(link.attr("href").await.expect("href").expect("a link"));
    }
    found
}

/// One peer round: the interviewer runs the clock (the candidate's page
/// follows live), then scores it; the candidate sees the scorecard.
async fn run_round(interviewer: &Browser, candidate: &Browser, base: &str, round: &str) {
    interviewer.client.goto(&format!("{base}{round}")).await.expect("interviewer round");
    candidate.client.goto(&format!("{base}{round}")).await.expect("candidate round");
    candidate.text("#question-hidden").await;
    interviewer.click("#timer-start").await;
    candidate.text("#question-1").await;
    candidate.wait_for_text("#timer-state", |t| t.starts_with("Running")).await;
    interviewer.click("#timer-end").await;
    candidate.text("#round-complete").await;

    interviewer.client.goto(&format!("{base}{round}/assessment")).await.expect("scorecard");
    let groups = interviewer.client.find_all(Locator::Css(".score-options[role=radiogroup]")).await.expect("criteria");
    assert!(!groups.is_empty(), "the round's rubric has criteria");
    for group in &groups {
        group.find(Locator::Css("input[value='3']")).await.expect("radio").click().await.expect("click");
    }
    for textarea in interviewer.client.find_all(Locator::Css("textarea[name^=evidence_]")).await.expect("evidence") {
        textarea.send_keys("Clear and structured.").await.expect("type");
    }
    interviewer.fill("#summary", "SWAP-SUMMARY a good round").await;
    interviewer.click("input[name=recommendation][value=hire]").await;
    interviewer.click("#scorecard-submit").await;
    interviewer.wait_for_text("h1", |t| t.starts_with("Round feedback")).await;

    candidate.client.goto(&format!("{base}{round}/feedback")).await.expect("feedback");
    candidate.click("#skip-self-assessment button").await;
    assert!(candidate.text("#card-1-interviewer").await.contains("SWAP-SUMMARY a good round"));
}

#[tokio::test]
async fn three_people_find_each_other_on_the_board_and_practise_a_swap() {
    let (base, db) = serve_app().await;
    let port: u16 = base.rsplit(':').next().and_then(|p| p.parse().ok()).expect("port");
    let ana = Browser::launch().await;
    let ben = Browser::launch().await;
    let cleo = Browser::launch().await;
    let mut problems = Vec::new();
    ana.sign_up(&base, "ana").await;
    ben.sign_up(&base, "ben").await;
    cleo.sign_up(&base, "cleo").await;

    // Ana posts two slots, on two days, in Berlin.
    let first = local_time(3, 18, ANA_ZONE);
    let second = local_time(4, 18, ANA_ZONE);
    ana.client.goto(&format!("{base}/board/slots/new")).await.expect("slot form");
    axe_clean(&ana, "slot form", &mut problems).await;
    post_slot(&ana, &base, &first).await;
    post_slot(&ana, &base, &second).await;
    assert_eq!(ana.client.find_all(Locator::Css("#own-slots .own-slot")).await.expect("slots").len(), 2);
    axe_clean(&ana, "home with slots", &mut problems).await;

    // Ben, in New York, sees them in his time, filters and opens the first.
    ben.client.goto(&format!("{base}/board")).await.expect("board");
    set_value(&ben, "#zone", BEN_ZONE).await;
    set_value(&ben, "#kind", "ml_system_design").await;
    ben.click_to_new_page("#apply-filters").await;
    ben.wait_for_text("#board-slots", |t| !t.is_empty()).await;
    let zone = |name: &str| name.parse::<chrono_tz::Tz>().expect("zone");
    let instant = mockloop::domain::schedule::parse_local(&first, zone(ANA_ZONE)).expect("instant");
    let in_new_york = mockloop::domain::schedule::format_local(instant, zone(BEN_ZONE));
    let times = ben.text("#board-slots").await;
    assert!(times.contains(&in_new_york), "Ben sees {in_new_york} in his zone: {times}");
    assert_eq!(ben.client.find_all(Locator::Css(".board-slot")).await.expect("slots").len(), 2);
    axe_clean(&ben, "board", &mut problems).await;
    set_value(&ben, "#kind", "behavioral").await;
    ben.click_to_new_page("#apply-filters").await;
    ben.text("#board-empty").await;
    set_value(&ben, "#kind", "").await;
    ben.click_to_new_page("#apply-filters").await;
    let slot_links = hrefs(&ben, ".board-slot h3 a").await;
    assert_eq!(slot_links.len(), 2);
    let slot_of = |link: &str| link.split('?').next().unwrap_or(link).to_owned();
    let (first_slot, second_slot) = (slot_of(&slot_links[0]), slot_of(&slot_links[1]));

    // Ben and Cleo open the first slot and claim it at the same moment.
    ben.client.goto(&format!("{base}{first_slot}?zone={BEN_ZONE}")).await.expect("slot");
    cleo.client.goto(&format!("{base}{first_slot}")).await.expect("slot");
    ben.text("#claim-form").await;
    cleo.text("#claim-form").await;
    axe_clean(&ben, "slot with claim form", &mut problems).await;
    tokio::join!(ben.click_to_new_page("#claim-slot"), cleo.click_to_new_page("#claim-slot"));
    let ben_page = ben.text("h1").await;
    let cleo_page = cleo.text("h1").await;
    let (winner, loser, winner_name, loser_name) =
        if ben_page.starts_with("Peer swap") { (&ben, &cleo, "ben", "cleo") } else { (&cleo, &ben, "cleo", "ben") };
    assert!(winner.text("h1").await.starts_with("Peer swap with ana"), "{ben_page} / {cleo_page}");
    let refusal = loser.text("main").await;
    assert!(refusal.contains("Someone else claimed this slot"), "{loser_name} is told plainly: {refusal}");
    println!("board: {winner_name} won the claim, {loser_name} was refused");

    // Both see the swap and its two rounds.
    let swap_url = winner.client.current_url().await.expect("url").path().to_owned();
    axe_clean(winner, "swap", &mut problems).await;
    let rounds = hrefs(winner, ".swap-round-link").await;
    assert_eq!(rounds.len(), 2, "two rounds back to back");
    ana.client.goto(&format!("{base}/")).await.expect("home");
    assert_eq!(ana.text("#notice-count").await, "1", "Ana's header counts the claim");
    ana.text("#your-swaps").await;
    ana.click("#your-swaps a").await;
    ana.wait_for_text("h1", |t| t == format!("Peer swap with {winner_name}")).await;
    assert_eq!(hrefs(&ana, ".swap-round-link").await, rounds, "Ana sees the same two rounds");
    ana.client.goto(&format!("{base}/notices")).await.expect("notices");
    assert!(ana.text("#notices").await.contains(&format!("{winner_name} claimed your slot")));
    axe_clean(&ana, "notices", &mut problems).await;

    // The swap: first Ana interviews the claimer, then the claimer interviews Ana.
    run_round(&ana, winner, &base, &rounds[0]).await;
    run_round(winner, &ana, &base, &rounds[1]).await;

    // Ben claims the second slot; his notice count rises live when Ana cancels it.
    ben.client.goto(&format!("{base}{second_slot}")).await.expect("second slot");
    ben.click("#claim-slot").await;
    ben.wait_for_text("h1", |t| t == "Peer swap with ana").await;
    let second_swap = ben.client.current_url().await.expect("url").path().to_owned();
    assert_ne!(second_swap, swap_url);
    ben.client.goto(&format!("{base}/calendar")).await.expect("calendar");
    ben.click_to_new_page("#feed-create").await;
    let feed = ben.field_value("#feed-url").await.expect("a feed address");
    let feed_path = feed.split_once("/calendar/feed/").map(|(_, t)| format!("/calendar/feed/{t}")).expect("path");
    let before = send(port, "GET", &feed_path, None, &[], "").await.expect("feed");
    let ours = |body: &str, id: &str| {
        body.split("BEGIN:VEVENT").filter(|e| e.contains(id)).map(str::to_owned).collect::<Vec<_>>()
    };
    ben.client.goto(&format!("{base}/board")).await.expect("board");
    ben.wait_for_text("#notice-count", |_| true).await;

    ana.client.goto(&format!("{base}{second_swap}")).await.expect("second swap");
    ana.click("#cancel-swap-disclosure summary").await;
    axe_clean(&ana, "swap, cancel asking to confirm", &mut problems).await;
    ana.click("#cancel-swap").await;
    ana.wait_for_text("#swap-status", |t| t == "Cancelled.").await;
    ben.wait_for_text("#notice-count", |t| t == "1").await;

    let after = send(port, "GET", &feed_path, None, &[], "").await.expect("feed").body;
    let second_id: Uuid = second_swap.trim_start_matches("/swaps/").parse().expect("id");
    let loops: Vec<Uuid> =
        sqlx::query_scalar("select unnest(array[poster_loop_id, claimer_loop_id]) from peer_swaps where id = $1")
            .bind(second_id)
            .fetch_all(&db.pool)
            .await
            .expect("loops");
    for loop_id in loops {
        let events = ours(&after, &loop_id.to_string());
        assert_eq!(events.len(), 1, "the round of loop {loop_id} is in Ben's feed");
        assert!(events[0].contains("STATUS:CANCELLED") && events[0].contains("SEQUENCE:1"), "{}", events[0]);
        assert!(ours(&before.body, &loop_id.to_string())[0].contains("SEQUENCE:0"));
    }
    let first_id: Uuid = swap_url.trim_start_matches("/swaps/").parse().expect("id");
    let kept: i64 = sqlx::query_scalar("select count(*) from peer_swaps where id = $1 and status = 'scheduled'")
        .bind(first_id)
        .fetch_one(&db.pool)
        .await
        .expect("count");
    assert_eq!(kept, 1, "the first swap is untouched");

    assert!(problems.is_empty(), "axe found:\n{}", problems.join("\n"));
    for browser in [ana, ben, cleo] {
        browser.close().await;
    }
}
