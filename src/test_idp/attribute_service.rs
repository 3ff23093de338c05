//! chsim's built-in test attribute service: a separate SAML party (own entityID, keys, metadata)
//! at `/test-attribute-service/<id>/soap` that answers chsim's signed SOAP AttributeQuery with a
//! signed assertion carrying the person's job-function roles as OIOBPP (reference §8.1, the CH1
//! sample AssertionAttributeServiceToContextHandler). It knows the users of one test IdP.

use super::{ChsimAsSp, TestIdp};
use crate::clock::Clock;
use crate::config::{TestAttributeServiceConfig, TestUserConfig};
use crate::ids::new_saml_id;
use crate::saml::attribute_query::{parse_query, read_soap, soap_envelope, soap_fault, SoapBody};
use crate::saml::metadata::{self, Endpoint, RoleSpec};
use crate::saml::oiosaml::{oiosaml2, FORMAT_BASIC};
use crate::saml::response::{self, NewAssertion, NewAttribute, NewResponse, SignedElement, Status};
use crate::saml::signing::{self, AlgorithmPolicy};
use crate::saml::{bindings, status, Credential, SamlError, SubjectName, NAMEID_X509};
use chrono::Duration;
use std::sync::Arc;

/// One built-in test attribute service.
#[derive(Debug)]
pub struct TestAttributeService {
    config: TestAttributeServiceConfig,
    entity_id: String,
    base_url: String,
    credential: Credential,
    chsim: ChsimAsSp,
    idp: Arc<TestIdp>,
    clock: Arc<dyn Clock>,
}

impl TestAttributeService {
    /// A service under `<public_url>/test-attribute-service/<id>` answering for `idp`'s users.
    pub fn new(
        config: TestAttributeServiceConfig,
        public_url: &str,
        credential: Credential,
        chsim: ChsimAsSp,
        idp: Arc<TestIdp>,
        clock: Arc<dyn Clock>,
    ) -> Self {
        let base_url = format!("{public_url}/test-attribute-service/{}", config.id);
        Self {
            entity_id: base_url.clone(),
            base_url,
            config,
            credential,
            chsim,
            idp,
            clock,
        }
    }

    /// Its configuration.
    pub fn config(&self) -> &TestAttributeServiceConfig {
        &self.config
    }

    /// Its entityID.
    pub fn entity_id(&self) -> &str {
        &self.entity_id
    }

    /// Its SOAP endpoint.
    pub fn soap_url(&self) -> String {
        format!("{}/soap", self.base_url)
    }

    /// Its signed metadata.
    pub fn metadata_xml(&self) -> Result<String, SamlError> {
        metadata::build_signed(
            &self.entity_id,
            &RoleSpec::AttributeAuthority {
                services: vec![Endpoint::new(bindings::SOAP, self.soap_url())],
            },
            &self.credential,
            None,
        )
    }

    /// Answers one SOAP request: a signed Response, or a SOAP fault saying what was wrong.
    /// Returns (is_fault, body).
    pub fn answer(&self, soap_request: &str) -> (bool, String) {
        match self.try_answer(soap_request) {
            Ok(xml) => (false, soap_envelope(response::strip_declaration(&xml))),
            Err(message) => (true, soap_fault("s:Client", &message)),
        }
    }

    fn try_answer(&self, soap_request: &str) -> Result<String, String> {
        let SoapBody::Message(query_xml) = read_soap(soap_request).map_err(|e| e.to_string())?
        else {
            return Err("the request is a SOAP fault, not an AttributeQuery".into());
        };
        // Only chsim may ask, and its query must be signed.
        let certs = &self.chsim.signing_certs;
        let verified = signing::verify_and_reduce(&query_xml, certs, AlgorithmPolicy::default())
            .map_err(|e| format!("the AttributeQuery is not signed by chsim: {e}"))?;
        let query = parse_query(&verified).map_err(|e| e.to_string())?;
        if query.issuer != self.chsim.entity_id {
            return Err(format!(
                "only chsim (`{}`) may ask, not `{}`",
                self.chsim.entity_id, query.issuer
            ));
        }
        let now = self.clock.now();
        let envelope = |status: Status| NewResponse {
            id: new_saml_id(),
            issue_instant: now,
            destination: self.chsim.entity_id.clone(),
            in_response_to: Some(query.id.clone()),
            issuer: self.entity_id.clone(),
            status,
        };
        let Some(user) = self.user_for(&query.name_id) else {
            let unknown = Status {
                code: status::REQUESTER.into(),
                sub_code: Some("urn:oasis:names:tc:SAML:2.0:status:UnknownPrincipal".into()),
                message: Some(format!(
                    "no user `{}` at this attribute service",
                    query.name_id
                )),
            };
            return response::build(
                &envelope(unknown),
                None,
                &self.credential,
                SignedElement::Response,
                None,
            )
            .map_err(|e| e.to_string());
        };
        let mut attributes = Vec::new();
        if self.idp.has_privileges(user) {
            attributes.push(NewAttribute {
                name: oiosaml2::PRIVILEGES.into(),
                name_format: FORMAT_BASIC.into(),
                friendly_name: Some("Privileges".into()),
                values: vec![self.idp.oiobpp(user)],
            });
        }
        // The person's extra attributes, e.g. parametric constraint values (reference §4.2).
        attributes.extend(user.attribute.iter().map(|x| NewAttribute {
            name: x.name.clone(),
            name_format: FORMAT_BASIC.into(),
            friendly_name: None,
            values: x.values.clone(),
        }));
        let assertion = NewAssertion {
            id: new_saml_id(),
            issue_instant: now,
            issuer: self.entity_id.clone(),
            name_id: query.name_id.clone(),
            name_id_format: NAMEID_X509.into(),
            in_response_to: Some(query.id.clone()),
            recipient: self.chsim.entity_id.clone(),
            not_before: now,
            not_on_or_after: now + Duration::minutes(5),
            audience: self.chsim.entity_id.clone(),
            authn_instant: now,
            session_index: None,
            authn_context_class_ref: "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified".into(),
            authenticating_authority: None,
            attributes,
        };
        response::build(
            &envelope(Status::success()),
            Some(&assertion),
            &self.credential,
            SignedElement::Assertion,
            None,
        )
        .map_err(|e| e.to_string())
    }

    /// The test user a NameID names (by Serial, within this municipality's CVR).
    fn user_for(&self, name_id: &str) -> Option<&TestUserConfig> {
        let name = SubjectName::parse(name_id).ok()?;
        if name.o.as_deref() != Some(self.idp.config().cvr.as_str()) {
            return None;
        }
        let serial = name.serial?;
        self.idp.config().user.iter().find(|u| u.serial == serial)
    }
}
