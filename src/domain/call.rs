//! The round's 1:1 call: when it is open, what a signalling message may be
//! (the browsers' WebRTC offers, answers and network candidates, and their
//! join and leave), how many a round takes, and the ICE servers a browser is
//! given, with coturn's time-limited TURN credentials. Media never passes
//! through mockloop; who may take part is `visibility::may_see(…, Item::Call, …)`.

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha1::Sha1;

use super::LoopMode;
use super::timer::TimerState;
use super::visibility::Stage;

/// Why a round's call is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallClosed {
    /// Nobody else takes part in a self-timed round.
    SelfTimed,
    /// The round has no interviewer (yet, or any more: the invitation was withdrawn).
    NoInterviewer,
    RoundEnded,
}

impl CallClosed {
    pub fn message(self) -> &'static str {
        match self {
            CallClosed::SelfTimed => "A self-timed round has no call.",
            CallClosed::NoInterviewer => {
                "This round has no interviewer now (the invitation was not accepted or was withdrawn), so there is nobody to call."
            }
            CallClosed::RoundEnded => "The round has ended, and its call with it.",
        }
    }
}

/// Why the call is closed at `stage`, or `None` while it is open: a peer round
/// with an interviewer, from before its start until it ends.
pub fn closed_because(stage: Stage) -> Option<CallClosed> {
    if stage.mode == LoopMode::SelfTimed {
        Some(CallClosed::SelfTimed)
    } else if !stage.has_interviewer {
        Some(CallClosed::NoInterviewer)
    } else if stage.timer == TimerState::Ended {
        Some(CallClosed::RoundEnded)
    } else {
        None
    }
}

/// The largest signalling message accepted. An offer for audio and video from
/// a current browser is 5–10 KB; a candidate a few hundred bytes.
pub const MAX_SIGNAL_BYTES: usize = 32 * 1024;

/// Signals one participant may send to a round in a minute: a call set-up is
/// a dozen or so, and a reload or a network change another dozen.
pub const MAX_SIGNALS_PER_MINUTE: i64 = 120;

/// Signals a round keeps at most (they are deleted when it ends).
pub const MAX_SIGNALS_PER_ROUND: i64 = 3_000;

text_enum!(
    /// What a signalling message does.
    SignalKind {
        Join => ("join", "joined"),
        Leave => ("leave", "left"),
        Description => ("description", "session description"),
        Candidate => ("candidate", "network candidate"),
    }
);

/// One signalling message as the page sends it, and as the other participant's
/// page receives it. `session` names the sending page's attempt at the call (a
/// reload is a new one); `to` names the session a description or candidate
/// answers, so that a page ignores what was meant for the page it replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Signal {
    Join { session: CallSession },
    Leave { session: CallSession },
    Description { session: CallSession, to: CallSession, description: Description },
    Candidate { session: CallSession, to: CallSession, candidate: IceCandidate },
}

/// An `RTCSessionDescription`: an offer or an answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Description {
    #[serde(rename = "type")]
    pub kind: DescriptionKind,
    pub sdp: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DescriptionKind {
    Offer,
    Answer,
}

/// An `RTCIceCandidate` as `toJSON()` gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IceCandidate {
    pub candidate: String,
    #[serde(rename = "sdpMid")]
    pub sdp_mid: Option<String>,
    #[serde(rename = "sdpMLineIndex")]
    pub sdp_m_line_index: Option<u16>,
    #[serde(rename = "usernameFragment", default, skip_serializing_if = "Option::is_none")]
    pub username_fragment: Option<String>,
}

/// A page's random name for its attempt at the call: 8–64 letters, digits, `-` or `_`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CallSession(String);

impl TryFrom<String> for CallSession {
    type Error = &'static str;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let fits =
            (8..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if fits { Ok(CallSession(text)) } else { Err("a call session is 8 to 64 letters, digits, '-' or '_'") }
    }
}

impl From<CallSession> for String {
    fn from(session: CallSession) -> String {
        session.0
    }
}

/// Why a signalling message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalError {
    TooLarge,
    NotASignal,
    /// This participant sent more than [`MAX_SIGNALS_PER_MINUTE`].
    TooFast,
    /// The round holds [`MAX_SIGNALS_PER_ROUND`].
    TooMany,
}

