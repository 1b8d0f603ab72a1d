//! Accounts people manage: the password, sessions, "download all my data",
//! deleting the account; the operator's `mockloop users …`; closed sign-up.

use axum::http::StatusCode;
use clap::Parser;
use mockloop::config::Cli;
use mockloop::domain::account::SignUp;
use mockloop::state::AppState;
use uuid::Uuid;

use crate::support::app::settings;
use crate::support::browser::{Browser, serve_app};
use crate::support::loops::{accept, invite};
use crate::support::rounds::{end_round, save_note, start_round};
use crate::support::scorecards::{criteria_of_round, draft_form, post_assessment, submit_card};
use crate::support::server::run_cli;
use crate::support::{
    LoopBuilder, PASSWORD, PeerFixture, ScheduledLoop, TestApp, TestDb, TestResponse, id_of, peer_loop,
};

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

async fn sign_in_as(app: &TestApp, username: &str, password: &str, user_agent: &str) -> TestResponse {
    app.post_form_with(
        "/signin",
        &[("username", username), ("password", password)],
        None,
        &[("sec-fetch-site", "same-origin"), ("user-agent", user_agent)],
    )
    .await
}

/// A second session of `username`, from Firefox.
async fn second_session(app: &TestApp, username: &str, password: &str) -> String {
    let response = sign_in_as(app, username, password, FIREFOX).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "signs in: {}", response.body);
    response.session_cookie().expect("a session cookie")
}

/// Whether `cookie` is still a signed-in session.
async fn signed_in(app: &TestApp, cookie: &str) -> bool {
    let response = app.get("/account", Some(cookie)).await;
    match response.status {
        StatusCode::OK => true,
        StatusCode::SEE_OTHER if response.header("location").starts_with("/signin") => false,
        other => panic!("GET /account answered {other}: {}", response.body),
    }
}

async fn change_password(app: &TestApp, cookie: &str, current: &str, new: &str, repeat: &str) -> TestResponse {
    app.post_form(
        "/account/password",
        &[("current_password", current), ("new_password", new), ("new_password_confirm", repeat)],
        Some(cookie),
    )
    .await
}

#[tokio::test]
async fn changing_the_password_ends_other_sessions_keeps_this_one_and_retires_the_old_password() {
    let app = TestApp::new().await;
    let here = app.sign_up("ada").await;
    let elsewhere = second_session(&app, "ada", PASSWORD).await;

    let response = change_password(&app, &here, PASSWORD, "a brand new secret", "a brand new secret").await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.header("location"), "/account?done=password");
    let rotated = response.session_cookie().expect("this session carries on under a new id");
    assert_ne!(rotated, here);

    assert!(signed_in(&app, &rotated).await, "this session stays signed in");
    assert!(!signed_in(&app, &elsewhere).await, "the other session is signed out");
    assert!(!signed_in(&app, &here).await, "the old id of this session no longer works");
    let page = app.get("/account?done=password", Some(&rotated)).await;
    assert!(page.body.contains("every other session is signed out"), "{}", page.body);
    let odd = app.get("/account?done=%3Cb%3E", Some(&rotated)).await;
    assert_eq!(odd.status, StatusCode::OK, "an unknown notice is ignored");
    assert!(!odd.page().has("#account-notice"));

    let old = sign_in_as(&app, "ada", PASSWORD, FIREFOX).await;
    assert_eq!(old.status, StatusCode::UNPROCESSABLE_ENTITY, "the old password stops working");
    let new = sign_in_as(&app, "ada", "a brand new secret", FIREFOX).await;
    assert_eq!(new.status, StatusCode::SEE_OTHER, "the new one works");
}

