//! The shared store (issue #9 §4): every item lives in one Redis, so several chsim instances
//! behind one URL share pending logins, the requests sent to IdPs and the replay checks — a
//! login may start at one instance and finish at another, and a replay is refused whichever
//! instance sees it.
//!
//! Each operation is one command on key `<prefix>:<kind name>:<key>` (prefix `chsim` unless
//! `[store] key_prefix` says otherwise, so several deployments can share one Redis):
//! `put` = `SET key value PX ttl`, `get` = `GET`, `take` = `GETDEL` (atomic; Redis ≥ 6.2),
//! `put_new` = `SET key value NX PX ttl`, `remove` = `DEL`. Every operation — a pooled
//! connection, connecting if need be, and the command — is bounded by `[store] timeout_ms`, so
//! a hung Redis gives the person a clear page instead of a hanging login. Errors name the URL
//! (its password redacted) and what failed; there is no fallback to memory.
//!
//! The client is `redis` (redis-rs: the Rust client the Redis project lists, maintained, 1.x),
//! its multiplexed tokio connections pooled by `deadpool` (the pool `deadpool-redis` is built
//! on) with the small manager below instead of deadpool-redis's own: that one can set neither
//! the client's connect and response timeouts nor skip its `PING` before every checkout, which
//! doubles the round trips of a one-command operation. Here a connection goes back to the pool
//! only after a command answered on it (any error or timeout drops it), and one that has been
//! idle for a while is pinged before reuse, so a restarted Redis is reconnected to quietly.

use super::{Kind, LoginStore, StoreError};
use ::redis::aio::MultiplexedConnection;
use ::redis::{AsyncConnectionConfig, Client, Cmd, FromRedisValue, RedisError, Value};
use async_trait::async_trait;
use deadpool::managed::{self, Metrics, Object, Pool, RecycleError, RecycleResult};
use std::time::Duration;

const BACKEND: &str = "redis";

/// A pooled connection idle longer than this is pinged before it is used again.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(2);

/// How to reach Redis (`[store]` in chsim.toml).
#[derive(Debug, Clone)]
pub struct RedisSettings {
    /// `redis://[user:password@]host[:port][/db]`, `rediss://…` (TLS) or
    /// `redis+unix:///path/to/socket`.
    pub url: String,
    /// The first part of every key, so several deployments can share one Redis.
    pub key_prefix: String,
    /// The bound on each operation.
    pub timeout: Duration,
}

/// `url` as it may be shown: its password, if any, replaced by `REDACTED`. A value that
/// does not parse as a URL is not echoed at all (it might hold a password).
pub fn shown_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("REDACTED"));
            }
            u.to_string()
        }
        Err(_) => "(a value that is not a URL)".to_string(),
    }
}

/// Whether `url` is a Redis URL the client can use; the problem otherwise (without the
/// password).
pub fn check_url(url: &str) -> Result<(), String> {
    const EXAMPLE: &str =
        "a Redis URL such as redis://127.0.0.1:6379/0 (rediss:// for TLS, redis+unix:///run/redis.sock for a socket)";
    if url.trim().is_empty() {
        return Err(format!("is empty; give {EXAMPLE}"));
    }
    if url::Url::parse(url).is_err() {
        return Err(format!("is not a URL; give {EXAMPLE}"));
    }
    Client::open(url)
        .map(|_| ())
        .map_err(|e| format!("`{}` is not {EXAMPLE}: {e}", shown_url(url)))
}

/// Makes and checks pooled connections.
struct Connector {
    client: Client,
    config: AsyncConnectionConfig,
}

impl managed::Manager for Connector {
    type Type = MultiplexedConnection;
    type Error = RedisError;

    async fn create(&self) -> Result<MultiplexedConnection, RedisError> {
        self.client
            .get_multiplexed_async_connection_with_config(&self.config)
            .await
    }

    async fn recycle(
        &self,
        connection: &mut MultiplexedConnection,
        metrics: &Metrics,
    ) -> RecycleResult<RedisError> {
        // Connections that failed never come back (see `Checked`); a busy one answered a moment
        // ago. Only one that sat idle may have lost its server meanwhile.
        if metrics.last_used() < IDLE_BEFORE_PING {
            return Ok(());
        }
        let pong: String = ::redis::cmd("PING").query_async(connection).await?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err(RecycleError::message(format!("PING answered {pong:?}")))
        }
    }
}

/// A checked-out connection that goes back to the pool only when marked as answered; dropped
/// otherwise (an error, or the operation's timeout cancelling it mid-command).
struct Checked {
    connection: Option<Object<Connector>>,
    answered: bool,
}

impl Drop for Checked {
    fn drop(&mut self) {
        if let (false, Some(connection)) = (self.answered, self.connection.take()) {
            drop(Object::take(connection));
        }
    }
}

