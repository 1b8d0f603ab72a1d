//! A round: its server-owned timer (controls, live events), its questions,
//! the candidate's autosaved notes and code.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use tokio_stream::wrappers::BroadcastStream;
use uuid::Uuid;

use super::extract::{Form, Path};
use super::forms::{json_or_redirect, wants_json};
use super::kept_page::HoledPage;
use super::page::{Layout, escape_html};
use super::participant::{ParticipantRound, lock_round, round_on};
use super::render_cache::{Kept, page_etag};
use super::round_view::{self, QuestionView, TimerView};
use super::session::{self, SignedIn};
use crate::db;
use crate::db::code::CodeDraft;
use crate::db::code::RoundCode;
use crate::db::code_runs::StoredRun;
use crate::db::live::StreamHolder;
use crate::db::notes::{Note, NoteDraft, SaveOutcome};
use crate::db::rounds::{NextRound, RoundQuestion, RoundState};
use crate::db::rubrics::Criterion;
use crate::db::sessions::SessionUser;
use crate::domain::blind_scoring::CardStatus;
use crate::domain::code_runs;
use crate::domain::question::{CodeLanguage, TestSuite};
use crate::domain::timer::{self, TimerAction, TimerCommand, TimerError, TimerState};
use crate::domain::visibility::{self, Item, Stage, Viewer};
use crate::domain::{LoopMode, LoopStatus, NoteKind, RoundKind, schedule};
use crate::live::{LiveEvent, LiveRound};
use crate::selection;
use crate::shipped::Shipped;
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rounds/{id}", get(show_round))
        .route("/rounds/{id}/timer", post(control_timer))
        .route("/rounds/{id}/state", get(round_state))
        .route("/rounds/{id}/events", get(round_events))
        .route("/rounds/{id}/notes", post(save_notes))
        .route("/rounds/{id}/code", post(save_code))
        .route("/rounds/{id}/marks", post(save_marks))
        .route("/rounds/{id}/swap", post(swap_question))
}

/// Largest scratchpad accepted; the database allows a little more.
pub const MAX_NOTE_BYTES: usize = 100_000;

/// Largest code accepted; the database allows a little more (`round_code_body_size`).
pub const MAX_CODE_BYTES: usize = 100_000;

#[derive(Template)]
#[template(path = "rounds/show.html")]
struct RoundPage {
    layout: Layout,
    round: RoundState,
    timer: TimerView,
    questions: Vec<RoundQuestion>,
    viewer: Viewer,
    stage: Stage,
    scratchpad: Option<Note>,
    /// The interviewer's own private notes (never loaded for the candidate).
    private_notes: Option<Note>,
    /// The rubric, for the interviewer to keep in view.
    criteria: Vec<Criterion>,
    next_round: Option<NextRound>,
    scorecard_status: Option<CardStatus>,
    /// The candidate's code (when this viewer may see it).
    code: Option<RoundCode>,
    /// The candidate's last test run, shown again after a reload.
    last_run: Option<StoredRun>,
    /// This response's CSP nonce, for the styles the code editor injects (a hole).
    nonce: String,
    /// The timer (a hole: `TimerPanel`).
    timer_panel: String,
    whiteboard: super::whiteboard::WhiteboardPanel,
    /// The call with the other participant, while the viewer may join it.
    call: Option<super::call::CallPanel>,
}

impl RoundPage {
    /// The question's calibration for this loop's level.
    fn calibration(&self, question: &RoundQuestion) -> Vec<round_view::CalibrationLine> {
        round_view::calibration_lines(question, self.round.level)
    }

    fn is_candidate(&self) -> bool {
        self.viewer.is_candidate()
    }

    fn sees(&self, item: Item) -> bool {
        visibility::may_see(self.viewer, item, self.stage)
    }

    /// The candidate meets the questions when the round starts.
    fn shows_questions(&self) -> bool {
        self.sees(Item::Question(1))
    }

    /// Self-timed: the candidate is their own assessor. Peer: hints and follow-ups are the interviewer's.
    fn shows_hints(&self) -> bool {
        self.sees(Item::InterviewerGuide)
    }

    fn is_peer(&self) -> bool {
        self.round.mode == LoopMode::Peer
    }

