//! Private questions: only their owner sees, edits or deletes them.

use axum::http::StatusCode;

use crate::support::TestApp;

fn question_form<'a>(title: &'a str, follow_ups: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("title", title),
        ("kind", "ml_fundamentals"),
        ("difficulty", "2"),
        ("minutes", "20"),
        ("levels", "junior_mid"),
        ("levels", "senior_staff"),
        ("teams", "camera-cv"),
        ("tags", "Optimisation, adam"),
        ("prompt", "Explain **Adam** to a new grad.\n\n<script>alert(1)</script>"),
        ("follow_ups", follow_ups),
        ("hints", "Start from momentum."),
        ("what_good_looks_like", "First and second moment estimates, bias correction."),
    ]
}

async fn create(app: &TestApp, cookie: &str, title: &str) -> String {
    let response = app
        .post_form("/questions", &question_form(title, "Why bias correction?\nWhen does it fail?"), Some(cookie))
        .await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    response.header("location").to_owned()
}

#[tokio::test]
async fn a_private_question_is_seen_by_its_owner_only() {
    let app = TestApp::new().await;
    let owner = app.sign_up("owner").await;
    let stranger = app.sign_up("stranger").await;
    let location = create(&app, &owner, "Adam from scratch").await;
    assert!(location.starts_with("/questions/my-"), "{location}");

    let page = app.get(&location, Some(&owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.page().text_of("#prompt strong"), "Adam", "Markdown rendered");
    assert!(!page.body.contains("<script>alert"), "sanitised");
    assert!(page.page().has("#edit-question"));
    assert!(app.get("/questions?q=adam+scratch", Some(&owner)).await.body.contains("Adam from scratch"));

    assert_eq!(app.get(&location, Some(&stranger)).await.status, StatusCode::NOT_FOUND);
    assert!(!app.get("/questions?q=adam+scratch", Some(&stranger)).await.body.contains("Adam from scratch"));
    assert_eq!(app.get(&format!("{location}/edit"), Some(&stranger)).await.status, StatusCode::NOT_FOUND);
    let hijack = app.post_form(&format!("{location}/edit"), &question_form("Hijacked", "a\nb"), Some(&stranger)).await;
    assert_eq!(hijack.status, StatusCode::NOT_FOUND);
    let delete = app.post_form(&format!("{location}/delete"), &[], Some(&stranger)).await;
    assert_eq!(delete.status, StatusCode::NOT_FOUND);
    assert_eq!(app.count("select count(*) from questions where title = 'Adam from scratch'").await, 1);
}

#[tokio::test]
async fn an_invalid_question_keeps_everything_typed_and_names_the_problem() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("author").await;
    let response =
        app.post_form("/questions", &question_form("Only one follow-up", "Just this one"), Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("Give at least 2 follow-ups, found 1"), "{}", response.body);
    let page = response.page();
    assert_eq!(page.field_value("#title"), "Only one follow-up");
    assert_eq!(page.field_value("#follow_ups"), "Just this one");
    assert!(page.has("input[name=teams][value=camera-cv][checked]"), "checkbox choices kept");
    assert_eq!(app.count("select count(*) from questions where owner_id is not null").await, 0);
}

#[tokio::test]
async fn the_owner_edits_and_deletes_a_private_question() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("editor").await;
    let location = create(&app, &cookie, "First title").await;
    let edit_form = app.get(&format!("{location}/edit"), Some(&cookie)).await.page();
    assert_eq!(edit_form.field_value("#title"), "First title");
    assert_eq!(edit_form.field_value("#follow_ups"), "Why bias correction?\nWhen does it fail?");
    let saved =
        app.post_form(&format!("{location}/edit"), &question_form("Second title", "One\nTwo"), Some(&cookie)).await;
    assert_eq!(saved.header("location"), location);
    assert!(app.get(&location, Some(&cookie)).await.body.contains("Second title"));
    let deleted = app.post_form(&format!("{location}/delete"), &[], Some(&cookie)).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&location, Some(&cookie)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn bank_questions_cannot_be_edited_through_the_private_routes() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("meddler").await;
    let slug: String = sqlx::query_scalar("select slug from questions where owner_id is null limit 1")
        .fetch_one(&app.db)
        .await
        .expect("slug");
    let response =
        app.post_form(&format!("/questions/{slug}/edit"), &question_form("Vandalised", "a\nb"), Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.post_form(&format!("/questions/{slug}/delete"), &[], Some(&cookie)).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.count("select count(*) from questions where title = 'Vandalised'").await, 0);
}

