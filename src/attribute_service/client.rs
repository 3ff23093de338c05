//! The SOAP client and cache of the attribute-service fallback.

use super::{Answer, AttributeService, AttributeServiceError, Provenance};
use crate::clock::Clock;
use crate::fetch::BoundedReadError;
use crate::ids::{new_saml_id, Cvr, EntityId};
use crate::saml::attribute_query::{read_soap, NewAttributeQuery, SoapBody};
use crate::saml::oiosaml::{oiosaml2, oiosaml3};
use crate::saml::signing::AlgorithmPolicy;
use crate::saml::validate::{self, Expectations};
use crate::saml::Credential;
use chrono::Duration;
use moka::sync::Cache;
use std::sync::Arc;

/// Timeouts and cache bounds (`[attribute_service]` in chsim.toml).
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// How long to wait for an answer.
    pub timeout: std::time::Duration,
    /// How long an answer is reused.
    pub cache_ttl: std::time::Duration,
    /// At most this many cached answers.
    pub cache_size: u64,
    /// Allowed clock skew for the answer's validity.
    pub clock_skew: Duration,
    /// Signature algorithms accepted.
    pub algorithms: AlgorithmPolicy,
    /// Bound on the answer's size.
    pub max_message_bytes: usize,
    /// chsim's decryption key (`broker.encryption_key`), for answers with an encrypted assertion.
    pub decryption: Credential,
}

/// The cache's unit: an ordinary answer's size in bytes.
const ANSWER_UNIT: usize = 4096;

/// Asks attribute services and caches their answers.
#[derive(Debug)]
pub struct AttributeServiceClient {
    http: reqwest::Client,
    settings: ClientSettings,
    cache: Cache<(Cvr, String), Answer>,
    issuer: EntityId,
    credential: Credential,
    clock: Arc<dyn Clock>,
}

impl AttributeServiceClient {
    /// A client that signs its queries as `issuer` with `credential`. Fails only when the HTTP
    /// client cannot be set up (no TLS backend), which is reported rather than run without a
    /// timeout.
    pub fn new(
        settings: ClientSettings,
        issuer: EntityId,
        credential: Credential,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(settings.timeout)
            .build()
            .map_err(|e| format!("the HTTP client for attribute services cannot be set up: {e}"))?;
        Ok(Self {
            http,
            // Bounded by bytes (issue #8 §6): `cache_size` answers of an ordinary size (up to
            // 4 KiB); a larger answer counts as several.
            cache: Cache::builder()
                .max_capacity(settings.cache_size.saturating_mul(ANSWER_UNIT as u64))
                .weigher(|(cvr, name_id): &(Cvr, String), answer: &Answer| {
                    let bytes = cvr.as_str().len()
                        + name_id.len()
                        + answer.privileges.as_ref().map_or(0, String::len)
                        + answer
                            .attributes
                            .iter()
                            .map(|(n, v)| n.len() + v.iter().map(|x| x.len() + 24).sum::<usize>())
                            .sum::<usize>();
                    u32::try_from(bytes.max(ANSWER_UNIT)).unwrap_or(u32::MAX)
                })
                .time_to_live(settings.cache_ttl)
                .build(),
            settings,
            issuer,
            credential,
            clock,
        })
    }

    /// The person's privileges from `service`, from the cache when a fresh answer is there.
    pub async fn fetch(
        &self,
        service: &AttributeService,
        cvr: &Cvr,
        name_id: &str,
    ) -> Result<(Answer, Provenance), AttributeServiceError> {
        let key = (cvr.clone(), name_id.to_string());
        if let Some(answer) = self.cache.get(&key) {
            return Ok((answer, Provenance::AttributeServiceCache));
        }
        let answer = self.ask(service, name_id).await?;
        self.cache.insert(key, answer.clone());
        Ok((answer, Provenance::AttributeService))
    }

