//! Answers of reads, kept per principal and request while their site is unchanged.
//!
//! A read answer (`GET /v1/users?…`, `GET /v1/users/{id}`) is a function of the site's data
//! and of who asks. Every change to a site's users, their grants and clinics is a use-case
//! that moves its write count (`sites::write_count`) in its own transaction (the outbox's
//! settling records provider state without it, which these answers do not show, so a read
//! that shows it must not opt in), and the request path reads that
//! count anyway to check its caller (`auth::principal`). So an answer rendered when the
//! count was `n` is the answer of any later request of the same principal, for the same
//! method, path and query, that reads `n` again: it is sent as it was rendered, without
//! reading the users, their grants or serialising them again. The first request after any
//! change renders afresh (on this instance or any other sharing the database).
//!
//! Only answers that depend on nothing else are kept: a handler opts in through
//! `Requester::answer` and names the request by its path and query. The cache is bounded
//! in bytes (`--read-cache-kib`, 0 turns it off); past the bound the oldest entries go.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use actix_web::HttpResponse;
use actix_web::body::BoxBody;
use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::Bytes;

use crate::answer::Answer;
use crate::auth::callers::CallerKey;

/// The default bound: a few hundred pages of 50 users.
pub const DEFAULT_BYTES: usize = 8 * 1024 * 1024;

/// What an entry costs besides its body and request text (the map, the queue, the headers).
const ENTRY_OVERHEAD: usize = 256;

/// A read, as one principal made it: the method is always `GET`, so the path and query
/// (`/v1/users?limit=50`) name it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReadKey {
    pub caller: CallerKey,
    pub request: Box<str>,
}

/// How a read names itself in its [`ReadKey`]: its path and query as they were sent.
pub fn read_key(req: &actix_web::HttpRequest) -> String {
    req.uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned())
}

/// A rendered answer, sent again as it is.
#[derive(Debug)]
pub struct Rendered {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Bytes,
    /// Whether the answer may be sent again: a success without a one-time secret.
    keepable: bool,
}

impl Rendered {
    pub fn response(&self) -> HttpResponse<BoxBody> {
        let mut response = HttpResponse::build(self.status);
        for (name, value) in &self.headers {
            response.insert_header((name.clone(), value.clone()));
        }
        response.body(self.body.clone())
    }

    /// A success carrying no one-time secret: an answer that may be sent again.
    pub fn is_keepable(&self) -> bool {
        self.keepable
    }

    fn size(&self) -> usize {
        self.body.len()
            + self
                .headers
                .iter()
                .map(|(n, v)| n.as_str().len() + v.len())
                .sum::<usize>()
    }
}

impl From<Answer> for Rendered {
    fn from(answer: Answer) -> Self {
        Self {
            keepable: answer.status.is_success() && answer.secret.is_none(),
            status: answer.status,
            headers: answer
                .headers
                .into_iter()
                .filter_map(|(name, value)| Some((name, HeaderValue::try_from(value).ok()?)))
                .collect(),
            body: Bytes::from(answer.body),
        }
    }
}

struct Entry {
    write_count: i64,
    rendered: Arc<Rendered>,
    size: usize,
}

#[derive(Default)]
struct Entries {
    map: HashMap<ReadKey, Entry>,
    /// Keys in the order they were first kept; the oldest goes first past the bound.
    order: VecDeque<ReadKey>,
    bytes: usize,
}

/// The kept answers, shared by every worker of one process.
pub struct ReadCache {
    budget: usize,
    entries: RwLock<Entries>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl Default for ReadCache {
    fn default() -> Self {
        Self::new(DEFAULT_BYTES)
    }
}

impl ReadCache {
    /// A cache of at most `budget` bytes; `0` keeps nothing.
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            entries: RwLock::default(),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, Entries> {
        self.entries.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Entries> {
        self.entries.write().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn enabled(&self) -> bool {
        self.budget > 0
    }

    /// The answer kept for `key` when the site's write count was `write_count`.
    pub fn get(&self, key: &ReadKey, write_count: i64) -> Option<Arc<Rendered>> {
        if !self.enabled() {
            return None;
        }
        let found = self
            .read()
            .map
            .get(key)
            .filter(|e| e.write_count == write_count)
            .map(|e| Arc::clone(&e.rendered));
        let counter = if found.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `rendered` as the answer of `key` at `write_count`, unless an answer of a later
    /// count is kept already (a slower request of the same read) or it alone would take more
    /// than an eighth of the bound.
    pub fn put(&self, key: ReadKey, write_count: i64, rendered: Arc<Rendered>) {
        let size = rendered.size() + key.request.len() + ENTRY_OVERHEAD;
        if !self.enabled() || size > self.budget / 8 {
            return;
        }
        let mut entries = self.write();
        let entries = &mut *entries;
        let entry = Entry {
            write_count,
            rendered,
            size,
        };
        match entries.map.get_mut(&key) {
            Some(kept) if kept.write_count > write_count => return,
            Some(kept) => {
                entries.bytes = entries.bytes - kept.size + size;
                *kept = entry;
            }
            None => {
                entries.bytes += size;
                entries.order.push_back(key.clone());
                entries.map.insert(key, entry);
            }
        }
        while entries.bytes > self.budget {
            let Some(oldest) = entries.order.pop_front() else {
                break;
            };
            if let Some(gone) = entries.map.remove(&oldest) {
                entries.bytes -= gone.size;
            }
        }
    }

    /// Answers served from the cache and answers rendered, since the start.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.hits.load(Ordering::Relaxed),
            self.misses.load(Ordering::Relaxed),
        )
    }

    /// The counts and what is held, in the Prometheus text exposition format.
    pub fn metrics(&self) -> String {
        let (hits, misses) = self.counts();
        let (bytes, _) = self.held();
        format!(
            "# HELP staffroom_read_cache_answers_total Read answers sent from the read cache (hit) or rendered (miss).\n\
             # TYPE staffroom_read_cache_answers_total counter\n\
             staffroom_read_cache_answers_total{{outcome=\"hit\"}} {hits}\n\
             staffroom_read_cache_answers_total{{outcome=\"miss\"}} {misses}\n\
             # HELP staffroom_read_cache_bytes Bytes of answers the read cache holds.\n\
             # TYPE staffroom_read_cache_bytes gauge\n\
             staffroom_read_cache_bytes {bytes}\n"
        )
    }

    /// Bytes and entries kept now.
    pub fn held(&self) -> (usize, usize) {
        let entries = self.read();
        (entries.bytes, entries.map.len())
    }
}

#[cfg(test)]
mod tests {
    use staffroom_domain::{ServiceAccountId, SiteId};

