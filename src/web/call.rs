//! The round's 1:1 call between its candidate and its interviewer. Media goes
//! straight between the two browsers (WebRTC); mockloop only carries their
//! signalling: a page posts each message here, and the other participant's
//! page receives it on its call event stream, from any instance (a NOTIFY per
//! message), resuming after the last id it saw when it reconnects. Nothing of a
//! call is kept once its round ends.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio_stream::wrappers::BroadcastStream;
use uuid::Uuid;

use super::extract::Path;
use super::participant::{ParticipantRound, lock_round};
use super::round_view;
use super::session::{self, SignedIn};
use crate::db;
use crate::db::live::StreamHolder;
use crate::db::rounds::RoundState;
use crate::domain::LoopStatus;
use crate::domain::blind_scoring::RoundStage;
use crate::domain::call::{self, CallClosed, Signal, SignalError};
use crate::domain::visibility::{self, Item, Viewer};
use crate::live::LiveEvent;
use crate::state::AppState;
use crate::web::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/rounds/{id}/call/signals", post(send_signal))
        .route("/rounds/{id}/call/events", get(call_events))
}

/// Why `viewer` cannot take part in the round's call now, if they cannot.
fn closed_for(round: &RoundState, viewer: Viewer) -> Option<&'static str> {
    if round.loop_status == LoopStatus::Cancelled {
        return Some("This loop was cancelled, and its calls with it.");
    }
    let stage = round_view::stage(round, RoundStage::default());
    if visibility::may_see(viewer, Item::Call, stage) {
        return None;
    }
    Some(
        call::closed_because(stage)
            .map_or("Only the round's candidate and interviewer talk in its call.", CallClosed::message),
    )
}

#[derive(Serialize)]
struct Sent {
    id: i64,
}

#[derive(Serialize)]
struct Refused {
    error: &'static str,
}

fn refuse(status: StatusCode, error: &'static str) -> Response {
    (status, Json(Refused { error })).into_response()
}

fn refuse_signal(error: SignalError) -> Response {
    let status = match error {
        SignalError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        SignalError::NotASignal => StatusCode::UNPROCESSABLE_ENTITY,
        SignalError::TooFast | SignalError::TooMany => StatusCode::TOO_MANY_REQUESTS,
    };
    refuse(status, error.message())
}

