//! Whole brokered logins against the real `chsim serve`, over loopback HTTP (issue #10 §3).
//!
//! The benchmark starts the chsim binary (the embedded demo) on a free port and plays, in this
//! process, the user system and the municipal IdP with the demo's own keys: the user system
//! signs its AuthnRequest (HTTP-POST, enveloped signature), chsim sends its signed AuthnRequest
//! to Korsbæk's test IdP, the IdP answers with an assertion-signed Response carrying Karen's
//! privilege list (unencrypted, the OS2faktor shape without encryption), chsim maps the roles and
//! issues a signed token, and the user system verifies it. chsim's CPU time and resident set are
//! read from `/proc/<pid>` of the server process, so the driver's own work is not counted.
//!
//! Before the complete logins it starts 10,000 logins that never finish, on a server of their
//! own, and reports chsim's resident set with them pending (`CHSIM_BENCH_PENDING` changes the
//! count). A long round prints chsim's resident set every minute.
//!
//! Run: `cargo bench --bench login` (100,000 logins; `CHSIM_BENCH_LOGINS` and
//! `CHSIM_BENCH_WORKERS` change the count and the concurrency). `CHSIM_BENCH_STORE=redis` runs
//! chsim with `[store] backend = "redis"` on a `redis-server` the benchmark starts on loopback
//! (persistence off) and reports that server's CPU per login too. Under `cargo test` it runs as
//! a smoke test of 40 logins (and 20 pending ones), with the Redis store as well. The figures are reported in the
//! README's "Performance" and "Running several instances" sections.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/redis.rs"]
#[allow(dead_code)]
mod redis_server;

use chsim::clock::{Clock, SystemClock};
use chsim::config::{self, ConfigSource};
use chsim::demo_sp::{DemoSp, LoginOptions, Outgoing};
use chsim::test_idp::TestIdp;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SP: &str = "oiosaml2";
const IDP: &str = "korsbaek";
const USER: &str = "karen";

/// The server process, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `chsim serve` on a free port, its store in `redis` when given.
    fn start(redis: Option<&redis_server::RedisServer>) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let mut command = Command::new(env!("CARGO_BIN_EXE_chsim"));
        if let Some(redis) = redis {
            command
                .env("CHSIM_STORE_BACKEND", "redis")
                .env("CHSIM_STORE_REDIS_URL", redis.url());
        }
        let child = command
            .arg("serve")
            .env("CHSIM_LISTEN", format!("127.0.0.1:{port}"))
            .env("CHSIM_PUBLIC_URL", &base)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start chsim serve");
        Server { child, base }
    }

    /// utime + stime of the server, in milliseconds.
    fn cpu_ms(&self) -> f64 {
        cpu_ms(self.child.id())
    }

    /// VmRSS of the server, in MiB.
    fn rss_mib(&self) -> f64 {
        rss_mib_of(self.child.id())
    }
}

/// VmRSS of process `pid`, in MiB.
fn rss_mib_of(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap()
        .parse()
        .unwrap();
    kib / 1024.0
}

/// utime + stime of process `pid`, in milliseconds.
fn cpu_ms(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command name may hold spaces; the fields after its closing parenthesis are fixed.
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks * 1000.0 / clock_ticks_per_second()
}

