//! Live events across instances: every change to a round is announced with
//! PostgreSQL NOTIFY; each instance LISTENs once and fans the news out to its
//! open event streams. The streams of one round share one read of its new
//! state ([`SharedReads`]), so a change costs a query per instance, not per viewer.
//!
//! A stream lives only as long as the session that opened it may read its
//! round: an ended session is announced too (a trigger on `sessions`), and
//! every few seconds each instance re-checks all its open streams in one
//! query, which also catches expiry and a participant's withdrawal.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;

use tokio::sync::{Notify, OnceCell, broadcast, watch};
use uuid::Uuid;

use crate::db::live::StreamHolder;
use crate::sessions_held::SessionsHeld;
use crate::shipped::{CONTENT_CHANNEL, ShippedContent};

pub const CHANNEL: &str = "mockloop_rounds";
/// Carries the hex of an ended session's id hash (see migration 0007).
pub const SESSIONS_CHANNEL: &str = "mockloop_sessions";
/// Carries the id of a round whose call has a new signal (`db::call::record`).
pub const CALL_CHANNEL: &str = "mockloop_call";
/// Carries the id of a user whose peer-board notices changed (migration 0020's trigger).
pub const NOTICES_CHANNEL: &str = "mockloop_notices";

/// How often open streams are re-checked: an expired session or a withdrawn
/// participant loses the stream within this (plus one query), well inside 5 s.
pub const STREAM_RECHECK: Duration = Duration::from_secs(2);

/// What changed, numbered: a read made for generation `n` is current until a later event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveEvent {
    RoundChanged {
        round: Uuid,
        generation: u64,
    },
    /// A participant of the round's call sent a signal; only its call streams read it.
    CallSignalled {
        round: Uuid,
        generation: u64,
    },
    /// A user's board notices changed (one added or read); only their notice streams re-count.
    NoticesChanged {
        user: Uuid,
        generation: u64,
    },
    /// The listener reconnected and may have missed notifications: everyone re-reads.
    Resync {
        generation: u64,
    },
}

impl LiveEvent {
    pub fn generation(self) -> u64 {
        match self {
            LiveEvent::RoundChanged { generation, .. }
            | LiveEvent::CallSignalled { generation, .. }
            | LiveEvent::NoticesChanged { generation, .. }
            | LiveEvent::Resync { generation } => generation,
        }
    }
}

/// Numbers live events; shared by the listener task and new streams.
#[derive(Clone, Default)]
struct Generations(Arc<AtomicU64>);

impl Generations {
    fn current(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }

    fn next(&self) -> u64 {
        self.0.fetch_add(1, Ordering::SeqCst) + 1
    }
}

#[derive(Clone)]
pub struct LiveHub {
    sender: broadcast::Sender<LiveEvent>,
    /// Set at shutdown so that open event streams end and the server can stop.
    closing: Arc<watch::Sender<bool>>,
    streams: OpenStreams,
    /// The header's notice-count streams (one per open page), counted apart from round streams.
    notice_streams: OpenStreams,
    generations: Generations,
    shipped: ShippedContent,
    sessions: SessionsHeld,
    news: PendingNews,
}

impl LiveHub {
    /// A hub fed by a background task listening on `pool`'s database.
    pub fn start(pool: PgPool) -> LiveHub {
        let (sender, _) = broadcast::channel(1024);
        let hub = LiveHub {
            sender,
            closing: Arc::new(watch::Sender::new(false)),
            streams: OpenStreams::default(),
            notice_streams: OpenStreams::default(),
            generations: Generations::default(),
            shipped: ShippedContent::default(),
            sessions: SessionsHeld::default(),
            news: PendingNews::default(),
        };
        let all_streams = [hub.streams.clone(), hub.notice_streams.clone()];
        let held = Held { shipped: hub.shipped.clone(), sessions: hub.sessions.clone() };
        tokio::spawn(listen(pool.clone(), hub.sender.clone(), hub.generations.clone(), all_streams, held));
        tokio::spawn(recheck_streams(pool.clone(), hub.streams.clone()));
        tokio::spawn(recheck_streams(pool.clone(), hub.notice_streams.clone()));
        tokio::spawn(announce_pending(pool, hub.news.clone()));
        hub
    }