/// Passes one signalling message (JSON, [`Signal`]) to the other participant.
async fn send_signal(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Result<Response, AppError> {
    let signal = Signal::parse(&body);
    let mut tx = state.db.begin().await?;
    // Locked, so that the round's counts are read as they stand; anyone else gets 404.
    let (round, viewer) = lock_round(&mut tx, id, user.id).await?;
    if let Some(reason) = closed_for(&round, viewer) {
        return Ok(refuse(StatusCode::CONFLICT, reason));
    }
    let signal = match signal {
        Ok(signal) => signal,
        Err(error) => return Ok(refuse_signal(error)),
    };
    if let Err(error) = call::admit(db::call::counts(&mut *tx, id, user.id).await?) {
        tracing::info!(round_id = %id, ?error, "call signal refused");
        return Ok(refuse_signal(error));
    }
    let signal_id = db::call::record(&mut tx, id, user.id, signal.kind(), &signal.to_json()).await?;
    tx.commit().await?;
    Ok(Json(Sent { id: signal_id }).into_response())
}

#[derive(Debug, Deserialize)]
struct EventsQuery {
    /// The last signal id the page has seen (the page's `data-after` at first).
    #[serde(default)]
    after: i64,
}

/// Signals read per query; a backlog is read in several.
const SIGNALS_PER_READ: i64 = 100;

/// Server-sent events: each signal the other participant sends, as a `signal`
/// event whose id is the signal's, from after `after` (or the browser's
/// `Last-Event-ID` when it reconnects). Ends with the session, with the
/// viewer's access, at shutdown, and when the database cannot be read (the
/// browser reconnects and resumes where it was).
async fn call_events(
    State(state): State<AppState>,
    ParticipantRound { user, round, viewer }: ParticipantRound,
    Query(query): Query<EventsQuery>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, AppError> {
    if let Some(reason) = closed_for(&round, viewer) {
        return Err(AppError::Conflict(reason));
    }
    let id = round.id;
    let resumed = headers.get("last-event-id").and_then(|value| value.to_str().ok()?.trim().parse::<i64>().ok());
    let last_seen = Arc::new(AtomicI64::new(resumed.unwrap_or(query.after).max(0)));
    let session_hash = session::session_hash(&headers).ok_or(AppError::NotFound)?;
    let holder = StreamHolder { session_hash, user: user.id, round: id };
    let permit =
        state.live.open_stream(holder, state.limits.max_live_streams_per_user).ok_or(AppError::TooManyLiveStreams)?;
    let access_ended = permit.ended();
    let closing = state.live.closed();
    // Subscribed before the first read, so that no signal falls between the two.
    let news = BroadcastStream::new(state.live.subscribe()).filter_map(move |event| {
        let wake = match event {
            Ok(LiveEvent::CallSignalled { round, .. }) => round == id,
            Ok(LiveEvent::RoundChanged { .. } | LiveEvent::NoticesChanged { .. }) => false,
            // The listener reconnected, or this stream fell behind: read whatever is new.
            Ok(LiveEvent::Resync { .. }) | Err(_) => true,
        };
        futures_util::future::ready(wake.then_some(()))
    });
    let me = user.id;
    let events = futures_util::stream::once(futures_util::future::ready(()))
        .chain(news)
        // Holds the whole state, the live hub with it, for as long as the stream lives.
        .then(move |()| {
            let (state, last_seen) = (state.clone(), last_seen.clone());
            async move { signals_since(&state.db, id, me, &last_seen).await }
        })
        .take_while(|read| futures_util::future::ready(read.is_ok()))
        .flat_map(|read| futures_util::stream::iter(read.unwrap_or_default()))
        .take_until(futures_util::future::select(Box::pin(closing), Box::pin(access_ended)))
        // The permit goes with the stream and frees the slot when the stream is dropped.
        .map(move |event| {
            let _held = &permit;
            Ok(event)
        });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// The other participant's signals after `last_seen`, as events; moves `last_seen` on.
async fn signals_since(
    db: &sqlx::PgPool,
    round: Uuid,
    me: Uuid,
    last_seen: &AtomicI64,
) -> Result<Vec<Event>, sqlx::Error> {
    let mut events = Vec::new();
    loop {
        let after = last_seen.load(Ordering::SeqCst);
        let read = db::call::sent_by_others_after(db, round, me, after, SIGNALS_PER_READ).await.inspect_err(|error| {
            tracing::warn!(%error, round_id = %round, "cannot read call signals; the stream ends and the browser resumes");
        })?;
        let complete = (read.len() as i64) < SIGNALS_PER_READ;
        for signal in read {
            last_seen.store(signal.id, Ordering::SeqCst);
            events.push(Event::default().event("signal").id(signal.id.to_string()).data(signal.body));
        }
        if complete {
            return Ok(events);
        }
    }
}

/// The round page's call panel, for the round's two participants while the call is open.
pub struct CallPanel {
    round_id: Uuid,
    viewer: Viewer,
    /// The round's latest signal when the page was made: the page listens after it.
    after: i64,
    /// `iceServers` for the browser's `RTCPeerConnection`, as JSON: its TURN
    /// credentials expire, so the kept round page has a hole here.
    ice_servers: String,
}

impl CallPanel {
    /// The panel, if `viewer` may take part in the round's call now.
    /// Its stream starts after `last_signal`, the latest signal when the page was read.
    pub fn of(round: &RoundState, viewer: Viewer, last_signal: i64, ice_servers: String) -> Option<CallPanel> {
        if closed_for(round, viewer).is_some() {
            return None;
        }
        Some(CallPanel { round_id: round.id, viewer, after: last_signal, ice_servers })
    }

    pub fn round_id(&self) -> Uuid {
        self.round_id
    }

    pub fn after(&self) -> i64 {
        self.after
    }

    pub fn ice_servers(&self) -> &str {
        &self.ice_servers
    }

    /// When both offer at once, the candidate's page gives way (perfect negotiation's "polite" side).
    pub fn polite(&self) -> bool {
        self.viewer.is_candidate()
    }

    /// Who is at the other end, as the panel's sentences name them.
    pub fn other(&self) -> &'static str {
        if self.viewer.is_candidate() { "your interviewer" } else { "the candidate" }
    }
}
