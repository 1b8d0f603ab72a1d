//! The signed-in home page, kept rendered: it must change the moment anything
//! it shows does, and a revisit of an unchanged page is a 304.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use crate::support::board::{claim, local_time, post_slot, slot_form, swap_path};
use crate::support::rounds::{end_round, start_round};
use crate::support::{LoopBuilder, TestApp};

async fn home_text(app: &TestApp, cookie: &str, css: &str) -> String {
    app.get("/", Some(cookie)).await.page().text_of(css)
}

async fn revisit(app: &TestApp, cookie: &str) -> StatusCode {
    let first = app.get("/", Some(cookie)).await;
    let etag = first.header("etag").to_owned();
    assert!(!etag.is_empty(), "a kept home page has an ETag");
    let request = Request::get("/")
        .header(header::COOKIE, cookie)
        .header(header::IF_NONE_MATCH, etag)
        .body(Body::empty())
        .expect("request");
    app.send(request).await.status
}

#[tokio::test]
async fn a_kept_home_page_changes_when_a_timer_a_slot_or_a_template_changes() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("homecand").await;
    let interviewer = app.sign_up("homeint").await;
    let scheduled = LoopBuilder::peer("mle-onsite-5")
        .starts_at("2030-01-07T10:00")
        .time_zone("UTC")
        .for_user(&candidate)
        .interviewed_by(&[&interviewer])
        .schedule(&app)
        .await;
    let round = &scheduled.rounds[0];
    assert!(home_text(&app, &interviewer, "#interviews").await.contains("not started"));
    assert!(home_text(&app, &candidate, "#recent-loops").await.contains("0 of 5 rounds done"));
    assert_eq!(revisit(&app, &interviewer).await, StatusCode::NOT_MODIFIED, "unchanged: a 304");

    // The timer's state shows on both people's home pages.
    start_round(&app, &interviewer, round).await;
    assert!(home_text(&app, &interviewer, "#interviews").await.contains("in progress"), "a started round");
    end_round(&app, &interviewer, round).await;
    assert!(home_text(&app, &interviewer, "#interviews").await.contains("done"), "an ended round");
    assert!(home_text(&app, &candidate, "#recent-loops").await.contains("1 of 5 rounds done"));
    let give_take = home_text(&app, &interviewer, "#give-take").await;
    assert!(give_take.contains("interviewed 1 round for others"), "{give_take}");

    // The header's notice count is part of every kept page: reading the
    // notices changes nothing else those pages show, yet their count follows.
    let starts_at = local_time(2, 9, "Europe/Berlin");
    let claimed = post_slot(&app, &candidate, &slot_form(&starts_at, "Europe/Berlin", &[])).await;
    swap_path(&claim(&app, &interviewer, claimed[0]).await);
    let header = async |page: &str| app.get(page, Some(&candidate)).await.page().text_of("#notice-count");
    for page in ["/", "/history"] {
        assert_eq!(header(page).await, "1", "{page} shows the new notice");
    }
    app.get("/notices", Some(&candidate)).await;
    for page in ["/", "/history"] {
        assert_eq!(header(page).await, "0", "{page} shows the notice read");
    }

    // A slot posted, then withdrawn.
    assert!(app.get("/", Some(&candidate)).await.page().has("#no-slots"));
    let starts_at = local_time(3, 10, "Europe/Berlin");
    let slots = post_slot(&app, &candidate, &slot_form(&starts_at, "Europe/Berlin", &[])).await;
    assert!(app.get("/", Some(&candidate)).await.page().has("#own-slots"), "the posted slot is listed");
    let withdrawn = app.post_form(&format!("/board/slots/{}/withdraw", slots[0]), &[], Some(&candidate)).await;
    assert_eq!(withdrawn.status, StatusCode::SEE_OTHER, "{}", withdrawn.body);
    assert!(app.get("/", Some(&candidate)).await.page().has("#no-slots"), "the withdrawn slot is gone");

    // An own template, saved and then renamed.
    let form = |name: &'static str| {
        [
            ("name", name),
            ("description", "Two rounds."),
            ("team", ""),
            ("kind_0", "coding"),
            ("title_0", "Coding"),
            ("minutes_0", "45"),
            ("questions_0", "1"),
            ("kind_1", "behavioral"),
            ("title_1", "Behavioral"),
            ("minutes_1", "30"),
            ("questions_1", "1"),
            ("op", "save"),
        ]
    };
    let saved = app.post_form("/templates/new", &form("Kept page pair"), Some(&candidate)).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert!(app.get("/", Some(&candidate)).await.body.contains("Kept page pair"), "the new template is listed");
    let slug: String = sqlx::query_scalar("select slug from loop_templates where name = 'Kept page pair'")
        .fetch_one(&app.db)
        .await
        .expect("the template");
    let renamed =
        app.post_form(&format!("/templates/{slug}/edit"), &form("Kept page pair, renamed"), Some(&candidate)).await;
    assert_eq!(renamed.status, StatusCode::SEE_OTHER, "{}", renamed.body);
    assert!(app.get("/", Some(&candidate)).await.body.contains("Kept page pair, renamed"), "the new name is listed");
    assert_eq!(revisit(&app, &candidate).await, StatusCode::NOT_MODIFIED);
}