    async fn ask(
        &self,
        service: &AttributeService,
        name_id: &str,
    ) -> Result<Answer, AttributeServiceError> {
        let url = service.soap_url.clone();
        let query = NewAttributeQuery {
            id: new_saml_id(),
            issue_instant: self.clock.now(),
            issuer: self.issuer.to_string(),
            destination: url.clone(),
            name_id: name_id.to_string(),
        };
        let envelope = query
            .to_soap(&self.credential)
            .map_err(AttributeServiceError::Query)?;
        let response = self
            .http
            .post(&url)
            .header("Content-Type", "text/xml; charset=utf-8")
            .header(
                "SOAPAction",
                "http://www.oasis-open.org/committees/security",
            )
            .body(envelope)
            .send()
            .await
            .map_err(|e| self.transport_error(&url, &e))?;
        let status = response.status();
        let limit = self.settings.max_message_bytes;
        let body = match crate::fetch::text_bounded(response, limit).await {
            Ok(body) => body,
            Err(BoundedReadError::Transfer(e)) => return Err(self.transport_error(&url, &e)),
            Err(BoundedReadError::TooLarge { limit }) => {
                return Err(AttributeServiceError::Garbage {
                    url,
                    reason: crate::saml::SamlError::TooLarge { limit },
                })
            }
            Err(BoundedReadError::NotUtf8) => {
                return Err(AttributeServiceError::Garbage {
                    url,
                    reason: crate::saml::SamlError::BadEncoding {
                        reason: "the answer is not UTF-8 text".into(),
                    },
                })
            }
        };
        // A SOAP fault usually comes with HTTP 500; read the body before judging the status.
        let soap = read_soap(&body);
        if let Ok(SoapBody::Fault { code, message }) = soap {
            return Err(AttributeServiceError::SoapFault { url, code, message });
        }
        if !status.is_success() {
            return Err(AttributeServiceError::HttpStatus {
                url,
                status: status.as_u16(),
            });
        }
        let SoapBody::Message(response_xml) =
            soap.map_err(|reason| AttributeServiceError::Garbage {
                url: url.clone(),
                reason,
            })?
        else {
            return Err(AttributeServiceError::Garbage {
                url,
                reason: crate::saml::SamlError::Malformed {
                    expected: "SOAP body",
                    reason: "no SAML Response".into(),
                },
            });
        };
        // Verifying (and decrypting) the answer runs off the async workers (issue #8 §1).
        let issuer = self.issuer.to_string();
        let service_id = service.entity_id.to_string();
        let certs = service.signing_certs.clone();
        let (in_response_to, subject) = (query.id.clone(), name_id.to_string());
        let (now, skew, algorithms) = (
            self.clock.now(),
            self.settings.clock_skew,
            self.settings.algorithms,
        );
        let key = self.settings.decryption.key().clone();
        let checked = crate::cpu::run(move || {
            let expect = Expectations {
                issuer: &service_id,
                trusted_certs: &certs,
                audience: &issuer,
                acs_url: &issuer,
                in_response_to: &in_response_to,
                now,
                clock_skew: skew,
                algorithms,
                decryption_key: Some(&key),
                queried_subject: Some(&subject),
            };
            validate::validate_response(&response_xml, &expect)
        })
        .await
        .map_err(|e| AttributeServiceError::Garbage {
            url: url.clone(),
            reason: crate::saml::SamlError::Malformed {
                expected: "signed SAML Response",
                reason: e.to_string(),
            },
        })?;
        let assertion = checked.map_err(|error| AttributeServiceError::Invalid {
            service: service.entity_id.to_string(),
            error,
        })?;
        let privileges = match [oiosaml2::PRIVILEGES, oiosaml3::PRIVILEGES]
            .iter()
            .find_map(|n| assertion.attribute(n))
        {
            None => None,
            Some([one]) => Some(one.clone()),
            // An attribute with no value or several is malformed, never "no roles".
            Some(values) => {
                return Err(AttributeServiceError::Garbage {
                    url: service.soap_url.clone(),
                    reason: crate::saml::SamlError::Malformed {
                        expected: "privilege attribute",
                        reason: format!(
                            "it has {} values; OIOBPP sends exactly one PrivilegeList",
                            values.len()
                        ),
                    },
                })
            }
        };
        Ok(Answer {
            privileges,
            attributes: assertion
                .attributes
                .iter()
                .map(|a| (a.name.clone(), a.values.clone()))
                .collect(),
        })
    }

    fn transport_error(&self, url: &str, e: &reqwest::Error) -> AttributeServiceError {
        if e.is_timeout() {
            AttributeServiceError::Timeout {
                url: url.to_string(),
                seconds: self.settings.timeout.as_secs(),
            }
        } else {
            AttributeServiceError::Unreachable {
                url: url.to_string(),
                reason: error_chain(e),
            }
        }
    }
}

/// The error with its sources, e.g. "error sending request: connection refused".
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
