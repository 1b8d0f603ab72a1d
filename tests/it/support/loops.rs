//! Loops as tests need them, scheduled through the same form a user sends:
//! [`LoopBuilder`] (in the style of crates.io's `CrateBuilder`), peer
//! invitations, and [`peer_loop`], the two-interviewer peer loop most peer
//! tests start from.
//!
//! ```ignore
//! let cookie = app.sign_up("casey").await;
//! let scheduled = LoopBuilder::self_timed("phone-screen").for_user(&cookie).started(&app).await;
//! let interviewer = app.sign_up("avery").await;
//! let peer = LoopBuilder::peer_pair().for_user(&cookie).interviewed_by(&[&interviewer]).schedule(&app).await;
//! ```

use axum::http::StatusCode;
use sqlx::PgPool;
use uuid::Uuid;

use super::app::TestApp;
use super::rounds::start_round;
use super::server::{Reply, form, send};

/// The id at the end of a path such as `/loops/<id>` or `/rounds/<id>`.
pub fn id_of(path: &str) -> Uuid {
    path.rsplit('/').next().and_then(|id| id.parse().ok()).unwrap_or_else(|| panic!("no id at the end of {path}"))
}

/// Which template a loop is scheduled from.
#[derive(Clone, Debug)]
enum Template {
    /// A shipped (or already saved) template, by slug.
    Slug(String),
    /// A private template of two 45-minute rounds, coding then ML fundamentals,
    /// saved for the scheduling user first.
    TwoRounds,
}

/// A loop to schedule: the fields of the schedule form, the user who sends
/// it, and the peers to invite (round `i` to `interviewers[i]`).
#[derive(Clone, Debug)]
pub struct LoopBuilder {
    template: Template,
    team: String,
    level: String,
    mode: &'static str,
    starts_at: String,
    time_zone: String,
    break_minutes: String,
    request_key: String,
    cookie: Option<String>,
    interviewers: Vec<String>,
}

/// A scheduled loop: its path and id, and its rounds' paths and ids in order.
#[derive(Clone, Debug)]
pub struct ScheduledLoop {
    pub path: String,
    pub id: Uuid,
    pub rounds: Vec<String>,
    pub round_ids: Vec<Uuid>,
}

impl LoopBuilder {
    /// A self-timed loop of `template` for a Senior/Staff GenAI candidate on
    /// 1 Dec 2026, 09:30 in Berlin, with 10-minute breaks.
    pub fn self_timed(template: &str) -> LoopBuilder {
        LoopBuilder {
            template: Template::Slug(template.to_owned()),
            team: "genai-llm".into(),
            level: "senior_staff".into(),
            mode: "self_timed",
            starts_at: "2026-12-01T09:30".into(),
            time_zone: "Europe/Berlin".into(),
            break_minutes: "10".into(),
            request_key: Uuid::new_v4().to_string(),
            cookie: None,
            interviewers: Vec::new(),
        }
    }

    /// A peer loop of `template`, otherwise as [`LoopBuilder::self_timed`].
    pub fn peer(template: &str) -> LoopBuilder {
        LoopBuilder { mode: "peer", ..Self::self_timed(template) }
    }

    /// A peer loop of two rounds (coding, then ML fundamentals) from a private
    /// template saved for the candidate, on 12 Jan 2027, 10:00 in Berlin.
    pub fn peer_pair() -> LoopBuilder {
        LoopBuilder { template: Template::TwoRounds, starts_at: "2027-01-12T10:00".into(), ..Self::peer("") }
    }

    pub fn team(mut self, team: &str) -> Self {
        self.team = team.to_owned();
        self
    }

    pub fn level(mut self, level: &str) -> Self {
        self.level = level.to_owned();
        self
    }

    /// The start, as the form's `datetime-local` field sends it.
    pub fn starts_at(mut self, starts_at: &str) -> Self {
        self.starts_at = starts_at.to_owned();
        self
    }

    pub fn time_zone(mut self, time_zone: &str) -> Self {
        self.time_zone = time_zone.to_owned();
        self
    }

    pub fn break_minutes(mut self, minutes: &str) -> Self {
        self.break_minutes = minutes.to_owned();
        self
    }

    /// The form's idempotency key (a fresh one by default).
    pub fn request_key(mut self, key: &str) -> Self {
        self.request_key = key.to_owned();
        self
    }