    /// The number of the latest event: what a stream opening now reads as of.
    pub fn generation(&self) -> u64 {
        self.generations.current()
    }

    /// The shipped content, dropped whenever an import is announced.
    pub fn shipped(&self) -> &ShippedContent {
        &self.shipped
    }

    /// The signed-in sessions, each forgotten when its ending is announced.
    pub fn sessions(&self) -> &SessionsHeld {
        &self.sessions
    }

    /// Tells every instance, soon after the caller's commit, that `round`
    /// changed (a saved scratchpad or code, which the interviewer watches).
    pub fn announce_round_changed(&self, round: Uuid) {
        self.news.add(round);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }

    /// A slot for one more event stream of `holder`'s user, unless they already hold `max`.
    pub fn open_stream(&self, holder: StreamHolder, max: usize) -> Option<StreamPermit> {
        self.streams.try_acquire(holder, max)
    }

    /// A slot for one more notice-count stream of `holder`'s user (its `round` is nil), unless they hold `max`.
    pub fn open_notice_stream(&self, holder: StreamHolder, max: usize) -> Option<StreamPermit> {
        self.notice_streams.try_acquire(holder, max)
    }

    /// Ends every open event stream (browsers reconnect to another instance or after the restart).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Completes once `close` has been called.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut receiver = self.closing.subscribe();
        async move {
            let _ = receiver.wait_for(|closing| *closing).await;
        }
    }
}

/// Rounds whose change waits to be announced. A commit that notifies holds
/// PostgreSQL's notification-queue lock through its WAL flush, so notifying
/// saves commit one at a time (a third of the rate of plain ones, measured):
/// autosaves commit plainly and one statement announces all that are pending.
#[derive(Clone, Default)]
struct PendingNews {
    rounds: Arc<Mutex<HashSet<Uuid>>>,
    wake: Arc<Notify>,
}

impl PendingNews {
    fn add(&self, round: Uuid) {
        self.rounds.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(round);
        self.wake.notify_one();
    }

    fn take(&self) -> Vec<Uuid> {
        self.rounds.lock().unwrap_or_else(std::sync::PoisonError::into_inner).drain().collect()
    }
}

/// Announces pending round changes as they come, all that are pending at once:
/// one at a time when saves are rare, in batches under load.
async fn announce_pending(pool: PgPool, news: PendingNews) {
    loop {
        news.wake.notified().await;
        let rounds = news.take();
        if rounds.is_empty() {
            continue;
        }
        // Lost news costs a live view one update; the next save or the stream's reconnect catches up.
        if let Err(error) = crate::db::live::announce_rounds_changed(&pool, &rounds).await {
            tracing::warn!(%error, rounds = rounds.len(), "could not announce saved work");
        }
    }
}

/// The open event streams of this instance. Each one holds a connection and
/// wakes on every change, so one account must not be able to open them without
/// bound; and each must end when its session or its access does.
#[derive(Clone, Default)]
struct OpenStreams(Arc<Mutex<Streams>>);

#[derive(Default)]
struct Streams {
    per_user: HashMap<Uuid, usize>,
    open: HashMap<u64, OpenStream>,
    next_key: u64,
}

struct OpenStream {
    holder: StreamHolder,
    /// Set to true to end the stream.
    end: watch::Sender<bool>,
}

