//! Validation of a SAML Response from an identity provider (issue #2 §4; saml-core §3.3.3,
//! saml-profiles §4.1.4.3; reference §2.2). Also used by the built-in demo user systems to check
//! what chsim issues — the rules are the same from any SP's point of view.
//!
//! The steps below follow the numbering. Everything after step 1 reads only the content
//! the signature verification returned (samael's reduction), never the original text — that is
//! what defeats signature wrapping. Replay (rule 8) needs state and lives in the broker; it uses
//! [`ValidatedAssertion::id`] and [`ValidatedAssertion::not_on_or_after`].

use super::encryption;
use super::keys::TrustedCert;
use super::response::Status;
use super::signing::{self, AlgorithmPolicy};
use super::xml::{self, NS_DS, NS_SAML, NS_SAMLP};
use super::{status, SamlError, CM_BEARER};
use chrono::{DateTime, Duration, Utc};
use openssl::pkey::{PKey, Private};

/// What the validator needs to know; all of it comes from configuration and the pending request.
#[derive(Debug)]
pub struct Expectations<'a> {
    /// The IdP the request was sent to (rule 3).
    pub issuer: &'a str,
    /// That IdP's signing certificates from its metadata (rule 1); never empty.
    pub trusted_certs: &'a [TrustedCert],
    /// Our entityID (rule 6).
    pub audience: &'a str,
    /// Our ACS URL (rule 4).
    pub acs_url: &'a str,
    /// The ID of the pending request this must answer (rule 5).
    pub in_response_to: &'a str,
    /// Now, from the injected clock (rule 7).
    pub now: DateTime<Utc>,
    /// Allowed clock skew (rule 7).
    pub clock_skew: Duration,
    /// Signature algorithm policy (rule 2).
    pub algorithms: AlgorithmPolicy,
    /// Our private key for encrypted assertions (rule 10).
    pub decryption_key: Option<&'a PKey<Private>>,
    /// `Some(NameID)` for the SOAP answer to an AttributeQuery about that subject (reference
    /// §8.1): there is no browser, so no Destination is required and there is no bearer
    /// confirmation; instead the assertion's Subject must be the one asked about.
    pub queried_subject: Option<&'a str>,
}

/// One attribute as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedAttribute {
    /// `Name`.
    pub name: String,
    /// `NameFormat`, if given.
    pub name_format: Option<String>,
    /// The values' text.
    pub values: Vec<String>,
}

/// An assertion that passed every rule. Only the validator makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedAssertion {
    /// Assertion `ID` (replay key).
    pub id: String,
    /// `Issuer`.
    pub issuer: String,
    /// NameID value.
    pub name_id: String,
    /// NameID `Format`.
    pub name_id_format: Option<String>,
    /// The IdP's `SessionIndex`.
    pub session_index: Option<String>,
    /// `AuthnInstant`.
    pub authn_instant: Option<DateTime<Utc>>,
    /// `AuthnContextClassRef`.
    pub authn_context_class_ref: Option<String>,
    /// `AuthenticatingAuthority` values.
    pub authenticating_authorities: Vec<String>,
    /// Attributes in document order.
    pub attributes: Vec<ReceivedAttribute>,
    /// The end of the assertion's validity (for the replay cache).
    pub not_on_or_after: DateTime<Utc>,
    /// Whether it arrived encrypted.
    pub was_encrypted: bool,
    /// The verified assertion XML (for display).
    pub xml: String,
}

impl ValidatedAssertion {
    /// The values of the first attribute named `name`.
    pub fn attribute(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.values.as_slice())
    }
}

