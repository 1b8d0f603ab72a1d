//! The peer board: posting when you are free and what you want to practise,
//! the board of others' open slots, claiming one (which schedules the swap's
//! peer loops for both people at once), the swap's page with its calendar,
//! cancel and no-show, and the notices each side gets.

use std::convert::Infallible;
use std::time::Duration;

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Timelike, Utc};
use chrono_tz::Tz;
use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use tokio_stream::wrappers::BroadcastStream;
use uuid::Uuid;

use super::extract::{Form, Path};
use super::forms::{FieldErrors, capitalise};
use super::ics_feed::{events_for, ics_response};
use super::page::{Layout, render};
use super::session::{self, SignedIn};
use crate::db;
use crate::db::loops::NewLoop;
use crate::db::peer_board::{GiveTake, NoticeRow, SlotFields, SlotRow, SwapRow};
use crate::db::templates::TemplateRound;
use crate::domain::peer_board::{
    self, BoardFilter, BoardSlot, Candidate, NoticeKind, SlotSpec, SlotStatus, SwapMode, SwapStatus, Wishes,
};
use crate::domain::visibility::{BoardItem, BoardViewer, SlotStage, may_see_on_board};
use crate::domain::{Level, LoopMode, RoundKind, Team, ics, schedule};
use crate::live::LiveEvent;
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/board", get(show_board))
        .route("/board/slots/new", get(new_slot))
        .route("/board/slots", post(post_slot))
        .route("/board/slots/{id}", get(show_slot))
        .route("/board/slots/{id}/edit", get(edit_slot).post(save_slot))
        .route("/board/slots/{id}/withdraw", post(withdraw_slot))
        .route("/board/slots/{id}/claim", post(claim_slot))
        .route("/swaps/{id}", get(show_swap))
        .route("/swaps/{id}/calendar.ics", get(swap_calendar))
        .route("/swaps/{id}/cancel", post(cancel_swap))
        .route("/swaps/{id}/no-show", post(mark_no_show))
        .route("/notices", get(show_notices))
        .route("/notices/events", get(notice_events))
}

/// Most slots the board reads before filtering.
const BOARD_READ: i64 = 500;
/// Most slots the board lists.
const BOARD_SHOWN: usize = 100;

/// A time in `zone` as the board shows it: "Thu 10 Dec 2026, 18:00".
fn local(at: DateTime<Utc>, zone: Tz) -> String {
    schedule::format_local(at, zone)
}

fn zone_named(name: &str) -> Tz {
    schedule::parse_time_zone(name).unwrap_or(Tz::UTC)
}

fn kinds_label(kinds: &[RoundKind]) -> String {
    if kinds.is_empty() {
        return "—".into();
    }
    kinds.iter().map(|k| k.label()).collect::<Vec<_>>().join(", ")
}

fn team_label(team: Option<Team>) -> &'static str {
    team.map_or("Any team", Team::label)
}

fn stage_of(slot: &SlotRow) -> SlotStage {
    SlotStage { open: slot.status == SlotStatus::Open, shows_loop_count: slot.show_loop_count }
}

// ---------------------------------------------------------------- the board

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct BoardQuery {
    kind: String,
    team: String,
    level: String,
    from: String,
    until: String,
    zone: String,
}

impl BoardQuery {
    fn filter(&self) -> BoardFilter {
        let day = |text: &str| NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok();
        BoardFilter {
            kind: RoundKind::parse(&self.kind),
            team: Team::parse(&self.team),
            level: Level::parse(&self.level),
            from: day(&self.from),
            until: day(&self.until),
        }
    }
}

/// One slot as a row of the board.
struct BoardEntry {
    slot: SlotRow,
    fit: u32,
}

#[derive(Template)]
#[template(path = "board/list.html")]
struct BoardPage {
    layout: Layout,
    query: BoardQuery,
    zone: Tz,
    entries: Vec<BoardEntry>,
    give_take: GiveTake,
    /// Slots hidden because their posters are too far in debt.
    hidden_for_balance: usize,
    balance: Option<u32>,
}

impl BoardPage {
    fn when(&self, slot: &SlotRow) -> String {
        local(slot.starts_at, self.zone)
    }

    fn kinds(&self, kinds: &[RoundKind]) -> String {
        kinds_label(kinds)
    }

    fn team(&self, slot: &SlotRow) -> &'static str {
        team_label(slot.team)
    }

    fn loop_count(&self, slot: &SlotRow) -> Option<i64> {
        may_see_on_board(BoardViewer::Other, BoardItem::ScoredLoopCount, stage_of(slot))
            .then_some(slot.scored_loops)
            .flatten()
    }

    fn kind_options(&self) -> Vec<(String, String)> {
        RoundKind::ALL.iter().map(|k| (k.as_str().to_owned(), k.label().to_owned())).collect()
    }

    fn team_options(&self) -> Vec<(String, String)> {
        Team::ALL.iter().map(|t| (t.as_str().to_owned(), t.label().to_owned())).collect()
    }

    fn level_options(&self) -> Vec<(String, String)> {
        Level::ALL.iter().map(|l| (l.as_str().to_owned(), l.label().to_owned())).collect()
    }

    fn time_zones(&self) -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    fn is_zone(&self, name: &str) -> bool {
        self.zone.name() == name
    }
}

