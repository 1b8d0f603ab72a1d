//! Nothing leaks: unique canaries are planted in every private field of a
//! peer loop (notes, drafts, sealed and submitted scorecards, private
//! questions, invitation and calendar-feed tokens, passwords, session
//! cookies), then each role — withdrawn interviewers included — crawls every
//! page it can reach — pages, exports, calendars, the feed, live event
//! streams — at each stage of the loop (blind scoring both ways, a withdrawal
//! mid-loop), and no canary may turn up where the rules forbid it. A last test runs the real
//! server through such a session and finds none of them in its logs.
//!
//! `access_matrix` checks who may request what; this checks what each answer
//! carries, following every link, as the loop moves from drafts to release.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::time::Duration;

use axum::http::StatusCode;
use uuid::Uuid;

use crate::access_matrix::{ROLES, Role, Role::*};
use crate::support::live::{LiveClient, read_for};
use crate::support::loops::{accept, invitation_of, invite, withdraw};
use crate::support::questions::{guidance_fragments, questions_of_round};
use crate::support::rounds::{
    end_round, note_version, run_round, save_code, save_note, save_scene, scene_with_text, start_round, svg_with_text,
};
use crate::support::scorecards::{Criterion, criteria_of_round, draft_form, post_assessment, set};
use crate::support::server::{Server, ServerDatabase, free_port, header_value, http};
use crate::support::{LoopBuilder, ScheduledLoop, TestApp, TestDb, TestResponse, id_of};

fn unique(label: &str) -> String {
    format!("{label}{}", Uuid::new_v4().simple())
}

/// A secret planted in the app, and who may be shown it.
struct Canary {
    what: String,
    text: String,
    readers: Vec<Role>,
    /// Who may read it in the question bank, where that differs: the bank
    /// shows its questions' guidance to everyone signed in, except to a peer
    /// candidate while their round with the question has not ended.
    bank_readers: Option<Vec<Role>>,
}

/// The users of the loop, each with a unique password.
struct People {
    cookies: Vec<(Role, String)>,
    passwords: Vec<String>,
}

impl People {
    async fn sign_up(app: &TestApp) -> People {
        let mut people = People { cookies: Vec::new(), passwords: Vec::new() };
        for role in [Candidate, InterviewerA, InterviewerB, Stranger, Withdrawn] {
            let username = unique("user");
            let password = unique("passwordcanary");
            let response = app.post_sign_up(&username, &password, &password).await;
            assert_eq!(response.status, StatusCode::SEE_OTHER, "sign-up: {}", response.body);
            people.cookies.push((role, response.session_cookie().expect("a session cookie")));
            people.passwords.push(password);
        }
        people
    }

    fn cookie(&self, role: Role) -> Option<&str> {
        self.cookies.iter().find(|(r, _)| *r == role).map(|(_, cookie)| cookie.as_str())
    }
}

struct Crawl {
    app: TestApp,
    live: LiveClient,
    people: People,
    rounds: Vec<String>,
    canaries: Vec<Canary>,
    /// Pages requested by every role at every stage, besides the links found.
    seeds: Vec<String>,
    /// Secret addresses that act for their owner (the calendar feed): whoever
    /// requests one reads as that owner, since holding it is the credential.
    capabilities: Vec<(String, Role)>,
    seen: BTreeSet<String>,
    cells: usize,
    failures: Vec<String>,
}

/// A bound on one role's crawl at one stage, far above what the app has:
/// reaching it fails the test (a link loop, say), since the crawl would be incomplete.
const MAX_PAGES_PER_CRAWL: usize = 400;

impl Crawl {
    fn cookie(&self, role: Role) -> &str {
        self.people.cookie(role).expect("a signed-in role")
    }

    fn plant(&mut self, what: &str, text: String, readers: &[Role]) {
        self.canaries.push(Canary { what: what.to_owned(), text, readers: readers.to_vec(), bank_readers: None });
    }

    /// Plants the guidance of each question of `round`, labelled `<label>'s …`:
    /// `readers` see it in the loop, and everyone but the candidate in the bank.
    async fn plant_guidance(&mut self, round: &str, label: &str, readers: &[Role]) {
        for question in questions_of_round(&self.app, round).await {
            for (what, piece) in guidance_fragments(&question) {
                self.canaries.push(Canary {
                    what: format!("{label}'s {what}"),
                    text: piece,
                    readers: readers.to_vec(),
                    bank_readers: Some(vec![InterviewerA, InterviewerB, Stranger, Withdrawn]),
                });
            }
        }
    }

