//! Issue #8 "Tests": a property test that mutates a valid signed IdP Response — bit flips, deleted,
//! duplicated and re-nested elements, elements wrapped in deep nesting — and hands each mutant to
//! chsim's ACS logic for a fresh pending login. No mutant may panic or hang chsim, and every
//! accepted mutant must yield a token (verified with chsim's real key) whose NameID, CVR, level and
//! privileges are exactly the original's.
//!
//! Bounded to 64 cases (a few seconds) so `make test` stays fast. To search longer:
//! `PROPTEST_CASES=5000 cargo test --test hostile_mutations` (proptest's own variable; failures
//! are saved under `tests/hostile_mutations.proptest-regressions` and replayed first).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use base64::Engine as _;
use chsim::broker::{BrokerError, Consumed};
use chsim::saml::oiosaml::oiosaml2;
use chsim::saml::response::{self, SignedElement};
use chsim::saml::{signing, xml};
use common::idp::*;
use common::*;
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};

/// One chsim for all cases, on its own runtime (proptest cases are synchronous).
struct Harness {
    rt: tokio::runtime::Runtime,
    chsim: Chsim,
    browser: Browser,
    /// What the unmutated Response yields.
    original: Facts,
}

/// What the token tells the user system about the person.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Facts {
    name_id: String,
    cvr: Option<Vec<String>>,
    level: Option<Vec<String>>,
    privileges: Option<Vec<String>>,
}

fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let chsim = rt.block_on(start_with_clock(demo_config(), fixed_clock()));
        let mut h = Harness {
            rt,
            chsim,
            browser: Browser::new(),
            original: Facts {
                name_id: String::new(),
                cvr: None,
                level: None,
                privileges: None,
            },
        };
        let valid = h.rt.block_on(h.valid_response(SignedElement::Assertion));
        h.original = match h.rt.block_on(h.consume(valid.as_bytes())) {
            Ok(Some(facts)) => facts,
            other => panic!("the unmutated Response is not accepted: {other:?}"),
        };
        assert!(h.original.cvr.is_some() && h.original.privileges.is_some());
        h
    })
}

impl Harness {
    fn idp(&self) -> Arc<chsim::test_idp::TestIdp> {
        self.chsim.state.test_idps["bakkeby"].clone()
    }

    /// A fresh pending login at the OIOSAML2 demo user system and Bakkeby's valid signed answer.
    async fn valid_response(&self, signed: SignedElement) -> String {
        let idp = self.idp();
        let request_id = pending_login(&self.chsim, &self.browser, "oiosaml2", "bakkeby").await;
        let (r, a) = answer(&idp, &idp.config().user[0], &request_id);
        response::build(&r, Some(&a), idp.credential(), signed, None).unwrap()
    }

    /// Hands `bytes` to chsim's ACS logic: `Ok(Some(facts))` when a token was issued, `Ok(None)`
    /// when refused. A panic or time-out inside chsim, or a step-up, is an `Err`.
    async fn consume(&self, bytes: &[u8]) -> Result<Option<Facts>, String> {
        let posted = base64::engine::general_purpose::STANDARD.encode(bytes);
        match self.chsim.state.broker.consume(&posted, None).await {
            Ok(Consumed::Deliver(d)) => match &d.saml {
                Some(post) => Ok(Some(self.facts(&post.saml_response))),
                None => Err("a SAML login was answered with an OIDC redirect".into()),
            },
            Ok(Consumed::StepUp(url)) => Err(format!("a mutant led to a step-up to {url}")),
            Err(f) => match f.error {
                BrokerError::Cpu(e) => Err(format!("chsim failed inside: {e}")),
                _ => Ok(None),
            },
        }
    }

    /// The facts of the token chsim POSTs to the user system, its signature verified with chsim's
    /// certificate (the OIOSAML2 demo user system gets plain, signed assertions).
    fn facts(&self, saml_response: &str) -> Facts {
        let token = chsim::saml::binding::decode_post(saml_response, 10_000_000).unwrap();
        let cert = self.chsim.state.broker.settings().credential.trusted_cert();
        let signed = signing::verify_and_reduce(&token, &[cert], Default::default()).unwrap();
        let doc = xml::parse(&signed).unwrap();
        let name_id = doc
            .descendants()
            .find(|n| xml::is(n, "urn:oasis:names:tc:SAML:2.0:assertion", "NameID"))
            .map(|n| xml::text_of(&n))
            .unwrap();
        Facts {
            name_id,
            cvr: attribute_values(&signed, oiosaml2::CVR),
            level: attribute_values(&signed, oiosaml2::ASSURANCE_LEVEL),
            privileges: attribute_values(&signed, oiosaml2::PRIVILEGES),
        }
    }
}

