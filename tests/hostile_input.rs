//! Issue #8 §1, §2, §3 and §5 from outside: each test sends a hostile message over real HTTP on
//! loopback to the real router (demo config, real keys, real signatures where a signature is part
//! of the attack) and asserts the specific refusal on the page, that the process still answers
//! afterwards, and — for §2 — that nothing outside the message was fetched or read.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use base64::Engine as _;
use chsim::saml::binding::{self, MessageKind};
use chsim::saml::response::{self, SignedElement, Status};
use chsim::saml::{authn_request, metadata, signing};
use chsim::xml_limits::LimitError;
use common::idp::*;
use common::*;
use openssl::x509::X509;
use std::time::{Duration, Instant};

const DEPTH_LIMIT: LimitError = LimitError::TooDeep { limit: 32 };

impl Setup {
    /// An AuthnRequest ID the OIOSAML2 demo user system is waiting for (its ACS refuses others).
    async fn demo_sp_pending(&self) -> String {
        let browser = Browser {
            stop_at: Some(self.url("/runtime/saml2/issue.idp")),
            ..Browser::new()
        };
        let out = browser.get(&self.url("/demo-sp/oiosaml2/login")).await;
        let carried = out
            .posted_to("/runtime/saml2/issue.idp", "SAMLRequest")
            .unwrap();
        authn_request::parse(&carried.xml).unwrap().id
    }

    /// A Response "from chsim" to the demo user system, signed with chsim's real key.
    fn to_demo_sp(&self, request_id: &str) -> String {
        let broker = self.chsim.state.broker.settings();
        let (mut r, mut a) = self.parts("bakkeby", request_id);
        let acs = self.url("/demo-sp/oiosaml2/acs");
        r.issuer = broker.entity_id.as_str().to_string();
        r.destination = acs.clone();
        a.issuer = broker.entity_id.as_str().to_string();
        a.audience = self.url("/demo-sp/oiosaml2");
        a.recipient = acs;
        response::build(
            &r,
            Some(&a),
            &broker.credential,
            SignedElement::Assertion,
            None,
        )
        .unwrap()
    }
}

/// `<a>` nested `n` deep.
fn nested(n: usize) -> String {
    format!("{}{}", "<a>".repeat(n), "</a>".repeat(n))
}

