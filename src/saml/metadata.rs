//! SAML 2.0 metadata (saml-metadata-2.0-os): what chsim and its built-in parties publish (signed),
//! and what chsim reads about municipal IdPs and user systems (reference §2.4).

use super::xml::{self, Element, NS_DS, NS_MD};
use super::{bindings, signing, Credential, SamlError, NAMEID_X509};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

/// An endpoint: binding and location (saml-metadata §2.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Binding URI.
    pub binding: String,
    /// URL.
    pub location: String,
    /// `ResponseLocation`: where responses go when not to `location` (SingleLogoutService).
    pub response_location: Option<String>,
}

impl Endpoint {
    /// An endpoint.
    pub fn new(binding: &str, location: impl Into<String>) -> Self {
        Self {
            binding: binding.to_string(),
            location: location.into(),
            response_location: None,
        }
    }

    /// The endpoint with a `ResponseLocation`.
    pub fn with_response_location(mut self, url: impl Into<String>) -> Self {
        self.response_location = Some(url.into());
        self
    }

    fn element(&self, name: &str) -> Element {
        Element::new(name)
            .attr("Binding", &self.binding)
            .attr("Location", &self.location)
            .attr_opt("ResponseLocation", self.response_location.clone())
    }
}

/// The role an entity plays in a metadata document.
#[derive(Debug, Clone)]
pub enum RoleSpec {
    /// `IDPSSODescriptor`.
    Idp {
        /// SingleSignOnService endpoints.
        sso: Vec<Endpoint>,
        /// SingleLogoutService endpoints (reference §2.4: CH2 requires an HTTP-Redirect one).
        slo: Vec<Endpoint>,
        /// `WantAuthnRequestsSigned`.
        want_authn_requests_signed: bool,
    },
    /// `AttributeAuthorityDescriptor` (an attribute service, reference §8.1).
    AttributeAuthority {
        /// AttributeService endpoints (SOAP).
        services: Vec<Endpoint>,
    },
    /// `SPSSODescriptor`.
    Sp {
        /// AssertionConsumerService endpoints (index = position).
        acs: Vec<Endpoint>,
        /// SingleLogoutService endpoints (reference §2.4: CH2 requires an HTTP-Redirect one).
        slo: Vec<Endpoint>,
        /// `AuthnRequestsSigned`.
        authn_requests_signed: bool,
        /// `WantAssertionsSigned`.
        want_assertions_signed: bool,
    },
}

/// Builds metadata for one entity, signed with `signer`. `encryption` adds a KeyDescriptor
/// use="encryption" (the party wants encrypted assertions).
pub fn build_signed(
    entity_id: &str,
    role: &RoleSpec,
    signer: &Credential,
    encryption: Option<&Credential>,
) -> Result<String, SamlError> {
    let id = crate::ids::new_saml_id();
    let key_descriptor = |usage: &str, cert: &Credential| {
        Element::new("md:KeyDescriptor").attr("use", usage).child(
            Element::new("ds:KeyInfo").child(
                Element::new("ds:X509Data")
                    .child(Element::new("ds:X509Certificate").text(cert.cert_base64())),
            ),
        )
    };
    let mut keys = vec![key_descriptor("signing", signer)];
    if let Some(enc) = encryption {
        keys.push(key_descriptor("encryption", enc));
    }
    let protocol = "urn:oasis:names:tc:SAML:2.0:protocol";
    let descriptor = match role {
        RoleSpec::Idp {
            sso,
            slo,
            want_authn_requests_signed,
        } => Element::new("md:IDPSSODescriptor")
            .attr("protocolSupportEnumeration", protocol)
            .attr(
                "WantAuthnRequestsSigned",
                want_authn_requests_signed.to_string(),
            )
            .children(keys)
            .children(slo.iter().map(|e| e.element("md:SingleLogoutService")))
            .child(Element::new("md:NameIDFormat").text(NAMEID_X509))
            .children(sso.iter().map(|e| e.element("md:SingleSignOnService"))),
        RoleSpec::AttributeAuthority { services } => {
            Element::new("md:AttributeAuthorityDescriptor")
                .attr("protocolSupportEnumeration", protocol)
                .children(keys)
                .children(services.iter().map(|e| e.element("md:AttributeService")))
                .child(Element::new("md:NameIDFormat").text(NAMEID_X509))
        }
        RoleSpec::Sp {
            acs,
            slo,
            authn_requests_signed,
            want_assertions_signed,
        } => Element::new("md:SPSSODescriptor")
            .attr("protocolSupportEnumeration", protocol)
            .attr("AuthnRequestsSigned", authn_requests_signed.to_string())
            .attr("WantAssertionsSigned", want_assertions_signed.to_string())
            .children(keys)
            .children(slo.iter().map(|e| e.element("md:SingleLogoutService")))
            .child(Element::new("md:NameIDFormat").text(NAMEID_X509))
            .children(acs.iter().enumerate().map(|(i, e)| {
                e.element("md:AssertionConsumerService")
                    .attr("index", i.to_string())
                    .attr("isDefault", if i == 0 { "true" } else { "false" })
            })),
    };
    let doc = Element::new("md:EntityDescriptor")
        .attr("xmlns:md", NS_MD)
        .attr("xmlns:ds", NS_DS)
        .attr("ID", &id)
        .attr("entityID", entity_id)
        .child(signing::template(&id, &signer.cert_base64()))
        .child(descriptor)
        .to_xml();
    signing::sign(&doc, signer)
}

