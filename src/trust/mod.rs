//! Trusted parties: the municipal IdPs and the user systems chsim works with, resolved from their
//! SAML metadata (builtin, file or URL) at start (reference §2.3, §2.4, §3.3).
//!
//! The Context Handler 2 metadata rules chsim enforces: an IdP needs a signing certificate
//! (without one there would be nothing to verify with — samael would silently skip verification)
//! and an HTTP-Redirect SingleSignOnService; a user system needs an HTTP-POST
//! AssertionConsumerService and, when signed requests are required, a signing certificate.
//! Both need an HTTP-Redirect SingleLogoutService on the real Context Handler; chsim accepts
//! metadata without one and says so in [`Trust::warnings`] (`chsim check-config` prints them).

use crate::assurance::{AssertedLevel, Equivalence, IdpProfile, NistLevel, NsisLevel, Requirement};
use crate::attribute_service::AttributeService;
use crate::config::{Config, ConfigProblem};
use crate::ids::{Cvr, EntityId};
use crate::oidc::OidcClient;
use crate::roles::{JobRoleCatalogue, SystemRoles};
use crate::saml::bindings;
use crate::saml::logout::SloEndpoints;
use crate::saml::metadata::{self, Endpoint};
use crate::saml::TrustedCert;
use openssl::x509::X509;
use source::{fetch_metadata, MetadataRef};
use std::collections::HashMap;
use std::sync::Arc;

mod oidc;
mod profile;
mod source;

pub use profile::Profile;

/// A municipality as chsim knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Municipality {
    /// Name.
    pub name: String,
    /// CVR.
    pub cvr: Cvr,
    /// Whether its people may continue at NemLog-in for an NSIS level its IdPs cannot reach.
    pub nemlogin_fallback: bool,
}

/// NemLog-in (MitID Erhverv) as chsim trusts it.
#[derive(Debug, Clone)]
pub struct TrustedNemlogin {
    /// entityID.
    pub entity_id: EntityId,
    /// Its HTTP-Redirect SingleSignOnService URL.
    pub sso_redirect_url: String,
    /// Signing certificates, decoded once; never empty.
    pub signing_certs: Vec<TrustedCert>,
    /// The highest NSIS level it can assert.
    pub nsis_level: NsisLevel,
}

impl TrustedNemlogin {
    /// Whether a login may fall back to NemLog-in for `requirement`: only for an NSIS level
    /// ("if the municipality's own IdP does not support NSIS", reference §7.5), and only when
    /// NemLog-in reaches it.
    pub fn can_meet(&self, requirement: Requirement, eq: &Equivalence) -> bool {
        matches!(requirement, Requirement::Nsis(_))
            && requirement.is_met_by(
                &AssertedLevel {
                    nist: None,
                    nsis: Some(self.nsis_level),
                },
                eq,
            )
    }
}

/// A municipal IdP with a federation agreement.
#[derive(Debug, Clone)]
pub struct TrustedIdp {
    /// entityID from its metadata.
    pub entity_id: EntityId,
    /// Name in the chooser.
    pub presentation_name: String,
    /// The municipality it serves.
    pub municipality: Municipality,
    /// Its HTTP-Redirect SingleSignOnService URL.
    pub sso_redirect_url: String,
    /// Signing certificates, decoded once; never empty.
    pub signing_certs: Vec<TrustedCert>,
    /// IP ranges for pre-selection.
    pub ip_ranges: Vec<ipnet::IpNet>,
    /// Whether it sends job-function roles (KenderRoller).
    pub knows_roles: bool,
    /// Whether user-system roles it sends pass through.
    pub may_send_user_system_roles: bool,
    /// How it is told the required level.
    pub profile: IdpProfile,
    /// The highest NIST level it can assert.
    pub nist_level: NistLevel,
    /// The highest NSIS level it can assert, if any.
    pub nsis_level: Option<NsisLevel>,
    /// Whether it may be asked again for a higher level.
    pub supports_step_up: bool,
    /// Whether it takes Scoping/RequesterID.
    pub supports_scoping: bool,
    /// Its SingleLogoutService endpoints (the Redirect one may be missing: see [`Trust::warnings`]).
    pub slo: SloEndpoints,
}

