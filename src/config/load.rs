//! Reading the configuration directory (or the embedded demo), parsing, environment overrides,
//! and the checks that need nothing but the files themselves.

use super::types::*;
use super::{ConfigProblem, ConfigReport};
use crate::saml::Credential;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Where the configuration comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigSource {
    /// The demo configuration compiled into the binary (`config/` and `keys/`).
    Embedded,
    /// A directory on disk; relative paths inside are relative to it.
    Dir(PathBuf),
}

/// One embedded file: its name relative to `config/` and its text.
macro_rules! embed {
    (config $name:literal) => {
        ($name, include_str!(concat!("../../config/", $name)))
    };
    (key $name:literal) => {
        (
            concat!("../keys/", $name),
            include_str!(concat!("../../keys/", $name)),
        )
    };
}

/// The embedded demo files, by path relative to `config/`.
const EMBEDDED: &[(&str, &str)] = &[
    embed!(config "chsim.toml"),
    embed!(config "municipalities.toml"),
    embed!(config "user_systems.toml"),
    embed!(config "test_idps.toml"),
    embed!(config "demo_sps.toml"),
    embed!(key "broker.key.pem"),
    embed!(key "broker.cert.pem"),
    embed!(key "broker-encryption.key.pem"),
    embed!(key "broker-encryption.cert.pem"),
    embed!(key "test-idp-korsbaek.key.pem"),
    embed!(key "test-idp-korsbaek.cert.pem"),
    embed!(key "test-idp-bakkeby.key.pem"),
    embed!(key "test-idp-bakkeby.cert.pem"),
    embed!(key "test-idp-soeby.key.pem"),
    embed!(key "test-idp-soeby.cert.pem"),
    embed!(key "test-attribute-service-soeby.key.pem"),
    embed!(key "test-attribute-service-soeby.cert.pem"),
    embed!(key "test-idp-nemlogin.key.pem"),
    embed!(key "test-idp-nemlogin.cert.pem"),
    embed!(key "demo-sp-oiosaml3.key.pem"),
    embed!(key "demo-sp-oiosaml3.cert.pem"),
    embed!(key "demo-sp-oiosaml2.key.pem"),
    embed!(key "demo-sp-oiosaml2.cert.pem"),
];

impl ConfigSource {
    /// Reads a file named relative to the configuration directory.
    pub fn read(&self, relative: &str) -> Result<String, String> {
        match self {
            ConfigSource::Embedded => EMBEDDED
                .iter()
                .find(|(name, _)| *name == relative)
                .map(|(_, text)| text.to_string())
                .ok_or_else(|| {
                    format!("`{relative}` is not part of the embedded demo configuration; use --config DIR to read files from disk")
                }),
            ConfigSource::Dir(dir) => {
                let path = self.path_of(relative).unwrap_or_else(|| dir.join(relative));
                std::fs::read_to_string(&path)
                    .map_err(|e| format!("cannot read `{}`: {e}", path.display()))
            }
        }
    }

    /// The on-disk path of a relative file name (None for the embedded source).
    pub fn path_of(&self, relative: &str) -> Option<PathBuf> {
        match self {
            ConfigSource::Embedded => None,
            ConfigSource::Dir(dir) => {
                let p = Path::new(relative);
                Some(if p.is_absolute() {
                    p.to_path_buf()
                } else {
                    dir.join(p)
                })
            }
        }
    }

    /// A description for messages.
    pub fn describe(&self) -> String {
        match self {
            ConfigSource::Embedded => "the embedded demo configuration".to_string(),
            ConfigSource::Dir(d) => format!("configuration directory `{}`", d.display()),
        }
    }
}

fn parse_file<T: DeserializeOwned>(
    source: &ConfigSource,
    file: &str,
    problems: &mut Vec<ConfigProblem>,
) -> Option<T> {
    let text = match source.read(file) {
        Ok(t) => t,
        Err(e) => {
            problems.push(ConfigProblem::new(file, "", e));
            return None;
        }
    };
    match toml::from_str::<T>(&text) {
        Ok(v) => Some(v),
        Err(e) => {
            let location = e
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!("line {line}")
                })
                .unwrap_or_default();
            problems.push(ConfigProblem::new(file, location, e.message().to_string()));
            None
        }
    }
}

