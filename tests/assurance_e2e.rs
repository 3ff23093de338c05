//! Assurance levels end to end (issue #3 §6): logins through the real router on a loopback port
//! against the demo configuration and variants of it — what each IdP profile is asked, who is
//! admitted at which level, who is refused (and what the user system is told), step-up, robots,
//! and a user system raising the bar in its AuthnRequest.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use chsim::assurance::{IdpProfile, NistLevel, NsisLevel};
use chsim::saml::binding;
use chsim::saml::status;
use common::*;

const LOA: &str = "https://data.gov.dk/concept/core/nsis/loa";

/// Starts a login at demo SP `sp` with `?idp=` (and extra query parameters); returns the page
/// the browser ends on (the test IdP's, normally).
async fn begin(
    chsim: &Chsim,
    browser: &Browser,
    sp: &str,
    idp: &str,
    extra: &[(&str, &str)],
) -> Outcome {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", &format!("{}/test-idp/{idp}", chsim.base));
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    browser
        .get(&format!("{}/demo-sp/{sp}/login?{}", chsim.base, q.finish()))
        .await
}

/// chsim's AuthnRequest to the IdP (the XML inside the redirect that ends on the IdP's page)
/// and its RelayState.
fn request_to_idp(idp_page: &Outcome) -> (String, Option<String>) {
    let msg = redirect_request(&idp_page.url);
    (msg.xml, msg.relay_state)
}

/// The `<samlp:RequestedAuthnContext>` element exactly as sent, if any.
fn requested_context(xml: &str) -> Option<String> {
    let start = xml.find("<samlp:RequestedAuthnContext")?;
    let end = xml.find("</samlp:RequestedAuthnContext>")? + "</samlp:RequestedAuthnContext>".len();
    Some(xml[start..end].to_string())
}

fn minimum(class_ref: &str) -> Option<String> {
    Some(format!(
        r#"<samlp:RequestedAuthnContext Comparison="minimum"><saml:AuthnContextClassRef>{class_ref}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"#
    ))
}

/// The demo configuration with Korsbæk's IdP changed by `f`.
fn with_korsbaek(f: impl FnOnce(&mut chsim::config::IdpConfig)) -> chsim::config::Config {
    let mut config = demo_config();
    f(&mut config.municipalities.municipality[0].idp[0]);
    config
}