fn clock_ticks_per_second() -> f64 {
    let out = Command::new("getconf").arg("CLK_TCK").output();
    out.ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The user system and the IdP, built from the same embedded demo configuration as the server,
/// so they hold the same keys and know chsim's certificates.
struct Parties {
    sp: Arc<DemoSp>,
    idp: Arc<TestIdp>,
}

async fn parties(base: &str) -> Parties {
    std::env::set_var("CHSIM_PUBLIC_URL", base);
    let (mut config, problems) = config::load_unchecked(ConfigSource::Embedded).unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    // The IdP answers unencrypted: the login measured has chsim's two signatures and two
    // verifications and no decryption.
    for idp in &mut config.test_idps.test_idp {
        idp.encrypt = false;
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = chsim::app::build(&config, clock).await.unwrap();
    Parties {
        sp: state.demo_sps[SP].clone(),
        idp: state.test_idps[IDP].clone(),
    }
}

/// The `value` of the form field `name` in one of chsim's auto-post pages.
fn field(page: &str, name: &str) -> Option<String> {
    let marker = format!(r#"name="{name}" value=""#);
    let start = page.find(&marker)? + marker.len();
    let end = start + page[start..].find('"')?;
    Some(html_escape::decode_html_entities(&page[start..end]).into_owned())
}

/// The user system's signed AuthnRequest, posted to chsim; returns the query of chsim's
/// redirect to the IdP. chsim now holds a pending login.
async fn start_login(client: &reqwest::Client, p: &Parties, relay: &str) -> Result<String, String> {
    let Outgoing::Post {
        action,
        saml_request,
        relay_state,
    } =
        p.sp.start_login(Some(p.idp.entity_id()), relay, LoginOptions::default())
            .map_err(|e| e.to_string())?
    else {
        return Err("the demo user system should use HTTP-POST".into());
    };
    let to_idp = client
        .post(&action)
        .form(&[("SAMLRequest", saml_request), ("RelayState", relay_state)])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let location = to_idp
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|l| l.to_str().ok())
        .ok_or_else(|| format!("chsim answered {} without a redirect", to_idp.status()))?
        .to_string();
    Ok(url::Url::parse(&location)
        .map_err(|e| e.to_string())?
        .query()
        .unwrap_or("")
        .to_string())
}

/// One complete login; returns its wall-clock time.
async fn login(client: &reqwest::Client, p: &Parties) -> Result<Duration, String> {
    let started = Instant::now();
    let relay = "bench";
    let query = start_login(client, p, relay).await?;
    let (handle, _) = p.idp.begin(&query).map_err(|e| e.to_string())?;
    let answer = p.idp.login(&handle, USER).map_err(|e| e.to_string())?;
    let mut form = vec![("SAMLResponse", answer.saml_response)];
    if let Some(rs) = answer.relay_state {
        form.push(("RelayState", rs));
    }
    let page = client
        .post(&answer.action)
        .form(&form)
        .send()
        .await
        .map_err(|e| e.to_string())?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let token = field(&page, "SAMLResponse").ok_or("chsim's page carries no token")?;
    let received =
        p.sp.acs(&token, Some(relay.to_string()))
            .map_err(|e| e.to_string())?;
    if received.privileges_xml.is_none() {
        return Err("the token carries no privileges".into());
    }
    Ok(started.elapsed())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

struct Round {
    logins: usize,
    seconds: f64,
    server_cpu_ms: f64,
    /// The redis-server's CPU, when chsim's store is Redis.
    redis_cpu_ms: Option<f64>,
    latencies: Vec<Duration>,
}

async fn round(
    client: &reqwest::Client,
    p: &Arc<Parties>,
    server: &Server,
    redis_pid: Option<u32>,
    logins: usize,
    workers: usize,
) -> Round {
    let cpu_before = server.cpu_ms();
    let redis_before = redis_pid.map(cpu_ms);
    let started = Instant::now();
    let per_worker = logins.div_ceil(workers);
    let done = Arc::new(AtomicUsize::new(0));
    // A long round shows how the resident set develops while the caches fill their time
    // windows (used assertion IDs are kept for the assertion's lifetime, 5 minutes).
    let pid = server.child.id();
    let progress = done.clone();
    let monitor = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(60)).await;
            println!(
                "  {:.0} s: {} logins, chsim RSS {:.1} MiB",
                started.elapsed().as_secs_f64(),
                progress.load(Ordering::Relaxed),
                rss_mib_of(pid)
            );
        }
    });
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (client, p, done) = (client.clone(), p.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_worker);
            for _ in 0..per_worker {
                latencies.push(login(&client, &p).await.expect("a login failed"));
                done.fetch_add(1, Ordering::Relaxed);
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    monitor.abort();
    latencies.sort();
    Round {
        logins: latencies.len(),
        seconds: started.elapsed().as_secs_f64(),
        server_cpu_ms: server.cpu_ms() - cpu_before,
        redis_cpu_ms: redis_pid.zip(redis_before).map(|(pid, b)| cpu_ms(pid) - b),
        latencies,
    }
}