impl SignalError {
    pub fn message(self) -> &'static str {
        match self {
            SignalError::TooLarge => "A call message is limited to 32 KiB; this one was not passed on.",
            SignalError::NotASignal => {
                "That is not a call message: a join, leave, description or candidate, as the round page sends them."
            }
            SignalError::TooFast => "Too many call messages in the last minute; wait a moment and join again.",
            SignalError::TooMany => {
                "This round's call has exchanged as many messages as it may; leave and join again after the round."
            }
        }
    }
}

impl Signal {
    /// Reads a message the page posted, within [`MAX_SIGNAL_BYTES`].
    pub fn parse(body: &[u8]) -> Result<Signal, SignalError> {
        if body.len() > MAX_SIGNAL_BYTES {
            return Err(SignalError::TooLarge);
        }
        serde_json::from_slice(body).map_err(|_| SignalError::NotASignal)
    }

    pub fn kind(&self) -> SignalKind {
        match self {
            Signal::Join { .. } => SignalKind::Join,
            Signal::Leave { .. } => SignalKind::Leave,
            Signal::Description { .. } => SignalKind::Description,
            Signal::Candidate { .. } => SignalKind::Candidate,
        }
    }

    /// The message as it is stored and passed on: only the fields above, re-written.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The signals already in a round, counted when one more arrives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalCounts {
    /// Sent by this participant to this round in the last minute.
    pub sender_last_minute: i64,
    /// Kept for this round.
    pub round_total: i64,
}

/// Whether one more signal fits the round's bounds.
pub fn admit(counts: SignalCounts) -> Result<(), SignalError> {
    if counts.round_total >= MAX_SIGNALS_PER_ROUND {
        Err(SignalError::TooMany)
    } else if counts.sender_last_minute >= MAX_SIGNALS_PER_MINUTE {
        Err(SignalError::TooFast)
    } else {
        Ok(())
    }
}

/// How long minted TURN credentials stay valid: the longest round (two hours)
/// with its breaks and a reload or two. coturn checks it when an allocation is
/// made or refreshed.
pub const TURN_CREDENTIAL_SECONDS: i64 = 4 * 3600;

/// The STUN and TURN servers the operator configured, as the browser's
/// `RTCPeerConnection` takes them. None by default: host candidates only, so
/// that no third party learns who calls whom.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IceServers {
    stun: Vec<String>,
    turn: Vec<String>,
    turn_secret: Option<String>,
}

/// Why the ICE server settings were refused at start-up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IceServersError {
    #[error("{0:?} is not a STUN or TURN URL (stun:, stuns:, turn: or turns:, host and optional port)")]
    NotAnIceUrl(String),
    #[error("TURN URLs need --turn-secret (MOCKLOOP_TURN_SECRET), the static-auth-secret of the TURN server")]
    TurnWithoutSecret,
    #[error("--turn-secret is set but --ice-servers names no turn: or turns: URL")]
    SecretWithoutTurn,
}

impl IceServers {
    /// The operator's URLs (`stun:host:port`, `turn:host:port?transport=udp`, …)
    /// and the TURN server's shared secret.
    pub fn parse(urls: &[String], turn_secret: Option<String>) -> Result<IceServers, IceServersError> {
        let mut servers = IceServers::default();
        for url in urls.iter().map(|url| url.trim()).filter(|url| !url.is_empty()) {
            let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase());
            let plain = url.len() <= 256 && url.chars().all(|c| c.is_ascii_graphic());
            let host = url.split_once(':').map_or("", |(_, rest)| rest);
            if !plain || host.is_empty() || host.starts_with('/') {
                return Err(IceServersError::NotAnIceUrl(url.to_owned()));
            }
            match scheme.as_deref() {
                Some("stun" | "stuns") => servers.stun.push(url.to_owned()),
                Some("turn" | "turns") => servers.turn.push(url.to_owned()),
                _ => return Err(IceServersError::NotAnIceUrl(url.to_owned())),
            }
        }
        let secret = turn_secret.filter(|secret| !secret.is_empty());
        match (servers.turn.is_empty(), secret) {
            (false, None) => Err(IceServersError::TurnWithoutSecret),
            (true, Some(_)) => Err(IceServersError::SecretWithoutTurn),
            (_, secret) => Ok(IceServers { turn_secret: secret, ..servers }),
        }
    }

    /// The `iceServers` list for `user`'s browser, with TURN credentials valid
    /// until `now_unix` + [`TURN_CREDENTIAL_SECONDS`].
    pub fn for_user(&self, user: uuid::Uuid, now_unix: i64) -> serde_json::Value {
        let mut list = Vec::new();
        if !self.stun.is_empty() {
            list.push(serde_json::json!({ "urls": self.stun }));
        }
        if let Some(secret) = &self.turn_secret {
            let minted = turn_credential(secret, user, now_unix + TURN_CREDENTIAL_SECONDS);
            list.push(serde_json::json!({
                "urls": self.turn, "username": minted.username, "credential": minted.credential,
            }));
        }
        serde_json::Value::Array(list)
    }
}

