//! Shared state (issue #9 §4): the Redis store on its own against a real `redis-server` (each
//! test starts its own, see `common::redis`), and two chsim instances sharing one Redis.
//!
//! **Two instances behind one URL.** A load balancer gives every chsim instance the same public
//! URL, and the signed messages name it (the Destination of chsim's AuthnRequest to the IdP, of
//! the IdP's Response to chsim, the user system's AuthnRequest to chsim). So both instances here
//! are built with one `public_url` — a loopback port nobody listens on, standing for the load
//! balancer — and each listens on a port of its own. The test plays the load balancer: it sends
//! each request to the instance it chooses, by replacing the public URL's origin with that
//! instance's own address, which is exactly what a balancer does and leaves every signed message
//! and every Destination check as it is in production. A request that was not routed on purpose
//! goes to the public port and fails loudly. The user system and the IdP are played in the test
//! process, with the demo's real keys, by instance one's built-in demo user system and test IdP
//! (they keep their own pending requests in memory, like separate parties would), as
//! `benches/login.rs` does. The SSO-session and single-logout tests instead drive a person's
//! browser through the built-in parties over HTTP, routed by a rule per test (see `Person`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use chsim::broker::store::redis::{RedisSettings, RedisStore};
use chsim::broker::store::{Kind, LoginStore, StoreError};
use chsim::broker::BrokerError;
use chsim::clock::SystemClock;
use chsim::config::StoreBackend;
use chsim::demo_sp::{DemoSp, LoginOptions, Outgoing};
use chsim::saml::response::{self, SignedElement};
use chsim::saml::{authn_request, binding};
use chsim::test_idp::TestIdp;
use common::on_disk::run_chsim;
use common::redis::{free_port, RedisServer};
use common::{auto_post_form, demo_config, on_page, user_form, Chsim};
use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderValue, ACCEPT, COOKIE, LOCATION, SET_COOKIE};
use std::cell::RefCell;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

const SP: &str = "oiosaml2";
const IDP: &str = "korsbaek";
const USER: &str = "karen";

// ---------------------------------------------------------------------------------------------
// The backend on its own.

async fn store(redis: &RedisServer, prefix: &str, timeout: Duration) -> RedisStore {
    RedisStore::connect(&RedisSettings {
        url: redis.url(),
        key_prefix: prefix.to_string(),
        timeout,
    })
    .await
    .expect("the test's redis-server answers")
}

