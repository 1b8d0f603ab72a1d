//! Who may do what in a peer loop. Every page, action and live stream is
//! requested as a visitor, a stranger, an interviewer the candidate withdrew,
//! round 2's interviewer, round 1's interviewer and the candidate; each answer is held against the expected
//! status in the tables below, and against secrets planted in the loop
//! (canaries) that its reader must never get.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use uuid::Uuid;

use crate::support::live::LiveClient;
use crate::support::loops::{accept, invitation_of, invite, withdraw};
use crate::support::questions::{guidance_fragments, questions_of_round};
use crate::support::rounds::{
    code_version, end_round, note_version, save_note, save_scene, scene_version, scene_with_text, start_round,
    svg_with_text,
};
use crate::support::scorecards::{criteria_of_round, draft_form, post_assessment, set};
use crate::support::{LoopBuilder, PeerFixture, ScheduledLoop, TestApp, TestResponse, id_of};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    SignedOut,
    Stranger,
    /// Accepted round 2, wrote notes on it, and was withdrawn by the candidate.
    Withdrawn,
    /// Interviews round 2 only (accepted after the withdrawal).
    InterviewerB,
    /// Interviews round 1, the round the canaries are in.
    InterviewerA,
    Candidate,
}

use Role::*;

/// The tables' columns, and the order in which each row is requested (the
/// candidate last, so that their cancel comes after everyone else's try).
pub(crate) const ROLES: [Role; 6] = [SignedOut, Stranger, Withdrawn, InterviewerB, InterviewerA, Candidate];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// 200 (an event stream: 200 with a first timer event).
    Allow,
    /// 303 to somewhere other than the sign-in page: the action was done.
    Done,
    /// 303 to the sign-in page, coming back afterwards.
    SignIn,
    /// 403: a participant, but not allowed this.
    Forbid,
    /// 404: not theirs to know about.
    NotFound,
    /// 409: allowed in general, refused in this state (with a reason).
    Conflict,
}

use Expect::*;

#[derive(Debug, Clone, Copy)]
enum Call {
    Get,
    /// GET of a server-sent event stream, read until its first events.
    Events,
    /// GET of a call's event stream (quiet until a signal comes): its answer's head only.
    SignalEvents,
    Post(Form),
}

use Call::*;