/// As [`parse_file`], but a file missing from a directory is empty when `optional`.
fn parse_optional_file<T: DeserializeOwned + Default>(
    source: &ConfigSource,
    file: &str,
    optional: bool,
    problems: &mut Vec<ConfigProblem>,
) -> Option<T> {
    if optional && source.path_of(file).is_some_and(|p| !p.exists()) {
        return Some(T::default());
    }
    parse_file(source, file, problems)
}

/// Reads, parses and checks the configuration. Returns every problem found.
pub fn load(source: ConfigSource) -> Result<Config, ConfigReport> {
    let (config, problems) = load_unchecked(source)?;
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigReport(problems))
    }
}

/// Reads and parses the configuration; fails only when a file cannot be read or parsed. The
/// problems of the file-only checks come back beside the configuration, so that later checks
/// (keys, metadata) can add theirs to one report.
pub fn load_unchecked(source: ConfigSource) -> Result<(Config, Vec<ConfigProblem>), ConfigReport> {
    let mut problems = Vec::new();
    let chsim = parse_file::<ChsimFile>(&source, "chsim.toml", &mut problems);
    let municipalities =
        parse_file::<MunicipalitiesFile>(&source, "municipalities.toml", &mut problems);
    let user_systems = parse_file::<UserSystemsFile>(&source, "user_systems.toml", &mut problems);
    // Without built-in parties their files may be left out.
    let optional = chsim.as_ref().is_some_and(|c| !c.demo.builtin_parties);
    let test_idps =
        parse_optional_file::<TestIdpsFile>(&source, "test_idps.toml", optional, &mut problems);
    let demo_sps =
        parse_optional_file::<DemoSpsFile>(&source, "demo_sps.toml", optional, &mut problems);
    let (
        Some(mut chsim),
        Some(municipalities),
        Some(user_systems),
        Some(test_idps),
        Some(demo_sps),
    ) = (chsim, municipalities, user_systems, test_idps, demo_sps)
    else {
        return Err(ConfigReport(problems));
    };
    apply_env(&mut chsim, &mut problems);
    let config = Config {
        source,
        chsim,
        municipalities,
        user_systems,
        test_idps,
        demo_sps,
        insecure_demo_keys: false,
    };
    check(&config, &mut problems);
    super::roles::check(&config, &mut problems);
    super::assurance::check(&config, &mut problems);
    super::oidc::check(&config, &mut problems);
    Ok((config, problems))
}

/// Environment overrides (the last layer); a value that does not parse is a problem named by
/// its variable.
fn apply_env(chsim: &mut ChsimFile, problems: &mut Vec<ConfigProblem>) {
    const ENV: &str = "environment";
    if let Ok(v) = std::env::var("CHSIM_LISTEN") {
        chsim.server.listen = v;
    }
    if let Ok(v) = std::env::var("CHSIM_PUBLIC_URL") {
        chsim.server.public_url = v;
    }
    let store = &mut chsim.store;
    if let Ok(v) = std::env::var("CHSIM_STORE_BACKEND") {
        match v.as_str() {
            "memory" => store.backend = StoreBackend::Memory,
            "redis" => store.backend = StoreBackend::Redis,
            _ => problems.push(ConfigProblem::new(
                ENV,
                "CHSIM_STORE_BACKEND",
                format!("`{v}` is neither `memory` nor `redis`"),
            )),
        }
    }
    if let Ok(v) = std::env::var("CHSIM_STORE_REDIS_URL") {
        store.redis_url = Some(v);
    }
    if let Ok(v) = std::env::var("CHSIM_STORE_KEY_PREFIX") {
        store.key_prefix = v;
    }
    if let Ok(v) = std::env::var("CHSIM_STORE_TIMEOUT_MS") {
        match v.parse() {
            Ok(ms) => store.timeout_ms = ms,
            Err(_) => problems.push(ConfigProblem::new(
                ENV,
                "CHSIM_STORE_TIMEOUT_MS",
                format!("`{v}` is not a whole number of milliseconds"),
            )),
        }
    }
}

