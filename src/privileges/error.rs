//! Why a privilege list could not be read. Each variant names the problem and carries what was
//! found, so the person's error page can say what the IdP (or attribute service) must fix.

use thiserror::Error;

/// A malformed PrivilegeList.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PrivilegeError {
    /// The attribute value is empty.
    #[error("the privilege attribute is empty; omit the attribute when the person has no privileges (OIOBPP)")]
    Empty,
    /// Neither raw XML nor valid base64.
    #[error("the privilege attribute is not base64 ({detail}); OIOBPP sends the PrivilegeList as base64 of its UTF-8 XML")]
    NotBase64 {
        /// The decoder's message.
        detail: String,
    },
    /// The decoded bytes are not UTF-8.
    #[error("the decoded privilege list is not UTF-8 (invalid byte at offset {offset}); encode the XML as UTF-8 before base64")]
    NotUtf8 {
        /// Offset of the first invalid byte.
        offset: usize,
    },
    /// The text is not well-formed XML.
    #[error("the privilege list is not well-formed XML: {detail}")]
    NotXml {
        /// The parser's message, with position.
        detail: String,
    },
    /// A DTD (and with it entity declarations) — refused before any entity is expanded.
    #[error("the privilege list carries a DTD/entity declarations, which OIOBPP never needs and chsim refuses (entity-expansion attacks)")]
    EntityDeclaration,
    /// The XML exceeds a bound (depth, elements, attributes, text), checked before parsing.
    #[error("the privilege list was refused before parsing: {0}")]
    Limit(crate::xml_limits::LimitError),
    /// The root is not `PrivilegeList` in one of the two OIOBPP namespaces.
    #[error("the root element is {found}, not PrivilegeList in http://itst.dk/oiosaml/basic_privilege_profile or http://digst.dk/oiosaml/basic_privilege_profile")]
    UnknownRoot {
        /// `{namespace}local` of the root found.
        found: String,
    },
    /// A `PrivilegeList` without groups (the schema requires one).
    #[error("the PrivilegeList holds no PrivilegeGroup; OIOBPP omits the attribute when the person has no privileges, it never sends an empty list")]
    EmptyList,
    /// The privilege attribute has several values (OIOBPP sends one PrivilegeList).
    #[error("the privilege attribute has {count} values; OIOBPP sends exactly one PrivilegeList")]
    SeveralValues {
        /// How many.
        count: usize,
    },
    /// An element that OIOBPP does not define, where it appeared.
    #[error("unexpected element {found} inside {parent}; a PrivilegeList holds PrivilegeGroups, a PrivilegeGroup holds Privilege and Constraint elements")]
    UnexpectedElement {
        /// `{namespace}local` of the element.
        found: String,
        /// The element it sits in.
        parent: String,
    },
    /// Text where only elements belong.
    #[error("unexpected text {text:?} inside {parent}")]
    UnexpectedText {
        /// The text (first 40 characters).
        text: String,
        /// The element it sits in.
        parent: String,
    },
    /// A `PrivilegeGroup` without the required `Scope` attribute.
    #[error("PrivilegeGroup number {group} has no Scope attribute (required, e.g. Scope=\"urn:dk:gov:saml:cvrNumberIdentifier:<cvr>\")")]
    MissingScope {
        /// 1-based position of the group.
        group: usize,
    },
    /// A `PrivilegeGroup` without any `Privilege`.
    #[error("the PrivilegeGroup with scope {scope} holds no Privilege (at least one is required)")]
    GroupWithoutPrivilege {
        /// The group's scope.
        scope: String,
    },
    /// An empty `Privilege` element.
    #[error("the PrivilegeGroup with scope {scope} has an empty Privilege element")]
    EmptyPrivilege {
        /// The group's scope.
        scope: String,
    },
    /// A `Constraint` without its `Name`.
    #[error("a Constraint in the PrivilegeGroup with scope {scope} has no Name attribute (the constraint type or parametric identifier)")]
    ConstraintWithoutName {
        /// The group's scope.
        scope: String,
    },
    /// A `Constraint` without a value.
    #[error("the Constraint {name} in the PrivilegeGroup with scope {scope} has no value")]
    EmptyConstraint {
        /// The group's scope.
        scope: String,
        /// The constraint's Name.
        name: String,
    },
}
