//! Live events across instances: every change to a round is announced with
//! PostgreSQL NOTIFY; each instance LISTENs once and fans the news out to its
//! open event streams. The streams of one round share one read of its new
//! state ([`SharedReads`]), so a change costs a query per instance, not per viewer.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::PgPool;
use sqlx::postgres::PgListener;

use tokio::sync::{OnceCell, broadcast, watch};
use uuid::Uuid;

pub const CHANNEL: &str = "mockloop_rounds";

/// What changed, numbered: a read made for generation `n` is current until a later event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LiveEvent {
    RoundChanged {
        round: Uuid,
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
            LiveEvent::RoundChanged { generation, .. } | LiveEvent::Resync { generation } => generation,
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
    streams: StreamCounts,
    generations: Generations,
}

impl LiveHub {
    /// A hub fed by a background task listening on `pool`'s database.
    pub fn start(pool: PgPool) -> LiveHub {
        let (sender, _) = broadcast::channel(1024);
        let hub = LiveHub {
            sender,
            closing: Arc::new(watch::Sender::new(false)),
            streams: StreamCounts::default(),
            generations: Generations::default(),
        };
        tokio::spawn(listen(pool, hub.sender.clone(), hub.generations.clone()));
        hub
    }

    /// The number of the latest event: what a stream opening now reads as of.
    pub fn generation(&self) -> u64 {
        self.generations.current()
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }

    /// A slot for one more event stream of `user`, unless they already hold `max`.
    pub fn open_stream(&self, user: Uuid, max: usize) -> Option<StreamPermit> {
        self.streams.try_acquire(user, max)
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

/// Open event streams per user: each one holds a connection and wakes on every
/// change, so one account must not be able to open them without bound.
#[derive(Clone, Default)]
struct StreamCounts(Arc<Mutex<HashMap<Uuid, usize>>>);

impl StreamCounts {
    fn try_acquire(&self, user: Uuid, max: usize) -> Option<StreamPermit> {
        let mut counts = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = counts.entry(user).or_default();
        if *count >= max {
            return None;
        }
        *count += 1;
        Some(StreamPermit { counts: self.clone(), user })
    }
}

/// One open event stream of a user; dropping it (the stream ended) frees the slot.
pub struct StreamPermit {
    counts: StreamCounts,
    user: Uuid,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut counts = self.counts.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.user) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                counts.remove(&self.user);
            }
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

async fn listen(pool: PgPool, sender: broadcast::Sender<LiveEvent>, generations: Generations) {
    loop {
        let failed = match PgListener::connect_with(&pool).await {
            Ok(mut listener) => match listener.listen(CHANNEL).await {
                Ok(()) => {
                    // Only now, listening again, may everyone re-read: a change made
                    // before this point is in what they read, any later one is notified.
                    let _ = sender.send(LiveEvent::Resync { generation: generations.next() });
                    relay(&mut listener, &sender, &pool, &generations).await
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
) -> bool {
    loop {
        match listener.try_recv().await {
            Ok(Some(notification)) => {
                if let Ok(round) = notification.payload().parse() {
                    let _ = sender.send(LiveEvent::RoundChanged { round, generation: generations.next() });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_gets_at_most_max_streams_and_a_closed_one_frees_its_slot() {
        let counts = StreamCounts::default();
        let (alice, bob) = (Uuid::new_v4(), Uuid::new_v4());
        let first = counts.try_acquire(alice, 2).expect("first");
        let _second = counts.try_acquire(alice, 2).expect("second");
        assert!(counts.try_acquire(alice, 2).is_none(), "third refused");
        assert!(counts.try_acquire(bob, 2).is_some(), "others are counted apart");
        drop(first);
        assert!(counts.try_acquire(alice, 2).is_some(), "a closed stream frees its slot");
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