/// The status of the non-success Response the error page offers to return to the user system.
fn status_to_user_system(page: &Outcome) -> String {
    let (_, fields) = forms(&page.body)
        .into_iter()
        .find(|(a, _)| a.contains("/demo-sp/"))
        .unwrap_or_else(|| panic!("no Return form on:\n{}", page.body));
    let xml = binding::decode_post(&fields[0].1, 1_000_000).unwrap();
    assert!(!xml.contains("<saml:Assertion"), "{xml}");
    let code = |name: &str| {
        let doc = chsim::saml::xml::parse(&xml).unwrap();
        let n = doc
            .descendants()
            .filter(|n| n.tag_name().name() == name)
            .map(|n| n.attribute("Value").unwrap_or("").to_string())
            .collect::<Vec<_>>();
        n.join(" ")
    };
    code("StatusCode")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_idp_profile_is_asked_for_the_level_in_its_own_form() {
    let multipleauthn = "http://schemas.microsoft.com/claims/multipleauthn";
    let cases: [(IdpProfile, &str, Option<String>, Option<&str>); 6] = [
        (
            IdpProfile::Oiosaml2,
            "oiosaml2",
            minimum("urn:dk:gov:saml:attribute:AssuranceLevel:3"),
            None,
        ),
        (
            IdpProfile::Oiosaml2AdfsMultipleAuthn,
            "oiosaml2",
            minimum(multipleauthn),
            None,
        ),
        (
            IdpProfile::Oiosaml2WithoutRequestedLoa,
            "oiosaml2",
            None,
            None,
        ),
        (
            IdpProfile::Oiosaml3,
            "oiosaml3",
            minimum(&format!("{LOA}/Substantial")),
            None,
        ),
        (
            IdpProfile::Oiosaml3AdfsMultipleAuthn,
            "oiosaml3",
            minimum(multipleauthn),
            None,
        ),
        (
            IdpProfile::Oiosaml3AdfsRelayState,
            "oiosaml3",
            minimum(multipleauthn),
            Some("https://data.gov.dk/concept/core/nsis/loa/Substantial"),
        ),
    ];
    for (profile, sp, expected, relay) in cases {
        let chsim = start(with_korsbaek(|idp| {
            idp.profile = profile;
            if !profile.is_oiosaml3() {
                idp.nsis_level = None;
            }
        }))
        .await;
        let page = begin(&chsim, &Browser::new(), sp, "korsbaek", &[]).await;
        assert!(
            page.url.contains("/test-idp/korsbaek/sso"),
            "{profile:?}: {}",
            page.body
        );
        let (xml, relay_state) = request_to_idp(&page);
        assert_eq!(requested_context(&xml), expected, "{profile:?}: {xml}");
        // Korsbæk supports Scoping: the user system is named.
        assert!(
            xml.contains(&format!(
                "<samlp:Scoping><samlp:RequesterID>{}/demo-sp/{sp}</samlp:RequesterID></samlp:Scoping>",
                chsim.base
            )),
            "{profile:?}: {xml}"
        );
        if let Some(relay) = relay {
            assert_eq!(relay_state.as_deref(), Some(relay), "{profile:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idp_without_scoping_support_gets_no_scoping() {
    let chsim = start(with_korsbaek(|idp| idp.supports_scoping = false)).await;
    let page = begin(&chsim, &Browser::new(), "oiosaml3", "korsbaek", &[]).await;
    let (xml, _) = request_to_idp(&page);
    assert!(!xml.contains("Scoping"), "{xml}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_is_admitted_at_exactly_the_level_reached_in_the_user_systems_form() {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    // NSIS user system: the loa attribute and class ref.
    let done = login_as(&chsim, &browser, "oiosaml3", "korsbaek", "karen").await;
    let a = issued_assertion(&chsim, &done, "oiosaml3").await;
    assert_eq!(
        attribute_values(&a, LOA),
        Some(vec!["Substantial".to_string()])
    );
    assert!(
        a.contains(&format!(
            "<saml:AuthnContextClassRef>{LOA}/Substantial</saml:AuthnContextClassRef>"
        )),
        "{a}"
    );
    // NIST user system (OIOSAML2): an NSIS High login is stated as its NIST equivalent, 4.
    let done = login_as(&chsim, &browser, "oiosaml2", "korsbaek", "leder").await;
    let a = issued_assertion(&chsim, &done, "oiosaml2").await;
    assert_eq!(
        attribute_values(&a, "dk:gov:saml:attribute:AssuranceLevel"),
        Some(vec!["4".to_string()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_low_without_step_up_shows_required_and_received_and_answers_no_authn_context() {
    let chsim = start(with_korsbaek(|idp| idp.supports_step_up = false)).await;
    let browser = Browser::new();
    let page = begin(&chsim, &browser, "oiosaml2", "korsbaek", &[]).await;
    let refused = pick_user(&browser, &page, "vikar").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("requires NIST level 3, but")
            && refused.body.contains("asserted NSIS Low"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("supports_step_up"),
        "advice: {}",
        refused.body
    );
    assert_eq!(
        status_to_user_system(&refused),
        format!("{} {}", status::RESPONDER, status::NO_AUTHN_CONTEXT)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_asks_the_idp_again_with_force_authn_and_admits_the_higher_level() {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    let first = begin(&chsim, &browser, "oiosaml3", "korsbaek", &[]).await;
    let (xml, _) = request_to_idp(&first);
    assert!(xml.contains(r#"ForceAuthn="false""#), "{xml}");
    // Viggo's password session is NSIS Low: chsim sends him back to the IdP …
    let again = pick_user(&browser, &first, "vikar").await;
    assert!(
        again.url.contains("/test-idp/korsbaek/sso"),
        "{}",
        again.body
    );
    let (xml, _) = request_to_idp(&again);
    assert!(xml.contains(r#"ForceAuthn="true""#), "{xml}");
    assert_eq!(
        requested_context(&xml),
        minimum(&format!("{LOA}/Substantial"))
    );
    assert!(again.body.contains("ForceAuthn"), "{}", again.body);
    // … where he logs in anew with MitID: Substantial, and he is let in.
    let done = pick_user(&browser, &again, "vikar").await;
    let a = issued_assertion(&chsim, &done, "oiosaml3").await;
    assert_eq!(
        attribute_values(&a, LOA),
        Some(vec!["Substantial".to_string()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_is_refused_by_an_nsis_system_with_the_reason() {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    let page = begin(&chsim, &browser, "oiosaml3", "korsbaek", &[]).await;
    let again = pick_user(&browser, &page, "robot").await;
    let refused = pick_user(&browser, &again, "robot").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains("requires NSIS Substantial")
            && refused.body.contains("NIST level 3 and no NSIS level")
            && refused.body.contains("even after chsim asked it again"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("Robots (RPA) never have one"),
        "{}",
        refused.body
    );
    assert_eq!(
        status_to_user_system(&refused),
        format!("{} {}", status::RESPONDER, status::NO_AUTHN_CONTEXT)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_robot_is_admitted_to_a_nist_system_at_level_three_after_its_second_factor() {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    let page = begin(&chsim, &browser, "oiosaml2", "korsbaek", &[]).await;
    // Password alone: NIST 2; asked again, the robot answers its TOTP: NIST 3.
    let again = pick_user(&browser, &page, "robot").await;
    assert!(
        again.url.contains("/test-idp/korsbaek/sso"),
        "{}",
        again.body
    );
    let done = pick_user(&browser, &again, "robot").await;
    let a = issued_assertion(&chsim, &done, "oiosaml2").await;
    assert_eq!(
        attribute_values(&a, "dk:gov:saml:attribute:AssuranceLevel"),
        Some(vec!["3".to_string()])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_systems_requested_authn_context_raises_the_bar() {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    let high = format!("{LOA}/High");
    let page = begin(
        &chsim,
        &browser,
        "oiosaml3",
        "korsbaek",
        &[("level", &high)],
    )
    .await;
    let (xml, _) = request_to_idp(&page);
    assert_eq!(requested_context(&xml), minimum(&high), "{xml}");
    // Karen reaches Substantial only, even when asked again.
    let again = pick_user(&browser, &page, "karen").await;
    let refused = pick_user(&browser, &again, "karen").await;
    assert!(
        refused.body.contains("requires NSIS High"),
        "{}",
        refused.body
    );
    // Lone reaches High.
    let page = begin(
        &chsim,
        &browser,
        "oiosaml3",
        "korsbaek",
        &[("level", &high)],
    )
    .await;
    let done = pick_user(&browser, &page, "leder").await;
    let a = issued_assertion(&chsim, &done, "oiosaml3").await;
    assert_eq!(attribute_values(&a, LOA), Some(vec!["High".to_string()]));
    // Asking for less than the configured requirement changes nothing.
    let low = format!("{LOA}/Low");
    let page = begin(&chsim, &browser, "oiosaml3", "korsbaek", &[("level", &low)]).await;
    let (xml, _) = request_to_idp(&page);
    assert_eq!(
        requested_context(&xml),
        minimum(&format!("{LOA}/Substantial"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idps_that_cannot_reach_the_level_are_not_offered_and_with_none_the_person_is_told_why() {
    // Without Bakkeby's NemLog-in fallback, only Korsbæk can reach High: no chooser, straight there.
    let without_fallback = || {
        let mut config = demo_config();
        config.municipalities.municipality[1].nemlogin_fallback = false;
        config
    };
    let chsim = start(without_fallback()).await;
    let browser = Browser::new();
    let high = format!("{LOA}/High");
    let page = browser
        .get(&format!(
            "{}/demo-sp/oiosaml3/login?level={}",
            chsim.base,
            url::form_urlencoded::byte_serialize(high.as_bytes()).collect::<String>()
        ))
        .await;
    assert!(page.url.contains("/test-idp/korsbaek/sso"), "{}", page.body);
    // Bakkeby's NIST-only IdP cannot serve an NSIS system even when named.
    let named = begin(&chsim, &browser, "oiosaml3", "bakkeby", &[]).await;
    assert!(
        named
            .body
            .contains("cannot reach (it offers NIST level 3 and no NSIS level)"),
        "{}",
        named.body
    );
    assert!(named
        .carried
        .iter()
        .all(|c| !c.action.contains("/test-idp/")));
    // With Korsbæk at Substantial, nobody reaches High: refused before any IdP is asked.
    let mut config = without_fallback();
    let idp = &mut config.municipalities.municipality[0].idp[0];
    idp.nsis_level = Some(NsisLevel::Substantial);
    idp.nist_level = NistLevel::THREE;
    let chsim = start(config).await;
    let page = browser
        .get(&format!(
            "{}/demo-sp/oiosaml3/login?level={}",
            chsim.base,
            url::form_urlencoded::byte_serialize(high.as_bytes()).collect::<String>()
        ))
        .await;
    assert_eq!(page.status, 403, "{}", page.body);
    assert!(
        page.body
            .contains("requires NSIS High, and no identity provider can reach it"),
        "{}",
        page.body
    );
    assert!(!page.url.contains("/test-idp/"), "{}", page.url);
    assert_eq!(
        status_to_user_system(&page),
        format!("{} {}", status::RESPONDER, status::NO_AUTHN_CONTEXT)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nemlogin_fallback_reaches_substantial_with_the_municipalitys_roles() {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    // Bakkeby's IdP has no NSIS, but Bakkeby falls back to NemLog-in, so it is offered for A.
    let page = begin(&chsim, &browser, "oiosaml3", "bakkeby", &[]).await;
    assert!(page.url.contains("/test-idp/bakkeby/sso"), "{}", page.body);
    let nemlogin = pick_user(&browser, &page, "bent").await;
    assert!(
        nemlogin.url.contains("/test-idp/nemlogin/sso"),
        "{}",
        nemlogin.body
    );
    let (xml, _) = request_to_idp(&nemlogin);
    assert_eq!(
        requested_context(&xml),
        minimum(&format!("{LOA}/Substantial"))
    );
    assert!(
        xml.contains(&format!(
            "<samlp:RequesterID>{}/demo-sp/oiosaml3</samlp:RequesterID>",
            chsim.base
        )),
        "{xml}"
    );
    // Bent uses MitID Erhverv: Substantial. The token has Bakkeby's NameID and roles.
    let done = pick_user(&browser, &nemlogin, "bent").await;
    let a = issued_assertion(&chsim, &done, "oiosaml3").await;
    assert_eq!(
        attribute_values(&a, LOA),
        Some(vec!["Substantial".to_string()])
    );
    assert!(
        a.contains("C=DK,O=22222222,CN=Bent Bakkeby,Serial=9c1d2f3e-0000-4000-8000-22222222b001"),
        "{a}"
    );
    assert!(
        a.contains(&format!(
            "<saml:AuthenticatingAuthority>{}/test-idp/nemlogin</saml:AuthenticatingAuthority>",
            chsim.base
        )),
        "{a}"
    );
    let privileges = attribute_values(
        &a,
        "https://data.gov.dk/model/core/eid/privilegesIntermediate",
    )
    .unwrap();
    let list = chsim::privileges::parse(&privileges[0]).unwrap();
    assert_eq!(
        &*list.groups[0].privileges[0],
        "http://fagsystem-a.demo/roles/usersystemrole/laes-sag/1"
    );
    assert_eq!(
        &*list.groups[0].scope,
        "urn:dk:gov:saml:cvrNumberIdentifier:22222222"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nemlogin_must_name_the_same_person_and_reach_the_level() {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    // Bent at Bakkeby, Birgit at NemLog-in: another person.
    let page = begin(&chsim, &browser, "oiosaml3", "bakkeby", &[]).await;
    let nemlogin = pick_user(&browser, &page, "bent").await;
    let refused = pick_user(&browser, &nemlogin, "birgit").await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("NemLog-in authenticated another person"),
        "{}",
        refused.body
    );
    assert_eq!(
        status_to_user_system(&refused),
        format!("{} {}", status::RESPONDER, status::AUTHN_FAILED)
    );
    // Bo's MitID is Low: too low for A.
    let page = begin(&chsim, &browser, "oiosaml3", "bakkeby", &[]).await;
    let nemlogin = pick_user(&browser, &page, "bo").await;
    let refused = pick_user(&browser, &nemlogin, "bo").await;
    assert!(
        refused.body.contains("requires NSIS Substantial"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("asserted NSIS Low"),
        "{}",
        refused.body
    );
    assert_eq!(
        status_to_user_system(&refused),
        format!("{} {}", status::RESPONDER, status::NO_AUTHN_CONTEXT)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nist_user_systems_do_not_send_anyone_to_nemlogin() {
    let chsim = start(demo_config()).await;
    let browser = Browser::new();
    // System B asks for NIST 4; Bakkeby's IdP reaches 3 and NemLog-in is for NSIS levels only,
    // so Bakkeby's IdP is not usable for this login: refused before anyone is asked.
    let level = "urn:dk:gov:saml:attribute:AssuranceLevel:4";
    let refused = begin(&chsim, &browser, "oiosaml2", "bakkeby", &[("level", level)]).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(
        refused.body.contains(
            "requires NIST level 4, which `Bakkeby Kommune (test-IdP, OIOSAML2)` cannot reach"
        ),
        "{}",
        refused.body
    );
    assert!(refused
        .carried
        .iter()
        .all(|c| !c.action.contains("/test-idp/")));
    // For an NSIS level the same IdP is usable, through NemLog-in.
    let loa = format!("{LOA}/Substantial");
    let page = begin(&chsim, &browser, "oiosaml3", "bakkeby", &[("level", &loa)]).await;
    assert!(page.url.contains("/test-idp/bakkeby/sso"), "{}", page.body);
}
