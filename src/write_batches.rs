//! Autosaves that arrive together are written together: every save pending
//! when the previous batch finished goes into one statement and one commit,
//! so that under load a save no longer pays for a WAL flush of its own (the
//! flush, through this machine's virtual disk, was the largest part of a
//! save). A save that comes alone is written at once, as before, and each is
//! answered only once its batch has committed: an acknowledged save is durable.

use std::collections::HashSet;
use std::hash::Hash;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::future::BoxFuture;
use sqlx::PgPool;
use tokio::sync::{Notify, oneshot};

/// One save waiting for its batch.
pub trait Batched: Send + 'static {
    /// Two saves with one key (the same note twice) never share a batch: the
    /// second waits for the next, so each sees the version the first wrote.
    type Key: Eq + Hash;

    fn key(&self) -> Self::Key;
}

/// A batch's failure, shared by every save in it.
pub type BatchError = Arc<sqlx::Error>;

type Reply<R> = oneshot::Sender<Result<R, BatchError>>;

/// The saves waiting, each with where its answer goes.
type Pending<J, R> = Vec<(J, Reply<R>)>;

/// Writes each batch with `write`, which answers its jobs in order.
pub type BatchWriter<J, R> =
    Arc<dyn Fn(PgPool, Vec<J>) -> BoxFuture<'static, Result<Vec<R>, sqlx::Error>> + Send + Sync>;

/// At most this many saves in one statement.
const MAX_BATCH: usize = 64;

pub struct WriteBatches<J, R> {
    pending: Arc<Mutex<Pending<J, R>>>,
    wake: Arc<Notify>,
}

impl<J, R> Clone for WriteBatches<J, R> {
    fn clone(&self) -> Self {
        WriteBatches { pending: self.pending.clone(), wake: self.wake.clone() }
    }
}

impl<J: Batched, R: Send + 'static> WriteBatches<J, R> {
    /// Batches written on `pool` by a task of their own.
    pub fn start(pool: PgPool, write: BatchWriter<J, R>) -> WriteBatches<J, R> {
        let batches = WriteBatches { pending: Arc::default(), wake: Arc::default() };
        tokio::spawn(write_as_they_come(batches.clone(), pool, write));
        batches
    }

    /// Writes `job` with the others pending, once its batch has committed.
    pub async fn write(&self, job: J) -> Result<R, BatchError> {
        let (reply, answer) = oneshot::channel();
        self.held().push((job, reply));
        self.wake.notify_one();
        // The writer task ends only with the runtime.
        answer.await.unwrap_or_else(|_| Err(Arc::new(sqlx::Error::PoolClosed)))
    }

    /// The next batch: the oldest pending saves, one per key, leaving the rest.
    fn take(&self) -> Pending<J, R> {
        let mut pending = self.held();
        let mut keys = HashSet::new();
        let (mut batch, mut rest) = (Vec::new(), Vec::new());
        for (job, reply) in pending.drain(..) {
            if batch.len() < MAX_BATCH && keys.insert(job.key()) {
                batch.push((job, reply));
            } else {
                rest.push((job, reply));
            }
        }
        *pending = rest;
        batch
    }

    fn held(&self) -> MutexGuard<'_, Pending<J, R>> {
        // A panic while holding the lock leaves whole entries only.
        self.pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

async fn write_as_they_come<J: Batched, R: Send + 'static>(
    batches: WriteBatches<J, R>,
    pool: PgPool,
    write: BatchWriter<J, R>,
) {
    loop {
        batches.wake.notified().await;
        loop {
            let batch = batches.take();
            if batch.is_empty() {
                break;
            }
            let (jobs, replies): (Vec<J>, Vec<Reply<R>>) = batch.into_iter().unzip();
            match write(pool.clone(), jobs).await {
                Ok(results) => {
                    for (reply, result) in replies.into_iter().zip(results) {
                        let _ = reply.send(Ok(result));
                    }
                }
                Err(error) => {
                    let error = Arc::new(error);
                    for reply in replies {
                        let _ = reply.send(Err(error.clone()));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Save(&'static str);

    impl Batched for Save {
        type Key = &'static str;

        fn key(&self) -> &'static str {
            self.0
        }
    }

    #[test]
    fn a_batch_takes_each_key_once_in_order_and_leaves_the_rest_for_the_next() {
        let cases: &[(&[&str], &[&str], &[&str])] = &[
            (&["a", "b", "c"], &["a", "b", "c"], &[]),
            (&["a", "b", "a", "c", "a"], &["a", "b", "c"], &["a", "a"]),
            (&[], &[], &[]),
        ];
        for (pending, first, left) in cases {
            let batches: WriteBatches<Save, ()> = WriteBatches { pending: Arc::default(), wake: Arc::default() };
            for key in *pending {
                batches.held().push((Save(key), oneshot::channel().0));
            }
            let taken: Vec<&str> = batches.take().iter().map(|(save, _)| save.0).collect();
            assert_eq!(taken, *first, "{pending:?}");
            let rest: Vec<&str> = batches.held().iter().map(|(save, _)| save.0).collect();
            assert_eq!(rest, *left, "{pending:?}");
        }
    }
}