/// The Redis backend.
pub struct RedisStore {
    pool: Pool<Connector>,
    prefix: String,
    shown_url: String,
    timeout: Duration,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.shown_url)
            .field("prefix", &self.prefix)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store on the Redis at `settings.url`, which must answer a `PING` now: chsim does not
    /// start on a store it cannot reach.
    pub async fn connect(settings: &RedisSettings) -> Result<Self, StoreError> {
        let shown_url = shown_url(&settings.url);
        let unavailable = |reason: String| StoreError::Unavailable {
            backend: BACKEND,
            reason,
        };
        let client = Client::open(settings.url.as_str())
            .map_err(|e| unavailable(format!("`{shown_url}` is not a usable Redis URL: {e}")))?;
        // `run` bounds every operation by `timeout`; the client's own bounds are only a
        // backstop, longer, so that the message a person sees is always `run`'s.
        let backstop = settings.timeout * 2;
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(backstop))
            .set_response_timeout(Some(backstop));
        let pool = Pool::builder(Connector { client, config })
            .runtime(deadpool::Runtime::Tokio1)
            .build()
            .map_err(|e| unavailable(format!("cannot set up a connection pool: {e}")))?;
        let store = Self {
            pool,
            prefix: settings.key_prefix.clone(),
            shown_url,
            timeout: settings.timeout,
        };
        let pong: String = store.run("PING", ::redis::cmd("PING")).await?;
        if pong != "PONG" {
            return Err(unavailable(format!(
                "{} answered PING with {pong:?}; is it a Redis server?",
                store.shown_url
            )));
        }
        Ok(store)
    }

    /// The Redis key of `(kind, key)`.
    fn key(&self, kind: Kind, key: &str) -> String {
        format!("{}:{}:{key}", self.prefix, kind.name())
    }

    /// Runs one command (named `what` in errors) within the timeout.
    async fn run<T: FromRedisValue>(&self, what: &str, cmd: Cmd) -> Result<T, StoreError> {
        let attempt = async {
            let connection = self.pool.get().await.map_err(|e| match e {
                managed::PoolError::Backend(e) => format!("cannot connect: {e}"),
                other => format!("no connection: {other}"),
            })?;
            let mut checked = Checked {
                connection: Some(connection),
                answered: false,
            };
            let Some(connection) = checked.connection.as_mut() else {
                return Err("no connection".to_string());
            };
            let value = cmd
                .query_async::<T>(&mut **connection)
                .await
                .map_err(|e| format!("{what} failed: {e}"))?;
            checked.answered = true;
            Ok(value)
        };
        match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(reason)) => Err(StoreError::Unavailable {
                backend: BACKEND,
                reason: format!("Redis at {}: {reason}", self.shown_url),
            }),
            Err(_) => Err(StoreError::Unavailable {
                backend: BACKEND,
                reason: format!(
                    "Redis at {} did not answer {what} within {} ms",
                    self.shown_url,
                    self.timeout.as_millis()
                ),
            }),
        }
    }
}

/// A TTL in whole milliseconds, at least one (Redis refuses `PX 0`).
fn millis(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

#[async_trait]
impl LoginStore for RedisStore {
    async fn put(
        &self,
        kind: Kind,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("SET");
        cmd.arg(self.key(kind, key))
            .arg(value)
            .arg("PX")
            .arg(millis(ttl));
        self.run::<()>("SET", cmd).await
    }

    async fn get(&self, kind: Kind, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut cmd = ::redis::cmd("GET");
        cmd.arg(self.key(kind, key));
        self.run("GET", cmd).await
    }

    async fn take(&self, kind: Kind, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let mut cmd = ::redis::cmd("GETDEL");
        cmd.arg(self.key(kind, key));
        self.run("GETDEL", cmd).await
    }

    async fn put_new(
        &self,
        kind: Kind,
        key: &str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let mut cmd = ::redis::cmd("SET");
        cmd.arg(self.key(kind, key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(millis(ttl));
        // `OK` when set; nil when the key was there.
        let answer: Value = self.run("SET NX", cmd).await?;
        Ok(!matches!(answer, Value::Nil))
    }

    async fn remove(&self, kind: Kind, key: &str) -> Result<(), StoreError> {
        let mut cmd = ::redis::cmd("DEL");
        cmd.arg(self.key(kind, key));
        self.run::<i64>("DEL", cmd).await.map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_the_url_is_never_shown() {
        assert_eq!(
            shown_url("redis://:s3cret@redis.example:6380/2"),
            "redis://:REDACTED@redis.example:6380/2"
        );
        assert_eq!(
            shown_url("redis://127.0.0.1:6379/0"),
            "redis://127.0.0.1:6379/0"
        );
        assert!(!shown_url("redis://u:s3cret@h:6379/ x").contains("s3cret"));
        assert!(!shown_url("s3cret@@::").contains("s3cret"));
    }

    #[test]
    fn check_url_accepts_redis_urls_and_names_what_is_wrong_with_others() {
        for ok in [
            "redis://127.0.0.1:6379/0",
            "redis://localhost",
            "rediss://user:pw@redis.example:6380/1",
            "redis+unix:///run/redis/redis.sock",
        ] {
            assert_eq!(check_url(ok), Ok(()), "{ok}");
        }
        assert!(check_url("").unwrap_err().contains("is empty"));
        assert!(check_url("127.0.0.1:6379")
            .unwrap_err()
            .contains("redis://127.0.0.1:6379/0"));
        let wrong = check_url("http://:pw@redis.example/").unwrap_err();
        assert!(wrong.contains("is not a Redis URL"), "{wrong}");
        assert!(!wrong.contains("pw@"), "{wrong}");
    }

    #[test]
    fn a_ttl_below_a_millisecond_is_one() {
        assert_eq!(millis(Duration::ZERO), 1);
        assert_eq!(millis(Duration::from_secs(2)), 2000);
    }
}