/// One change to the Response's text. Indices are taken modulo what the text has.
#[derive(Debug, Clone)]
enum Mutation {
    /// Flip one bit of one byte.
    FlipBit { at: usize, bit: u8 },
    /// Delete an element (with its content).
    Delete { element: usize },
    /// Repeat an element right after itself.
    Duplicate { element: usize },
    /// Move an element into another one (as its last child), or beside it if that is empty.
    Move { element: usize, into: usize },
    /// Wrap an element in `depth` nested elements of a foreign namespace.
    Wrap { element: usize, depth: usize },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
        any::<usize>().prop_map(|element| Mutation::Delete { element }),
        any::<usize>().prop_map(|element| Mutation::Duplicate { element }),
        (any::<usize>(), any::<usize>())
            .prop_map(|(element, into)| Mutation::Move { element, into }),
        (any::<usize>(), 1usize..100)
            .prop_map(|(element, depth)| Mutation::Wrap { element, depth }),
    ]
}

/// Applies `m` to `bytes`. Element mutations need well-formed UTF-8 XML; on text that is no
/// longer that (after a bit flip), they leave it unchanged.
fn apply(bytes: Vec<u8>, m: &Mutation) -> Vec<u8> {
    if let Mutation::FlipBit { at, bit } = *m {
        let mut bytes = bytes;
        let i = at % bytes.len();
        bytes[i] ^= 1 << bit;
        return bytes;
    }
    let Ok(text) = String::from_utf8(bytes.clone()) else {
        return bytes;
    };
    let Ok(doc) = roxmltree::Document::parse(&text) else {
        return bytes;
    };
    let elements: Vec<roxmltree::Node<'_, '_>> =
        doc.descendants().filter(|n| n.is_element()).collect();
    let pick = |i: usize| elements[i % elements.len()];
    let out = match *m {
        Mutation::FlipBit { .. } => unreachable!(),
        Mutation::Delete { element } => {
            let r = pick(element).range();
            format!("{}{}", &text[..r.start], &text[r.end..])
        }
        Mutation::Duplicate { element } => {
            let r = pick(element).range();
            format!("{}{}", &text[..r.end], &text[r.start..])
        }
        Mutation::Move { element, into } => {
            let (a, b) = (pick(element), pick(into));
            if a == b || b.ancestors().any(|x| x == a) {
                return bytes;
            }
            let ra = a.range();
            let rb = b.range();
            let moved = &text[ra.clone()];
            let b_text = &text[rb.clone()];
            // Before B's end tag, or right after B when B is empty (`<x/>`).
            let at = if b_text.ends_with("/>") {
                rb.end
            } else {
                rb.start + b_text.rfind("</").unwrap()
            };
            if at >= ra.end {
                format!(
                    "{}{}{moved}{}",
                    &text[..ra.start],
                    &text[ra.end..at],
                    &text[at..]
                )
            } else {
                format!(
                    "{}{moved}{}{}",
                    &text[..at],
                    &text[at..ra.start],
                    &text[ra.end..]
                )
            }
        }
        Mutation::Wrap { element, depth } => {
            let r = pick(element).range();
            format!(
                "{}{}{}{}{}",
                &text[..r.start],
                r#"<w:w xmlns:w="urn:example:wrap">"#.repeat(depth),
                &text[r.clone()],
                "</w:w>".repeat(depth),
                &text[r.end..]
            )
        }
    };
    out.into_bytes()
}

/// Cases: 64 by default; `PROPTEST_CASES` overrides.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn no_mutant_of_a_signed_response_panics_and_every_accepted_one_yields_the_original_person(
        sign_response in any::<bool>(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let h = harness();
        let signed = if sign_response { SignedElement::Response } else { SignedElement::Assertion };
        let valid = h.rt.block_on(h.valid_response(signed));
        let mutant = mutations.iter().fold(valid.into_bytes(), apply);
        let outcome = h.rt.block_on(async {
            tokio::time::timeout(std::time::Duration::from_secs(20), h.consume(&mutant)).await
        });
        let outcome = outcome.map_err(|_| TestCaseError::fail("chsim did not answer within 20 s"))?;
        match outcome {
            Err(e) => prop_assert!(false, "{e}\n{}", String::from_utf8_lossy(&mutant)),
            Ok(None) => {}
            Ok(Some(facts)) => prop_assert_eq!(
                &facts,
                &h.original,
                "accepted mutant changed the person:\n{}",
                String::from_utf8_lossy(&mutant)
            ),
        }
    }
}

/// The comparison above is not vacuous: a mutant that touches nothing signed — the signature's
/// informational KeyInfo deleted, chsim verifies with the metadata certificate — is accepted, and
/// its token names the original person.
#[test]
fn a_mutant_that_changes_nothing_signed_is_accepted_with_the_original_person() {
    let h = harness();
    let valid = h.rt.block_on(h.valid_response(SignedElement::Assertion));
    let doc = roxmltree::Document::parse(&valid).unwrap();
    let key_info = doc
        .descendants()
        .filter(|n| n.is_element())
        .position(|n| n.tag_name().name() == "KeyInfo")
        .unwrap();
    let mutant = apply(
        valid.clone().into_bytes(),
        &Mutation::Delete { element: key_info },
    );
    assert!(!String::from_utf8_lossy(&mutant).contains("KeyInfo"));
    let facts = h.rt.block_on(h.consume(&mutant)).unwrap();
    assert_eq!(facts.as_ref(), Some(&h.original));
}