/// Why a Response was refused. Each variant names the rule and carries the evidence.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ValidationError {
    /// The message could not be read at all (encoding, XML, DTD, structure).
    #[error(transparent)]
    Unreadable(#[from] SamlError),
    /// Not a `samlp:Response`.
    #[error("expected a samlp:Response, found `{found}`")]
    NotAResponse {
        /// The root element found.
        found: String,
    },
    /// Wrapping defence: a Response must hold exactly one Assertion or EncryptedAssertion.
    #[error("the Response holds {found} assertions; exactly one is allowed")]
    AssertionCount {
        /// How many were found.
        found: usize,
    },
    /// Rule 9: the IdP did not answer Success.
    #[error("the identity provider answered with status {}{}", .status.code, .status.message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
    IdpStatus {
        /// The status as received.
        status: Status,
    },
    /// Rule 9, unsigned: a non-success status without a signature. Anyone who learned the
    /// InResponseTo could have sent it, so it is shown but ends nothing (issue #8 §5), and the
    /// IdP's text is not repeated.
    #[error("an unsigned Response says the identity provider answered with status {}{}; as it is not signed, chsim did not end the login (the IdP should sign its error Responses)", .status.code, .status.sub_code.as_deref().map(|c| format!(" / {c}")).unwrap_or_default())]
    UnsignedIdpStatus {
        /// The status as received (its message is not shown).
        status: Status,
    },
    /// Rule 1: neither the Response nor the Assertion is signed.
    #[error("neither the Response nor the Assertion is signed")]
    Unsigned,
    /// Rule 1/2: a signature is present but does not verify, or uses a forbidden algorithm.
    #[error("signature check failed: {0}")]
    Signature(SamlError),
    /// Rule 10: an encrypted assertion could not be decrypted, or what it decrypted to is not an
    /// assertion whose signature verifies. Deliberately one error for every cause (issue #8 §3):
    /// telling a bad RSA padding from a bad CBC padding, a wrong key length or a plaintext that
    /// is not XML would be a padding oracle on chsim's key. The cause goes to the debug log only.
    #[error("the encrypted assertion could not be decrypted with chsim's encryption key into an assertion signed by the identity provider (is it encrypted to the certificate in chsim's SP metadata, with RSA-OAEP and AES-GCM or AES-CBC, and signed inside? RUST_LOG=chsim=debug shows the cause)")]
    Decryption,
    /// Wrapping defence: the signature covers something other than the Assertion we read.
    #[error("the signed content is not the Response's assertion (signature wrapping?): {reason}")]
    SignedContentMismatch {
        /// Why.
        reason: String,
    },
    /// Rule 3.
    #[error("Issuer is `{found}`, expected the identity provider `{expected}` that the request was sent to")]
    IssuerMismatch {
        /// Expected entityID.
        expected: String,
        /// Issuer found.
        found: String,
    },
    /// Rule 4: Response `Destination`.
    #[error("Destination is `{found}`, expected our ACS `{expected}`")]
    DestinationMismatch {
        /// Expected ACS.
        expected: String,
        /// Destination found (empty when absent).
        found: String,
    },
    /// Rule 4: SubjectConfirmationData `Recipient`.
    #[error("SubjectConfirmationData Recipient is `{found}`, expected our ACS `{expected}`")]
    RecipientMismatch {
        /// Expected ACS.
        expected: String,
        /// Recipient found (empty when absent).
        found: String,
    },
    /// Rule 5.
    #[error("InResponseTo is `{found}`, expected `{expected}` (the request chsim sent)")]
    InResponseToMismatch {
        /// Expected request ID.
        expected: String,
        /// Found (empty when absent).
        found: String,
    },
    /// Rule 6: no AudienceRestriction, or one that does not name us.
    #[error("the assertion is for audience {found:?}, not for us (`{expected}`); every AudienceRestriction must name chsim")]
    AudienceMismatch {
        /// Our entityID.
        expected: String,
        /// Audiences found.
        found: Vec<String>,
    },
    /// Rule 7: not yet valid.
    #[error(
        "{element} is not valid before {not_before} (now {now}, allowed skew {skew_seconds} s)"
    )]
    NotYetValid {
        /// Which element.
        element: &'static str,
        /// Its NotBefore.
        not_before: DateTime<Utc>,
        /// Now.
        now: DateTime<Utc>,
        /// The skew.
        skew_seconds: i64,
    },
    /// Rule 7: expired.
    #[error("{element} expired at {not_on_or_after} (now {now}, allowed skew {skew_seconds} s)")]
    Expired {
        /// Which element.
        element: &'static str,
        /// Its NotOnOrAfter.
        not_on_or_after: DateTime<Utc>,
        /// Now.
        now: DateTime<Utc>,
        /// The skew.
        skew_seconds: i64,
    },
    /// An attribute service answered about another subject than the one asked about.
    #[error("the answer is about `{found}`, but chsim asked about `{expected}`")]
    SubjectMismatch {
        /// The NameID asked about.
        expected: String,
        /// The NameID answered about.
        found: String,
    },
    /// A required element is missing from the signed assertion.
    #[error("the assertion has no {element}")]
    Missing {
        /// What is missing.
        element: &'static str,
    },
}