impl OpenStreams {
    fn lock(&self) -> std::sync::MutexGuard<'_, Streams> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn try_acquire(&self, holder: StreamHolder, max: usize) -> Option<StreamPermit> {
        let mut streams = self.lock();
        let count = streams.per_user.entry(holder.user).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        let key = streams.next_key;
        streams.next_key += 1;
        let (end, ended) = watch::channel(false);
        streams.open.insert(key, OpenStream { holder, end });
        Some(StreamPermit { streams: self.clone(), key, ended })
    }

    /// Ends every stream opened with the session whose id hash is `session_hash`.
    fn end_session(&self, session_hash: &[u8]) {
        for stream in self.lock().open.values().filter(|s| s.holder.session_hash == session_hash) {
            stream.end.send_replace(true);
        }
    }

    fn holders(&self) -> Vec<(u64, StreamHolder)> {
        self.lock().open.iter().map(|(key, stream)| (*key, stream.holder.clone())).collect()
    }

    fn end(&self, key: u64) {
        if let Some(stream) = self.lock().open.get(&key) {
            stream.end.send_replace(true);
        }
    }
}

/// One open event stream; dropping it (the stream ended) frees the slot.
pub struct StreamPermit {
    streams: OpenStreams,
    key: u64,
    ended: watch::Receiver<bool>,
}

impl StreamPermit {
    /// Completes once the stream must end: its session ended or its holder lost access to the round.
    pub fn ended(&self) -> impl std::future::Future<Output = ()> + Send + use<> {
        let mut ended = self.ended.clone();
        async move {
            let _ = ended.wait_for(|ended| *ended).await;
        }
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut streams = self.streams.lock();
        let Some(stream) = streams.open.remove(&self.key) else { return };
        if let Some(count) = streams.per_user.get_mut(&stream.holder.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                streams.per_user.remove(&stream.holder.user);
            }
        }
    }
}

/// Every [`STREAM_RECHECK`], ends the open streams whose session expired or
/// whose holder no longer takes part in the round; one query for all of them.
/// Stops when the pool closes, at shutdown.
async fn recheck_streams(pool: PgPool, streams: OpenStreams) {
    let mut ticks = tokio::time::interval(STREAM_RECHECK);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if pool.is_closed() {
            return;
        }
        let open = streams.holders();
        if open.is_empty() {
            continue;
        }
        let holders: Vec<StreamHolder> = open.iter().map(|(_, holder)| holder.clone()).collect();
        match crate::db::live::still_allowed(&pool, &holders).await {
            Ok(allowed) => {
                for ((key, _), allowed) in open.iter().zip(allowed) {
                    if !allowed {
                        streams.end(*key);
                    }
                }
            }
            // The database is away: streams stay open (they carry "retry" until it is back).
            Err(error) => tracing::warn!(%error, "cannot re-check open live streams"),
        }
    }
}

/// One read per (key, generation), shared by everyone asking for it: the first
/// caller reads, the others wait for that result. A failed read is not kept.
pub struct SharedReads<V> {
    latest: Mutex<HashMap<Uuid, SharedRead<V>>>,
}

/// The read for one key as of a generation: filled once, by whoever asks first.
type SharedRead<V> = (u64, Arc<OnceCell<V>>);

impl<V> Default for SharedReads<V> {
    fn default() -> Self {
        SharedReads { latest: Mutex::new(HashMap::new()) }
    }
}

/// Entries kept before the map is emptied: one per round watched since, a few bytes each.
const SHARED_READS_KEPT: usize = 10_000;

impl<V: Clone> SharedReads<V> {
    pub async fn get<E, F, Fut>(&self, key: Uuid, generation: u64, read: F) -> Result<V, E>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<V, E>>,
    {
        let cell = {
            let mut latest = self.latest.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match latest.get(&key) {
                // A newer read serves an older request too: it is only more current.
                Some((kept, cell)) if *kept >= generation => cell.clone(),
                _ => {
                    if latest.len() >= SHARED_READS_KEPT {
                        latest.clear();
                    }
                    let cell = Arc::new(OnceCell::new());
                    latest.insert(key, (generation, cell.clone()));
                    cell
                }
            }
        };
        cell.get_or_try_init(read).await.cloned()
    }
}