/// `[store]`: a Redis backend needs a usable URL; the prefix and the timeout must make sense.
fn check_store(c: &Config, problems: &mut Vec<ConfigProblem>) {
    const CHSIM: &str = "chsim.toml";
    let s = &c.chsim.store;
    match (&s.redis_url, s.backend) {
        (None, StoreBackend::Redis) => problems.push(ConfigProblem::new(
            CHSIM,
            "store.redis_url",
            "is required with backend = \"redis\": give the Redis server all chsim instances share, e.g. redis://127.0.0.1:6379/0 (environment: CHSIM_STORE_REDIS_URL)",
        )),
        (Some(url), _) => {
            if let Err(e) = crate::broker::store::redis::check_url(url) {
                problems.push(ConfigProblem::new(CHSIM, "store.redis_url", e));
            }
        }
        (None, StoreBackend::Memory) => {}
    }
    if s.key_prefix.is_empty()
        || s.key_prefix
            .chars()
            .any(|ch| ch.is_whitespace() || ch.is_control())
    {
        problems.push(ConfigProblem::new(
            CHSIM,
            "store.key_prefix",
            format!(
                "`{}` must be non-empty, without spaces or control characters (e.g. chsim, or chsim-test for a second deployment on the same Redis)",
                s.key_prefix.escape_debug()
            ),
        ));
    }
    if s.timeout_ms == 0 {
        problems.push(ConfigProblem::new(
            CHSIM,
            "store.timeout_ms",
            "must be at least 1: with 0 no store operation could ever finish",
        ));
    }
}

/// Loads a key pair named in the configuration by the keys `<key_path>signing_key` and
/// `<key_path>signing_cert`; the problem names both files.
pub fn load_credential(
    source: &ConfigSource,
    file: &str,
    key_path: &str,
    key_file: &str,
    cert_file: &str,
) -> Result<Credential, ConfigProblem> {
    load_key_pair(
        source,
        file,
        (&format!("{key_path}signing_key"), key_file),
        (&format!("{key_path}signing_cert"), cert_file),
    )
}

/// Loads a key pair from `(config key, file)` pairs for the private key and the certificate; the
/// problem names the config key and both files.
pub fn load_key_pair(
    source: &ConfigSource,
    file: &str,
    (key_key, key_file): (&str, &str),
    (cert_key, cert_file): (&str, &str),
) -> Result<Credential, ConfigProblem> {
    let key = source
        .read(key_file)
        .map_err(|e| ConfigProblem::new(file, key_key, e))?;
    let cert = source
        .read(cert_file)
        .map_err(|e| ConfigProblem::new(file, cert_key, e))?;
    Credential::from_pem(key.as_bytes(), cert.as_bytes()).map_err(|e| {
        ConfigProblem::new(
            file,
            key_key,
            format!("`{key_file}` with `{cert_file}`: {e}"),
        )
    })
}

/// chsim's own key pairs: the signing credential and the decryption credential
/// (`broker.encryption_key`), which must be another key.
pub fn load_broker_credentials(c: &Config) -> Result<(Credential, Credential), Vec<ConfigProblem>> {
    const CHSIM: &str = "chsim.toml";
    let b = &c.chsim.broker;
    let signing = load_credential(&c.source, CHSIM, "broker.", &b.signing_key, &b.signing_cert);
    let encryption = load_key_pair(
        &c.source,
        CHSIM,
        ("broker.encryption_key", &b.encryption_key),
        ("broker.encryption_cert", &b.encryption_cert),
    );
    match (signing, encryption) {
        (Ok(s), Ok(e)) if s.key().public_eq(e.key()) => Err(vec![ConfigProblem::new(
            CHSIM,
            "broker.encryption_key",
            format!(
                "`{}` is the same key as broker.signing_key; IdPs encrypt to it, so it must be a key of its own (a decryption oracle must never touch the key that signs chsim's tokens): run `chsim keygen DIR` and use the broker-encryption files it writes",
                b.encryption_key
            ),
        )]),
        (Ok(s), Ok(e)) => Ok((s, e)),
        (s, e) => Err(s.err().into_iter().chain(e.err()).collect()),
    }
}

