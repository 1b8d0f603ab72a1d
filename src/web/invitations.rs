//! Inviting peers to interview: the candidate makes a link for some rounds;
//! whoever opens it signs in and becomes those rounds' interviewer.

use askama::Template;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::{Duration, Utc};
use uuid::Uuid;

use super::extract::{Form, Path};
use super::invitation_links::{self, Unusable};
use super::page::{Layout, render};
use super::participant::ParticipantLoop;
use super::security::no_store;
use super::session::{self, CurrentUser, SignedIn};
use crate::db;
use crate::db::invitations::{AcceptedRound, OpenedInvitation};
use crate::domain::timer::TimerState;
use crate::domain::{LoopMode, schedule};
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/loops/{id}/invitations", post(create_invitation))
        .route("/loops/{id}/invitations/{invitation}/revoke", post(revoke_invitation))
        .route("/invite/{token}", get(open_invitation).post(accept_invitation))
}

#[derive(Template)]
#[template(path = "invitations/created.html")]
struct CreatedPage {
    layout: Layout,
    loop_id: Uuid,
    link: String,
    rounds: usize,
    expires: String,
}

async fn create_invitation(
    State(state): State<AppState>,
    participant: ParticipantLoop,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    participant.require_candidate()?;
    let ParticipantLoop { user, the_loop } = participant;
    let loop_id = the_loop.id;
    if the_loop.mode != LoopMode::Peer || the_loop.status.is_finished() {
        return Err(AppError::Conflict("Interviewers can be invited to a peer loop that is not finished."));
    }
    let round_ids: Vec<Uuid> = pairs.iter().filter(|(k, _)| k == "round").filter_map(|(_, v)| v.parse().ok()).collect();
    if round_ids.is_empty() {
        return Err(AppError::BadRequest("Choose at least one round to invite an interviewer to."));
    }
    let rounds = db::loops::rounds(&state.db, loop_id).await?;
    let chosen: Vec<_> = rounds.iter().filter(|r| round_ids.contains(&r.id)).collect();
    if chosen.len() != round_ids.len() {
        return Err(AppError::BadRequest("Those rounds are not all rounds of this loop."));
    }
    if chosen.iter().any(|r| r.interviewer_id.is_some() || r.timer_state != TimerState::NotStarted) {
        return Err(AppError::Conflict("A chosen round already has an interviewer or has started."));
    }
    let days = pairs
        .iter()
        .find(|(k, _)| k == "expires_days")
        .and_then(|(_, v)| v.trim().parse::<i64>().ok())
        .filter(|d| (1..=60).contains(d))
        .unwrap_or(invitation_links::DEFAULT_EXPIRY_DAYS);
    let (token, hash) = session::new_token();
    let expires_at = Utc::now() + Duration::days(days);
    let mut tx = state.db.begin().await?;
    db::invitations::create(&mut tx, loop_id, user.id, &hash, expires_at, &round_ids).await?;
    tx.commit().await?;
    tracing::info!(%loop_id, rounds = round_ids.len(), "invitation created");
    let zone = schedule::parse_time_zone(&the_loop.time_zone).unwrap_or(chrono_tz::Tz::UTC);
    let page = render(&CreatedPage {
        layout: Layout::new(Some(user)),
        loop_id,
        link: format!("{}/invite/{token}", state.settings.base_url),
        rounds: round_ids.len(),
        expires: schedule::format_local(expires_at, zone),
    })?;
    Ok(no_store(page))
}

#[derive(Template)]
#[template(path = "invitations/withdraw.html")]
struct WithdrawPage {
    layout: Layout,
    loop_id: Uuid,
    invitation: Uuid,
    accepted: Vec<AcceptedRound>,
}

/// Withdraws an invitation. If someone accepted it, the candidate first
/// confirms on a page that says what that does to them; the form then comes
/// back with `confirm=yes`.
async fn revoke_invitation(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path((loop_id, invitation)): Path<(Uuid, Uuid)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, AppError> {
    let confirmed = pairs.iter().any(|(k, v)| k == "confirm" && v == "yes");
    if !confirmed {
        let accepted = db::invitations::accepted_rounds(&state.db, invitation, loop_id, user.id).await?;
        if !accepted.is_empty() {
            return render(&WithdrawPage { layout: Layout::new(Some(user)), loop_id, invitation, accepted });
        }
    }
    let mut tx = state.db.begin().await?;
    let left = db::invitations::revoke(&mut tx, invitation, loop_id, user.id).await?.ok_or(AppError::NotFound)?;
    // Live streams re-read the round on a change and stop serving whoever no longer takes part.
    for round in &left {
        db::rounds::notify_round_changed(&mut *tx, *round).await?;
    }
    tx.commit().await?;
    tracing::info!(%loop_id, rounds_left = left.len(), "invitation withdrawn");
    Ok(Redirect::to(&format!("/loops/{loop_id}#invitations")).into_response())
}

#[derive(Template)]
#[template(path = "invitations/show.html")]
struct InvitationPage {
    layout: Layout,
    token: String,
    invitation: Option<OpenedInvitation>,
    problem: Option<&'static str>,
    signed_in: bool,
}

impl InvitationPage {
    fn when(&self) -> String {
        self.invitation.as_ref().map_or(String::new(), |i| schedule::format_in_zone_named(i.starts_at, &i.time_zone))
    }

    fn sign_in_query(&self) -> String {
        serde_urlencoded::to_string([("next", format!("/invite/{}", self.token))]).unwrap_or_default()
    }
}

async fn open_invitation(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let usable = invitation_links::find_usable(&state, &token, user.as_ref().map(|u| u.id)).await?;
    let signed_in = user.is_some();
    let layout = Layout::new(user);
    match usable {
        Ok(invitation) => {
            render(&InvitationPage { layout, token, invitation: Some(invitation), problem: None, signed_in })
        }
        Err(problem) => {
            let page = InvitationPage { layout, token, invitation: None, problem: Some(problem.message()), signed_in };
            Ok((problem.status(), render(&page)?).into_response())
        }
    }
}

async fn accept_invitation(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(token): Path<String>,
) -> Result<Response, AppError> {
    let invitation = match invitation_links::find_usable(&state, &token, Some(user.id)).await? {
        Ok(invitation) => invitation,
        Err(problem) => {
            let page = InvitationPage {
                layout: Layout::new(Some(user)),
                token,
                invitation: None,
                problem: Some(problem.message()),
                signed_in: true,
            };
            return Ok((problem.status(), render(&page)?).into_response());
        }
    };
    let mut tx = state.db.begin().await?;
    let taken = db::invitations::accept(&mut tx, invitation.id, user.id).await?;
    tx.commit().await?;
    if taken == 0 {
        // Someone else accepted the same rounds a moment earlier.
        let page = InvitationPage {
            layout: Layout::new(Some(user)),
            token,
            invitation: None,
            problem: Some(Unusable::Taken.message()),
            signed_in: true,
        };
        return Ok((StatusCode::GONE, render(&page)?).into_response());
    }
    tracing::info!(loop_id = %invitation.loop_id, rounds = taken, "invitation accepted");
    Ok(Redirect::to(&format!("/loops/{}", invitation.loop_id)).into_response())
}
