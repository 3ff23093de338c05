//! Assembling the application (config → trust → broker → built-in parties), so that `http` only
//! routes. Building the application state from the configuration: keys, chsim's own metadata, the
//! built-in parties (which learn about chsim only from that metadata), and the trust in every
//! configured IdP and user system. Every problem is collected into one report.

use crate::attribute_service::{AttributeServiceClient, ClientSettings};
use crate::broker::store::redis::{RedisSettings, RedisStore};
use crate::broker::store::{memory::MemoryStore, LoginStore, Store};
use crate::broker::{Broker, BrokerSettings};
use crate::clock::Clock;
use crate::config::{self, Config, ConfigProblem, ConfigReport};
use crate::demo_oidc::{ClientAuth, DemoOidc, DemoOidcConfig};
use crate::demo_sp::{ChsimAsIdp, DemoSp};
use crate::deployment::demo_keys::{is_loopback_url, refuse_demo_keys, KeyInUse};
use crate::saml::bindings;
use crate::saml::metadata::{self, Endpoint, RoleSpec};
use crate::saml::signing::AlgorithmPolicy;
use crate::test_idp::{ChsimAsSp, TestAttributeService, TestIdp};
use crate::trust;
use chrono::Duration;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Everything the handlers share.
#[derive(Debug, Clone)]
pub struct AppState {
    /// The broker.
    pub broker: Arc<Broker>,
    /// chsim's IdP-face metadata (signed).
    pub idp_metadata: Arc<String>,
    /// chsim's SP-face metadata (signed).
    pub sp_metadata: Arc<String>,
    /// Built-in test IdPs by id.
    pub test_idps: Arc<BTreeMap<String, Arc<TestIdp>>>,
    /// Built-in demo SPs by id.
    pub demo_sps: Arc<BTreeMap<String, Arc<DemoSp>>>,
    /// The built-in demo OIDC user system, when built-in parties are on and `demo-oidc` is
    /// registered.
    pub demo_oidc: Option<Arc<DemoOidc>>,
    /// Built-in test attribute services by id.
    pub test_attribute_services: Arc<BTreeMap<String, Arc<TestAttributeService>>>,
    /// Public base URL.
    pub public_url: Arc<String>,
    /// Bound on request bodies.
    pub max_body_bytes: usize,
    /// Whether the built-in parties and scripted logins are served (`[demo] builtin_parties`).
    pub builtin_parties: bool,
}

/// The broker's endpoint URLs (reference §1.2, §3.4).
pub struct Urls {
    /// IdP face SSO, and SingleLogoutService Location (Redirect, POST).
    pub sso: String,
    /// IdP face SingleLogoutService ResponseLocation (Redirect, POST).
    pub slo_response: String,
    /// IdP face SingleLogoutService, SOAP.
    pub slo_soap: String,
    /// SP face ACS.
    pub acs: String,
    /// SP face SingleLogoutService Location (Redirect).
    pub sp_slo_request: String,
    /// SP face SingleLogoutService ResponseLocation (Redirect).
    pub sp_slo_response: String,
}

impl Urls {
    fn new(public_url: &str) -> Self {
        Self {
            sso: format!("{public_url}/runtime/saml2/issue.idp"),
            slo_response: format!("{public_url}/runtime/saml2/signoff.idp"),
            slo_soap: format!("{public_url}/runtime/services/signoff/saml2/soap"),
            acs: format!("{public_url}/runtime/saml2auth/consume.idp"),
            sp_slo_request: format!("{public_url}/runtime/saml2auth/signoffrequest.idp"),
            sp_slo_response: format!("{public_url}/runtime/saml2auth/signoffresponse.idp"),
        }
    }
}

/// Loads the configuration and builds the state, reporting every problem of every phase at once.
/// `insecure_demo_keys` is the command line's `--insecure-demo-keys`.
pub async fn load_and_build(
    source: config::ConfigSource,
    clock: Arc<dyn Clock>,
    insecure_demo_keys: bool,
) -> Result<(Config, AppState), ConfigReport> {
    let (mut config, problems) = config::load_unchecked(source)?;
    config.insecure_demo_keys = insecure_demo_keys;
    match build(&config, clock).await {
        Ok(state) if problems.is_empty() => Ok((config, state)),
        Ok(_) => Err(ConfigReport(problems)),
        Err(report) => Err(ConfigReport(problems).merge(report.0)),
    }
}