/// Runs every rule on `response_xml` and returns the verified assertion.
pub fn validate_response(
    response_xml: &str,
    expect: &Expectations<'_>,
) -> Result<ValidatedAssertion, ValidationError> {
    // Step 0: well-formed, no DTD, a Response with exactly one assertion (wrapping defence).
    let doc = xml::parse(response_xml)?;
    let root = doc.root_element();
    if !xml::is(&root, NS_SAMLP, "Response") {
        return Err(ValidationError::NotAResponse {
            found: root.tag_name().name().to_string(),
        });
    }
    // Rule 9: a non-success status ends here. A signed one is verified first and then shown and
    // passed on; an unsigned one proves nothing about its sender, so it is only shown.
    let status = read_status(&root);
    if !status.is_success() {
        if xml::child(&root, NS_DS, "Signature").is_some() {
            let status =
                with_verified_envelope(response_xml, expect, |rroot, _| Ok(read_status(rroot)))?;
            return Err(ValidationError::IdpStatus { status });
        }
        // Nothing of it is checked further: whatever it says, it ends nothing.
        return Err(ValidationError::UnsignedIdpStatus { status });
    }
    let all_assertions = doc
        .descendants()
        .filter(|n| xml::is(n, NS_SAML, "Assertion") || xml::is(n, NS_SAML, "EncryptedAssertion"))
        .count();
    let direct: Vec<_> = root
        .children()
        .filter(|n| xml::is(n, NS_SAML, "Assertion") || xml::is(n, NS_SAML, "EncryptedAssertion"))
        .collect();
    if all_assertions != 1 || direct.len() != 1 {
        return Err(ValidationError::AssertionCount {
            found: all_assertions,
        });
    }
    let assertion_node = direct[0];
    let encrypted = xml::is(&assertion_node, NS_SAML, "EncryptedAssertion");
    let response_signed = xml::child(&root, NS_DS, "Signature").is_some();

    // Rules 1, 2 and 10: verify (and decrypt); afterwards read only verified text.
    let signed_assertion_xml: String = if response_signed {
        let text = with_verified_envelope(response_xml, expect, |rroot, reduced| {
            let node = rroot
                .children()
                .find(|n| {
                    xml::is(n, NS_SAML, "Assertion") || xml::is(n, NS_SAML, "EncryptedAssertion")
                })
                .ok_or(ValidationError::SignedContentMismatch {
                    reason: "the signed Response holds no assertion".into(),
                })?;
            xml::standalone_subtree(&node, reduced).ok_or(ValidationError::SignedContentMismatch {
                reason: "cannot extract the signed assertion".into(),
            })
        })?;
        if encrypted {
            decrypt(&text, expect)?
        } else {
            text
        }
    } else {
        // The whole message must have the one signature shape (issue #8 §2) even though only a
        // part of it is verified below: a duplicate ID or a hostile Reference anywhere is refused.
        // `doc` is this very message, parsed within the message limits.
        signing::check_shape_of(&doc, expect.algorithms)
            .or_else(|e| match e {
                // An unsigned envelope around an encrypted assertion has no signature to check yet.
                SamlError::NotSigned => Ok(()),
                e => Err(e),
            })
            .map_err(signature_error)?;
        let verify_assertion = || -> Result<String, ValidationError> {
            let candidate = if encrypted {
                let text = xml::standalone_subtree(&assertion_node, response_xml)
                    .ok_or(ValidationError::Decryption)?;
                decrypt(&text, expect)?
            } else {
                // Only the Assertion is signed: verify it as a document of its own. Handing
                // samael the whole Response makes its reduction lift the Assertion to the
                // document root, which in samael 0.0.22 leaks the unlinked envelope (about
                // 2.7 KB a login, issue #10 §1; tests/memory.rs). Exclusive c14n makes the
                // signature verify alike.
                xml::standalone_subtree(&assertion_node, response_xml).ok_or(
                    ValidationError::SignedContentMismatch {
                        reason: "cannot extract the assertion".into(),
                    },
                )?
            };
            if encrypted {
                let cdoc = xml::parse(&candidate)?;
                let has_signature = cdoc
                    .descendants()
                    .filter(|n| xml::is(n, NS_SAML, "Assertion"))
                    .any(|a| xml::child(&a, NS_DS, "Signature").is_some());
                if !has_signature {
                    return Err(ValidationError::Unsigned);
                }
                signing::verify_and_reduce(&candidate, expect.trusted_certs, expect.algorithms)
                    .map_err(signature_error)
            } else {
                // The candidate is the Response's only Assertion, verbatim: whether it is
                // signed is read where it stands, and the whole Response already passed the
                // signature-shape check above, so it is not parsed and checked a second time.
                if xml::child(&assertion_node, NS_DS, "Signature").is_none() {
                    return Err(ValidationError::Unsigned);
                }
                signing::verify_and_reduce_shaped(
                    &candidate,
                    expect.trusted_certs,
                    expect.algorithms,
                )
                .map_err(signature_error)
            }
        };
        match verify_assertion() {
            Ok(v) => v,
            // Issue #8 §3: until the decrypted content's signature verifies, anything about it —
            // not XML, too deep, not signed, a bad signature — would tell a CBC-padding or
            // invalid-curve attacker that the padding was right. All of it is one error.
            Err(e) if encrypted => {
                tracing::debug!(cause = %e, "a decrypted assertion was refused before its signature verified");
                return Err(ValidationError::Decryption);
            }
            Err(e) => return Err(e),
        }
    };

    let adoc = xml::parse(&signed_assertion_xml)?;
    let a = adoc
        .descendants()
        .find(|n| xml::is(n, NS_SAML, "Assertion"))
        .ok_or(ValidationError::SignedContentMismatch {
            reason: "the signed content holds no saml:Assertion".into(),
        })?;
    if !xml::is(&adoc.root_element(), NS_SAML, "Assertion")
        && !xml::is(&adoc.root_element(), NS_SAMLP, "Response")
    {
        return Err(ValidationError::SignedContentMismatch {
            reason: format!(
                "the signed content is a `{}`",
                adoc.root_element().tag_name().name()
            ),
        });
    }
    if !response_signed {
        // The verified assertion must answer this very request before anything else it or its
        // unsigned envelope says may end the login: otherwise anyone holding a genuine
        // assertion of their own could wrap it to end someone else's pending login.
        let answers_this_request = expect.queried_subject.is_some()
            || a.descendants()
                .filter(|n| xml::is(n, NS_SAML, "SubjectConfirmationData"))
                .any(|n| n.attribute("InResponseTo") == Some(expect.in_response_to));
        if !answers_this_request {
            return Err(ValidationError::SignedContentMismatch {
                reason: format!(
                    "the signed assertion does not answer the request `{}` its envelope names",
                    expect.in_response_to
                ),
            });
        }
        // The unsigned envelope's Destination/InResponseTo still have to match — checked only
        // now, so a stranger's envelope cannot end a login.
        check_envelope(&root, expect)?;
    }
    read_assertion(&a, &signed_assertion_xml, encrypted, expect)
}

