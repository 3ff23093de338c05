//! chsim — a simulator of KOMBIT's Context Handler (Fælleskommunal Adgangsstyring, SF1511).
//!
//! Module map (dependency direction `http → broker → {saml, trust, privileges, token, audit} →
//! {ids, clock}`; see STYLE.md):
//! - [`clock`], [`ids`]: injected time and typed identifiers.
//! - [`config`]: typed TOML configuration, layered, with an all-problems report.
//! - [`saml`]: messages, bindings, signatures, encryption, response validation (pure).
//! - [`trust`]: municipal IdPs and user systems as trusted parties, from their metadata.
//! - [`privileges`]: OIOBPP privilege lists (the seam for role mapping).
//! - [`token`]: the assertions chsim issues, per attribute profile.
//! - [`broker`]: one login as a state machine, with pending-request and replay caches.
//! - [`test_idp`], [`demo_sp`]: built-in separate SAML parties for demos and tests.
//! - [`audit`]: audit events.
//! - [`http`]: the only module that knows axum.

pub mod clock;
pub mod config;
pub mod ids;
pub mod saml;
pub mod audit;
pub mod broker;
pub mod roles;
pub mod token;
pub mod trust;
pub mod demo_sp;
pub mod test_idp;
pub mod http;