    use super::*;
    use crate::auth::callers::Subject;

    fn key(site: SiteId, request: &str) -> ReadKey {
        ReadKey {
            caller: CallerKey {
                site,
                subject: Subject::Service(ServiceAccountId::new()),
            },
            request: request.into(),
        }
    }

    fn rendered(body: &str) -> Arc<Rendered> {
        Arc::new(Rendered::from(Answer::json(StatusCode::OK, &body)))
    }

    fn body(r: &Rendered) -> &[u8] {
        &r.body
    }

    #[test]
    fn answers_only_at_the_count_it_was_rendered_under() {
        let cache = ReadCache::new(1 << 20);
        let k = key(SiteId::new(), "/v1/users?limit=50");
        assert!(cache.get(&k, 3).is_none());
        cache.put(k.clone(), 3, rendered("page at 3"));
        assert_eq!(body(&cache.get(&k, 3).unwrap()), b"\"page at 3\"");
        assert!(cache.get(&k, 4).is_none(), "a change of the site misses");
        assert!(cache.get(&k, 2).is_none());
        cache.put(k.clone(), 4, rendered("page at 4"));
        assert_eq!(body(&cache.get(&k, 4).unwrap()), b"\"page at 4\"");
        assert!(cache.get(&k, 3).is_none(), "the older answer was replaced");
        assert_eq!(cache.counts(), (2, 4));
    }

    #[test]
    fn a_slower_request_does_not_replace_a_later_answer() {
        let cache = ReadCache::new(1 << 20);
        let k = key(SiteId::new(), "/v1/users/1");
        cache.put(k.clone(), 9, rendered("at 9"));
        cache.put(k.clone(), 8, rendered("at 8"));
        assert_eq!(body(&cache.get(&k, 9).unwrap()), b"\"at 9\"");
        assert!(cache.get(&k, 8).is_none());
    }

    #[test]
    fn each_principal_and_request_has_its_own_answer() {
        let cache = ReadCache::new(1 << 20);
        let site = SiteId::new();
        let (a, b) = (key(site, "/v1/users"), key(site, "/v1/users"));
        let a_other = ReadKey {
            request: "/v1/users?q=okafor".into(),
            ..a.clone()
        };
        cache.put(a.clone(), 1, rendered("a"));
        assert!(cache.get(&b, 1).is_none(), "another principal");
        assert!(cache.get(&a_other, 1).is_none(), "another query");
        assert!(cache.get(&a, 1).is_some());
    }

    #[test]
    fn holds_no_more_than_its_bound_dropping_the_oldest() {
        let site = SiteId::new();
        let page = "x".repeat(1000);
        let cache = ReadCache::new(16 * 1024);
        let keys: Vec<_> = (0..40)
            .map(|i| key(site, &format!("/v1/users/{i}")))
            .collect();
        for k in &keys {
            cache.put(k.clone(), 1, rendered(&page));
            assert!(cache.held().0 <= 16 * 1024);
        }
        assert!(cache.get(&keys[39], 1).is_some(), "the newest is kept");
        assert!(cache.get(&keys[0], 1).is_none(), "the oldest went");
        let (bytes, n) = cache.held();
        assert!(n < 40 && n > 5, "{n} entries, {bytes} bytes");
    }

    #[test]
    fn an_answer_is_keepable_only_as_a_success_without_a_secret() {
        assert!(rendered("a page").is_keepable());
        let failed = Answer::json(StatusCode::NOT_FOUND, &"gone");
        assert!(!Rendered::from(failed).is_keepable());
        let secret = Answer::json(StatusCode::OK, &serde_json::json!({"secret": "s"}))
            .one_time_secret("secret");
        assert!(!Rendered::from(secret).is_keepable());
    }

    #[test]
    fn keeps_nothing_too_large_or_when_off() {
        let k = key(SiteId::new(), "/v1/users");
        let small = ReadCache::new(4 * 1024);
        small.put(k.clone(), 1, rendered(&"x".repeat(1000)));
        assert!(small.get(&k, 1).is_none(), "over an eighth of the bound");
        let off = ReadCache::new(0);
        off.put(k.clone(), 1, rendered("a"));
        assert!(off.get(&k, 1).is_none());
        assert_eq!(off.counts(), (0, 0));
        assert_eq!(off.held(), (0, 0));
    }
}