impl TrustedIdp {
    /// The best this IdP can assert, in words.
    pub fn describe_offer(&self) -> String {
        AssertedLevel::describe_offer(self.nist_level, self.nsis_level)
    }

    /// Whether the best this IdP can assert meets `requirement` (so it is worth offering).
    pub fn can_meet(&self, requirement: Requirement, eq: &Equivalence) -> bool {
        requirement.is_met_by(
            &AssertedLevel {
                nist: Some(self.nist_level),
                nsis: self.nsis_level,
            },
            eq,
        )
    }
}

/// A user system chsim issues to.
#[derive(Debug, Clone)]
pub struct TrustedUserSystem {
    /// entityID from its metadata.
    pub entity_id: EntityId,
    /// Name shown to people.
    pub name: String,
    /// Attribute profile.
    pub profile: Profile,
    /// HTTP-POST AssertionConsumerService endpoints with their index, default first; never
    /// empty for a SAML user system, empty for an OIDC one.
    pub acs: Vec<(u32, String)>,
    /// Signing certificates for its AuthnRequests, decoded once.
    pub signing_certs: Vec<TrustedCert>,
    /// Its encryption certificate, when it wants encrypted assertions.
    pub encryption_cert: Option<X509>,
    /// Its user-system roles and the role mappings to them (reference §6.1).
    pub roles: SystemRoles,
    /// The level it requires (reference §3.3).
    pub requirement: Requirement,
    /// Its SingleLogoutService endpoints (the Redirect one may be missing: see [`Trust::warnings`]).
    pub slo: SloEndpoints,
    /// The OIDC registration, for an OIDC user system (keyed by its `client_id`); SAML entry
    /// points refuse such a system, the OIDC ones every other.
    pub oidc: Option<Arc<OidcClient>>,
}

impl TrustedUserSystem {
    /// The ACS to answer at: the requested URL or index if the metadata lists it, else the default.
    pub fn acs_for(&self, url: Option<&str>, index: Option<u32>) -> Option<&str> {
        if let Some(url) = url {
            return self
                .acs
                .iter()
                .find(|(_, l)| l == url)
                .map(|(_, l)| l.as_str());
        }
        if let Some(index) = index {
            return self
                .acs
                .iter()
                .find(|(i, _)| *i == index)
                .map(|(_, l)| l.as_str());
        }
        self.acs.first().map(|(_, l)| l.as_str())
    }
}

/// Everyone chsim trusts.
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// IdPs in configuration order.
    pub idps: Vec<TrustedIdp>,
    /// User systems by entityID.
    pub user_systems: HashMap<EntityId, TrustedUserSystem>,
    /// Municipalities' attribute services by CVR.
    pub attribute_services: HashMap<Cvr, AttributeService>,
    /// Every municipality's job-function roles.
    pub job_roles: JobRoleCatalogue,
    /// NemLog-in, when configured.
    pub nemlogin: Option<TrustedNemlogin>,
    /// Metadata chsim accepts but the real Context Handler would refuse (reference §2.4), located
    /// by file and key: `chsim check-config` prints them as warnings, `chsim serve` logs them.
    pub warnings: Vec<ConfigProblem>,
}

impl Trust {
    /// Whether `idp` is worth offering for `requirement`: it can reach it, or its municipality
    /// falls back to a NemLog-in that can.
    pub fn offerable(&self, idp: &TrustedIdp, requirement: Requirement, eq: &Equivalence) -> bool {
        idp.can_meet(requirement, eq)
            || (idp.municipality.nemlogin_fallback
                && self
                    .nemlogin
                    .as_ref()
                    .is_some_and(|n| n.can_meet(requirement, eq)))
    }

