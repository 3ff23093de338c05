//! What chsim did in one login, kept for a while under chsim's SessionIndex so that the demo user
//! systems (and anyone holding the SessionIndex) can show where the privileges came from and what
//! was dropped and why — without reaching into the broker (`GET /runtime/logins/<session index>`).

use crate::attribute_service::Provenance;
use crate::privileges::PrivilegeList;
use crate::roles::Dropped;
use chrono::{DateTime, Utc};

/// The report of one successful login.
#[derive(Debug, Clone, PartialEq, Eq)]
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

impl LoginReport {
    /// About how many bytes this report holds (for the cache's weight bound).
    pub(super) fn weight(&self) -> usize {
        let list = |l: &PrivilegeList| {
            l.groups
                .iter()
                .map(|g| {
                    64 + g.scope.len()
                        + g.privileges.iter().map(|p| p.len() + 16).sum::<usize>()
                        + g.constraints
                            .iter()
                            .map(|c| {
                                c.name.len() + c.values.iter().map(|v| v.len() + 16).sum::<usize>()
                            })
                            .sum::<usize>()
                })
                .sum::<usize>()
        };
        512 + self.user_system.len()
            + self.idp.len()
            + self.name_id.len()
            + self.received.as_ref().map_or(0, list)
            + list(&self.issued)
            + self.dropped.len() * 256
    }
}