/// The built-in parties to serve: those configured, or none with `[demo] builtin_parties = false`.
fn builtin_parties(
    config: &Config,
) -> (
    &[config::TestIdpConfig],
    &[config::TestAttributeServiceConfig],
    &[config::DemoSpConfig],
) {
    if config.chsim.demo.builtin_parties {
        (
            &config.test_idps.test_idp,
            &config.test_idps.test_attribute_service,
            &config.demo_sps.demo_sp,
        )
    } else {
        (&[], &[], &[])
    }
}

/// The demo OIDC user system, built from its registration (`[[oidc_user_system]]` with
/// `client_id = "demo-oidc"`): the one thing it shares with chsim, as a real relying party shares
/// its registration with the Context Handler. None without built-in parties, without that
/// registration, or with one this relying party cannot use (said in the log).
fn demo_oidc(config: &Config, clock: Arc<dyn Clock>) -> Option<DemoOidc> {
    use crate::oidc::registration::AuthMethod;
    if !config.chsim.demo.builtin_parties {
        return None;
    }
    let registration = config
        .user_systems
        .oidc_user_system
        .iter()
        .find(|o| o.client_id == crate::demo_oidc::CLIENT_ID)?;
    let auth = match registration.token_endpoint_auth_method {
        AuthMethod::ClientSecretBasic => ClientAuth::Basic,
        AuthMethod::ClientSecretPost => ClientAuth::Post,
        AuthMethod::None => ClientAuth::None,
        AuthMethod::PrivateKeyJwt => {
            tracing::warn!("the demo OIDC user system (/demo-oidc/) is not served: its registration uses private_key_jwt, which it does not implement");
            return None;
        }
    };
    let built = DemoOidc::new(
        DemoOidcConfig {
            name: registration.name.clone(),
            client_id: registration.client_id.clone(),
            client_secret: registration.client_secret.clone(),
            auth,
            public_url: config.public_url().to_string(),
        },
        clock,
    );
    match built {
        Ok(rp)
            if registration
                .redirect_uris
                .iter()
                .any(|u| config::resolved(config, u) == rp.redirect_uri()) =>
        {
            Some(rp)
        }
        Ok(rp) => {
            tracing::warn!(
                "the demo OIDC user system (/demo-oidc/) is not served: its registration does not list {} among its redirect_uris",
                rp.redirect_uri()
            );
            None
        }
        Err(e) => {
            tracing::warn!("the demo OIDC user system (/demo-oidc/) is not served: {e}");
            None
        }
    }
}

/// Every other problem, when chsim's own key is unusable: without it chsim cannot sign the
/// metadata its built-in parties are built from, but the built-in parties' keys and every
/// external metadata source can still be checked, so that one run reports everything.
async fn problems_without_broker_key(config: &Config) -> Vec<ConfigProblem> {
    let mut problems = Vec::new();
    let (test_idps, attribute_services, demo_sps) = builtin_parties(config);
    let keys = test_idps
        .iter()
        .enumerate()
        .map(|(i, x)| {
            (
                "test_idps.toml",
                format!("test_idp[{i}]."),
                &x.signing_key,
                &x.signing_cert,
            )
        })
        .chain(attribute_services.iter().enumerate().map(|(i, x)| {
            (
                "test_idps.toml",
                format!("test_attribute_service[{i}]."),
                &x.signing_key,
                &x.signing_cert,
            )
        }))
        .chain(demo_sps.iter().enumerate().map(|(i, x)| {
            (
                "demo_sps.toml",
                format!("demo_sp[{i}]."),
                &x.signing_key,
                &x.signing_cert,
            )
        }));
    for (file, key, k, c) in keys {
        if let Err(p) = config::load_credential_for(config, file, &key, k, c) {
            problems.push(p);
        }
    }
    // Built-in parties are unavailable here for chsim's reason, already reported: leave out
    // the entries that name them.
    let mut builtin_entries = std::collections::HashSet::new();
    for (i, m) in config.municipalities.municipality.iter().enumerate() {
        for (j, idp) in m.idp.iter().enumerate() {
            if idp.metadata.starts_with("builtin:") {
                builtin_entries.insert(format!("municipality[{i}].idp[{j}].metadata"));
            }
        }
        if m.attribute_service
            .as_deref()
            .is_some_and(|a| a.starts_with("builtin:"))
        {
            builtin_entries.insert(format!("municipality[{i}].attribute_service"));
        }
    }
    if config
        .municipalities
        .nemlogin
        .as_ref()
        .is_some_and(|n| n.metadata.starts_with("builtin:"))
    {
        builtin_entries.insert("nemlogin.metadata".to_string());
    }
    for (i, us) in config.user_systems.user_system.iter().enumerate() {
        if us.metadata.starts_with("builtin:") {
            builtin_entries.insert(format!("user_system[{i}].metadata"));
        }
    }
    if let Err(found) = trust::resolve(config, &HashMap::new()).await {
        problems.extend(
            found
                .into_iter()
                .filter(|p| !builtin_entries.contains(&p.key)),
        );
    }
    problems
}

