//! Scheduling a loop, its page (timeline, calendar), rescheduling and cancelling.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use serde::Deserialize;
use uuid::Uuid;

use super::extract::Form;
use super::forms::{FieldErrors, capitalise};
use super::page::{Layout, render};
use super::participant::ParticipantLoop;
use super::round_view;
use super::session::SignedIn;
use super::{ics_feed, invitation_links};
use crate::db;
use crate::db::invitations::InvitationSummary;
use crate::db::loops::{LoopRow, NewLoop, RoundRow};
use crate::db::sessions::SessionUser;
use crate::db::templates::TemplateWithRounds;
use crate::domain::timer::TimerState;
use crate::domain::visibility::Viewer;
use crate::domain::{Level, LoopMode, LoopStatus, Team, ics, schedule, timer};
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/loops/new", get(new_loop))
        .route("/loops", post(create_loop))
        .route("/loops/{id}", get(show_loop))
        .route("/loops/{id}/calendar.ics", get(loop_calendar))
        .route("/loops/{id}/reschedule", post(reschedule_loop))
        .route("/loops/{id}/cancel", post(cancel_loop))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LoopForm {
    template: String,
    team: String,
    level: String,
    mode: String,
    starts_at: String,
    time_zone: String,
    break_minutes: String,
    request_key: String,
}

#[derive(Template)]
#[template(path = "loops/new.html")]
struct NewLoopPage {
    layout: Layout,
    templates: Vec<TemplateWithRounds>,
    form: LoopForm,
    errors: FieldErrors,
}

impl NewLoopPage {
    fn teams(&self) -> &'static [Team] {
        Team::ALL
    }

    fn levels(&self) -> &'static [Level] {
        Level::ALL
    }

    fn time_zones(&self) -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// The mode the form has chosen (self-timed unless peer).
    fn chosen_mode(&self) -> LoopMode {
        LoopMode::parse(&self.form.mode).unwrap_or(LoopMode::SelfTimed)
    }
}

async fn new_loop(State(state): State<AppState>, SignedIn(user): SignedIn) -> Result<Response, AppError> {
    let templates = super::templates::visible_templates(&state, Some(user.id)).await?;
    let zone = Tz::UTC;
    // The next quarter hour, so the default is a sensible time to start.
    let now = Utc::now();
    let next_quarter = now + chrono::Duration::minutes(15 - i64::from(now.minute() % 15));
    let form = LoopForm {
        template: templates.first().map(|t| t.slug.clone()).unwrap_or_default(),
        team: Team::GenaiLlm.as_str().into(),
        level: Level::SeniorStaff.as_str().into(),
        mode: LoopMode::SelfTimed.as_str().into(),
        starts_at: schedule::to_local_input(next_quarter, zone),
        time_zone: zone.name().into(),
        break_minutes: "10".into(),
        request_key: Uuid::new_v4().to_string(),
    };
    render(&NewLoopPage { layout: Layout::new(Some(user)), templates, form, errors: FieldErrors::default() })
}

/// The form, checked: what the loop will be.
struct LoopRequest {
    template: TemplateWithRounds,
    team: Team,
    level: Level,
    starts_at: DateTime<Utc>,
    zone: Tz,
    break_minutes: i16,
    request_key: Option<Uuid>,
    mode: LoopMode,
}

fn check_form(form: &LoopForm, templates: &[TemplateWithRounds]) -> Result<LoopRequest, FieldErrors> {
    let mut errors = FieldErrors::default();
    let template = templates.iter().find(|t| t.slug == form.template);
    if template.is_none() {
        errors.add("template", "Choose a template.");
    }
    let team = Team::parse(&form.team);
    if team.is_none() {
        errors.add("team", "Choose a team focus.");
    }
    let level = Level::parse(&form.level);
    if level.is_none() {
        errors.add("level", "Choose a level.");
    }
    let mode = LoopMode::parse(&form.mode);
    if mode.is_none() {
        errors.add("mode", "Choose self-timed or peer.");
    }
    let zone = schedule::parse_time_zone(&form.time_zone).map_err(|e| errors.add("time_zone", capitalise(&e))).ok();
    let starts_at = zone.and_then(|zone| {
        schedule::parse_local(&form.starts_at, zone).map_err(|e| errors.add("starts_at", capitalise(&e))).ok()
    });
    let break_minutes = form.break_minutes.trim().parse::<i16>().ok().filter(|m| (0..=120).contains(m));
    if break_minutes.is_none() {
        errors.add("break_minutes", "Enter a break of 0 to 120 minutes.");
    }
    match (template, team, level, mode, zone, starts_at, break_minutes) {
        (Some(template), Some(team), Some(level), Some(mode), Some(zone), Some(starts_at), Some(break_minutes))
            if errors.is_empty() =>
        {
            Ok(LoopRequest {
                template: template.clone(),
                team,
                level,
                starts_at,
                zone,
                break_minutes,
                request_key: form.request_key.parse().ok(),
                mode,
            })
        }
        _ => Err(errors),
    }
}

