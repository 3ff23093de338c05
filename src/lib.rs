//! chsim — a simulator of KOMBIT's Context Handler (Fælleskommunal Adgangsstyring, SF1511).
//!
//! Module map (dependency direction `http → broker → {saml, trust, roles, token, audit} →
//! {ids, clock}`; see STYLE.md):
//! - [`clock`], [`ids`]: injected time and typed identifiers.
//! - [`config`]: typed TOML configuration, layered, with an all-problems report.
//! - [`saml`]: messages, bindings, signatures, encryption, response validation (pure).
//! - [`trust`]: municipal IdPs and user systems as trusted parties, from their metadata.
//! - [`privileges`]: OIOBPP PrivilegeList parsing and emission (both namespaces, constraints).
//! - [`roles`]: job-function → user-system roles with data constraints (pure).
//! - [`assurance`]: NIST and NSIS levels, their forms, equivalence and IdP profiles (pure).
//! - [`token`]: the assertions chsim issues, per attribute profile, and the OIDC JWTs.
//! - [`oidc`]: the OpenID Provider's protocol rules for OIDC user systems (pure).
//! - [`broker`]: one login as a state machine, the SSO session and single logout; what it
//!   remembers lives behind `broker::store` (moka in memory, or Redis).
//! - [`test_idp`], [`demo_sp`]: built-in separate SAML parties for demos and tests;
//!   [`party_logout`]: the single logout they both do with chsim. [`demo_oidc`]: the built-in
//!   OIDC user system, a relying party that talks to chsim only over HTTP.
//! - [`attribute_service`]: the attribute-service fallback (SOAP AttributeQuery, cache).
//! - [`audit`]: audit events.
//! - [`cpu`]: signature checks and decryption off the async workers, bounded in number and time.
//! - [`deployment`]: demo keys never off loopback; `chsim keygen` for fresh keys.
//! - [`fetch`]: bounded reads of outgoing HTTP answers.
//! - [`scripted`]: scripted logins through chsim's real HTTP flow (RPA and CI).
//! - [`xml_limits`]: bounds on XML from outside, checked before any parser sees it.
//! - [`app`]: assembly — config → trust → broker → built-in parties (the state `http` routes to).
//! - [`http`]: the only module that knows axum.

// Errors carry their evidence (STYLE.md habit 2), so some are a few hundred bytes; they are the
// cold path of a login, and boxing them would only obscure the matches in tests.
#![allow(clippy::result_large_err)]

pub mod app;
pub mod assurance;
pub mod attribute_service;
pub mod audit;
pub mod broker;
pub mod clock;
pub mod config;
pub mod cpu;
pub mod demo_oidc;
pub mod demo_sp;
pub mod deployment;
pub mod fetch;
pub mod http;
pub mod ids;
pub mod oidc;
pub mod party_logout;
pub mod privileges;
pub mod roles;
pub mod saml;
pub mod scripted;
pub mod test_idp;
pub mod token;
pub mod trust;
pub mod xml_limits;
