//! Playing a test IdP against chsim: chsim on loopback with a fixed clock and a browser
//! ([`Setup`]), a login pending at a demo user system for a test IdP ([`pending_login`]), that
//! IdP's correct Response parts ([`answer`]) for a test to change, sign and send.

use super::{
    demo_config, fixed_clock, redirect_request, start_with_clock, Browser, Chsim, Outcome,
};
use chrono::{DateTime, Utc};
use chsim::clock::{Clock as _, FixedClock};
use chsim::config::{Config, TestUserConfig};
use chsim::saml::response::{self, NewAssertion, NewResponse, SignedElement, Status};
use chsim::saml::{authn_request, binding};
use chsim::test_idp::TestIdp;
use std::sync::Arc;

/// Starts a login at demo user system `sp` (`oiosaml2` or `oiosaml3`) with `?idp=` test IdP
/// `idp`, so no chooser is shown; returns the ID of chsim's AuthnRequest to that IdP, which the
/// IdP's Response must answer.
pub async fn pending_login(chsim: &Chsim, browser: &Browser, sp: &str, idp: &str) -> String {
    let mut q = url::form_urlencoded::Serializer::new(String::new());
    q.append_pair("idp", chsim.state.test_idps[idp].entity_id());
    let page = browser
        .get(&format!("{}/demo-sp/{sp}/login?{}", chsim.base, q.finish()))
        .await;
    assert!(
        page.url.contains(&format!("/test-idp/{idp}/sso")),
        "{} {}",
        page.url,
        page.body
    );
    authn_request::parse(&redirect_request(&page.url).xml)
        .unwrap()
        .id
}

/// Test IdP `idp`'s correct answer to `request_id` for `user` — the Response envelope and the
/// assertion, unsigned — before a test changes it.
pub fn answer(
    idp: &TestIdp,
    user: &TestUserConfig,
    request_id: &str,
) -> (NewResponse, NewAssertion) {
    let assertion = idp.assertion_for(user, request_id);
    let envelope = NewResponse {
        id: chsim::ids::new_saml_id(),
        issue_instant: assertion.issue_instant,
        destination: idp.chsim().acs_url.clone(),
        in_response_to: Some(request_id.to_string()),
        issuer: idp.entity_id().to_string(),
        status: Status::success(),
    };
    (envelope, assertion)
}

/// chsim on loopback with a fixed clock, and a browser.
pub struct Setup {
    pub chsim: Chsim,
    pub clock: Arc<FixedClock>,
    pub browser: Browser,
}

/// The demo configuration.
pub async fn setup() -> Setup {
    setup_with(demo_config()).await
}

pub async fn setup_with(config: Config) -> Setup {
    let clock = fixed_clock();
    let chsim = start_with_clock(config, clock.clone()).await;
    Setup {
        chsim,
        clock,
        browser: Browser::new(),
    }
}

impl Setup {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.chsim.base)
    }

    /// chsim's (fixed) time.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The test IdP `id` (`bakkeby`, `korsbaek`, …).
    pub fn idp(&self, id: &str) -> Arc<TestIdp> {
        self.chsim.state.test_idps[id].clone()
    }

    pub fn bakkeby(&self) -> Arc<TestIdp> {
        self.idp("bakkeby")
    }

    /// Starts a login at the OIOSAML2 demo user system via test IdP `idp`; returns chsim's
    /// request ID.
    pub async fn pending(&self, idp: &str) -> String {
        self.pending_at("oiosaml2", idp).await
    }

    /// Starts a login at demo user system `sp` via test IdP `idp`; returns chsim's request ID.
    pub async fn pending_at(&self, sp: &str, idp: &str) -> String {
        pending_login(&self.chsim, &self.browser, sp, idp).await
    }

    /// Test IdP `idp`'s correct answer to `request_id` for its first user.
    pub fn parts(&self, idp: &str, request_id: &str) -> (NewResponse, NewAssertion) {
        let idp = self.idp(idp);
        answer(&idp, &idp.config().user[0], request_id)
    }

    /// Test IdP `idp`'s correct answer to `request_id` for its user `user`.
    pub fn parts_as(&self, idp: &str, user: &str, request_id: &str) -> (NewResponse, NewAssertion) {
        let idp = self.idp(idp);
        let user = idp.config().user.iter().find(|u| u.id == user).unwrap();
        answer(&idp, user, request_id)
    }

    /// The Response signed with test IdP `idp`'s real key on `what`.
    pub fn signed(
        &self,
        idp: &str,
        r: &NewResponse,
        a: &NewAssertion,
        what: SignedElement,
    ) -> String {
        response::build(r, Some(a), self.idp(idp).credential(), what, None).unwrap()
    }

    /// POSTs a form field to `path` and follows like a browser.
    pub async fn post(&self, path: &str, field: &str, value: String) -> Outcome {
        self.browser
            .post(&self.url(path), &[(field.to_string(), value)])
            .await
    }

    /// POSTs `xml` POST-binding encoded as `field` to `path` and follows like a browser.
    pub async fn post_xml(&self, path: &str, field: &str, xml: &str) -> Outcome {
        self.post(path, field, binding::encode_post(xml)).await
    }

    /// The process still serves: chsim's IdP metadata answers 200 (issue #8 §1).
    pub async fn assert_still_answers(&self) {
        let resp = reqwest::get(self.url("/runtime/saml2/metadata.idp"))
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert!(resp.text().await.unwrap().contains("EntityDescriptor"));
    }
}