#[tokio::test]
async fn a_question_written_without_a_topic_is_a_topic_of_its_own_and_calibration_is_optional() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("topicless").await;
    let location = create(&app, &cookie, "Adam without a topic").await;
    let slug = location.trim_start_matches("/questions/");
    let (topic, calibration): (String, Option<String>) =
        sqlx::query_as("select topic, calibration_md from questions where slug = $1")
            .bind(slug)
            .fetch_one(&app.db)
            .await
            .expect("stored");
    assert_eq!((topic.as_str(), calibration), (slug, None));
    let page = app.get(&location, Some(&cookie)).await.page();
    assert!(!page.has("#topic"), "its own slug is not shown as a topic");
    assert!(!page.has("#reveal-calibration"));
    assert_eq!(app.get(&format!("{location}/edit"), Some(&cookie)).await.page().field_value("#topic"), "");
}

#[tokio::test]
async fn a_question_with_a_topic_and_calibration_shows_both_and_edits_them_back() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("calibrator").await;
    let mut form = question_form("Adam, calibrated", "Why bias correction?\nWhen does it fail?");
    form.extend([
        ("topic", "optimizers"),
        ("calibration_1_2", "A 1 cannot say what\nthe moments are."),
        ("calibration_3_4", "A 4 derives the bias correction."),
        ("calibration_level", "Seniors relate it to AdamW."),
    ]);
    let response = app.post_form("/questions", &form, Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let location = response.header("location").to_owned();

    let page = app.get(&location, Some(&cookie)).await.page();
    assert_eq!(page.text_of("#topic"), "Topic: optimizers");
    let calibration = page.texts("#calibration li");
    assert_eq!(
        calibration,
        [
            "1 vs 2: A 1 cannot say what the moments are.",
            "3 vs 4: A 4 derives the bias correction.",
            "Junior/mid vs senior/staff: Seniors relate it to AdamW.",
        ]
    );
    let edit = app.get(&format!("{location}/edit"), Some(&cookie)).await.page();
    assert_eq!(edit.field_value("#topic"), "optimizers");
    assert_eq!(edit.field_value("#calibration_1_2"), "A 1 cannot say what the moments are.");
    assert_eq!(edit.field_value("#calibration_level"), "Seniors relate it to AdamW.");
}

#[tokio::test]
async fn a_topic_that_is_not_a_slug_or_part_of_a_calibration_is_refused_with_what_was_typed() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("halfway").await;
    let mut form = question_form("Adam, half calibrated", "Why bias correction?\nWhen does it fail?");
    form.extend([("topic", "Optimizers & more"), ("calibration_3_4", "A 4 derives the bias correction.")]);
    let response = app.post_form("/questions", &form, Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    let page = response.page();
    assert!(page.text_of("#topic-error").contains("must be lowercase letters and digits"), "{}", response.body);
    assert_eq!(page.text_of("#calibration-error"), "Give all three calibration notes, or none");
    assert_eq!(page.field_value("#topic"), "Optimizers & more");
    assert_eq!(page.field_value("#calibration_3_4"), "A 4 derives the bias correction.");
    assert_eq!(app.count("select count(*) from questions where owner_id is not null").await, 0);
}