async fn create_loop(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Form(form): Form<LoopForm>,
) -> Result<Response, AppError> {
    let templates = super::templates::visible_templates(&state, Some(user.id)).await?;
    let request = match check_form(&form, &templates) {
        Ok(request) => request,
        Err(errors) => {
            let page = NewLoopPage { layout: Layout::new(Some(user)), templates, form, errors };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let loop_id = schedule_loop(&state, &user, &request).await?;
    tracing::info!(%loop_id, "loop scheduled");
    Ok(Redirect::to(&format!("/loops/{loop_id}")).into_response())
}

/// Picks the questions and stores the loop, all in one transaction.
async fn schedule_loop(state: &AppState, user: &SessionUser, request: &LoopRequest) -> Result<Uuid, AppError> {
    let mut tx = state.db.begin().await?;
    let rounds = &request.template.rounds.0;
    let (seed, new_rounds) =
        crate::selection::plan_rounds(&mut tx, user.id, request.team, request.level, rounds).await?;
    let zone_name = request.zone.name();
    let new_loop = NewLoop {
        candidate_id: user.id,
        template_id: Some(request.template.id),
        template_name: &request.template.name,
        team: request.team,
        level: request.level,
        mode: request.mode,
        starts_at: request.starts_at,
        time_zone: zone_name,
        break_minutes: request.break_minutes,
        seed,
        request_key: request.request_key,
    };
    let loop_id = db::loops::create(&mut tx, &new_loop, &new_rounds).await?;
    tx.commit().await?;
    Ok(loop_id)
}

#[derive(Template)]
#[template(path = "loops/show.html")]
struct LoopPage {
    layout: Layout,
    the_loop: LoopRow,
    rounds: Vec<RoundRow>,
    slots: Vec<schedule::Slot>,
    zone: Tz,
    is_candidate: bool,
    reschedule_errors: FieldErrors,
    /// What was typed into a refused reschedule form, shown again instead of the stored schedule.
    reschedule_typed: Option<RescheduleForm>,
    invitations: Vec<InvitationSummary>,
    viewer: Uuid,
}

impl LoopPage {
    fn local(&self, instant: &DateTime<Utc>) -> String {
        schedule::format_local(*instant, self.zone)
    }

    fn local_time(&self, instant: &DateTime<Utc>) -> String {
        schedule::format_local_time(*instant, self.zone)
    }

    fn slot(&self, index: &usize) -> Option<&schedule::Slot> {
        self.slots.get(*index)
    }

    fn starts_input(&self) -> String {
        match &self.reschedule_typed {
            Some(typed) => typed.starts_at.clone(),
            None => schedule::to_local_input(self.the_loop.starts_at, self.zone),
        }
    }

    fn break_input(&self) -> String {
        match &self.reschedule_typed {
            Some(typed) => typed.break_minutes.clone(),
            None => self.the_loop.break_minutes.to_string(),
        }
    }

    fn is_chosen_zone(&self, zone: &str) -> bool {
        self.reschedule_typed.as_ref().map_or(self.the_loop.time_zone.as_str(), |typed| typed.time_zone.trim()) == zone
    }

    fn can_change_schedule(&self) -> bool {
        self.is_candidate && self.the_loop.status == LoopStatus::Scheduled
    }

    fn can_cancel(&self) -> bool {
        self.is_candidate && !self.the_loop.status.is_finished()
    }

    /// A candidate meets each question when its round starts; an interviewer
    /// sees the questions of the rounds they interview.
    fn question_titles(&self, round: &RoundRow) -> Vec<String> {
        let viewer = Viewer::in_loop(self.viewer, self.the_loop.candidate_id, round.interviewer_id, false);
        round_view::question_titles_seen_by(round, self.the_loop.mode, viewer)
    }

    /// What is missing when the bank had fewer questions that fit the round
    /// than its template asked for: selection never repeats a topic to fill it.
    fn shortfall(&self, round: &RoundRow) -> Option<String> {
        let (held, wanted) = (round.question_titles.len(), usize::try_from(round.questions_wanted).unwrap_or(0));
        let why = "no other question in the bank fits this round (its kind, the loop's level) on a topic the loop does not already cover";
        match held {
            _ if held >= wanted => None,
            0 => Some(format!("No question: {why}.")),
            _ => Some(format!("Only {held} of {wanted} questions: {why}.")),
        }
    }

    /// The candidate takes part in every round; an interviewer in their own.
    fn takes_part_in(&self, round: &RoundRow) -> bool {
        self.is_candidate || round.interviewer_id == Some(self.viewer)
    }

    fn is_peer(&self) -> bool {
        self.the_loop.mode == LoopMode::Peer
    }

    fn can_invite(&self) -> bool {
        self.is_candidate && self.is_peer() && !self.the_loop.status.is_finished()
    }

    fn uninvited_rounds(&self) -> Vec<&RoundRow> {
        self.rounds.iter().filter(|r| r.interviewer_id.is_none() && r.timer_state == TimerState::NotStarted).collect()
    }

    fn invitation_state(&self, invitation: &InvitationSummary) -> &'static str {
        if invitation.revoked_at.is_some() {
            "Withdrawn"
        } else if invitation.accepted as usize == invitation.round_positions.len() {
            "Accepted"
        } else if invitation.expires_at <= Utc::now() {
            "Expired"
        } else if invitation.accepted > 0 {
            "Partly accepted"
        } else {
            "Waiting"
        }
    }

    fn positions(&self, invitation: &InvitationSummary) -> String {
        invitation.round_positions.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(", ")
    }

    fn default_expiry_days(&self) -> i64 {
        invitation_links::DEFAULT_EXPIRY_DAYS
    }

    fn round_status(&self, round: &RoundRow) -> String {
        match round.timer_state {
            TimerState::Ended => format!("Done · {} used", timer::format_duration(round.elapsed_ms)),
            state => state.label().into(),
        }
    }

    fn time_zones(&self) -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }
}