    /// The signed-in user (session cookie) who schedules the loop.
    pub fn for_user(mut self, cookie: &str) -> Self {
        self.cookie = Some(cookie.to_owned());
        self
    }

    /// Peers who interview it, round `i` by `interviewers[i]`: the candidate
    /// invites each to their round and each accepts.
    pub fn interviewed_by(mut self, interviewers: &[&String]) -> Self {
        self.interviewers = interviewers.iter().map(|cookie| (*cookie).clone()).collect();
        self
    }

    /// The schedule form as the page sends it (for a template given by slug).
    pub fn form(&self) -> Vec<(&'static str, &str)> {
        let Template::Slug(template) = &self.template else { panic!("a two-round template is saved when scheduled") };
        self.form_for(template)
    }

    fn form_for<'a>(&'a self, template: &'a str) -> Vec<(&'static str, &'a str)> {
        vec![
            ("template", template),
            ("team", &self.team),
            ("level", &self.level),
            ("mode", self.mode),
            ("starts_at", &self.starts_at),
            ("time_zone", &self.time_zone),
            ("break_minutes", &self.break_minutes),
            ("request_key", &self.request_key),
        ]
    }

    fn cookie(&self) -> &str {
        self.cookie.as_deref().expect("LoopBuilder::for_user names who schedules the loop")
    }

    /// Schedules the loop on the test app, with its invitations accepted.
    pub async fn schedule(self, app: &TestApp) -> ScheduledLoop {
        let cookie = self.cookie();
        let template = match &self.template {
            Template::Slug(slug) => slug.clone(),
            Template::TwoRounds => two_round_template(app, cookie).await,
        };
        let response = app.post_form("/loops", &self.form_for(&template), Some(cookie)).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "the loop is scheduled: {}", response.body);
        let scheduled = ScheduledLoop::at(&app.db, response.header("location")).await;
        if matches!(self.template, Template::TwoRounds) {
            assert_eq!(scheduled.rounds.len(), 2);
        }
        for (round, interviewer) in scheduled.rounds.iter().zip(&self.interviewers) {
            let token = invite(app, cookie, &scheduled.path, std::slice::from_ref(round)).await;
            accept(app, interviewer, &token, &scheduled.path).await;
        }
        scheduled
    }

    /// Schedules the loop and starts its first round (as its interviewer, if it has one).
    pub async fn started(self, app: &TestApp) -> ScheduledLoop {
        let starter = self.interviewers.first().cloned().unwrap_or_else(|| self.cookie().to_owned());
        let scheduled = self.schedule(app).await;
        start_round(app, &starter, &scheduled.rounds[0]).await;
        scheduled
    }

    /// Schedules the loop on a served app (the binary on `port`) over HTTP;
    /// `db` is its database, for the rounds' ids.
    pub async fn schedule_on(self, port: u16, db: &PgPool) -> ScheduledLoop {
        let Template::Slug(template) = &self.template else { panic!("a served loop uses a saved template") };
        let body = form(&self.form_for(template));
        let created: Reply = send(port, "POST", "/loops", Some(self.cookie()), &[], &body).await.expect("schedule");
        assert_eq!(created.status, 303, "the loop is scheduled: {}", created.body);
        ScheduledLoop::at(db, created.header("location").expect("loop location")).await
    }
}

impl ScheduledLoop {
    /// The loop at `path`, with its rounds read from the database.
    pub async fn at(db: &PgPool, path: &str) -> ScheduledLoop {
        let id = id_of(path);
        let round_ids: Vec<Uuid> = sqlx::query_scalar("select id from rounds where loop_id = $1 order by position")
            .bind(id)
            .fetch_all(db)
            .await
            .expect("rounds");
        let rounds = round_ids.iter().map(|id| format!("/rounds/{id}")).collect();
        ScheduledLoop { path: path.to_owned(), id, rounds, round_ids }
    }
}