/// What chsim needs to know about an IdP, read from its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdpDescriptor {
    /// SingleSignOnService endpoints.
    pub sso: Vec<Endpoint>,
    /// SingleLogoutService endpoints, with their ResponseLocation.
    pub slo: Vec<Endpoint>,
    /// Certificates (DER) with use="signing" or no use.
    pub signing_certs: Vec<Vec<u8>>,
    /// `WantAuthnRequestsSigned`.
    pub want_authn_requests_signed: bool,
}

/// What chsim needs to know about a service provider, read from its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpDescriptor {
    /// AssertionConsumerService endpoints with their index; the default first.
    pub acs: Vec<(u32, Endpoint)>,
    /// SingleLogoutService endpoints, with their ResponseLocation.
    pub slo: Vec<Endpoint>,
    /// Certificates (DER) with use="signing" or no use.
    pub signing_certs: Vec<Vec<u8>>,
    /// Certificates (DER) with use="encryption" or no use.
    pub encryption_certs: Vec<Vec<u8>>,
    /// `AuthnRequestsSigned`.
    pub authn_requests_signed: bool,
}

/// What chsim needs to know about an attribute service, read from its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeAuthorityDescriptor {
    /// AttributeService endpoints.
    pub services: Vec<Endpoint>,
    /// Certificates (DER) with use="signing" or no use.
    pub signing_certs: Vec<Vec<u8>>,
}

/// One entity's metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityMetadata {
    /// The entityID.
    pub entity_id: String,
    /// Its IdP role, if any.
    pub idp: Option<IdpDescriptor>,
    /// Its SP role, if any.
    pub sp: Option<SpDescriptor>,
    /// Its attribute-authority role, if any.
    pub attribute_authority: Option<AttributeAuthorityDescriptor>,
}

/// The `expected` of the [`SamlError::Malformed`] that [`parse_entity`] returns for an aggregate
/// of several entities when no entityID was named (callers point at their configuration key).
pub const AGGREGATE_NEEDS_ENTITY_ID: &str = "one md:EntityDescriptor, or an entityID to pick";

/// Parses one entity's metadata: the root `EntityDescriptor`, or the only one inside an
/// aggregate (`EntitiesDescriptor`). See [`parse_entity`] to pick one of several.
pub fn parse(text: &str) -> Result<EntityMetadata, SamlError> {
    parse_entity(text, None)
}

