//! `authorize.idp` (OIDC Core §3.1.2): the request is read and checked by
//! [`crate::oidc::authorize::parse`], becomes a [`PendingLogin`] with the client's redirect URI
//! where a SAML login has its ACS, and goes on exactly as a SAML login does
//! ([`Broker::proceed`]): `acr_values` raise the level as a RequestedAuthnContext does,
//! `prompt=login` is ForceAuthn, `prompt=none` is IsPassive.

use super::super::{Broker, BrokerError, Delivery, Failure, Next, PendingLogin};
use super::OidcLogin;
use crate::ids::{new_saml_id, LoginId, SessionId};
use crate::oidc::authorize::{self, AuthorizeRefusal, Prompt};
use crate::oidc::OAuthError;
use std::net::IpAddr;

impl Broker {
    /// Accepts an authorization request (its query or form parameters, URL-decoded; `idp`
    /// names the IdP as on `issue.idp`). Refusals
    /// before the client and redirect URI are verified carry no delivery (chsim shows its error
    /// page); later ones redirect to the client with `error`, `error_description` and `state`.
    pub async fn authorize(
        &self,
        params: &[(String, String)],
        session: Option<&SessionId>,
        browser: Option<&str>,
        client_ip: Option<IpAddr>,
    ) -> Result<Next, Failure> {
        let s = &self.settings;
        let lookup = |id: &str| self.trust.oidc_client(id).map(|(_, c)| c.clone());
        let (client, request) = match authorize::parse(params, &s.equivalence, lookup) {
            Ok(parsed) => parsed,
            Err(refusal) => return Err(self.refused(refusal)),
        };
        let Some((user_system, _)) = self.trust.oidc_client(&client.client_id) else {
            // parse() found it; this cannot fail, but a stranger never gets a panic.
            return Err(BrokerError::UnknownUserSystem {
                issuer: client.client_id.clone(),
            }
            .into());
        };
        let raised = request
            .acr_minimum
            .map(|r| (r, user_system.requirement.raised_by(r, &s.equivalence)));
        let login = PendingLogin {
            id: LoginId::new(new_saml_id()),
            user_system: user_system.entity_id.clone(),
            request_id: String::new(),
            acs_url: request.redirect_uri.clone(),
            relay_state: None,
            force_authn: request.prompt == Prompt::Login,
            is_passive: request.prompt == Prompt::None,
            requested_authn_context: None,
            requirement: match raised {
                Some((_, Some(r))) => r,
                _ => user_system.requirement,
            },
            stepped_up: false,
            first_leg: None,
            session: None,
            idp_request: None,
            browser: browser.map(super::super::browser_digest),
            oidc: Some(Box::new(OidcLogin {
                state: request.state.clone(),
                nonce: request.nonce.clone(),
                code_challenge: request.code_challenge.clone(),
                scope: request.scope.join(" "),
                max_age: request.max_age,
            })),
        };
        if let Some((requested, None)) = raised {
            return Err(self.fail_to_user_system(
                &login,
                user_system,
                BrokerError::requested_level_unreachable(user_system, requested),
            ));
        }
        // `idp` (chsim's extension, as on issue.idp): skip the chooser.
        let idp_hint = params
            .iter()
            .find(|(n, v)| n == "idp" && !v.is_empty())
            .map(|(_, v)| v.as_str());
        self.proceed(login, user_system, session, idp_hint, client_ip)
            .await
    }

    /// A refusal of [`authorize::parse`] as a failure: an error page, or a redirect that goes
    /// back at once (RFC 6749 §4.1.2.1).
    fn refused(&self, refusal: AuthorizeRefusal) -> Failure {
        match refusal {
            AuthorizeRefusal::Page(reason) => Failure {
                error: BrokerError::OidcRequest(OAuthError::invalid_request(reason)),
                to_user_system: None,
            },
            AuthorizeRefusal::Redirect {
                redirect_uri,
                state,
                error,
            } => {
                crate::audit::refused("authorize", &error.to_string());
                let url = authorize::error_redirect(
                    &redirect_uri,
                    state.as_deref(),
                    &error,
                    &self.settings.oidc_endpoints.issuer,
                );
                Failure {
                    error: BrokerError::OidcRequest(error),
                    to_user_system: Some(Delivery {
                        url,
                        saml: None,
                        user_system_name: String::new(),
                        passive: true,
                        session: None,
                    }),
                }
            }
        }
    }
}
