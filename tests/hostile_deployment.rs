//! A real set-up cannot inherit the demo's trust (issue #8 §3 last bullet, §4, §6 last bullet):
//! chsim decrypts with a key of its own, never its signing key; the public demo keys do not serve
//! off loopback; built-in parties can be switched off; `chsim keygen` writes fresh keys; metadata
//! from a URL is https or signed, and an aggregate is searched for the configured entityID.
//! Each test asserts the specific error, through the real binary or the real router on loopback.
#![allow(clippy::unwrap_used, clippy::result_large_err)] // test code: a failed unwrap is a failed test

mod common;

use axum::routing::get;
use chsim::saml::encryption::EncryptionSuite;
use chsim::saml::metadata::{self, Endpoint, RoleSpec};
use chsim::saml::response::{self, SignedElement};
use chsim::saml::{binding, bindings, Credential};
use common::idp::*;
use common::on_disk::*;
use common::*;
use std::path::Path;

fn append(dir: &Path, file: &str, text: &str) {
    let path = dir.join(file);
    let mut all = std::fs::read_to_string(&path).unwrap();
    all.push_str(text);
    std::fs::write(&path, all).unwrap();
}

/// Runs the chsim binary; returns exit code and stdout+stderr.
fn chsim(args: &[&str], public_url: &str) -> (i32, String) {
    run_chsim(args, &[("CHSIM_PUBLIC_URL", public_url)])
}

