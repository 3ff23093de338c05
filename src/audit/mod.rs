//! Audit events: one named constructor per event, written as structured `tracing` events with
//! target `chsim::audit` (filter them with `RUST_LOG=chsim::audit=info`).

use tracing::{info, warn};

/// A user system's AuthnRequest was accepted.
pub fn login_started(login: &str, user_system: &str, request_id: &str) {
    info!(target: "chsim::audit", event = "login_started", login, user_system, request_id);
}

/// chsim sent the person to an IdP.
pub fn sent_to_idp(login: &str, idp: &str, request_id: &str) {
    info!(target: "chsim::audit", event = "sent_to_idp", login, idp, request_id);
}

/// chsim issued a token.
pub fn token_issued(
    login: &str,
    user_system: &str,
    idp: &str,
    name_id: &str,
    privileges: bool,
    privileges_from: &str,
) {
    info!(target: "chsim::audit", event = "token_issued", login, user_system, idp, name_id, privileges, privileges_from);
    if !privileges {
        info!(target: "chsim::audit", event = "privileges_omitted", login, user_system,
            reason = "the person has no privileges for this user system; the attribute is omitted (OIOBPP)");
    }
}

/// A privilege received did not reach the user system (issue #4 §3), with the reason.
pub fn privilege_dropped(
    login: &str,
    user_system: &str,
    scope: &str,
    privilege: &str,
    reason: &str,
) {
    info!(target: "chsim::audit", event = "privilege_dropped", login, user_system, scope, privilege, reason);
}

/// chsim asked the IdP again, with ForceAuthn, for the required level (issue #3 §3).
pub fn step_up(login: &str, idp: &str, requirement: &str) {
    info!(target: "chsim::audit", event = "step_up", login, idp, requirement);
}

/// The municipality's IdP could not reach the level; the person continues at NemLog-in.
pub fn nemlogin_fallback(login: &str, idp: &str, requirement: &str) {
    info!(target: "chsim::audit", event = "nemlogin_fallback", login, idp, requirement);
}

/// A login or request was refused.
pub fn refused(stage: &str, reason: &str) {
    warn!(target: "chsim::audit", event = "refused", stage, reason);
}

/// A login at an IdP started a chsim session (issue #9 §2). `session` is the session's public
/// reference, never its cookie.
pub fn session_started(session: &str, idp: &str, name_id: &str, user_system: &str) {
    info!(target: "chsim::audit", event = "session_started", session, idp, name_id, user_system);
}

/// A user system was answered from an existing chsim session, without the IdP.
pub fn session_joined(session: &str, user_system: &str, login: &str) {
    info!(target: "chsim::audit", event = "session_joined", session, user_system, login);
}

/// A chsim session ended.
pub fn session_ended(session: &str, reason: &str) {
    info!(target: "chsim::audit", event = "session_ended", session, reason);
}

/// A single logout started (issue #9 §3).
pub fn logout_started(session: &str, started_by: &str) {
    info!(target: "chsim::audit", event = "logout_started", session, started_by);
}

/// What became of one party in a single logout.
pub fn logout_party(session: &str, party: &str, ended: bool, detail: &str) {
    info!(target: "chsim::audit", event = "logout_party", session, party, result = if ended { "logged out" } else { "failed" }, detail);
}

/// A login succeeded but started no SSO session (and left the browser's alone).
pub fn session_not_started(login: &str, reason: &str) {
    info!(target: "chsim::audit", event = "session_not_started", login, reason);
}

/// chsim's token endpoint issued OIDC tokens (`grant`: `authorization_code` or `refresh_token`).
pub fn oidc_tokens_issued(client_id: &str, sub: &str, grant: &str) {
    info!(target: "chsim::audit", event = "oidc_tokens_issued", client_id, sub, grant);
}