/// A TURN username and password by coturn's REST scheme (`use-auth-secret`):
/// the username is `<expiry, unix seconds>:<user id>`, the password
/// base64(HMAC-SHA1(shared secret, username)), which coturn recomputes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TurnCredential {
    pub username: String,
    pub credential: String,
}

pub fn turn_credential(secret: &str, user: uuid::Uuid, expires_unix: i64) -> TurnCredential {
    let username = format!("{expires_unix}:{user}");
    // HMAC takes a key of any length; `new_from_slice` cannot fail for it.
    let mut mac = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).expect("HMAC accepts any key length");
    mac.update(username.as_bytes());
    let credential = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    TurnCredential { username, credential }
}

#[cfg(test)]
mod tests {
    use super::super::blind_scoring::RoundStage;
    use super::*;
    use TimerState::{Ended, NotStarted, Paused, Running};

    fn stage(mode: LoopMode, has_interviewer: bool, timer: TimerState) -> Stage {
        Stage { mode, timer, current_question: 1, has_interviewer, cards: RoundStage::default() }
    }

    #[test]
    fn the_call_is_open_in_a_peer_round_with_an_interviewer_until_it_ends() {
        use LoopMode::{Peer, SelfTimed};
        let table = [
            (Peer, true, NotStarted, None),
            (Peer, true, Running, None),
            (Peer, true, Paused, None),
            (Peer, true, Ended, Some(CallClosed::RoundEnded)),
            (Peer, false, NotStarted, Some(CallClosed::NoInterviewer)),
            (Peer, false, Running, Some(CallClosed::NoInterviewer)),
            (SelfTimed, false, Running, Some(CallClosed::SelfTimed)),
            (SelfTimed, false, Ended, Some(CallClosed::SelfTimed)),
        ];
        for (mode, has_interviewer, timer, expected) in table {
            assert_eq!(
                closed_because(stage(mode, has_interviewer, timer)),
                expected,
                "{mode:?} {has_interviewer} {timer:?}"
            );
        }
    }

