use super::*;
use crate::assurance::{NistLevel, NsisLevel};
use crate::ids::{Cvr, EntityId};
use chrono::TimeZone;
use jsonwebtoken::jwk::JwkSet;
use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509NameBuilder, X509};

pub(in crate::token) const ISS: &str = "https://chsim.example.dk/runtime/oauth2";

/// A freshly generated RSA key with a self-signed certificate.
pub(in crate::token) fn fresh_credential() -> Credential {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "chsim jwt test").unwrap();
    let name = name.build();
    let mut cert = X509::builder().unwrap();
    cert.set_version(2).unwrap();
    cert.set_subject_name(&name).unwrap();
    cert.set_issuer_name(&name).unwrap();
    cert.set_pubkey(&key).unwrap();
    cert.set_not_before(&Asn1Time::days_from_now(0).unwrap())
        .unwrap();
    cert.set_not_after(&Asn1Time::days_from_now(1).unwrap())
        .unwrap();
    cert.sign(&key, MessageDigest::sha256()).unwrap();
    let cert = cert.build();
    Credential::from_pem(
        &key.private_key_to_pem_pkcs8().unwrap(),
        &cert.to_pem().unwrap(),
    )
    .unwrap()
}

/// A signer for [`ISS`] with a fresh key.
pub(in crate::token) fn signer() -> JwtSigner {
    JwtSigner::new(ISS.to_string(), &fresh_credential()).unwrap()
}

fn t(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_760_000_000 + secs, 0).unwrap()
}

fn identity() -> Identity {
    Identity {
        name_id: "C=DK,O=Bakkeby Kommune,CN=Anna Jensen,Serial=1234".into(),
        idp: EntityId::new("https://idp.bakkeby.dk"),
        cvr: Cvr::parse("29189846").unwrap(),
        org_name: Some("Bakkeby Kommune".into()),
        email: Some("anna@bakkeby.dk".into()),
        privileges: Some("PD94bWwg".into()),
        nist_level: Some(NistLevel::THREE),
        nsis_level: Some(NsisLevel::Substantial),
        authn_instant: t(-10),
    }
}

#[test]
fn each_algorithm_signs_a_token_that_verifies_against_the_published_jwk() {
    let s = signer();
    let set: JwkSet = serde_json::from_value(s.jwks().clone()).unwrap();
    assert_eq!(set.keys.len(), 3);
    for alg in SigningAlg::ALL {
        let token = s
            .sign(alg, None, &json!({"iss": ISS, "exp": t(60).timestamp()}))
            .unwrap();
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.alg, algorithm(alg));
        assert_eq!(header.typ.as_deref(), Some("JWT"));
        let kid = header.kid.unwrap();
        assert!(kid.ends_with(&format!("-{}", alg.as_str())));
        let jwk = set.find(&kid).unwrap();
        assert_eq!(
            jwk.common.key_algorithm.map(|a| format!("{a:?}")),
            Some(alg.as_str().to_string())
        );
        let mut v = Validation::new(algorithm(alg));
        v.validate_exp = false;
        v.set_issuer(&[ISS]);
        let data = jsonwebtoken::decode::<Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
            .unwrap();
        assert_eq!(data.claims["iss"], ISS);
    }
}

#[test]
fn a_token_signed_by_another_key_does_not_verify_against_the_published_jwk() {
    let (a, b) = (signer(), signer());
    let token = a
        .sign(
            SigningAlg::PS256,
            None,
            &json!({"iss": ISS, "exp": t(60).timestamp()}),
        )
        .unwrap();
    let err = b.verify(&token, "JWT", t(0)).unwrap_err();
    assert!(matches!(err, TokenError::JwtInvalid(_)), "{err}");
}

