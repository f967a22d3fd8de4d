//! Who the principals are, as last read from the database, for the request path: an entry
//! is reused only while its site's write count (`sites::write_count`) is the one it was read
//! under. Every change to a site's data moves that count in its transaction, so a
//! deactivated user, a revoked service account or a changed permission is seen by the very
//! next request, on this instance or any other sharing the database.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use staffroom_domain::{
    AssistantAccountId, Permission, ScimTokenId, ServiceAccountId, SiteId, UserId,
};
use staffroom_persistence::assistants::AssistantAccount;
use staffroom_persistence::users::User;

/// Entries kept at most; past it the cache starts again empty (a miss costs three queries).
const CAPACITY: usize = 4096;

/// One principal: its site and the subject its tokens name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CallerKey {
    pub site: SiteId,
    pub subject: Subject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subject {
    User(UserId),
    Service(ServiceAccountId),
    Assistant(AssistantAccountId),
    Scim(ScimTokenId),
}

/// What the request path needs of a principal, read when the site's write count was
/// `write_count`.
#[derive(Debug)]
pub struct Caller {
    pub write_count: i64,
    /// An active user, a service account or SCIM token not revoked, or an assistant account
    /// that still assists an active clinician.
    pub active: bool,
    /// A SCIM token's digest: the bearer token presented must be that very token.
    pub token_hash: Option<String>,
    pub user: Option<User>,
    /// The assistant account, for assistants.
    pub assistant: Option<AssistantAccount>,
    pub permissions: Vec<Permission>,
}

#[derive(Debug, Default)]
pub struct CallerCache {
    entries: RwLock<HashMap<CallerKey, Arc<Caller>>>,
}

impl CallerCache {
    /// The entry of `key`, whatever its write count; the caller compares it.
    pub fn get(&self, key: &CallerKey) -> Option<Arc<Caller>> {
        self.entries
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    pub fn put(&self, key: CallerKey, caller: Arc<Caller>) {
        let mut entries = self.entries.write().unwrap_or_else(PoisonError::into_inner);
        if entries.len() >= CAPACITY && !entries.contains_key(&key) {
            entries.clear();
        }
        entries.insert(key, caller);
    }

    pub fn forget(&self, key: &CallerKey) {
        self.entries
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> CallerKey {
        CallerKey {
            site: SiteId::new(),
            subject: Subject::Service(ServiceAccountId::new()),
        }
    }

    fn caller(write_count: i64) -> Arc<Caller> {
        Arc::new(Caller {
            write_count,
            active: true,
            token_hash: None,
            user: None,
            assistant: None,
            permissions: vec![Permission::SiteAdmin],
        })
    }

    #[test]
    fn keeps_replaces_and_forgets() {
        let cache = CallerCache::default();
        let k = key();
        assert!(cache.get(&k).is_none());
        cache.put(k, caller(1));
        assert_eq!(cache.get(&k).map(|c| c.write_count), Some(1));
        cache.put(k, caller(2));
        assert_eq!(cache.get(&k).map(|c| c.write_count), Some(2));
        cache.forget(&k);
        assert!(cache.get(&k).is_none());
    }

    #[test]
    fn stays_bounded() {
        let cache = CallerCache::default();
        for _ in 0..=CAPACITY {
            cache.put(key(), caller(0));
        }
        let len = cache.entries.read().unwrap().len();
        assert!((1..=CAPACITY).contains(&len), "{len} entries");
    }
}
