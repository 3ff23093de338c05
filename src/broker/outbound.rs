//! What the broker sends out: chsim's signed AuthnRequest to an IdP (reference §2.1, with the
//! level as the IdP's profile wants it, §7.4), and the signed non-success Response that ends a
//! login at the user system. Start, consume and the NemLog-in leg all send through here, so they
//! never call each other.

use super::{Broker, BrokerError, Delivery, Failure, IdpRequest, PendingLogin, SamlPost};
use crate::audit;
use crate::ids::{new_saml_id, EntityId};
use crate::saml::authn_request::{NewAuthnRequest, RequestedAuthnContext};
use crate::saml::binding::{self, MessageKind};
use crate::saml::NAMEID_X509;
use crate::token::Recipient;
use crate::trust::{TrustedIdp, TrustedUserSystem};
use url::Url;

impl Broker {
    /// Chsim's signed HTTP-Redirect AuthnRequest to `idp` for `login`: the requirement as the
    /// IdP's profile wants it (issue #3 §2, reference §7.4), Scoping naming the user system when
    /// the IdP supports it. Returns the redirect and the request's ID.
    pub(super) async fn send_to_idp(
        &self,
        login: &PendingLogin,
        idp: IdpTarget<'_>,
        user_system: &TrustedUserSystem,
        force_authn: bool,
    ) -> Result<(Url, String), BrokerError> {
        let asked = idp.profile.request(login.requirement);
        let request = NewAuthnRequest {
            id: new_saml_id(),
            issue_instant: self.clock.now(),
            destination: idp.sso_redirect_url.to_string(),
            issuer: self.settings.entity_id.to_string(),
            acs_url: Some(self.settings.acs_url.clone()),
            force_authn,
            is_passive: login.is_passive,
            name_id_format: Some(NAMEID_X509.to_string()),
            requested_authn_context: asked.class_ref.map(|c| RequestedAuthnContext {
                comparison: "minimum".into(),
                class_refs: vec![c],
            }),
            requester_ids: if idp.supports_scoping {
                vec![user_system.entity_id.to_string()]
            } else {
                Vec::new()
            },
        };
        // chsim matches the answer by InResponseTo; RelayState is free to carry the level for
        // OIOSAML3_ADFS_RELAY_STATE (a URI, within SAML's 80-byte bound).
        let relay_state = asked
            .relay_state_level
            .unwrap_or_else(|| login.id.as_str().to_string());
        let url = request
            .to_xml(None)
            .and_then(|xml| {
                binding::encode_redirect(
                    idp.sso_redirect_url,
                    MessageKind::Request,
                    &xml,
                    Some(&relay_state),
                    Some(self.settings.credential.key()),
                )
            })
            .map_err(|e| BrokerError::Token(e.to_string()))?;
        self.store
            .put_idp_request(
                &request.id,
                &IdpRequest {
                    login: login.id.clone(),
                    idp: idp.entity_id.clone(),
                },
            )
            .await?;
        audit::sent_to_idp(login.id.as_str(), idp.entity_id.as_str(), &request.id);
        Ok((url, request.id))
    }

    /// Ends `login` with `error`, preparing the signed non-success Response for the user system.
    /// (The pending login, if stored, is forgotten by the public entry point that failed.)
    pub(super) fn fail_to_user_system(
        &self,
        login: &PendingLogin,
        user_system: &TrustedUserSystem,
        error: BrokerError,
    ) -> Failure {
        audit::refused("login", &error.to_string());
        if let Some(oidc) = &login.oidc {
            let delivery = self.oidc_failure(login, oidc, &user_system.name, &error);
            return Failure {
                error,
                to_user_system: Some(delivery),
            };
        }
        let to = Recipient {
            user_system,
            acs_url: &login.acs_url,
            in_response_to: &login.request_id,
        };
        let delivery = self
            .tokens
            .issue_failure(to, self.clock.now(), error.saml_status())
            .ok()
            .map(|xml| Delivery {
                url: login.acs_url.clone(),
                saml: Some(SamlPost {
                    saml_response: binding::encode_post(&xml),
                    relay_state: login.relay_state.clone(),
                }),
                user_system_name: user_system.name.clone(),
                passive: login.is_passive,
                session: None,
            });
        Failure {
            error,
            to_user_system: delivery,
        }
    }
}

/// Where and how chsim sends an AuthnRequest: a municipal IdP, or NemLog-in.
#[derive(Debug, Clone, Copy)]
pub(super) struct IdpTarget<'a> {
    /// entityID.
    pub entity_id: &'a EntityId,
    /// HTTP-Redirect SingleSignOnService.
    pub sso_redirect_url: &'a str,
    /// How it is told the level.
    pub profile: crate::assurance::IdpProfile,
    /// Whether it takes Scoping.
    pub supports_scoping: bool,
}

impl TrustedIdp {
    /// This IdP as a target of chsim's AuthnRequests.
    pub(super) fn target(&self) -> IdpTarget<'_> {
        IdpTarget {
            entity_id: &self.entity_id,
            sso_redirect_url: &self.sso_redirect_url,
            profile: self.profile,
            supports_scoping: self.supports_scoping,
        }
    }
}