/// What an instance holds in memory that the listener's news makes stale.
struct Held {
    shipped: ShippedContent,
    sessions: SessionsHeld,
}

async fn listen(
    pool: PgPool,
    sender: broadcast::Sender<LiveEvent>,
    generations: Generations,
    streams: [OpenStreams; 2],
    held: Held,
) {
    loop {
        let channels = [CHANNEL, SESSIONS_CHANNEL, CALL_CHANNEL, NOTICES_CHANNEL, CONTENT_CHANNEL];
        let failed = match PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen_all(channels).await {
                Ok(()) => {
                    // Only now, listening again, may everyone re-read: a change made
                    // before this point is in what they read, any later one is notified.
                    held.shipped.drop_held();
                    held.sessions.set_listening(true);
                    let _ = sender.send(LiveEvent::Resync { generation: generations.next() });
                    let failed = relay(&mut listener, &sender, &pool, &generations, &streams, &held).await;
                    held.sessions.set_listening(false);
                    failed
                }
                Err(error) => {
                    tracing::warn!(%error, "cannot listen for live events");
                    true
                }
            },
            Err(_) if pool.is_closed() => return,
            Err(error) => {
                tracing::warn!(%error, "cannot connect the live event listener");
                true
            }
        };
        if pool.is_closed() {
            return;
        }
        // A dropped connection is replaced at once; a failing database is retried each second.
        if failed {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

/// Passes notifications on until the connection drops (false) or fails (true).
async fn relay(
    listener: &mut PgListener,
    sender: &broadcast::Sender<LiveEvent>,
    pool: &PgPool,
    generations: &Generations,
    streams: &[OpenStreams; 2],
    held: &Held,
) -> bool {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) if notification.channel() == CONTENT_CHANNEL => held.shipped.drop_held(),
            Ok(Some(notification)) if notification.channel() == SESSIONS_CHANNEL => {
                if let Some(session_hash) = decode_hex(notification.payload()) {
                    held.sessions.forget_session(&session_hash);
                    for streams in streams {
                        streams.end_session(&session_hash);
                    }
                }
            }
            Ok(Some(notification)) if notification.channel() == NOTICES_CHANNEL => {
                if let Ok(user) = notification.payload().parse() {
                    held.sessions.forget_user(user);
                    let _ = sender.send(LiveEvent::NoticesChanged { user, generation: generations.next() });
                }
            }
            Ok(Some(notification)) => {
                if let Ok(round) = notification.payload().parse() {
                    let generation = generations.next();
                    let event = match notification.channel() == CALL_CHANNEL {
                        true => LiveEvent::CallSignalled { round, generation },
                        false => LiveEvent::RoundChanged { round, generation },
                    };
                    let _ = sender.send(event);
                }
            }
            // Left to itself the listener would reconnect inside the next call, with no
            // moment to announce the Resync after it listens again: start afresh instead.
            Ok(None) => return false,
            // At shutdown the pool closes under the listener: nothing to report.
            Err(_) if pool.is_closed() => return true,
            Err(error) => {
                tracing::warn!(%error, "live event listener failed; reconnecting");
                return true;
            }
        }
    }
}

/// The bytes PostgreSQL's `encode(…, 'hex')` wrote.
fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.is_ascii() || !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len()).step_by(2).map(|at| u8::from_str_radix(&text[at..at + 2], 16).ok()).collect()
}