/// Saves a private two-round template (coding, then ML fundamentals) for the
/// signed-in user and returns its slug.
async fn two_round_template(app: &TestApp, cookie: &str) -> String {
    let name = format!("Peer pair {}", Uuid::new_v4().simple());
    let form = [
        ("name", name.as_str()),
        ("description", "Two rounds for peer tests."),
        ("team", ""),
        ("kind_0", "coding"),
        ("title_0", "Coding & algorithms"),
        ("minutes_0", "45"),
        ("questions_0", "1"),
        ("kind_1", "ml_fundamentals"),
        ("title_1", "ML fundamentals"),
        ("minutes_1", "45"),
        ("questions_1", "1"),
        ("op", "save"),
    ];
    let response = app.post_form("/templates/new", &form, Some(cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the template is saved: {}", response.body);
    sqlx::query_scalar("select slug from loop_templates where name = $1")
        .bind(&name)
        .fetch_one(&app.db)
        .await
        .expect("template slug")
}

/// A two-round peer loop: `interviewer_a` accepted an invitation to round 1
/// (`token`), `interviewer_b` one to round 2; `stranger` takes no part. The
/// users are casey, avery, blake and sasha.
pub struct PeerFixture {
    pub candidate: String,
    pub interviewer_a: String,
    pub interviewer_b: String,
    pub stranger: String,
    pub loop_path: String,
    pub rounds: Vec<String>,
    pub token: String,
}

/// Signs up the four people of a [`PeerFixture`] and schedules their loop.
pub async fn peer_loop(app: &TestApp) -> PeerFixture {
    let candidate = app.sign_up("casey").await;
    let interviewer_a = app.sign_up("avery").await;
    let interviewer_b = app.sign_up("blake").await;
    let stranger = app.sign_up("sasha").await;
    let ScheduledLoop { path: loop_path, rounds, .. } =
        LoopBuilder::peer_pair().for_user(&candidate).schedule(app).await;
    let token = invite(app, &candidate, &loop_path, &rounds[..1]).await;
    accept(app, &interviewer_a, &token, &loop_path).await;
    let token_b = invite(app, &candidate, &loop_path, &rounds[1..2]).await;
    accept(app, &interviewer_b, &token_b, &loop_path).await;
    PeerFixture { candidate, interviewer_a, interviewer_b, stranger, loop_path, rounds, token }
}

/// The candidate invites a peer to `rounds`; returns the link's token.
pub async fn invite(app: &TestApp, candidate: &str, loop_path: &str, rounds: &[String]) -> String {
    let ids: Vec<String> = rounds.iter().map(|round| id_of(round).to_string()).collect();
    let form: Vec<(&str, &str)> = ids.iter().map(|id| ("round", id.as_str())).collect();
    let response = app.post_form(&format!("{loop_path}/invitations"), &form, Some(candidate)).await;
    assert_eq!(response.status, StatusCode::OK, "the invitation is created: {}", response.body);
    token_in(&response.body)
}

/// Accepts an invitation and checks that it leads to the loop.
pub async fn accept(app: &TestApp, cookie: &str, token: &str, loop_path: &str) {
    let response = app.post_form(&format!("/invite/{token}"), &[], Some(cookie)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the invitation is accepted: {}", response.body);
    assert_eq!(response.header("location"), loop_path);
}

/// The token of the `/invite/<token>` link on a page.
pub fn token_in(body: &str) -> String {
    let start = body.find("/invite/").unwrap_or_else(|| panic!("an invitation link on the page: {body}")) + 8;
    let token: String =
        body[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect();
    assert_eq!(token.len(), 43, "a 256-bit URL-safe token: {token}");
    token
}

/// The invitation through which `round`'s interviewer came.
pub async fn invitation_of(app: &TestApp, round: &str) -> Uuid {
    sqlx::query_scalar(
        "select ir.invitation_id from invitation_rounds ir join rounds r on r.id = ir.round_id
         where ir.round_id = $1 and ir.accepted_by = r.interviewer_id",
    )
    .bind(id_of(round))
    .fetch_one(&app.db)
    .await
    .expect("the accepted invitation")
}

/// The candidate withdraws an accepted invitation, confirming that its interviewer leaves.
pub async fn withdraw(app: &TestApp, candidate: &str, loop_path: &str, invitation: Uuid) {
    let path = format!("{loop_path}/invitations/{invitation}/revoke");
    let response = app.post_form(&path, &[("confirm", "yes")], Some(candidate)).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "the invitation is withdrawn: {}", response.body);
}

/// Each round's interviewer, in order.
pub async fn interviewers(app: &TestApp, loop_path: &str) -> Vec<Option<Uuid>> {
    sqlx::query_scalar("select interviewer_id from rounds where loop_id = $1 order by position")
        .bind(id_of(loop_path))
        .fetch_all(&app.db)
        .await
        .expect("interviewers")
}