#[tokio::test]
async fn a_wrong_current_password_is_explained_at_its_field_and_changes_nothing() {
    let app = TestApp::new().await;
    let here = app.sign_up("grace").await;
    let elsewhere = second_session(&app, "grace", PASSWORD).await;
    let hash_before: String =
        sqlx::query_scalar("select password_hash from users").fetch_one(&app.db).await.expect("hash");

    let response = change_password(&app, &here, "not my password", "a brand new secret", "a brand new secret").await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.body.contains("That is not your current password. Nothing was changed."), "{}", response.body);
    let page = response.page();
    assert_eq!(page.attr("#current_password", "aria-invalid").as_deref(), Some("true"), "the field is marked invalid");
    assert_eq!(
        page.attr("#current_password", "aria-describedby").as_deref(),
        Some("current_password-error"),
        "the message is tied to its field"
    );
    assert_eq!(page.text_of("#current_password-error"), "That is not your current password. Nothing was changed.");
    assert!(!response.body.contains("a brand new secret"), "passwords are never echoed back");

    let mismatch = change_password(&app, &here, PASSWORD, "a brand new secret", "a brand new secreT").await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(mismatch.page().has("#new_password_confirm-error"), "{}", mismatch.body);
    assert_eq!(mismatch.page().attr("#new_password_confirm", "aria-invalid").as_deref(), Some("true"));

    let hash_after: String =
        sqlx::query_scalar("select password_hash from users").fetch_one(&app.db).await.expect("hash");
    assert_eq!(hash_before, hash_after, "the password is unchanged");
    assert!(signed_in(&app, &here).await && signed_in(&app, &elsewhere).await, "no session ended");
    assert_eq!(sign_in_as(&app, "grace", PASSWORD, FIREFOX).await.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_sessions_list_shows_each_session_and_ending_one_signs_only_it_out() {
    let app = TestApp::new().await;
    let here = app.sign_up("barbara").await;
    let firefox = second_session(&app, "barbara", PASSWORD).await;
    let stranger = app.sign_up("mallory").await;

    let response = app.get("/account", Some(&here)).await;
    assert_eq!(response.status, StatusCode::OK);
    let page = response.page();
    assert_eq!(page.count("tr[id^=session-]"), 2, "{}", response.body);
    assert_eq!(page.count("tr[id^=session-] #this-session"), 1, "one session is marked as this one");
    assert!(page.texts("tr[id^=session-]").iter().any(|row| row.contains("Firefox on Linux")), "{}", response.body);
    assert!(page.has("#end-other-sessions"));

    let firefox_id: Uuid = sqlx::query_scalar("select id from sessions where user_agent like '%Firefox%'")
        .fetch_one(&app.db)
        .await
        .expect("the Firefox session");
    let theirs = app.post_form(&format!("/account/sessions/{firefox_id}/end"), &[], Some(&stranger)).await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND, "nobody ends another account's session");
    assert!(signed_in(&app, &firefox).await);

    let ended = app.post_form(&format!("/account/sessions/{firefox_id}/end"), &[], Some(&here)).await;
    assert_eq!(ended.status, StatusCode::SEE_OTHER, "{}", ended.body);
    assert!(!signed_in(&app, &firefox).await, "the ended session is signed out");
    assert!(signed_in(&app, &here).await, "this one is not");

    let third = second_session(&app, "barbara", PASSWORD).await;
    let fourth = second_session(&app, "barbara", PASSWORD).await;
    let everywhere_else = app.post_form("/account/sessions/others/end", &[], Some(&here)).await;
    assert_eq!(everywhere_else.status, StatusCode::SEE_OTHER);
    assert!(!signed_in(&app, &third).await && !signed_in(&app, &fourth).await, "signed out everywhere else");
    assert!(signed_in(&app, &here).await && signed_in(&app, &stranger).await, "but here, and not other accounts");
    assert!(app.get("/account", Some(&here)).await.page().has("#no-other-sessions"));
}

/// A canary: text only one person wrote, to look for where it must not be.
fn canary(label: &str) -> String {
    format!("{label}{}", Uuid::new_v4().simple())
}

