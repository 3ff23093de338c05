//! Issue #8 §5 end to end: identity fields mean one thing. Each test starts a real login over
//! loopback HTTP, answers it with an IdP Response forged with that test IdP's real key, POSTs it
//! to chsim's `consume.idp` like a browser would, and checks the refusal on the person's page and
//! the signed status the user system receives (verified with chsim's metadata certificate).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use base64::Engine as _;
use chsim::saml::oiosaml::{oiosaml2, oiosaml3, FORMAT_BASIC, FORMAT_URI};
use chsim::saml::response::{self, NewAssertion, NewAttribute, NewResponse, SignedElement, Status};
use chsim::saml::{binding, signing, status, xml};
use common::idp::*;
use common::*;

const SAMLP: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

/// What chsim answered to a refused IdP Response.
struct Refusal {
    /// HTTP status of the person's page.
    http: u16,
    /// The page's text, HTML entities decoded.
    page: String,
    /// The page as sent.
    raw_page: String,
    /// The status in the signed Response for the user system.
    to_user_system: Status,
}

impl Setup {
    /// Signs with the test IdP's real key and POSTs to `consume.idp`.
    async fn send(
        &self,
        idp: &str,
        r: &NewResponse,
        a: Option<&NewAssertion>,
    ) -> reqwest::Response {
        let signed_element = if a.is_some() {
            SignedElement::Assertion
        } else {
            SignedElement::Response
        };
        let xml = response::build(r, a, self.idp(idp).credential(), signed_element, None).unwrap();
        self.browser
            .client
            .post(format!("{}/runtime/saml2auth/consume.idp", self.chsim.base))
            .form(&[("SAMLResponse", binding::encode_post(&xml))])
            .send()
            .await
            .unwrap()
    }

    /// Sends and expects a refusal.
    async fn refused(&self, idp: &str, r: &NewResponse, a: Option<&NewAssertion>) -> Refusal {
        let resp = self.send(idp, r, a).await;
        let http = resp.status().as_u16();
        let raw_page = resp.text().await.unwrap();
        let (_, fields) = forms(&raw_page)
            .into_iter()
            .find(|(action, _)| action.ends_with("/acs"))
            .unwrap_or_else(|| panic!("no way back to the user system on:\n{raw_page}"));
        let value = &fields.iter().find(|(k, _)| k == "SAMLResponse").unwrap().1;
        let to_sp = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(value)
                .unwrap(),
        )
        .unwrap();
        Refusal {
            http,
            page: unescape(&raw_page),
            raw_page,
            to_user_system: self.verified_status(&to_sp).await,
        }
    }

    /// The status of a Response chsim signed, verified with its published certificate.
    async fn verified_status(&self, response_xml: &str) -> Status {
        let certs = chsim_signing_certs(&self.chsim).await;
        let verified =
            signing::verify_and_reduce(response_xml, &certs, Default::default()).unwrap();
        let doc = xml::parse(&verified).unwrap();
        let codes: Vec<String> = doc
            .descendants()
            .filter(|n| xml::is(n, SAMLP, "StatusCode"))
            .map(|n| n.attribute("Value").unwrap().to_string())
            .collect();
        Status {
            code: codes[0].clone(),
            sub_code: codes.get(1).cloned(),
            message: doc
                .descendants()
                .find(|n| xml::is(n, SAMLP, "StatusMessage"))
                .map(|n| xml::text_of(&n)),
        }
    }
}

fn attribute(name: &str, format: &str, values: &[&str]) -> NewAttribute {
    NewAttribute {
        name: name.into(),
        name_format: format.into(),
        friendly_name: None,
        values: values.iter().map(|v| (*v).to_string()).collect(),
    }
}

fn set_attribute(a: &mut NewAssertion, name: &str, values: &[&str]) {
    let at = a.attributes.iter().position(|x| x.name == name).unwrap();
    a.attributes[at].values = values.iter().map(|v| (*v).to_string()).collect();
}

