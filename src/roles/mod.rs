//! Job-function roles → user-system roles with data constraints (reference §6; issue #4 §3).
//! Pure: the catalogue comes from the configuration, the privileges from the IdP or the
//! attribute service.

pub mod catalogue;

pub use catalogue::{JobRoleCatalogue, SystemRoles};

use crate::trust::TrustedUserSystem;

/// The privilege list (base64 OIOBPP) to issue to `user_system`, from the IdP's list.
/// Pass-through until role mapping is wired in (issue #4).
pub fn privileges_for(
    idp_privileges: Option<&str>,
    user_system: &TrustedUserSystem,
) -> Option<String> {
    let _ = user_system;
    idp_privileges.map(str::to_string)
}
