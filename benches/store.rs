//! The state-store operations of one login, memory vs Redis (issue #9 §4).
//!
//! A brokered login without the chooser (the user system names the IdP, as in
//! `benches/login.rs`) makes ten store operations, in this order: the user system's
//! AuthnRequest ID marked used (`put_new`), the pending login stored (`put`, 411 bytes of JSON
//! in the demo), the request sent to the IdP stored (`put`, ~100 bytes); at the IdP's answer the
//! request and the login read (`get` × 2), the assertion ID marked used (`put_new`), the request
//! taken (`take`) and remembered as answered (`put`), the login forgotten (`remove`) and the
//! login report kept (`put`, ~700 bytes). This benchmark replays exactly that sequence, with
//! fresh IDs and values of those sizes, against the in-memory backend and against Redis (a
//! `redis-server` of its own on loopback, persistence off, through chsim's `RedisStore` with
//! its pool): one iteration is one login's store work, done one operation after the other as a
//! login does it. A login with the chooser adds one `get`.
//!
//! Run: `cargo bench --bench store`. Under `cargo test` each case runs once. The figures are
//! reported in the README's "Running several instances" section.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/redis.rs"]
#[allow(dead_code)]
mod redis_server;

use chsim::broker::store::memory::MemoryStore;
use chsim::broker::store::redis::{RedisSettings, RedisStore};
use chsim::broker::store::{Kind, LoginStore};
use criterion::{criterion_group, criterion_main, Criterion};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const LOGIN_JSON: usize = 411;
const IDP_REQUEST_JSON: usize = 100;
const REPORT_JSON: usize = 711;

static NEXT: AtomicU64 = AtomicU64::new(0);

/// One login's store operations, in the broker's order.
async fn one_login(store: &dyn LoginStore) {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let (request, login, sent, assertion, report) = (
        format!("https://fagsystem.example/sp\n_req{n:040}"),
        format!("_login{n:040}"),
        format!("_sent{n:040}"),
        format!("_assertion{n:040}"),
        format!("_session{n:040}"),
    );
    let minutes = |m: u64| Duration::from_secs(60 * m);
    assert!(store
        .put_new(Kind::AuthnRequest, &request, Vec::new(), minutes(2))
        .await
        .unwrap());
    store
        .put(Kind::Login, &login, vec![b'x'; LOGIN_JSON], minutes(15))
        .await
        .unwrap();
    store
        .put(
            Kind::IdpRequest,
            &sent,
            vec![b'x'; IDP_REQUEST_JSON],
            minutes(15),
        )
        .await
        .unwrap();
    assert!(store.get(Kind::IdpRequest, &sent).await.unwrap().is_some());
    assert!(store.get(Kind::Login, &login).await.unwrap().is_some());
    assert!(store
        .put_new(Kind::Assertion, &assertion, Vec::new(), minutes(6))
        .await
        .unwrap());
    assert!(store.take(Kind::IdpRequest, &sent).await.unwrap().is_some());
    store
        .put(Kind::Answered, &sent, Vec::new(), minutes(30))
        .await
        .unwrap();
    store.remove(Kind::Login, &login).await.unwrap();
    store
        .put(Kind::Report, &report, vec![b'x'; REPORT_JSON], minutes(60))
        .await
        .unwrap();
}

fn store_per_login(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let redis = redis_server::RedisServer::start();
    let memory = MemoryStore::new();
    let shared = rt
        .block_on(RedisStore::connect(&RedisSettings {
            url: redis.url(),
            key_prefix: "chsim-bench".into(),
            timeout: Duration::from_secs(2),
        }))
        .unwrap();
    let mut group = c.benchmark_group("store operations of one login");
    group.bench_function("memory (moka)", |b| {
        b.iter(|| rt.block_on(one_login(&memory)))
    });
    group.bench_function("redis (loopback)", |b| {
        b.iter(|| rt.block_on(one_login(&shared)))
    });
    group.finish();
}

criterion_group!(benches, store_per_login);
criterion_main!(benches);