    #[test]
    fn each_kind_of_signal_reads_and_anything_else_is_refused() {
        let offer = br#"{"kind":"description","session":"page-aaaa1111","to":"page-bbbb2222","description":{"type":"offer","sdp":"v=0\r\n"}}"#;
        let candidate = br#"{"kind":"candidate","session":"page-aaaa1111","to":"page-bbbb2222","candidate":{"candidate":"candidate:1 1 udp 2122260223 192.0.2.2 50000 typ host","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}}"#;
        let table: &[(&[u8], Result<SignalKind, SignalError>)] = &[
            (br#"{"kind":"join","session":"page-aaaa1111"}"#, Ok(SignalKind::Join)),
            (br#"{"kind":"leave","session":"page-aaaa1111"}"#, Ok(SignalKind::Leave)),
            (offer, Ok(SignalKind::Description)),
            (candidate, Ok(SignalKind::Candidate)),
            (br#"{"kind":"join","session":"short"}"#, Err(SignalError::NotASignal)),
            (br#"{"kind":"join","session":"page aaaa 1111"}"#, Err(SignalError::NotASignal)),
            (br#"{"kind":"join","session":"page-aaaa1111","extra":1}"#, Err(SignalError::NotASignal)),
            (br#"{"kind":"record","session":"page-aaaa1111"}"#, Err(SignalError::NotASignal)),
            (
                br#"{"kind":"description","session":"page-aaaa1111","to":"page-bbbb2222","description":{"type":"rollback","sdp":""}}"#,
                Err(SignalError::NotASignal),
            ),
            (br#"{"kind":"description","session":"page-aaaa1111","description":{"type":"offer","sdp":""}}"#, Err(SignalError::NotASignal)),
            (b"kind=join", Err(SignalError::NotASignal)),
            (b"", Err(SignalError::NotASignal)),
        ];
        for (body, expected) in table {
            let read = Signal::parse(body).map(|signal| signal.kind());
            assert_eq!(&read, expected, "{}", String::from_utf8_lossy(body));
        }
        let huge = format!(r#"{{"kind":"join","session":"page-aaaa1111","pad":"{}"}}"#, "x".repeat(MAX_SIGNAL_BYTES));
        assert_eq!(Signal::parse(huge.as_bytes()), Err(SignalError::TooLarge));
    }

    #[test]
    fn a_signal_is_passed_on_as_read_and_nothing_more() {
        let posted = br#"{ "session":"page-aaaa1111", "kind":"candidate", "to":"page-bbbb2222",
            "candidate":{"candidate":"candidate:1 1 udp 1 192.0.2.2 5 typ host","sdpMid":"0","sdpMLineIndex":0} }"#;
        let signal = Signal::parse(posted).expect("a candidate");
        assert_eq!(
            signal.to_json(),
            r#"{"kind":"candidate","session":"page-aaaa1111","to":"page-bbbb2222","candidate":{"candidate":"candidate:1 1 udp 1 192.0.2.2 5 typ host","sdpMid":"0","sdpMLineIndex":0}}"#
        );
        assert_eq!(Signal::parse(signal.to_json().as_bytes()), Ok(signal));
    }

    #[test]
    fn a_round_takes_signals_within_its_minute_and_total_bounds() {
        let counts = |sender_last_minute, round_total| SignalCounts { sender_last_minute, round_total };
        let table = [
            (counts(0, 0), Ok(())),
            (counts(MAX_SIGNALS_PER_MINUTE - 1, 10), Ok(())),
            (counts(MAX_SIGNALS_PER_MINUTE, 10), Err(SignalError::TooFast)),
            (counts(0, MAX_SIGNALS_PER_ROUND - 1), Ok(())),
            (counts(0, MAX_SIGNALS_PER_ROUND), Err(SignalError::TooMany)),
            (counts(MAX_SIGNALS_PER_MINUTE, MAX_SIGNALS_PER_ROUND), Err(SignalError::TooMany)),
        ];
        for (counts, expected) in table {
            assert_eq!(admit(counts), expected, "{counts:?}");
        }
    }

    #[test]
    fn turn_credentials_follow_the_coturn_rest_scheme() {
        // Expected values computed independently (Python's hmac and base64).
        let table = [
            ("north-star-secret", 1, 1_700_000_000, "/+yv+7BsHQGkLwivTMAFjF7LmRU="),
            ("s3cr3t", 0x6f1c2d3e_4b5a_4c6d_8e7f_901234567890, 1_893_456_000, "3D49Yu5JSq2ctRGZtTWLxjJ+UCE="),
        ];
        for (secret, user, expires, credential) in table {
            let user = uuid::Uuid::from_u128(user);
            let minted = turn_credential(secret, user, expires);
            assert_eq!(minted.username, format!("{expires}:{user}"));
            assert_eq!(minted.credential, credential, "{secret}");
        }
    }

    #[test]
    fn ice_servers_are_none_by_default_and_turn_gets_minted_credentials() {
        let user = uuid::Uuid::from_u128(1);
        assert_eq!(IceServers::default().for_user(user, 0), serde_json::json!([]));
        let urls = |list: &[&str]| list.iter().map(|url| url.to_string()).collect::<Vec<_>>();
        let servers = IceServers::parse(
            &urls(&["stun:stun.example.org:3478", " turn:turn.example.org:3478?transport=udp", ""]),
            Some("north-star-secret".into()),
        )
        .expect("valid");
        let list = servers.for_user(user, 1_700_000_000 - TURN_CREDENTIAL_SECONDS);
        assert_eq!(list[0], serde_json::json!({"urls": ["stun:stun.example.org:3478"]}));
        assert_eq!(list[1]["urls"], serde_json::json!(["turn:turn.example.org:3478?transport=udp"]));
        assert_eq!(list[1]["username"], format!("1700000000:{user}"));
        assert_eq!(list[1]["credential"], "/+yv+7BsHQGkLwivTMAFjF7LmRU=");

        let refused = [
            (
                urls(&["https://stun.example.org"]),
                None,
                IceServersError::NotAnIceUrl("https://stun.example.org".into()),
            ),
            (urls(&["stun:"]), None, IceServersError::NotAnIceUrl("stun:".into())),
            (urls(&["stun:bad host"]), None, IceServersError::NotAnIceUrl("stun:bad host".into())),
            (urls(&["turn:turn.example.org"]), None, IceServersError::TurnWithoutSecret),
            (urls(&["stun:stun.example.org"]), Some("secret".into()), IceServersError::SecretWithoutTurn),
        ];
        for (urls, secret, expected) in refused {
            assert_eq!(IceServers::parse(&urls, secret), Err(expected), "{urls:?}");
        }
    }
}
