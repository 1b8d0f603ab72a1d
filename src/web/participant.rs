//! Extractors for the rounds and loops a signed-in user takes part in: one
//! query, and a 404 for anyone else (a stranger learns nothing, not even that
//! the id exists).

use axum::extract::{FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use sqlx::PgConnection;
use uuid::Uuid;

use super::extract::Path;
use super::session::{SignInRequired, SignedIn};
use crate::db;
use crate::db::loops::LoopRow;
use crate::db::rounds::RoundState;
use crate::db::sessions::SessionUser;
use crate::domain::visibility::Viewer;
use crate::state::AppState;
use crate::web::error::AppError;

/// `/rounds/{id}/…` as its candidate or interviewer.
pub struct ParticipantRound {
    pub user: SessionUser,
    pub round: RoundState,
    pub viewer: Viewer,
}

/// `/loops/{id}/…` as its candidate or one of its interviewers.
pub struct ParticipantLoop {
    pub user: SessionUser,
    pub the_loop: LoopRow,
}

impl ParticipantLoop {
    /// Only the loop's candidate may do this (reschedule, cancel, invite): 403 for its interviewers.
    pub fn require_candidate(&self) -> Result<(), AppError> {
        if self.the_loop.candidate_id == self.user.id { Ok(()) } else { Err(AppError::Forbidden) }
    }
}

impl<S> FromRequestParts<S> for ParticipantRound
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (user, id, state) = signed_in_with_id(parts, state).await?;
        let mut db = state.db.acquire().await.map_err(|error| AppError::from(error).into_response())?;
        let (round, viewer) = round_on(&mut db, id, user.id).await.map_err(IntoResponse::into_response)?;
        Ok(ParticipantRound { user, round, viewer })
    }
}

impl<S> FromRequestParts<S> for ParticipantLoop
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let (user, id, state) = signed_in_with_id(parts, state).await?;
        let the_loop = found(db::loops::find_for_participant(&state.db, id, user.id).await)
            .map_err(IntoResponse::into_response)?;
        Ok(ParticipantLoop { user, the_loop })
    }
}

/// The round read on the caller's connection, if `user` takes part in it: a
/// page that reads more keeps to one connection (each checkout costs a round trip).
pub async fn round_on(db: &mut PgConnection, id: Uuid, user: Uuid) -> Result<(RoundState, Viewer), AppError> {
    let round = found(db::rounds::find_for_participant(db, id, user).await)?;
    let viewer = viewer_in(user, round.candidate_id, round.interviewer_id)?;
    Ok((round, viewer))
}

/// The round, locked for update in the caller's transaction, if `user` takes part in it.
pub async fn lock_round(tx: &mut PgConnection, id: Uuid, user: Uuid) -> Result<(RoundState, Viewer), AppError> {
    let round = db::rounds::lock_for_participant(tx, id, user).await?.ok_or(AppError::NotFound)?;
    let viewer = viewer_in(user, round.candidate_id, round.interviewer_id)?;
    Ok((round, viewer))
}

async fn signed_in_with_id<S>(parts: &mut Parts, state: &S) -> Result<(SessionUser, Uuid, AppState), Response>
where
    AppState: FromRef<S>,
    S: Send + Sync,
{
    let SignedIn(user) = SignedIn::from_request_parts(parts, state).await.map_err(SignInRequired::into_response)?;
    let Path(id) = Path::<Uuid>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
    Ok((user, id, AppState::from_ref(state)))
}

/// How `user` takes part in a round, or the 404 for anyone else.
fn viewer_in(user: Uuid, candidate: Uuid, interviewer: Option<Uuid>) -> Result<Viewer, AppError> {
    Viewer::of(user, candidate, interviewer).ok_or(AppError::NotFound)
}

/// A row the user takes part in, or the 404 (or outage page) for everyone else.
fn found<T>(row: Result<Option<T>, sqlx::Error>) -> Result<T, AppError> {
    row?.ok_or(AppError::NotFound)
}
