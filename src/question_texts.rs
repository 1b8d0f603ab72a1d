//! Question texts held in memory, so that the round and question pages read
//! only which questions they show and when each last changed, not ~10 KB of
//! text per question. A text is held under the `updated_at` it was read at; the
//! pages ask for the `updated_at` they just read, so an edited or re-imported
//! question (whose trigger sets a new `updated_at`) is read again, on whichever
//! instance. Bounded by count; the least recently used text goes first.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use hashlink::LruCache;
use sqlx::PgConnection;
use uuid::Uuid;

use crate::db;
use crate::db::questions::QuestionText;

/// The shipped bank and a few thousand private questions (~10 KB each).
const MOST_HELD: usize = 4_000;

#[derive(Clone)]
pub struct QuestionTexts(Arc<Mutex<LruCache<Uuid, Arc<QuestionText>>>>);

impl Default for QuestionTexts {
    fn default() -> QuestionTexts {
        QuestionTexts(Arc::new(Mutex::new(LruCache::new(MOST_HELD))))
    }
}

impl QuestionTexts {
    /// The texts of `wanted` (each a question's id and its current `updated_at`),
    /// in the same order; those not held at that version are read in one
    /// statement. `None` for a question gone since the caller read its version
    /// (a private question deleted meanwhile).
    pub async fn get(
        &self,
        db: &mut PgConnection,
        wanted: &[(Uuid, DateTime<Utc>)],
    ) -> Result<Vec<Option<Arc<QuestionText>>>, sqlx::Error> {
        let mut found: Vec<Option<Arc<QuestionText>>> = {
            let mut held = self.held();
            wanted.iter().map(|(id, at)| held.get(id).filter(|text| text.updated_at == *at).cloned()).collect()
        };
        let missing: Vec<Uuid> =
            wanted.iter().zip(&found).filter(|(_, t)| t.is_none()).map(|((id, _), _)| *id).collect();
        if !missing.is_empty() {
            let read: Vec<Arc<QuestionText>> =
                db::questions::texts(db, &missing).await?.into_iter().map(Arc::new).collect();
            let mut held = self.held();
            for text in &read {
                held.insert(text.id, text.clone());
            }
            for ((id, _), slot) in wanted.iter().zip(found.iter_mut()) {
                if slot.is_none() {
                    *slot = read.iter().find(|text| text.id == *id).cloned();
                }
            }
        }
        Ok(found)
    }

    fn held(&self) -> std::sync::MutexGuard<'_, LruCache<Uuid, Arc<QuestionText>>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