/// Loads a key pair named in `config` (see [`load_credential`]).
pub fn load_credential_for(
    config: &Config,
    file: &str,
    key_path: &str,
    key_file: &str,
    cert_file: &str,
) -> Result<Credential, ConfigProblem> {
    load_credential(&config.source, file, key_path, key_file, cert_file)
}

/// Checks that need only the files: URLs, ranges, duplicates, references, keys.
fn check(c: &Config, problems: &mut Vec<ConfigProblem>) {
    check_store(c, problems);
    if c.chsim.attribute_service.timeout_seconds == 0 {
        problems.push(ConfigProblem::new(
            "chsim.toml",
            "attribute_service.timeout_seconds",
            "must be at least 1: with 0 no attribute service could ever answer",
        ));
    }
    const CHSIM: &str = "chsim.toml";
    if c.chsim
        .server
        .listen
        .parse::<std::net::SocketAddr>()
        .is_err()
    {
        problems.push(ConfigProblem::new(
            CHSIM,
            "server.listen",
            format!(
                "`{}` is not a socket address such as 127.0.0.1:8080",
                c.chsim.server.listen
            ),
        ));
    }
    match url::Url::parse(&c.chsim.server.public_url) {
        Ok(u) if u.scheme() == "http" || u.scheme() == "https" => {}
        _ => problems.push(ConfigProblem::new(
            CHSIM,
            "server.public_url",
            format!("`{}` is not an http(s) URL", c.chsim.server.public_url),
        )),
    }
    let b = &c.chsim.broker;
    if b.max_message_bytes < 4096 {
        problems.push(ConfigProblem::new(
            CHSIM,
            "broker.max_message_bytes",
            "must be at least 4096",
        ));
    }
    if b.assertion_lifetime_seconds == 0 || b.login_timeout_seconds == 0 {
        problems.push(ConfigProblem::new(
            CHSIM,
            "broker",
            "assertion_lifetime_seconds and login_timeout_seconds must be positive",
        ));
    }
    let session = &c.chsim.session;
    if session.lifetime_seconds == 0 || session.idle_timeout_seconds == 0 {
        problems.push(ConfigProblem::new(
            CHSIM,
            "session",
            "lifetime_seconds and idle_timeout_seconds must be positive (a session that lasts no time is no session; to force a new IdP login, the user system sends ForceAuthn)",
        ));
    }
    if let Err(mut p) = load_broker_credentials(c) {
        problems.append(&mut p);
    }

    const MUN: &str = "municipalities.toml";
    let test_idp_ids: HashSet<&str> = c.test_idps.test_idp.iter().map(|t| t.id.as_str()).collect();
    let demo_sp_ids: HashSet<&str> = c.demo_sps.demo_sp.iter().map(|t| t.id.as_str()).collect();
    let mut cvrs = HashSet::new();
    let mut idp_metadata = HashSet::new();
    for (i, m) in c.municipalities.municipality.iter().enumerate() {
        if !cvrs.insert(m.cvr.clone()) {
            problems.push(ConfigProblem::new(
                MUN,
                format!("municipality[{i}].cvr"),
                format!("CVR {} appears twice", m.cvr),
            ));
        }
        for (j, idp) in m.idp.iter().enumerate() {
            let key = format!("municipality[{i}].idp[{j}]");
            check_metadata_ref(
                c.chsim.demo.builtin_parties,
                &idp.metadata,
                "test-idp",
                &test_idp_ids,
                MUN,
                &format!("{key}.metadata"),
                problems,
            );
            if !idp_metadata.insert(idp.metadata.clone()) {
                problems.push(ConfigProblem::new(MUN, format!("{key}.metadata"), format!("`{}` is configured twice; an IdP belongs to one entry (list several municipalities' CVRs under it instead)", idp.metadata)));
            }
            for (k, r) in idp.ip_ranges.iter().enumerate() {
                if r.parse::<ipnet::IpNet>().is_err() {
                    problems.push(ConfigProblem::new(
                        MUN,
                        format!("{key}.ip_ranges[{k}]"),
                        format!("`{r}` is not a CIDR range such as 10.0.0.0/8"),
                    ));
                }
            }
        }
    }

    const US: &str = "user_systems.toml";
    let mut us_metadata = HashSet::new();
    for (i, u) in c.user_systems.user_system.iter().enumerate() {
        check_metadata_ref(
            c.chsim.demo.builtin_parties,
            &u.metadata,
            "demo-sp",
            &demo_sp_ids,
            US,
            &format!("user_system[{i}].metadata"),
            problems,
        );
        if !us_metadata.insert(u.metadata.clone()) {
            problems.push(ConfigProblem::new(
                US,
                format!("user_system[{i}].metadata"),
                format!("`{}` is configured twice", u.metadata),
            ));
        }
    }

    let attribute_service_ids: HashSet<&str> = c
        .test_idps
        .test_attribute_service
        .iter()
        .map(|a| a.id.as_str())
        .collect();
    for (i, m) in c.municipalities.municipality.iter().enumerate() {
        if let Some(reference) = &m.attribute_service {
            check_metadata_ref(
                c.chsim.demo.builtin_parties,
                reference,
                "attribute-service",
                &attribute_service_ids,
                MUN,
                &format!("municipality[{i}].attribute_service"),
                problems,
            );
        }
    }

    if let Some(n) = &c.municipalities.nemlogin {
        check_metadata_ref(
            c.chsim.demo.builtin_parties,
            &n.metadata,
            "test-idp",
            &test_idp_ids,
            MUN,
            "nemlogin.metadata",
            problems,
        );
    }

    if !c.chsim.demo.builtin_parties {
        // Built-in parties are not served: their entries (and keys) do not matter.
        return;
    }
    const TI: &str = "test_idps.toml";
    let mut seen = HashSet::new();
    for (i, t) in c.test_idps.test_idp.iter().enumerate() {
        let key = format!("test_idp[{i}].");
        if !is_path_segment(&t.id) {
            problems.push(ConfigProblem::new(
                TI,
                format!("{key}id"),
                format!("`{}` must be lowercase letters, digits and '-'", t.id),
            ));
        }
        if !seen.insert(t.id.clone()) {
            problems.push(ConfigProblem::new(
                TI,
                format!("{key}id"),
                format!("`{}` appears twice", t.id),
            ));
        }
        if let Err(p) = load_credential(&c.source, TI, &key, &t.signing_key, &t.signing_cert) {
            problems.push(p);
        }
        let mut users = HashSet::new();
        for (j, u) in t.user.iter().enumerate() {
            let ukey = format!("{key}user[{j}]");
            if !users.insert(u.id.clone()) {
                problems.push(ConfigProblem::new(
                    TI,
                    format!("{ukey}.id"),
                    format!("`{}` appears twice", u.id),
                ));
            }
            if !(1..=4).contains(&u.nist_level) {
                problems.push(ConfigProblem::new(
                    TI,
                    format!("{ukey}.nist_level"),
                    "must be 1, 2, 3 or 4",
                ));
            }
            if let Some(n) = &u.nsis_level {
                if !["Low", "Substantial", "High"].contains(&n.as_str()) {
                    problems.push(ConfigProblem::new(
                        TI,
                        format!("{ukey}.nsis_level"),
                        format!("`{n}` must be Low, Substantial or High"),
                    ));
                }
            }
            if u.robot && u.nsis_level.is_some() {
                problems.push(ConfigProblem::new(
                    TI,
                    format!("{ukey}.nsis_level"),
                    "a robot has no NSIS identity; remove nsis_level",
                ));
            }
            if let Some(f) = u.forced_nist_level {
                if !(1..=4).contains(&f) || f < u.nist_level {
                    problems.push(ConfigProblem::new(
                        TI,
                        format!("{ukey}.forced_nist_level"),
                        format!("must be 1–4 and at least nist_level ({})", u.nist_level),
                    ));
                }
            }
            if let Some(f) = &u.forced_nsis_level {
                let rank = |l: &str| ["Low", "Substantial", "High"].iter().position(|x| *x == l);
                let ok = match (rank(f), u.nsis_level.as_deref().map(rank)) {
                    (Some(_), None) => !u.robot,
                    (Some(fr), Some(Some(br))) => fr >= br,
                    _ => false,
                };
                if !ok {
                    problems.push(ConfigProblem::new(
                        TI,
                        format!("{ukey}.forced_nsis_level"),
                        "must be Low, Substantial or High, at least nsis_level, and not for a robot",
                    ));
                }
            }
        }
    }

    let mut seen = HashSet::new();
    for (i, a) in c.test_idps.test_attribute_service.iter().enumerate() {
        let key = format!("test_attribute_service[{i}].");
        if !is_path_segment(&a.id) {
            problems.push(ConfigProblem::new(
                TI,
                format!("{key}id"),
                format!("`{}` must be lowercase letters, digits and '-'", a.id),
            ));
        }
        if !seen.insert(a.id.clone()) {
            problems.push(ConfigProblem::new(
                TI,
                format!("{key}id"),
                format!("`{}` appears twice", a.id),
            ));
        }
        if !test_idp_ids.contains(a.answers_for.as_str()) {
            problems.push(ConfigProblem::new(
                TI,
                format!("{key}answers_for"),
                format!("`{}` is no test IdP id", a.answers_for),
            ));
        }
        if let Err(p) = load_credential(&c.source, TI, &key, &a.signing_key, &a.signing_cert) {
            problems.push(p);
        }
    }
    const DS: &str = "demo_sps.toml";
    let mut seen = HashSet::new();
    for (i, d) in c.demo_sps.demo_sp.iter().enumerate() {
        let key = format!("demo_sp[{i}].");
        if !is_path_segment(&d.id) {
            problems.push(ConfigProblem::new(
                DS,
                format!("{key}id"),
                format!("`{}` must be lowercase letters, digits and '-'", d.id),
            ));
        }
        if !seen.insert(d.id.clone()) {
            problems.push(ConfigProblem::new(
                DS,
                format!("{key}id"),
                format!("`{}` appears twice", d.id),
            ));
        }
        if let Err(p) = load_credential(&c.source, DS, &key, &d.signing_key, &d.signing_cert) {
            problems.push(p);
        }
    }
}