    /// The SAML user system with this entityID (never an OIDC client of the same name).
    pub fn saml_user_system(&self, entity_id: &str) -> Option<&TrustedUserSystem> {
        self.user_systems
            .get(&EntityId::new(entity_id.to_string()))
            .filter(|u| u.oidc.is_none())
    }

    /// The OIDC user system with this `client_id`, with its registration.
    pub fn oidc_client(&self, client_id: &str) -> Option<(&TrustedUserSystem, &Arc<OidcClient>)> {
        self.user_systems
            .get(&EntityId::new(client_id.to_string()))
            .and_then(|u| u.oidc.as_ref().map(|c| (u, c)))
    }

    /// The IdP with this entityID.
    pub fn idp(&self, entity_id: &str) -> Option<&TrustedIdp> {
        self.idps.iter().find(|i| i.entity_id.as_str() == entity_id)
    }
}

/// Resolves every configured IdP and user system; returns all problems at once.
pub async fn resolve(
    config: &Config,
    builtin: &HashMap<String, String>,
) -> Result<Trust, Vec<ConfigProblem>> {
    let mut problems = Vec::new();
    let mut trust = Trust {
        job_roles: JobRoleCatalogue::from_config(&config.municipalities.job_role),
        ..Trust::default()
    };
    const MUN: &str = "municipalities.toml";
    for (i, m) in config.municipalities.municipality.iter().enumerate() {
        for (j, idp) in m.idp.iter().enumerate() {
            let r = MetadataRef::new(
                MUN,
                &format!("municipality[{i}].idp[{j}]."),
                &idp.metadata,
                idp.metadata_signing_cert.as_deref(),
                idp.entity_id.as_deref(),
            );
            let problem = |msg: String| ConfigProblem::new(MUN, r.key.clone(), msg);
            let md = match fetch_metadata(config, builtin, &r).await {
                Ok(md) => md,
                Err(p) => {
                    problems.push(p);
                    continue;
                }
            };
            let Some(role) = md.idp else {
                problems.push(problem(format!(
                    "`{}` has no IDPSSODescriptor",
                    idp.metadata
                )));
                continue;
            };
            if role.signing_certs.is_empty() {
                problems.push(problem(format!(
                    "the metadata of `{}` has no signing certificate, so its responses could not be verified; add a KeyDescriptor use=\"signing\"",
                    md.entity_id
                )));
                continue;
            }
            let Some(sso) = role.sso.iter().find(|e| metadata::is_redirect(e)) else {
                problems.push(problem(format!(
                    "the metadata of `{}` has no HTTP-Redirect SingleSignOnService (required by the Context Handler)",
                    md.entity_id
                )));
                continue;
            };
            if trust.idp(&md.entity_id).is_some() {
                problems.push(problem(format!(
                    "entityID `{}` is configured twice",
                    md.entity_id
                )));
                continue;
            }
            let slo = SloEndpoints::from_metadata(&role.slo);
            if let Some(w) = without_redirect_slo(&md.entity_id, &slo) {
                trust.warnings.push(problem(w));
            }
            let signing_certs = match decode_certs(&role.signing_certs, &md.entity_id) {
                Ok(certs) => certs,
                Err(e) => {
                    problems.push(problem(e));
                    continue;
                }
            };
            trust.idps.push(TrustedIdp {
                entity_id: EntityId::new(md.entity_id),
                presentation_name: idp.presentation_name.clone(),
                municipality: Municipality {
                    name: m.name.clone(),
                    cvr: m.cvr.clone(),
                    nemlogin_fallback: m.nemlogin_fallback,
                },
                sso_redirect_url: sso.location.clone(),
                signing_certs,
                ip_ranges: idp
                    .ip_ranges
                    .iter()
                    .filter_map(|r| r.parse().ok())
                    .collect(),
                knows_roles: idp.knows_roles,
                may_send_user_system_roles: idp.may_send_user_system_roles,
                profile: idp.profile,
                nist_level: idp.nist_level,
                nsis_level: idp.nsis_level,
                supports_step_up: idp.supports_step_up,
                supports_scoping: idp.supports_scoping,
                slo,
            });
        }
    }
    for (i, m) in config.municipalities.municipality.iter().enumerate() {
        let Some(reference) = &m.attribute_service else {
            continue;
        };
        let prefix = format!("municipality[{i}].attribute_service");
        let r = MetadataRef {
            file: MUN,
            reference,
            key: prefix.clone(),
            signing_cert: m.attribute_service_metadata_signing_cert.as_deref(),
            signing_cert_key: format!("{prefix}_metadata_signing_cert"),
            entity_id: m.attribute_service_entity_id.as_deref(),
            entity_id_key: format!("{prefix}_entity_id"),
        };
        let problem = |msg: String| ConfigProblem::new(MUN, prefix.clone(), msg);
        let md = match fetch_metadata(config, builtin, &r).await {
            Ok(md) => md,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let Some(role) = md.attribute_authority else {
            problems.push(problem(format!(
                "`{reference}` has no AttributeAuthorityDescriptor"
            )));
            continue;
        };
        let Some(soap) = role.services.iter().find(|e| e.binding == bindings::SOAP) else {
            problems.push(problem(format!(
                "the metadata of `{}` has no SOAP AttributeService",
                md.entity_id
            )));
            continue;
        };
        if role.signing_certs.is_empty() {
            problems.push(problem(format!(
                "the metadata of `{}` has no signing certificate, so its answers could not be verified",
                md.entity_id
            )));
            continue;
        }
        let signing_certs = match decode_certs(&role.signing_certs, &md.entity_id) {
            Ok(certs) => certs,
            Err(e) => {
                problems.push(problem(e));
                continue;
            }
        };
        trust.attribute_services.insert(
            m.cvr.clone(),
            AttributeService {
                entity_id: EntityId::new(md.entity_id),
                soap_url: soap.location.clone(),
                signing_certs,
            },
        );
    }
    if let Some(n) = &config.municipalities.nemlogin {
        let problem = |msg: String| ConfigProblem::new(MUN, "nemlogin.metadata", msg);
        let r = MetadataRef::new(
            MUN,
            "nemlogin.",
            &n.metadata,
            n.metadata_signing_cert.as_deref(),
            n.entity_id.as_deref(),
        );
        match fetch_metadata(config, builtin, &r).await {
            Err(p) => problems.push(p),
            Ok(md) => match md.idp {
                None => problems.push(problem(format!("`{}` has no IDPSSODescriptor", n.metadata))),
                Some(role) if role.signing_certs.is_empty() => problems.push(problem(format!(
                    "the metadata of `{}` has no signing certificate, so its responses could not be verified",
                    md.entity_id
                ))),
                Some(role) => match role.sso.iter().find(|e| metadata::is_redirect(e)) {
                    None => problems.push(problem(format!(
                        "the metadata of `{}` has no HTTP-Redirect SingleSignOnService",
                        md.entity_id
                    ))),
                    Some(sso) => match decode_certs(&role.signing_certs, &md.entity_id) {
                        Err(e) => problems.push(problem(e)),
                        Ok(signing_certs) => {
                            trust.nemlogin = Some(TrustedNemlogin {
                                entity_id: EntityId::new(md.entity_id),
                                sso_redirect_url: sso.location.clone(),
                                signing_certs,
                                nsis_level: n.nsis_level,
                            })
                        }
                    },
                },
            },
        }
    }
    const US: &str = "user_systems.toml";
    for (i, us) in config.user_systems.user_system.iter().enumerate() {
        let r = MetadataRef::new(
            US,
            &format!("user_system[{i}]."),
            &us.metadata,
            us.metadata_signing_cert.as_deref(),
            us.entity_id.as_deref(),
        );
        let problem = |msg: String| ConfigProblem::new(US, r.key.clone(), msg);
        let md = match fetch_metadata(config, builtin, &r).await {
            Ok(md) => md,
            Err(p) => {
                problems.push(p);
                continue;
            }
        };
        let Some(role) = md.sp else {
            problems.push(problem(format!("`{}` has no SPSSODescriptor", us.metadata)));
            continue;
        };
        let acs: Vec<(u32, String)> = role
            .acs
            .iter()
            .filter(|(_, e): &&(u32, Endpoint)| e.binding == bindings::POST)
            .map(|(i, e)| (*i, e.location.clone()))
            .collect();
        if acs.is_empty() {
            problems.push(problem(format!(
                "the metadata of `{}` has no HTTP-POST AssertionConsumerService (required by the Context Handler)",
                md.entity_id
            )));
            continue;
        }
        if role.signing_certs.is_empty() && config.chsim.broker.require_signed_authn_requests {
            problems.push(problem(format!(
                "the metadata of `{}` has no signing certificate, but broker.require_signed_authn_requests is true",
                md.entity_id
            )));
            continue;
        }
        let requirement = match (us.nist_level, us.nsis_level) {
            (Some(n), None) => Requirement::Nist(n),
            (None, Some(l)) => Requirement::Nsis(l),
            _ => continue, // reported by the file checks
        };
        let to_x509 = |der: &Vec<u8>| X509::from_der(der).ok();
        let signing_certs = match decode_certs(&role.signing_certs, &md.entity_id) {
            Ok(certs) => certs,
            Err(e) => {
                problems.push(problem(e));
                continue;
            }
        };
        if trust
            .user_systems
            .contains_key(&EntityId::new(md.entity_id.clone()))
        {
            problems.push(problem(format!(
                "entityID `{}` is configured twice",
                md.entity_id
            )));
            continue;
        }
        let slo = SloEndpoints::from_metadata(&role.slo);
        if let Some(w) = without_redirect_slo(&md.entity_id, &slo) {
            trust.warnings.push(problem(w));
        }
        trust.user_systems.insert(
            EntityId::new(md.entity_id.clone()),
            TrustedUserSystem {
                entity_id: EntityId::new(md.entity_id),
                name: us.name.clone(),
                profile: us.profile,
                acs,
                signing_certs,
                encryption_cert: role.encryption_certs.first().and_then(to_x509),
                roles: SystemRoles::from_config(&us.role, &us.mapping),
                requirement,
                slo,
                oidc: None,
            },
        );
    }
    oidc::add_clients(config, &mut trust, &mut problems);
    if problems.is_empty() {
        Ok(trust)
    } else {
        Err(problems)
    }
}

/// The warning for metadata without the HTTP-Redirect SingleLogoutService that the Context
/// Handler 2 metadata validation requires of every IdP and user system (reference §2.4).
fn without_redirect_slo(entity_id: &str, slo: &SloEndpoints) -> Option<String> {
    if slo.redirect.is_some() {
        return None;
    }
    let others: Vec<&str> = [("HTTP-POST", &slo.post), ("SOAP", &slo.soap)]
        .into_iter()
        .filter(|(_, e)| e.is_some())
        .map(|(name, _)| name)
        .collect();
    let reach = if others.is_empty() {
        "it has no SingleLogoutService at all, so single logout cannot reach it".to_string()
    } else {
        format!(
            "single logout can reach it only by {}",
            others.join(" and ")
        )
    };
    Some(format!(
        "the Context Handler would refuse this metadata: `{entity_id}` has no HTTP-Redirect SingleLogoutService (required of every IdP and user system); chsim accepts it, but {reach}"
    ))
}

/// A party's signing certificates from its metadata, decoded once for every message to come
/// (issue #10 §2); the error names the party and why a certificate cannot be used.
fn decode_certs(ders: &[Vec<u8>], entity_id: &str) -> Result<Vec<TrustedCert>, String> {
    ders.iter()
        .map(|der| TrustedCert::from_der(der))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("a signing certificate in the metadata of `{entity_id}`: {e}"))
}