fn authn_failed(refusal: &Refusal) {
    assert_eq!(refusal.http, 403, "{}", refusal.page);
    assert_eq!(refusal.to_user_system.code, status::RESPONDER);
    assert_eq!(
        refusal.to_user_system.sub_code.as_deref(),
        Some(status::AUTHN_FAILED)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_name_id_is_read_as_rfc4514_so_a_hidden_or_second_organisation_never_counts() {
    let s = setup().await;
    // Bakkeby (CVR 22222222). An escaped comma keeps `O=11111111` inside the CN: accepted, for
    // Bakkeby, and passed on exactly as sent; KOMBIT's spaced form is accepted too.
    for name_id in [
        r"C=DK,O=22222222,CN=Eve\,O=11111111,Serial=9c1d2f3e-0000-4000-8000-22222222b001",
        "C = DK, O = 22222222, CN = Bent Bakkeby, Serial = 9c1d2f3e-0000-4000-8000-22222222b001",
    ] {
        let req = s.pending_at("oiosaml2", "bakkeby").await;
        let (r, mut a) = s.parts_as("bakkeby", "bent", &req);
        a.name_id = name_id.into();
        let resp = s.send("bakkeby", &r, Some(&a)).await;
        let done = s.browser.follow(resp, vec![]).await;
        let token = issued_assertion(&s.chsim, &done, "oiosaml2").await;
        assert!(
            token.contains(&format!(">{name_id}</saml:NameID>")),
            "{token}"
        );
        assert_eq!(
            attribute_values(&token, oiosaml2::CVR),
            Some(vec!["22222222".to_string()])
        );
    }
    // A second O= is refused, naming both values.
    let req = s.pending_at("oiosaml2", "bakkeby").await;
    let (r, mut a) = s.parts_as("bakkeby", "bent", &req);
    a.name_id = "C=DK,O=22222222,CN=Eve,O=11111111,Serial=x".into();
    let refusal = s.refused("bakkeby", &r, Some(&a)).await;
    authn_failed(&refusal);
    assert!(
        refusal.page.contains(
            "cannot be read: the NameID gives O twice (`22222222` and `11111111`); each of C, O, CN and Serial may appear once"
        ),
        "{}",
        refusal.page
    );
    // A multi-valued RDN and an unknown type are refused with their own errors.
    for (name_id, says) in [
        (
            "C=DK,O=22222222+CN=Eve,Serial=x",
            "the value of O has an unescaped `+` at character 16",
        ),
        (
            "C=DK,O=22222222,OU=11111111,CN=Eve,Serial=x",
            "names the attribute type `OU` at character 17; only C, O, CN and Serial are allowed",
        ),
    ] {
        let req = s.pending_at("oiosaml2", "bakkeby").await;
        let (r, mut a) = s.parts_as("bakkeby", "bent", &req);
        a.name_id = name_id.into();
        let refusal = s.refused("bakkeby", &r, Some(&a)).await;
        authn_failed(&refusal);
        assert!(refusal.page.contains(says), "{says}\n{}", refusal.page);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_name_ids_organisation_the_cvr_attribute_and_the_municipality_must_agree() {
    let s = setup().await;
    // Bakkeby's IdP vouches for a Korsbæk person in the NameID while its CVR attribute says
    // Bakkeby: today's forgery of another municipality's person.
    let req = s.pending_at("oiosaml2", "bakkeby").await;
    let (r, mut a) = s.parts_as("bakkeby", "bent", &req);
    a.name_id = "C=DK,O=11111111,CN=Karen Sagsbehandler,Serial=4b7b2e0a".into();
    let refusal = s.refused("bakkeby", &r, Some(&a)).await;
    authn_failed(&refusal);
    assert!(
        refusal.page.contains(&format!(
            "names two municipalities: the NameID's O= says CVR 11111111, the attribute `{}` says CVR 22222222; they must agree",
            oiosaml2::CVR
        )),
        "{}",
        refusal.page
    );
    // Both agree, on another municipality: refused, naming the source and the IdP's CVR.
    let req = s.pending_at("oiosaml2", "bakkeby").await;
    let (r, mut a) = s.parts_as("bakkeby", "bent", &req);
    a.name_id = "C=DK,O=11111111,CN=Karen Sagsbehandler,Serial=4b7b2e0a".into();
    set_attribute(&mut a, oiosaml2::CVR, &["11111111"]);
    let refusal = s.refused("bakkeby", &r, Some(&a)).await;
    authn_failed(&refusal);
    assert!(
        refusal.page.contains(
            "serves Bakkeby Kommune (CVR 22222222), but the NameID's O= names a person with CVR 11111111"
        ),
        "{}",
        refusal.page
    );
    // The OIOSAML3 CVR attribute counts too, beside the OIOSAML2 one.
    let req = s.pending_at("oiosaml2", "bakkeby").await;
    let (r, mut a) = s.parts_as("bakkeby", "bent", &req);
    a.attributes
        .push(attribute(oiosaml3::CVR, FORMAT_URI, &["11111111"]));
    let refusal = s.refused("bakkeby", &r, Some(&a)).await;
    authn_failed(&refusal);
    assert!(
        refusal.page.contains(&format!(
            "the attribute `{}` says CVR 11111111",
            oiosaml3::CVR
        )),
        "{}",
        refusal.page
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_multi_valued_cvr_or_level_and_a_malformed_cvr_are_refused_with_what_was_sent() {
    let s = setup().await;
    // Two CVR values.
    let req = s.pending_at("oiosaml2", "bakkeby").await;
    let (r, mut a) = s.parts_as("bakkeby", "bent", &req);
    set_attribute(&mut a, oiosaml2::CVR, &["22222222", "11111111"]);
    let refusal = s.refused("bakkeby", &r, Some(&a)).await;
    authn_failed(&refusal);
    assert!(
        refusal.page.contains(&format!(
            "gives the attribute `{}` in 1 Attribute element(s) with 2 values (`22222222`, `11111111`); chsim accepts exactly one value in one Attribute element",
            oiosaml2::CVR
        )),
        "{}",
        refusal.page
    );
    // Two AssuranceLevel Attribute elements, one value each.
    let req = s.pending_at("oiosaml2", "bakkeby").await;
    let (r, mut a) = s.parts_as("bakkeby", "bent", &req);
    a.attributes
        .push(attribute(oiosaml2::ASSURANCE_LEVEL, FORMAT_BASIC, &["4"]));
    let refusal = s.refused("bakkeby", &r, Some(&a)).await;
    authn_failed(&refusal);
    assert!(
        refusal.page.contains(&format!(
            "gives the attribute `{}` in 2 Attribute element(s) with 2 values (`3`, `4`)",
            oiosaml2::ASSURANCE_LEVEL
        )),
        "{}",
        refusal.page
    );
    // Two NSIS levels (OIOSAML3, Korsbæk).
    let req = s.pending_at("oiosaml3", "korsbaek").await;
    let (r, mut a) = s.parts_as("korsbaek", "karen", &req);
    set_attribute(&mut a, oiosaml3::LOA, &["Substantial", "High"]);
    let refusal = s.refused("korsbaek", &r, Some(&a)).await;
    authn_failed(&refusal);
    assert!(
        refusal.page.contains(&format!(
            "gives the attribute `{}` in 1 Attribute element(s) with 2 values (`Substantial`, `High`)",
            oiosaml3::LOA
        )),
        "{}",
        refusal.page
    );
    // A CVR with a country prefix is malformed, not missing.
    let req = s.pending_at("oiosaml2", "bakkeby").await;
    let (r, mut a) = s.parts_as("bakkeby", "bent", &req);
    set_attribute(&mut a, oiosaml2::CVR, &["DK22222222"]);
    let refusal = s.refused("bakkeby", &r, Some(&a)).await;
    authn_failed(&refusal);
    assert!(
        refusal.page.contains(&format!(
            "the attribute `{}` from `{}` is `DK22222222`, which is not a CVR number: expected 8 digits",
            oiosaml2::CVR,
            s.idp("bakkeby").entity_id()
        )),
        "{}",
        refusal.page
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idp_that_knows_no_roles_supplies_no_parametric_values_either() {
    // Søby's IdP knows no roles; its attribute service answers Sara's job role and her KLE
    // number 32.01, which fagsystem A takes as a parametric value.
    const PARAMETRIC: &str = "http://soeby.dk/constraints/KLE/1/parametric";
    let mut config = demo_config();
    let system = config
        .user_systems
        .user_system
        .iter_mut()
        .find(|u| u.metadata == "builtin:demo-sp/oiosaml3")
        .unwrap();
    let mapping = system
        .mapping
        .iter_mut()
        .find(|m| m.job_role == "http://soeby.dk/roles/jobrole/sagsbehandler/1")
        .unwrap();
    mapping.constraints[0].values.clear();
    mapping.constraints[0].parametric = Some(PARAMETRIC.into());
    let soeby = config
        .test_idps
        .test_idp
        .iter_mut()
        .find(|i| i.id == "soeby")
        .unwrap();
    soeby.user[0]
        .attribute
        .push(chsim::config::TestAttributeConfig {
            name: PARAMETRIC.into(),
            values: vec!["32.01".into()],
        });
    let s = setup_with(config).await;
    // The IdP's own answer claims a wider KLE area.
    let req = s.pending_at("oiosaml3", "soeby").await;
    let (r, mut a) = s.parts_as("soeby", "sara", &req);
    set_attribute(&mut a, PARAMETRIC, &["*"]);
    let resp = s.send("soeby", &r, Some(&a)).await;
    let done = s.browser.follow(resp, vec![]).await;
    let token = issued_assertion(&s.chsim, &done, "oiosaml3").await;
    let privileges = attribute_values(&token, oiosaml3::PRIVILEGES).unwrap();
    let list = chsim::privileges::parse(&privileges[0]).unwrap();
    assert_eq!(list.groups.len(), 1, "{list:?}");
    let values: Vec<&str> = list.groups[0].constraints[0]
        .values
        .iter()
        .map(|v| v.as_ref())
        .collect();
    assert_eq!(
        values,
        ["32.01"],
        "only the attribute service's value counts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idps_refusal_reaches_the_user_system_as_a_fixed_status_with_chsims_own_message() {
    let s = setup().await;
    let hostile = "<script>alert('x')</script> Your account is locked: call +45 1234 5678";
    // A standard pair is passed on; the IdP's text is not.
    let req = s.pending_at("oiosaml2", "bakkeby").await;
    let (mut r, _) = s.parts_as("bakkeby", "bent", &req);
    r.status = Status {
        code: status::REQUESTER.into(),
        sub_code: Some(status::NO_AUTHN_CONTEXT.into()),
        message: Some(hostile.into()),
    };
    let refusal = s.refused("bakkeby", &r, None).await;
    assert_eq!(refusal.http, 403);
    let idp = s.idp("bakkeby").entity_id().to_string();
    assert_eq!(
        refusal.to_user_system,
        Status {
            code: status::REQUESTER.into(),
            sub_code: Some(status::NO_AUTHN_CONTEXT.into()),
            message: Some(format!(
                "the identity provider `{idp}` did not authenticate the person (status Requester / NoAuthnContext)"
            )),
        }
    );
    // The person's page shows the IdP's text only escaped.
    assert!(
        !refusal.raw_page.contains("<script>alert"),
        "{}",
        refusal.raw_page
    );
    // An invented code becomes Responder/AuthnFailed.
    let req = s.pending_at("oiosaml2", "bakkeby").await;
    let (mut r, _) = s.parts_as("bakkeby", "bent", &req);
    r.status = Status {
        code: "urn:example:status:Teapot".into(),
        sub_code: Some("urn:example:status:PasswordExpired".into()),
        message: Some(hostile.into()),
    };
    let refusal = s.refused("bakkeby", &r, None).await;
    authn_failed(&refusal);
    assert!(
        refusal.to_user_system.message.as_deref().is_some_and(
            |m| !m.contains("locked") && m.contains("(status Responder / AuthnFailed)")
        ),
        "{:?}",
        refusal.to_user_system
    );
    assert!(
        !refusal.raw_page.contains("<script>alert"),
        "{}",
        refusal.raw_page
    );
}