    fn ended(&self) -> bool {
        self.timer.is(TimerState::Ended)
    }

    fn has_several_questions(&self) -> bool {
        self.round.question_count() > 1
    }

    fn question_view(&self, position: &i16) -> Option<&QuestionView> {
        self.timer.questions.iter().find(|q| q.position == *position)
    }

    /// The note this viewer writes: the candidate's scratchpad, or the interviewer's private notes.
    fn own_note(&self) -> Option<&Note> {
        match NoteKind::written_by(self.viewer)? {
            NoteKind::Scratchpad => self.scratchpad.as_ref(),
            NoteKind::Private => self.private_notes.as_ref(),
        }
    }

    fn notes_text(&self) -> &str {
        self.own_note().map_or("", |n| n.body_md.as_str())
    }

    fn notes_version(&self) -> i32 {
        self.own_note().map_or(0, |n| n.version)
    }

    fn scratchpad_html(&self) -> &str {
        self.scratchpad.as_ref().map_or("", |n| n.body_html.as_str())
    }

    /// The label of the link to the viewer's own scorecard.
    fn own_card_link(&self) -> &'static str {
        match (self.is_candidate(), self.scorecard_status) {
            (true, Some(CardStatus::Submitted)) => "View your self-assessment",
            (true, Some(CardStatus::Skipped)) => "Self-assessment skipped",
            (true, _) => "Assess yourself",
            (false, Some(CardStatus::Submitted)) => "Your scorecard (submitted)",
            (false, _) => "Scorecard",
        }
    }

    /// The code panel opens by itself in a coding round, and folds away in the others.
    fn code_open(&self) -> bool {
        self.round.kind == RoundKind::Coding || self.code.as_ref().is_some_and(|code| !code.body.is_empty())
    }

    /// The question and the code side by side on a wide screen (a laptop shows
    /// the timer, the prompt and the editor at once): while the code is open
    /// and the round is not over.
    fn splits_workspace(&self) -> bool {
        self.code_open() && !self.ended() && self.shows_code()
    }

    /// The code panel: the candidate writes it, whoever may see their work reads it.
    fn shows_code(&self) -> bool {
        self.is_candidate() || self.sees(Item::CandidateWork)
    }

    /// The saved code, or before the first save the starter of the question the round is on.
    fn code_text(&self) -> &str {
        match (&self.code, self.current_starter()) {
            (Some(code), _) => code.body.as_str(),
            (None, Some(question)) => question.starter_code.as_deref().unwrap_or(""),
            (None, None) => "",
        }
    }

    fn current_starter(&self) -> Option<&RoundQuestion> {
        self.questions
            .iter()
            .filter(|question| question.starter_code.is_some())
            .find(|question| question.position == self.timer.current_question)
    }

    fn code_version(&self) -> i32 {
        self.code.as_ref().map_or(0, |code| code.version)
    }

    fn code_language(&self) -> CodeLanguage {
        match (&self.code, self.current_starter()) {
            (Some(code), _) => code.language,
            (None, Some(question)) => question.starter_language.unwrap_or(CodeLanguage::Python),
            (None, None) => CodeLanguage::Python,
        }
    }

    fn code_languages(&self) -> &'static [CodeLanguage] {
        &[CodeLanguage::Python, CodeLanguage::Cpp]
    }

    fn vendor_base(&self) -> &'static str {
        super::assets::vendor_base()
    }

    fn code_script(&self) -> String {
        super::assets::workspace_url("round-code.js")
    }

    /// Where the test runner's files are, for round-code.js.
    fn runner_urls(&self) -> String {
        serde_json::json!({
            "runner": super::assets::workspace_url("python-runner.js"),
            "worker": super::assets::workspace_url("python-worker.js"),
            "harness": super::assets::workspace_url("runner.py"),
            "pyodide": format!("{}pyodide/", super::assets::vendor_base()),
        })
        .to_string()
    }

    /// The test suites of the questions this viewer sees, by position, for the page's runner.
    fn test_suites_json(&self) -> String {
        let suites: BTreeMap<i16, &TestSuite> = self
            .questions
            .iter()
            .filter_map(|question| Some((question.position, &question.tests.as_ref()?.0)))
            .collect();
        serde_json::to_string(&suites).unwrap_or_default()
    }

    fn run_time_limit(&self) -> String {
        format!("{} s", code_runs::RUN_TIME_LIMIT_MS / 1000)
    }

    fn run_time_limit_ms(&self) -> i64 {
        code_runs::RUN_TIME_LIMIT_MS
    }

    fn has_tests(&self) -> bool {
        self.questions.iter().any(|question| question.tests.is_some())
    }

    fn last_run_json(&self) -> String {
        self.last_run.as_ref().and_then(|run| serde_json::to_string(run).ok()).unwrap_or_default()
    }

    fn is_interviewer(&self) -> bool {
        self.viewer == Viewer::RoundInterviewer
    }

    fn is_marked(&self, marked: &[i16], index: &usize) -> bool {
        marked.iter().any(|m| usize::try_from(*m).ok() == Some(*index))
    }

    fn can_swap(&self) -> bool {
        self.is_interviewer() && self.timer.is(TimerState::NotStarted)
    }

    fn time_used(&self) -> String {
        timer::format_duration(self.timer.elapsed_ms)
    }

    fn time_allowed(&self) -> String {
        timer::format_duration(self.timer.allowed_ms)
    }

    fn went_over(&self) -> bool {
        self.timer.remaining_ms < 0
    }

    /// When the break after this round ends, in the loop's time zone.
    fn break_ends(&self) -> Option<String> {
        let ended_at: DateTime<Utc> = self.round.ended_at?;
        let zone = schedule::parse_time_zone(&self.round.time_zone).ok()?;
        Some(schedule::format_local_time(
            ended_at + chrono::Duration::minutes(i64::from(self.round.break_minutes)),
            zone,
        ))
    }
}