/// The store backend `[store]` names. A Redis that does not answer now is a problem naming its
/// URL and what to do (chsim never starts as a memory-only broker when Redis was asked for);
/// `None` when the configuration checks already reported why there is no store.
async fn build_store(config: &Config) -> Result<Arc<dyn LoginStore>, Option<ConfigProblem>> {
    let s = &config.chsim.store;
    match (s.backend, &s.redis_url) {
        (config::StoreBackend::Memory, _) => Ok(Arc::new(MemoryStore::new())),
        (config::StoreBackend::Redis, None) => Err(None),
        (config::StoreBackend::Redis, Some(url)) => {
            if crate::broker::store::redis::check_url(url).is_err() {
                return Err(None);
            }
            let settings = RedisSettings {
                url: url.clone(),
                key_prefix: s.key_prefix.clone(),
                timeout: std::time::Duration::from_millis(s.timeout_ms.into()),
            };
            match RedisStore::connect(&settings).await {
                Ok(store) => {
                    tracing::info!(
                        "chsim keeps its state in the Redis at {} (keys {}:…)",
                        crate::broker::store::redis::shown_url(url),
                        s.key_prefix
                    );
                    Ok(Arc::new(store))
                }
                Err(e) => Err(Some(ConfigProblem::new(
                    "chsim.toml",
                    "store.redis_url",
                    format!(
                        "{e}. Start Redis there, or correct redis_url (CHSIM_STORE_REDIS_URL); with backend = \"memory\" a single chsim instance needs no Redis"
                    ),
                ))),
            }
        }
    }
}

