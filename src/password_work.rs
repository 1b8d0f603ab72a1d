//! A bound on password hashing: each Argon2 hash takes a core and its own
//! block of memory (see `domain::password`), so only as many run at once as
//! there are cores, a few more wait briefly, and the rest are told to come
//! back (503). The hashing runs on blocking threads, never on the async
//! runtime, so every other request keeps being served meanwhile.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;

use crate::domain::password::HashMemory;

/// How many requests may wait for a free core, per core.
const WAITING_PER_CORE: usize = 4;
/// Longest a request waits for a free core before it is told to come back.
const LONGEST_WAIT: Duration = Duration::from_secs(3);
/// What the 503 asks the client to wait before trying again.
pub const RETRY_AFTER: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct PasswordWork {
    /// One per hash that may run at once.
    running: Arc<Semaphore>,
    /// One per request that may be running or waiting to run.
    admitted: Arc<Semaphore>,
    longest_wait: Duration,
    /// Argon2 working memory, one per hash that has run at once: allocated
    /// once and reused, so memory stays at (cores × 19 MiB) however many hash.
    memories: Arc<Mutex<Vec<HashMemory>>>,
}

/// Too much password work is under way: try again after [`RETRY_AFTER`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Busy;

impl PasswordWork {
    pub fn new(running: usize, waiting: usize, longest_wait: Duration) -> PasswordWork {
        let running = running.max(1);
        PasswordWork {
            running: Arc::new(Semaphore::new(running)),
            admitted: Arc::new(Semaphore::new(running + waiting)),
            longest_wait,
            memories: Arc::default(),
        }
    }

    /// One hash at a time per core of this machine.
    pub fn sized_to_this_machine() -> PasswordWork {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        PasswordWork::new(cores, cores * WAITING_PER_CORE, LONGEST_WAIT)
    }

    /// Runs `work` on a blocking thread once a core is free, or says [`Busy`].
    /// Once started, the work finishes and frees its core even if the caller
    /// goes away.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut HashMemory) -> T + Send + 'static,
    ) -> Result<T, Busy> {
        let admitted = self.admitted.clone().try_acquire_owned().map_err(|_| Busy)?;
        let running = tokio::time::timeout(self.longest_wait, self.running.clone().acquire_owned())
            .await
            .map_err(|_| Busy)?
            .map_err(|_| Busy)?;
        let memories = self.memories.clone();
        let done = tokio::task::spawn_blocking(move || {
            let mut memory = take_memory(&memories);
            let result = work(&mut memory);
            memories.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(memory);
            drop((running, admitted));
            result
        });
        // A panic in hashing is a bug; it surfaces as the closure's own failure would.
        Ok(done.await.unwrap_or_else(|panic| std::panic::resume_unwind(panic.into_panic())))
    }
}

fn take_memory(memories: &Mutex<Vec<HashMemory>>) -> HashMemory {
    memories.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).pop().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_the_bound_run_at_once_and_the_overflow_is_refused() {
        let work = PasswordWork::new(2, 3, Duration::from_secs(5));
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let attempts = (0..20).map(|_| {
            let (work, now, most) = (work.clone(), now.clone(), most.clone());
            tokio::spawn(async move {
                work.run(move |_| {
                    let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(running, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(300));
                    now.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            })
        });
        let outcomes = futures_util::future::join_all(attempts).await;
        let ran = outcomes.iter().filter(|o| matches!(o, Ok(Ok(())))).count();
        assert_eq!(most.load(Ordering::SeqCst), 2, "never more than two at once");
        assert_eq!(ran, 5, "two running and three waiting were admitted; the rest were refused at once");
    }

    #[tokio::test]
    async fn a_request_that_waits_too_long_is_refused() {
        let work = PasswordWork::new(1, 5, Duration::from_millis(50));
        let busy = work.clone();
        let long = tokio::spawn(async move { busy.run(|_| std::thread::sleep(Duration::from_millis(500))).await });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(work.run(|_| ()).await, Err(Busy));
        assert_eq!(long.await.expect("join"), Ok(()));
    }
}
