//! Unit tests of SAML metadata: published roles parse back, aggregates are searched, and
//! SingleLogoutService endpoints keep their ResponseLocation.

use super::*;

fn cred() -> Credential {
    Credential::from_pem(
        include_bytes!("../../../keys/broker.key.pem"),
        include_bytes!("../../../keys/broker.cert.pem"),
    )
    .unwrap()
}

#[test]
fn published_sp_metadata_is_signed_and_parses_back() {
    let c = cred();
    let xml = build_signed(
        "https://sp",
        &RoleSpec::Sp {
            acs: vec![Endpoint::new(bindings::POST, "https://sp/acs")],
            slo: vec![Endpoint::new(bindings::REDIRECT, "https://sp/slo")
                .with_response_location("https://sp/slo-done")],
            authn_requests_signed: true,
            want_assertions_signed: true,
        },
        &c,
        Some(&c),
    )
    .unwrap();
    signing::verify_and_reduce(&xml, &[c.trusted_cert()], Default::default()).unwrap();
    let md = parse(&xml).unwrap();
    assert_eq!(md.entity_id, "https://sp");
    let sp = md.sp.unwrap();
    assert_eq!(sp.acs[0].1.location, "https://sp/acs");
    assert_eq!(sp.signing_certs, vec![c.cert_der().to_vec()]);
    assert_eq!(sp.encryption_certs.len(), 1);
    assert_eq!(
        sp.slo,
        vec![Endpoint::new(bindings::REDIRECT, "https://sp/slo")
            .with_response_location("https://sp/slo-done")]
    );
    assert!(md.idp.is_none());
}

#[test]
fn idp_metadata_publishes_single_logout_per_binding_in_schema_order() {
    let c = cred();
    let slo = vec![
        Endpoint::new(bindings::REDIRECT, "https://i/slo").with_response_location("https://i/done"),
        Endpoint::new(bindings::POST, "https://i/slo").with_response_location("https://i/done"),
        Endpoint::new(bindings::SOAP, "https://i/soap"),
    ];
    let xml = build_signed(
        "https://i",
        &RoleSpec::Idp {
            sso: vec![Endpoint::new(bindings::REDIRECT, "https://i/sso")],
            slo: slo.clone(),
            want_authn_requests_signed: true,
        },
        &c,
        None,
    )
    .unwrap();
    // saml-metadata §2.4.2/§2.4.3: KeyDescriptor, SingleLogoutService, NameIDFormat,
    // SingleSignOnService.
    let at = |s: &str| xml.find(s).unwrap();
    assert!(at("<md:KeyDescriptor") < at("<md:SingleLogoutService"));
    assert!(at("<md:SingleLogoutService") < at("<md:NameIDFormat"));
    assert!(at("<md:NameIDFormat") < at("<md:SingleSignOnService"));
    assert!(xml.contains(r#"ResponseLocation="https://i/done""#));
    let idp = parse(&xml).unwrap().idp.unwrap();
    assert_eq!(idp.slo, slo);
    assert_eq!(idp.sso[0].response_location, None);
}

#[test]
fn idp_metadata_without_certificate_has_no_signing_certs() {
    let xml = r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x">
      <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
      <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://i/sso"/>
      </md:IDPSSODescriptor></md:EntityDescriptor>"#;
    let md = parse(xml).unwrap();
    assert!(md.idp.unwrap().signing_certs.is_empty());
}

fn idp_entity(id: &str) -> String {
    format!(
        r#"<md:EntityDescriptor entityID="{id}"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{id}/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#
    )
}

fn aggregate(ids: &[&str]) -> String {
    format!(
        r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">{}</md:EntitiesDescriptor>"#,
        ids.iter().map(|i| idp_entity(i)).collect::<String>()
    )
}

#[test]
fn an_aggregate_is_searched_for_the_named_entity_not_read_as_its_first() {
    let xml = aggregate(&["https://a", "https://b", "https://c"]);
    let md = parse_entity(&xml, Some("https://b")).unwrap();
    assert_eq!(md.entity_id, "https://b");
    assert_eq!(md.idp.unwrap().sso[0].location, "https://b/sso");
}

#[test]
fn an_aggregate_of_several_entities_without_an_entity_id_is_refused() {
    let xml = aggregate(&["https://a", "https://b"]);
    let err = parse(&xml).unwrap_err();
    assert!(
        matches!(err, SamlError::Malformed { expected, ref reason }
            if expected == AGGREGATE_NEEDS_ENTITY_ID && reason.contains("https://a, https://b")),
        "{err}"
    );
    assert_eq!(
        parse(&aggregate(&["https://a"])).unwrap().entity_id,
        "https://a"
    );
}

#[test]
fn a_named_entity_missing_from_the_metadata_is_refused_with_what_is_there() {
    let err = parse_entity(&aggregate(&["https://a"]), Some("https://z")).unwrap_err();
    assert!(err.to_string().contains("no entity `https://z`"), "{err}");
    let single = aggregate(&["https://a"])
        .replace(
            r#"<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">"#,
            "",
        )
        .replace("</md:EntitiesDescriptor>", "")
        .replacen(
            "<md:EntityDescriptor ",
            r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" "#,
            1,
        );
    let err = parse_entity(&single, Some("https://z")).unwrap_err();
    assert!(err.to_string().contains("no entity `https://z`"), "{err}");
}

#[test]
fn attribute_service_metadata_round_trips() {
    let c = cred();
    let xml = build_signed(
        "https://as",
        &RoleSpec::AttributeAuthority {
            services: vec![Endpoint::new(bindings::SOAP, "https://as/soap")],
        },
        &c,
        None,
    )
    .unwrap();
    let aa = parse(&xml).unwrap().attribute_authority.unwrap();
    assert_eq!(
        aa.services,
        vec![Endpoint::new(bindings::SOAP, "https://as/soap")]
    );
    assert_eq!(aa.signing_certs, vec![c.cert_der().to_vec()]);
}
