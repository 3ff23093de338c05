//! The in-memory replay marks: which IDs were used, until each one's time has passed (issue #10
//! §4). A used assertion ID, AuthnRequest or LogoutRequest carries no value, and there are many:
//! one of each per login, kept for minutes. A moka entry costs about 430 bytes more than its key;
//! here an ID costs about 25.
//!
//! - An ID is kept as 128 bits of its SHA-256. A collision can only make chsim refuse a fresh ID
//!   as a replay, never accept a replay, and finding one takes about 2^64 hashes.
//! - IDs sit in time buckets by when they expire; a bucket is dropped whole once the last moment
//!   it covers has passed. So an ID is refused until its own time has passed, and for at most one
//!   bucket width longer.
//! - The set holds at most a fixed number of IDs (from its byte budget). When it is full it
//!   refuses new IDs with [`StoreError::Full`]: forgetting an ID before its time would let that
//!   message be replayed.

use super::StoreError;
use std::collections::{BTreeMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What an ID costs in memory, measured: a bucket's hash set holds 16 bytes and a control byte
/// per slot at up to 7/8 load and doubles when full, so 19–39 bytes; 40 counts the worst case.
pub const BYTES_PER_ID: u64 = 40;

/// How much time one bucket covers.
const BUCKET: Duration = Duration::from_secs(4);

/// The set's IDs are already uniform (SHA-256), so a bucket's hash set uses their low 64 bits.
#[derive(Default)]
struct LowBits(u64);

impl Hasher for LowBits {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, n: u128) {
        // Truncation intended: the low half of a SHA-256 prefix.
        self.0 = n as u64;
    }
}

type Bucket = HashSet<u128, BuildHasherDefault<LowBits>>;

#[derive(Debug)]
struct Buckets {
    /// Bucket `i` holds IDs that expire in `((i - 1) * BUCKET, i * BUCKET]` after `start`.
    by_end: BTreeMap<u64, Bucket>,
    len: usize,
}

/// A set of used IDs, each kept until its own expiry.
#[derive(Debug)]
pub struct SeenIds {
    /// The namespace, for errors.
    kind: &'static str,
    start: Instant,
    max_ids: usize,
    budget_bytes: u64,
    buckets: Mutex<Buckets>,
}

