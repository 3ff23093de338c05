//! chsim's single sign-on session (issue #9 §2): after one login at an IdP, chsim answers a
//! second user system in the same browser itself — no chooser, no IdP — while the session's
//! level meets that system's requirement, mapping the job-function roles the session holds to
//! that system's roles. A higher requirement sends the person to the same IdP (step-up), which
//! upgrades the session. The session records every user system it answered, with the NameID
//! and SessionIndex chsim issued to it, and the IdP's own NameID and SessionIndex: what single
//! logout needs.
//!
//! Lifetimes (`[session]`): at most `lifetime_seconds` from the IdP login, and
//! `idle_timeout_seconds` since the last login through it. The cookie carries only a random
//! [`SessionId`]; everything else lives in the broker's store.

use super::store::Kind;
use super::{Broker, BrokerError};
use crate::assurance::AssertedLevel;
use crate::attribute_service::Provenance;
use crate::ids::{new_saml_id, EntityId, SessionId};
use crate::token::Identity;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How long sessions last.
#[derive(Debug, Clone, Copy)]
pub struct SessionSettings {
    /// From the IdP login, at most.
    pub lifetime: Duration,
    /// Since the last login through the session.
    pub idle_timeout: Duration,
}

/// The person's job-function roles as the session holds them, for mapping to each user system.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldRoles {
    /// Base64 OIOBPP as received (from the IdP, or the municipality's attribute service).
    pub privileges: Option<String>,
    /// Attributes that may carry parametric values.
    pub attributes: Vec<(String, Vec<String>)>,
    /// Who sent the privileges, for messages.
    pub source: String,
    /// Where they came from.
    pub provenance: Provenance,
}

/// An IdP the person logged in at during the session (the municipal IdP; NemLog-in too after a
/// fallback), with what single logout must name there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpLeg {
    /// The IdP's entityID.
    pub idp: EntityId,
    /// The NameID it sent.
    pub name_id: String,
    /// Its NameID Format.
    pub name_id_format: Option<String>,
    /// The SessionIndex it sent, if any.
    pub session_index: Option<String>,
}

impl IdpLeg {
    /// What `assertion` from `idp` names for logout.
    pub fn of(idp: &EntityId, assertion: &crate::saml::validate::ValidatedAssertion) -> Self {
        Self {
            idp: idp.clone(),
            name_id: assertion.name_id.clone(),
            name_id_format: assertion.name_id_format.clone(),
            session_index: assertion.session_index.clone(),
        }
    }
}

/// A user system chsim answered in this session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    /// Its entityID.
    pub user_system: EntityId,
    /// The NameID chsim issued to it.
    pub name_id: String,
    /// The SessionIndex chsim issued to it.
    pub session_index: String,
    /// When it was last answered.
    pub joined: DateTime<Utc>,
}

/// One SSO session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// The cookie's value.
    pub id: SessionId,
    /// A public reference for logs, pages and audit events (the id is a secret).
    pub reference: String,
    /// Who the person is and the level reached (privileges as received).
    pub identity: Identity,
    /// The municipal IdP the person logged in at (step-up goes back there).
    pub idp: EntityId,
    /// The roles to map for each user system.
    pub roles: HeldRoles,
    /// The IdPs of the session, for logout.
    pub idp_legs: Vec<IdpLeg>,
    /// The user systems answered, in order.
    pub participants: Vec<Participant>,
    /// When the person logged in at the IdP.
    pub started: DateTime<Utc>,
    /// When a login last went through the session.
    pub last_used: DateTime<Utc>,
}

impl Session {
    /// The level the session has reached.
    pub fn level(&self) -> AssertedLevel {
        AssertedLevel {
            nist: self.identity.nist_level,
            nsis: self.identity.nsis_level,
        }
    }

    /// When the session ends unless used again.
    pub fn expires(&self, settings: &SessionSettings) -> DateTime<Utc> {
        (self.started + settings.lifetime).min(self.last_used + settings.idle_timeout)
    }

    /// Whether it has the same person from the same IdP (so a new IdP login upgrades it rather
    /// than starting another).
    pub fn same_person(&self, idp: &EntityId, identity: &Identity) -> bool {
        self.idp == *idp && self.identity.name_id == identity.name_id
    }