fn is_path_segment(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn check_metadata_ref(
    builtin_parties: bool,
    value: &str,
    kind: &str,
    builtin_ids: &HashSet<&str>,
    file: &str,
    key: &str,
    problems: &mut Vec<ConfigProblem>,
) {
    if value.starts_with("builtin:") && !builtin_parties {
        problems.push(ConfigProblem::new(
            file,
            key,
            format!("`{value}` names a built-in party, but built-in parties are switched off (builtin_parties = false under [demo] in chsim.toml); give the party's metadata file or https URL instead"),
        ));
    } else if let Some(rest) = value.strip_prefix("builtin:") {
        let ok = rest
            .strip_prefix(kind)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|id| builtin_ids.contains(id));
        if !ok {
            let mut known: Vec<_> = builtin_ids
                .iter()
                .map(|i| format!("builtin:{kind}/{i}"))
                .collect();
            known.sort();
            problems.push(ConfigProblem::new(
                file,
                key,
                format!(
                    "`{value}` names no built-in party; known: {}",
                    known.join(", ")
                ),
            ));
        }
    } else if value.starts_with("http://") || value.starts_with("https://") {
        if url::Url::parse(value).is_err() {
            problems.push(ConfigProblem::new(
                file,
                key,
                format!("`{value}` is not a valid URL"),
            ));
        }
    } else if value.is_empty() {
        problems.push(ConfigProblem::new(
            file,
            key,
            "is empty; give builtin:…, a file path or an http(s) URL",
        ));
    }
}
