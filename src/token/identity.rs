//! The format-neutral identity a token is rendered from (issue #9 §1).

use crate::assurance::{NistLevel, NsisLevel};
use crate::ids::{Cvr, EntityId};
use chrono::{DateTime, Utc};

/// Who logged in, how strongly and with which roles — everything a token of any format says about
/// the person. The broker builds it from the IdP's validated answer (and the attribute service);
/// `token::saml` renders it as an OIOSAML assertion, and a JWT renderer can sit beside it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Identity {
    /// The IdP's NameID, passed through (X509SubjectName).
    pub name_id: String,
    /// The IdP that authenticated the person.
    pub idp: EntityId,
    /// The person's municipality.
    pub cvr: Cvr,
    /// Organisation name.
    pub org_name: Option<String>,
    /// E-mail.
    pub email: Option<String>,
    /// Base64 OIOBPP: the job-function roles as received until the broker maps them, then the
    /// user system's roles (None when the person has none there).
    pub privileges: Option<String>,
    /// NIST level reached, as stated to the user system.
    pub nist_level: Option<NistLevel>,
    /// NSIS level reached, as stated to the user system.
    pub nsis_level: Option<NsisLevel>,
    /// When the IdP authenticated the person.
    pub authn_instant: DateTime<Utc>,
}
