//! Job-function roles → user-system roles with data constraints (reference §6; issue #4 §3).
//! Pure: the catalogue comes from the configuration, the privileges from the IdP or the
//! attribute service, and the outcome says what was issued and what was dropped and why.

pub mod catalogue;
pub mod mapping;
#[cfg(test)]
mod tests;

pub use catalogue::{JobRoleCatalogue, SystemRoles};
pub use mapping::{map, DropReason, Dropped, MappingContext, MappingOutcome};