/// What the round page's timer panel shows besides the clock itself: fixed
/// for as long as the rest of the page is.
#[derive(Debug, Clone, Copy)]
struct TimerFlags {
    round_id: Uuid,
    /// Beside the code, on a wide screen.
    compact: bool,
    can_control: bool,
    is_interviewer: bool,
    several_questions: bool,
    /// The questions the viewer sees (the next-question control needs a next one).
    questions_seen: i16,
}

#[derive(Template)]
#[template(path = "rounds/_timer.html")]
struct TimerPanel {
    flags: TimerFlags,
    timer: TimerView,
}

impl TimerPanel {
    /// Whether the clock offers `action` now; the others are rendered hidden
    /// (the script shows them as the state changes).
    fn offers(&self, action: TimerAction) -> bool {
        action.offered(self.timer.state, self.timer.current_question, self.flags.questions_seen)
    }

    fn ended(&self) -> bool {
        self.timer.is(TimerState::Ended)
    }
}

/// The holes of a kept round page, filled on every response.
#[derive(Debug, Clone, Copy)]
enum RoundHole {
    Nonce,
    Timer,
    IceServers,
}

impl RoundHole {
    /// In declaration order: each at its own index.
    const ALL: [RoundHole; 3] = [RoundHole::Nonce, RoundHole::Timer, RoundHole::IceServers];

    fn marker(self) -> String {
        HoledPage::marker(self as usize)
    }
}

/// A round page as kept: everything but its holes, and what filling them needs.
#[derive(Debug)]
pub struct KeptRound {
    page: HoledPage,
    flags: TimerFlags,
    budgets_ms: Vec<i64>,
    /// The page has the call panel, whose ICE servers carry short-lived credentials.
    has_call: bool,
}

impl Kept for KeptRound {
    fn size(&self) -> usize {
        self.page.size() + self.budgets_ms.len() * std::mem::size_of::<i64>()
    }
}