/// Starts a login at the OIOSAML2 demo user system via test IdP `bakkeby`; returns a Response
/// for it from that IdP, its assertion encrypted to `to`.
async fn encrypted_answer(chsim: &Chsim, to: &openssl::x509::X509) -> String {
    let idp = chsim.state.test_idps["bakkeby"].clone();
    let request_id = pending_login(chsim, &Browser::new(), "oiosaml2", "bakkeby").await;
    let (r, assertion) = answer(&idp, &idp.config().user[0], &request_id);
    let enc = response::EncryptFor {
        cert: to,
        suite: EncryptionSuite::Aes256GcmRsaOaepSha256,
    };
    response::build(
        &r,
        Some(&assertion),
        idp.credential(),
        SignedElement::Assertion,
        Some(enc),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sp_metadata_publishes_an_encryption_certificate_other_than_the_signing_one() {
    let chsim = start(demo_config()).await;
    let xml = reqwest::get(format!("{}/runtime/saml2auth/metadata.idp", chsim.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sp = metadata::parse(&xml).unwrap().sp.unwrap();
    assert_eq!(
        sp.signing_certs,
        vec![key("broker").cert_der().to_vec()],
        "use=\"signing\""
    );
    assert_eq!(
        sp.encryption_certs,
        vec![key("broker-encryption").cert_der().to_vec()],
        "use=\"encryption\""
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assertion_encrypted_to_the_signing_certificate_is_refused() {
    let chsim = start(demo_config()).await;
    let xml = encrypted_answer(&chsim, key("broker").cert()).await;
    let result = chsim
        .state
        .broker
        .consume(&binding::encode_post(&xml), None)
        .await;
    let Err(failure) = result else {
        panic!("chsim must not decrypt with its signing key");
    };
    assert!(
        matches!(
            failure.error,
            chsim::broker::BrokerError::Invalid {
                error: chsim::saml::validate::ValidationError::Decryption,
                ..
            }
        ),
        "{:?}",
        failure.error
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_assertion_encrypted_to_the_encryption_certificate_is_accepted_and_a_login_passes() {
    let chsim = start(demo_config()).await;
    let xml = encrypted_answer(&chsim, key("broker-encryption").cert()).await;
    chsim
        .state
        .broker
        .consume(&binding::encode_post(&xml), None)
        .await
        .unwrap();
    // And a whole browser login through Korsbæk's test IdP, which encrypts to what it learnt
    // from chsim's SP metadata.
    let browser = Browser::new();
    let done = login_as(&chsim, &browser, "oiosaml3", "korsbaek", "karen").await;
    assert_eq!(done.status, 200, "{}", done.body);
    let to_chsim = done
        .posted_to("/runtime/saml2auth/consume.idp", "SAMLResponse")
        .unwrap();
    assert!(to_chsim.xml.contains("EncryptedAssertion"));
}

#[test]
fn the_same_key_for_signing_and_encryption_is_a_configuration_error() {
    let (_tmp, dir) = demo_copy();
    edit(
        &dir,
        "chsim.toml",
        "encryption_key = \"../keys/broker-encryption.key.pem\"\nencryption_cert = \"../keys/broker-encryption.cert.pem\"",
        "encryption_key = \"../keys/broker.key.pem\"\nencryption_cert = \"../keys/broker.cert.pem\"",
    );
    let (code, out) = chsim(
        &["check-config", "--config", dir.to_str().unwrap()],
        "http://localhost:8080",
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("chsim.toml: broker.encryption_key: `../keys/broker.key.pem` is the same key as broker.signing_key"),
        "{out}"
    );
}

#[test]
fn serve_refuses_the_demo_keys_when_public_url_is_not_loopback() {
    let (code, out) = chsim(&["serve"], "https://chsim.example.dk");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("chsim cannot start"), "{out}");
    assert!(
        out.contains("chsim.toml: broker.signing_key: `../keys/broker.key.pem` is the public demo key `keys/broker.key.pem`"),
        "{out}"
    );
    assert!(
        out.contains("chsim.toml: broker.encryption_key: `../keys/broker-encryption.key.pem` is the public demo key"),
        "{out}"
    );
    assert!(
        out.contains("test_idps.toml: test_idp[0].signing_key:")
            && out.contains("builtin_parties = false"),
        "{out}"
    );
    assert!(
        out.contains("chsim keygen DIR") && out.contains("--insecure-demo-keys"),
        "{out}"
    );
    // The operator's explicit opt-out, and loopback, pass.
    let (code, out) = chsim(
        &["check-config", "--insecure-demo-keys"],
        "https://chsim.example.dk",
    );
    assert_eq!(code, 0, "{out}");
    let (code, out) = chsim(&["check-config"], "http://127.0.0.2:8080");
    assert_eq!(code, 0, "{out}");
}

#[test]
fn keygen_writes_fresh_keys_once_and_they_are_not_demo_keys() {
    let (_tmp, dir) = demo_copy();
    let keys = dir.parent().unwrap().join("fresh");
    let (code, out) = chsim(&["keygen", keys.to_str().unwrap()], "http://localhost:8080");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("RSA-3072"), "{out}");
    for line in [
        "signing_key = \"",
        "signing_cert = \"",
        "encryption_key = \"",
        "encryption_cert = \"",
    ] {
        assert!(out.contains(line), "{out}");
    }
    assert!(keys.join("broker-signing.key.pem").exists());
    assert!(keys.join("broker-encryption.cert.pem").exists());
    // A second run never overwrites.
    let (code, again) = chsim(&["keygen", keys.to_str().unwrap()], "http://localhost:8080");
    assert_eq!(code, 1, "{again}");
    assert!(
        again.contains("already exists; keygen never overwrites keys"),
        "{again}"
    );
    // The printed lines configure chsim: off loopback its own keys now pass the demo-key rule
    // (only the built-in parties' demo keys are still refused).
    let lines: Vec<&str> = out.lines().filter(|l| l.contains("= \"")).collect();
    let text = std::fs::read_to_string(dir.join("chsim.toml")).unwrap();
    let start = text.find("signing_key = ").unwrap();
    let end = text[start..].find("\nclock_skew_seconds").unwrap() + start;
    let mut keep = String::new();
    for l in text[start..end].lines() {
        if l.starts_with('#') {
            keep.push_str(l);
            keep.push('\n');
        }
    }
    let replaced = format!(
        "{}{}\n{}{}",
        &text[..start],
        lines.join("\n"),
        keep,
        &text[end..]
    );
    std::fs::write(dir.join("chsim.toml"), replaced).unwrap();
    let (code, out) = chsim(
        &["check-config", "--config", dir.to_str().unwrap()],
        "https://chsim.example.dk",
    );
    assert_eq!(code, 1, "{out}");
    assert!(!out.contains("broker.signing_key"), "{out}");
    assert!(!out.contains("broker.encryption_key"), "{out}");
    assert!(
        out.contains("test_idps.toml: test_idp[0].signing_key"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_builtin_parties_their_addresses_answer_404_saying_why() {
    let mut config = demo_config();
    config.chsim.demo.builtin_parties = false;
    for m in &mut config.municipalities.municipality {
        m.idp.clear();
        m.attribute_service = None;
    }
    config.municipalities.nemlogin = None;
    config.user_systems.user_system.clear();
    let chsim = start(config).await;
    assert!(chsim.state.test_idps.is_empty() && chsim.state.demo_sps.is_empty());
    assert!(chsim.state.demo_oidc.is_none());
    let client = reqwest::Client::new();
    for path in [
        "/test-idp/korsbaek/metadata",
        "/test-idp/korsbaek/sso?SAMLRequest=x",
        "/test-attribute-service/soeby/metadata",
        "/demo-sp/oiosaml3/",
        "/demo-sp/oiosaml3/login",
        "/demo-oidc/",
        "/demo-oidc/login",
        "/demo-oidc/frontchannel-logout?iss=x&sid=y",
        "/runtime/scripted/login?user_system=x&user=karen",
    ] {
        let resp = client
            .get(format!("{}{path}", chsim.base))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 404, "{path}");
        let body = resp.text().await.unwrap();
        assert!(
            body.contains("switched off on this chsim (builtin_parties = false under [demo]"),
            "{path}: {body}"
        );
    }
    let resp = client
        .post(format!("{}/demo-sp/oiosaml3/acs", chsim.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    let md = reqwest::get(format!("{}/runtime/saml2auth/metadata.idp", chsim.base))
        .await
        .unwrap();
    assert_eq!(md.status(), 200);
}

#[test]
fn without_builtin_parties_a_builtin_reference_is_a_configuration_error_naming_the_key() {
    let (_tmp, dir) = demo_copy();
    edit(
        &dir,
        "chsim.toml",
        "builtin_parties = true",
        "builtin_parties = false",
    );
    // Their files may go.
    std::fs::remove_file(dir.join("test_idps.toml")).unwrap();
    std::fs::remove_file(dir.join("demo_sps.toml")).unwrap();
    let (code, out) = chsim(
        &["check-config", "--config", dir.to_str().unwrap()],
        "http://localhost:8080",
    );
    assert_eq!(code, 1, "{out}");
    for key in [
        "municipalities.toml: municipality[0].idp[0].metadata: `builtin:test-idp/korsbaek` names a built-in party, but built-in parties are switched off",
        "municipalities.toml: municipality[2].attribute_service: `builtin:attribute-service/soeby` names a built-in party",
        "municipalities.toml: nemlogin.metadata: `builtin:test-idp/nemlogin` names a built-in party",
        "user_systems.toml: user_system[0].metadata: `builtin:demo-sp/oiosaml3` names a built-in party",
    ] {
        assert!(out.contains(key), "{key}\n{out}");
    }
    assert!(!out.contains("test_idps.toml"), "{out}");
}

/// Writes an SP metadata file for an outside user system into `dir`.
fn outside_sp_metadata(dir: &Path, file: &str, entity_id: &str) {
    let xml = metadata::build_signed(
        entity_id,
        &RoleSpec::Sp {
            acs: vec![Endpoint::new(bindings::POST, format!("{entity_id}/acs"))],
            slo: vec![Endpoint::new(
                bindings::REDIRECT,
                format!("{entity_id}/slo"),
            )],
            authn_requests_signed: true,
            want_assertions_signed: true,
        },
        &key("demo-sp-oiosaml2"),
        None,
    )
    .unwrap();
    std::fs::write(dir.join(file), xml).unwrap();
}

#[test]
fn check_config_warns_when_builtin_idps_are_trusted_beside_an_outside_user_system() {
    let (_tmp, dir) = demo_copy();
    let (code, out) = chsim(
        &["check-config", "--config", dir.to_str().unwrap()],
        "http://localhost:8080",
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        !out.contains("warning"),
        "the pure demo warns of nothing: {out}"
    );
    outside_sp_metadata(&dir, "outside-sp.xml", "https://fagsystem.example.dk");
    append(
        &dir,
        "user_systems.toml",
        "\n[[user_system]]\nname = \"Real system\"\nmetadata = \"outside-sp.xml\"\nprofile = \"OIOSAML3\"\nnsis_level = \"Substantial\"\n",
    );
    let (code, out) = chsim(
        &["check-config", "--config", dir.to_str().unwrap()],
        "http://localhost:8080",
    );
    assert_eq!(code, 0, "a warning is not an error: {out}");
    assert!(out.contains("is valid, with 4 warnings:"), "{out}");
    assert!(
        out.contains("warning: municipalities.toml: municipality[0].idp[0].metadata: the built-in test IdP `builtin:test-idp/korsbaek` is trusted beside user systems that are not built-in (`Real system` (user_system[2]))"),
        "{out}"
    );
    assert!(
        out.contains("warning: municipalities.toml: nemlogin.metadata: the simulated NemLog-in `builtin:test-idp/nemlogin` is trusted beside user systems that are not built-in"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_over_plain_http_without_a_signing_certificate_is_a_configuration_error() {
    let mut config = demo_config();
    config.municipalities.municipality[2].attribute_service =
        Some("http://127.0.0.1:9/metadata".into());
    config.chsim.server.public_url = "http://localhost:8080".into();
    let report = chsim::app::build(&config, std::sync::Arc::new(chsim::clock::SystemClock))
        .await
        .unwrap_err();
    let text = report.to_string();
    assert!(
        text.contains("municipalities.toml: municipality[2].attribute_service: `http://127.0.0.1:9/metadata` is plain http without a signature check"),
        "{text}"
    );
    assert!(
        text.contains(
            "use an https URL, or set municipality[2].attribute_service_metadata_signing_cert"
        ),
        "{text}"
    );
}

/// Serves `xml` at `http://127.0.0.1:<port>/metadata`.
async fn serve_metadata(xml: String) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/metadata",
        listener.local_addr().unwrap().port()
    );
    let app = axum::Router::new().route("/metadata", get(move || async move { xml }));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metadata_over_http_is_trusted_only_with_a_valid_signature_by_the_configured_certificate() {
    let signer = key("test-attribute-service-soeby");
    let xml = metadata::build_signed(
        "https://as.example.dk",
        &RoleSpec::AttributeAuthority {
            services: vec![Endpoint::new(bindings::SOAP, "https://as.example.dk/soap")],
        },
        &signer,
        None,
    )
    .unwrap();
    let url = serve_metadata(xml.clone()).await;
    let clock = std::sync::Arc::new(chsim::clock::SystemClock);
    let with_cert = |cert: &str| {
        let mut config = demo_config();
        config.municipalities.municipality[2].attribute_service = Some(url.clone());
        config.municipalities.municipality[2].attribute_service_metadata_signing_cert =
            Some(cert.into());
        config
    };
    // Signed by the configured certificate: trusted.
    let state = chsim::app::build(
        &with_cert("../keys/test-attribute-service-soeby.cert.pem"),
        clock.clone(),
    )
    .await
    .unwrap();
    assert_eq!(
        state.broker.trust().attribute_services[&chsim::ids::Cvr::parse("44444444").unwrap()]
            .entity_id
            .as_str(),
        "https://as.example.dk"
    );
    // Signed, but by another key than the configured one: refused.
    let report = chsim::app::build(
        &with_cert("../keys/demo-sp-oiosaml2.cert.pem"),
        clock.clone(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(
        report.contains(&format!("municipality[2].attribute_service: the metadata from `{url}` is not signed by `../keys/demo-sp-oiosaml2.cert.pem` (municipality[2].attribute_service_metadata_signing_cert)")),
        "{report}"
    );
    // Altered after signing: refused.
    let tampered =
        serve_metadata(xml.replace("https://as.example.dk/soap", "https://evil.example/soap"))
            .await;
    let mut config = with_cert("../keys/test-attribute-service-soeby.cert.pem");
    config.municipalities.municipality[2].attribute_service = Some(tampered.clone());
    let report = chsim::app::build(&config, clock)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        report.contains(&format!("the metadata from `{tampered}` is not signed by")),
        "{report}"
    );
}

/// IdP metadata for `entity_id`, signed with `signer`, without its XML declaration.
fn idp_entity(entity_id: &str, signer: &Credential) -> String {
    let xml = metadata::build_signed(
        entity_id,
        &RoleSpec::Idp {
            sso: vec![Endpoint::new(
                bindings::REDIRECT,
                format!("{entity_id}/sso"),
            )],
            slo: vec![Endpoint::new(
                bindings::REDIRECT,
                format!("{entity_id}/slo"),
            )],
            want_authn_requests_signed: true,
        },
        signer,
        None,
    )
    .unwrap();
    response::strip_declaration(&xml).to_string()
}

#[test]
fn an_aggregate_is_searched_for_the_configured_entity_id_and_several_without_one_are_refused() {
    let (_tmp, dir) = demo_copy();
    let aggregate = format!(
        r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{}{}</md:EntitiesDescriptor>"#,
        idp_entity("https://first.example.dk", &key("test-idp-soeby")),
        idp_entity("https://bakkeby-real.example.dk", &key("test-idp-bakkeby")),
    );
    std::fs::write(dir.join("federation.xml"), aggregate).unwrap();
    edit(
        &dir,
        "municipalities.toml",
        "metadata = \"builtin:test-idp/bakkeby\"",
        "metadata = \"federation.xml\"",
    );
    let (code, out) = chsim(
        &["check-config", "--config", dir.to_str().unwrap()],
        "http://localhost:8080",
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("municipalities.toml: municipality[1].idp[0].metadata: `federation.xml`")
            && out.contains("it is an aggregate (md:EntitiesDescriptor) of 2 entities (https://first.example.dk, https://bakkeby-real.example.dk)")
            && out.contains("set municipality[1].idp[0].entity_id to the entityID of the party you mean"),
        "{out}"
    );
    edit(
        &dir,
        "municipalities.toml",
        "metadata = \"federation.xml\"",
        "metadata = \"federation.xml\"\nentity_id = \"https://nobody.example.dk\"",
    );
    let (code, out) = chsim(
        &["check-config", "--config", dir.to_str().unwrap()],
        "http://localhost:8080",
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("there is no entity `https://nobody.example.dk` in it (it has 2: https://first.example.dk, https://bakkeby-real.example.dk)"),
        "{out}"
    );
    edit(
        &dir,
        "municipalities.toml",
        "entity_id = \"https://nobody.example.dk\"",
        "entity_id = \"https://bakkeby-real.example.dk\"",
    );
    let (code, out) = chsim(
        &["check-config", "--config", dir.to_str().unwrap()],
        "http://localhost:8080",
    );
    assert_eq!(code, 0, "{out}");
}