/// Starts `count` logins that never finish (the IdP is never answered), `workers` at a time.
async fn pending(client: &reqwest::Client, p: &Arc<Parties>, count: usize, workers: usize) {
    let per_worker = count.div_ceil(workers);
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let (client, p) = (client.clone(), p.clone());
        tasks.push(tokio::spawn(async move {
            for _ in 0..per_worker {
                start_login(&client, &p, "pending")
                    .await
                    .expect("a login did not start");
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

fn report(label: &str, r: &Round, rss: f64) {
    let redis = r
        .redis_cpu_ms
        .map(|ms| {
            format!(
                "; redis-server CPU {:.3} ms per login",
                ms / r.logins as f64
            )
        })
        .unwrap_or_default();
    println!(
        "{label}: {} logins in {:.1} s = {:.0} logins/s; chsim CPU {:.3} ms per login{redis}; latency p50 {:.2} ms, p99 {:.2} ms; chsim RSS {:.1} MiB",
        r.logins,
        r.seconds,
        r.logins as f64 / r.seconds,
        r.server_cpu_ms / r.logins as f64,
        percentile(&r.latencies, 0.5),
        percentile(&r.latencies, 0.99),
        rss
    );
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A fresh `chsim serve` (its store in `redis` when given), answering, with the parties that
/// talk to it.
async fn started(
    client: &reqwest::Client,
    redis: Option<&redis_server::RedisServer>,
) -> (Server, Arc<Parties>) {
    let server = Server::start(redis);
    let metadata = format!("{}/runtime/saml2/metadata.idp", server.base);
    let ready = Instant::now();
    while client.get(&metadata).send().await.is_err() {
        assert!(
            ready.elapsed() < Duration::from_secs(30),
            "chsim did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let parties = Arc::new(parties(&server.base).await);
    (server, parties)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Issue #10 §4: `count` logins that never finish, on a server of their own so they do not
/// weigh on the rounds (each stays until the login timeout); chsim's resident set with them.
async fn run_pending(count: usize, workers: usize) {
    let client = client();
    let (server, parties) = started(&client, None).await;
    let at_start = server.rss_mib();
    let begun = Instant::now();
    pending(&client, &parties, count, workers).await;
    println!(
        "{count} pending logins started in {:.1} s: chsim RSS {:.1} MiB (at start {at_start:.1} MiB)",
        begun.elapsed().as_secs_f64(),
        server.rss_mib()
    );
}

/// One benchmark run against a fresh `chsim serve`, its store in `redis` when given.
async fn run(redis: Option<&redis_server::RedisServer>, total: usize, workers: usize) {
    let client = client();
    let (server, parties) = started(&client, redis).await;
    let redis_pid = redis.and_then(|r| r.pid());
    println!(
        "chsim whole-login benchmark: {SP} via {IDP} as {USER}, {workers} concurrent, {} cores, store {}; chsim RSS at start {:.1} MiB",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        redis.map_or("memory".to_string(), |r| format!("redis ({})", r.url())),
        server.rss_mib()
    );
    // Warm-up (connections, allocator, OpenSSL's and xmlsec's one-time state).
    let warm = round(
        &client,
        &parties,
        &server,
        redis_pid,
        total.min(500),
        workers,
    )
    .await;
    report("warm-up", &warm, server.rss_mib());
    let first = (total / 10).max(1);
    let r = round(&client, &parties, &server, redis_pid, first, workers).await;
    report(
        &format!("after {}", warm.logins + r.logins),
        &r,
        server.rss_mib(),
    );
    let rest = total.saturating_sub(first);
    if rest > 0 {
        let r = round(&client, &parties, &server, redis_pid, rest, workers).await;
        report(
            &format!("after {}", warm.logins + first + r.logins),
            &r,
            server.rss_mib(),
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let benchmarking = std::env::args().any(|a| a == "--bench");
    let workers = env_usize("CHSIM_BENCH_WORKERS", 2);
    let redis_wanted = std::env::var("CHSIM_BENCH_STORE").is_ok_and(|v| v == "redis");
    if !benchmarking {
        // The smoke test: both stores.
        run_pending(20, workers).await;
        run(None, 40, workers).await;
        let redis = redis_server::RedisServer::start();
        run(Some(&redis), 40, workers).await;
        return;
    }
    let total = env_usize("CHSIM_BENCH_LOGINS", 100_000);
    run_pending(env_usize("CHSIM_BENCH_PENDING", 10_000), workers).await;
    if redis_wanted {
        let redis = redis_server::RedisServer::start();
        run(Some(&redis), total, workers).await;
    } else {
        run(None, total, workers).await;
    }
}