/// The viewer's zone: the one asked for, else the one they last used, else UTC.
async fn viewer_zone(state: &AppState, user: Uuid, asked: &str) -> Result<Tz, AppError> {
    if let Ok(zone) = schedule::parse_time_zone(asked) {
        return Ok(zone);
    }
    let usual = db::peer_board::usual_zone(&state.db, user).await?;
    Ok(usual.as_deref().map_or(Tz::UTC, zone_named))
}

fn board_slot(slot: &SlotRow) -> BoardSlot {
    BoardSlot {
        starts_at: slot.starts_at,
        wants: slot.wants.clone(),
        can_interview: slot.can_interview.clone(),
        team: slot.team,
        level: slot.level,
    }
}

/// What the viewer wants and gives, from their own open slots (or the filters).
fn wishes_of(own: &[SlotRow], filter: &BoardFilter) -> Wishes {
    let mut wishes = Wishes {
        wants: filter.kind.into_iter().collect(),
        can_interview: Vec::new(),
        team: filter.team,
        level: filter.level,
        free_at: own.iter().map(|s| s.starts_at).collect(),
    };
    for slot in own {
        for kind in &slot.wants {
            if !wishes.wants.contains(kind) {
                wishes.wants.push(*kind);
            }
        }
        for kind in &slot.can_interview {
            if !wishes.can_interview.contains(kind) {
                wishes.can_interview.push(*kind);
            }
        }
        wishes.team = wishes.team.or(slot.team);
        wishes.level = wishes.level.or(Some(slot.level));
    }
    wishes
}

async fn show_board(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Query(query): Query<BoardQuery>,
) -> Result<Response, AppError> {
    let zone = viewer_zone(&state, user.id, &query.zone).await?;
    let mut db = state.db.acquire().await?;
    let slots = db::peer_board::open_slots(&mut *db, user.id, BOARD_READ).await?;
    let own = db::peer_board::own_open_slots(&mut *db, user.id).await?;
    let give_take = db::peer_board::give_take(&mut *db, user.id).await?;
    drop(db);
    // Decide: balance, filters, then the best matches first.
    let balance = state.peer_board_balance;
    let (fair, in_debt): (Vec<SlotRow>, Vec<SlotRow>) =
        slots.into_iter().partition(|s| !peer_board::in_debt(s.taken, s.given, balance));
    let filter = query.filter();
    let kept: Vec<SlotRow> = fair.into_iter().filter(|s| filter.keeps(&board_slot(s), zone)).collect();
    let wishes = wishes_of(&own, &filter);
    let board: Vec<BoardSlot> = kept.iter().map(board_slot).collect();
    let order = peer_board::rank(&board, &wishes, Utc::now());
    let mut kept: Vec<Option<SlotRow>> = kept.into_iter().map(Some).collect();
    let entries = order
        .into_iter()
        .take(BOARD_SHOWN)
        .filter_map(|i| kept[i].take().map(|slot| BoardEntry { fit: peer_board::fit(&board[i], &wishes), slot }))
        .collect();
    render(&BoardPage {
        layout: Layout::new(Some(user)),
        query,
        zone,
        entries,
        give_take,
        hidden_for_balance: in_debt.len(),
        balance,
    })
}

// ---------------------------------------------------------------- posting and editing

/// The slot form as typed; checkboxes repeat their name, so it is read from pairs.
#[derive(Debug, Clone, Default)]
struct SlotForm {
    starts_at: String,
    time_zone: String,
    minutes: String,
    repeat_weeks: String,
    mode: String,
    wants: Vec<String>,
    can_interview: Vec<String>,
    team: String,
    level: String,
    show_loop_count: bool,
}

impl SlotForm {
    fn from_pairs(pairs: Vec<(String, String)>) -> SlotForm {
        let mut form = SlotForm::default();
        for (key, value) in pairs {
            match key.as_str() {
                "starts_at" => form.starts_at = value,
                "time_zone" => form.time_zone = value,
                "minutes" => form.minutes = value,
                "repeat_weeks" => form.repeat_weeks = value,
                "mode" => form.mode = value,
                "wants" => form.wants.push(value),
                "can_interview" => form.can_interview.push(value),
                "team" => form.team = value,
                "level" => form.level = value,
                "show_loop_count" => form.show_loop_count = true,
                _ => {}
            }
        }
        form
    }