impl ValidationError {
    /// Whether the Response was shown to come from the IdP before this error was found (its
    /// signature verified, or it is a non-success status). Only then may it end the pending
    /// login; otherwise a stranger who learned an InResponseTo could end someone's login.
    pub fn proves_sender(&self) -> bool {
        !matches!(
            self,
            ValidationError::Unreadable(_)
                | ValidationError::NotAResponse { .. }
                | ValidationError::AssertionCount { .. }
                | ValidationError::Unsigned
                | ValidationError::UnsignedIdpStatus { .. }
                | ValidationError::Signature(_)
                | ValidationError::Decryption
                | ValidationError::SignedContentMismatch { .. }
        )
    }
}

/// Verifies the Response's own signature and hands `read` the verified Response element (and
/// the reduced text it lives in) after checking its envelope: Destination and InResponseTo
/// (rules 4, 5) and Issuer (rule 3).
fn with_verified_envelope<T>(
    response_xml: &str,
    expect: &Expectations<'_>,
    read: impl FnOnce(&roxmltree::Node<'_, '_>, &str) -> Result<T, ValidationError>,
) -> Result<T, ValidationError> {
    let reduced = signing::verify_and_reduce(response_xml, expect.trusted_certs, expect.algorithms)
        .map_err(signature_error)?;
    let rdoc = xml::parse(&reduced)?;
    let rroot = rdoc.root_element();
    if !xml::is(&rroot, NS_SAMLP, "Response") {
        return Err(ValidationError::SignedContentMismatch {
            reason: "the Response has a signature, but it does not cover the Response".into(),
        });
    }
    check_envelope(&rroot, expect)?;
    read(&rroot, &reduced)
}