/// The round page is kept rendered under a version the database bumps with
/// every change it shows (migration 0023), the versions of its notes and code,
/// the shipped content's digest (the rubric), and the viewer's header; the timer, the CSP nonce and the
/// call's credentials are drawn afresh on each visit. A visit that finds it
/// kept reads one row.
async fn show_round(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let mut db = state.db.acquire().await?;
    // Only a participant's visit finds the round.
    let clock = db::round_page::clock(&mut *db, id, user.id).await?.ok_or(AppError::NotFound)?;
    // The rubric's criteria come with the shipped content.
    let shipped = state.live.shipped().get_on(&mut db).await?;
    let key = page_etag(
        &user,
        &["round", &id.to_string(), &clock.page_version.to_string(), &clock.work_versions, &shipped.digest],
    );
    let kept = match state.rendered_rounds.get(&key) {
        Some(kept) => kept,
        None => {
            // Read after the versions: a change in between is drawn, never missed.
            let kept = Arc::new(render_round(&state, &mut db, &user, id, &shipped).await?);
            state.rendered_rounds.put(key, kept.clone());
            kept
        }
    };
    drop(db);
    let nonce = super::security::new_nonce();
    let timer = TimerView::at(&clock.timer, clock.now, &kept.budgets_ms, clock.timer_version);
    let panel = TimerPanel { flags: kept.flags, timer }.render()?;
    let ice_servers = match kept.has_call {
        true => escape_html(&state.ice_servers.for_user(user.id, clock.now.timestamp()).to_string()),
        false => String::new(),
    };
    let fills = RoundHole::ALL.map(|hole| match hole {
        RoundHole::Nonce => nonce.as_str(),
        RoundHole::Timer => panel.as_str(),
        RoundHole::IceServers => ice_servers.as_str(),
    });
    let page = Html(kept.page.fill(&fills)).into_response();
    let page = super::security::with_policy(page, &super::security::round_page_policy(&nonce));
    Ok(if kept.has_call { super::security::with_call_permissions(page) } else { page })
}

/// The round page with its holes marked, for keeping.
async fn render_round(
    state: &AppState,
    db: &mut PgConnection,
    user: &SessionUser,
    id: Uuid,
    shipped: &Shipped,
) -> Result<KeptRound, AppError> {
    let (round, viewer) = round_on(db, id, user.id).await?;
    let work = db::round_page::read(&mut *db, &round, user.id).await?;
    let stage = round_view::stage(&round, work.cards);
    let questions = if visibility::may_see(viewer, Item::Question(1), stage) {
        let wanted: Vec<_> = work.questions.iter().map(|q| (q.question_id, q.updated_at)).collect();
        let texts = state.question_texts.get(db, &wanted).await?;
        // A round's questions cannot be deleted (round_questions refers to them).
        let questions =
            work.questions.iter().zip(&texts).filter_map(|(q, text)| Some(q.with_text(text.as_ref()?))).collect();
        round_view::questions_seen_by(questions, viewer, stage)
    } else {
        Vec::new()
    };
    let private_notes = work.private_notes.filter(|_| visibility::may_see(viewer, Item::PrivateNotes, stage));
    let criteria = match viewer.is_candidate() {
        true => Vec::new(),
        false => shipped.criteria_for_card(round.kind, round.level),
    };
    let (code, last_run) = match visibility::may_see(viewer, Item::CandidateWork, stage) {
        true => (work.code, work.last_run),
        false => (None, None),
    };
    let whiteboard = super::whiteboard::WhiteboardPanel::of(&round, viewer, stage, work.drawing);
    let call = super::call::CallPanel::of(&round, viewer, work.last_signal, RoundHole::IceServers.marker());
    let has_call = call.is_some();
    let budgets_ms = round.budgets_ms();
    let page = RoundPage {
        layout: Layout::new(Some(user.clone())),
        timer: TimerView::of(&round),
        viewer,
        stage,
        scorecard_status: viewer.own_card().and_then(|card| stage.cards.of(card)),
        round,
        questions,
        scratchpad: work.scratchpad,
        private_notes,
        criteria,
        next_round: work.next_round,
        code,
        last_run,
        nonce: RoundHole::Nonce.marker(),
        timer_panel: RoundHole::Timer.marker(),
        whiteboard,
        call,
    };
    let flags = TimerFlags {
        round_id: page.round.id,
        compact: page.splits_workspace(),
        can_control: page.sees(Item::TimerControls),
        is_interviewer: page.is_interviewer(),
        several_questions: page.has_several_questions(),
        questions_seen: page.questions.len() as i16,
    };
    Ok(KeptRound { page: HoledPage::from_rendered(&page.render()?), flags, budgets_ms, has_call })
}

#[derive(Debug, Deserialize)]
struct TimerForm {
    action: String,
    /// Why the timer was paused or extended, kept in the log.
    #[serde(default)]
    reason: String,
}