async fn load_loop_page(
    state: &AppState,
    ParticipantLoop { user, the_loop }: ParticipantLoop,
    errors: FieldErrors,
    reschedule_typed: Option<RescheduleForm>,
) -> Result<LoopPage, AppError> {
    let loop_id = the_loop.id;
    let mut db = state.db.acquire().await?;
    let rounds = db::loops::rounds(&mut *db, loop_id).await?;
    let zone = schedule::parse_time_zone(&the_loop.time_zone).unwrap_or(Tz::UTC);
    let minutes: Vec<i16> = rounds.iter().map(|r| r.planned_minutes).collect();
    let slots = schedule::timeline(the_loop.starts_at, &minutes, the_loop.break_minutes);
    let is_candidate = the_loop.candidate_id == user.id;
    let invitations = if is_candidate && the_loop.mode == LoopMode::Peer {
        db::invitations::list_for_loop(&mut *db, loop_id).await?
    } else {
        Vec::new()
    };
    let viewer = user.id;
    Ok(LoopPage {
        layout: Layout::new(Some(user)),
        the_loop,
        rounds,
        slots,
        zone,
        is_candidate,
        reschedule_errors: errors,
        reschedule_typed,
        invitations,
        viewer,
    })
}

async fn show_loop(State(state): State<AppState>, participant: ParticipantLoop) -> Result<Response, AppError> {
    render(&load_loop_page(&state, participant, FieldErrors::default(), None).await?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RescheduleForm {
    starts_at: String,
    time_zone: String,
    break_minutes: String,
}

async fn reschedule_loop(
    State(state): State<AppState>,
    participant: ParticipantLoop,
    Form(form): Form<RescheduleForm>,
) -> Result<Response, AppError> {
    participant.require_candidate()?;
    let (id, user) = (participant.the_loop.id, participant.user.id);
    let mut errors = FieldErrors::default();
    let zone = schedule::parse_time_zone(&form.time_zone).map_err(|e| errors.add("time_zone", capitalise(&e))).ok();
    let starts_at = zone.and_then(|z| {
        schedule::parse_local(&form.starts_at, z).map_err(|e| errors.add("starts_at", capitalise(&e))).ok()
    });
    let break_minutes = form.break_minutes.trim().parse::<i16>().ok().filter(|m| (0..=120).contains(m));
    if break_minutes.is_none() {
        errors.add("break_minutes", "Enter a break of 0 to 120 minutes.");
    }
    if let (Some(zone), Some(starts_at), Some(break_minutes)) = (zone, starts_at, break_minutes) {
        if db::loops::reschedule(&state.db, id, user, starts_at, zone.name(), break_minutes).await? {
            return Ok(Redirect::to(&format!("/loops/{id}")).into_response());
        }
        return Err(AppError::Conflict("Only a loop that has not started can be rescheduled."));
    }
    let page = load_loop_page(&state, participant, errors, Some(form)).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

async fn cancel_loop(State(state): State<AppState>, participant: ParticipantLoop) -> Result<Response, AppError> {
    participant.require_candidate()?;
    let id = participant.the_loop.id;
    let mut tx = state.db.begin().await?;
    if !db::loops::cancel(&mut tx, id, participant.user.id).await? {
        return Err(AppError::Conflict("A loop can be cancelled only before it is complete."));
    }
    tx.commit().await?;
    tracing::info!(loop_id = %id, "loop cancelled");
    Ok(Redirect::to(&format!("/loops/{id}")).into_response())
}

/// The loop's rounds this participant takes part in, as a calendar file.
async fn loop_calendar(
    State(state): State<AppState>,
    ParticipantLoop { user, the_loop }: ParticipantLoop,
) -> Result<Response, AppError> {
    let id = the_loop.id;
    let mut db = state.db.acquire().await?;
    let rows = db::calendar::rounds_of_loop(&mut *db, id).await?;
    drop(db);
    let events = ics_feed::events_for(user.id, &rows, &state.settings.base_url);
    let body = ics::calendar(&format!("mockloop: {}", the_loop.template_name), &events, Utc::now());
    Ok(ics_feed::ics_response(body, &format!("mockloop-{}.ics", &id.simple().to_string()[..8])))
}