fn signature_error(e: SamlError) -> ValidationError {
    match e {
        SamlError::NotSigned => ValidationError::Unsigned,
        other => ValidationError::Signature(other),
    }
}

fn decrypt(encrypted_xml: &str, expect: &Expectations<'_>) -> Result<String, ValidationError> {
    let key = expect.decryption_key.ok_or(ValidationError::Decryption)?;
    let policy = encryption::KeyTransportPolicy {
        allow_rsa1_5: expect.algorithms.allow_rsa1_5,
    };
    encryption::decrypt_assertion_with(encrypted_xml, key, policy).map_err(|e| {
        tracing::debug!(cause = %e, "an encrypted assertion did not decrypt");
        ValidationError::Decryption
    })
}

fn read_status(root: &roxmltree::Node<'_, '_>) -> Status {
    let status_el = xml::child(root, NS_SAMLP, "Status");
    let code_el = status_el.and_then(|s| xml::child(&s, NS_SAMLP, "StatusCode"));
    Status {
        code: code_el
            .and_then(|c| c.attribute("Value"))
            .unwrap_or(status::RESPONDER)
            .to_string(),
        sub_code: code_el
            .and_then(|c| xml::child(&c, NS_SAMLP, "StatusCode"))
            .and_then(|c| c.attribute("Value"))
            .map(str::to_string),
        message: status_el
            .and_then(|s| xml::child(&s, NS_SAMLP, "StatusMessage"))
            .map(|m| xml::text_of(&m)),
    }
}

/// Rules 3, 4 and 5 on the Response element. An unsigned envelope's values must match too (they
/// are checked, just not trusted for anything else).
fn check_envelope(
    root: &roxmltree::Node<'_, '_>,
    expect: &Expectations<'_>,
) -> Result<(), ValidationError> {
    // Rule 4: Destination must be our ACS (a SOAP answer may omit it: there is no browser).
    let destination = root.attribute("Destination").unwrap_or("");
    let soap_without_destination = expect.queried_subject.is_some() && destination.is_empty();
    if destination != expect.acs_url && !soap_without_destination {
        return Err(ValidationError::DestinationMismatch {
            expected: expect.acs_url.to_string(),
            found: destination.to_string(),
        });
    }
    // Rule 5: InResponseTo must be our pending request.
    let irt = root.attribute("InResponseTo").unwrap_or("");
    if irt != expect.in_response_to {
        return Err(ValidationError::InResponseToMismatch {
            expected: expect.in_response_to.to_string(),
            found: irt.to_string(),
        });
    }
    // Rule 3: a Response Issuer, when present, must be the IdP.
    if let Some(issuer) = xml::child(root, NS_SAML, "Issuer").map(|i| xml::text_of(&i)) {
        if issuer != expect.issuer {
            return Err(ValidationError::IssuerMismatch {
                expected: expect.issuer.to_string(),
                found: issuer,
            });
        }
    }
    Ok(())
}

