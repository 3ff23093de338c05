//! Job-function roles → user-system roles (reference §6). The seam where the role mapping of
//! issue #4 will sit: today the IdP's privilege list is passed through unchanged, as issue #2
//! allows, so the broker already calls the mapping at the right step.

use crate::trust::TrustedUserSystem;

/// The privilege list (base64 OIOBPP) to issue to `user_system`, from the IdP's list.
/// Pass-through until role mapping lands (issue #4).
pub fn privileges_for(
    idp_privileges: Option<&str>,
    user_system: &TrustedUserSystem,
) -> Option<String> {
    let _ = user_system;
    idp_privileges.map(str::to_string)
}