    /// Changes who may read the canaries whose label starts with `what` in the bank.
    fn allow_in_bank(&mut self, what: &str, readers: &[Role]) {
        let mut found = false;
        for canary in self.canaries.iter_mut().filter(|c| c.what.starts_with(what)) {
            canary.bank_readers = Some(readers.to_vec());
            found = true;
        }
        assert!(found, "no canary {what}");
    }

    /// Changes who may read the canaries whose label starts with `what`.
    fn allow(&mut self, what: &str, readers: &[Role]) {
        let mut found = false;
        for canary in self.canaries.iter_mut().filter(|c| c.what.starts_with(what)) {
            canary.readers = readers.to_vec();
            found = true;
        }
        assert!(found, "no canary {what}");
    }

    /// Holds one answer against every canary.
    fn inspect(&mut self, stage: &str, role: Role, path: &str, response: &TestResponse) {
        self.cells += 1;
        let reader = self.capabilities.iter().find(|(address, _)| path == address).map_or(role, |(_, owner)| *owner);
        if response.status.is_server_error() {
            self.failures.push(format!("[{stage}] GET {path} as {role:?}: {}", response.status));
        }
        // Calendars fold long lines; unfold them so a canary cannot hide across a fold.
        let text = format!("{}\n{}", response.header("location"), response.body.replace("\r\n ", ""));
        let in_bank = path.starts_with("/questions");
        for canary in &self.canaries {
            // A token in the URL asked for is the asker's already.
            if !text.contains(&canary.text) || path.contains(&canary.text) {
                continue;
            }
            let readers = canary.bank_readers.as_ref().filter(|_| in_bank).unwrap_or(&canary.readers);
            if readers.contains(&reader) {
                self.seen.insert(canary.what.clone());
            } else {
                self.failures.push(format!("[{stage}] GET {path} as {role:?}: LEAK of {}", canary.what));
            }
        }
    }

    /// Every role requests the seeds and follows each same-site link it is shown.
    async fn crawl_all(&mut self, stage: &str) {
        for role in ROLES {
            let cookie = self.people.cookie(role).map(str::to_owned);
            let mut queue: VecDeque<String> = self.seeds.iter().cloned().collect();
            let mut visited: HashSet<String> = HashSet::new();
            while let Some(path) = queue.pop_front() {
                if !visited.insert(path.clone()) {
                    continue;
                }
                let response = if path.ends_with("/events") {
                    self.live.first_events(&path, cookie.as_deref()).await
                } else {
                    self.app.get(&path, cookie.as_deref()).await
                };
                self.inspect(stage, role, &path, &response);
                if visited.len() >= MAX_PAGES_PER_CRAWL {
                    self.failures.push(format!("[{stage}] the crawl as {role:?} passed {MAX_PAGES_PER_CRAWL} pages"));
                    break;
                }
                for link in links(&response.body) {
                    if !visited.contains(&link) && worth_following(&link) {
                        queue.push_back(link);
                    }
                }
            }
        }
    }

    /// Live streams: every role subscribes to both rounds, then the
    /// participants write; each stream is read for a bounded time.
    async fn watch_live_writes(&mut self, stage: &str, writes: Vec<(Role, String, String)>) {
        let mut streams = Vec::new();
        for role in ROLES {
            for round in self.rounds.clone() {
                let response = self.live.open(&format!("{round}/events"), self.people.cookie(role)).await;
                streams.push((role, format!("{round}/events"), response));
            }
        }
        for (role, round, body) in writes {
            let kind = if role == Candidate { "scratchpad" } else { "private" };
            let version = self.note_version(&round, kind).await;
            let saved = save_note(&self.app, self.cookie(role), &round, &body, version).await;
            assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        }
        for (role, path, response) in streams {
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_for(&mut response.into_body(), Duration::from_millis(1500)).await;
            let response = TestResponse { status, headers, body };
            self.inspect(stage, role, &format!("{path} (live)"), &response);
        }
    }

    async fn note_version(&self, round: &str, kind: &str) -> i32 {
        note_version(&self.app.db, id_of(round), kind).await
    }