#[tokio::test]
async fn the_tag_filter_lists_every_tag_once_with_the_owners_own_and_keeps_the_chosen_one() {
    let app = TestApp::new().await;
    let owner = app.sign_up("tagger").await;
    let mut form = question_form("Own tags", "a\nb");
    form.retain(|(name, _)| *name != "tags");
    form.push(("tags", "zz-only-mine, adam"));
    let response = app.post_form("/questions", &form, Some(&owner)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let own: Vec<String> = sqlx::query_scalar("select unnest(tags) from questions where title = 'Own tags'")
        .fetch_all(&app.db)
        .await
        .expect("own tags");
    let shipped: Vec<String> =
        sqlx::query_scalar("select distinct unnest(tags) as t from questions where owner_id is null order by t")
            .fetch_all(&app.db)
            .await
            .expect("shipped tags");
    let mine = "zz-only-mine".to_owned();
    assert!(own.contains(&mine) && !shipped.contains(&mine));
    let mut expected: Vec<String> = shipped.iter().chain(&own).cloned().collect();
    expected.sort_unstable();
    expected.dedup();

    let query = serde_urlencoded::to_string([("tag", mine.as_str())]).expect("query");
    let body = app.get(&format!("/questions?{query}"), Some(&owner)).await.body;
    let page = crate::support::html::Page::parse(&body);
    let listed = page.attrs("#tag option", "value");
    assert_eq!(listed[0], "", "Any tag comes first");
    assert_eq!(listed[1..], expected[..], "every shipped and own tag once, sorted");
    assert_eq!(
        page.attrs("#tag option[selected]", "value"),
        std::slice::from_ref(&mine),
        "the chosen tag stays selected"
    );
    assert_eq!(page.texts(".question-title"), ["Own tags"], "the chosen tag filters the list");

    let stranger = app.sign_up("stranger").await;
    let theirs = crate::support::html::Page::parse(&app.get("/questions", Some(&stranger)).await.body)
        .attrs("#tag option", "value");
    assert_eq!(theirs[1..], shipped[..], "another person's tags are not listed");
}

/// The bank page is kept rendered under the versions of what it lists: a
/// revisit of an unchanged search is a 304, and every change to what it lists
/// (the owner's own question written, edited or deleted, a shipped question
/// changed) shows at once, on this instance and on another that held the page;
/// someone else's private question changes nothing for the viewer.
#[tokio::test]
async fn a_kept_search_page_follows_every_change_to_what_it_lists() {
    let app = TestApp::new().await;
    let other = app.other_instance_app();
    let owner = app.sign_up("owner").await;
    let stranger = app.sign_up("stranger").await;
    let search = "/questions?q=adam";
    let first = app.get(search, Some(&owner)).await;
    assert_eq!(first.status, StatusCode::OK);
    let etag = first.header("etag").to_owned();
    assert_eq!(first.header("cache-control"), "private, no-cache");
    let revisit = |etag: String| {
        let request = axum::http::Request::get(search)
            .header("cookie", owner.as_str())
            .header("if-none-match", etag)
            .body(axum::body::Body::empty())
            .expect("request");
        app.send(request)
    };
    assert_eq!(revisit(etag.clone()).await.status, StatusCode::NOT_MODIFIED, "nothing changed");
    assert!(!other.get(search, Some(&owner)).await.body.contains("Adam from scratch"));

    create(&app, &stranger, "Adam for strangers").await;
    assert_eq!(revisit(etag.clone()).await.status, StatusCode::NOT_MODIFIED, "another person's question");

    let location = create(&app, &owner, "Adam from scratch").await;
    assert_eq!(revisit(etag).await.status, StatusCode::OK, "the owner's new question");
    for instance in [&app, &other] {
        let page = instance.get(search, Some(&owner)).await;
        assert!(page.body.contains("Adam from scratch"), "{}", page.body);
        assert!(!page.body.contains("Adam for strangers"));
    }
    let edited =
        app.post_form(&format!("{location}/edit"), &question_form("Adam, edited", "One\nTwo"), Some(&owner)).await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    for instance in [&app, &other] {
        let page = instance.get(search, Some(&owner)).await;
        assert!(page.body.contains("Adam, edited") && !page.body.contains("Adam from scratch"), "{}", page.body);
    }
    let deleted = app.post_form(&format!("{location}/delete"), &[], Some(&owner)).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER);
    for instance in [&app, &other] {
        assert!(!instance.get(search, Some(&owner)).await.body.contains("Adam, edited"));
    }

    let shipped = "/questions?q=gradient+descent";
    for instance in [&app, &other] {
        assert!(!instance.get(shipped, Some(&owner)).await.body.contains("Gradient descent, retitled"));
    }
    sqlx::query(
        "update questions set title = 'Gradient descent, retitled'
         where id = (select id from questions where owner_id is null and search @@ websearch_to_tsquery('english', 'gradient descent') limit 1)",
    )
    .execute(&app.db)
    .await
    .expect("a shipped question changes");
    for instance in [&app, &other] {
        assert!(instance.get(shipped, Some(&owner)).await.body.contains("Gradient descent, retitled"));
    }
}