fn parse_time(
    node: &roxmltree::Node<'_, '_>,
    name: &str,
    element: &'static str,
) -> Result<Option<DateTime<Utc>>, ValidationError> {
    match node.attribute(name) {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|e| {
                ValidationError::Unreadable(SamlError::Malformed {
                    expected: "Assertion",
                    reason: format!("{element} {name}=`{v}` is not a dateTime: {e}"),
                })
            }),
    }
}

fn check_window(
    node: &roxmltree::Node<'_, '_>,
    element: &'static str,
    expect: &Expectations<'_>,
) -> Result<Option<DateTime<Utc>>, ValidationError> {
    let skew_seconds = expect.clock_skew.num_seconds();
    if let Some(nb) = parse_time(node, "NotBefore", element)? {
        if expect.now + expect.clock_skew < nb {
            return Err(ValidationError::NotYetValid {
                element,
                not_before: nb,
                now: expect.now,
                skew_seconds,
            });
        }
    }
    let noa = parse_time(node, "NotOnOrAfter", element)?;
    if let Some(noa) = noa {
        if expect.now - expect.clock_skew >= noa {
            return Err(ValidationError::Expired {
                element,
                not_on_or_after: noa,
                now: expect.now,
                skew_seconds,
            });
        }
    }
    Ok(noa)
}