    /// Submits a scorecard with a canary in every text field, each labelled `<label> <field>`.
    async fn submit_card(&mut self, role: Role, round: &str, label: &str, readers: &[Role]) {
        let criteria = criteria_of_round(&self.app, round).await;
        let mut form = filled_card(&criteria);
        // Letters and digits only: HTML escapes an apostrophe, and the canary would hide in the pages.
        let word: String = label.chars().filter(char::is_ascii_alphanumeric).collect();
        for field in ["summary", "strengths", "areas_to_improve"] {
            let text = unique(&format!("{word}{field}"));
            set(&mut form, field, &text);
            self.plant(&format!("{label} {field}"), text, readers);
        }
        for criterion in &criteria {
            let text = unique(&format!("{word}evidence"));
            set(&mut form, &format!("evidence_{}", criterion.id), &text);
            self.plant(&format!("{label} evidence for {}", criterion.slug), text, readers);
        }
        let response = post_assessment(&self.app, self.cookie(role), round, &form).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "{label} is submitted: {}", response.body);
    }
}

fn filled_card(criteria: &[Criterion]) -> Vec<(String, String)> {
    let mut form: Vec<(String, String)> =
        criteria.iter().map(|c| (format!("score_{}", c.id), "3".to_owned())).collect();
    form.extend([("recommendation".to_owned(), "hire".to_owned()), ("intent".to_owned(), "submit".to_owned())]);
    form
}

/// The same-site paths a page links to (`href` and `src`), entity-decoded, without fragments.
fn links(body: &str) -> Vec<String> {
    let mut found = Vec::new();
    for attribute in ["href=\"", "src=\""] {
        for piece in body.split(attribute).skip(1) {
            let Some(end) = piece.find('"') else { continue };
            let link = piece[..end].replace("&amp;", "&").replace("&#x2F;", "/");
            let link = link.split('#').next().unwrap_or("").to_owned();
            if link.starts_with('/') && !link.starts_with("//") {
                found.push(link);
            }
        }
    }
    found
}

/// Skips assets and the bank's own pages (the seeds name every private one),
/// which would otherwise crowd out the loop's pages.
fn worth_following(link: &str) -> bool {
    !(link.starts_with("/static/") || link.starts_with("/questions") || link.starts_with("/rubrics/"))
}