    fn of_slot(slot: &SlotRow) -> SlotForm {
        let zone = zone_named(&slot.time_zone);
        SlotForm {
            starts_at: schedule::to_local_input(slot.starts_at, zone),
            time_zone: zone.name().into(),
            minutes: slot.minutes.to_string(),
            repeat_weeks: "0".into(),
            mode: slot.mode.as_str().into(),
            wants: slot.wants.iter().map(|k| k.as_str().to_owned()).collect(),
            can_interview: slot.can_interview.iter().map(|k| k.as_str().to_owned()).collect(),
            team: slot.team.map(|t| t.as_str().to_owned()).unwrap_or_default(),
            level: slot.level.as_str().into(),
            show_loop_count: slot.show_loop_count,
        }
    }

    /// The form checked: the slot it describes, or its errors by field.
    fn check(&self, now: DateTime<Utc>) -> Result<SlotSpec, FieldErrors> {
        let mut errors = FieldErrors::default();
        let zone = schedule::parse_time_zone(&self.time_zone).map_err(|e| errors.add("time_zone", capitalise(&e))).ok();
        let starts_at = zone.and_then(|zone| {
            schedule::parse_local(&self.starts_at, zone).map_err(|e| errors.add("starts_at", capitalise(&e))).ok()
        });
        let minutes = self.minutes.trim().parse::<i16>().unwrap_or(0);
        let repeat_weeks = match self.repeat_weeks.trim() {
            "" => 0,
            text => text.parse::<u32>().unwrap_or(u32::MAX),
        };
        let mode = SwapMode::parse(&self.mode);
        if mode.is_none() {
            errors.add("mode", "Choose a swap or one way.");
        }
        let level = Level::parse(&self.level);
        if level.is_none() {
            errors.add("level", "Choose a level.");
        }
        let team = match self.team.as_str() {
            "" => Some(None),
            text => Team::parse(text).map(Some),
        };
        if team.is_none() {
            errors.add("team", "Choose a team focus, or any team.");
        }
        let kinds = |values: &[String]| values.iter().filter_map(|v| RoundKind::parse(v)).collect::<Vec<_>>();
        let (Some(zone), Some(starts_at), Some(mode), Some(level), Some(team)) = (zone, starts_at, mode, level, team)
        else {
            return Err(errors);
        };
        let spec = SlotSpec {
            starts_at,
            minutes,
            zone,
            repeat_weeks,
            mode,
            wants: kinds(&self.wants),
            can_interview: kinds(&self.can_interview),
            team,
            level,
            show_loop_count: self.show_loop_count,
        };
        for (field, message) in peer_board::check_slot(&spec, now) {
            errors.add(field, message);
        }
        if errors.is_empty() { Ok(spec) } else { Err(errors) }
    }
}

#[derive(Template)]
#[template(path = "board/slot_form.html")]
struct SlotFormPage {
    layout: Layout,
    /// The slot being edited; none for a new one.
    editing: Option<Uuid>,
    form: SlotForm,
    errors: FieldErrors,
}

impl SlotFormPage {
    fn kinds(&self) -> &'static [RoundKind] {
        RoundKind::ALL
    }

    fn teams(&self) -> &'static [Team] {
        Team::ALL
    }

    fn levels(&self) -> &'static [Level] {
        Level::ALL
    }

    fn modes(&self) -> &'static [SwapMode] {
        SwapMode::ALL
    }

    fn wants(&self, kind: &RoundKind) -> bool {
        self.form.wants.iter().any(|k| k == kind.as_str())
    }

    fn gives(&self, kind: &RoundKind) -> bool {
        self.form.can_interview.iter().any(|k| k == kind.as_str())
    }

    fn time_zones(&self) -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    fn action(&self) -> String {
        match self.editing {
            Some(id) => format!("/board/slots/{id}/edit"),
            None => "/board/slots".into(),
        }
    }
}

fn slot_form_page(user: crate::db::sessions::SessionUser, editing: Option<Uuid>, form: SlotForm) -> SlotFormPage {
    SlotFormPage { layout: Layout::new(Some(user)), editing, form, errors: FieldErrors::default() }
}

async fn new_slot(State(state): State<AppState>, SignedIn(user): SignedIn) -> Result<Response, AppError> {
    let zone = viewer_zone(&state, user.id, "").await?;
    // Tomorrow at the next full hour, a common time to be free.
    let now = Utc::now();
    let start = now + chrono::Duration::days(1) + chrono::Duration::minutes(60 - i64::from(now.minute()));
    let form = SlotForm {
        starts_at: schedule::to_local_input(start, zone),
        time_zone: zone.name().into(),
        minutes: "90".into(),
        repeat_weeks: "0".into(),
        mode: SwapMode::Reciprocal.as_str().into(),
        level: Level::SeniorStaff.as_str().into(),
        ..SlotForm::default()
    };
    render(&slot_form_page(user, None, form))
}