fn read_assertion(
    a: &roxmltree::Node<'_, '_>,
    source: &str,
    was_encrypted: bool,
    expect: &Expectations<'_>,
) -> Result<ValidatedAssertion, ValidationError> {
    let id = a.attribute("ID").unwrap_or("").to_string();
    if id.is_empty() {
        return Err(ValidationError::Missing { element: "ID" });
    }
    // Rule 3: Issuer = the IdP the request went to.
    let issuer = xml::child(a, NS_SAML, "Issuer")
        .map(|i| xml::text_of(&i))
        .ok_or(ValidationError::Missing { element: "Issuer" })?;
    if issuer != expect.issuer {
        return Err(ValidationError::IssuerMismatch {
            expected: expect.issuer.to_string(),
            found: issuer,
        });
    }
    let subject =
        xml::child(a, NS_SAML, "Subject").ok_or(ValidationError::Missing { element: "Subject" })?;
    let name_id = xml::child(&subject, NS_SAML, "NameID").ok_or(ValidationError::Missing {
        element: "Subject/NameID",
    })?;
    let scd_noa = match expect.queried_subject {
        Some(asked) => {
            let found = xml::text_of(&name_id);
            if found != asked {
                return Err(ValidationError::SubjectMismatch {
                    expected: asked.to_string(),
                    found,
                });
            }
            None
        }
        None => Some(check_bearer(&subject, expect)?),
    };
    // Rules 6 and 7 on Conditions.
    let conditions = xml::child(a, NS_SAML, "Conditions").ok_or(ValidationError::Missing {
        element: "Conditions",
    })?;
    let cond_noa = check_window(&conditions, "Conditions", expect)?;
    // Rule 6 (saml-core §2.5.1.4): the assertion is addressed to the intersection of its
    // AudienceRestrictions, so each of them must name chsim, and there must be one; Audience is
    // read only from AudienceRestriction.
    let restrictions: Vec<Vec<String>> = conditions
        .children()
        .filter(|n| xml::is(n, NS_SAML, "AudienceRestriction"))
        .map(|r| {
            r.children()
                .filter(|n| xml::is(n, NS_SAML, "Audience"))
                .map(|n| xml::text_of(&n))
                .collect()
        })
        .collect();
    let names_us = |list: &Vec<String>| list.iter().any(|aud| aud == expect.audience);
    if restrictions.is_empty() || !restrictions.iter().all(names_us) {
        return Err(ValidationError::AudienceMismatch {
            expected: expect.audience.to_string(),
            found: restrictions.concat(),
        });
    }
    let authn = xml::child(a, NS_SAML, "AuthnStatement");
    let authn_context = authn.and_then(|s| xml::child(&s, NS_SAML, "AuthnContext"));
    let attributes = a
        .children()
        .filter(|n| xml::is(n, NS_SAML, "AttributeStatement"))
        .flat_map(|s| s.children().filter(|n| xml::is(n, NS_SAML, "Attribute")))
        .map(|attr| ReceivedAttribute {
            name: attr.attribute("Name").unwrap_or("").to_string(),
            name_format: attr.attribute("NameFormat").map(str::to_string),
            values: attr
                .children()
                .filter(|v| xml::is(v, NS_SAML, "AttributeValue"))
                .map(|v| xml::text_of(&v))
                .collect(),
        })
        .collect();
    let not_on_or_after = match (cond_noa, scd_noa) {
        (Some(c), Some(b)) => c.min(b),
        (Some(t), None) | (None, Some(t)) => t,
        (None, None) => {
            return Err(ValidationError::Missing {
                element: "Conditions NotOnOrAfter",
            })
        }
    };
    Ok(ValidatedAssertion {
        id,
        issuer,
        name_id: xml::text_of(&name_id),
        name_id_format: name_id.attribute("Format").map(str::to_string),
        session_index: authn
            .and_then(|s| s.attribute("SessionIndex"))
            .map(str::to_string),
        authn_instant: match authn {
            Some(s) => parse_time(&s, "AuthnInstant", "AuthnStatement")?,
            None => None,
        },
        authn_context_class_ref: authn_context
            .and_then(|c| xml::child(&c, NS_SAML, "AuthnContextClassRef"))
            .map(|c| xml::text_of(&c)),
        authenticating_authorities: authn_context
            .map(|c| {
                c.children()
                    .filter(|n| xml::is(n, NS_SAML, "AuthenticatingAuthority"))
                    .map(|n| xml::text_of(&n))
                    .collect()
            })
            .unwrap_or_default(),
        attributes,
        not_on_or_after,
        was_encrypted,
        xml: xml::standalone_subtree(a, source).unwrap_or_else(|| source.to_string()),
    })
}

/// Rules 4, 5 and 7 on the bearer SubjectConfirmation; returns its NotOnOrAfter.
fn check_bearer(
    subject: &roxmltree::Node<'_, '_>,
    expect: &Expectations<'_>,
) -> Result<DateTime<Utc>, ValidationError> {
    let confirmation = subject
        .children()
        .filter(|c| xml::is(c, NS_SAML, "SubjectConfirmation"))
        .find(|c| c.attribute("Method") == Some(CM_BEARER))
        .ok_or(ValidationError::Missing {
            element: "bearer SubjectConfirmation",
        })?;
    let data = xml::child(&confirmation, NS_SAML, "SubjectConfirmationData").ok_or(
        ValidationError::Missing {
            element: "SubjectConfirmationData",
        },
    )?;
    let recipient = data.attribute("Recipient").unwrap_or("");
    if recipient != expect.acs_url {
        return Err(ValidationError::RecipientMismatch {
            expected: expect.acs_url.to_string(),
            found: recipient.to_string(),
        });
    }
    let irt = data.attribute("InResponseTo").unwrap_or("");
    if irt != expect.in_response_to {
        return Err(ValidationError::InResponseToMismatch {
            expected: expect.in_response_to.to_string(),
            found: irt.to_string(),
        });
    }
    check_window(&data, "SubjectConfirmationData", expect)?.ok_or(ValidationError::Missing {
        element: "SubjectConfirmationData NotOnOrAfter",
    })
}