/// Parses the `EntityDescriptor` whose entityID is `wanted` (a root one must carry it; in an
/// aggregate it is searched for), or with `wanted = None` the root one or an aggregate's only
/// one. An aggregate of several entities without `wanted` is refused, never read as its first.
pub fn parse_entity(text: &str, wanted: Option<&str>) -> Result<EntityMetadata, SamlError> {
    let doc = xml::parse_with(text, &crate::xml_limits::XmlLimits::METADATA)?;
    let malformed = |reason: String| SamlError::Malformed {
        expected: "EntityDescriptor",
        reason,
    };
    let root = doc.root_element();
    let entities: Vec<roxmltree::Node<'_, '_>> = if xml::is(&root, NS_MD, "EntityDescriptor") {
        vec![root]
    } else if xml::is(&root, NS_MD, "EntitiesDescriptor") {
        root.descendants()
            .filter(|n| xml::is(n, NS_MD, "EntityDescriptor"))
            .collect()
    } else {
        return Err(malformed(format!(
            "the root element is `{}`, not md:EntityDescriptor or md:EntitiesDescriptor",
            root.tag_name().name()
        )));
    };
    let listed = || {
        let ids: Vec<&str> = entities
            .iter()
            .take(5)
            .map(|e| e.attribute("entityID").unwrap_or("?"))
            .collect();
        let more = if entities.len() > 5 { ", …" } else { "" };
        format!("{}{more}", ids.join(", "))
    };
    let entity = match (wanted, entities.as_slice()) {
        (_, []) => {
            return Err(malformed(
                "the aggregate holds no md:EntityDescriptor".to_string(),
            ))
        }
        (None, [one]) => *one,
        (None, many) => {
            return Err(SamlError::Malformed {
                expected: AGGREGATE_NEEDS_ENTITY_ID,
                reason: format!(
                    "it is an aggregate (md:EntitiesDescriptor) of {} entities ({}), so the entityID to trust must be named",
                    many.len(),
                    listed()
                ),
            })
        }
        (Some(id), all) => *all
            .iter()
            .find(|e| e.attribute("entityID") == Some(id))
            .ok_or_else(|| {
                malformed(format!(
                    "there is no entity `{id}` in it (it has {}: {})",
                    all.len(),
                    listed()
                ))
            })?,
    };
    let entity_id = entity
        .attribute("entityID")
        .filter(|s| !s.is_empty())
        .ok_or_else(|| malformed("the EntityDescriptor has no entityID".to_string()))?
        .to_string();
    let certs = |role: &roxmltree::Node<'_, '_>, usage: &str| -> Result<Vec<Vec<u8>>, SamlError> {
        let mut out = Vec::new();
        for kd in role
            .children()
            .filter(|c| xml::is(c, NS_MD, "KeyDescriptor"))
        {
            let key_use = kd.attribute("use");
            if key_use.is_some() && key_use != Some(usage) {
                continue;
            }
            for cert in kd
                .descendants()
                .filter(|c| xml::is(c, NS_DS, "X509Certificate"))
            {
                let b64: String = xml::text_of(&cert).split_whitespace().collect();
                let der = STANDARD
                    .decode(b64)
                    .map_err(|e| malformed(format!("a ds:X509Certificate is not base64: {e}")))?;
                openssl::x509::X509::from_der(&der).map_err(|e| {
                    malformed(format!("a ds:X509Certificate is not a certificate: {e}"))
                })?;
                out.push(der);
            }
        }
        Ok(out)
    };
    let endpoints =
        |role: &roxmltree::Node<'_, '_>, name: &str| -> Vec<(Option<u32>, bool, Endpoint)> {
            role.children()
                .filter(|c| xml::is(c, NS_MD, name))
                .filter_map(|c| {
                    let mut e = Endpoint::new(c.attribute("Binding")?, c.attribute("Location")?);
                    e.response_location = c.attribute("ResponseLocation").map(str::to_string);
                    Some((
                        c.attribute("index").and_then(|i| i.parse().ok()),
                        c.attribute("isDefault") == Some("true"),
                        e,
                    ))
                })
                .collect()
        };
    let slo = |role: &roxmltree::Node<'_, '_>| -> Vec<Endpoint> {
        endpoints(role, "SingleLogoutService")
            .into_iter()
            .map(|(_, _, e)| e)
            .collect()
    };
    let idp = match entity
        .children()
        .find(|c| xml::is(c, NS_MD, "IDPSSODescriptor"))
    {
        None => None,
        Some(role) => Some(IdpDescriptor {
            sso: endpoints(&role, "SingleSignOnService")
                .into_iter()
                .map(|(_, _, e)| e)
                .collect(),
            slo: slo(&role),
            signing_certs: certs(&role, "signing")?,
            want_authn_requests_signed: role.attribute("WantAuthnRequestsSigned") == Some("true"),
        }),
    };
    let sp = match entity
        .children()
        .find(|c| xml::is(c, NS_MD, "SPSSODescriptor"))
    {
        None => None,
        Some(role) => {
            let mut acs: Vec<(u32, bool, Endpoint)> = endpoints(&role, "AssertionConsumerService")
                .into_iter()
                .enumerate()
                .map(|(pos, (index, default, e))| (index.unwrap_or(pos as u32), default, e))
                .collect();
            // The default endpoint first (saml-metadata §2.2.3), else the lowest index.
            acs.sort_by_key(|(index, default, _)| (!default, *index));
            Some(SpDescriptor {
                acs: acs.into_iter().map(|(i, _, e)| (i, e)).collect(),
                slo: slo(&role),
                signing_certs: certs(&role, "signing")?,
                encryption_certs: certs(&role, "encryption")?,
                authn_requests_signed: role.attribute("AuthnRequestsSigned") == Some("true"),
            })
        }
    };
    let attribute_authority = match entity
        .children()
        .find(|c| xml::is(c, NS_MD, "AttributeAuthorityDescriptor"))
    {
        None => None,
        Some(role) => Some(AttributeAuthorityDescriptor {
            services: endpoints(&role, "AttributeService")
                .into_iter()
                .map(|(_, _, e)| e)
                .collect(),
            signing_certs: certs(&role, "signing")?,
        }),
    };
    Ok(EntityMetadata {
        entity_id,
        idp,
        sp,
        attribute_authority,
    })
}

/// Keeps the binding constant reachable for callers that match on endpoints.
pub fn is_redirect(e: &Endpoint) -> bool {
    e.binding == bindings::REDIRECT
}

#[cfg(test)]
mod tests;
