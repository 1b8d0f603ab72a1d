//! The shipped content that pages list on every visit (the loop templates, the
//! bank's tags, the rubrics' criteria), read once and held in memory. It changes only when content is
//! imported, which announces itself on [`CONTENT_CHANNEL`] (`db::content::import`);
//! each instance's live listener then drops its copy, and the next page reads it again.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};

use crate::db;
use crate::db::rubrics::Criterion;
use crate::db::templates::TemplateWithRounds;
use crate::domain::{Level, RoundKind};
use crate::web::page::escape_html;

/// Announces an import of content (no payload).
pub const CONTENT_CHANNEL: &str = "mockloop_content";

#[derive(Debug)]
pub struct Shipped {
    /// The shipped templates, in the order the pages list them.
    pub templates: Vec<TemplateWithRounds>,
    /// Every tag of the shipped questions, sorted.
    pub tags: Vec<String>,
    /// The same tags escaped for HTML, once: the search page lists them all.
    pub tags_html: Vec<String>,
    /// Each rubric's criteria in use, by the kind of round it scores.
    pub criteria: Vec<(RoundKind, Criterion)>,
    /// A digest of the templates, tags and criteria: the same on every instance for the
    /// same content, so a page kept under it is never served for other content.
    pub digest: String,
}

impl Shipped {
    /// The criteria of a scorecard for a round of `kind` with a candidate at `level`, in rubric order.
    pub fn criteria_for_card(&self, kind: RoundKind, level: Level) -> Vec<Criterion> {
        self.criteria
            .iter()
            .filter(|(of, criterion)| *of == kind && criterion.applies_to(level))
            .map(|(_, criterion)| criterion.clone())
            .collect()
    }
}

#[derive(Clone, Default)]
pub struct ShippedContent {
    held: Arc<RwLock<Option<Arc<Shipped>>>>,
    /// Counts the drops, so a read that a drop overtook is not kept.
    drops: Arc<AtomicU64>,
}

impl ShippedContent {
    /// The held copy, or a fresh read of it on a connection taken from `db`
    /// only then. A page that already holds a connection calls [`Self::get_on`].
    pub async fn get(&self, db: &PgPool) -> Result<Arc<Shipped>, sqlx::Error> {
        match self.held() {
            Some(shipped) => Ok(shipped),
            None => self.read(&mut *db.acquire().await?).await,
        }
    }

    /// The held copy, or a fresh read of it on the caller's connection: waiting
    /// for a second one, a burst as large as the pool would hold every
    /// connection until the pool's timeout.
    pub async fn get_on(&self, conn: &mut PgConnection) -> Result<Arc<Shipped>, sqlx::Error> {
        match self.held() {
            Some(shipped) => Ok(shipped),
            None => self.read(conn).await,
        }
    }

    fn held(&self) -> Option<Arc<Shipped>> {
        self.held.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// A fresh read, kept unless content changed meanwhile.
    async fn read(&self, conn: &mut PgConnection) -> Result<Arc<Shipped>, sqlx::Error> {
        let drops = self.drops.load(Ordering::SeqCst);
        let templates = db::templates::list_owned_by(&mut *conn, None).await?;
        let tags = db::questions::shipped_tags(&mut *conn).await?;
        let criteria = db::rubrics::criteria_in_use(&mut *conn).await?;
        let shipped = Arc::new(Shipped {
            digest: digest_of(&templates, &tags, &criteria),
            templates,
            tags_html: tags.iter().map(|tag| escape_html(tag)).collect(),
            tags,
            criteria,
        });
        let mut held = self.held.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if self.drops.load(Ordering::SeqCst) == drops {
            *held = Some(shipped.clone());
        }
        Ok(shipped)
    }

    /// Drops the held copy: content was imported, or the listener may have missed saying so.
    pub fn drop_held(&self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        *self.held.write().unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }
}

/// Of the content's debug form: the same for the same content under one build,
/// and a page's key names its build too (`render_cache::page_etag`).
fn digest_of(templates: &[TemplateWithRounds], tags: &[String], criteria: &[(RoundKind, Criterion)]) -> String {
    let digest = Sha256::digest(format!("{templates:?}{tags:?}{criteria:?}").as_bytes());
    digest[..16].iter().map(|byte| format!("{byte:02x}")).collect()
}