fn fields_of<'a>(spec: &'a SlotSpec) -> SlotFields<'a> {
    SlotFields {
        minutes: spec.minutes,
        time_zone: spec.zone.name(),
        mode: spec.mode,
        wants: &spec.wants,
        can_interview: &spec.can_interview,
        team: spec.team,
        level: spec.level,
        show_loop_count: spec.show_loop_count,
    }
}

fn refused(page: SlotFormPage) -> Result<Response, AppError> {
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

async fn post_slot(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let form = SlotForm::from_pairs(pairs);
    let spec = match form.check(Utc::now()) {
        Ok(spec) => spec,
        Err(errors) => return refused(SlotFormPage { errors, ..slot_form_page(user, None, form) }),
    };
    let starts = peer_board::occurrences(spec.starts_at, spec.zone, spec.repeat_weeks);
    let ids = db::peer_board::post_slots(&state.db, user.id, &fields_of(&spec), &starts).await?;
    tracing::info!(slots = ids.len(), "board slots posted");
    Ok(Redirect::to("/#your-slots").into_response())
}

/// The slot, if `user` posted it.
async fn own_slot(state: &AppState, id: Uuid, user: Uuid) -> Result<SlotRow, AppError> {
    let slot = db::peer_board::find_slot(&state.db, id).await?.ok_or(AppError::NotFound)?;
    if slot.poster_id != user {
        return Err(AppError::NotFound);
    }
    Ok(slot)
}

async fn edit_slot(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let slot = own_slot(&state, id, user.id).await?;
    if slot.status != SlotStatus::Open {
        return Err(AppError::Conflict("This slot is no longer open, so it cannot be changed."));
    }
    render(&slot_form_page(user, Some(id), SlotForm::of_slot(&slot)))
}

async fn save_slot(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    own_slot(&state, id, user.id).await?;
    let mut form = SlotForm::from_pairs(pairs);
    // An edit changes one slot: its repeats were posted as slots of their own.
    form.repeat_weeks = "0".into();
    let spec = match form.check(Utc::now()) {
        Ok(spec) => spec,
        Err(errors) => return refused(SlotFormPage { errors, ..slot_form_page(user, Some(id), form) }),
    };
    if !db::peer_board::edit_slot(&state.db, id, user.id, spec.starts_at, &fields_of(&spec)).await? {
        return Err(AppError::Conflict("This slot was claimed or withdrawn meanwhile, so it was not changed."));
    }
    Ok(Redirect::to("/#your-slots").into_response())
}

async fn withdraw_slot(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    own_slot(&state, id, user.id).await?;
    if !db::peer_board::withdraw_slot(&state.db, id, user.id).await? {
        return Err(AppError::Conflict("This slot was already claimed or withdrawn."));
    }
    Ok(Redirect::to("/#your-slots").into_response())
}

// ---------------------------------------------------------------- a slot and its claim

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ClaimForm {
    /// What the poster is interviewed on (one of what they want).
    poster_kind: String,
    /// What the claimer is interviewed on (one of what the poster can interview for).
    claimer_kind: String,
    team: String,
    level: String,
    time_zone: String,
}

#[derive(Template)]
#[template(path = "board/slot.html")]
struct SlotPage {
    layout: Layout,
    slot: SlotRow,
    viewer: BoardViewer,
    zone: Tz,
    form: ClaimForm,
    errors: FieldErrors,
    swap_id: Option<Uuid>,
}

impl SlotPage {
    fn sees(&self, item: BoardItem) -> bool {
        may_see_on_board(self.viewer, item, stage_of(&self.slot))
    }

    fn may_claim(&self) -> bool {
        self.sees(BoardItem::Claim)
    }

    fn loop_count(&self) -> Option<i64> {
        self.sees(BoardItem::ScoredLoopCount).then_some(self.slot.scored_loops).flatten()
    }

    fn no_shows(&self) -> Option<i64> {
        self.sees(BoardItem::NoShowCount).then_some(self.slot.no_shows)
    }

    fn when(&self) -> String {
        format!("{} ({})", local(self.slot.starts_at, self.zone), self.zone.name())
    }

    fn poster_zone_time(&self) -> String {
        schedule::format_in_zone_named(self.slot.starts_at, &self.slot.time_zone)
    }

    fn kinds(&self, kinds: &[RoundKind]) -> String {
        kinds_label(kinds)
    }

    fn team(&self) -> &'static str {
        team_label(self.slot.team)
    }

    fn is_reciprocal(&self) -> bool {
        self.slot.mode == SwapMode::Reciprocal
    }

    fn teams(&self) -> &'static [Team] {
        Team::ALL
    }

    fn levels(&self) -> &'static [Level] {
        Level::ALL
    }

    fn round_minutes(&self) -> i16 {
        peer_board::swap_rounds(self.slot.mode, self.slot.starts_at, self.slot.minutes)
            .first()
            .map_or(self.slot.minutes, |r| r.minutes)
    }
}

