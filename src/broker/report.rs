//! What chsim did in one login, kept for a while under chsim's SessionIndex so that the demo user
//! systems (and anyone holding the SessionIndex) can show where the privileges came from and what
//! was dropped and why — without reaching into the broker (`GET /runtime/logins/<session index>`).

use crate::attribute_service::Provenance;
use crate::privileges::PrivilegeList;
use crate::roles::Dropped;
use chrono::{DateTime, Utc};

/// The report of one successful login.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoginReport {
    /// When the token was issued.
    pub issued_at: DateTime<Utc>,
    /// The user system.
    pub user_system: String,
    /// The IdP.
    pub idp: String,
    /// The person's NameID.
    pub name_id: String,
    /// Where the privileges came from.
    pub provenance: Provenance,
    /// The privileges as received (job-function roles), if any were.
    pub received: Option<PrivilegeList>,
    /// What was issued (user-system roles); empty when the attribute was omitted.
    pub issued: PrivilegeList,
    /// Privileges that did not make it, with the reason.
    pub dropped: Vec<Dropped>,
}
