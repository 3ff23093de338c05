//! Writing a PrivilegeList the way the Context Handler does (reference §5.2, §5.3, §6.3):
//! `bpp:`-prefixed root in the profile's namespace, unqualified children (the schemas declare no
//! `elementFormDefault`), one `PrivilegeGroup` per (scope, privilege) with the group's
//! constraints, and one `Constraint` element per value (as the CH2 sample repeats them).
//!
//! Written straight into one string (quick-xml escapes every value): the list is emitted on every
//! login and can hold hundreds of groups, and an element tree per group was most of the cost.

use super::{Namespace, PrivilegeList};
use base64::Engine as _;
use quick_xml::escape::escape;

/// The list as XML text in `namespace`.
pub fn emit(list: &PrivilegeList, namespace: Namespace) -> String {
    let mut out = String::with_capacity(128 + list.groups.len() * 256);
    out.push_str("<bpp:PrivilegeList xmlns:bpp=\"");
    out.push_str(namespace.uri());
    out.push('"');
    if list.is_empty() {
        out.push_str("/>");
        return out;
    }
    out.push('>');
    for group in &list.groups {
        for privilege in &group.privileges {
            out.push_str("<PrivilegeGroup Scope=\"");
            out.push_str(&escape(&*group.scope));
            out.push_str("\"><Privilege>");
            out.push_str(&escape(&**privilege));
            out.push_str("</Privilege>");
            for c in &group.constraints {
                for v in c.values.iter() {
                    out.push_str("<Constraint Name=\"");
                    out.push_str(&escape(&*c.name));
                    out.push_str("\">");
                    out.push_str(&escape(&**v));
                    out.push_str("</Constraint>");
                }
            }
            out.push_str("</PrivilegeGroup>");
        }
    }
    out.push_str("</bpp:PrivilegeList>");
    out
}

/// The attribute value: base64 of the UTF-8 XML.
pub fn encode(list: &PrivilegeList, namespace: Namespace) -> String {
    base64::engine::general_purpose::STANDARD.encode(emit(list, namespace))
}
