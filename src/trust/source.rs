//! Where trusted parties' metadata comes from — built-in (generated at start), a file, or a URL —
//! and the rules that make it trustworthy (issue #8 §6):
//! 1. A URL is fetched over https; an `http://` URL is allowed only with a configured
//!    `metadata_signing_cert`, and redirects without one may only lead to https.
//! 2. With a `metadata_signing_cert` (any source), the metadata's XML signature is verified with
//!    it (`saml::signing::verify_and_reduce`) and only the verified content is read.
//! 3. An aggregate (`EntitiesDescriptor`) is searched for the configured entityID; one of several
//!    entities without a configured entityID is an error, never the first one.

use crate::config::{Config, ConfigProblem};
use crate::saml::metadata::{self, EntityMetadata};
use crate::saml::signing::{self, AlgorithmPolicy};
use crate::saml::SamlError;
use std::collections::HashMap;

/// The most chsim reads of metadata fetched by URL (federation metadata with many entities is
/// not what the Context Handler registers; one entity's metadata is a few kB).
const METADATA_LIMIT: usize = 1 << 20;

/// One configured metadata reference with its optional signature certificate and entityID, and
/// the configuration keys that name them (for problems).
#[derive(Debug, Clone)]
pub(super) struct MetadataRef<'a> {
    /// The configuration file.
    pub file: &'static str,
    /// `builtin:…`, a file path or a URL.
    pub reference: &'a str,
    /// Its key, e.g. `municipality[0].idp[1].metadata`.
    pub key: String,
    /// The PEM certificate file that must have signed it.
    pub signing_cert: Option<&'a str>,
    /// The key of `signing_cert`.
    pub signing_cert_key: String,
    /// The entityID to pick.
    pub entity_id: Option<&'a str>,
    /// The key of `entity_id`.
    pub entity_id_key: String,
}

impl<'a> MetadataRef<'a> {
    /// A reference whose sibling keys are `<prefix>metadata_signing_cert` and `<prefix>entity_id`.
    pub fn new(
        file: &'static str,
        prefix: &str,
        reference: &'a str,
        signing_cert: Option<&'a str>,
        entity_id: Option<&'a str>,
    ) -> Self {
        Self {
            file,
            reference,
            key: format!("{prefix}metadata"),
            signing_cert,
            signing_cert_key: format!("{prefix}metadata_signing_cert"),
            entity_id,
            entity_id_key: format!("{prefix}entity_id"),
        }
    }

    fn problem(&self, key: &str, message: String) -> ConfigProblem {
        ConfigProblem::new(self.file, key, message)
    }
}

/// Fetches, verifies (rule 2) and parses the metadata `r` names (rule 3).
pub(super) async fn fetch_metadata(
    config: &Config,
    builtin: &HashMap<String, String>,
    r: &MetadataRef<'_>,
) -> Result<EntityMetadata, ConfigProblem> {
    let text = fetch(config, builtin, r).await?;
    let text = match r.signing_cert {
        None => text,
        Some(cert_file) => {
            let cert = config
                .source
                .read(cert_file)
                .and_then(|pem| {
                    openssl::x509::X509::from_pem(pem.as_bytes())
                        .map_err(|e| format!("`{cert_file}` is not a PEM certificate: {e}"))
                })
                .and_then(|c| {
                    crate::saml::TrustedCert::from_x509(c)
                        .map_err(|e| format!("`{cert_file}`: {e}"))
                })
                .map_err(|e| r.problem(&r.signing_cert_key, e))?;
            // Metadata is signed, never encrypted: only the signature policy matters.
            let policy = AlgorithmPolicy {
                allow_sha1: config.chsim.broker.insecure_allow_sha1,
                allow_rsa1_5: false,
            };
            signing::verify_and_reduce_within(
                &text,
                &[cert],
                policy,
                &crate::xml_limits::XmlLimits::METADATA,
            )
            .map_err(|e| {
                r.problem(
                    &r.key,
                    format!(
                        "the metadata from `{}` is not signed by `{cert_file}` ({}): {e}",
                        r.reference, r.signing_cert_key
                    ),
                )
            })?
        }
    };
    metadata::parse_entity(&text, r.entity_id).map_err(|e| match e {
        SamlError::Malformed { expected, .. }
            if expected == metadata::AGGREGATE_NEEDS_ENTITY_ID =>
        {
            r.problem(
                &r.key,
                format!(
                    "`{}`: {e}; set {} to the entityID of the party you mean",
                    r.reference, r.entity_id_key
                ),
            )
        }
        e => r.problem(&r.key, format!("`{}`: {e}", r.reference)),
    })
}

/// Fetches metadata text: builtin (generated at start), a file, or a URL (rule 1).
async fn fetch(
    config: &Config,
    builtin: &HashMap<String, String>,
    r: &MetadataRef<'_>,
) -> Result<String, ConfigProblem> {
    let reference = r.reference;
    let fail = |message: String| r.problem(&r.key, message);
    if reference.starts_with("builtin:") {
        if !config.chsim.demo.builtin_parties {
            return Err(fail(format!("`{reference}` names a built-in party, but built-in parties are switched off (builtin_parties = false under [demo] in chsim.toml); give the party's metadata file or https URL instead")));
        }
        return builtin
            .get(reference)
            .cloned()
            // The file checks already refused unknown ids; a missing one failed to start.
            .ok_or_else(|| {
                fail(format!("`{reference}` is unavailable because of the problem reported for its own entry"))
            });
    }
    let signed = r.signing_cert.is_some();
    if reference.starts_with("http://") && !signed {
        return Err(fail(format!(
            "`{reference}` is plain http without a signature check, so anyone on the network path could swap the certificates chsim trusts; use an https URL, or set {} to the PEM certificate that signs this metadata",
            r.signing_cert_key
        )));
    }
    if reference.starts_with("http://") || reference.starts_with("https://") {
        let redirects = if signed {
            reqwest::redirect::Policy::limited(5)
        } else {
            reqwest::redirect::Policy::custom(|attempt| {
                if attempt.url().scheme() != "https" {
                    attempt.error("a redirect away from https")
                } else if attempt.previous().len() >= 5 {
                    attempt.error("more than 5 redirects")
                } else {
                    attempt.follow()
                }
            })
        };
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(10))
            .redirect(redirects)
            .build()
            .map_err(|e| fail(e.to_string()))?;
        let resp = client.get(reference).send().await.map_err(|e| {
            fail(format!(
                "cannot fetch `{reference}`: {e}; check the URL or use a metadata file"
            ))
        })?;
        if !resp.status().is_success() {
            return Err(fail(format!(
                "fetching `{reference}` answered HTTP {}",
                resp.status()
            )));
        }
        // Metadata is small; a peer that sends megabytes is misconfigured or hostile.
        return crate::fetch::text_bounded(resp, METADATA_LIMIT)
            .await
            .map_err(|e| fail(format!("cannot read `{reference}`: {e}")));
    }
    config.source.read(reference).map_err(fail)
}
