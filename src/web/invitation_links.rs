//! Invitation links: whether a token names an invitation someone could accept
//! now, and why not. The invitation pages ask it, and so does sign-up on a
//! server with closed sign-up (holding a usable link lets a newcomer in).

use axum::http::StatusCode;
use uuid::Uuid;

use super::session;
use crate::db;
use crate::db::invitations::OpenedInvitation;
use crate::state::AppState;
use crate::web::error::AppError;

/// Links expire after this many days unless the candidate picks another.
pub const DEFAULT_EXPIRY_DAYS: i64 = 14;

/// Why a link cannot be used, as its page says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    Unknown,
    Revoked,
    Expired,
    Taken,
    Finished,
    OwnLoop,
}

impl Unusable {
    pub fn status(self) -> StatusCode {
        match self {
            Unusable::Unknown => StatusCode::NOT_FOUND,
            Unusable::OwnLoop => StatusCode::CONFLICT,
            _ => StatusCode::GONE,
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            Unusable::Unknown => {
                "This invitation link is not valid. Check that it was copied whole, or ask for a new one."
            }
            Unusable::Revoked => {
                "This invitation was withdrawn by the candidate. Ask them for a new link if they still need you."
            }
            Unusable::Expired => "This invitation has expired. Ask the candidate for a new link.",
            Unusable::Taken => "Every round of this invitation already has an interviewer.",
            Unusable::Finished => "This loop is over, so it takes no more interviewers.",
            Unusable::OwnLoop => {
                "This is an invitation to your own loop: send the link to the peer who will interview you."
            }
        }
    }
}

/// A token we could have issued: 43 URL-safe base64 characters (256 bits).
fn is_well_formed(token: &str) -> bool {
    token.len() == 43 && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Whether `token` is a link someone could accept now: on a server with closed
/// sign-up, holding one lets a newcomer create an account.
pub async fn is_usable_link(state: &AppState, token: &str) -> Result<bool, AppError> {
    Ok(find_usable(state, token, None).await?.is_ok())
}

pub async fn find_usable(
    state: &AppState,
    token: &str,
    user: Option<Uuid>,
) -> Result<Result<OpenedInvitation, Unusable>, AppError> {
    if !is_well_formed(token) {
        return Ok(Err(Unusable::Unknown));
    }
    let Some(invitation) = db::invitations::find_by_token(&state.db, &session::hash_token(token)).await? else {
        return Ok(Err(Unusable::Unknown));
    };
    Ok(if invitation.revoked_at.is_some() {
        Err(Unusable::Revoked)
    } else if invitation.expires_at <= invitation.now {
        Err(Unusable::Expired)
    } else if invitation.loop_status.is_finished() {
        Err(Unusable::Finished)
    } else if user == Some(invitation.candidate_id) {
        Err(Unusable::OwnLoop)
    } else if invitation.open_rounds == 0 {
        Err(Unusable::Taken)
    } else {
        Ok(invitation)
    })
}
