//! Signed-in sessions held in memory, so that a page does not look its
//! session up on every request. A held session is forgotten when its ending is
//! announced (`live::SESSIONS_CHANNEL`), when its user's notice count changes
//! (`live::NOTICES_CHANNEL`), when it expires, and after [`HELD_FOR`] at most,
//! when the next lookup also notes it as seen. An account's name or standing
//! changes only together with the end of its sessions (disabling, deletion),
//! so no other announcement is needed. While the listener is not listening
//! nothing is held: an ending could go unheard.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::db::sessions::SessionUser;

/// How long a session is used from memory before it is read (and noted as seen) again.
pub const HELD_FOR: Duration = Duration::from_secs(300);

/// Sessions held before the map is emptied: a few hundred bytes each.
const MOST_HELD: usize = 50_000;

#[derive(Clone, Default)]
pub struct SessionsHeld(Arc<Mutex<Held>>);

#[derive(Default)]
struct Held {
    sessions: HashMap<Vec<u8>, HeldSession>,
    /// Counts what was forgotten, so that a read overtaken by a forgetting is not kept.
    forgettings: u64,
    listening: bool,
}

struct HeldSession {
    user: SessionUser,
    expires_at: DateTime<Utc>,
    read_at: Instant,
}

/// Where a read started: it is kept only if nothing was forgotten since.
#[derive(Debug, Clone, Copy)]
pub struct ReadMark(Option<u64>);

impl SessionsHeld {
    fn lock(&self) -> std::sync::MutexGuard<'_, Held> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The held user of the session whose id hash is `hash`, if still good.
    pub fn get(&self, hash: &[u8]) -> Option<SessionUser> {
        let held = self.lock();
        let session = held.sessions.get(hash).filter(|_| held.listening)?;
        let good = session.expires_at > Utc::now() && session.read_at.elapsed() < HELD_FOR;
        good.then(|| session.user.clone())
    }

    /// Taken before reading a session, and handed to [`Self::keep`] after.
    pub fn mark(&self) -> ReadMark {
        let held = self.lock();
        ReadMark(held.listening.then_some(held.forgettings))
    }

    pub fn keep(&self, mark: ReadMark, hash: Vec<u8>, user: SessionUser, expires_at: DateTime<Utc>) {
        let mut held = self.lock();
        if mark.0 != Some(held.forgettings) || !held.listening {
            return;
        }
        if held.sessions.len() >= MOST_HELD {
            held.sessions.clear();
        }
        held.sessions.insert(hash, HeldSession { user, expires_at, read_at: Instant::now() });
    }

    /// The session ended (signed out, or ended from another browser).
    pub fn forget_session(&self, hash: &[u8]) {
        let mut held = self.lock();
        held.forgettings += 1;
        held.sessions.remove(hash);
    }

    /// Something the header shows of `user` changed (their notice count).
    pub fn forget_user(&self, user: Uuid) {
        let mut held = self.lock();
        held.forgettings += 1;
        held.sessions.retain(|_, session| session.user.id != user);
    }

    /// Whether the listener hears every change, so that what is held stays true.
    pub fn is_listening(&self) -> bool {
        self.lock().listening
    }

    /// The listener (re)started listening, or stopped: what is held may be stale.
    pub fn set_listening(&self, listening: bool) {
        let mut held = self.lock();
        held.forgettings += 1;
        held.sessions.clear();
        held.listening = listening;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: Uuid) -> SessionUser {
        SessionUser { id, username: "ada".into(), display_name: "Ada".into(), unread_notices: 0 }
    }

    fn listening() -> SessionsHeld {
        let held = SessionsHeld::default();
        held.set_listening(true);
        held
    }

    fn later() -> DateTime<Utc> {
        Utc::now() + chrono::Duration::hours(1)
    }

    #[test]
    fn a_kept_session_is_held_until_it_is_forgotten() {
        let held = listening();
        let id = Uuid::new_v4();
        held.keep(held.mark(), vec![1], user(id), later());
        assert_eq!(held.get(&[1]).map(|u| u.id), Some(id));
        held.forget_session(&[1]);
        assert!(held.get(&[1]).is_none());

        held.keep(held.mark(), vec![2], user(id), later());
        held.keep(held.mark(), vec![3], user(Uuid::new_v4()), later());
        held.forget_user(id);
        assert!(held.get(&[2]).is_none(), "the user's notices changed");
        assert!(held.get(&[3]).is_some(), "another user's session stays");
    }

    #[test]
    fn a_read_overtaken_by_a_forgetting_is_not_kept() {
        let held = listening();
        let mark = held.mark();
        held.forget_session(&[9]);
        held.keep(mark, vec![1], user(Uuid::new_v4()), later());
        assert!(held.get(&[1]).is_none());
    }

    #[test]
    fn nothing_is_held_while_not_listening_or_past_expiry() {
        let held = SessionsHeld::default();
        held.keep(held.mark(), vec![1], user(Uuid::new_v4()), later());
        assert!(held.get(&[1]).is_none(), "not listening yet");

        let held = listening();
        held.keep(held.mark(), vec![1], user(Uuid::new_v4()), Utc::now() - chrono::Duration::seconds(1));
        assert!(held.get(&[1]).is_none(), "expired");
        held.keep(held.mark(), vec![2], user(Uuid::new_v4()), later());
        held.set_listening(false);
        assert!(held.get(&[2]).is_none(), "the listener stopped");
    }
}
