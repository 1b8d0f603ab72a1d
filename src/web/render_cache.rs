//! Rendered pages kept in memory, keyed by a version computed in the database
//! (see `feedback::page_etag`): when what a page is drawn from changes, so does
//! its key, so a stale copy is never served, whichever instance rendered it.
//! Bounded by the bytes it holds; the least recently used page goes first.
//! The same version makes the page's ETag, so a revisit can be a 304.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use bytes::Bytes;
use hashlink::LruCache;
use sha2::{Digest, Sha256};

use super::assets;
use super::error::AppError;
use crate::db::sessions::SessionUser;

/// Enough for about a thousand completed loops' feedback (~50 KB each).
pub const DEFAULT_BUDGET_BYTES: usize = 48 * 1024 * 1024;

/// What a cache keeps: a rendered page, or one with holes (`kept_page`).
pub trait Kept {
    /// The bytes it holds, counted against the cache's budget.
    fn size(&self) -> usize;
}

impl Kept for Bytes {
    fn size(&self) -> usize {
        self.len()
    }
}

impl<T: Kept> Kept for Arc<T> {
    fn size(&self) -> usize {
        self.as_ref().size()
    }
}

#[derive(Clone)]
pub struct RenderCache<P: Kept + Clone = Bytes> {
    inner: Arc<Mutex<Held<P>>>,
}

struct Held<P> {
    pages: LruCache<String, P>,
    bytes: usize,
    budget: usize,
}

impl<P: Kept + Clone> RenderCache<P> {
    pub fn with_budget(budget: usize) -> RenderCache<P> {
        RenderCache { inner: Arc::new(Mutex::new(Held { pages: LruCache::new_unbounded(), bytes: 0, budget })) }
    }

    pub fn get(&self, key: &str) -> Option<P> {
        self.held().pages.get(key).cloned()
    }

    /// Keeps `page` under `key`, dropping the least recently used pages beyond the
    /// budget; a page larger than the whole budget is not kept.
    pub fn put(&self, key: String, page: P) {
        let mut held = self.held();
        if page.size() > held.budget {
            return;
        }
        held.bytes += page.size();
        if let Some(replaced) = held.pages.insert(key, page) {
            held.bytes -= replaced.size();
        }
        while held.bytes > held.budget {
            match held.pages.remove_lru() {
                Some((_, dropped)) => held.bytes -= dropped.size(),
                None => break,
            }
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held<P>> {
        // A panic while holding the lock leaves whole entries only: the map stays usable.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A strong validator for `viewer`'s page built from `parts` by this build of
/// the app (a new release may render the same data differently). The viewer's
/// header (name, unread notices) is part of every kept page, so of every key.
pub fn page_etag(viewer: &SessionUser, parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(env!("CARGO_PKG_VERSION"));
    hasher.update(assets::url("app.css"));
    let header = format!("{}/{}/{}", viewer.id, viewer.display_name, viewer.unread_notices);
    for part in std::iter::once(header.as_str()).chain(parts.iter().copied()) {
        hasher.update([0]);
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|byte| format!("{byte:02x}")).collect();
    format!("\"{hex}\"")
}

/// Serves the page named by `etag` (see [`page_etag`]): a 304 when the browser
/// sent it back, the kept copy when there is one, otherwise `render`'s page, kept.
/// Without an ETag (a page that is still changing) it renders every time.
pub async fn serve_versioned<F>(
    cache: &RenderCache,
    request: &HeaderMap,
    etag: Option<String>,
    render: F,
) -> Result<Response, AppError>
where
    F: AsyncFnOnce() -> Result<String, AppError>,
{
    let Some(etag) = etag else {
        return Ok(Html(render().await?).into_response());
    };
    if request.get(header::IF_NONE_MATCH).is_some_and(|sent| sent.as_bytes() == etag.as_bytes()) {
        return Ok((StatusCode::NOT_MODIFIED, revalidation_headers(&etag)).into_response());
    }
    let page = match cache.get(&etag) {
        Some(page) => page,
        None => {
            let page = Bytes::from(render().await?);
            cache.put(etag.clone(), page.clone());
            page
        }
    };
    Ok((revalidation_headers(&etag), Html(page)).into_response())
}

/// Private to the signed-in viewer, and checked with the server on every visit.
fn revalidation_headers(etag: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    headers
}

impl<P: Kept + Clone> Default for RenderCache<P> {
    fn default() -> Self {
        RenderCache::with_budget(DEFAULT_BUDGET_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(len: usize) -> Bytes {
        Bytes::from(vec![b'x'; len])
    }

    /// Puts in order, the key read between the 2nd and 3rd put, what is kept, what is dropped.
    type Case<'a> = (&'a [(&'a str, usize)], &'a str, &'a [&'a str], &'a [&'a str]);

    #[test]
    fn keeps_pages_within_the_budget_dropping_the_least_recently_used() {
        let cases: &[Case] = &[
            (&[("a", 40), ("b", 40), ("c", 40)], "a", &["a", "c"], &["b"]),
            (&[("a", 40), ("b", 40), ("c", 40)], "b", &["b", "c"], &["a"]),
            (&[("a", 10), ("b", 10), ("c", 10)], "a", &["a", "b", "c"], &[]),
            (&[("a", 40), ("b", 40), ("huge", 101)], "a", &["a", "b"], &["huge"]),
            (&[("a", 40), ("a", 60), ("b", 40)], "a", &["a", "b"], &[]),
        ];
        for (puts, touched, kept, dropped) in cases {
            let cache = RenderCache::<Bytes>::with_budget(100);
            for (index, (key, len)) in puts.iter().enumerate() {
                if index == 2 {
                    cache.get(touched);
                }
                cache.put((*key).to_owned(), page(*len));
            }
            for key in *kept {
                assert!(cache.get(key).is_some(), "{puts:?}: {key} should be kept");
            }
            for key in *dropped {
                assert!(cache.get(key).is_none(), "{puts:?}: {key} should be dropped");
            }
            assert!(cache.held().bytes <= 100, "{puts:?}: over budget");
        }
    }

    #[test]
    fn replacing_a_page_counts_only_the_new_copy() {
        let cache = RenderCache::<Bytes>::with_budget(100);
        cache.put("a".into(), page(60));
        cache.put("a".into(), page(30));
        assert_eq!(cache.held().bytes, 30);
    }
}