#[test]
fn the_jwks_publishes_sig_keys_named_by_their_rfc_7638_thumbprint() {
    let s = signer();
    let keys = s.jwks()["keys"].as_array().unwrap();
    for (key, alg) in keys.iter().zip(SigningAlg::ALL) {
        assert_eq!(key["kty"], "RSA");
        assert_eq!(key["use"], "sig");
        assert_eq!(key["alg"], alg.as_str());
        assert!(key.get("d").is_none(), "no private parts");
        // RFC 7638 §3: SHA-256 over {"e","kty","n"} in that order, no whitespace.
        let canonical = format!(
            r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
            key["e"].as_str().unwrap(),
            key["n"].as_str().unwrap()
        );
        let thumbprint = URL_SAFE_NO_PAD.encode(openssl::sha::sha256(canonical.as_bytes()));
        assert_eq!(key["kid"], format!("{thumbprint}-{}", alg.as_str()));
    }
}

#[test]
fn the_thumbprint_matches_the_rfc_7638_example() {
    let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    assert_eq!(
        rsa_thumbprint(n, "AQAB").unwrap(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
}

#[test]
fn verify_returns_the_claims_of_chsims_own_token() {
    let s = signer();
    let token = s
        .sign(
            SigningAlg::PS384,
            Some(ACCESS_TOKEN_TYP),
            &json!({"iss": ISS, "exp": t(60).timestamp(), "sub": "anna"}),
        )
        .unwrap();
    let claims = s.verify(&token, ACCESS_TOKEN_TYP, t(59)).unwrap();
    assert_eq!(claims["sub"], "anna");
}

#[test]
fn verify_refuses_an_expired_token_by_the_injected_clock() {
    let s = signer();
    let token = s
        .sign(
            SigningAlg::PS256,
            None,
            &json!({"iss": ISS, "exp": t(60).timestamp()}),
        )
        .unwrap();
    // Long expired by the wall clock, valid by the injected one (no wall clock involved)…
    assert!(s.verify(&token, "JWT", t(0)).is_ok());
    // …and expired once the injected clock reaches exp.
    let err = s.verify(&token, "JWT", t(60)).unwrap_err();
    assert!(
        matches!(err, TokenError::JwtExpired { exp, now } if exp == t(60).timestamp() && now == exp),
        "{err}"
    );
}

#[test]
fn verify_refuses_a_wrong_typ_issuer_or_missing_exp() {
    let s = signer();
    let at = s
        .sign(
            SigningAlg::PS256,
            Some(ACCESS_TOKEN_TYP),
            &json!({"iss": ISS, "exp": t(60).timestamp()}),
        )
        .unwrap();
    assert!(matches!(
        s.verify(&at, LOGOUT_TOKEN_TYP, t(0)),
        Err(TokenError::JwtInvalid(_))
    ));
    let other_iss = s
        .sign(
            SigningAlg::PS256,
            None,
            &json!({"iss": "https://evil", "exp": t(60).timestamp()}),
        )
        .unwrap();
    assert!(matches!(
        s.verify(&other_iss, "JWT", t(0)),
        Err(TokenError::JwtInvalid(_))
    ));
    let no_exp = s
        .sign(SigningAlg::PS256, None, &json!({"iss": ISS}))
        .unwrap();
    assert!(matches!(
        s.verify(&no_exp, "JWT", t(0)),
        Err(TokenError::JwtInvalid(_))
    ));
}

#[test]
fn verify_refuses_a_tampered_payload() {
    let s = signer();
    let token = s
        .sign(
            SigningAlg::PS256,
            None,
            &json!({"iss": ISS, "exp": t(60).timestamp(), "sub": "anna"}),
        )
        .unwrap();
    let parts: Vec<&str> = token.split('.').collect();
    let forged = URL_SAFE_NO_PAD.encode(
        serde_json::to_vec(&json!({"iss": ISS, "exp": t(60).timestamp(), "sub": "admin"})).unwrap(),
    );
    let tampered = format!("{}.{}.{}", parts[0], forged, parts[2]);
    assert!(matches!(
        s.verify(&tampered, "JWT", t(0)),
        Err(TokenError::JwtInvalid(_))
    ));
}

#[test]
fn person_claims_are_the_oiosaml3_attributes_under_their_uris() {
    let claims = person_claims(&identity());
    assert_eq!(
        claims["https://data.gov.dk/model/core/eid/professional/cvr"],
        "29189846"
    );
    assert_eq!(
        claims["https://data.gov.dk/concept/core/nsis/loa"],
        "Substantial"
    );
    assert_eq!(claims["dk:gov:saml:attribute:AssuranceLevel"], "3");
    assert_eq!(
        claims["https://data.gov.dk/model/core/eid/privilegesIntermediate"],
        "PD94bWwg"
    );
    assert_eq!(
        claims["https://data.gov.dk/model/core/specVersion"],
        "OIO-SAML-3.0"
    );
    assert_eq!(claims["dk:gov:saml:attribute:KombitSpecVer"], "2.0");
    for name in claims.keys() {
        assert!(
            CLAIM_TABLE
                .iter()
                .any(|(attr, claim, _)| attr == name && claim == name),
            "{name} is not in CLAIM_TABLE"
        );
    }
    assert_eq!(claims.len(), CLAIM_TABLE.len(), "every table row is used");
}

#[test]
fn acr_is_the_nsis_loa_uri_else_the_nist_class_ref() {
    let mut id = identity();
    assert_eq!(
        acr(&id),
        "https://data.gov.dk/concept/core/nsis/loa/Substantial"
    );
    id.nsis_level = None;
    assert_eq!(acr(&id), "urn:dk:gov:saml:attribute:AssuranceLevel:3");
}

#[test]
fn id_token_claims_carry_the_standard_claims_over_the_persons() {
    let mut person = person_claims(&identity());
    person.insert("iss".into(), json!("https://forged"));
    let who = Subject {
        sub: "anna",
        sid: "kQ3v+x",
        acr: "https://data.gov.dk/concept/core/nsis/loa/Substantial",
        auth_time: t(-10),
        person: &person,
    };
    let c = id_token_claims(
        ISS,
        "https://spa.example.dk",
        &who,
        "n-1",
        t(0),
        t(3600),
        Some("h"),
    );
    assert_eq!(c["iss"], ISS);
    assert_eq!(c["aud"], "https://spa.example.dk");
    assert_eq!(c["nonce"], "n-1");
    assert_eq!(c["auth_time"], t(-10).timestamp());
    assert_eq!(c["exp"], t(3600).timestamp());
    assert_eq!(c["sid"], "kQ3v+x");
    assert_eq!(c["at_hash"], "h");
    assert_eq!(
        c["https://data.gov.dk/model/core/eid/professional/cvr"],
        "29189846"
    );

    let a = access_token_claims(ISS, "c1", &who, "openid", "jti-1", t(0), t(3600));
    assert_eq!(a["client_id"], "c1");
    assert_eq!(a["scope"], "openid");
    assert_eq!(a["jti"], "jti-1");
    assert!(a.get("nonce").is_none());

    let l = logout_token_claims(ISS, "c1", Some("anna"), "kQ3v+x", "jti-2", t(0), t(120));
    assert_eq!(l["events"], json!({BACKCHANNEL_LOGOUT_EVENT: {}}));
    assert_eq!(l["sub"], "anna");
    assert!(l.get("nonce").is_none());
}

#[test]
fn at_hash_is_the_left_half_of_the_algorithms_hash() {
    // OIDC Core A.3's example access token and at_hash (RS256, i.e. SHA-256).
    assert_eq!(
        at_hash(
            SigningAlg::PS256,
            "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
        ),
        "77QmUPtjPfzWtF2AnpK9RQ"
    );
    assert_eq!(at_hash(SigningAlg::PS512, "x").len(), 43);
}

#[test]
fn the_signer_never_prints_its_key() {
    let s = format!("{:?}", signer());
    assert!(s.contains("[redacted]"));
}
