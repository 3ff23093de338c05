//! Rendering an [`Identity`] as the signed (and, when the user system has an encryption key,
//! encrypted) SAML Response of the user system's attribute profile (reference §3.2, §4.3, §4.4).

use super::{Identity, TokenError};
use crate::ids::{new_saml_id, EntityId};
use crate::saml::encryption::EncryptionSuite;
use crate::saml::oiosaml::{oiosaml2, oiosaml3, FORMAT_BASIC, FORMAT_URI};
use crate::saml::response::{
    self, EncryptFor, NewAssertion, NewAttribute, NewResponse, SignedElement, Status,
};
use crate::saml::{Credential, NAMEID_X509};
use crate::trust::Profile;
use crate::trust::TrustedUserSystem;
use chrono::{DateTime, Duration, Utc};

/// chsim's token issuer.
#[derive(Debug, Clone)]
pub struct TokenIssuer {
    /// chsim's entityID.
    pub entity_id: EntityId,
    /// Signing key.
    pub credential: Credential,
    /// Assertion lifetime.
    pub lifetime: Duration,
}

/// Where and to what the token answers.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    /// The user system.
    pub user_system: &'a TrustedUserSystem,
    /// Its ACS.
    pub acs_url: &'a str,
    /// The user system's AuthnRequest ID.
    pub in_response_to: &'a str,
}

fn attr(name: &str, format: &str, value: impl Into<String>) -> NewAttribute {
    NewAttribute {
        name: name.to_string(),
        name_format: format.to_string(),
        friendly_name: None,
        values: vec![value.into()],
    }
}

/// The attribute set and AuthnContextClassRef for a profile.
pub fn profile_attributes(profile: Profile, facts: &Identity) -> (Vec<NewAttribute>, String) {
    match profile {
        Profile::Oiosaml3 => {
            let f = FORMAT_URI;
            let mut a = vec![
                attr(oiosaml3::SPEC_VERSION, f, oiosaml3::SPEC_VERSION_VALUE),
                attr(oiosaml3::KOMBIT_SPEC_VER, f, "2.0"),
            ];
            if let Some(loa) = facts.nsis_level {
                a.push(attr(oiosaml3::LOA, f, loa.word()));
            }
            if let Some(level) = facts.nist_level {
                a.push(attr(oiosaml2::ASSURANCE_LEVEL, f, level.to_string()));
            }
            a.push(attr(oiosaml3::CVR, f, facts.cvr.as_str()));
            if let Some(org) = &facts.org_name {
                a.push(attr(oiosaml3::ORG_NAME, f, org.clone()));
            }
            if let Some(email) = &facts.email {
                a.push(attr(oiosaml3::EMAIL, f, email.clone()));
            }
            if let Some(p) = &facts.privileges {
                a.push(attr(oiosaml3::PRIVILEGES, f, p.clone()));
            }
            let class = match (facts.nsis_level, facts.nist_level) {
                (Some(loa), _) => loa.class_ref(),
                (None, Some(n)) => n.class_ref(),
                (None, None) => "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified".to_string(),
            };
            (a, class)
        }
        Profile::Oiosaml2 => {
            let f = FORMAT_BASIC;
            let mut a = vec![
                attr(oiosaml2::SPEC_VER, f, oiosaml2::SPEC_VER_VALUE),
                attr(oiosaml2::KOMBIT_SPEC_VER, f, "1.0"),
            ];
            if let Some(level) = facts.nist_level {
                a.push(attr(oiosaml2::ASSURANCE_LEVEL, f, level.to_string()));
            }
            a.push(attr(oiosaml2::CVR, f, facts.cvr.as_str()));
            if let Some(p) = &facts.privileges {
                let mut privileges = attr(oiosaml2::PRIVILEGES, f, p.clone());
                privileges.friendly_name = Some("Privileges".to_string());
                a.push(privileges);
            }
            (a, oiosaml2::X509_CLASS.to_string())
        }
    }
}

impl TokenIssuer {
    /// Issues a successful login to the user system. Returns the Response XML.
    pub fn issue(
        &self,
        facts: &Identity,
        to: Recipient<'_>,
        now: DateTime<Utc>,
        session_index: &str,
    ) -> Result<String, TokenError> {
        let (attributes, class_ref) = profile_attributes(to.user_system.profile, facts);
        let assertion = NewAssertion {
            id: new_saml_id(),
            issue_instant: now,
            issuer: self.entity_id.to_string(),
            name_id: facts.name_id.clone(),
            name_id_format: NAMEID_X509.to_string(),
            in_response_to: Some(to.in_response_to.to_string()),
            recipient: to.acs_url.to_string(),
            not_before: now,
            not_on_or_after: now + self.lifetime,
            audience: to.user_system.entity_id.to_string(),
            authn_instant: facts.authn_instant,
            session_index: Some(session_index.to_string()),
            authn_context_class_ref: class_ref,
            authenticating_authority: Some(facts.idp.to_string()),
            attributes,
        };
        let suite = match to.user_system.profile {
            Profile::Oiosaml3 => EncryptionSuite::Aes256GcmRsaOaepSha256,
            Profile::Oiosaml2 => EncryptionSuite::Aes256CbcRsaOaepMgf1p,
        };
        let encrypt = to
            .user_system
            .encryption_cert
            .as_ref()
            .map(|cert| EncryptFor { cert, suite });
        Ok(response::build(
            &self.envelope(to, now, Status::success()),
            Some(&assertion),
            &self.credential,
            SignedElement::Assertion,
            encrypt,
        )?)
    }

    /// Issues a non-success Response (signed) so the user system learns what happened.
    pub fn issue_failure(
        &self,
        to: Recipient<'_>,
        now: DateTime<Utc>,
        status: Status,
    ) -> Result<String, TokenError> {
        Ok(response::build(
            &self.envelope(to, now, status),
            None,
            &self.credential,
            SignedElement::Response,
            None,
        )?)
    }

    fn envelope(&self, to: Recipient<'_>, now: DateTime<Utc>, status: Status) -> NewResponse {
        NewResponse {
            id: new_saml_id(),
            issue_instant: now,
            destination: to.acs_url.to_string(),
            in_response_to: Some(to.in_response_to.to_string()),
            issuer: self.entity_id.to_string(),
            status,
        }
    }
}
