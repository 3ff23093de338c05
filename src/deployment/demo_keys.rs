//! The demo keys shipped in `keys/` — public, and embedded in the binary — and the rule that they
//! may only serve a chsim whose `public_url` is loopback (localhost, 127.0.0.0/8, ::1) unless the
//! operator says `--insecure-demo-keys`. Keys are compared by public key, so a new certificate for
//! a demo key is still a demo key. Pure: the caller loads the keys and turns errors into config
//! problems.

use openssl::x509::X509;

/// One embedded demo certificate: its name in `keys/` (without `.cert.pem`) and its PEM text.
macro_rules! demo {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../keys/", $name, ".cert.pem")),
        )
    };
}

/// Every certificate in `keys/` (a unit test checks that none is missing).
pub const DEMO_CERTS: &[(&str, &str)] = &[
    demo!("broker"),
    demo!("broker-encryption"),
    demo!("test-idp-korsbaek"),
    demo!("test-idp-bakkeby"),
    demo!("test-idp-soeby"),
    demo!("test-attribute-service-soeby"),
    demo!("test-idp-nemlogin"),
    demo!("demo-sp-oiosaml3"),
    demo!("demo-sp-oiosaml2"),
];

/// Why a key may not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DemoKeyError {
    /// A key chsim would use is one of the public demo keys, and `public_url` is not loopback.
    #[error("`{path}` is the public demo key `keys/{demo}.key.pem` shipped with chsim (anyone can sign or decrypt with it), and server.public_url `{public_url}` is not a loopback address, so other machines would trust it; run `chsim keygen DIR` and point the key at the new files{advice}, or start with --insecure-demo-keys on a shared test server that must never see real users")]
    DemoKeyOffLoopback {
        /// The key file as configured.
        path: String,
        /// The demo key's name in `keys/`.
        demo: &'static str,
        /// The public URL.
        public_url: String,
        /// Extra advice (e.g. how to switch built-in parties off).
        advice: &'static str,
    },
}

/// Which demo key, if any, has the public key of `cert`.
pub fn demo_key_name(cert: &X509) -> Option<&'static str> {
    let public = cert.public_key().ok()?.public_key_to_der().ok()?;
    DEMO_CERTS.iter().find_map(|(name, pem)| {
        let demo = X509::from_pem(pem.as_bytes()).ok()?;
        (demo.public_key().ok()?.public_key_to_der().ok()? == public).then_some(*name)
    })
}

/// Whether `url`'s host is loopback: `localhost`, an address in 127.0.0.0/8, or `::1`. Anything
/// that does not parse is not loopback.
pub fn is_loopback_url(url: &str) -> bool {
    match url::Url::parse(url).ok().as_ref().and_then(|u| u.host()) {
        Some(url::Host::Domain(d)) => d.trim_end_matches('.').eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A key chsim would use, for [`refuse_demo_keys`].
#[derive(Debug, Clone, Copy)]
pub struct KeyInUse<'a> {
    /// The key file as configured.
    pub path: &'a str,
    /// Its certificate.
    pub cert: &'a X509,
    /// Whether it belongs to a built-in party (the advice then names `[demo] builtin_parties`).
    pub builtin_party: bool,
}

/// Refuses every demo key in `keys` unless `public_url` is loopback or `insecure_demo_keys`;
/// each error comes with the index of its key in `keys`.
pub fn refuse_demo_keys(
    public_url: &str,
    keys: &[KeyInUse<'_>],
    insecure_demo_keys: bool,
) -> Vec<(usize, DemoKeyError)> {
    if insecure_demo_keys || is_loopback_url(public_url) {
        return Vec::new();
    }
    keys.iter()
        .enumerate()
        .filter_map(|(i, k)| {
            let demo = demo_key_name(k.cert)?;
            Some((i, DemoKeyError::DemoKeyOffLoopback {
                path: k.path.to_string(),
                demo,
                public_url: public_url.to_string(),
                advice: if k.builtin_party {
                    " (or set builtin_parties = false under [demo] in chsim.toml: a real set-up needs no built-in test parties)"
                } else {
                    ""
                },
            }))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn demo_cert(name: &str) -> X509 {
        let pem = DEMO_CERTS.iter().find(|(n, _)| *n == name).unwrap().1;
        X509::from_pem(pem.as_bytes()).unwrap()
    }

    fn fresh_cert() -> X509 {
        let dir = tempfile::tempdir().unwrap();
        let files = super::super::keygen::keygen(dir.path()).unwrap();
        X509::from_pem(&std::fs::read(&files.signing_cert).unwrap()).unwrap()
    }

    #[test]
    fn every_certificate_in_keys_is_a_known_demo_key() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/keys");
        for entry in std::fs::read_dir(dir).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().to_string();
            if let Some(stem) = name.strip_suffix(".cert.pem") {
                assert!(
                    DEMO_CERTS.iter().any(|(n, _)| *n == stem),
                    "keys/{name} is missing from DEMO_CERTS"
                );
            }
        }
    }

    #[test]
    fn a_demo_certificate_is_recognised_by_its_public_key() {
        assert_eq!(demo_key_name(&demo_cert("broker")), Some("broker"));
        assert_eq!(
            demo_key_name(&demo_cert("test-idp-nemlogin")),
            Some("test-idp-nemlogin")
        );
        assert_eq!(demo_key_name(&fresh_cert()), None);
    }

    #[test]
    fn loopback_means_localhost_127_slash_8_and_ipv6_one() {
        for url in [
            "http://localhost:8080",
            "https://LOCALHOST/",
            "http://127.0.0.1:1",
            "http://127.9.8.7",
            "http://[::1]:8080",
        ] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "https://chsim.example.dk",
            "http://10.0.0.1",
            "http://0.0.0.0:8080",
            "http://[::]:80",
            "http://localhost.example.dk",
            "not a url",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }

    #[test]
    fn demo_keys_are_refused_off_loopback_with_the_file_and_the_fix() {
        let cert = demo_cert("broker");
        let keys = [KeyInUse {
            path: "../keys/broker.key.pem",
            cert: &cert,
            builtin_party: false,
        }];
        assert!(refuse_demo_keys("http://localhost:8080", &keys, false).is_empty());
        assert!(refuse_demo_keys("https://chsim.example.dk", &keys, true).is_empty());
        let errors = refuse_demo_keys("https://chsim.example.dk", &keys, false);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].0, 0);
        let text = errors[0].1.to_string();
        assert!(
            text.contains("`../keys/broker.key.pem` is the public demo key `keys/broker.key.pem`"),
            "{text}"
        );
        assert!(
            text.contains("chsim keygen DIR") && text.contains("--insecure-demo-keys"),
            "{text}"
        );
    }

    #[test]
    fn fresh_keys_pass_off_loopback() {
        let cert = fresh_cert();
        let keys = [KeyInUse {
            path: "/etc/chsim/broker-signing.key.pem",
            cert: &cert,
            builtin_party: false,
        }];
        assert!(refuse_demo_keys("https://chsim.example.dk", &keys, false).is_empty());
    }
}