/// The refusal shown on a page (the JSON answer carries the state and the error text).
fn refusal(error: &TimerError) -> &'static str {
    match error {
        TimerError::NotStarted => "The round has not started yet.",
        TimerError::AlreadyStarted => "The round has already started.",
        TimerError::AlreadyRunning => "The timer is already running.",
        TimerError::AlreadyPaused => "The timer is already paused.",
        TimerError::Ended => "The round has ended; its timer cannot change.",
        TimerError::ExtensionOutOfRange { .. } => "An extension is 1 to 30 minutes.",
        TimerError::NoNextQuestion => "This is the round's last question.",
    }
}

async fn control_timer(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Form(form): Form<TimerForm>,
) -> Result<Response, AppError> {
    let command = match TimerAction::parse(&form.action) {
        Some(TimerAction::Start) => TimerCommand::Start,
        Some(TimerAction::Pause) => TimerCommand::Pause,
        Some(TimerAction::Resume) => TimerCommand::Resume,
        Some(TimerAction::Extend) => TimerCommand::Extend { minutes: 5 },
        Some(TimerAction::NextQuestion) => TimerCommand::NextQuestion,
        Some(TimerAction::End) => TimerCommand::End,
        None => return Err(AppError::BadRequest("Unknown timer action.")),
    };
    let mut tx = state.db.begin().await?;
    let (round, viewer) = lock_round(&mut tx, id, user.id).await?;
    if !round_view::controls_clock(&round, viewer) {
        return Err(AppError::Forbidden);
    }
    if round.loop_status == LoopStatus::Cancelled {
        return Err(AppError::Conflict("This loop was cancelled."));
    }
    if command == TimerCommand::Start && round.other_round_active {
        return Err(AppError::Conflict(
            "Another round of this loop is still running or paused: end it before starting this one.",
        ));
    }
    let updated = match round.timer().apply(&command, round.now, round.question_count()) {
        Ok(updated) => updated,
        // A double click or a second tab: the state already is what was asked, or cannot be.
        Err(error) => {
            drop(tx);
            tracing::info!(round_id = %id, %error, "timer command refused");
            if !wants_json(&headers) {
                return Err(AppError::Conflict(refusal(&error)));
            }
            return respond_with_state(&state, id, user.id, &headers, Some(error.to_string())).await;
        }
    };
    let seconds = matches!(command, TimerCommand::Extend { .. }).then_some(300);
    let reason: String = form.reason.trim().chars().take(200).collect();
    let reason = Some(reason).filter(|r| !r.is_empty());
    let action = TimerAction::of(&command);
    db::rounds::save_timer(&mut tx, &round, &updated, user.id, action, seconds, reason.as_deref()).await?;
    if command == TimerCommand::End {
        // The call ends with the round, and nothing of it is kept.
        db::call::forget_round(&mut *tx, id).await?;
    }
    tx.commit().await?;
    respond_with_state(&state, id, user.id, &headers, None).await
}

#[derive(Serialize)]
struct TimerResponse {
    timer: TimerView,
    error: Option<String>,
}

async fn respond_with_state(
    state: &AppState,
    id: Uuid,
    user: Uuid,
    headers: &HeaderMap,
    error: Option<String>,
) -> Result<Response, AppError> {
    if !wants_json(headers) {
        return Ok(Redirect::to(&format!("/rounds/{id}")).into_response());
    }
    let round = db::rounds::find_for_participant(&state.db, id, user).await?.ok_or(AppError::NotFound)?;
    let status = if error.is_some() { StatusCode::CONFLICT } else { StatusCode::OK };
    Ok((status, Json(TimerResponse { timer: TimerView::of(&round), error })).into_response())
}

async fn round_state(ParticipantRound { round, .. }: ParticipantRound) -> Json<TimerView> {
    Json(TimerView::of(&round))
}

