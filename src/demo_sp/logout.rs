//! A demo user system's session and single logout (issue #9 §3; saml-profiles §4.4; reference
//! §3.4): a successful login opens its own session; "Log out" sends chsim a signed
//! HTTP-Redirect LogoutRequest (to chsim's IdP-face SingleLogoutService, `…/runtime/saml2/issue.idp`);
//! its SLO URL answers chsim's LogoutRequests (to the ResponseLocation,
//! `…/runtime/saml2/signoff.idp`) and takes chsim's LogoutResponse to its own request. The
//! steps every message goes through are in [`crate::party_logout`].

use super::{DemoSp, DemoSpError, SpSession};
use crate::ids::new_saml_id;
use crate::party_logout::{Ending, SessionView, SloError, SloOutcome};
use crate::saml::logout::NameId;
use crate::saml::oiosaml::{oiosaml2, oiosaml3};
use crate::saml::validate::ValidatedAssertion;
use url::Url;

impl DemoSp {
    /// Opens a session for a verified login and returns its handle (the cookie's value).
    pub(super) fn open_session(&self, assertion: &ValidatedAssertion) -> String {
        let first = |name: &str| assertion.attribute(name).and_then(|v| v.first().cloned());
        let level = match (first(oiosaml3::LOA), first(oiosaml2::ASSURANCE_LEVEL)) {
            (Some(loa), _) => format!("NSIS {loa}"),
            (None, Some(nist)) => format!("NIST {nist}"),
            (None, None) => "not stated".to_string(),
        };
        let who = crate::saml::SubjectName::parse(&assertion.name_id)
            .ok()
            .and_then(|s| s.cn)
            .unwrap_or_else(|| assertion.name_id.clone());
        let handle = new_saml_id();
        self.sessions.open(
            &handle,
            SpSession {
                name_id: assertion.name_id.clone(),
                name_id_format: assertion.name_id_format.clone(),
                session_index: assertion.session_index.clone().unwrap_or_default(),
                who,
                since: self.clock.now(),
                level,
            },
        );
        handle
    }

    /// What the browser's session handle names: a live session, the marker of an ended one, or
    /// nothing.
    pub fn session_view(&self, handle: Option<&str>) -> SessionView<SpSession> {
        self.sessions.view(handle)
    }

    /// "Log out": ends the session under `handle` here and returns the signed HTTP-Redirect
    /// LogoutRequest to chsim (its NameID and SessionIndex, Reason `user`).
    pub fn start_logout(&self, handle: Option<&str>) -> Result<Url, DemoSpError> {
        let (handle, session) = handle
            .and_then(|h| self.sessions.live(h).map(|s| (h, s)))
            .ok_or(SloError::NotLoggedIn)?;
        let name_id = NameId {
            value: session.name_id.clone(),
            format: session.name_id_format.clone(),
            name_qualifier: None,
            sp_name_qualifier: None,
        };
        let url = self
            .logout
            .request(name_id, &session.session_index, &session.who)?;
        self.sessions
            .end(handle, self.clock.now(), Ending::LoggedOutHere);
        Ok(url)
    }

    /// `GET <slo>`: chsim's LogoutRequest (ends the sessions whose NameID and SessionIndex it
    /// names, and is answered) or chsim's LogoutResponse to this user system's request.
    pub fn slo(&self, raw_query: &str) -> Result<SloOutcome, DemoSpError> {
        Ok(self
            .logout
            .handle(raw_query, &self.config.name, |request| {
                let how = Ending::SingleLogout {
                    issuer: request.issuer.clone(),
                    reason: request.reason.clone(),
                };
                self.sessions.end_where(
                    |s| {
                        s.name_id == request.name_id.value
                            && (request.session_indexes.is_empty()
                                || request.session_indexes.contains(&s.session_index))
                    },
                    self.clock.now(),
                    &how,
                )
            })?)
    }
}
