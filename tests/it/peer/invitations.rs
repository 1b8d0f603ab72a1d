//! Invitation links: what accepting one does, and every way one is refused.

use axum::http::StatusCode;
use uuid::Uuid;

use crate::support::loops::{accept, interviewers, invite, token_in};
use crate::support::{LoopBuilder, Page, ScheduledLoop, TestApp, id_of};

/// The newest invitation of a loop.
async fn latest_invitation(app: &TestApp, loop_path: &str) -> Uuid {
    sqlx::query_scalar("select id from invitations where loop_id = $1 order by created_at desc limit 1")
        .bind(id_of(loop_path))
        .fetch_one(&app.db)
        .await
        .expect("invitation")
}

/// The text of the page's `#invitation-problem`, if it has one.
fn invitation_problem(body: &str) -> Option<String> {
    let page = Page::parse(body);
    page.has("#invitation-problem").then(|| page.text_of("#invitation-problem"))
}

#[tokio::test]
async fn an_invitation_link_makes_whoever_accepts_it_the_rounds_interviewer() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("casey").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::peer_pair().for_user(&candidate).schedule(&app).await;
    let page = app.get(&loop_path, Some(&candidate)).await;
    assert!(page.page().has("#invite-form"), "the candidate can invite: {}", page.body);
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
    assert!(later.page().text_of("#invitation-list").contains("Waiting"), "the invitation is listed as waiting");
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
    assert!(!visitor.page().has("#accept-invitation"));
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
    assert!(invited.page().has("#accept-invitation"), "{}", invited.body);
    assert!(invited.body.contains("casey"));

    accept(&app, &avery, &token, &loop_path).await;
    let avery_id = app.user_id("avery").await;
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
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::peer_pair().for_user(&candidate).schedule(&app).await;

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
            assert_eq!(invitation_problem(&response.body).as_deref(), Some(message), "{case}: {}", response.body);
            assert!(!response.page().has("#accept-invitation"), "{case}");
        }
    }
    // The problem page is the same for a visitor who is not signed in.
    let visitor = app.get(&format!("/invite/{revoked}"), None).await;
    assert_eq!(visitor.status, StatusCode::GONE);
    assert!(invitation_problem(&visitor.body).is_some_and(|m| m.starts_with("This invitation was withdrawn")));

    let avery_id = app.user_id("avery").await;
    assert_eq!(interviewers(&app, &loop_path).await, vec![Some(avery_id), None], "no refused link took a round");
    assert_eq!(app.count("select count(*) from invitation_rounds where accepted_by is not null").await, 1);
}

#[tokio::test]
async fn an_invitation_to_several_rounds_gives_the_accepter_only_those_still_open() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("casey").await;
    let avery = app.sign_up("avery").await;
    let blake = app.sign_up("blake").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::peer_pair().for_user(&candidate).schedule(&app).await;
    let both = invite(&app, &candidate, &loop_path, &rounds).await;
    let first = invite(&app, &candidate, &loop_path, &rounds[..1]).await;
    accept(&app, &avery, &first, &loop_path).await;

    accept(&app, &blake, &both, &loop_path).await;
    let (avery_id, blake_id) = (app.user_id("avery").await, app.user_id("blake").await);
    assert_eq!(interviewers(&app, &loop_path).await, vec![Some(avery_id), Some(blake_id)], "round 1 stays avery's");
    let again = app.post_form(&format!("/invite/{both}"), &[], Some(&app.sign_up("sasha").await)).await;
    assert_eq!(again.status, StatusCode::GONE, "nothing is left to take");
    assert_eq!(interviewers(&app, &loop_path).await, vec![Some(avery_id), Some(blake_id)]);
}

#[tokio::test]
async fn an_invitation_naming_no_round_of_the_loop_is_refused() {
    let app = TestApp::new().await;
    let candidate = app.sign_up("casey").await;
    let ScheduledLoop { path: loop_path, .. } = LoopBuilder::peer_pair().for_user(&candidate).schedule(&app).await;
    let ScheduledLoop { rounds: other_rounds, .. } = LoopBuilder::peer_pair().for_user(&candidate).schedule(&app).await;
    let foreign = id_of(&other_rounds[0]).to_string();
    let response = app.post_form(&format!("{loop_path}/invitations"), &[("round", &foreign)], Some(&candidate)).await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST, "an invitation to a round of another loop");
    assert!(!response.body.contains("/invite/"), "no link that could never be used");
    assert_eq!(app.count("select count(*) from invitations").await, 0);
}
