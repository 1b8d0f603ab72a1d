//! The question bank and rubric pages.

use axum::http::StatusCode;

use crate::helpers::TestApp;

/// The slugs listed on a bank page, in order.
fn listed_slugs(body: &str) -> Vec<String> {
    body.match_indices("class=\"question-title\" href=\"/questions/")
        .map(|(at, m)| body[at + m.len()..].split('"').next().unwrap_or("").to_owned())
        .collect()
}

#[tokio::test]
async fn the_bank_asks_visitors_to_sign_in_first() {
    let app = TestApp::new().await;
    let response = app.get("/questions?q=graph", None).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.header("location"), "/signin?next=%2Fquestions%3Fq%3Dgraph");
}

#[tokio::test]
async fn full_text_search_ranks_matching_questions_first() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("searcher").await;
    let body = app.get("/questions?q=moving+average", Some(&cookie)).await.body;
    let slugs = listed_slugs(&body);
    assert!(!slugs.is_empty(), "{body}");
    let top_title: String = sqlx::query_scalar("select title || ' ' || prompt_md from questions where slug = $1")
        .bind(&slugs[0])
        .fetch_one(&app.db)
        .await
        .expect("question");
    assert!(top_title.to_lowercase().contains("moving average"), "{top_title}");

    let none = app.get("/questions?q=zzzqqqxxy", Some(&cookie)).await;
    assert!(none.body.contains("id=\"no-results\""));
}

#[tokio::test]
async fn filters_narrow_the_list_and_can_be_combined() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("filterer").await;
    let body = app.get("/questions?kind=domain&team=camera-cv", Some(&cookie)).await.body;
    let slugs = listed_slugs(&body);
    let expected: i64 =
        app.count("select count(*) from questions where kind = 'domain' and 'camera-cv' = any(teams)").await;
    assert_eq!(slugs.len() as i64, expected);
    assert!(expected >= 5);
    assert!(slugs.iter().all(|s| s.starts_with("domain-")), "{slugs:?}");
    assert!(body.contains(r#"<option value="domain" selected>"#), "the chosen filter stays selected");

    let hard = listed_slugs(&app.get("/questions?difficulty=3&kind=coding", Some(&cookie)).await.body);
    let hard_count = app.count("select count(*) from questions where difficulty = 3 and kind = 'coding'").await;
    assert_eq!(hard.len() as i64, hard_count.min(20));

    let tag: String = sqlx::query_scalar("select tags[1] from questions where kind = 'coding' order by slug limit 1")
        .fetch_one(&app.db)
        .await
        .expect("tag");
    let tagged = listed_slugs(&app.get(&format!("/questions?tag={tag}"), Some(&cookie)).await.body);
    let tag_count = app.count(&format!("select count(*) from questions where '{tag}' = any(tags)")).await;
    assert_eq!(tagged.len() as i64, tag_count.min(20));
}

#[tokio::test]
async fn pages_of_results_do_not_overlap_and_keep_the_filters() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("pager").await;
    let first = app.get("/questions?kind=coding", Some(&cookie)).await.body;
    assert!(first.contains("Showing 1–20 of"), "{first}");
    assert!(first.contains(r#"href="/questions?kind=coding&#38;page=2""#), "{first}");
    let second = app.get("/questions?kind=coding&page=2", Some(&cookie)).await.body;
    let (a, b) = (listed_slugs(&first), listed_slugs(&second));
    assert_eq!(a.len(), 20);
    assert!(!b.is_empty() && b.iter().all(|slug| !a.contains(slug)), "{a:?} / {b:?}");
}

#[tokio::test]
async fn odd_query_strings_are_treated_as_no_filter() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("fuzzer").await;
    for query in
        ["kind=nonsense", "difficulty=9", "page=-4", "page=abc", "q=%27%3B+drop+table+questions%3B--", "q=a%26b%7Cc%21"]
    {
        let response = app.get(&format!("/questions?{query}"), Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::OK, "{query}");
    }
    assert!(app.count("select count(*) from questions").await >= 120);
}

#[tokio::test]
async fn a_question_page_hides_hints_and_guidance_behind_reveal_controls() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("reader").await;
    let (slug, hint): (String, String) = sqlx::query_as("select slug, hints[1] from questions order by slug limit 1")
        .fetch_one(&app.db)
        .await
        .expect("question");
    let body = app.get(&format!("/questions/{slug}"), Some(&cookie)).await.body;
    let details_start =
        body.find(r#"<details class="reveal" id="reveal-hints">"#).expect("hints are in a details element");
    let details_end = details_start + body[details_start..].find("</details>").expect("closed");
    let escaped_hint = hint
        .replace('&', "&#38;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;");
    let hint_at = body.find(&escaped_hint).expect("the hint is on the page");
    assert!(details_start < hint_at && hint_at < details_end, "the hint is inside the reveal control");
    assert!(body.contains(r#"id="reveal-guidance""#));

    let missing = app.get("/questions/no-such-question", Some(&cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rubric_pages_show_every_criterion_with_four_anchors_and_a_pillar() {
    let app = TestApp::new().await;
    let list = app.get("/rubrics", None).await;
    assert_eq!(list.body.matches("href=\"/rubrics/").count(), 6);
    let page = app.get("/rubrics/ml_system_design", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let criteria = app
        .count("select count(*) from rubric_criteria c join rubrics r on r.id = c.rubric_id where r.kind = 'ml_system_design'")
        .await;
    assert_eq!(page.body.matches("class=\"criterion\"").count() as i64, criteria);
    assert_eq!(page.body.matches("<th scope=\"row\">").count() as i64, criteria * 4);
    assert!(page.body.contains("Engineering Excellence &#38; Scalability"));
    assert_eq!(app.get("/rubrics/astrology", None).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_templates_page_lists_the_shipped_loop_shapes() {
    let app = TestApp::new().await;
    let body = app.get("/templates", None).await.body;
    for name in ["MLE onsite (6 rounds)", "MLE onsite, 5-round variant", "GenAI / LLM onsite", "Technical phone screen"]
    {
        assert!(body.contains(name), "{name}");
    }
}