async fn slot_page(
    state: &AppState,
    user: crate::db::sessions::SessionUser,
    slot: SlotRow,
    zone_asked: &str,
) -> Result<SlotPage, AppError> {
    let viewer = BoardViewer::of(user.id, slot.poster_id, slot.claimed_by);
    if !may_see_on_board(viewer, BoardItem::Slot, stage_of(&slot)) {
        return Err(AppError::NotFound);
    }
    let zone = viewer_zone(state, user.id, zone_asked).await?;
    let swap_id = match may_see_on_board(viewer, BoardItem::Swap, stage_of(&slot)) {
        true => db::peer_board::swap_of_slot(&state.db, slot.id).await?,
        false => None,
    };
    let form = ClaimForm {
        poster_kind: slot.wants.first().map(|k| k.as_str().to_owned()).unwrap_or_default(),
        claimer_kind: slot.can_interview.first().map(|k| k.as_str().to_owned()).unwrap_or_default(),
        team: slot.team.unwrap_or(Team::GenaiLlm).as_str().into(),
        level: slot.level.as_str().into(),
        time_zone: zone.name().into(),
    };
    Ok(SlotPage { layout: Layout::new(Some(user)), slot, viewer, zone, form, errors: FieldErrors::default(), swap_id })
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
struct ZoneQuery {
    zone: String,
}

async fn show_slot(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
    Query(query): Query<ZoneQuery>,
) -> Result<Response, AppError> {
    let slot = db::peer_board::find_slot(&state.db, id).await?.ok_or(AppError::NotFound)?;
    render(&slot_page(&state, user, slot, &query.zone).await?)
}

/// The claim form checked against the slot.
struct ClaimRequest {
    poster_kind: RoundKind,
    claimer_kind: Option<RoundKind>,
    team: Team,
    claimer_level: Level,
    claimer_zone: Tz,
}

fn check_claim(form: &ClaimForm, slot: &SlotRow) -> Result<ClaimRequest, FieldErrors> {
    let mut errors = FieldErrors::default();
    let poster_kind = RoundKind::parse(&form.poster_kind).filter(|k| slot.wants.contains(k));
    if poster_kind.is_none() {
        errors.add("poster_kind", "Choose one of the round kinds they want to practise.");
    }
    let claimer_kind = match slot.mode {
        SwapMode::OneWay => Some(None),
        SwapMode::Reciprocal => {
            RoundKind::parse(&form.claimer_kind).filter(|k| slot.can_interview.contains(k)).map(Some)
        }
    };
    if claimer_kind.is_none() {
        errors.add("claimer_kind", "Choose one of the round kinds they can interview you for.");
    }
    let team = Team::parse(&form.team);
    if team.is_none() {
        errors.add("team", "Choose a team focus.");
    }
    let level = Level::parse(&form.level);
    if level.is_none() {
        errors.add("level", "Choose your level.");
    }
    let zone = schedule::parse_time_zone(&form.time_zone).map_err(|e| errors.add("time_zone", capitalise(&e))).ok();
    match (poster_kind, claimer_kind, team, level, zone) {
        (Some(poster_kind), Some(claimer_kind), Some(team), Some(claimer_level), Some(claimer_zone)) => {
            Ok(ClaimRequest { poster_kind, claimer_kind, team, claimer_level, claimer_zone })
        }
        _ => Err(errors),
    }
}

const CLAIMED_BY_SOMEONE_ELSE: &str = "Someone else claimed this slot a moment before you, so it is not yours. \
     It has left the board; pick another slot there.";

async fn claim_slot(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
    Form(form): Form<ClaimForm>,
) -> Result<Response, AppError> {
    // Load and decide.
    let slot = db::peer_board::find_slot(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let viewer = BoardViewer::of(user.id, slot.poster_id, slot.claimed_by);
    match viewer {
        BoardViewer::Poster => return Err(AppError::Conflict("This is your own slot: someone else claims it.")),
        BoardViewer::Claimer => {
            let swap = db::peer_board::swap_of_slot(&state.db, slot.id).await?.ok_or(AppError::NotFound)?;
            return Ok(Redirect::to(&format!("/swaps/{swap}")).into_response());
        }
        BoardViewer::Other if slot.status == SlotStatus::Claimed => {
            return Err(AppError::Conflict(CLAIMED_BY_SOMEONE_ELSE));
        }
        BoardViewer::Other if !may_see_on_board(viewer, BoardItem::Claim, stage_of(&slot)) => {
            return Err(AppError::NotFound);
        }
        BoardViewer::Other => {}
    }
    let request = match check_claim(&form, &slot) {
        Ok(request) => request,
        Err(errors) => {
            let page = SlotPage { form, errors, ..slot_page(&state, user, slot, "").await? };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    // Save: the claim and both loops in one transaction; the conditional update decides the winner.
    let mut tx = state.db.begin().await?;
    let Some(claimed) = db::peer_board::claim(&mut tx, id, user.id).await? else {
        drop(tx);
        return Err(AppError::Conflict(CLAIMED_BY_SOMEONE_ELSE));
    };
    let rounds = peer_board::swap_rounds(claimed.mode, claimed.starts_at, claimed.minutes);
    let (mut poster_loop, mut claimer_loop) = (None, None);
    for round in &rounds {
        let spec = match round.candidate {
            Candidate::Poster => SwapLoop {
                candidate: claimed.poster_id,
                interviewer: user.id,
                kind: request.poster_kind,
                team: request.team,
                level: slot.level,
                zone: &claimed.time_zone,
            },
            Candidate::Claimer => SwapLoop {
                candidate: user.id,
                interviewer: claimed.poster_id,
                kind: request.claimer_kind.unwrap_or(request.poster_kind),
                team: request.team,
                level: request.claimer_level,
                zone: request.claimer_zone.name(),
            },
        };
        let id = Some(swap_loop(&mut tx, &spec, round.starts_at, round.minutes).await?);
        match round.candidate {
            Candidate::Poster => poster_loop = id,
            Candidate::Claimer => claimer_loop = id,
        }
    }
    let ends_at = claimed.starts_at + chrono::Duration::minutes(i64::from(claimed.minutes));
    let swap = db::peer_board::NewSwap {
        slot: claimed.id,
        poster: claimed.poster_id,
        claimer: user.id,
        mode: claimed.mode,
        starts_at: claimed.starts_at,
        ends_at,
        poster_loop,
        claimer_loop,
    };
    let swap_id = db::peer_board::create_swap(&mut tx, &swap).await?;
    db::peer_board::notify(&mut *tx, claimed.poster_id, swap_id, NoticeKind::Claimed).await?;
    tx.commit().await?;
    told(&state, claimed.poster_id, swap_id, NoticeKind::Claimed);
    tracing::info!(%swap_id, "board slot claimed");
    Ok(Redirect::to(&format!("/swaps/{swap_id}")).into_response())
}

/// One loop of a swap: whose, who interviews, what.
struct SwapLoop<'a> {
    candidate: Uuid,
    interviewer: Uuid,
    kind: RoundKind,
    team: Team,
    level: Level,
    zone: &'a str,
}

/// A one-round peer loop with its question picked by the usual rules and the
/// other person as its interviewer, inside the claim's transaction.
async fn swap_loop(
    tx: &mut sqlx::PgConnection,
    spec: &SwapLoop<'_>,
    starts_at: DateTime<Utc>,
    minutes: i16,
) -> Result<Uuid, AppError> {
    let rounds = [TemplateRound {
        kind: spec.kind,
        title: spec.kind.label().to_owned(),
        minutes,
        question_count: 1,
        with_tag: None,
        without_tag: None,
    }];
    let (seed, new_rounds) = crate::selection::plan_rounds(tx, spec.candidate, spec.team, spec.level, &rounds).await?;
    let template_name = format!("Peer swap: {}", spec.kind.label());
    let new_loop = NewLoop {
        candidate_id: spec.candidate,
        template_id: None,
        template_name: &template_name,
        team: spec.team,
        level: spec.level,
        mode: LoopMode::Peer,
        starts_at,
        time_zone: spec.zone,
        break_minutes: 0,
        seed,
        request_key: None,
    };
    let loop_id = db::loops::create(tx, &new_loop, &new_rounds).await?;
    db::peer_board::set_interviewer(&mut *tx, loop_id, spec.interviewer).await?;
    Ok(loop_id)
}

// ---------------------------------------------------------------- a swap

#[derive(Template)]
#[template(path = "board/swap.html")]
struct SwapPage {
    layout: Layout,
    swap: SwapRow,
    viewer: BoardViewer,
    zone: Tz,
    rounds: Vec<SwapRoundView>,
    now: DateTime<Utc>,
}

/// One round of the swap as its page lists it.
struct SwapRoundView {
    loop_id: Uuid,
    round_id: Uuid,
    title: String,
    starts_at: DateTime<Utc>,
    minutes: i16,
    candidate_name: String,
    interviewer_name: String,
    viewer_is_candidate: bool,
}

impl SwapPage {
    fn when(&self, at: &DateTime<Utc>) -> String {
        local(*at, self.zone)
    }

    fn other_name(&self) -> &str {
        let name = match self.viewer {
            BoardViewer::Poster => &self.swap.claimer_name,
            _ => &self.swap.poster_name,
        };
        name.as_deref().unwrap_or("A deleted account")
    }

    fn other_no_shows(&self) -> i64 {
        match self.viewer {
            BoardViewer::Poster => self.swap.claimer_no_shows,
            _ => self.swap.poster_no_shows,
        }
    }

    fn is_cancelled(&self) -> bool {
        self.swap.status == SwapStatus::Cancelled
    }

    fn may_cancel(&self) -> bool {
        peer_board::may_cancel(self.swap.status, self.swap.ends_at, self.now)
    }

    /// Whether the viewer already marked the other side as a no-show.
    fn marked_other(&self) -> bool {
        match self.viewer {
            BoardViewer::Poster => self.swap.claimer_no_show,
            _ => self.swap.poster_no_show,
        }
    }

    fn may_mark_no_show(&self) -> bool {
        peer_board::may_mark_no_show(self.swap.status, self.swap.ends_at, self.marked_other(), self.now)
    }
}

async fn participant_swap(state: &AppState, id: Uuid, user: Uuid) -> Result<(SwapRow, BoardViewer), AppError> {
    let swap = db::peer_board::find_swap(&state.db, id, user).await?.ok_or(AppError::NotFound)?;
    let viewer = match (swap.poster_id, swap.claimer_id) {
        (Some(poster), claimer) => BoardViewer::of(user, poster, claimer),
        (None, _) => BoardViewer::Claimer,
    };
    if !may_see_on_board(viewer, BoardItem::Swap, SlotStage { open: false, shows_loop_count: false }) {
        return Err(AppError::NotFound);
    }
    Ok((swap, viewer))
}

fn swap_loops(swap: &SwapRow) -> Vec<Uuid> {
    // The round the claimer is interviewed in comes first.
    swap.claimer_loop_id.into_iter().chain(swap.poster_loop_id).collect()
}

async fn show_swap(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let (swap, viewer) = participant_swap(&state, id, user.id).await?;
    let zone = viewer_zone(&state, user.id, "").await?;
    let mut rounds = Vec::new();
    let mut db = state.db.acquire().await?;
    for loop_id in swap_loops(&swap) {
        let Some(the_loop) = db::loops::find_for_participant(&mut *db, loop_id, user.id).await? else { continue };
        for round in db::loops::rounds(&mut *db, loop_id).await? {
            rounds.push(SwapRoundView {
                loop_id,
                round_id: round.id,
                title: round.title.clone(),
                starts_at: the_loop.starts_at,
                minutes: round.planned_minutes,
                candidate_name: the_loop.candidate_name.clone(),
                interviewer_name: round.interviewer_name.clone().unwrap_or_else(|| "nobody yet".into()),
                viewer_is_candidate: the_loop.candidate_id == user.id,
            });
        }
    }
    drop(db);
    rounds.sort_by_key(|r| r.starts_at);
    render(&SwapPage { layout: Layout::new(Some(user)), swap, viewer, zone, rounds, now: Utc::now() })
}

async fn swap_calendar(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let (swap, _) = participant_swap(&state, id, user.id).await?;
    let mut rows = Vec::new();
    let mut db = state.db.acquire().await?;
    for loop_id in swap_loops(&swap) {
        rows.extend(db::calendar::rounds_of_loop(&mut *db, loop_id).await?);
    }
    drop(db);
    let events = events_for(user.id, &rows, &state.settings.base_url);
    let body = ics::calendar("mockloop: peer swap", &events, Utc::now());
    Ok(ics_response(body, &format!("mockloop-swap-{}.ics", &id.simple().to_string()[..8])))
}

async fn cancel_swap(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    let (swap, viewer) = participant_swap(&state, id, user.id).await?;
    if !peer_board::may_cancel(swap.status, swap.ends_at, Utc::now()) {
        return Err(AppError::Conflict("This swap is already cancelled or over."));
    }
    let other = match viewer {
        BoardViewer::Poster => swap.claimer_id,
        _ => swap.poster_id,
    };
    let mut tx = state.db.begin().await?;
    if !db::peer_board::cancel_swap(&mut *tx, id, user.id).await? {
        return Err(AppError::Conflict("This swap is already cancelled."));
    }
    // Each side is the candidate of its own loop.
    for (loop_id, candidate) in [(swap.claimer_loop_id, swap.claimer_id), (swap.poster_loop_id, swap.poster_id)] {
        if let (Some(loop_id), Some(candidate)) = (loop_id, candidate) {
            db::loops::cancel(&mut tx, loop_id, candidate).await?;
        }
    }
    if let Some(other) = other {
        db::peer_board::notify(&mut *tx, other, id, NoticeKind::Cancelled).await?;
    }
    tx.commit().await?;
    if let Some(other) = other {
        told(&state, other, id, NoticeKind::Cancelled);
    }
    tracing::info!(swap_id = %id, "swap cancelled");
    Ok(Redirect::to(&format!("/swaps/{id}")).into_response())
}

async fn mark_no_show(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
) -> Result<Response, AppError> {
    participant_swap(&state, id, user.id).await?;
    if !db::peer_board::mark_no_show(&state.db, id, user.id).await? {
        return Err(AppError::Conflict(
            "A no-show can be marked once, after the swap's time has passed, and not for a cancelled swap.",
        ));
    }
    Ok(Redirect::to(&format!("/swaps/{id}")).into_response())
}

// ---------------------------------------------------------------- notices

/// Follows a notice just saved: this instance re-reads `user`'s header count
/// at once (the others when the insert is announced), and the notice is mailed
/// if the operator configured SMTP (in the background).
fn told(state: &AppState, user: Uuid, swap: Uuid, kind: NoticeKind) {
    state.live.sessions().forget_user(user);
    let (mailer, db, base) = (state.mailer.clone(), state.db.clone(), state.settings.base_url.clone());
    crate::mail::send_notice(mailer, db, base, user, swap, kind);
}

#[derive(Template)]
#[template(path = "board/notices.html")]
struct NoticesPage {
    layout: Layout,
    notices: Vec<NoticeRow>,
    zone: Tz,
}

impl NoticesPage {
    fn when(&self, at: &DateTime<Utc>) -> String {
        local(*at, self.zone)
    }

    fn text(&self, notice: &NoticeRow) -> String {
        notice_text(notice.kind, notice.other_name.as_deref().unwrap_or("A deleted account"))
    }
}

async fn show_notices(State(state): State<AppState>, SignedIn(user): SignedIn) -> Result<Response, AppError> {
    let zone = viewer_zone(&state, user.id, "").await?;
    let notices = db::peer_board::notices(&state.db, user.id, 50).await?;
    // Shown now: read. The page still marks which ones were new.
    db::peer_board::mark_read(&state.db, user.id).await?;
    state.live.sessions().forget_user(user.id);
    let mut user = user;
    user.unread_notices = 0;
    render(&NoticesPage { layout: Layout::new(Some(user)), notices, zone })
}

/// Server-sent events: the unread count now, then again whenever the user's
/// notices change (or the listener resynchronises). Ends with the session.
async fn notice_events(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    let session_hash = session::session_hash(&headers).ok_or(AppError::NotFound)?;
    let holder = db::live::StreamHolder { session_hash, user: user.id, round: Uuid::nil() };
    let permit = state
        .live
        .open_notice_stream(holder, state.limits.max_live_streams_per_user)
        .ok_or(AppError::TooManyLiveStreams)?;
    let (closed, access_ended) = (state.live.closed(), permit.ended());
    let user_id = user.id;
    let changes = BroadcastStream::new(state.live.subscribe()).filter_map(move |event| async move {
        match event {
            Ok(LiveEvent::NoticesChanged { user, .. }) => (user == user_id).then_some(()),
            Ok(LiveEvent::RoundChanged { .. } | LiveEvent::CallSignalled { .. }) => None,
            Ok(LiveEvent::Resync { .. }) | Err(_) => Some(()),
        }
    });
    let events = futures_util::stream::once(async {})
        .chain(changes)
        .then(move |()| {
            let db = state.db.clone();
            async move {
                match db::peer_board::unread_count(&db, user_id).await {
                    Ok(count) => Some(Ok(Event::default().event("notices").data(count.to_string()))),
                    Err(error) => {
                        tracing::warn!(%error, "cannot count notices");
                        None
                    }
                }
            }
        })
        .filter_map(|event| async move { event })
        .take_until(futures_util::future::select(Box::pin(closed), Box::pin(access_ended)))
        .map(move |event| {
            let _held = &permit;
            event
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// A notice's sentence, for the notices page.
pub fn notice_text(kind: NoticeKind, other: &str) -> String {
    match kind {
        NoticeKind::Claimed => format!("{other} claimed your slot: your swap is scheduled."),
        NoticeKind::Cancelled => format!("{other} cancelled your swap."),
        NoticeKind::StartingSoon => format!("Your swap with {other} starts soon."),
    }
}

// ---------------------------------------------------------------- home

/// What the home page shows of the board: the user's open slots, their
/// swaps, and how many rounds they gave and took.
pub struct HomeBoard {
    pub slots: Vec<SlotRow>,
    pub swaps: Vec<SwapRow>,
    pub give_take: GiveTake,
    pub zone: Tz,
    pub user: Uuid,
}

impl HomeBoard {
    pub async fn load(state: &AppState, user: Uuid) -> Result<HomeBoard, AppError> {
        let zone = viewer_zone(state, user, "").await?;
        let mut db = state.db.acquire().await?;
        Ok(HomeBoard {
            slots: db::peer_board::own_open_slots(&mut *db, user).await?,
            swaps: db::peer_board::swaps_of(&mut *db, user).await?,
            give_take: db::peer_board::give_take(&mut *db, user).await?,
            zone,
            user,
        })
    }

    pub fn when(&self, at: &DateTime<Utc>) -> String {
        local(*at, self.zone)
    }

    pub fn kinds(&self, kinds: &[RoundKind]) -> String {
        kinds_label(kinds)
    }

    pub fn other_name(&self, swap: &SwapRow) -> String {
        let name = if swap.poster_id == Some(self.user) { &swap.claimer_name } else { &swap.poster_name };
        name.clone().unwrap_or_else(|| "A deleted account".into())
    }
}
