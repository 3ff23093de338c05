//! The test IdP's single logout with chsim (issue #9 §3; saml-profiles §4.4; reference §3.4),
//! both ways: its SLO URL answers chsim's LogoutRequest (ending the IdP session whose
//! SessionIndex it names; the answer goes to chsim's SP-face ResponseLocation,
//! `…/runtime/saml2auth/signoffresponse.idp`), and its page's "Log out" starts IdP-initiated
//! logout with a signed HTTP-Redirect LogoutRequest to chsim's SP-face SingleLogoutService
//! (`…/runtime/saml2auth/signoffrequest.idp`), whose answer comes back to the same SLO URL. The
//! steps every message goes through are in [`crate::party_logout`].

use super::{IdpSession, TestIdp, TestIdpError};
use crate::config::TestUserConfig;
use crate::party_logout::{Ending, SessionView, SloError, SloOutcome};
use crate::saml::logout::NameId;
use url::Url;

impl TestIdp {
    /// What the browser's IdP session handle names: a live session, the marker of an ended one,
    /// or nothing.
    pub fn session_view(&self, browser: Option<&str>) -> SessionView<IdpSession> {
        self.sessions.view(browser)
    }

    /// The test user a session is of.
    pub fn user_of(&self, session: &IdpSession) -> Option<&TestUserConfig> {
        self.config.user.iter().find(|u| u.id == session.user_id)
    }

    /// "Log out" on the IdP's page: ends the browser's IdP session here and returns the signed
    /// HTTP-Redirect LogoutRequest to chsim, naming the NameID and SessionIndex this IdP issued
    /// (Reason `user`).
    pub fn start_logout(&self, browser: Option<&str>) -> Result<Url, TestIdpError> {
        let (browser, session, user) = browser
            .and_then(|b| self.sessions.live(b).map(|s| (b, s)))
            .and_then(|(b, s)| self.user_of(&s).map(|u| (b, s.clone(), u)))
            .ok_or(SloError::NotLoggedIn)?;
        let url = self.logout.request(
            NameId::x509(self.name_id(user)),
            &session.session_index,
            &user.name,
        )?;
        self.end_session(browser, Ending::LoggedOutHere);
        Ok(url)
    }

    /// `GET <slo>`: chsim's LogoutRequest (ends the IdP sessions of the NameID it names with one
    /// of its SessionIndexes, and is answered) or chsim's LogoutResponse to this IdP's request.
    pub fn slo(&self, raw_query: &str) -> Result<SloOutcome, TestIdpError> {
        Ok(self
            .logout
            .handle(raw_query, &self.config.name, |request| {
                let how = Ending::SingleLogout {
                    issuer: request.issuer.clone(),
                    reason: request.reason.clone(),
                };
                self.sessions.end_where(
                    |s| {
                        self.user_of(s)
                            .is_some_and(|u| self.name_id(u) == request.name_id.value)
                            && (request.session_indexes.is_empty()
                                || request.session_indexes.contains(&s.session_index))
                    },
                    self.clock.now(),
                    &how,
                )
            })?)
    }
}
