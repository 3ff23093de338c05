//! The in-process store, each [`Kind`] bounded by the bytes it holds (issue #8 §6: a flood of
//! large requests cannot grow memory past these bounds) and expiring each item after its own
//! lifetime. One chsim process only; several instances need a shared store.
//!
//! - The replay marks (used assertion IDs, AuthnRequests and LogoutRequests) are compact sets
//!   ([`SeenIds`]): about 25 bytes an ID; when full they refuse, never forget (issue #10 §4).
//! - Everything else is one moka cache per kind, weighed by what an entry really costs.

use super::seen::SeenIds;
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

/// What a moka entry costs besides its key and value, measured on this cache's configuration
/// (RSS over 40,000 entries with 40-byte keys and 0, 300 and 1,000-byte values: 418–426 bytes;
/// issue #10 §4). The weigher counts it, so each budget below is real bytes.
pub const MOKA_ENTRY_BYTES: usize = 432;

/// Whether a kind only marks IDs as used (`put_new` with no value): kept in a [`SeenIds`].
fn is_mark(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::Assertion
            | Kind::AuthnRequest
            | Kind::LogoutRequest
            | Kind::ClientAssertion
            // A revocation must not be forgotten early: marks refuse new entries when full.
            | Kind::OidcRevoked
            | Kind::OidcSessionEnded
    )
}

/// The byte budget of each kind: keys, values and the cache's own overhead.
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
        // OIDC: a code lives a minute, a grant (~1 KB of claims) as long as its tokens.
        Kind::OidcCode => 8 * MIB,
        Kind::OidcCodeUsed => 4 * MIB,
        Kind::OidcGrant => 32 * MIB,
        Kind::OidcRefresh => 16 * MIB,
        Kind::OidcRevoked => 4 * MIB,
        Kind::ClientAssertion => 8 * MIB,
        Kind::OidcSessionEnded => 8 * MIB,
    }
}

/// The in-memory backend.
#[derive(Debug)]
pub struct MemoryStore {
    caches: HashMap<Kind, Cache<String, Entry>>,
    marks: HashMap<Kind, SeenIds>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// Empty caches with the default budgets.
    pub fn new() -> Self {
        let start = Instant::now();
        let caches = Kind::ALL
            .iter()
            .filter(|&&kind| !is_mark(kind))
            .map(|&kind| {
                let cache = Cache::builder()
                    .max_capacity(budget(kind))
                    .weigher(|k: &String, e: &Entry| {
                        u32::try_from(k.len() + e.value.len() + MOKA_ENTRY_BYTES)
                            .unwrap_or(u32::MAX)
                    })
                    .expire_after(OwnLifetime)
                    .build();
                (kind, cache)
            })
            .collect();
        let marks = Kind::ALL
            .iter()
            .filter(|&&kind| is_mark(kind))
            .map(|&kind| (kind, SeenIds::new(kind.name(), budget(kind), start)))
            .collect();
        Self { caches, marks }
    }

    /// The replay marks of `kind`, when it is a mark kind.
    fn marks(&self, kind: Kind) -> Option<&SeenIds> {
        self.marks.get(&kind)
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
        if let Some(marks) = self.marks(kind) {
            no_value(kind, key, &value)?;
            marks.remove(key, Instant::now());
            marks.insert_new(key, ttl, Instant::now())?;
            return Ok(());
        }
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
        if let Some(marks) = self.marks(kind) {
            return Ok(marks.contains(key, Instant::now()).then(Vec::new));
        }
        Ok(self.cache(kind)?.get(key).map(|e| e.value.to_vec()))
    }

    async fn take(&self, kind: Kind, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        if let Some(marks) = self.marks(kind) {
            return Ok(marks.remove(key, Instant::now()).then(Vec::new));
        }
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
        if let Some(marks) = self.marks(kind) {
            no_value(kind, key, &value)?;
            return marks.insert_new(key, ttl, Instant::now());
        }
        let entry = self.cache(kind)?.entry(key.to_string()).or_insert(Entry {
            value: value.into(),
            ttl,
        });
        Ok(entry.is_fresh())
    }

    async fn remove(&self, kind: Kind, key: &str) -> Result<(), StoreError> {
        if let Some(marks) = self.marks(kind) {
            marks.remove(key, Instant::now());
            return Ok(());
        }
        self.cache(kind)?.invalidate(key);
        Ok(())
    }
}

/// A mark kind keeps no value; a value for one is a programming error, refused loudly.
fn no_value(kind: Kind, key: &str, value: &[u8]) -> Result<(), StoreError> {
    if value.is_empty() {
        return Ok(());
    }
    Err(StoreError::Corrupt {
        kind: kind.name(),
        key: key.to_string(),
        reason: "the in-memory store keeps only IDs for this kind, no values".to_string(),
    })
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
