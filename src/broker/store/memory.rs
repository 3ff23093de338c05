//! The in-process store: one moka cache per [`Kind`], each bounded by the bytes it holds (issue
//! #8 §6: a flood of large requests cannot grow memory past these bounds) and expiring each item
//! after its own lifetime. One chsim process only; several instances need a shared store.

use super::{Kind, LoginStore, StoreError};
use async_trait::async_trait;
use moka::sync::Cache;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

const MIB: u64 = 1024 * 1024;

/// A stored value and how long it lives.
#[derive(Debug, Clone)]
struct Entry {
    value: Arc<[u8]>,
    ttl: Duration,
}

/// Each entry expires after its own lifetime.
struct OwnLifetime;

impl moka::Expiry<String, Entry> for OwnLifetime {
    fn expire_after_create(&self, _key: &String, entry: &Entry, _at: Instant) -> Option<Duration> {
        Some(entry.ttl)
    }
    fn expire_after_update(
        &self,
        _key: &String,
        entry: &Entry,
        _at: Instant,
        _remaining: Option<Duration>,
    ) -> Option<Duration> {
        Some(entry.ttl)
    }
}

/// The byte budget of each kind (estimated: key, value and moka's own overhead).
fn budget(kind: Kind) -> u64 {
    match kind {
        Kind::Login => 64 * MIB,
        Kind::IdpRequest => 16 * MIB,
        // Only tells "answered before" from "never asked" in an error message: small.
        Kind::Answered => 4 * MIB,
        Kind::Assertion => 64 * MIB,
        Kind::AuthnRequest => 32 * MIB,
        // A debugging aid for the demo pages, not state a login needs: the most recent few
        // thousand.
        Kind::Report => 8 * MIB,
        // A session is a few KiB (identity, roles, participants): some ten thousand people.
        Kind::Session => 64 * MIB,
        // One key per participant and IdP leg of every session: sized so that sessions are
        // evicted before their index keys (else a logout could not find a live session).
        Kind::SessionIndex => 64 * MIB,
        Kind::Logout => 16 * MIB,
        Kind::LogoutSent => 4 * MIB,
        Kind::LogoutRequest => 8 * MIB,
    }
}

/// The in-memory backend.
#[derive(Debug)]
pub struct MemoryStore {
    caches: HashMap<Kind, Cache<String, Entry>>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// Empty caches with the default budgets.
    pub fn new() -> Self {
        let caches = Kind::ALL
            .iter()
            .map(|&kind| {
                let cache = Cache::builder()
                    .max_capacity(budget(kind))
                    .weigher(|k: &String, e: &Entry| {
                        u32::try_from(k.len() + e.value.len() + 96).unwrap_or(u32::MAX)
                    })
                    .expire_after(OwnLifetime)
                    .build();
                (kind, cache)
            })
            .collect();
        Self { caches }
    }

    fn cache(&self, kind: Kind) -> Result<&Cache<String, Entry>, StoreError> {
        // Every kind gets a cache in `new`; the error only guards against a kind added later.
        self.caches.get(&kind).ok_or(StoreError::Unavailable {
            backend: "memory",
            reason: format!("no space for {} items", kind.name()),
        })
    }
}

#[async_trait]
impl LoginStore for MemoryStore {
    async fn put(
        &self,
        kind: Kind,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        self.cache(kind)?.insert(
            key.to_string(),
            Entry {
                value: value.into(),
                ttl,
            },
        );
        Ok(())
    }

    async fn get(&self, kind: Kind, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.cache(kind)?.get(key).map(|e| e.value.to_vec()))
    }

    async fn take(&self, kind: Kind, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        // moka's remove is atomic per key: of two concurrent callers, one gets the entry.
        Ok(self.cache(kind)?.remove(key).map(|e| e.value.to_vec()))
    }

    async fn put_new(
        &self,
        kind: Kind,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let entry = self.cache(kind)?.entry(key.to_string()).or_insert(Entry {
            value: value.into(),
            ttl,
        });
        Ok(entry.is_fresh())
    }

    async fn remove(&self, kind: Kind, key: &str) -> Result<(), StoreError> {
        self.cache(kind)?.invalidate(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn take_gives_the_value_to_one_caller_only() {
        let store = MemoryStore::new();
        let ttl = Duration::from_secs(60);
        store
            .put(Kind::IdpRequest, "_r1", b"x".to_vec(), ttl)
            .await
            .unwrap();
        assert_eq!(
            store.take(Kind::IdpRequest, "_r1").await.unwrap(),
            Some(b"x".to_vec())
        );
        assert_eq!(store.take(Kind::IdpRequest, "_r1").await.unwrap(), None);
    }

    #[tokio::test]
    async fn put_new_refuses_a_key_already_present() {
        let store = MemoryStore::new();
        let ttl = Duration::from_secs(60);
        assert!(store
            .put_new(Kind::Assertion, "_a", Vec::new(), ttl)
            .await
            .unwrap());
        assert!(!store
            .put_new(Kind::Assertion, "_a", Vec::new(), ttl)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn kinds_are_separate_namespaces() {
        let store = MemoryStore::new();
        let ttl = Duration::from_secs(60);
        store
            .put(Kind::Login, "k", b"1".to_vec(), ttl)
            .await
            .unwrap();
        assert_eq!(store.get(Kind::Report, "k").await.unwrap(), None);
        store.remove(Kind::Login, "k").await.unwrap();
        assert_eq!(store.get(Kind::Login, "k").await.unwrap(), None);
    }

    #[tokio::test]
    async fn an_item_expires_after_its_own_lifetime() {
        let store = MemoryStore::new();
        store
            .put(
                Kind::Login,
                "short",
                b"1".to_vec(),
                Duration::from_millis(50),
            )
            .await
            .unwrap();
        store
            .put(Kind::Login, "long", b"2".to_vec(), Duration::from_secs(60))
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(120)).await;
        assert_eq!(store.get(Kind::Login, "short").await.unwrap(), None);
        assert!(store.get(Kind::Login, "long").await.unwrap().is_some());
    }
}