const MINUTE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn take_gives_the_value_to_exactly_one_of_twenty_concurrent_callers() {
    let redis = RedisServer::start();
    let store = Arc::new(store(&redis, "chsim", Duration::from_secs(2)).await);
    for round in 0..5 {
        let key = format!("_request{round}");
        store
            .put(Kind::IdpRequest, &key, b"pending".to_vec(), MINUTE)
            .await
            .unwrap();
        let takers: Vec<_> = (0..20)
            .map(|_| {
                let (store, key) = (store.clone(), key.clone());
                tokio::spawn(async move { store.take(Kind::IdpRequest, &key).await.unwrap() })
            })
            .collect();
        let mut winners = 0;
        for taker in takers {
            if let Some(value) = taker.await.unwrap() {
                assert_eq!(value, b"pending");
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "round {round}: exactly one take wins");
        assert_eq!(store.get(Kind::IdpRequest, &key).await.unwrap(), None);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_new_stores_only_when_nothing_is_there_and_keeps_the_first_value() {
    let redis = RedisServer::start();
    let store = store(&redis, "chsim", Duration::from_secs(2)).await;
    assert!(store
        .put_new(Kind::Assertion, "_a1", b"first".to_vec(), MINUTE)
        .await
        .unwrap());
    assert!(!store
        .put_new(Kind::Assertion, "_a1", b"second".to_vec(), MINUTE)
        .await
        .unwrap());
    assert_eq!(
        store.get(Kind::Assertion, "_a1").await.unwrap(),
        Some(b"first".to_vec())
    );
    // Another kind is another namespace.
    assert!(store
        .put_new(Kind::AuthnRequest, "_a1", Vec::new(), MINUTE)
        .await
        .unwrap());
    // Concurrent first uses: one wins.
    let store = Arc::new(store);
    let tries: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .put_new(Kind::Assertion, "_a2", Vec::new(), MINUTE)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut firsts = 0;
    for t in tries {
        firsts += usize::from(t.await.unwrap());
    }
    assert_eq!(firsts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_expire_after_their_own_lifetime() {
    let redis = RedisServer::start();
    let store = store(&redis, "chsim", Duration::from_secs(2)).await;
    let short = Duration::from_millis(150);
    store
        .put(Kind::Login, "short", b"1".to_vec(), short)
        .await
        .unwrap();
    store
        .put(Kind::Login, "long", b"2".to_vec(), MINUTE)
        .await
        .unwrap();
    assert!(store
        .put_new(Kind::Assertion, "_a", Vec::new(), short)
        .await
        .unwrap());
    assert!(store.get(Kind::Login, "short").await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(store.get(Kind::Login, "short").await.unwrap(), None);
    assert_eq!(
        store.get(Kind::Login, "long").await.unwrap(),
        Some(b"2".to_vec())
    );
    // An expired replay mark no longer refuses.
    assert!(store
        .put_new(Kind::Assertion, "_a", Vec::new(), short)
        .await
        .unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_prefix_kind_and_key_so_deployments_with_other_prefixes_share_nothing() {
    let redis = RedisServer::start();
    let test = store(&redis, "chsim", Duration::from_secs(2)).await;
    let staging = store(&redis, "chsim-staging", Duration::from_secs(2)).await;
    test.put(Kind::Login, "L1", b"{\"a\":1}".to_vec(), MINUTE)
        .await
        .unwrap();
    assert_eq!(staging.get(Kind::Login, "L1").await.unwrap(), None);
    assert!(staging
        .put_new(Kind::Login, "L1", b"other".to_vec(), MINUTE)
        .await
        .unwrap());
    // Seen from outside, as a person debugging would.
    let client = redis::Client::open(redis.url()).unwrap();
    let mut raw = client.get_multiplexed_async_connection().await.unwrap();
    let value: Option<String> = redis::cmd("GET")
        .arg("chsim:login:L1")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert_eq!(value.as_deref(), Some("{\"a\":1}"));
    let ttl: i64 = redis::cmd("PTTL")
        .arg("chsim:login:L1")
        .query_async(&mut raw)
        .await
        .unwrap();
    assert!((50_000..=60_000).contains(&ttl), "{ttl}");
    let mut keys: Vec<String> = redis::cmd("KEYS")
        .arg("*")
        .query_async(&mut raw)
        .await
        .unwrap();
    keys.sort();
    assert_eq!(keys, ["chsim-staging:login:L1", "chsim:login:L1"]);
    // put replaces, remove deletes.
    test.put(Kind::Login, "L1", b"2".to_vec(), MINUTE)
        .await
        .unwrap();
    assert_eq!(
        test.get(Kind::Login, "L1").await.unwrap(),
        Some(b"2".to_vec())
    );
    test.remove(Kind::Login, "L1").await.unwrap();
    assert_eq!(test.get(Kind::Login, "L1").await.unwrap(), None);
    assert!(staging.get(Kind::Login, "L1").await.unwrap().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_is_an_error_naming_the_url_within_the_timeout_and_a_resumed_one_serves() {
    let redis = RedisServer::start();
    let store = store(&redis, "chsim", Duration::from_millis(300)).await;
    store
        .put(Kind::Login, "k", b"1".to_vec(), MINUTE)
        .await
        .unwrap();
    redis.pause();
    let started = Instant::now();
    let error = store.get(Kind::Login, "k").await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "bounded");
    let StoreError::Unavailable { backend, reason } = &error else {
        panic!("{error:?}");
    };
    assert_eq!(*backend, "redis");
    assert!(reason.contains(&redis.url()), "{reason}");
    assert!(reason.contains("GET"), "{reason}");
    assert!(error.to_string().contains("state store did not answer"));
    redis.resume();
    assert_eq!(
        store.get(Kind::Login, "k").await.unwrap(),
        Some(b"1".to_vec())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_redis_is_an_error_naming_the_url_and_a_restarted_one_is_reconnected_to() {
    let mut redis = RedisServer::start();
    let store = store(&redis, "chsim", Duration::from_millis(500)).await;
    store
        .put(Kind::Login, "k", b"1".to_vec(), MINUTE)
        .await
        .unwrap();
    redis.stop();
    let error = store.take(Kind::Login, "k").await.unwrap_err();
    let text = error.to_string();
    assert!(text.contains(&redis.url()), "{text}");
    // Whichever failed first — the pooled connection's command or a new connection — says so.
    assert!(
        text.contains("GETDEL failed") || text.contains("cannot connect"),
        "{text}"
    );
    redis.restart();
    // Persistence is off: the restarted Redis is empty, and the store uses it at once.
    assert_eq!(store.get(Kind::Login, "k").await.unwrap(), None);
    store
        .put(Kind::Login, "k", b"2".to_vec(), MINUTE)
        .await
        .unwrap();
    assert_eq!(
        store.take(Kind::Login, "k").await.unwrap(),
        Some(b"2".to_vec())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connecting_to_a_redis_that_is_not_there_names_the_url() {
    let url = format!("redis://:secret@127.0.0.1:{}/0", free_port());
    let error = RedisStore::connect(&RedisSettings {
        url,
        key_prefix: "chsim".into(),
        timeout: Duration::from_millis(500),
    })
    .await
    .unwrap_err()
    .to_string();
    assert!(error.contains("redis://:REDACTED@127.0.0.1:"), "{error}");
    assert!(!error.contains("secret"), "{error}");
    assert!(error.contains("cannot connect"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Two chsim instances behind one URL.

/// Serves the demo configuration with the Redis store at `redis_url`, under `public_url`, on a
/// loopback port of its own.
async fn instance(redis_url: &str, public_url: &str) -> Chsim {
    let mut config = demo_config();
    config.chsim.server.public_url = public_url.to_string();
    config.chsim.broker.entity_id = None;
    config.chsim.store.backend = StoreBackend::Redis;
    config.chsim.store.redis_url = Some(redis_url.to_string());
    config.chsim.store.timeout_ms = 500;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = chsim::app::build(&config, Arc::new(SystemClock))
        .await
        .expect("state builds with the shared Redis");
    let app = chsim::http::app(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    Chsim {
        base,
        state,
        config,
    }
}

/// Two instances sharing one Redis, one public URL, and the client that routes between them.
struct Pair {
    redis: RedisServer,
    public: String,
    one: Chsim,
    two: Chsim,
    client: reqwest::Client,
}

impl Pair {
    async fn start() -> Pair {
        let redis = RedisServer::start();
        let public = format!("http://127.0.0.1:{}", free_port());
        let one = instance(&redis.url(), &public).await;
        let two = instance(&redis.url(), &public).await;
        Pair {
            redis,
            public,
            one,
            two,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// The user system and the IdP, played by instance one's built-in parties.
    fn sp(&self) -> Arc<DemoSp> {
        self.one.state.demo_sps[SP].clone()
    }
    fn idp(&self) -> Arc<TestIdp> {
        self.one.state.test_idps[IDP].clone()
    }

    /// `url` (under the public URL) sent to instance `to`, as the load balancer would.
    fn route(&self, url: &str, to: &Chsim) -> String {
        let path = url
            .strip_prefix(&self.public)
            .unwrap_or_else(|| panic!("`{url}` is not under the public URL {}", self.public));
        format!("{}{path}", to.base)
    }

    /// The user system's signed AuthnRequest (HTTP-POST) for a login at the test IdP:
    /// chsim's URL and the form.
    fn authn_request(&self) -> (String, Vec<(&'static str, String)>) {
        let Outgoing::Post {
            action,
            saml_request,
            relay_state,
        } = self
            .sp()
            .start_login(
                Some(self.idp().entity_id()),
                "shared",
                LoginOptions::default(),
            )
            .unwrap()
        else {
            panic!("the OIOSAML2 demo user system posts its AuthnRequests");
        };
        (
            action,
            vec![("SAMLRequest", saml_request), ("RelayState", relay_state)],
        )
    }

    async fn post(
        &self,
        url: &str,
        to: &Chsim,
        form: &[(&'static str, String)],
    ) -> reqwest::Response {
        self.client
            .post(self.route(url, to))
            .form(form)
            .send()
            .await
            .unwrap()
    }

    /// Sends the AuthnRequest to instance `to`, which sends the person on to the IdP; returns
    /// the IdP's SSO URL with chsim's signed request in the query.
    async fn start_at(&self, to: &Chsim) -> String {
        let (action, form) = self.authn_request();
        let resp = self.post(&action, to, &form).await;
        let status = resp.status();
        let location = resp
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string());
        match location {
            Some(l) if l.contains(&format!("/test-idp/{IDP}/sso")) => l,
            _ => panic!(
                "instance at {} did not send the person to the IdP: {status} {}",
                to.base,
                resp.text().await.unwrap()
            ),
        }
    }

    /// Posts an IdP Response (base64) to instance `to`'s consume.idp: status and page.
    async fn answer_at(&self, to: &Chsim, saml_response: &str) -> (u16, String) {
        let acs = format!("{}/runtime/saml2auth/consume.idp", self.public);
        let resp = self
            .post(&acs, to, &[("SAMLResponse", saml_response.to_string())])
            .await;
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    /// The token on chsim's page, accepted by the user system with privileges.
    fn assert_admitted(&self, page: &str) {
        let (action, fields) =
            auto_post_form(page).unwrap_or_else(|| panic!("no token on the page:\n{page}"));
        assert!(action.ends_with(&format!("/demo-sp/{SP}/acs")), "{action}");
        let field = |name: &str| {
            fields
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        };
        let received = self
            .sp()
            .acs(&field("SAMLResponse").unwrap(), field("RelayState"))
            .expect("the user system accepts chsim's token");
        assert!(received.privileges_xml.is_some(), "with privileges");
    }
}

/// The request ID in chsim's AuthnRequest to the IdP (in the redirect URL).
fn request_id(sso_url: &str) -> String {
    authn_request::parse(&common::redirect_request(sso_url).xml)
        .unwrap()
        .id
}

/// The page has `status` and shows `text`.
fn assert_page(status: u16, page: &str, expected: u16, text: &str) {
    assert_eq!(status, expected, "{page}");
    assert!(
        page.contains(&on_page(text)),
        "expected {text:?} on:\n{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_started_at_one_instance_is_finished_by_the_other() {
    let pair = Pair::start().await;
    let sso = pair.start_at(&pair.one).await;
    let query = reqwest::Url::parse(&sso)
        .unwrap()
        .query()
        .unwrap()
        .to_string();
    let (handle, _) = pair.idp().begin(&query).unwrap();
    let answer = pair.idp().login(&handle, USER).unwrap();
    assert_eq!(
        answer.action,
        format!("{}/runtime/saml2auth/consume.idp", pair.public)
    );
    let (status, page) = pair.answer_at(&pair.two, &answer.saml_response).await;
    assert_eq!(status, 200, "{page}");
    pair.assert_admitted(&page);
    // And the other way round.
    let sso = pair.start_at(&pair.two).await;
    let query = reqwest::Url::parse(&sso)
        .unwrap()
        .query()
        .unwrap()
        .to_string();
    let (handle, _) = pair.idp().begin(&query).unwrap();
    let answer = pair.idp().login(&handle, USER).unwrap();
    let (status, page) = pair.answer_at(&pair.one, &answer.saml_response).await;
    assert_eq!(status, 200, "{page}");
    pair.assert_admitted(&page);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_response_accepted_at_one_instance_is_refused_at_the_other_and_so_is_its_assertion_id() {
    let pair = Pair::start().await;
    let idp = pair.idp();
    let karen = idp.config().user.iter().find(|u| u.id == USER).unwrap();
    let sign = |request_id: &str, assertion_id: Option<&str>| {
        let (envelope, mut assertion) = common::idp::answer(&idp, karen, request_id);
        if let Some(id) = assertion_id {
            assertion.id = id.to_string();
        }
        let xml = response::build(
            &envelope,
            Some(&assertion),
            idp.credential(),
            SignedElement::Assertion,
            None,
        )
        .unwrap();
        (binding::encode_post(&xml), assertion.id)
    };
    let first = request_id(&pair.start_at(&pair.one).await);
    let (response, assertion_id) = sign(&first, None);
    let (status, page) = pair.answer_at(&pair.one, &response).await;
    assert_eq!(status, 200, "{page}");
    pair.assert_admitted(&page);
    // The same Response at the other instance: that request was answered (rule 5).
    let (status, page) = pair.answer_at(&pair.two, &response).await;
    let answered = BrokerError::AlreadyAnswered {
        in_response_to: first.clone(),
    }
    .to_string();
    assert_page(status, &page, 403, &answered);
    // A new login, started and answered at instance two with the first assertion's ID (rule 8).
    let second = request_id(&pair.start_at(&pair.two).await);
    let (response, _) = sign(&second, Some(&assertion_id));
    let (status, page) = pair.answer_at(&pair.two, &response).await;
    let replay = BrokerError::Replay {
        assertion_id: assertion_id.clone(),
    }
    .to_string();
    assert_page(status, &page, 403, &replay);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_authn_request_accepted_at_one_instance_is_refused_as_a_replay_at_the_other() {
    let pair = Pair::start().await;
    let (action, form) = pair.authn_request();
    let first = pair.post(&action, &pair.one, &form).await;
    assert_eq!(first.status().as_u16(), 303, "{:?}", first.text().await);
    let again = pair.post(&action, &pair.two, &form).await;
    let status = again.status().as_u16();
    let page = again.text().await.unwrap();
    let request =
        authn_request::parse(&binding::decode_post(&form[0].1, 1 << 20).unwrap()).unwrap();
    let replay = BrokerError::AuthnRequestReplay {
        issuer: request.issuer.clone(),
        id: request.id.clone(),
    }
    .to_string();
    assert_page(status, &page, 403, &replay);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_stopped_mid_login_ends_it_on_a_503_page_naming_the_store_and_a_restarted_one_serves(
) {
    let mut pair = Pair::start().await;
    let sso = pair.start_at(&pair.one).await;
    let query = reqwest::Url::parse(&sso)
        .unwrap()
        .query()
        .unwrap()
        .to_string();
    let (handle, _) = pair.idp().begin(&query).unwrap();
    let answer = pair.idp().login(&handle, USER).unwrap();
    pair.redis.stop();
    let (status, page) = pair.answer_at(&pair.two, &answer.saml_response).await;
    assert_eq!(status, 503, "{page}");
    for text in [
        "chsim's redis state store did not answer: Redis at",
        &pair.redis.url(),
        "[store]",
    ] {
        assert!(
            page.contains(&on_page(text)),
            "expected {text:?} on:\n{page}"
        );
    }
    // A new login at either instance meets the same page, not a hang or a panic.
    let (action, form) = pair.authn_request();
    let resp = pair.post(&action, &pair.one, &form).await;
    assert_eq!(resp.status().as_u16(), 503);
    // Redis back (empty: persistence is off): the pending login is gone, new logins work.
    pair.redis.restart();
    let sso = pair.start_at(&pair.one).await;
    let query = reqwest::Url::parse(&sso)
        .unwrap()
        .query()
        .unwrap()
        .to_string();
    let (handle, _) = pair.idp().begin(&query).unwrap();
    let answer = pair.idp().login(&handle, USER).unwrap();
    let (status, page) = pair.answer_at(&pair.two, &answer.saml_response).await;
    assert_eq!(status, 200, "{page}");
    pair.assert_admitted(&page);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_redis_ends_the_login_on_a_503_page_within_the_timeout() {
    let pair = Pair::start().await;
    let (action, form) = pair.authn_request();
    pair.redis.pause();
    let started = Instant::now();
    let resp = pair.post(&action, &pair.two, &form).await;
    let status = resp.status().as_u16();
    let page = resp.text().await.unwrap();
    pair.redis.resume();
    assert_eq!(status, 503, "{page}");
    assert!(
        page.contains("did not answer SET NX within 500 ms"),
        "{page}"
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

// ---------------------------------------------------------------------------------------------
// A person's browser behind the balancer: the SSO session and single logout across instances.
//
// Here the person's browser goes through the built-in parties over HTTP. Those parties keep
// their own state — the demo user systems' pending AuthnRequests and sessions, the test IdPs'
// sessions, the LogoutRequests each sent — in the process memory of the instance that serves
// them: they are separate parties that happen to be served by chsim, not part of chsim's shared
// state. So the rule routes a party's pages consistently to the instance whose party holds that
// session, and routes chsim's `/runtime/…` to whichever instance the test means to prove shared
// state with.

/// An instance, as the balancer's rule names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    One,
    Two,
}

impl At {
    fn other(self) -> At {
        match self {
            At::One => At::Two,
            At::Two => At::One,
        }
    }
}

impl Pair {
    fn at(&self, at: At) -> &Chsim {
        match at {
            At::One => &self.one,
            At::Two => &self.two,
        }
    }

    /// chsim's session as instance `at`'s `/runtime/session` shows it (JSON) to a browser that
    /// sends `cookie`.
    async fn session_at(&self, at: At, cookie: Option<&HeaderValue>) -> serde_json::Value {
        let mut request = self
            .client
            .get(format!("{}/runtime/session", self.at(at).base))
            .header(ACCEPT, "application/json");
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie.clone());
        }
        let text = request.send().await.unwrap().text().await.unwrap();
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }
}

/// Where the browser stopped: a page that needs the person.
struct Page {
    status: u16,
    url: Url,
    body: String,
}

/// The balancer's rule: the instance that serves a request for this path.
type Rule = Box<dyn FnMut(&str) -> At>;

/// A person's browser in front of the balancer. It knows only the public URL, and keeps its
/// cookies for it (so chsim's session cookie reaches whichever instance serves the request, as
/// it reaches one site in production); it follows redirects and auto-submitting forms. Each
/// request goes to the instance the current rule names, and is logged as a hop.
struct Person<'p> {
    pair: &'p Pair,
    cookies: Jar,
    rule: RefCell<Rule>,
    hops: RefCell<Vec<(At, String)>>,
}

impl<'p> Person<'p> {
    fn new(pair: &'p Pair) -> Self {
        Person {
            pair,
            cookies: Jar::default(),
            rule: RefCell::new(Box::new(|path| panic!("no rule routes {path}"))),
            hops: RefCell::new(Vec::new()),
        }
    }

    /// From now on requests are routed by `rule`; the hop log starts afresh.
    fn route(&self, rule: impl FnMut(&str) -> At + 'static) {
        *self.rule.borrow_mut() = Box::new(rule);
        self.hops.borrow_mut().clear();
    }

    /// The hops since the rule was set: each request's instance, method and path.
    fn assert_hops(&self, expected: &[(At, &str)]) {
        let hops = self.hops.borrow();
        let found: Vec<(At, &str)> = hops.iter().map(|(at, h)| (*at, h.as_str())).collect();
        assert_eq!(found, expected);
    }

    /// `path` under the public URL.
    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.pair.public)).unwrap()
    }

    /// chsim's session cookie, as the browser would send it.
    fn session_cookie(&self) -> Option<HeaderValue> {
        self.cookies.cookies(&self.url("/runtime/session"))
    }

    /// Sends one request for the public `url` to the instance the rule names.
    async fn send(&self, url: &Url, form: Option<&[(String, String)]>) -> reqwest::Response {
        let rest = url
            .as_str()
            .strip_prefix(&self.pair.public)
            .filter(|rest| rest.starts_with('/'))
            .unwrap_or_else(|| panic!("`{url}` is not under the public URL {}", self.pair.public));
        let at = (self.rule.borrow_mut())(url.path());
        let method = if form.is_some() { "POST" } else { "GET" };
        self.hops
            .borrow_mut()
            .push((at, format!("{method} {}", url.path())));
        let to = format!("{}{rest}", self.pair.at(at).base);
        let mut request = match form {
            Some(form) => self.pair.client.post(to).form(form),
            None => self.pair.client.get(to),
        };
        if let Some(cookies) = self.cookies.cookies(url) {
            request = request.header(COOKIE, cookies);
        }
        let resp = request.send().await.unwrap();
        self.cookies
            .set_cookies(&mut resp.headers().get_all(SET_COOKIE).iter(), url);
        resp
    }

    async fn get(&self, url: Url) -> Page {
        let resp = self.send(&url, None).await;
        self.follow(url, resp).await
    }

    async fn post(&self, url: Url, form: &[(String, String)]) -> Page {
        let resp = self.send(&url, Some(form)).await;
        self.follow(url, resp).await
    }

    async fn follow(&self, mut url: Url, mut resp: reqwest::Response) -> Page {
        for _ in 0..20 {
            let status = resp.status().as_u16();
            if (300..400).contains(&status) {
                url = url
                    .join(resp.headers()[LOCATION].to_str().unwrap())
                    .unwrap();
                resp = self.send(&url, None).await;
                continue;
            }
            let body = resp.text().await.unwrap();
            if let Some((action, fields)) = auto_post_form(&body) {
                url = url.join(&action).unwrap();
                resp = self.send(&url, Some(&fields)).await;
                continue;
            }
            return Page { status, url, body };
        }
        panic!("too many hops: {:?}", self.hops.borrow());
    }

    /// Logs in to demo user system `sp` at korsbæk as `user` (`?idp=`: no chooser).
    async fn logs_in_at_korsbaek(&self, sp: &str, user: &str) -> Page {
        let mut login = self.url(&format!("/demo-sp/{sp}/login"));
        login
            .query_pairs_mut()
            .append_pair("idp", self.url(&format!("/test-idp/{IDP}")).as_str());
        let idp_page = self.get(login).await;
        assert!(
            idp_page.url.path() == format!("/test-idp/{IDP}/sso"),
            "{}\n{}",
            idp_page.url,
            idp_page.body
        );
        let (action, fields) = user_form(&idp_page.body, user);
        self.post(idp_page.url.join(&action).unwrap(), &fields)
            .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sso_session_started_at_one_instance_is_used_at_the_other() {
    let pair = Pair::start().await;
    let person = Person::new(&pair);
    // System A's login, every request at instance one.
    person.route(|_| At::One);
    let a = person.logs_in_at_korsbaek("oiosaml3", USER).await;
    assert_page(a.status, &a.body, 200, "Logged in.");
    let cookie = person
        .session_cookie()
        .expect("chsim set its session cookie");
    let at_one = pair.session_at(At::One, Some(&cookie)).await;
    assert_eq!(
        at_one["session"]["user_systems"].as_array().unwrap().len(),
        1,
        "{at_one}"
    );

    // System B's login at instance two: chsim's side, and system B's own pages too (its pending
    // AuthnRequest and then its session are in instance two's demo user system). No `?idp=`:
    // without a session the chooser would appear. chsim answers from the session at once.
    person.route(|_| At::Two);
    let b = person.get(person.url("/demo-sp/oiosaml2/login")).await;
    assert_page(b.status, &b.body, 200, "Logged in.");
    person.assert_hops(&[
        (At::Two, "GET /demo-sp/oiosaml2/login"),
        (At::Two, "POST /runtime/saml2/issue.idp"),
        (At::Two, "POST /demo-sp/oiosaml2/acs"),
    ]);

    // Instance two's session page shows the session instance one started, with both systems.
    let at_two = pair.session_at(At::Two, Some(&cookie)).await;
    let session = &at_two["session"];
    assert_eq!(session["reference"], at_one["session"]["reference"]);
    let systems: Vec<&str> = session["user_systems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["entity_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        systems,
        [
            format!("{}/demo-sp/oiosaml3", pair.public),
            format!("{}/demo-sp/oiosaml2", pair.public)
        ],
        "{at_two}"
    );
    assert_eq!(session["nsis_level"], "Substantial", "{at_two}");
    // And instance one sees the session as instance two left it.
    assert_eq!(pair.session_at(At::One, Some(&cookie)).await, at_two);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logout_started_at_one_instance_reaches_the_systems_logged_in_through_the_other() {
    let pair = Pair::start().await;
    let person = Person::new(&pair);
    // Both logins through instance one: the parties' sessions are all in instance one.
    person.route(|_| At::One);
    let a = person.logs_in_at_korsbaek("oiosaml3", USER).await;
    assert_page(a.status, &a.body, 200, "Logged in.");
    let b = person.get(person.url("/demo-sp/oiosaml2/login")).await;
    assert_page(b.status, &b.body, 200, "Logged in.");
    let cookie = person
        .session_cookie()
        .expect("chsim set its session cookie");
    let before = pair.session_at(At::Two, Some(&cookie)).await;
    assert_eq!(
        before["session"]["user_systems"].as_array().unwrap().len(),
        2,
        "{before}"
    );

    // System B's "Log out". The parties' pages stay at instance one, where their sessions are;
    // chsim's hops alternate, starting at instance two: each finds the logout the other instance
    // left in the store.
    let mut next = At::Two;
    person.route(move |path| {
        if path.starts_with("/runtime/") {
            let at = next;
            next = at.other();
            at
        } else {
            At::One
        }
    });
    let done = person
        .post(person.url("/demo-sp/oiosaml2/logout"), &[])
        .await;
    person.assert_hops(&[
        (At::One, "POST /demo-sp/oiosaml2/logout"),
        (At::Two, "GET /runtime/saml2/issue.idp"),
        (At::One, "GET /demo-sp/oiosaml3/slo"),
        (At::One, "GET /runtime/saml2/signoff.idp"),
        (At::One, "GET /test-idp/korsbaek/slo"),
        (At::Two, "GET /runtime/saml2auth/signoffresponse.idp"),
        (At::One, "GET /demo-sp/oiosaml2/slo"),
    ]);
    assert_page(done.status, &done.body, 200, "Logged out.");
    assert!(
        done.body.contains("chsim confirmed single logout of"),
        "{}",
        done.body
    );

    // System A and the IdP, logged in through instance one, were logged out by single logout.
    person.route(|_| At::One);
    let single_logout = "You were logged out by single logout at";
    let a = person.get(person.url("/demo-sp/oiosaml3/")).await;
    assert_page(a.status, &a.body, 200, single_logout);
    assert!(
        a.body
            .contains(&on_page(&format!("(started by {}/runtime", pair.public))),
        "{}",
        a.body
    );
    let idp = person.get(person.url(&format!("/test-idp/{IDP}/"))).await;
    assert_page(idp.status, &idp.body, 200, single_logout);

    // chsim's session is gone at both instances, even for the cookie the browser had.
    for at in [At::One, At::Two] {
        let after = pair.session_at(at, Some(&cookie)).await;
        assert_eq!(after["session"], serde_json::Value::Null, "{at:?}: {after}");
    }
}

#[test]
fn serve_does_not_start_when_its_redis_does_not_answer_and_says_what_to_do() {
    let url = format!("redis://127.0.0.1:{}/0", free_port());
    let (code, out) = run_chsim(
        &["serve"],
        &[
            ("CHSIM_STORE_BACKEND", "redis"),
            ("CHSIM_STORE_REDIS_URL", &url),
        ],
    );
    assert_eq!(code, 1, "{out}");
    for text in [
        "chsim cannot start",
        "store.redis_url",
        &url,
        "cannot connect",
        "Start Redis there, or correct redis_url (CHSIM_STORE_REDIS_URL)",
    ] {
        assert!(out.contains(text), "expected {text:?} in:\n{out}");
    }
}

#[test]
fn serve_with_a_running_redis_starts_and_says_where_its_state_is() {
    let redis = RedisServer::start();
    let port = free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_chsim"))
        .arg("serve")
        .env("CHSIM_LISTEN", format!("127.0.0.1:{port}"))
        .env("CHSIM_STORE_BACKEND", "redis")
        .env("CHSIM_STORE_REDIS_URL", redis.url())
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let mut up = false;
    while started.elapsed() < Duration::from_secs(30) {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&out.stdout);
    assert!(up, "chsim serve did not listen: {log}");
    assert!(
        log.contains(&format!(
            "chsim keeps its state in the Redis at {}",
            redis.url()
        )),
        "{log}"
    );
}

#[test]
fn check_config_names_a_missing_or_malformed_redis_url() {
    let (code, out) = run_chsim(&["check-config"], &[("CHSIM_STORE_BACKEND", "redis")]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("chsim.toml: store.redis_url: is required with backend = \"redis\""),
        "{out}"
    );
    let (code, out) = run_chsim(
        &["check-config"],
        &[
            ("CHSIM_STORE_BACKEND", "redis"),
            ("CHSIM_STORE_REDIS_URL", "http://:pw@redis.example/"),
        ],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("chsim.toml: store.redis_url: `http://:REDACTED@redis.example/` is not a Redis URL such as redis://127.0.0.1:6379/0"),
        "{out}"
    );
    let (code, out) = run_chsim(
        &["check-config"],
        &[
            ("CHSIM_STORE_BACKEND", "valkey"),
            ("CHSIM_STORE_TIMEOUT_MS", "soon"),
            ("CHSIM_STORE_KEY_PREFIX", "my chsim"),
        ],
    );
    assert_eq!(code, 1, "{out}");
    for text in [
        "environment: CHSIM_STORE_BACKEND: `valkey` is neither `memory` nor `redis`",
        "environment: CHSIM_STORE_TIMEOUT_MS: `soon` is not a whole number of milliseconds",
        "chsim.toml: store.key_prefix: `my chsim` must be non-empty, without spaces",
    ] {
        assert!(out.contains(text), "expected {text:?} in:\n{out}");
    }
}