/// A round's live state as every viewer's stream sends it, prepared once per change.
#[derive(Debug)]
pub struct LiveRound {
    pub candidate_id: Uuid,
    pub interviewer_id: Option<Uuid>,
    pub timer_json: String,
    /// Only ever sent to the round's interviewer.
    pub scratchpad_json: Option<String>,
    /// The candidate's code `{version, language, body}`; only ever sent to the round's interviewer.
    pub code_json: Option<String>,
    /// The candidate's whiteboard `{version, scene}`; only ever sent to the round's interviewer.
    pub scene_json: Option<String>,
    /// The candidate's last test run (`db::code_runs::StoredRun`); only ever sent to the round's interviewer.
    pub run_json: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_payloads_decode_and_anything_else_is_ignored() {
        assert_eq!(decode_hex("00ff7A"), Some(vec![0, 255, 122]));
        for bad in ["0", "zz", "é0", "0x12"] {
            assert_eq!(decode_hex(bad), None, "{bad}");
        }
    }

    fn holder(user: Uuid, session: u8) -> StreamHolder {
        StreamHolder { session_hash: vec![session; 32], user, round: Uuid::nil() }
    }

    #[test]
    fn a_user_gets_at_most_max_streams_and_a_closed_one_frees_its_slot() {
        let streams = OpenStreams::default();
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let first = streams.try_acquire(holder(alice, 1), 2).expect("first");
        let _second = streams.try_acquire(holder(alice, 1), 2).expect("second");
        assert!(streams.try_acquire(holder(alice, 1), 2).is_none(), "third refused");
        assert!(streams.try_acquire(holder(bob, 2), 2).is_some(), "others are counted apart");
        drop(first);
        assert!(streams.try_acquire(holder(alice, 1), 2).is_some(), "a closed stream frees its slot");
        assert_eq!(streams.holders().len(), 1, "closed streams are no longer watched");
    }

    #[tokio::test]
    async fn ending_a_session_ends_its_streams_and_no_others() {
        let streams = OpenStreams::default();
        let alice = Uuid::new_v4();
        let (laptop, phone) = (
            streams.try_acquire(holder(alice, 1), 4).expect("laptop"),
            streams.try_acquire(holder(alice, 2), 4).expect("phone"),
        );
        streams.end_session(&[1; 32]);
        tokio::time::timeout(Duration::from_secs(1), laptop.ended())
            .await
            .expect("the signed-out session's stream ends");
        let phone_ended = tokio::time::timeout(Duration::from_millis(50), phone.ended()).await;
        assert!(phone_ended.is_err(), "the other session's stream stays open");
    }

    #[tokio::test]
    async fn streams_asking_for_one_generation_share_one_read() {
        let reads = Arc::new(SharedReads::<u64>::default());
        let calls = Arc::new(AtomicU64::new(0));
        let round = Uuid::new_v4();
        let mut waiting = Vec::new();
        for _ in 0..50 {
            let (reads, calls) = (reads.clone(), calls.clone());
            waiting.push(tokio::spawn(async move {
                reads
                    .get(round, 3, || async {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        Ok::<_, ()>(calls.fetch_add(1, Ordering::SeqCst) + 1)
                    })
                    .await
            }));
        }
        for handle in waiting {
            assert_eq!(handle.await.expect("join"), Ok(1), "every stream got the one read");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_later_generation_reads_again_an_earlier_one_does_not() {
        let reads = SharedReads::<&str>::default();
        let round = Uuid::new_v4();
        assert_eq!(reads.get(round, 5, || async { Ok::<_, ()>("five") }).await, Ok("five"));
        assert_eq!(reads.get(round, 4, || async { Ok::<_, ()>("four") }).await, Ok("five"), "newer serves older");
        assert_eq!(reads.get(round, 6, || async { Ok::<_, ()>("six") }).await, Ok("six"));
    }

    #[tokio::test]
    async fn a_failed_read_is_tried_again() {
        let reads = SharedReads::<&str>::default();
        let round = Uuid::new_v4();
        assert_eq!(reads.get(round, 1, || async { Err("database down") }).await, Err("database down"));
        assert_eq!(reads.get(round, 1, || async { Ok::<_, &str>("back") }).await, Ok("back"));
    }
}
