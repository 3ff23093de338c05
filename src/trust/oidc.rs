//! OIDC user systems (`[[oidc_user_system]]`, issue #11 §1) as trusted parties: each becomes a
//! [`TrustedUserSystem`] keyed by its `client_id`, so that the broker maps roles, enforces the
//! level and keeps the SSO session for it exactly as for a SAML user system. The registration's
//! rules were checked by `check-config`; what is left here is what needs the SAML user systems
//! too (a `client_id` that is also an entityID would make the two indistinguishable).

use super::{Profile, Trust, TrustedUserSystem};
use crate::assurance::Requirement;
use crate::config::{jwks_of, resolved, Config, ConfigProblem};
use crate::ids::EntityId;
use crate::oidc::registration::RefreshPolicy;
use crate::oidc::OidcClient;
use crate::roles::SystemRoles;
use crate::saml::logout::SloEndpoints;
use chrono::Duration;
use std::sync::Arc;

const US: &str = "user_systems.toml";

/// Adds every OIDC user system to `trust`, or a problem for each that cannot be.
pub(super) fn add_clients(config: &Config, trust: &mut Trust, problems: &mut Vec<ConfigProblem>) {
    for (i, o) in config.user_systems.oidc_user_system.iter().enumerate() {
        let key = format!("oidc_user_system[{i}]");
        let requirement = match (o.nist_level, o.nsis_level) {
            (Some(n), None) => Requirement::Nist(n),
            (None, Some(l)) => Requirement::Nsis(l),
            _ => continue, // reported by the file checks
        };
        let jwks = match jwks_of(&config.source, o) {
            Ok(jwks) => jwks,
            Err(e) => {
                problems.push(ConfigProblem::new(US, format!("{key}.jwks"), e));
                continue;
            }
        };
        let id = EntityId::new(o.client_id.clone());
        if trust.user_systems.contains_key(&id) {
            problems.push(ConfigProblem::new(
                US,
                format!("{key}.client_id"),
                format!(
                    "`{}` is also the entityID of a SAML user system; chsim tells the two apart by this name, so give the OIDC system another client_id",
                    o.client_id
                ),
            ));
            continue;
        }
        let minutes = |m: u32| Duration::minutes(i64::from(m));
        let client = OidcClient {
            client_id: o.client_id.clone(),
            application_type: o.application_type,
            auth_method: o.token_endpoint_auth_method,
            client_secret: o.client_secret.clone().filter(|s| !s.is_empty()),
            jwks,
            redirect_uris: o
                .redirect_uris
                .iter()
                .map(|u| resolved(config, u))
                .collect(),
            post_logout_redirect_uri: o
                .post_logout_redirect_uri
                .as_deref()
                .map(|u| resolved(config, u)),
            frontchannel_logout_uri: o
                .frontchannel_logout_uri
                .as_deref()
                .map(|u| resolved(config, u)),
            backchannel_logout_uri: o
                .backchannel_logout_uri
                .as_deref()
                .map(|u| resolved(config, u)),
            signed_response_alg: o.signed_response_alg,
            encryption: o
                .encrypted_response_alg
                .map(|alg| (alg, o.encrypted_response_enc.unwrap_or_default())),
            token_lifetime: minutes(o.token_lifetime_minutes),
            refresh: o.issue_refresh_token.then(|| RefreshPolicy {
                rotation: o.use_token_rotation,
                lifetime: minutes(o.refresh_token_lifetime_minutes),
            }),
        };
        trust.user_systems.insert(
            id.clone(),
            TrustedUserSystem {
                entity_id: id,
                name: o.name.clone(),
                // Its claims are the OIOSAML3 attributes (reference §5 [INF]).
                profile: Profile::Oiosaml3,
                acs: Vec::new(),
                signing_certs: Vec::new(),
                encryption_cert: None,
                roles: SystemRoles::from_config(&o.role, &o.mapping),
                requirement,
                slo: SloEndpoints::default(),
                oidc: Some(Arc::new(client)),
            },
        );
    }
}