// ---------------------------------------------------------------------------------------------
// §1 — no input crashes or hangs the process
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tiny_redirect_request_nesting_3100_elements_is_refused_naming_the_depth_limit() {
    let s = setup().await;
    let url = binding::encode_redirect(
        &s.url("/runtime/saml2/issue.idp"),
        MessageKind::Request,
        &nested(3_100),
        None,
        None,
    )
    .unwrap();
    // The attack of the issue: a query of about a hundred bytes that inflates to 22 KB of nesting.
    assert!(url.query().unwrap().len() < 200, "{url}");
    let out = s.browser.get(url.as_str()).await;
    assert_page(
        &out,
        400,
        &format!("the user system's AuthnRequest could not be read: the SAML message was refused before parsing: {DEPTH_LIMIT}"),
    );
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deep_nesting_is_refused_on_every_endpoint_that_takes_a_posted_saml_message() {
    let s = setup().await;
    let deep = nested(3_100);
    let read_before_parsing = format!("the SAML message was refused before parsing: {DEPTH_LIMIT}");
    let out = s
        .post_xml("/runtime/saml2/issue.idp", "SAMLRequest", &deep)
        .await;
    assert_page(
        &out,
        400,
        &format!("the user system's AuthnRequest could not be read: {read_before_parsing}"),
    );
    s.pending("bakkeby").await;
    let out = s
        .post_xml("/runtime/saml2auth/consume.idp", "SAMLResponse", &deep)
        .await;
    assert_page(
        &out,
        400,
        &format!("the identity provider's Response could not be read: {read_before_parsing}"),
    );
    let out = s
        .post_xml("/demo-sp/oiosaml2/acs", "SAMLResponse", &deep)
        .await;
    assert_page(
        &out,
        403,
        &format!("the demo user system could not read chsim's Response: {read_before_parsing}"),
    );
    // The deep part may sit inside a real message too: a Response whose Extensions nest deep.
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let xml = s
        .signed("bakkeby", &r, &a, SignedElement::Assertion)
        .replacen(
            "<samlp:Status>",
            &format!(
                "<samlp:Extensions>{}</samlp:Extensions><samlp:Status>",
                nested(3_100)
            ),
            1,
        );
    let out = s
        .post_xml("/runtime/saml2auth/consume.idp", "SAMLResponse", &xml)
        .await;
    assert_page(
        &out,
        400,
        &format!("the identity provider's Response could not be read: {read_before_parsing}"),
    );
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_privilege_list_nested_20000_deep_is_refused_naming_the_limit_and_no_token_is_issued(
) {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, mut a) = s.parts("bakkeby", &req);
    let list = format!(
        r#"<bpp:PrivilegeList xmlns:bpp="http://itst.dk/oiosaml/basic_privilege_profile">{}</bpp:PrivilegeList>"#,
        nested(20_000)
    );
    a.attributes
        .iter_mut()
        .find(|at| at.name == "dk:gov:saml:attribute:Privileges_intermediate")
        .unwrap()
        .values = vec![base64::engine::general_purpose::STANDARD.encode(list)];
    // Signed with Bakkeby's real key: the IdP itself vouches for the hostile list.
    let out = s
        .post_xml(
            "/runtime/saml2auth/consume.idp",
            "SAMLResponse",
            &s.signed("bakkeby", &r, &a, SignedElement::Assertion),
        )
        .await;
    assert_page(
        &out,
        502,
        &format!("could not be read: the privilege list was refused before parsing: {DEPTH_LIMIT}"),
    );
    // The user system is offered a failure Response, never a token.
    let (action, fields) = forms(&out.body).into_iter().next().unwrap();
    assert!(action.ends_with("/demo-sp/oiosaml2/acs"), "{action}");
    let to_sp = binding::decode_post(&fields[0].1, 1_000_000).unwrap();
    assert!(
        to_sp.contains(chsim::saml::status::RESPONDER) && !to_sp.contains("Assertion"),
        "{to_sp}"
    );
    assert!(out.posted_to("/demo-sp/", "SAMLResponse").is_none());
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_element_with_more_than_64_attributes_is_refused_naming_the_element_and_the_limit() {
    let s = setup().await;
    let attrs: String = (0..65).map(|i| format!(r#" a{i}="x""#)).collect();
    let request = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"{attrs}/>"#
    );
    let out = s
        .post_xml("/runtime/saml2/issue.idp", "SAMLRequest", &request)
        .await;
    let limit = LimitError::TooManyAttributes {
        element: "samlp:AuthnRequest".into(),
        limit: 64,
    };
    assert_page(&out, 400, &format!("refused before parsing: {limit}"));
    let response =
        format!(r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"{attrs}/>"#);
    let out = s
        .post_xml("/runtime/saml2auth/consume.idp", "SAMLResponse", &response)
        .await;
    let limit = LimitError::TooManyAttributes {
        element: "samlp:Response".into(),
        limit: 64,
    };
    assert_page(&out, 400, &format!("refused before parsing: {limit}"));
    // 20,001 sibling elements: bounded in number as well as in depth.
    let many = format!("<a>{}</a>", "<b/>".repeat(20_001));
    let out = s
        .post_xml("/runtime/saml2auth/consume.idp", "SAMLResponse", &many)
        .await;
    let limit = LimitError::TooManyElements { limit: 20_000 };
    assert_page(&out, 400, &format!("refused before parsing: {limit}"));
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_with_a_dtd_is_refused_before_any_entity_is_expanded() {
    let s = setup().await;
    let laughs = r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&lol3;</samlp:AuthnRequest>"#;
    let refused = format!("refused before parsing: {}", LimitError::Dtd);
    let out = s
        .post_xml("/runtime/saml2/issue.idp", "SAMLRequest", laughs)
        .await;
    assert_page(&out, 400, &refused);
    let out = s
        .post_xml("/runtime/saml2auth/consume.idp", "SAMLResponse", laughs)
        .await;
    assert_page(&out, 400, &refused);
    // An external entity in a signed Response: refused before libxml could resolve it.
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let xxe = format!(
        r#"<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>{}"#,
        response::strip_declaration(&s.signed("bakkeby", &r, &a, SignedElement::Assertion))
    );
    let out = s
        .post_xml("/runtime/saml2auth/consume.idp", "SAMLResponse", &xxe)
        .await;
    assert_page(&out, 400, &refused);
    assert!(!out.body.contains("root:"), "{}", out.body);
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_login_completes_while_twenty_hostile_messages_are_checked() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    // Badly signed (the signed content altered) — the verification really runs — and deep ones.
    let bad_signature = s
        .signed("bakkeby", &r, &a, SignedElement::Assertion)
        .replace("Bent Bakkeby", "Eve Attacker");
    let deep = nested(3_100);
    let mut attacks = Vec::new();
    for i in 0..20 {
        let xml = if i % 2 == 0 {
            bad_signature.clone()
        } else {
            deep.clone()
        };
        let client = reqwest::Client::new();
        let url = s.url("/runtime/saml2auth/consume.idp");
        attacks.push(tokio::spawn(async move {
            let resp = client
                .post(url)
                .form(&[("SAMLResponse", binding::encode_post(&xml))])
                .send()
                .await
                .unwrap();
            (i, resp.status().as_u16(), resp.text().await.unwrap())
        }));
    }
    let login = tokio::time::timeout(
        Duration::from_secs(30),
        login_as(&s.chsim, &Browser::new(), "oiosaml3", "korsbaek", "karen"),
    )
    .await
    .expect("a normal login completes during the flood");
    assert!(login.body.contains("Logged in."), "{}", login.body);
    for attack in attacks {
        let (i, status, body) = attack.await.unwrap();
        if i % 2 == 0 {
            assert_eq!(status, 403, "{body}");
            assert!(body.contains("signature check failed"), "{body}");
        } else {
            assert_eq!(status, 400, "{body}");
            assert!(body.contains(&on_page(&DEPTH_LIMIT.to_string())), "{body}");
        }
    }
    // The badly signed answers did not end the pending login: the genuine one still logs in.
    let out = s
        .post_xml(
            "/runtime/saml2auth/consume.idp",
            "SAMLResponse",
            &s.signed("bakkeby", &r, &a, SignedElement::Assertion),
        )
        .await;
    assert!(out.body.contains("Logged in."), "{}", out.body);
}

// ---------------------------------------------------------------------------------------------
// §2 — verifying a signature never dereferences anything outside the message
// ---------------------------------------------------------------------------------------------

const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
const XPATH: &str = "http://www.w3.org/TR/1999/REC-xpath-19991116";

/// A named pipe: opening it to read blocks until a writer comes, so a reader is visible.
struct Fifo {
    _dir: tempfile::TempDir,
    path: std::path::PathBuf,
}

impl Fifo {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("probe");
        let made = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(made.success());
        Fifo { _dir: dir, path }
    }
    fn uri(&self) -> String {
        format!("file://{}", self.path.display())
    }
    /// Nobody has the pipe open for reading: a non-blocking open for writing fails with ENXIO.
    fn assert_never_opened(&self) {
        use std::os::unix::fs::OpenOptionsExt as _;
        const O_NONBLOCK: i32 = 0o4000; // Linux
        const ENXIO: i32 = 6;
        let opened = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(O_NONBLOCK)
            .open(&self.path);
        assert_eq!(
            opened.as_ref().map_err(|e| e.raw_os_error()).err(),
            Some(Some(ENXIO)),
            "chsim opened {} to read it",
            self.path.display()
        );
    }
}

/// How an attack changes a document whose signature references `#id`: `(document, id)`.
type Edit = Box<dyn Fn(&str, &str) -> String>;

/// One hostile signature shape: how it changes the document, and the reason chsim must give.
struct Attack {
    name: &'static str,
    apply: Edit,
    reason: Box<dyn Fn(&str) -> String>,
}

fn reference_to(uri: String) -> Attack {
    let reason_uri = uri.clone();
    Attack {
        name: "external reference",
        apply: Box::new(move |doc, id| {
            doc.replacen(&format!(r##"URI="#{id}""##), &format!(r#"URI="{uri}""#), 1)
        }),
        reason: Box::new(move |id| {
            format!("the Reference URI is `{reason_uri}`; it must be `#{id}`, the ID of the signed element")
        }),
    }
}

fn shape_attacks(listener: &Listener, fifo: &Fifo) -> Vec<Attack> {
    let retrieval = listener.url();
    vec![
        reference_to(listener.url()),
        reference_to("file:///etc/passwd".into()),
        reference_to(fifo.uri()),
        reference_to("/dev/zero".into()),
        Attack {
            name: "XPath transform",
            apply: Box::new(|doc, _| {
                doc.replacen(
                    &format!(r#"<ds:Transform Algorithm="{ENVELOPED}"/>"#),
                    &format!(r#"<ds:Transform Algorithm="{XPATH}"><ds:XPath>count(//. | //@* | //namespace::*)</ds:XPath></ds:Transform>"#),
                    1,
                )
            }),
            reason: Box::new(|_| {
                format!("transform `{XPATH}` is not allowed (only enveloped-signature and exclusive c14n, each once)")
            }),
        },
        Attack {
            name: "ds:Object",
            apply: Box::new(|doc, _| {
                doc.replacen(
                    "</ds:Signature>",
                    "<ds:Object><x/></ds:Object></ds:Signature>",
                    1,
                )
            }),
            reason: Box::new(|_| "the signature contains a ds:Object".into()),
        },
        Attack {
            name: "ds:Manifest",
            apply: Box::new(|doc, _| {
                doc.replacen(
                    "</ds:Signature>",
                    r#"<ds:Object><ds:Manifest><ds:Reference URI="file:///etc/passwd"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:Manifest></ds:Object></ds:Signature>"#,
                    1,
                )
            }),
            reason: Box::new(|_| "the document contains a ds:Manifest".into()),
        },
        Attack {
            name: "RetrievalMethod",
            apply: Box::new(move |doc, _| {
                doc.replacen(
                    "<ds:KeyInfo>",
                    &format!(r#"<ds:KeyInfo><ds:RetrievalMethod URI="{retrieval}"/>"#),
                    1,
                )
            }),
            reason: Box::new(|_| "the signature contains a ds:RetrievalMethod".into()),
        },
        Attack {
            name: "two References",
            apply: Box::new(|doc, _| {
                let start = doc.find("<ds:Reference").unwrap();
                let end = doc.find("</ds:Reference>").unwrap() + "</ds:Reference>".len();
                let second = &doc[start..end];
                doc.replacen("</ds:SignedInfo>", &format!("{second}</ds:SignedInfo>"), 1)
            }),
            reason: Box::new(|_| {
                r#"SignedInfo holds ["CanonicalizationMethod", "SignatureMethod", "Reference", "Reference"]; expected CanonicalizationMethod, SignatureMethod and exactly one Reference"#.into()
            }),
        },
        Attack {
            name: "duplicate ID",
            apply: Box::new(|doc, id| {
                // A second element with the signed element's ID, just before the root closes.
                let close = doc.rfind("</").unwrap();
                format!(r#"{}<x ID="{id}"/>{}"#, &doc[..close], &doc[close..])
            }),
            reason: Box::new(|id| format!("the ID `{id}` is used by two elements")),
        },
    ]
}

/// `reason` as chsim words a signature refused for its shape.
fn shape_error(reason: &str) -> String {
    chsim::saml::SamlError::SignatureShape {
        reason: reason.to_string(),
    }
    .to_string()
}

/// Awaits `sent` — `attack` on its way to chsim — and checks the refusal, and that it came at
/// once (a dereferenced FIFO or /dev/zero would block or run until chsim's time limit).
async fn assert_refused(
    attack: &Attack,
    id: &str,
    status: u16,
    prefix: &str,
    sent: impl std::future::Future<Output = Outcome>,
) -> Outcome {
    let started = Instant::now();
    let out = sent.await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{}: took {:?}",
        attack.name,
        started.elapsed()
    );
    assert_page(
        &out,
        status,
        &format!("{prefix}{}", shape_error(&(attack.reason)(id))),
    );
    out
}

/// A user system's POST-binding AuthnRequest carrying a `ds:Signature` template (no valid
/// signature at all) changed by `apply`.
fn request_with_signature(s: &Setup, apply: &dyn Fn(&str, &str) -> String) -> (String, String) {
    let req = authn_request_from(
        &s.chsim,
        &s.url("/demo-sp/oiosaml2"),
        chsim::clock::Clock::now(s.clock.as_ref()),
    );
    let cert = key("demo-sp-oiosaml2").cert_base64();
    let template = signing::template(&req.id, &cert).to_xml();
    let xml = req.to_xml(None).unwrap().replacen(
        "</saml:Issuer>",
        &format!("</saml:Issuer>{template}"),
        1,
    );
    assert!(xml.contains("<ds:Signature"), "{xml}");
    (apply(&xml, &req.id), req.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unsigned_post_request_with_a_hostile_signature_shape_is_refused_before_anything_is_fetched(
) {
    let s = setup().await;
    let (listener, fifo) = (Listener::new(), Fifo::new());
    let issuer = s.url("/demo-sp/oiosaml2");
    for attack in shape_attacks(&listener, &fifo) {
        let (xml, id) = request_with_signature(&s, &*attack.apply);
        let out = assert_refused(
            &attack,
            &id,
            403,
            &format!("the AuthnRequest from `{issuer}` has a bad signature: "),
            s.post_xml("/runtime/saml2/issue.idp", "SAMLRequest", &xml),
        )
        .await;
        assert!(!out.body.contains("root:"), "{}", out.body);
    }
    listener.assert_never_contacted();
    fifo.assert_never_opened();
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_and_a_missing_file_reference_give_the_same_refusal() {
    let s = setup().await;
    let mut pages = Vec::new();
    for uri in ["file:///etc/passwd", "file:///nonexistent"] {
        let attack = reference_to(uri.into());
        let (xml, id) = request_with_signature(&s, &*attack.apply);
        let out = s
            .post_xml("/runtime/saml2/issue.idp", "SAMLRequest", &xml)
            .await;
        assert_page(&out, 403, &shape_error(&(attack.reason)(&id)));
        // Only the URI sent back and the request's own ID may differ.
        pages.push((out.status, out.body.replace(uri, "URI").replace(&id, "ID")));
    }
    assert_eq!(pages[0], pages[1]);
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idp_response_with_a_hostile_signature_shape_is_refused_and_leaves_the_login_pending() {
    let s = setup().await;
    let (listener, fifo) = (Listener::new(), Fifo::new());
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let genuine = s.signed("bakkeby", &r, &a, SignedElement::Assertion);
    let idp = s.bakkeby().entity_id().to_string();
    for attack in shape_attacks(&listener, &fifo) {
        let xml = (attack.apply)(&genuine, &a.id);
        assert_refused(
            &attack,
            &a.id,
            403,
            &format!("the Response from `{idp}` was refused: signature check failed: "),
            s.post_xml("/runtime/saml2auth/consume.idp", "SAMLResponse", &xml),
        )
        .await;
    }
    listener.assert_never_contacted();
    fifo.assert_never_opened();
    // None of them proved it came from the IdP: the genuine answer still logs the person in.
    let out = s
        .post_xml("/runtime/saml2auth/consume.idp", "SAMLResponse", &genuine)
        .await;
    assert!(out.body.contains("Logged in."), "{}", out.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_user_systems_acs_refuses_a_hostile_signature_shape_before_anything_is_fetched() {
    let s = setup().await;
    let (listener, fifo) = (Listener::new(), Fifo::new());
    for attack in shape_attacks(&listener, &fifo) {
        let request_id = s.demo_sp_pending().await;
        let genuine = s.to_demo_sp(&request_id);
        let doc = chsim::saml::xml::parse(&genuine).unwrap();
        let assertion_id = doc
            .descendants()
            .find(|n| n.tag_name().name() == "Assertion")
            .and_then(|n| n.attribute("ID"))
            .unwrap()
            .to_string();
        let xml = (attack.apply)(&genuine, &assertion_id);
        assert_refused(
            &attack,
            &assertion_id,
            403,
            "chsim's Response failed validation: signature check failed: ",
            s.post_xml("/demo-sp/oiosaml2/acs", "SAMLResponse", &xml),
        )
        .await;
    }
    listener.assert_never_contacted();
    fifo.assert_never_opened();
    s.assert_still_answers().await;
}

// ---------------------------------------------------------------------------------------------
// §3 — no decryption oracle on chsim's key
// ---------------------------------------------------------------------------------------------

const NS_SAML: &str = "urn:oasis:names:tc:SAML:2.0:assertion";
const NS_XENC: &str = "http://www.w3.org/2001/04/xmlenc#";
const NS_DS: &str = "http://www.w3.org/2000/09/xmldsig#";
const AES256_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes256-cbc";
const AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
const RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
const RSA_1_5: &str = "http://www.w3.org/2001/04/xmlenc#rsa-1_5";

/// chsim's encryption certificate as an IdP finds it: the `use="encryption"` KeyDescriptor of
/// chsim's SP metadata, else its signing certificate (the same key today; issue #8 §3 separates
/// them).
async fn chsim_encryption_cert(s: &Setup) -> X509 {
    let md = reqwest::get(s.url("/runtime/saml2auth/metadata.idp"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sp = metadata::parse(&md).unwrap().sp.unwrap();
    let der = sp
        .encryption_certs
        .first()
        .or(sp.signing_certs.first())
        .unwrap();
    X509::from_der(der).unwrap()
}

fn wrap(cert: &X509, key: &[u8], padding: openssl::rsa::Padding) -> Vec<u8> {
    let public = cert.public_key().unwrap();
    let mut ctx = openssl::pkey_ctx::PkeyCtx::new(&public).unwrap();
    ctx.encrypt_init().unwrap();
    ctx.set_rsa_padding(padding).unwrap();
    let mut out = Vec::new();
    ctx.encrypt_to_vec(key, &mut out).unwrap();
    out
}

/// An EncryptedAssertion in the shape IdPs send, from raw parts.
fn encrypted_assertion(key_transport: &str, wrapped: &[u8], data_alg: &str, body: &[u8]) -> String {
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    format!(
        r#"<saml:EncryptedAssertion xmlns:saml="{NS_SAML}"><xenc:EncryptedData xmlns:xenc="{NS_XENC}" xmlns:ds="{NS_DS}" Type="{NS_XENC}Element"><xenc:EncryptionMethod Algorithm="{data_alg}"/><ds:KeyInfo><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="{key_transport}"/><xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>"#,
        b64(wrapped),
        b64(body)
    )
}

/// AES-256-CBC with PKCS#7 padding (`pad`) or none; the IV leads the body as XML Encryption has it.
fn cbc(key: &[u8], plaintext: &[u8], pad: bool) -> Vec<u8> {
    use openssl::symm::{Cipher, Crypter, Mode};
    let iv = [7u8; 16];
    let mut c = Crypter::new(Cipher::aes_256_cbc(), Mode::Encrypt, key, Some(&iv)).unwrap();
    c.pad(pad);
    let mut out = vec![0u8; plaintext.len() + 32];
    let n = c.update(plaintext, &mut out).unwrap();
    let m = c.finalize(&mut out[n..]).unwrap();
    out.truncate(n + m);
    [iv.to_vec(), out].concat()
}

/// `response_xml` with its assertion replaced by `encrypted`.
fn with_encrypted_assertion(response_xml: &str, encrypted: &str) -> String {
    let start = response_xml.find("<saml:Assertion").unwrap();
    let end = response_xml.find("</saml:Assertion>").unwrap() + "</saml:Assertion>".len();
    format!(
        "{}{encrypted}{}",
        &response_xml[..start],
        &response_xml[end..]
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_broken_encrypted_assertion_gets_the_same_page_and_status() {
    let s = setup().await;
    let cert = chsim_encryption_cert(&s).await;
    let stranger = key("demo-sp-oiosaml2");
    let aes = [0x11u8; 32];
    let oaep = openssl::rsa::Padding::PKCS1_OAEP;
    let valid_body = cbc(&aes, b"<saml:Assertion/>", true);
    let mut gcm_bad_tag = [vec![1u8; 12], vec![2u8; 40], vec![3u8; 16]].concat();
    gcm_bad_tag[20] ^= 1;
    let cases: Vec<(&str, String)> = vec![
        (
            "garbage EncryptedKey (bad RSA-OAEP padding)",
            encrypted_assertion(RSA_OAEP_MGF1P, &[0x42; 256], AES256_CBC, &valid_body),
        ),
        (
            "a 20-byte key for AES-256",
            encrypted_assertion(
                RSA_OAEP_MGF1P,
                &wrap(&cert, &[0x11; 20], oaep),
                AES256_CBC,
                &valid_body,
            ),
        ),
        (
            "bad CBC padding",
            encrypted_assertion(
                RSA_OAEP_MGF1P,
                &wrap(&cert, &aes, oaep),
                AES256_CBC,
                &cbc(&aes, &[0u8; 32], false),
            ),
        ),
        (
            "plaintext not UTF-8",
            encrypted_assertion(
                RSA_OAEP_MGF1P,
                &wrap(&cert, &aes, oaep),
                AES256_CBC,
                &cbc(&aes, &[0xff, 0xfe, 0xfd, 0x80], true),
            ),
        ),
        (
            "a GCM tag that does not verify",
            encrypted_assertion(
                RSA_OAEP_MGF1P,
                &wrap(&cert, &aes, oaep),
                AES256_GCM,
                &gcm_bad_tag,
            ),
        ),
        (
            "encrypted to another key",
            encrypted_assertion(
                RSA_OAEP_MGF1P,
                &wrap(stranger.cert(), &aes, oaep),
                AES256_CBC,
                &valid_body,
            ),
        ),
        // Right padding, but the plaintext is not XML (the CBC attack's "padding was right").
        (
            "valid CBC padding around text that is not XML",
            encrypted_assertion(
                RSA_OAEP_MGF1P,
                &wrap(&cert, &aes, oaep),
                AES256_CBC,
                &cbc(&aes, b"xxxxxxxxxxxxxxxxxxxxxxxx", true),
            ),
        ),
        (
            "valid CBC padding around an unsigned assertion",
            encrypted_assertion(
                RSA_OAEP_MGF1P,
                &wrap(&cert, &aes, oaep),
                AES256_CBC,
                &valid_body,
            ),
        ),
        (
            "valid CBC padding around XML nested too deep",
            encrypted_assertion(
                RSA_OAEP_MGF1P,
                &wrap(&cert, &aes, oaep),
                AES256_CBC,
                &cbc(
                    &aes,
                    ("<a>".repeat(40) + &"</a>".repeat(40)).as_bytes(),
                    true,
                ),
            ),
        ),
    ];
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let genuine = s.signed("bakkeby", &r, &a, SignedElement::Assertion);
    let idp = s.bakkeby().entity_id().to_string();
    let uniform = format!(
        "the Response from `{idp}` was refused: {}",
        chsim::saml::validate::ValidationError::Decryption
    );
    let mut seen: Vec<(&str, u16, String)> = Vec::new();
    for (name, enc) in &cases {
        let out = s
            .post_xml(
                "/runtime/saml2auth/consume.idp",
                "SAMLResponse",
                &with_encrypted_assertion(&genuine, enc),
            )
            .await;
        assert_page(&out, 403, &uniform);
        seen.push((name, out.status, out.body));
    }
    for (name, status, body) in &seen[1..] {
        assert_eq!(
            (status, body),
            (&seen[0].1, &seen[0].2),
            "`{name}` is told apart from `{}`",
            seen[0].0
        );
    }
    // None of them proved it came from the IdP: the login is still pending.
    let out = s
        .post_xml("/runtime/saml2auth/consume.idp", "SAMLResponse", &genuine)
        .await;
    assert!(out.body.contains("Logged in."), "{}", out.body);
}

/// Bakkeby's signed assertion for `req`, its AES key wrapped with RSA 1.5 toward chsim.
async fn rsa1_5_response(s: &Setup, req: &str) -> String {
    let cert = chsim_encryption_cert(s).await;
    let (r, a) = s.parts("bakkeby", req);
    let signed_assertion = a.to_signed_xml(s.bakkeby().credential()).unwrap();
    let plain = response::strip_declaration(&signed_assertion).trim();
    let aes = [0x5au8; 32];
    let enc = encrypted_assertion(
        RSA_1_5,
        &wrap(&cert, &aes, openssl::rsa::Padding::PKCS1),
        AES256_CBC,
        &cbc(&aes, plain.as_bytes(), true),
    );
    with_encrypted_assertion(&s.signed("bakkeby", &r, &a, SignedElement::Assertion), &enc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_1_5_key_transport_is_refused_by_default() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let out = s
        .post_xml(
            "/runtime/saml2auth/consume.idp",
            "SAMLResponse",
            &rsa1_5_response(&s, &req).await,
        )
        .await;
    assert_page(
        &out,
        403,
        &chsim::saml::validate::ValidationError::Decryption.to_string(),
    );
    s.assert_still_answers().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_1_5_key_transport_is_accepted_only_with_insecure_allow_rsa1_5() {
    let mut config = demo_config();
    config.chsim.broker.insecure_allow_rsa1_5 = true;
    let s = setup_with(config).await;
    let req = s.pending("bakkeby").await;
    let out = s
        .post_xml(
            "/runtime/saml2auth/consume.idp",
            "SAMLResponse",
            &rsa1_5_response(&s, &req).await,
        )
        .await;
    // The same message as the refused one above: only RSA 1.5 was in the way.
    assert!(out.body.contains("Logged in."), "{}", out.body);
}

// ---------------------------------------------------------------------------------------------
// §5 — a forged Response does not end the pending login
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_response_does_not_end_the_pending_login() {
    let s = setup().await;
    let req = s.pending("bakkeby").await;
    let (r, a) = s.parts("bakkeby", &req);
    let idp = s.bakkeby();
    let stranger = key("demo-sp-oiosaml2");
    let badly_signed =
        response::build(&r, Some(&a), &stranger, SignedElement::Assertion, None).unwrap();
    let unsigned = response::build_unsigned(&r, &a, idp.credential(), SignedElement::Assertion)
        .replace(
            &signing::template(&a.id, &idp.credential().cert_base64()).to_xml(),
            "",
        );
    let out = s
        .post_xml(
            "/runtime/saml2auth/consume.idp",
            "SAMLResponse",
            &badly_signed,
        )
        .await;
    assert_page(&out, 403, "signature check failed");
    let out = s
        .post_xml("/runtime/saml2auth/consume.idp", "SAMLResponse", &unsigned)
        .await;
    assert_page(
        &out,
        403,
        &chsim::saml::validate::ValidationError::Unsigned.to_string(),
    );
    assert!(forms(&out.body).is_empty(), "{}", out.body);
    // An unsigned error Response, as a stranger who learned the InResponseTo would send: shown,
    // without the stranger's text, and it ends nothing.
    let mut failed = r.clone();
    failed.status = Status {
        code: chsim::saml::status::RESPONDER.into(),
        sub_code: Some(chsim::saml::status::AUTHN_FAILED.into()),
        message: Some("your account is locked, call +45 0000 0000".into()),
    };
    let unsigned_status =
        response::build_unsigned(&failed, &a, idp.credential(), SignedElement::Response);
    let unsigned_status = strip_assertion(&unsigned_status);
    let out = s
        .post_xml(
            "/runtime/saml2auth/consume.idp",
            "SAMLResponse",
            &unsigned_status,
        )
        .await;
    assert_page(
        &out,
        403,
        "as it is not signed, chsim did not end the login",
    );
    assert!(!out.body.contains("account is locked"), "{}", out.body);
    // Nor when its envelope is wrong: an unsigned status is never checked far enough to count.
    let mut elsewhere = failed.clone();
    elsewhere.destination = "https://elsewhere.example/acs".into();
    let elsewhere = strip_assertion(&response::build_unsigned(
        &elsewhere,
        &a,
        idp.credential(),
        SignedElement::Response,
    ));
    let out = s
        .post_xml("/runtime/saml2auth/consume.idp", "SAMLResponse", &elsewhere)
        .await;
    assert_page(
        &out,
        403,
        "as it is not signed, chsim did not end the login",
    );
    // The forgeries offered the user system nothing, and the genuine answer still logs in.
    assert!(forms(&out.body).is_empty(), "{}", out.body);
    let out = s
        .post_xml(
            "/runtime/saml2auth/consume.idp",
            "SAMLResponse",
            &s.signed("bakkeby", &r, &a, SignedElement::Assertion),
        )
        .await;
    assert!(out.body.contains("Logged in."), "{}", out.body);
}

/// `xml` without its (first) `saml:Assertion` element, and without any signature template.
fn strip_assertion(xml: &str) -> String {
    let doc = chsim::saml::xml::parse(xml).unwrap();
    let mut out = xml.to_string();
    let remove: Vec<std::ops::Range<usize>> = doc
        .descendants()
        .filter(|n| {
            chsim::saml::xml::is(n, chsim::saml::xml::NS_SAML, "Assertion")
                || chsim::saml::xml::is(n, chsim::saml::xml::NS_DS, "Signature")
        })
        .filter(|n| {
            n.ancestors()
                .skip(1)
                .all(|p| !chsim::saml::xml::is(&p, chsim::saml::xml::NS_SAML, "Assertion"))
        })
        .map(|n| n.range())
        .collect();
    for range in remove.into_iter().rev() {
        out.replace_range(range, "");
    }
    out
}