impl SeenIds {
    /// An empty set of `kind` IDs holding at most `budget_bytes / BYTES_PER_ID` of them.
    pub fn new(kind: &'static str, budget_bytes: u64, start: Instant) -> Self {
        Self {
            kind,
            start,
            max_ids: usize::try_from(budget_bytes / BYTES_PER_ID).unwrap_or(usize::MAX),
            budget_bytes,
            buckets: Mutex::new(Buckets {
                by_end: BTreeMap::new(),
                len: 0,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Buckets> {
        // No operation panics half-way, so a poisoned set is still consistent.
        self.buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Bucket number covering `at`: the first whose end is at or after it.
    fn bucket_of(&self, at: Instant) -> u64 {
        let nanos = at.saturating_duration_since(self.start).as_nanos();
        let width = BUCKET.as_nanos();
        u64::try_from(nanos.div_ceil(width)).unwrap_or(u64::MAX)
    }

    /// Drops every bucket whose last moment is not after `now`.
    fn expire(&self, b: &mut Buckets, now: Instant) {
        // Bucket `i` ends at `start + i * BUCKET`; it has expired once that is `<= now`.
        let done =
            u64::try_from(now.saturating_duration_since(self.start).as_nanos() / BUCKET.as_nanos())
                .unwrap_or(u64::MAX);
        while let Some(entry) = b.by_end.first_entry() {
            if *entry.key() > done {
                break;
            }
            b.len -= entry.get().len();
            entry.remove();
        }
    }

    /// Records `id` until `now + ttl`; false when it is already recorded and its time has not
    /// passed. Full → [`StoreError::Full`], and nothing is forgotten.
    pub fn insert_new(&self, id: &str, ttl: Duration, now: Instant) -> Result<bool, StoreError> {
        let h = digest(id);
        let mut b = self.lock();
        self.expire(&mut b, now);
        if b.by_end.values().any(|s| s.contains(&h)) {
            return Ok(false);
        }
        if b.len >= self.max_ids {
            return Err(StoreError::Full {
                kind: self.kind,
                ids: self.max_ids,
                budget_bytes: self.budget_bytes,
            });
        }
        b.by_end
            .entry(self.bucket_of(now + ttl))
            .or_default()
            .insert(h);
        b.len += 1;
        Ok(true)
    }

    /// Whether `id` is recorded and its time has not passed.
    pub fn contains(&self, id: &str, now: Instant) -> bool {
        let h = digest(id);
        let mut b = self.lock();
        self.expire(&mut b, now);
        b.by_end.values().any(|s| s.contains(&h))
    }

    /// Forgets `id` (an explicit removal, never an eviction); true when it was recorded and its
    /// time had not passed. Of concurrent callers only one gets true.
    pub fn remove(&self, id: &str, now: Instant) -> bool {
        let h = digest(id);
        let mut b = self.lock();
        self.expire(&mut b, now);
        let removed = b
            .by_end
            .values_mut()
            .map(|s| s.remove(&h))
            .filter(|&r| r)
            .count();
        b.len -= removed;
        removed > 0
    }

    /// How many IDs are recorded (expired buckets included until the next operation).
    pub fn len(&self) -> usize {
        self.lock().len
    }

    /// Whether no ID is recorded.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The first 128 bits of the ID's SHA-256.
fn digest(id: &str) -> u128 {
    let d = openssl::sha::sha256(id.as_bytes());
    let mut first = [0u8; 16];
    first.copy_from_slice(&d[..16]);
    u128::from_le_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const MIN: Duration = Duration::from_secs(60);

    #[test]
    fn refuses_an_id_while_its_time_has_not_passed() {
        let t0 = Instant::now();
        let set = SeenIds::new("assertion", 1 << 20, t0);
        assert!(set.insert_new("_a", MIN, t0).unwrap());
        assert!(!set.insert_new("_a", MIN, t0).unwrap());
        assert!(!set
            .insert_new("_a", MIN, t0 + MIN - Duration::from_millis(1))
            .unwrap());
        assert!(set.contains("_a", t0 + MIN - Duration::from_nanos(1)));
        assert!(set.insert_new("_b", MIN, t0 + MIN).unwrap());
    }

    #[test]
    fn accepts_an_id_again_once_its_time_and_its_bucket_have_passed() {
        let t0 = Instant::now();
        let set = SeenIds::new("assertion", 1 << 20, t0);
        assert!(set.insert_new("_a", MIN, t0).unwrap());
        let later = t0 + MIN + BUCKET;
        assert!(!set.contains("_a", later));
        assert!(set.insert_new("_a", MIN, later).unwrap());
        assert_eq!(set.len(), 1);
    }

    #[test]
    fn each_id_keeps_its_own_lifetime() {
        let t0 = Instant::now();
        let set = SeenIds::new("assertion", 1 << 20, t0);
        assert!(set
            .insert_new("_short", Duration::from_secs(10), t0)
            .unwrap());
        assert!(set
            .insert_new("_long", Duration::from_secs(300), t0)
            .unwrap());
        let t = t0 + Duration::from_secs(10) + BUCKET;
        assert!(!set.contains("_short", t));
        assert!(set.contains("_long", t));
        assert!(set.contains("_long", t0 + Duration::from_secs(299)));
        assert!(!set.contains("_long", t0 + Duration::from_secs(300) + BUCKET));
    }

    #[test]
    fn a_full_set_refuses_new_ids_and_forgets_none() {
        let t0 = Instant::now();
        let set = SeenIds::new("assertion", 3 * BYTES_PER_ID, t0);
        for id in ["_1", "_2", "_3"] {
            assert!(set.insert_new(id, MIN, t0).unwrap());
        }
        let err = set.insert_new("_4", MIN, t0).unwrap_err();
        assert_eq!(
            err,
            StoreError::Full {
                kind: "assertion",
                ids: 3,
                budget_bytes: 3 * BYTES_PER_ID
            }
        );
        assert!(err.to_string().contains("3 assertion IDs"), "{err}");
        // A replay is still refused as a replay, not let through.
        assert!(!set.insert_new("_1", MIN, t0).unwrap());
        // Room again once the first IDs have expired.
        assert!(set.insert_new("_4", MIN, t0 + MIN + BUCKET).unwrap());
    }

    #[test]
    fn of_concurrent_first_uses_exactly_one_wins() {
        let t0 = Instant::now();
        let set = Arc::new(SeenIds::new("assertion", 1 << 20, t0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let set = Arc::clone(&set);
                std::thread::spawn(move || {
                    (0..500)
                        .filter(|i| set.insert_new(&format!("_{i}"), MIN, t0).unwrap())
                        .count()
                })
            })
            .collect();
        let wins: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
        assert_eq!(wins, 500);
        assert_eq!(set.len(), 500);
    }

    #[test]
    fn remove_forgets_an_id() {
        let t0 = Instant::now();
        let set = SeenIds::new("logout-request", 1 << 20, t0);
        assert!(set.insert_new("_a", MIN, t0).unwrap());
        assert!(set.remove("_a", t0));
        assert!(!set.remove("_a", t0));
        assert!(set.is_empty());
        assert!(set.insert_new("_a", MIN, t0).unwrap());
    }
}