#[derive(Debug, Clone, Copy)]
enum Form {
    /// `action=extend`, as the page's script sends it.
    Timer,
    /// The reader's own note again, at its current version (others: an intruder's text).
    Notes,
    /// The candidate's code again at its current version (others: an intruder's code).
    Code,
    /// The candidate's drawing again at its current version (others: an intruder's drawing).
    Scene,
    /// `hint_1_0=on`.
    Marks,
    /// `label=…`, a marker on the round's clock.
    Marker,
    /// A test run that stopped at the time limit, as the page's script reports it (JSON).
    Run,
    /// `position=1`.
    Swap,
    /// A call's `join` signal, as the round page's script sends it (JSON).
    Signal,
    /// The reader's own draft again, `intent=save` (others: an intruder's draft).
    Assessment,
    /// `round=<id>` of the round at this placeholder.
    Invite(&'static str),
    /// A new start time.
    Reschedule,
    Empty,
}

/// A request, where `{loop}`, `{r1}`, `{r2}`, `{loop2}`, `{loop2_r1}` and
/// `{loop2_invitation}` stand for the fixture's ids, and the expected answer
/// per role in [`ROLES`] order.
type Row = (Call, &'static str, [Expect; 6]);

/// Round 1 running, with drafts, notes and a scratchpad in it.
#[rustfmt::skip]
const WHILE_ROUND_1_RUNS: &[Row] = &[
    //                                    signed out stranger  withdrawn B (rnd 2)  A (rnd 1)  candidate
    (Get,    "{loop}",                   [SignIn,    NotFound, NotFound, Allow,     Allow,     Allow]),
    (Get,    "{loop}/calendar.ics",      [SignIn,    NotFound, NotFound, Allow,     Allow,     Allow]),
    (Get,    "{loop}/feedback",          [SignIn,    NotFound, NotFound, Allow,     Allow,     Allow]),
    (Get,    "{loop}/feedback.md",       [SignIn,    NotFound, NotFound, Allow,     Allow,     Allow]),
    (Get,    "{loop}/feedback.json",     [SignIn,    NotFound, NotFound, Allow,     Allow,     Allow]),
    (Get,    "{r1}",                     [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    (Get,    "{r1}/state",               [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    (Get,    "{r1}/assessment",          [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    (Get,    "{r1}/feedback",            [SignIn,    NotFound, NotFound, NotFound,  Allow,     Conflict]),
    (Events, "{r1}/events",              [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    (SignalEvents, "{r1}/call/events",     [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    (Get,    "{r2}",                     [SignIn,    NotFound, NotFound, Allow,     NotFound,  Allow]),
    (Events, "{r2}/events",              [SignIn,    NotFound, NotFound, Allow,     NotFound,  Allow]),
    // Round 2 has not started: its two people may already talk; the withdrawn interviewer may not.
    (SignalEvents, "{r2}/call/events",     [SignIn,    NotFound, NotFound, Allow,     NotFound,  Allow]),
    (Get,    "{r2}/state",               [SignIn,    NotFound, NotFound, Allow,     NotFound,  Allow]),
    (Get,    "{r2}/assessment",          [SignIn,    NotFound, NotFound, Allow,     NotFound,  Allow]),
    (Get,    "{r2}/feedback",            [SignIn,    NotFound, NotFound, Allow,     NotFound,  Conflict]),
    (Get,    "/history",                 [SignIn,    Allow,    Allow,    Allow,     Allow,     Allow]),
    (Get,    "/history/questions",       [SignIn,    Allow,    Allow,    Allow,     Allow,     Allow]),
    (Get,    "/account",                 [SignIn,    Allow,    Allow,    Allow,     Allow,     Allow]),
    // Each reader's download holds their own writing only: the canaries check it.
    (Get,    "/account/export.json",     [SignIn,    Allow,    Allow,    Allow,     Allow,     Allow]),
];

/// Actions, in this order (round 1 still running; loop 2 not started).
#[rustfmt::skip]
const ACTIONS: &[Row] = &[
    //                                                         signed out stranger  withdrawn B (rnd 2)  A (rnd 1)  candidate
    (Post(Form::Timer),             "{r1}/timer",              [SignIn,    NotFound, NotFound, NotFound,  Allow,     Forbid]),
    (Post(Form::Notes),             "{r1}/notes",              [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    (Post(Form::Code),              "{r1}/code",               [SignIn,    NotFound, NotFound, NotFound,  Forbid,    Allow]),
    (Post(Form::Scene),             "{r1}/scene",              [SignIn,    NotFound, NotFound, NotFound,  Forbid,    Allow]),
    (Post(Form::Marks),             "{r1}/marks",              [SignIn,    NotFound, NotFound, NotFound,  Allow,     Forbid]),
    (Post(Form::Marker),            "{r1}/markers",            [SignIn,    NotFound, NotFound, NotFound,  Allow,     Forbid]),
    (Post(Form::Run),               "{r1}/runs",               [SignIn,    NotFound, NotFound, NotFound,  Forbid,    Allow]),
    (Post(Form::Signal),            "{r1}/call/signals",       [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    (Post(Form::Signal),            "{r2}/call/signals",       [SignIn,    NotFound, NotFound, Allow,     NotFound,  Allow]),
    (Post(Form::Swap),              "{r1}/swap",               [SignIn,    NotFound, NotFound, NotFound,  Conflict,  Forbid]),
    (Post(Form::Swap),              "{r2}/swap",               [SignIn,    NotFound, NotFound, Done,      NotFound,  Forbid]),
    (Post(Form::Assessment),        "{r1}/assessment",         [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    (Post(Form::Invite("{r1}")),    "{loop}/invitations",      [SignIn,    NotFound, NotFound, Forbid,    Forbid,    Conflict]),
    (Post(Form::Reschedule),        "{loop}/reschedule",       [SignIn,    NotFound, NotFound, Forbid,    Forbid,    Conflict]),
    (Post(Form::Reschedule),        "{loop2}/reschedule",      [SignIn,    NotFound, NotFound, Forbid,    Forbid,    Done]),
    (Post(Form::Invite("{loop2_r1}")), "{loop2}/invitations",  [SignIn,    NotFound, NotFound, Forbid,    Forbid,    Conflict]),
    (Post(Form::Empty), "{loop2}/invitations/{loop2_invitation}/revoke", [SignIn, NotFound, NotFound, NotFound, NotFound, Done]),
    (Post(Form::Empty),             "{loop2}/cancel",          [SignIn,    NotFound, NotFound, Forbid,    Forbid,    Done]),
    (Post(Form::Empty),             "/account/sessions/others/end", [SignIn, Done,    Done,     Done,      Done,      Done]),
];

/// Round 1 ended by its interviewer; both scorecards still drafts.
#[rustfmt::skip]
const AFTER_ROUND_1_ENDS: &[Row] = &[
    //                                    signed out stranger  withdrawn B (rnd 2)  A (rnd 1)  candidate
    (Get,    "{loop}",                   [SignIn,    NotFound, NotFound, Allow,     Allow,     Allow]),
    (Get,    "{loop}/calendar.ics",      [SignIn,    NotFound, NotFound, Allow,     Allow,     Allow]),
    (Get,    "{loop}/feedback",          [SignIn,    NotFound, NotFound, Allow,     Allow,     Allow]),
    (Get,    "{loop}/feedback.md",       [SignIn,    NotFound, NotFound, Allow,     Allow,     Allow]),
    (Get,    "{loop}/feedback.json",     [SignIn,    NotFound, NotFound, Allow,     Allow,     Allow]),
    (Get,    "{r1}",                     [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    (Get,    "{r1}/state",               [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    (Get,    "{r1}/assessment",          [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    (Get,    "{r1}/feedback",            [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    (Events, "{r1}/events",              [SignIn,    NotFound, NotFound, NotFound,  Allow,     Allow]),
    // The call ends with the round: its two people are told so (409), anyone else learns nothing.
    (SignalEvents, "{r1}/call/events",     [SignIn,    NotFound, NotFound, NotFound,  Conflict,  Conflict]),
    (Post(Form::Signal), "{r1}/call/signals", [SignIn, NotFound, NotFound, NotFound,  Conflict,  Conflict]),
    (Get,    "{r2}",                     [SignIn,    NotFound, NotFound, Allow,     NotFound,  Allow]),
    (Events, "{r2}/events",              [SignIn,    NotFound, NotFound, Allow,     NotFound,  Allow]),
    (Get,    "/history",                 [SignIn,    Allow,    Allow,    Allow,     Allow,     Allow]),
    (Get,    "/history/questions",       [SignIn,    Allow,    Allow,    Allow,     Allow,     Allow]),
    (Get,    "/account",                 [SignIn,    Allow,    Allow,    Allow,     Allow,     Allow]),
    // Each reader's download holds their own writing only: the canaries check it.
    (Get,    "/account/export.json",     [SignIn,    Allow,    Allow,    Allow,     Allow,     Allow]),
];

/// A secret planted in the loop, and who may read it.
struct Canary {
    what: String,
    text: String,
    readers: &'static [Role],
}

/// What each participant wrote, so that their re-saves in [`ACTIONS`] keep it.
struct Writing {
    scratchpad: String,
    /// The text written on the candidate's whiteboard in round 1.
    drawing: String,
    private_a: String,
    draft_a: Vec<(String, String)>,
    draft_self: Vec<(String, String)>,
    intruder_draft: Vec<(String, String)>,
}

struct Matrix {
    app: TestApp,
    live: LiveClient,
    f: PeerFixture,
    loop2: String,
    loop2_rounds: Vec<String>,
    loop2_invitation: Uuid,
    withdrawn: String,
    writing: Writing,
    canaries: Vec<Canary>,
    /// Canaries some allowed reader was shown: proof that the checks look in the right places.
    seen: BTreeSet<String>,
    cells: usize,
    failures: Vec<String>,
}

fn unique(label: &str) -> String {
    format!("{label}{}", Uuid::new_v4().simple())
}

impl Matrix {
    async fn seed() -> Matrix {
        let app = TestApp::new().await;
        let live = LiveClient::new(&app);
        let candidate = app.sign_up("casey").await;
        let withdrawn = app.sign_up("wren").await;
        let ScheduledLoop { path: loop_path, rounds, .. } =
            LoopBuilder::peer_pair().for_user(&candidate).schedule(&app).await;
        // The first to take round 2 writes a note on it and is withdrawn; B takes it after.
        let token = invite(&app, &candidate, &loop_path, &rounds[1..]).await;
        accept(&app, &withdrawn, &token, &loop_path).await;
        let withdrawn_note = unique("withdrawnnote");
        let saved = save_note(&app, &withdrawn, &rounds[1], &format!("Before I left: {withdrawn_note}"), 0).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        withdraw(&app, &candidate, &loop_path, invitation_of(&app, &rounds[1]).await).await;
        let interviewer_a = app.sign_up("avery").await;
        let interviewer_b = app.sign_up("blake").await;
        let token = invite(&app, &candidate, &loop_path, &rounds[..1]).await;
        accept(&app, &interviewer_a, &token, &loop_path).await;
        let token_b = invite(&app, &candidate, &loop_path, &rounds[1..]).await;
        accept(&app, &interviewer_b, &token_b, &loop_path).await;
        let stranger = app.sign_up("sasha").await;
        let f = PeerFixture { candidate, interviewer_a, interviewer_b, stranger, loop_path, rounds, token };
        let (r1, r2) = (&f.rounds[0], &f.rounds[1]);
        // Round 1's question is runnable, so that its candidate may report test runs.
        sqlx::query(
            "update round_questions set question_id = (select id from questions where slug = 'coding-moving-average-stream')
             where round_id = $1 and position = 1",
        )
        .bind(id_of(r1))
        .execute(&app.db)
        .await
        .expect("round 1 takes a runnable question");
        start_round(&app, &f.interviewer_a, r1).await;

        let criteria = criteria_of_round(&app, r1).await;
        let scratch = unique("scratchcanary");
        let drawing = unique("drawingcanary");
        let private_a = unique("privatecanarya");
        let private_b = unique("privatecanaryb");
        let (a_summary, a_evidence) = (unique("draftsummarya"), unique("draftevidencea"));
        let (self_summary, self_evidence) = (unique("selfsummary"), unique("selfevidence"));
        let (a_integrity, self_integrity) = (unique("integritynotea"), unique("integritynoteself"));
        // Each draft raises an integrity concern with a note: sealed like the rest of its card.
        let with_concern = |mut form: Vec<(String, String)>, note: &str| {
            set(&mut form, "integrity", "disclosed_confidential");
            set(&mut form, "integrity_note", note);
            form
        };
        let writing = Writing {
            scratchpad: format!("My plan: {scratch}"),
            drawing: format!("Feature store {drawing}"),
            private_a: format!("Note to self: {private_a}"),
            draft_a: with_concern(draft_form(&criteria, &a_summary, &a_evidence), &a_integrity),
            draft_self: with_concern(draft_form(&criteria, &self_summary, &self_evidence), &self_integrity),
            intruder_draft: with_concern(
                draft_form(&criteria, "intruder summary", "intruder evidence"),
                "intruder integrity note",
            ),
        };
        for (cookie, round, text) in [
            (&f.candidate, r1, &writing.scratchpad),
            (&f.interviewer_a, r1, &writing.private_a),
            (&f.interviewer_b, r2, &format!("Round two: {private_b}")),
        ] {
            let saved = save_note(&app, cookie, round, text, 0).await;
            assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        }
        let text = &writing.drawing;
        let saved = save_scene(&app, &f.candidate, r1, &scene_with_text(text), &svg_with_text(text), 0).await;
        assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
        for (cookie, form) in [(&f.interviewer_a, &writing.draft_a), (&f.candidate, &writing.draft_self)] {
            let saved = post_assessment(&app, cookie, r1, form).await;
            assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
        }

        let only = |text: String, what: &str, readers: &'static [Role]| Canary { what: what.to_owned(), text, readers };
        let mut canaries = vec![
            only(withdrawn_note, "the withdrawn interviewer's note", &[]),
            only(scratch, "the candidate's scratchpad", &[Candidate, InterviewerA]),
            only(drawing, "the candidate's whiteboard", &[Candidate, InterviewerA]),
            only(private_a, "A's private notes", &[InterviewerA]),
            only(private_b, "B's private notes on round 2", &[InterviewerB]),
            only(a_summary, "A's draft scorecard summary", &[InterviewerA]),
            only(a_evidence, "A's draft scorecard evidence", &[InterviewerA]),
            only(self_summary, "the candidate's draft self-assessment summary", &[Candidate]),
            only(self_evidence, "the candidate's draft self-assessment evidence", &[Candidate]),
            only(a_integrity, "A's draft integrity note", &[InterviewerA]),
            only(self_integrity, "the candidate's draft integrity note", &[Candidate]),
        ];
        for question in questions_of_round(&app, r1).await {
            for (what, piece) in guidance_fragments(&question) {
                canaries.push(only(piece, &format!("round 1's {what}"), &[InterviewerA]));
            }
        }

        // A second loop, not started, for rescheduling, inviting, withdrawing and cancelling.
        let ScheduledLoop { path: loop2, rounds: loop2_rounds, .. } =
            LoopBuilder::peer_pair().for_user(&f.candidate).schedule(&app).await;
        let token = invite(&app, &f.candidate, &loop2, &loop2_rounds[..1]).await;
        // A second link for the same round stays unaccepted, to be withdrawn below.
        invite(&app, &f.candidate, &loop2, &loop2_rounds[..1]).await;
        accept(&app, &f.interviewer_a, &token, &loop2).await;
        let token = invite(&app, &f.candidate, &loop2, &loop2_rounds[1..]).await;
        accept(&app, &f.interviewer_b, &token, &loop2).await;
        let loop2_invitation = sqlx::query_scalar(
            "select i.id from invitations i where i.loop_id = $1
               and not exists (select 1 from invitation_rounds ir where ir.invitation_id = i.id and ir.accepted_by is not null)",
        )
        .bind(id_of(&loop2))
        .fetch_one(&app.db)
        .await
        .expect("the pending invitation");

        Matrix {
            app,
            live,
            f,
            loop2,
            loop2_rounds,
            loop2_invitation,
            withdrawn,
            writing,
            canaries,
            seen: BTreeSet::new(),
            cells: 0,
            failures: Vec::new(),
        }
    }

    fn cookie(&self, role: Role) -> Option<&str> {
        match role {
            SignedOut => None,
            Stranger => Some(&self.f.stranger),
            Withdrawn => Some(&self.withdrawn),
            InterviewerB => Some(&self.f.interviewer_b),
            InterviewerA => Some(&self.f.interviewer_a),
            Candidate => Some(&self.f.candidate),
        }
    }

    fn resolve(&self, pattern: &str) -> String {
        pattern
            .replace("{loop2_invitation}", &self.loop2_invitation.to_string())
            .replace("{loop2_r1}", &self.loop2_rounds[0])
            .replace("{loop2}", &self.loop2)
            .replace("{loop}", &self.f.loop_path)
            .replace("{r1}", &self.f.rounds[0])
            .replace("{r2}", &self.f.rounds[1])
    }

    async fn note_version(&self, round: &str, kind: &str) -> i32 {
        note_version(&self.app.db, id_of(round), kind).await
    }

    async fn request(&self, call: Call, path: &str, role: Role) -> TestResponse {
        let cookie = self.cookie(role);
        let app = &self.app;
        let form = match call {
            Get => return app.get(path, cookie).await,
            Events => return self.live.first_events(path, cookie).await,
            SignalEvents => return self.live.head_of(path, cookie).await,
            Post(form) => form,
        };
        let pairs: Vec<(String, String)> = match form {
            Form::Timer => vec![("action".into(), "extend".into())],
            Form::Notes => {
                let round = path.trim_end_matches("/notes");
                let (body, kind) = match role {
                    Candidate => (self.writing.scratchpad.clone(), "scratchpad"),
                    InterviewerA => (self.writing.private_a.clone(), "private"),
                    _ => ("intruder note".to_owned(), "private"),
                };
                let version =
                    if matches!(role, Candidate | InterviewerA) { self.note_version(round, kind).await } else { 0 };
                vec![("body".into(), body), ("base_version".into(), version.to_string())]
            }
            Form::Code => {
                let (body, version) = match role {
                    Candidate => (
                        "def solve():\n    return 1\n".to_owned(),
                        code_version(&app.db, id_of(path.trim_end_matches("/code"))).await,
                    ),
                    _ => ("intruder code".to_owned(), 0),
                };
                vec![
                    ("body".into(), body),
                    ("language".into(), "python".into()),
                    ("base_version".into(), version.to_string()),
                ]
            }
            Form::Scene => {
                let (text, version) = match role {
                    Candidate => (
                        self.writing.drawing.clone(),
                        scene_version(&app.db, id_of(path.trim_end_matches("/scene"))).await,
                    ),
                    _ => ("intruder drawing".to_owned(), 0),
                };
                vec![
                    ("scene".into(), scene_with_text(&text)),
                    ("svg".into(), svg_with_text(&text)),
                    ("base_version".into(), version.to_string()),
                ]
            }
            Form::Marks => vec![("hint_1_0".into(), "on".into())],
            Form::Marker => vec![("label".into(), "asked about complexity here".into())],
            Form::Run => {
                let run = serde_json::json!({"question_position": 1, "outcome": "timed_out", "code_version": 0,
                                             "duration_ms": 10000, "message": "Stopped", "results": []});
                return app.post_json_body(path, &run, cookie).await;
            }
            Form::Swap => vec![("position".into(), "1".into())],
            Form::Signal => {
                let signal = serde_json::json!({"kind": "join", "session": format!("matrix-{role:?}")});
                return app.post_json_body(path, &signal, cookie).await;
            }
            Form::Assessment => match role {
                Candidate => self.writing.draft_self.clone(),
                InterviewerA => self.writing.draft_a.clone(),
                _ => self.writing.intruder_draft.clone(),
            },
            Form::Invite(round) => vec![("round".into(), id_of(&self.resolve(round)).to_string())],
            Form::Reschedule => vec![
                ("starts_at".into(), "2027-02-02T09:00".into()),
                ("time_zone".into(), "Europe/Berlin".into()),
                ("break_minutes".into(), "5".into()),
            ],
            Form::Empty => Vec::new(),
        };
        let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let script = matches!(
            form,
            Form::Timer | Form::Notes | Form::Code | Form::Scene | Form::Marks | Form::Marker | Form::Assessment
        );
        if script { app.post_json(path, &pairs, cookie).await } else { app.post_form(path, &pairs, cookie).await }
    }

    /// Requests every row as every role and records what differs from the table.
    async fn check(&mut self, phase: &str, rows: &[Row]) {
        for (call, pattern, expected) in rows {
            let path = self.resolve(pattern);
            for (role, expect) in ROLES.into_iter().zip(*expected) {
                let response = self.request(*call, &path, role).await;
                self.cells += 1;
                let cell =
                    format!("[{phase}] {} {pattern} as {role:?}", if matches!(call, Post(_)) { "POST" } else { "GET" });
                if !answers_as(expect, *call, &response) {
                    self.failures.push(format!(
                        "{cell}: expected {expect:?}, got {} (location {:?}): {}",
                        response.status,
                        response.header("location"),
                        excerpt(&response.body)
                    ));
                }
                // Calendars fold long lines; unfold them so a canary cannot hide across a fold.
                let body = response.body.replace("\r\n ", "");
                for canary in &self.canaries {
                    if !body.contains(&canary.text) {
                        continue;
                    }
                    if canary.readers.contains(&role) {
                        self.seen.insert(canary.what.clone());
                    } else {
                        self.failures.push(format!("{cell}: LEAK of {} ({:?})", canary.what, canary.text));
                    }
                }
            }
        }
    }
}

fn answers_as(expect: Expect, call: Call, response: &TestResponse) -> bool {
    let location = response.header("location");
    match expect {
        Allow if matches!(call, SignalEvents) => {
            response.status == StatusCode::OK && response.header("content-type").starts_with("text/event-stream")
        }
        Allow if matches!(call, Events) => {
            response.status == StatusCode::OK
                && response.header("content-type").starts_with("text/event-stream")
                && response.body.contains("event: timer")
        }
        Allow => response.status == StatusCode::OK,
        Done => response.status == StatusCode::SEE_OTHER && !location.starts_with("/signin"),
        SignIn => response.status == StatusCode::SEE_OTHER && location.starts_with("/signin?next=%2F"),
        Forbid => response.status == StatusCode::FORBIDDEN,
        NotFound => response.status == StatusCode::NOT_FOUND,
        Conflict => response.status == StatusCode::CONFLICT,
    }
}

/// The start of an error page's message, for failure reports.
fn excerpt(body: &str) -> String {
    let text = body.find("<main").map_or(body, |at| &body[at..]);
    text.chars().take(300).collect()
}

#[tokio::test]
async fn every_page_action_and_stream_answers_each_role_as_the_matrix_says_and_leaks_nothing() {
    let mut matrix = Matrix::seed().await;
    matrix.check("round 1 running", WHILE_ROUND_1_RUNS).await;
    matrix.check("round 1 running", ACTIONS).await;
    end_round(&matrix.app, &matrix.f.interviewer_a, &matrix.f.rounds[0]).await;
    matrix.check("round 1 ended", AFTER_ROUND_1_ENDS).await;

    println!(
        "FIGURE access: {} cells checked ({} roles, a withdrawn interviewer among them), {} canaries, {} failures",
        matrix.cells,
        ROLES.len(),
        matrix.canaries.len(),
        matrix.failures.len()
    );
    assert!(matrix.cells >= 100, "only {} cells", matrix.cells);
    assert!(matrix.failures.is_empty(), "{} of {} cells failed:\n{}", matrix.failures.len(), matrix.cells, {
        matrix.failures.join("\n")
    });
    let unseen: Vec<&str> = matrix
        .canaries
        .iter()
        .filter(|c| !c.readers.is_empty() && !matrix.seen.contains(&c.what))
        .map(|c| c.what.as_str())
        .collect();
    assert!(unseen.is_empty(), "canaries no allowed reader was ever shown (the checks would miss them): {unseen:?}");

    // Refused writes left nothing behind, and the allowed ones kept each text as it was.
    let app = &matrix.app;
    assert_eq!(app.count("select count(*) from notes where body_md like '%intruder%'").await, 0);
    assert_eq!(app.count("select count(*) from round_code where body like '%intruder%'").await, 0);
    assert_eq!(app.count("select count(*) from round_scene where scene like '%intruder%'").await, 0);
    assert_eq!(app.count("select count(*) from scorecards where summary like '%intruder%'").await, 0);
    assert_eq!(app.count("select count(*) from scorecards where integrity_note like '%intruder%'").await, 0);
    assert_eq!(app.count("select count(*) from scorecards where status = 'submitted'").await, 0);
    let loop2: String = sqlx::query_scalar("select status from loops where id = $1")
        .bind(id_of(&matrix.loop2))
        .fetch_one(&app.db)
        .await
        .expect("loop 2");
    assert_eq!(loop2, "cancelled", "the candidate's cancel, the last cell, went through");
}
