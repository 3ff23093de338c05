//! A local attribute service on loopback that answers chsim's SOAP AttributeQuery as a test says
//! — correctly or not ([`serve`]) — with a genuine signed answer to start from ([`answer`]), and
//! the demo configuration with it registered by metadata URL as Søby Kommune's ([`config_with`]).

use super::{demo_config, key};
use chrono::Duration;
use chsim::config::Config;
use chsim::saml::attribute_query::{parse_query, read_soap, soap_envelope, SoapBody};
use chsim::saml::metadata::{self, Endpoint, RoleSpec};
use chsim::saml::response::{self, NewAssertion, NewAttribute, NewResponse, SignedElement, Status};
use chsim::saml::{bindings, signing, Credential, NAMEID_X509};
use std::future::Future;
use std::sync::Arc;

/// A well-formed privilege list (base64 OIOBPP with Sara's job role).
pub const GOOD: &str = "PGJwcDpQcml2aWxlZ2VMaXN0IHhtbG5zOmJwcD0iaHR0cDovL2l0c3QuZGsvb2lvc2FtbC9iYXNpY19wcml2aWxlZ2VfcHJvZmlsZSI+PFByaXZpbGVnZUdyb3VwIFNjb3BlPSJ1cm46ZGs6Z292OnNhbWw6Y3ZyTnVtYmVySWRlbnRpZmllcjo0NDQ0NDQ0NCI+PFByaXZpbGVnZT5odHRwOi8vc29lYnkuZGsvcm9sZXMvam9icm9sZS9zYWdzYmVoYW5kbGVyLzE8L1ByaXZpbGVnZT48L1ByaXZpbGVnZUdyb3VwPjwvYnBwOlByaXZpbGVnZUxpc3Q+";

/// The genuine Søby attribute service's key, which its served metadata names.
pub fn genuine() -> Credential {
    key("test-attribute-service-soeby")
}

/// A signed (or deliberately broken) answer to the AttributeQuery in `body`.
pub fn answer(
    body: &str,
    entity_id: &str,
    signer: &Credential,
    unsigned: bool,
    privileges: &str,
) -> String {
    answer_tweaked(body, entity_id, signer, unsigned, privileges, |_, _| {})
}

/// As [`answer`], with the Response and Assertion changed by `tweak` before signing.
pub fn answer_tweaked(
    body: &str,
    entity_id: &str,
    signer: &Credential,
    unsigned: bool,
    privileges: &str,
    tweak: impl FnOnce(&mut NewResponse, &mut NewAssertion),
) -> String {
    let SoapBody::Message(xml) = read_soap(body).unwrap() else {
        panic!()
    };
    let q = parse_query(&xml).unwrap();
    let now = chsim::clock::Clock::now(&chsim::clock::SystemClock);
    let r = NewResponse {
        id: chsim::ids::new_saml_id(),
        issue_instant: now,
        destination: q.issuer.clone(),
        in_response_to: Some(q.id.clone()),
        issuer: entity_id.into(),
        status: Status::success(),
    };
    let a = NewAssertion {
        id: chsim::ids::new_saml_id(),
        issue_instant: now,
        issuer: entity_id.into(),
        name_id: q.name_id.clone(),
        name_id_format: NAMEID_X509.into(),
        in_response_to: Some(q.id.clone()),
        recipient: q.issuer.clone(),
        not_before: now,
        not_on_or_after: now + Duration::minutes(5),
        audience: q.issuer.clone(),
        authn_instant: now,
        session_index: None,
        authn_context_class_ref: "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified".into(),
        authenticating_authority: None,
        attributes: vec![NewAttribute {
            name: "dk:gov:saml:attribute:Privileges_intermediate".into(),
            name_format: "urn:oasis:names:tc:SAML:2.0:attrname-format:basic".into(),
            friendly_name: None,
            values: vec![privileges.into()],
        }],
    };
    let (mut r, mut a) = (r, a);
    tweak(&mut r, &mut a);
    let xml = if unsigned {
        response::build_unsigned(&r, &a, signer, SignedElement::Assertion).replace(
            &signing::template(&a.id, &signer.cert_base64()).to_xml(),
            "",
        )
    } else {
        response::build(&r, Some(&a), signer, SignedElement::Assertion, None).unwrap()
    };
    soap_envelope(response::strip_declaration(&xml))
}

/// Serves, on a fresh loopback port, metadata naming the genuine Søby service key and a SOAP
/// endpoint at `soap_url` (default: `<base>/soap` on that port) where `respond(query body,
/// entity_id)` gives each HTTP status and body; returns the metadata URL.
pub async fn serve<F, Fut>(soap_url: Option<String>, respond: F) -> String
where
    F: Fn(String, String) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = (u16, String)> + Send + 'static,
{
    use axum::routing::{get, post};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let soap_url = soap_url.unwrap_or_else(|| format!("{base}/soap"));
    let entity_id = format!("{base}/as");
    let md = metadata::build_signed(
        &entity_id,
        &RoleSpec::AttributeAuthority {
            services: vec![Endpoint::new(bindings::SOAP, soap_url)],
        },
        &genuine(),
        None,
    )
    .unwrap();
    let entity_id = Arc::new(entity_id);
    let app = axum::Router::new()
        .route("/metadata", get(move || async move { md }))
        .route(
            "/soap",
            post(move |body: String| {
                let (respond, entity_id) = (respond.clone(), entity_id.clone());
                async move {
                    let (status, text) = respond(body, entity_id.to_string()).await;
                    (axum::http::StatusCode::from_u16(status).unwrap(), text)
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("{base}/metadata")
}

/// The demo configuration with the service at `metadata_url` as Søby Kommune's attribute
/// service (Søby's IdP has knows_roles = false, so chsim asks it at every Søby login), and a
/// 1 s timeout.
pub fn config_with(metadata_url: &str) -> Config {
    let mut config = demo_config();
    config.chsim.attribute_service.timeout_seconds = 1;
    config.municipalities.municipality[2].attribute_service = Some(metadata_url.into());
    // Served over plain http on loopback: chsim trusts it only because it is signed (issue #8 §6).
    config.municipalities.municipality[2].attribute_service_metadata_signing_cert =
        Some("../keys/test-attribute-service-soeby.cert.pem".into());
    config
}