/// A private question with a canary in every field, as `owner`; returns its path.
async fn private_question(crawl: &mut Crawl, owner: Role) -> String {
    let label = format!("{owner:?}'s private question");
    let word = |field: &str| unique(&format!("{}{field}", format!("{owner:?}").to_lowercase()));
    let (title, prompt, follow_up, hint, good) =
        (word("title"), word("prompt"), word("followup"), word("hint"), word("goodanswer"));
    let (topic, calibration) =
        (word("topic"), [word("calibrationone"), word("calibrationthree"), word("calibrationlevel")]);
    let follow_ups = format!("{follow_up}\nAnd then?");
    let form = [
        ("title", title.as_str()),
        ("kind", "ml_fundamentals"),
        ("difficulty", "2"),
        ("minutes", "20"),
        ("levels", "senior_staff"),
        ("tags", "leak-test"),
        ("prompt", prompt.as_str()),
        ("follow_ups", follow_ups.as_str()),
        ("hints", hint.as_str()),
        ("what_good_looks_like", good.as_str()),
        ("topic", topic.as_str()),
        ("calibration_1_2", calibration[0].as_str()),
        ("calibration_3_4", calibration[1].as_str()),
        ("calibration_level", calibration[2].as_str()),
    ];
    let response = crawl.app.post_form("/questions", &form, crawl.people.cookie(owner)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let [calibration_one, calibration_three, calibration_level] = calibration;
    for (field, text) in [
        ("title", title),
        ("prompt", prompt),
        ("follow-up", follow_up),
        ("hint", hint),
        ("good", good),
        ("topic", topic),
        ("calibration 1 vs 2", calibration_one),
        ("calibration 3 vs 4", calibration_three),
        ("calibration by level", calibration_level),
    ] {
        crawl.plant(&format!("{label}: {field}"), text, &[owner]);
    }
    response.header("location").to_owned()
}

#[tokio::test]
async fn no_role_is_ever_shown_a_secret_the_rules_keep_from_it() {
    let app = TestApp::new().await;
    let live = LiveClient::new(&app);
    let people = People::sign_up(&app).await;
    let candidate = people.cookie(Candidate).expect("candidate").to_owned();
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::peer_pair().for_user(&candidate).schedule(&app).await;
    // Round 1's first interviewer writes a note and is withdrawn before it starts; A takes it.
    let token_withdrawn = invite(&app, &candidate, &loop_path, &rounds[..1]).await;
    let withdrawn = people.cookie(Withdrawn).expect("the withdrawn interviewer").to_owned();
    accept(&app, &withdrawn, &token_withdrawn, &loop_path).await;
    let withdrawn_note = unique("withdrawnnote");
    let saved = save_note(&app, &withdrawn, &rounds[0], &format!("Before I left: {withdrawn_note}"), 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    withdraw(&app, &candidate, &loop_path, invitation_of(&app, &rounds[0]).await).await;
    let token_a = invite(&app, &candidate, &loop_path, &rounds[..1]).await;
    accept(&app, people.cookie(InterviewerA).expect("A"), &token_a, &loop_path).await;
    let token_b = invite(&app, &candidate, &loop_path, &rounds[1..]).await;
    accept(&app, people.cookie(InterviewerB).expect("B"), &token_b, &loop_path).await;
    // A second loop with a link nobody has accepted yet.
    let ScheduledLoop { path: loop2, rounds: loop2_rounds, .. } =
        LoopBuilder::peer_pair().for_user(&candidate).schedule(&app).await;
    let pending_token = invite(&app, &candidate, &loop2, &loop2_rounds).await;
    let feed = app.post_form("/calendar/feed", &[], Some(&candidate)).await;
    let feed_start = feed.body.find("/calendar/feed/").expect("the feed address is shown once");
    let feed_path = feed.body[feed_start..].split('"').next().expect("feed path").to_owned();

    let mut crawl = Crawl {
        app,
        live,
        people,
        rounds: rounds.clone(),
        canaries: Vec::new(),
        seeds: Vec::new(),
        capabilities: vec![(feed_path.clone(), Candidate)],
        seen: BTreeSet::new(),
        cells: 0,
        failures: Vec::new(),
    };
    let (r1, r2) = (rounds[0].clone(), rounds[1].clone());
    for (what, token) in [
        ("A's invitation token", &token_a),
        ("B's invitation token", &token_b),
        ("the withdrawn invitation's token", &token_withdrawn),
    ] {
        crawl.plant(what, token.clone(), &[]);
    }
    // Private notes: nobody reads them once their author is withdrawn.
    crawl.plant("the withdrawn interviewer's note", withdrawn_note, &[]);
    crawl.plant("the pending invitation token", pending_token.clone(), &[]);
    let feed_token = feed_path.trim_start_matches("/calendar/feed/").trim_end_matches(".ics").to_owned();
    crawl.plant("the calendar feed token", feed_token, &[]);
    for (index, password) in crawl.people.passwords.clone().into_iter().enumerate() {
        crawl.plant(&format!("password {index}"), password, &[]);
    }
    for (role, cookie) in crawl.people.cookies.clone() {
        let value = cookie.split_once('=').map(|(_, value)| value.to_owned()).expect("name=value");
        crawl.plant(&format!("{role:?}'s session cookie"), value, &[]);
    }
    // The loop's template is the candidate's own, named uniquely: participants see its name, no one else.
    let template_name: String =
        sqlx::query_scalar("select t.name from loops l join loop_templates t on t.id = l.template_id where l.id = $1")
            .bind(id_of(&loop_path))
            .fetch_one(&crawl.app.db)
            .await
            .expect("the loop's template");
    crawl.plant("the candidate's template name", template_name, &[Candidate, InterviewerA, InterviewerB]);
    // The stranger's own self-timed loop, with a scratchpad only they may read.
    let stranger = crawl.cookie(Stranger).to_owned();
    let ScheduledLoop { path: stranger_loop, rounds: stranger_rounds, .. } =
        LoopBuilder::self_timed("phone-screen").for_user(&stranger).schedule(&crawl.app).await;
    // Their own round may draw round 1's or 2's (public, bank) question; give it another, so that
    // seeing its hints in their own round is not mistaken for a leak from the candidate's loop.
    sqlx::query(
        "update round_questions set question_id = (
             select q.id from questions q where q.kind = (select kind from rounds where id = $1) and q.owner_id is null
               and q.id not in (select question_id from round_questions where round_id = any($2)) order by q.slug limit 1)
         where round_id = $1",
    )
    .bind(id_of(&stranger_rounds[0]))
    .bind(vec![id_of(&r1), id_of(&r2)])
    .execute(&crawl.app.db)
    .await
    .expect("a question unlike round 1's");
    start_round(&crawl.app, &stranger, &stranger_rounds[0]).await;
    let stranger_scratch = unique("strangerscratch");
    let saved = save_note(&crawl.app, &stranger, &stranger_rounds[0], &stranger_scratch, 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    crawl.plant("the stranger's own scratchpad", stranger_scratch, &[Stranger]);
    let mut question_pages = Vec::new();
    for owner in [Candidate, InterviewerA, InterviewerB, Stranger] {
        question_pages.push(private_question(&mut crawl, owner).await);
    }

    // Round 1 running: a scratchpad, private notes on both rounds, two drafts.
    start_round(&crawl.app, crawl.cookie(InterviewerA), &r1).await;
    let criteria = criteria_of_round(&crawl.app, &r1).await;
    let scratch = unique("scratchcanary");
    let private_a = unique("privatecanarya");
    let private_b = unique("privatecanaryb");
    for (role, round, text) in
        [(Candidate, &r1, &scratch), (InterviewerA, &r1, &private_a), (InterviewerB, &r2, &private_b)]
    {
        let saved = save_note(&crawl.app, crawl.cookie(role), round, &format!("Note: {text}"), 0).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    }
    crawl.plant("the scratchpad", scratch, &[Candidate, InterviewerA]);
    crawl.plant("A's private notes", private_a, &[InterviewerA]);
    crawl.plant("B's private notes", private_b, &[InterviewerB]);
    for (role, label) in [(InterviewerA, "A's draft"), (Candidate, "the self-assessment draft")] {
        let (summary, evidence) = (unique("draftsummary"), unique("draftevidence"));
        let saved =
            post_assessment(&crawl.app, crawl.cookie(role), &r1, &draft_form(&criteria, &summary, &evidence)).await;
        assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        crawl.plant(&format!("{label} summary"), summary, &[role]);
        crawl.plant(&format!("{label} evidence"), evidence, &[role]);
    }
    // Round 1's question is a runnable one: the candidate's code and a test run's
    // output are the candidate's work; the reference solution is the interviewer's
    // until the round ends.
    let runnable = "coding-moving-average-stream";
    sqlx::query(
        "update round_questions set question_id = (select id from questions where slug = $2)
         where round_id = $1 and position = 1",
    )
    .bind(id_of(&r1))
    .bind(runnable)
    .execute(&crawl.app.db)
    .await
    .expect("round 1 takes a runnable question");
    let reference = unique("referencecanary");
    sqlx::query("update questions set reference_solution = reference_solution || E'\\n# ' || $2 where slug = $1")
        .bind(runnable)
        .bind(&reference)
        .execute(&crawl.app.db)
        .await
        .expect("a canary in the reference solution");
    crawl.plant("round 1's reference solution", reference, &[InterviewerA]);
    let (code, output) = (unique("codecanary"), unique("runcanary"));
    let saved = save_code(&crawl.app, crawl.cookie(Candidate), &r1, &format!("# {code}\n"), "python", 0).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let cases: Vec<String> =
        sqlx::query_scalar("select jsonb_array_elements(tests->'tests')->>'name' from questions where slug = $1")
            .bind(runnable)
            .fetch_all(&crawl.app.db)
            .await
            .expect("the question's cases");
    let results: Vec<serde_json::Value> = cases
        .iter()
        .map(|name| serde_json::json!({"name": name, "call": "f()", "passed": false, "expected": "1", "got": "2", "stdout": output, "error": null}))
        .collect();
    let run = serde_json::json!({"question_position": 1, "outcome": "completed", "code_version": 1, "duration_ms": 3, "results": results});
    let kept = crawl.app.post_json_body(&format!("{r1}/runs"), &run, Some(crawl.cookie(Candidate))).await;
    assert_eq!(kept.status, StatusCode::OK, "{}", kept.body);
    crawl.plant("the candidate's code", code, &[Candidate, InterviewerA]);
    crawl.plant("the candidate's test output", output, &[Candidate, InterviewerA]);
    let drawing = unique("drawingcanary");
    let saved =
        save_scene(&crawl.app, crawl.cookie(Candidate), &r1, &scene_with_text(&drawing), &svg_with_text(&drawing), 0)
            .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    crawl.plant("the candidate's whiteboard", drawing, &[Candidate, InterviewerA]);
    crawl.plant_guidance(&r1, "round 1", &[InterviewerA]).await;
    crawl.plant_guidance(&r2, "round 2", &[InterviewerB]).await;

    let mut seeds: Vec<String> = [
        "/",
        "/history",
        "/history/questions",
        "/calendar",
        "/questions",
        "/questions/new",
        "/rubrics",
        "/templates",
        "/templates/new",
        "/loops/new",
        "/signin",
        "/signup",
    ]
    .map(str::to_owned)
    .to_vec();
    for base in [&loop_path, &loop2, &stranger_loop] {
        for suffix in ["", "/calendar.ics", "/feedback", "/feedback.md", "/feedback.json"] {
            seeds.push(format!("{base}{suffix}"));
        }
    }
    for round in rounds.iter().chain(&loop2_rounds).chain(&stranger_rounds) {
        for suffix in ["", "/state", "/assessment", "/feedback", "/events"] {
            seeds.push(format!("{round}{suffix}"));
        }
    }
    seeds.extend(question_pages.iter().flat_map(|page| [page.clone(), format!("{page}/edit")]));
    // The bank's pages of the loop's questions, where a peer candidate could look their hints up.
    let loop_questions: Vec<String> = sqlx::query_scalar(
        "select '/questions/' || q.slug from round_questions rq join questions q on q.id = rq.question_id
         where rq.round_id = any($1) order by rq.round_id, rq.position",
    )
    .bind(vec![id_of(&r1), id_of(&r2)])
    .fetch_all(&crawl.app.db)
    .await
    .expect("the loop's questions");
    seeds.extend(loop_questions);
    // Searching for another user's private words finds nothing.
    for canary in crawl.canaries.iter().filter(|c| c.what.contains("private question")) {
        seeds.push(format!("/questions?q={}", canary.text));
    }
    seeds.extend([feed_path.clone(), format!("/invite/{pending_token}")]);
    crawl.seeds = seeds;

    crawl.crawl_all("round 1 running, all drafts").await;
    let (live_scratch, live_private) = (unique("livescratch"), unique("liveprivate"));
    crawl
        .watch_live_writes(
            "round 1 running, live",
            vec![
                (Candidate, r1.clone(), format!("Later: {live_scratch}")),
                (InterviewerA, r1.clone(), format!("Later: {live_private}")),
            ],
        )
        .await;
    crawl.plant("the live scratchpad", live_scratch, &[Candidate, InterviewerA]);
    crawl.plant("A's live private notes", live_private, &[InterviewerA]);

    // The candidate submits: sealed from A until A submits too.
    end_round(&crawl.app, crawl.cookie(InterviewerA), &r1).await;
    crawl.allow("round 1's reference solution", &[InterviewerA, Candidate]);
    crawl.submit_card(Candidate, &r1, "the sealed self-assessment", &[Candidate]).await;
    crawl.allow_in_bank("round 1's", &[Candidate, InterviewerA, InterviewerB, Stranger, Withdrawn]);
    crawl.crawl_all("self-assessment sealed").await;

    // A submits: A's card goes to the candidate, the self-assessment to A; B has not scored.
    crawl.submit_card(InterviewerA, &r1, "A's scorecard", &[InterviewerA, Candidate]).await;
    crawl.allow("the sealed self-assessment", &[Candidate, InterviewerA]);
    crawl.crawl_all("round 1 scored, round 2 not").await;

    // B runs and scores round 2: now B reads the other interviewer's card (never round 1's
    // self-assessment), A reads B's, and the candidate not yet: they have not assessed round 2.
    run_round(&crawl.app, crawl.cookie(InterviewerB), &r2).await;
    crawl.submit_card(InterviewerB, &r2, "B's scorecard", &[InterviewerB, InterviewerA]).await;
    crawl.allow("A's scorecard", &[InterviewerA, Candidate, InterviewerB]);
    crawl.allow_in_bank("round 2's", &[Candidate, InterviewerA, InterviewerB, Stranger, Withdrawn]);
    crawl.crawl_all("round 2 scored by B, its self-assessment not yet").await;

    // The candidate assesses round 2: B's card opens to them, their own to B (and only to B).
    crawl.submit_card(Candidate, &r2, "round 2's self-assessment", &[Candidate, InterviewerB]).await;
    crawl.allow("B's scorecard", &[InterviewerB, Candidate, InterviewerA]);
    crawl.crawl_all("every scorecard in").await;

    // The candidate withdraws B: B reads nothing of the loop any more; B's card stays for the others.
    withdraw(&crawl.app, &candidate, &loop_path, invitation_of(&crawl.app, &r2).await).await;
    crawl.allow("B's private notes", &[]);
    crawl.allow("B's scorecard", &[Candidate, InterviewerA]);
    crawl.allow("A's scorecard", &[InterviewerA, Candidate]);
    crawl.allow("round 2's self-assessment", &[Candidate]);
    crawl.allow("the candidate's template name", &[Candidate, InterviewerA]);
    crawl.crawl_all("B withdrawn").await;

    let probed = crawl.canaries.len();
    println!("FIGURE leaks: {} cells crawled, {probed} canaries probed, {} leaks", crawl.cells, crawl.failures.len());
    assert!(crawl.failures.is_empty(), "{} failures:\n{}", crawl.failures.len(), crawl.failures.join("\n"));
    // A canary that no allowed reader was ever shown proves nothing: the crawl must reach where it lives.
    let unseen: Vec<&str> = crawl
        .canaries
        .iter()
        .filter(|c| !c.readers.is_empty() && !crawl.seen.contains(&c.what))
        .map(|c| c.what.as_str())
        .collect();
    assert!(unseen.is_empty(), "canaries no allowed reader was ever shown: {unseen:?}");
}

#[tokio::test]
async fn the_servers_logs_hold_no_password_cookie_token_or_private_text() {
    let db = TestDb::new().await;
    let url = db.url();
    let port = free_port();
    let log_path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("leaks-{}.log", Uuid::new_v4()));
    let server = Server::start_logging_to(ServerDatabase::Url(&url), port, &log_path, "trace");
    server.wait_ready().await;

    let mut secrets: Vec<(String, String)> = Vec::new();
    let candidate_name = unique("logname");
    let password = unique("logpassword");
    let wrong_password = unique("logwrongpassword");
    secrets.extend([
        ("a username".to_owned(), candidate_name.clone()),
        ("a password".to_owned(), password.clone()),
        ("a mistyped password".to_owned(), wrong_password.clone()),
    ]);
    let form = |pairs: &[(&str, &str)]| serde_urlencoded::to_string(pairs).expect("form");
    let post = |path: &str, cookie: &str| format!("POST {path} HTTP/1.1\r\nCookie: {cookie}\r\n");
    let get = |path: &str, cookie: &str| format!("GET {path} HTTP/1.1\r\nCookie: {cookie}\r\n");

    let refused = form(&[("username", &candidate_name), ("password", &password), ("password_confirm", "different")]);
    let refused = http(port, "POST /signup HTTP/1.1\r\n", &refused).await.expect("sign up refused");
    assert!(refused.starts_with("HTTP/1.1 422"), "{refused}");
    let body = form(&[("username", &candidate_name), ("password", &password), ("password_confirm", &password)]);
    let signed_up = http(port, "POST /signup HTTP/1.1\r\n", &body).await.expect("sign up");
    let first_cookie = cookie_of(&signed_up);
    let body = form(&[("username", &candidate_name), ("password", &wrong_password)]);
    let wrong = http(port, "POST /signin HTTP/1.1\r\n", &body).await.expect("wrong sign-in");
    assert!(!wrong.starts_with("HTTP/1.1 303"), "{wrong}");
    let body = form(&[("username", &candidate_name), ("password", &password)]);
    let cookie = cookie_of(&http(port, "POST /signin HTTP/1.1\r\n", &body).await.expect("sign in"));
    for cookie in [&first_cookie, &cookie] {
        secrets.push(("a session cookie".to_owned(), cookie.split_once('=').expect("name=value").1.to_owned()));
    }

    let body = "template=phone-screen&team=infra-data&level=junior_mid&mode=peer&starts_at=2027-12-01T09%3A30&time_zone=UTC&break_minutes=10";
    let created = http(port, &post("/loops", &cookie), body).await.expect("loop");
    let loop_path = header_value(&created, "location").expect("loop location").to_owned();
    let round = format!("/rounds/{}", ScheduledLoop::at(&db.pool, &loop_path).await.round_ids[0]);
    let invited = http(
        port,
        &post(&format!("{loop_path}/invitations"), &cookie),
        &form(&[("round", id_of(&round).to_string().as_str())]),
    )
    .await
    .expect("invitation");
    let token_start = invited.find("/invite/").expect("the link") + 8;
    let token: String = invited[token_start..].chars().take(43).collect();
    secrets.push(("an invitation token".to_owned(), token.clone()));

    let interviewer_name = unique("logpeer");
    let interviewer_password = unique("logpeerpassword");
    secrets.extend([
        ("a username".to_owned(), interviewer_name.clone()),
        ("a password".to_owned(), interviewer_password.clone()),
    ]);
    let body = form(&[
        ("username", &interviewer_name),
        ("password", &interviewer_password),
        ("password_confirm", &interviewer_password),
    ]);
    let peer = cookie_of(&http(port, "POST /signup HTTP/1.1\r\n", &body).await.expect("peer sign up"));
    secrets.push(("a session cookie".to_owned(), peer.split_once('=').expect("name=value").1.to_owned()));
    http(port, &get(&format!("/invite/{token}"), &peer), "").await.expect("open invitation");
    let accepted = http(port, &post(&format!("/invite/{token}"), &peer), "").await.expect("accept");
    assert!(accepted.starts_with("HTTP/1.1 303"), "{accepted}");
    let reused = http(port, &post(&format!("/invite/{token}"), &cookie), "").await.expect("reuse");
    assert!(!reused.starts_with("HTTP/1.1 303"), "{reused}");

    let json_post =
        |path: &str, cookie: &str| format!("POST {path} HTTP/1.1\r\nCookie: {cookie}\r\nAccept: application/json\r\n");
    http(port, &json_post(&format!("{round}/timer"), &peer), "action=start").await.expect("start");
    let (scratch, private, summary) = (unique("logscratch"), unique("logprivate"), unique("logsummary"));
    for (cookie, text) in [(&cookie, &scratch), (&peer, &private)] {
        let saved =
            http(port, &json_post(&format!("{round}/notes"), cookie), &form(&[("body", text), ("base_version", "0")]))
                .await
                .expect("note");
        assert!(saved.starts_with("HTTP/1.1 200"), "{saved}");
        // A stale save is answered with a conflict, which must not be logged with its text either.
        let stale =
            http(port, &json_post(&format!("{round}/notes"), cookie), &form(&[("body", text), ("base_version", "0")]))
                .await
                .expect("stale note");
        assert!(stale.starts_with("HTTP/1.1 409"), "{stale}");
    }
    let draft = form(&[("summary", &summary), ("intent", "save")]);
    http(port, &post(&format!("{round}/assessment"), &peer), &draft).await.expect("draft");
    secrets.extend([
        ("the scratchpad".to_owned(), scratch),
        ("private notes".to_owned(), private),
        ("a draft summary".to_owned(), summary),
    ]);
    let feed = http(port, &post("/calendar/feed", &cookie), "").await.expect("feed");
    let feed_start = feed.find("/calendar/feed/").expect("feed address") + "/calendar/feed/".len();
    let feed_token: String = feed[feed_start..].chars().take(43).collect();
    http(port, &get(&format!("/calendar/feed/{feed_token}.ics"), ""), "").await.expect("feed");
    secrets.push(("a calendar feed token".to_owned(), feed_token));
    for page in ["/history", "/calendar", &loop_path, &format!("{loop_path}/feedback.json"), "/no-such-page"] {
        http(port, &get(page, &cookie), "").await.expect("page");
    }
    http(port, &post("/signout", &cookie), "").await.expect("sign out");
    assert!(server.terminate().success(), "clean exit");

    let logs = std::fs::read_to_string(&log_path).expect("the captured logs");
    let _ = std::fs::remove_file(&log_path);
    let lines = logs.lines().count();
    assert!(lines >= 10, "the server logged its requests at trace level: {logs}");
    let found: Vec<&str> =
        secrets.iter().filter(|(_, s)| logs.contains(s.as_str())).map(|(what, _)| what.as_str()).collect();
    println!(
        "FIGURE logs: {lines} log lines at trace level, {} secrets probed (passwords, cookies, tokens, names, notes), {} found",
        secrets.len(),
        found.len()
    );
    let lines_with_secrets: Vec<&str> =
        logs.lines().filter(|line| secrets.iter().any(|(_, s)| line.contains(s.as_str()))).take(5).collect();
    assert!(found.is_empty(), "the logs hold {found:?}, e.g.:\n{}", lines_with_secrets.join("\n"));
}

fn cookie_of(response: &str) -> String {
    header_value(response, "set-cookie")
        .and_then(|c| c.split(';').next())
        .filter(|c| c.starts_with("mockloop_session=") && c.len() > "mockloop_session=".len())
        .unwrap_or_else(|| panic!("a session cookie: {response}"))
        .to_owned()
}