    /// Records that `user_system` was answered with `session_index` (replacing its earlier entry).
    pub fn join(
        &mut self,
        user_system: &EntityId,
        name_id: &str,
        session_index: &str,
        now: DateTime<Utc>,
    ) {
        self.participants.retain(|p| p.user_system != *user_system);
        self.participants.push(Participant {
            user_system: user_system.clone(),
            name_id: name_id.to_string(),
            session_index: session_index.to_string(),
            joined: now,
        });
        self.last_used = now;
    }
}

impl Broker {
    /// The live session the browser's cookie names, if any: unknown, expired or unreadable
    /// sessions count as none (the person simply logs in again).
    pub async fn live_session(
        &self,
        id: Option<&SessionId>,
    ) -> Result<Option<Session>, BrokerError> {
        let Some(id) = id else { return Ok(None) };
        let Some(session) = self
            .store
            .get::<Session>(Kind::Session, id.as_str())
            .await?
        else {
            return Ok(None);
        };
        let now = self.clock.now();
        let live = session.expires(&self.settings.session) > now
            && self.trust.idp(session.idp.as_str()).is_some();
        Ok(live.then_some(session))
    }

    /// Ends a session (the session page's "Log out").
    pub async fn end_session(&self, id: &SessionId) -> Result<(), BrokerError> {
        if let Some(session) = self
            .store
            .get::<Session>(Kind::Session, id.as_str())
            .await?
        {
            crate::audit::session_ended(&session.reference, "the person logged out at chsim");
        }
        Ok(self.store.remove(Kind::Session, id.as_str()).await?)
    }

    /// Stores `session` until it expires.
    pub(super) async fn save_session(&self, session: &Session) -> Result<(), BrokerError> {
        let ttl = (session.expires(&self.settings.session) - self.clock.now())
            .to_std()
            .unwrap_or(std::time::Duration::from_secs(1))
            .max(std::time::Duration::from_secs(1));
        self.store
            .put(Kind::Session, session.id.as_str(), session, ttl)
            .await?;
        // Single logout finds the session by a SessionIndex (issue #9 §3).
        for p in &session.participants {
            self.store
                .put(
                    Kind::SessionIndex,
                    &user_system_index(&p.user_system, &p.session_index),
                    &session.id,
                    ttl,
                )
                .await?;
        }
        for leg in &session.idp_legs {
            if let Some(index) = &leg.session_index {
                self.store
                    .put(
                        Kind::SessionIndex,
                        &idp_index(&leg.idp, index),
                        &session.id,
                        ttl,
                    )
                    .await?;
            }
        }
        Ok(())
    }

    /// The live session the SessionIndex `key` (see [`user_system_index`], [`idp_index`]) names.
    pub(super) async fn session_by_index(&self, key: &str) -> Result<Option<Session>, BrokerError> {
        let id: Option<SessionId> = self.store.get(Kind::SessionIndex, key).await?;
        self.live_session(id.as_ref()).await
    }

    /// The session after a login at `idp`: the browser's session upgraded when it is the same
    /// person (step-up, ForceAuthn), a new one otherwise.
    pub(super) async fn session_after_login(
        &self,
        existing: Option<&SessionId>,
        idp: &EntityId,
        identity: &Identity,
        roles: HeldRoles,
        legs: Vec<IdpLeg>,
    ) -> Result<Session, BrokerError> {
        let now = self.clock.now();
        // The lifetime counts from when the person authenticated at the IdP (an IdP answering
        // from its own session does not extend chsim's), never from the future.
        let authenticated = identity.authn_instant.min(now);
        if let Some(mut session) = self.live_session(existing).await? {
            if session.same_person(idp, identity) {
                session.identity = identity.clone();
                session.roles = roles;
                session.idp_legs = legs;
                session.started = authenticated;
                session.last_used = now;
                return Ok(session);
            }
        }
        Ok(Session {
            id: SessionId::generate()
                .map_err(|e| BrokerError::Token(format!("no random session handle: {e}")))?,
            reference: new_saml_id(),
            identity: identity.clone(),
            idp: idp.clone(),
            roles,
            idp_legs: legs,
            participants: Vec::new(),
            started: authenticated,
            last_used: now,
        })
    }
}

/// The store key of a SessionIndex chsim issued to `user_system`.
pub(super) fn user_system_index(user_system: &EntityId, session_index: &str) -> String {
    format!("us\n{user_system}\n{session_index}")
}

/// The store key of a SessionIndex `idp` issued to chsim.
pub(super) fn idp_index(idp: &EntityId, session_index: &str) -> String {
    format!("idp\n{idp}\n{session_index}")
}