async fn export(app: &TestApp, cookie: &str) -> (TestResponse, serde_json::Value) {
    let response = app.get("/account/export.json", Some(cookie)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let json = serde_json::from_str(&response.body).expect("the export is JSON");
    (response, json)
}

/// Round 1 of the peer loop run and ended by interviewer A, with a note each
/// (the candidate's scratchpad, A's and B's private notes) and A's draft.
struct WrittenLoop {
    f: PeerFixture,
    scratchpad: String,
    private_a: String,
    private_b: String,
    draft_a: String,
}

async fn written_loop(app: &TestApp) -> WrittenLoop {
    let f = peer_loop(app).await;
    let (r1, r2) = (&f.rounds[0], &f.rounds[1]);
    start_round(app, &f.interviewer_a, r1).await;
    let (scratchpad, private_a, private_b, draft_a) =
        (canary("scratchcanary"), canary("privatecanarya"), canary("privatecanaryb"), canary("draftcanarya"));
    for (cookie, round, text) in
        [(&f.candidate, r1, &scratchpad), (&f.interviewer_a, r1, &private_a), (&f.interviewer_b, r2, &private_b)]
    {
        let saved = save_note(app, cookie, round, text, 0).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    }
    let criteria = criteria_of_round(app, r1).await;
    let draft = draft_form(&criteria, &draft_a, "draft evidence");
    let saved = post_assessment(app, &f.interviewer_a, r1, &draft).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    end_round(app, &f.interviewer_a, r1).await;
    WrittenLoop { f, scratchpad, private_a, private_b, draft_a }
}

#[tokio::test]
async fn the_export_holds_what_the_user_wrote_and_received_and_nobody_elses_private_writing() {
    let app = TestApp::new().await;
    let w = written_loop(&app).await;
    let r1 = &w.f.rounds[0];

    // Before anything is submitted: each gets their own writing, drafts included, and nobody else's.
    let (response, candidate) = export(&app, &w.f.candidate).await;
    assert!(response.header("content-disposition").starts_with("attachment; filename=\"mockloop-casey-"));
    assert_eq!(response.header("cache-control"), "no-store");
    assert_eq!(candidate["profile"]["username"], "casey");
    assert_eq!(candidate["loops"].as_array().map(Vec::len), Some(1));
    assert_eq!(candidate["loops"][0]["rounds"].as_array().map(Vec::len), Some(2));
    assert_eq!(candidate["loops"][0]["invitations"].as_array().map(Vec::len), Some(2));
    assert!(!candidate["templates"].as_array().expect("templates").is_empty(), "the candidate's own template");
    assert!(response.body.contains(&w.scratchpad));
    assert!(candidate["loops"][0]["rounds"][0]["questions"].is_array(), "round 1 has started");
    assert!(candidate["loops"][0]["rounds"][1]["questions"].is_null(), "round 2's questions are not revealed yet");
    for (secret, what) in
        [(&w.private_a, "A's private note"), (&w.private_b, "B's private note"), (&w.draft_a, "A's draft")]
    {
        assert!(!response.body.contains(secret.as_str()), "the candidate's export leaks {what}");
    }
    let (response, interviewer_a) = export(&app, &w.f.interviewer_a).await;
    assert!(response.body.contains(&w.private_a) && response.body.contains(&w.draft_a), "{}", response.body);
    assert_eq!(interviewer_a["interviews"][0]["scorecard"]["status"], "draft");
    for (secret, what) in [(&w.scratchpad, "the candidate's scratchpad"), (&w.private_b, "B's private note")] {
        assert!(!response.body.contains(secret.as_str()), "A's export leaks {what}");
    }

    // Submitted both ways, the interviewer's scorecard is the candidate's to read, so to download.
    let self_view = canary("selfcanary");
    submit_card(&app, &w.f.candidate, r1, &self_view, "hire").await;
    let verdict = canary("verdictcanary");
    submit_card(&app, &w.f.interviewer_a, r1, &verdict, "hire").await;
    let (response, candidate) = export(&app, &w.f.candidate).await;
    let round = &candidate["loops"][0]["rounds"][0];
    assert_eq!(round["self_assessment"]["summary"], self_view.as_str());
    assert_eq!(round["interviewer_scorecard"]["summary"], verdict.as_str(), "{round}");
    assert!(!response.body.contains(&w.private_a), "A's private note stays A's");
    let (response, _) = export(&app, &w.f.interviewer_a).await;
    assert!(response.body.contains(&verdict));
    assert!(!response.body.contains(&self_view), "the candidate's self-assessment is theirs, not A's download");
}

#[tokio::test]
async fn every_account_page_and_action_sends_a_visitor_to_sign_in() {
    let app = TestApp::new().await;
    let gets = ["/account", "/account/export.json"];
    let posts = ["/account/password", "/account/sessions/others/end", "/account/delete"];
    let session = format!("/account/sessions/{}/end", Uuid::new_v4());
    for (path, response) in ask_as_visitor(&app, &gets, &posts, &session).await {
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{path}");
        assert!(
            response.header("location").starts_with("/signin?next=%2Faccount"),
            "{path}: {}",
            response.header("location")
        );
    }
}

async fn ask_as_visitor(app: &TestApp, gets: &[&str], posts: &[&str], session: &str) -> Vec<(String, TestResponse)> {
    let mut answers = Vec::new();
    for path in gets {
        answers.push((path.to_string(), app.get(path, None).await));
    }
    for path in posts.iter().copied().chain([session]) {
        answers.push((path.to_owned(), app.post_form(path, &[("password", PASSWORD)], None).await));
    }
    answers
}

#[tokio::test]
async fn deleting_with_a_wrong_password_is_refused_and_deletes_nothing() {
    let app = TestApp::new().await;
    let cookie = app.sign_up("edsger").await;
    for (password, message) in
        [("wrong password", "That is not your password. Nothing was deleted."), ("", "Enter your password")]
    {
        let response = app.post_form("/account/delete", &[("password", password)], Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(response.body.contains(message), "{}", response.body);
        assert_eq!(response.page().attr("#password", "aria-describedby").as_deref(), Some("password-error"));
        assert!(response.page().text_of("#password-error").contains(message), "the message is at the field");
    }
    assert!(app.find_user("edsger").await.is_some());
    assert!(signed_in(&app, &cookie).await);
}

#[tokio::test]
async fn deleting_removes_the_users_data_and_keeps_their_submitted_scorecards_on_other_peoples_loops() {
    let app = TestApp::new().await;
    let w = written_loop(&app).await;
    let r1 = &w.f.rounds[0];
    let avery = app.find_user("avery").await.expect("avery");
    // Avery has their own loop as candidate, where casey interviews, and a submitted scorecard on casey's.
    let ScheduledLoop { path: own_loop, rounds: own_rounds, .. } =
        LoopBuilder::peer_pair().for_user(&w.f.interviewer_a).schedule(&app).await;
    let token = invite(&app, &w.f.interviewer_a, &own_loop, &own_rounds[..1]).await;
    accept(&app, &w.f.candidate, &token, &own_loop).await;
    let casey_note_on_avery = canary("caseynote");
    start_round(&app, &w.f.candidate, &own_rounds[0]).await;
    assert_eq!(save_note(&app, &w.f.candidate, &own_rounds[0], &casey_note_on_avery, 0).await.status, StatusCode::OK);
    submit_card(&app, &w.f.candidate, r1, "Casey's self-assessment.", "hire").await;
    let verdict = canary("verdictcanary");
    submit_card(&app, &w.f.interviewer_a, r1, &verdict, "hire").await;
    // And a round of Casey's second loop that Avery is interviewing right now, with a draft.
    let ScheduledLoop { path: second_loop, rounds: second_rounds, .. } =
        LoopBuilder::peer_pair().for_user(&w.f.candidate).schedule(&app).await;
    let token = invite(&app, &w.f.candidate, &second_loop, &second_rounds[..1]).await;
    accept(&app, &w.f.interviewer_a, &token, &second_loop).await;
    start_round(&app, &w.f.interviewer_a, &second_rounds[0]).await;
    let criteria = criteria_of_round(&app, &second_rounds[0]).await;
    let draft = draft_form(&criteria, &canary("unsubmitteddraft"), "evidence");
    let saved = post_assessment(&app, &w.f.interviewer_a, &second_rounds[0], &draft).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);

    let page = app.get("/account", Some(&w.f.interviewer_a)).await;
    assert!(page.body.contains("Your loops as candidate (1) are deleted"), "{}", page.body);
    assert!(page.body.contains("1 person who interviewed you"), "{}", page.body);
    assert!(page.body.contains("1 round you agreed to interview will have no interviewer"), "{}", page.body);
    assert!(
        page.body.contains("private notes on other people&#x27;s loops (2) are deleted")
            || page.body.contains("private notes on other people&#39;s loops (2) are deleted"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Scorecards you submitted on other people&#x27;s loops (1) stay on their record")
            || page.body.contains("Scorecards you submitted on other people&#39;s loops (1) stay on their record"),
        "{}",
        page.body
    );

    let response = app.post_form("/account/delete", &[("password", PASSWORD)], Some(&w.f.interviewer_a)).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert!(response.page().has("#account-deleted"));
    assert!(response.header("set-cookie").contains("Max-Age=0"), "the cookie is cleared");

    // Everything of Avery's is gone…
    assert!(app.find_user("avery").await.is_none());
    for (table, column) in [
        ("sessions", "user_id"),
        ("loops", "candidate_id"),
        ("loop_templates", "owner_id"),
        ("notes", "author_id"),
        ("scorecards", "author_id"),
        ("invitations", "created_by"),
    ] {
        let left: i64 = sqlx::query_scalar(&format!("select count(*) from {table} where {column} = $1"))
            .bind(avery)
            .fetch_one(&app.db)
            .await
            .expect("count");
        assert_eq!(left, 0, "{table} still holds rows of the deleted account");
    }
    assert_eq!(app.count("select count(*) from notes where body_md like '%privatecanarya%'").await, 0);
    assert_eq!(
        app.count("select count(*) from notes where body_md like '%caseynote%'").await,
        0,
        "avery's loop went whole"
    );
    assert_eq!(app.count("select count(*) from sign_in_attempts where username = 'avery'").await, 0);
    assert_eq!(app.count("select count(*) from scorecards where summary like 'unsubmitteddraft%'").await, 0);
    let left_open: Option<Uuid> = sqlx::query_scalar("select interviewer_id from rounds where id = $1")
        .bind(id_of(&second_rounds[0]))
        .fetch_one(&app.db)
        .await
        .expect("the round stays");
    assert_eq!(left_open, None, "the round Avery was interviewing has no interviewer now");
    assert!(!signed_in(&app, &w.f.interviewer_a).await);

    // …but the scorecard Avery submitted stays on Casey's record, without a name.
    let (author, summary): (Option<Uuid>, String) =
        sqlx::query_as("select author_id, summary from scorecards where round_id = $1 and role = 'interviewer'")
            .bind(id_of(r1))
            .fetch_one(&app.db)
            .await
            .expect("the interviewer's scorecard stays");
    assert_eq!((author, summary.as_str()), (None, verdict.as_str()));
    let feedback = app.get(&format!("{r1}/feedback"), Some(&w.f.candidate)).await;
    assert_eq!(feedback.status, StatusCode::OK);
    assert!(
        feedback.body.contains(&verdict) && feedback.body.contains("Interviewer (deleted account)"),
        "{}",
        feedback.body
    );
    let the_loop = app.get(&w.f.loop_path, Some(&w.f.candidate)).await;
    assert!(the_loop.body.contains("A deleted account"), "{}", the_loop.body);
    let (_, casey) = export(&app, &w.f.candidate).await;
    assert_eq!(casey["loops"][0]["rounds"][0]["interviewer_scorecard"]["summary"], verdict.as_str());
    assert!(
        casey["interviews"].as_array().expect("interviews").is_empty(),
        "casey's interview of avery went with avery's loop"
    );

    let spent = app.get(&format!("/invite/{}", w.f.token), Some(&w.f.stranger)).await;
    assert_eq!(spent.status, StatusCode::GONE, "the deleted interviewer's link does not open again: {}", spent.body);

    // The name is free again.
    app.sign_up("avery").await;
}

/// `mockloop <args>` on `db`: whether it succeeded, and its stdout and stderr.
fn mockloop(db: &TestDb, args: &[&str], stdin: &str) -> (bool, String, String) {
    let output = run_cli(db, args, stdin);
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_operator_lists_disables_resets_and_deletes_accounts_from_the_command_line() {
    let db = TestDb::new().await;
    let app = TestApp::on(db.pool.clone(), settings());
    let alice = app.sign_up("alice").await;
    app.sign_up("bob").await;

    let (ok, out, err) = mockloop(&db, &["users", "list"], "");
    assert!(ok, "{err}");
    assert!(out.lines().any(|l| l.starts_with("alice") && l.contains("active")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("bob")), "{out}");

    let (ok, out, err) = mockloop(&db, &["users", "disable", "alice"], "");
    assert!(ok, "{err}");
    assert!(out.contains("disabled alice; ended 1 session(s)"), "{out}");
    assert!(!signed_in(&app, &alice).await, "disabling ends the sessions");
    let refused = sign_in_as(&app, "alice", PASSWORD, FIREFOX).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("This account is disabled."), "{}", refused.body);
    let wrong = sign_in_as(&app, "alice", "not the password", FIREFOX).await;
    assert!(!wrong.body.contains("disabled"), "only the right password learns the account is disabled");
    let (_, out, _) = mockloop(&db, &["users", "list"], "");
    assert!(out.lines().any(|l| l.starts_with("alice") && l.contains("disabled")), "{out}");
    let (ok, out, err) = mockloop(&db, &["users", "enable", "alice"], "");
    assert!(ok && out.contains("enabled alice"), "{out}{err}");
    let alice = second_session(&app, "alice", PASSWORD).await;

    let (ok, out, err) = mockloop(&db, &["users", "reset-password", "alice"], "a fresh passphrase\n");
    assert!(ok, "{err}");
    assert!(out.contains("ended 1 session(s)") && !out.contains("a fresh passphrase"), "{out}");
    assert!(!signed_in(&app, &alice).await, "a reset signs the account out everywhere");
    assert_eq!(sign_in_as(&app, "alice", PASSWORD, FIREFOX).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(sign_in_as(&app, "alice", "a fresh passphrase", FIREFOX).await.status, StatusCode::SEE_OTHER);

    let (ok, _, err) = mockloop(&db, &["users", "reset-password", "alice"], "short\n");
    assert!(!ok && err.contains("Use at least 8 characters."), "{err}");
    let (ok, _, err) = mockloop(&db, &["users", "reset-password", "alice"], "");
    assert!(!ok && err.contains("no password on stdin"), "{err}");
    let (ok, _, err) = mockloop(&db, &["users", "reset-password", "nobody"], "whatever123\n");
    assert!(!ok && err.contains("no account named"), "{err}");

    let (ok, out, err) = mockloop(&db, &["users", "reset-password", "bob", "--generate"], "");
    assert!(ok, "{err}");
    let generated = out
        .lines()
        .find_map(|line| line.strip_prefix("new password for bob (shown only now): "))
        .expect("the generated password is printed once")
        .to_owned();
    assert_eq!(generated.len(), 24);
    assert_eq!(sign_in_as(&app, "bob", &generated, FIREFOX).await.status, StatusCode::SEE_OTHER);

    let (ok, out, err) = mockloop(&db, &["users", "create", "carol", "--display-name", "Carol S"], "carols password\n");
    assert!(ok && out.contains("created carol"), "{out}{err}");
    assert_eq!(sign_in_as(&app, "carol", "carols password", FIREFOX).await.status, StatusCode::SEE_OTHER);

    let (ok, _, err) = mockloop(&db, &["users", "delete", "bob"], "");
    assert!(!ok && err.contains("add --yes"), "{err}");
    assert!(err.contains("Scorecards you submitted on other people's loops (0) stay on their record"), "{err}");
    assert!(app.find_user("bob").await.is_some(), "nothing is deleted without --yes");
    let (ok, out, err) = mockloop(&db, &["users", "delete", "bob", "--yes"], "");
    assert!(ok && out.contains("deleted bob"), "{out}{err}");
    assert!(app.find_user("bob").await.is_none());
    assert_eq!(app.count("select count(*) from sessions").await, 2, "alice's and carol's sessions are left");
}

#[test]
fn sign_up_is_a_setting_with_two_values() {
    let parse = |args: &[&str]| Cli::try_parse_from(args.iter().copied()).map(|cli| cli.serve.sign_up);
    assert_eq!(parse(&["mockloop"]).ok(), Some(SignUp::Open));
    assert_eq!(parse(&["mockloop", "--sign-up", "closed"]).ok(), Some(SignUp::Closed));
    assert_eq!(parse(&["mockloop", "users", "list", "--sign-up", "open"]).ok(), Some(SignUp::Open));
    assert!(parse(&["mockloop", "--sign-up", "invite-only"]).is_err());
}

#[tokio::test]
async fn closed_sign_up_refuses_newcomers_but_lets_an_invited_peer_in() {
    let db = TestDb::new().await;
    let open = TestApp::on(db.pool.clone(), settings());
    let candidate = open.sign_up("casey").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::peer_pair().for_user(&candidate).schedule(&open).await;
    let token = invite(&open, &candidate, &loop_path, &rounds[..1]).await;
    let closed = TestApp::with_state(AppState::new(db.pool.clone(), settings()).with_sign_up(SignUp::Closed));
    let users_before = closed.count("select count(*) from users").await;

    let page = closed.get("/signup", None).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.page().has("#sign-up-closed") && !page.page().has("#sign-up-submit"), "{}", page.body);
    let form = [("username", "newcomer"), ("password", PASSWORD), ("password_confirm", PASSWORD)];
    let refused = closed.post_form("/signup", &form, None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(refused.body.contains("Sign-up is closed"), "{}", refused.body);
    let forged = format!("/invite/{}", "A".repeat(43));
    let refused = closed.post_form("/signup", &[form[0], form[1], form[2], ("next", forged.as_str())], None).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "a made-up invitation opens nothing");
    assert_eq!(closed.count("select count(*) from users").await, users_before);

    let next = format!("/invite/{token}");
    let page = closed.get(&format!("/signup?next={}", next.replace('/', "%2F")), None).await;
    assert!(page.page().has("#sign-up-submit"), "the invitee gets the form: {}", page.body);
    let invited = closed.post_form("/signup", &[form[0], form[1], form[2], ("next", next.as_str())], None).await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    assert_eq!(invited.header("location"), next);
    let cookie = invited.session_cookie().expect("signed in");
    accept(&closed, &cookie, &token, &loop_path).await;

    // Once the link is used up, it opens sign-up no more.
    let again = closed
        .post_form("/signup", &[("username", "latecomer"), form[1], form[2], ("next", next.as_str())], None)
        .await;
    assert_eq!(again.status, StatusCode::FORBIDDEN);
}

/// Types `text` into whatever has the keyboard focus, as a keyboard would.
async fn type_keys(browser: &Browser, text: &str) {
    let focused = browser.client.active_element().await.expect("a focused element");
    focused.send_keys(text).await.expect("typing");
}

#[tokio::test]
async fn the_account_page_works_from_the_keyboard_and_labels_every_control() {
    use fantoccini::key::Key;
    let (base, _db) = serve_app().await;
    let browser = Browser::launch().await;
    let c = &browser.client;
    browser.sign_up(&base, "keyboard").await;
    browser.click("#nav-account").await;
    assert_eq!(browser.text("#account-username").await, "keyboard");

    // Every control has a name a screen reader can say.
    let unnamed: Vec<String> = serde_json::from_value(
        c.execute(
            "return [...document.querySelectorAll('main input:not([type=hidden]), main button, main a')]
               .filter(e => !(e.labels && e.labels.length) && !e.textContent.trim() && !e.getAttribute('aria-label'))
               .map(e => e.outerHTML);",
            vec![],
        )
        .await
        .expect("script runs"),
    )
    .expect("a list");
    assert!(unnamed.is_empty(), "controls without a name: {unnamed:?}");

    // Field to field with Tab, sent with Enter: a wrong current password is named at its field.
    c.find(fantoccini::Locator::Css("#current_password")).await.expect("field").click().await.expect("focus");
    type_keys(&browser, &format!("not it{}", Key::Tab)).await;
    type_keys(&browser, &format!("keyboard only pass{}", Key::Tab)).await;
    type_keys(&browser, &format!("keyboard only pass{}", Key::Enter)).await;
    assert_eq!(
        browser.text("#current_password-error").await,
        "That is not your current password. Nothing was changed."
    );
    let invalid = c.find(fantoccini::Locator::Css("#current_password")).await.expect("field");
    assert_eq!(invalid.attr("aria-invalid").await.expect("attribute").as_deref(), Some("true"));

    invalid.click().await.expect("focus");
    type_keys(&browser, &format!("{PASSWORD}{}", Key::Tab)).await;
    type_keys(&browser, &format!("keyboard only pass{}", Key::Tab)).await;
    type_keys(&browser, &format!("keyboard only pass{}", Key::Enter)).await;
    assert!(browser.text("#account-notice").await.contains("Your password is changed"));
    assert_eq!(browser.text("#this-session").await, "This session", "still signed in, in this session");
    browser.close().await;
}