/// Server-sent events: the timer now, then again whenever it changes (or the
/// listener resynchronises), so reloads, tabs and reconnects all agree. The
/// stream ends when its session ends or its viewer loses access to the round.
async fn round_events(
    State(state): State<AppState>,
    ParticipantRound { user, round, .. }: ParticipantRound,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let id = round.id;
    let session_hash = session::session_hash(&headers).ok_or(AppError::NotFound)?;
    let round_closed = state.live.closed();
    let holder = StreamHolder { session_hash, user: user.id, round: id };
    let permit =
        state.live.open_stream(holder, state.limits.max_live_streams_per_user).ok_or(AppError::TooManyLiveStreams)?;
    let access_ended = permit.ended();
    let hub = state.live.clone();
    let changes = BroadcastStream::new(state.live.subscribe()).filter_map(move |event| {
        let generation = match event {
            Ok(LiveEvent::RoundChanged { round, generation }) if round == id => Some(generation),
            Ok(LiveEvent::RoundChanged { .. } | LiveEvent::CallSignalled { .. } | LiveEvent::NoticesChanged { .. }) => {
                None
            }
            Ok(event @ LiveEvent::Resync { .. }) => Some(event.generation()),
            // This stream fell behind and missed events: read as of now.
            Err(_) => Some(hub.generation()),
        };
        async move { generation }
    });
    // The first event reads afresh (None): the shared read of the latest change may
    // predate an edit whose notification has not arrived yet.
    let generations = futures_util::stream::once(async { None }).chain(changes.map(Some));
    let user_id = user.id;
    let events = generations
        .then(move |generation| {
            let state = state.clone();
            async move { live_events(&state, id, user_id, generation).await }
        })
        .flat_map(futures_util::stream::iter)
        .take_until(futures_util::future::select(Box::pin(round_closed), Box::pin(access_ended)))
        // The permit goes with the stream and frees the slot when the stream is dropped.
        .map(move |event| {
            let _held = &permit;
            event
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

async fn read_live_round(db: &sqlx::PgPool, id: Uuid) -> Result<Option<Arc<LiveRound>>, sqlx::Error> {
    let Some(round) = db::rounds::find(db, id).await? else { return Ok(None) };
    let (scratchpad_json, code_json, run_json, scene_json) = match round_view::work_is_watched(round.interviewer_id) {
        true => (
            db::notes::find(db, id, round.candidate_id, NoteKind::Scratchpad)
                .await?
                .map(|note| serde_json::json!({"version": note.version, "html": note.body_html}).to_string()),
            db::code::find(db, id).await?.map(|code| {
                serde_json::json!({"version": code.version, "language": code.language.as_str(), "body": code.body})
                    .to_string()
            }),
            db::code_runs::last(db, id).await?.and_then(|run| serde_json::to_string(&run).ok()),
            db::scene::find(db, id).await?.as_ref().map(super::whiteboard::live_json),
        ),
        false => (None, None, None, None),
    };
    Ok(Some(Arc::new(LiveRound {
        candidate_id: round.candidate_id,
        interviewer_id: round.interviewer_id,
        timer_json: serde_json::to_string(&TimerView::of(&round)).unwrap_or_default(),
        scratchpad_json,
        code_json,
        run_json,
        scene_json,
    })))
}

/// What one change sends to one viewer: the timer, and for the interviewer the scratchpad.
async fn live_events(
    state: &AppState,
    id: Uuid,
    user: Uuid,
    generation: Option<u64>,
) -> Vec<Result<Event, Infallible>> {
    let read = match generation {
        Some(generation) => state.live_rounds.get(id, generation, || read_live_round(&state.db, id)).await,
        None => read_live_round(&state.db, id).await,
    };
    let (round, viewer) = match read {
        Ok(Some(round)) => match Viewer::of(user, round.candidate_id, round.interviewer_id) {
            Some(viewer) => (round, viewer),
            None => return vec![Ok(Event::default().event("gone").data("{}"))],
        },
        Ok(None) => return vec![Ok(Event::default().event("gone").data("{}"))],
        Err(_) => return vec![Ok(Event::default().event("retry").data("{}"))],
    };
    let mut events = vec![Ok(Event::default().event("timer").data(round.timer_json.as_str()))];
    // The interviewer watches the candidate's work; the candidate has it on their own screen.
    if viewer == Viewer::RoundInterviewer
        && let Some(scratchpad) = &round.scratchpad_json
    {
        events.push(Ok(Event::default().event("scratchpad").data(scratchpad.as_str())));
    }
    if viewer == Viewer::RoundInterviewer
        && let Some(code) = &round.code_json
    {
        events.push(Ok(Event::default().event("code").data(code.as_str())));
    }
    if viewer == Viewer::RoundInterviewer
        && let Some(run) = &round.run_json
    {
        events.push(Ok(Event::default().event("run").data(run.as_str())));
    }
    if viewer == Viewer::RoundInterviewer
        && let Some(scene) = &round.scene_json
    {
        events.push(Ok(Event::default().event("scene").data(scene.as_str())));
    }
    events
}

#[derive(Debug, Deserialize)]
struct NotesForm {
    body: String,
    base_version: i32,
}

#[derive(Serialize)]
struct NotesSaved {
    version: i32,
    saved_at: DateTime<Utc>,
}

#[derive(Serialize)]
struct NotesConflict {
    conflict: bool,
    version: i32,
    body: String,
}

/// Saves the scratchpad if nobody saved a newer version since `base_version`;
/// otherwise answers 409 with the stored text so the page can show both.
async fn save_notes(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Form(form): Form<NotesForm>,
) -> Result<Response, AppError> {
    if form.body.len() > MAX_NOTE_BYTES {
        return Err(AppError::PayloadTooLarge("Notes are limited to 100 000 characters."));
    }
    if form.body.contains('\0') {
        return Err(NUL_IN_DRAFT);
    }
    // Rendered before joining a batch, so a slow render holds up no other save.
    let html = super::render_markdown(form.body.clone()).await?;
    let draft = NoteDraft {
        round_id: id,
        author: user.id,
        body_md: form.body,
        body_html: html,
        base_version: form.base_version,
    };
    let saved = state.note_saves.write(draft).await.map_err(AppError::from_shared)?.ok_or(AppError::NotFound)?;
    let outcome = saved.outcome;
    // Only a saved scratchpad is news, to the interviewer who watches it live.
    if matches!(outcome, SaveOutcome::Saved { .. })
        && saved.kind == NoteKind::Scratchpad
        && round_view::work_is_watched(saved.interviewer_id)
    {
        state.live.announce_round_changed(id);
    }
    let json = wants_json(&headers);
    Ok(match outcome {
        SaveOutcome::Saved { version, updated_at } if json => {
            Json(NotesSaved { version, saved_at: updated_at }).into_response()
        }
        SaveOutcome::Saved { .. } => Redirect::to(&format!("/rounds/{id}#notes")).into_response(),
        SaveOutcome::Conflict(_) if !json => {
            return Err(AppError::Conflict(
                "Your notes were changed in another tab since this page loaded. Go back, copy your text, reload and merge.",
            ));
        }
        SaveOutcome::Conflict(current) => (
            StatusCode::CONFLICT,
            Json(NotesConflict { conflict: true, version: current.version, body: current.body_md }),
        )
            .into_response(),
    })
}

#[derive(Debug, Deserialize)]
struct CodeForm {
    body: String,
    language: String,
    base_version: i32,
}

#[derive(Serialize)]
struct CodeConflict {
    conflict: bool,
    version: i32,
    language: CodeLanguage,
    body: String,
}

/// A NUL cannot be stored; caught before a batch, where it would fail the others' saves.
const NUL_IN_DRAFT: AppError = AppError::BadRequest(super::error::NUL_IN_TEXT_MESSAGE);

/// Once the round is over its code is final: what the feedback shows.
const ROUND_CLOSED_FOR_CODE: &str = "The round has ended, so its code is final and this change was not saved.";

/// Saves the candidate's code if nobody saved a newer version since
/// `base_version`; otherwise answers 409 with the stored code. Only the
/// round's candidate writes it; the interviewer watches it live.
async fn save_code(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Result<Response, AppError> {
    if form.body.len() > MAX_CODE_BYTES {
        return Err(AppError::PayloadTooLarge("Code is limited to 100 000 characters."));
    }
    let language = CodeLanguage::parse(&form.language).ok_or(AppError::BadRequest("Choose Python or C++."))?;
    if form.body.contains('\0') {
        return Err(NUL_IN_DRAFT);
    }
    let draft = CodeDraft { round_id: id, author: user.id, language, body: form.body, base_version: form.base_version };
    let saved = state.code_saves.write(draft).await.map_err(AppError::from_shared)?.ok_or(AppError::NotFound)?;
    let viewer = Viewer::of(user.id, saved.candidate_id, saved.interviewer_id).ok_or(AppError::NotFound)?;
    if !viewer.is_candidate() {
        return Err(AppError::Forbidden);
    }
    let Some(outcome) = saved.outcome else {
        if !wants_json(&headers) {
            return Err(AppError::Conflict(ROUND_CLOSED_FOR_CODE));
        }
        return Ok((StatusCode::CONFLICT, Json(serde_json::json!({"closed": ROUND_CLOSED_FOR_CODE}))).into_response());
    };
    // The interviewer watches the code live.
    if matches!(outcome, db::code::SaveOutcome::Saved { .. }) && round_view::work_is_watched(saved.interviewer_id) {
        state.live.announce_round_changed(id);
    }
    let json = wants_json(&headers);
    Ok(match outcome {
        db::code::SaveOutcome::Saved { version, updated_at } if json => {
            Json(NotesSaved { version, saved_at: updated_at }).into_response()
        }
        db::code::SaveOutcome::Saved { .. } => Redirect::to(&format!("/rounds/{id}#code")).into_response(),
        db::code::SaveOutcome::Conflict(_) if !json => {
            return Err(AppError::Conflict(
                "Your code was changed in another tab since this page loaded. Go back, copy your code, reload and merge.",
            ));
        }
        db::code::SaveOutcome::Conflict(current) => (
            StatusCode::CONFLICT,
            Json(CodeConflict {
                conflict: true,
                version: current.version,
                language: current.language,
                body: current.body,
            }),
        )
            .into_response(),
    })
}

/// Which hints and follow-ups were given: `hint_<question>_<index>` and
/// `follow_<question>_<index>` for each ticked box.
async fn save_marks(
    State(state): State<AppState>,
    ParticipantRound { round, viewer, .. }: ParticipantRound,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    if viewer != Viewer::RoundInterviewer {
        return Err(AppError::Forbidden);
    }
    let id = round.id;
    let mut tx = state.db.begin().await?;
    for position in 1..=round.question_count() {
        let marked = |prefix: &str| -> Vec<i16> {
            let wanted = format!("{prefix}_{position}_");
            let mut indexes: Vec<i16> = pairs
                .iter()
                .filter_map(|(k, _)| k.strip_prefix(&wanted)?.parse::<i16>().ok())
                .filter(|i| (0..50).contains(i))
                .collect();
            indexes.sort_unstable();
            indexes.dedup();
            indexes
        };
        db::rounds::set_marks(&mut *tx, id, position, &marked("hint"), &marked("follow")).await?;
    }
    tx.commit().await?;
    Ok(json_or_redirect(&headers, serde_json::json!({"saved": true}), &format!("/rounds/{id}#questions")))
}

#[derive(Debug, Deserialize)]
struct SwapForm {
    position: i16,
}

/// Before the round starts the interviewer may swap a question for another
/// that fits the same slot and that the candidate has not had.
async fn swap_question(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
    Form(form): Form<SwapForm>,
) -> Result<Response, AppError> {
    let mut tx = state.db.begin().await?;
    let (round, viewer) = lock_round(&mut tx, id, user.id).await?;
    if viewer != Viewer::RoundInterviewer {
        return Err(AppError::Forbidden);
    }
    if round.timer_state != TimerState::NotStarted {
        return Err(AppError::Conflict("A question can be swapped only before the round starts."));
    }
    let current = db::rounds::questions(&mut *tx, id).await?;
    if !current.iter().any(|q| q.position == form.position) {
        return Err(AppError::BadRequest("No question at that position."));
    }
    let replacement = selection::pick_replacement(&mut tx, &round, form.position).await?;
    let Some(question_id) = replacement else {
        return Err(AppError::Conflict(
            "There is no other question that fits this round: of its kind, for the loop's level, and on a topic the rest of the loop does not already cover.",
        ));
    };
    db::rounds::replace_question(&mut *tx, id, form.position, question_id).await?;
    tx.commit().await?;
    tracing::info!(round_id = %id, "question swapped");
    Ok(Redirect::to(&format!("/rounds/{id}")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_hole_of_a_kept_round_page_is_filled_at_its_own_index() {
        for (index, hole) in RoundHole::ALL.iter().enumerate() {
            assert_eq!(*hole as usize, index, "{hole:?}");
        }
    }
}