/// Builds the state, or reports every configuration problem.
pub async fn build(config: &Config, clock: Arc<dyn Clock>) -> Result<AppState, ConfigReport> {
    let mut problems: Vec<ConfigProblem> = Vec::new();
    let public_url = config.public_url().to_string();
    let entity_id = config.entity_id();
    let b = &config.chsim.broker;
    let urls = Urls::new(&public_url);
    let (credential, decryption) = match config::load_broker_credentials(config) {
        Ok(c) => c,
        Err(mut p) => {
            p.append(&mut problems_without_broker_key(config).await);
            return Err(ConfigReport(p));
        }
    };
    let fail =
        |reason: String| ConfigReport(vec![ConfigProblem::new("chsim.toml", "broker", reason)]);
    let idp_metadata = metadata::build_signed(
        &entity_id,
        &RoleSpec::Idp {
            sso: vec![
                Endpoint::new(bindings::REDIRECT, urls.sso.clone()),
                Endpoint::new(bindings::POST, urls.sso.clone()),
            ],
            slo: vec![
                Endpoint::new(bindings::REDIRECT, urls.sso.clone())
                    .with_response_location(urls.slo_response.clone()),
                Endpoint::new(bindings::POST, urls.sso.clone())
                    .with_response_location(urls.slo_response.clone()),
                Endpoint::new(bindings::SOAP, urls.slo_soap.clone()),
            ],
            want_authn_requests_signed: b.require_signed_authn_requests,
        },
        &credential,
        None,
    )
    .map_err(|e| fail(format!("cannot sign chsim's IdP metadata: {e}")))?;
    let sp_metadata = metadata::build_signed(
        &entity_id,
        &RoleSpec::Sp {
            acs: vec![Endpoint::new(bindings::POST, urls.acs.clone())],
            slo: vec![
                Endpoint::new(bindings::REDIRECT, urls.sp_slo_request.clone())
                    .with_response_location(urls.sp_slo_response.clone()),
            ],
            authn_requests_signed: true,
            want_assertions_signed: true,
        },
        &credential,
        Some(&decryption),
    )
    .map_err(|e| fail(format!("cannot sign chsim's SP metadata: {e}")))?;

    // Every key chsim would use, for the demo-key rule (issue #8 §4).
    let mut in_use: Vec<(&str, String, String, openssl::x509::X509, bool)> = vec![
        (
            "chsim.toml",
            "broker.signing_key".to_string(),
            b.signing_key.clone(),
            credential.cert().clone(),
            false,
        ),
        (
            "chsim.toml",
            "broker.encryption_key".to_string(),
            b.encryption_key.clone(),
            decryption.cert().clone(),
            false,
        ),
    ];

    // The built-in parties read chsim's metadata as outsiders would.
    let chsim_sp = ChsimAsSp::from_metadata(&sp_metadata)
        .map_err(|e| fail(format!("chsim's own SP metadata does not parse: {e}")))?;
    let chsim_idp = ChsimAsIdp::from_metadata(&idp_metadata)
        .map_err(|e| fail(format!("chsim's own IdP metadata does not parse: {e}")))?;
    let mut builtin = HashMap::new();
    let mut test_idps = BTreeMap::new();
    let (test_idp_configs, attribute_service_configs, demo_sp_configs) = builtin_parties(config);
    for (i, t) in test_idp_configs.iter().enumerate() {
        let key = format!("test_idp[{i}].");
        match config::load_credential_for(
            config,
            "test_idps.toml",
            &key,
            &t.signing_key,
            &t.signing_cert,
        ) {
            Ok(cred) => {
                in_use.push((
                    "test_idps.toml",
                    format!("{key}signing_key"),
                    t.signing_key.clone(),
                    cred.cert().clone(),
                    true,
                ));
                let idp = TestIdp::new(
                    t.clone(),
                    &public_url,
                    cred,
                    chsim_sp.clone(),
                    clock.clone(),
                );
                match idp.metadata_xml() {
                    Ok(xml) => {
                        builtin.insert(format!("builtin:test-idp/{}", t.id), xml);
                    }
                    Err(e) => problems.push(ConfigProblem::new(
                        "test_idps.toml",
                        key,
                        format!("cannot sign metadata: {e}"),
                    )),
                }
                test_idps.insert(t.id.clone(), Arc::new(idp));
            }
            Err(p) => problems.push(p),
        }
    }
    let mut test_attribute_services = BTreeMap::new();
    for (i, a) in attribute_service_configs.iter().enumerate() {
        let key = format!("test_attribute_service[{i}].");
        let Some(idp) = test_idps.get(&a.answers_for).cloned() else {
            continue; // reported by the file checks
        };
        match config::load_credential_for(
            config,
            "test_idps.toml",
            &key,
            &a.signing_key,
            &a.signing_cert,
        ) {
            Ok(cred) => {
                in_use.push((
                    "test_idps.toml",
                    format!("{key}signing_key"),
                    a.signing_key.clone(),
                    cred.cert().clone(),
                    true,
                ));
                let service = TestAttributeService::new(
                    a.clone(),
                    &public_url,
                    cred,
                    chsim_sp.clone(),
                    idp,
                    clock.clone(),
                );
                match service.metadata_xml() {
                    Ok(xml) => {
                        builtin.insert(format!("builtin:attribute-service/{}", a.id), xml);
                    }
                    Err(e) => problems.push(ConfigProblem::new(
                        "test_idps.toml",
                        key,
                        format!("cannot sign metadata: {e}"),
                    )),
                }
                test_attribute_services.insert(a.id.clone(), Arc::new(service));
            }
            Err(p) => problems.push(p),
        }
    }
    let mut demo_sps = BTreeMap::new();
    for (i, d) in demo_sp_configs.iter().enumerate() {
        let key = format!("demo_sp[{i}].");
        match config::load_credential_for(
            config,
            "demo_sps.toml",
            &key,
            &d.signing_key,
            &d.signing_cert,
        ) {
            Ok(cred) => {
                in_use.push((
                    "demo_sps.toml",
                    format!("{key}signing_key"),
                    d.signing_key.clone(),
                    cred.cert().clone(),
                    true,
                ));
                let sp = DemoSp::new(
                    d.clone(),
                    &public_url,
                    cred,
                    chsim_idp.clone(),
                    clock.clone(),
                );
                match sp.metadata_xml() {
                    Ok(xml) => {
                        builtin.insert(format!("builtin:demo-sp/{}", d.id), xml);
                    }
                    Err(e) => problems.push(ConfigProblem::new(
                        "demo_sps.toml",
                        key,
                        format!("cannot sign metadata: {e}"),
                    )),
                }
                demo_sps.insert(d.id.clone(), Arc::new(sp));
            }
            Err(p) => problems.push(p),
        }
    }
    let trust = match trust::resolve(config, &builtin).await {
        Ok(t) => t,
        Err(mut p) => {
            problems.append(&mut p);
            Default::default()
        }
    };
    let keys: Vec<KeyInUse<'_>> = in_use
        .iter()
        .map(|(_, _, path, cert, builtin_party)| KeyInUse {
            path,
            cert,
            builtin_party: *builtin_party,
        })
        .collect();
    for (i, error) in refuse_demo_keys(&public_url, &keys, config.insecure_demo_keys) {
        let (file, key, ..) = &in_use[i];
        problems.push(ConfigProblem::new(file, key.clone(), error.to_string()));
    }
    if config.insecure_demo_keys && !is_loopback_url(&public_url) {
        tracing::warn!("--insecure-demo-keys: chsim serves {public_url} with whatever demo keys it is configured with; never let real users near it");
    }
    let backend = match build_store(config).await {
        Ok(backend) => Some(backend),
        Err(problem) => {
            problems.extend(problem);
            None
        }
    };
    let (true, Some(backend)) = (problems.is_empty(), backend) else {
        return Err(ConfigReport(problems));
    };
    if b.insecure_allow_sha1 {
        tracing::warn!("insecure_allow_sha1 is on: SHA-1 signatures are accepted");
    }
    if b.insecure_allow_rsa1_5 {
        tracing::warn!(
            "insecure_allow_rsa1_5 is on: RSA 1.5 key transport is accepted (a padding oracle risk)"
        );
    }
    let oidc_endpoints = crate::oidc::discovery::Endpoints::new(&public_url);
    let jwt = crate::token::jwt::JwtSigner::new(oidc_endpoints.issuer.clone(), &credential)
        .map_err(|e| {
            ConfigReport(vec![ConfigProblem::new(
                "chsim.toml",
                "broker.signing_key",
                format!("chsim's signing key cannot sign OIDC tokens: {e}"),
            )])
        })?;
    let settings = BrokerSettings {
        oidc_endpoints,
        jwt,
        entity_id: crate::ids::EntityId::new(entity_id),
        sso_url: urls.sso,
        acs_url: urls.acs,
        slo_response_url: urls.slo_response,
        slo_soap_url: urls.slo_soap,
        sp_slo_request_url: urls.sp_slo_request,
        sp_slo_response_url: urls.sp_slo_response,
        credential,
        decryption,
        clock_skew: Duration::seconds(b.clock_skew_seconds.into()),
        assertion_lifetime: Duration::seconds(b.assertion_lifetime_seconds.into()),
        login_timeout: Duration::seconds(b.login_timeout_seconds.into()),
        max_message_bytes: b.max_message_bytes,
        require_signed_authn_requests: b.require_signed_authn_requests,
        algorithms: AlgorithmPolicy {
            allow_sha1: b.insecure_allow_sha1,
            allow_rsa1_5: b.insecure_allow_rsa1_5,
        },
        equivalence: config.chsim.assurance.equivalence(),
        session: crate::broker::session::SessionSettings {
            lifetime: Duration::seconds(config.chsim.session.lifetime_seconds.into()),
            idle_timeout: Duration::seconds(config.chsim.session.idle_timeout_seconds.into()),
        },
    };
    let a = &config.chsim.attribute_service;
    let attribute_client = AttributeServiceClient::new(
        ClientSettings {
            timeout: std::time::Duration::from_secs(a.timeout_seconds.into()),
            cache_ttl: std::time::Duration::from_secs(a.cache_ttl_seconds.into()),
            cache_size: a.cache_size,
            clock_skew: settings.clock_skew,
            algorithms: settings.algorithms,
            max_message_bytes: settings.max_message_bytes,
            decryption: settings.decryption.clone(),
        },
        settings.entity_id.clone(),
        settings.credential.clone(),
        clock.clone(),
    )
    .map_err(|e| {
        ConfigReport(vec![ConfigProblem::new(
            "chsim.toml",
            "attribute_service",
            e,
        )])
    })?;
    // Back-channel logout; never follows redirects (a party's SOAP endpoint answers itself).
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| {
            ConfigReport(vec![ConfigProblem::new(
                "chsim.toml",
                "broker",
                format!("the HTTP client for back-channel logout cannot be set up: {e}"),
            )])
        })?;
    let store = Store::new(backend, Broker::lifetimes(&settings));
    let demo_oidc = demo_oidc(config, clock.clone()).map(Arc::new);
    Ok(AppState {
        broker: Arc::new(Broker::new(
            settings,
            trust,
            attribute_client,
            store,
            http,
            clock,
        )),
        idp_metadata: Arc::new(idp_metadata),
        sp_metadata: Arc::new(sp_metadata),
        test_idps: Arc::new(test_idps),
        demo_sps: Arc::new(demo_sps),
        demo_oidc,
        test_attribute_services: Arc::new(test_attribute_services),
        public_url: Arc::new(public_url),
        // Base64 inflates by 4/3; leave room for the other form fields.
        max_body_bytes: b.max_message_bytes * 2,
        builtin_parties: config.chsim.demo.builtin_parties,
    })
}
