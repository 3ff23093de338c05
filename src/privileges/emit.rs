//! Writing a PrivilegeList the way the Context Handler does (reference §5.2, §5.3, §6.3):
//! `bpp:`-prefixed root in the profile's namespace, unqualified children (the schemas declare no
//! `elementFormDefault`), one `PrivilegeGroup` per (scope, privilege) with the group's
//! constraints, and one `Constraint` element per value (as the CH2 sample repeats them).

use super::{Namespace, PrivilegeList};
use crate::saml::xml::Element;
use base64::Engine as _;

/// The list as XML text in `namespace`.
pub fn emit(list: &PrivilegeList, namespace: Namespace) -> String {
    let groups = list.groups.iter().flat_map(|group| {
        group.privileges.iter().map(move |privilege| {
            let constraints = group.constraints.iter().flat_map(|c| {
                c.values
                    .iter()
                    .map(move |v| Element::new("Constraint").attr("Name", &c.name).text(v))
            });
            Element::new("PrivilegeGroup")
                .attr("Scope", &group.scope)
                .child(Element::new("Privilege").text(privilege))
                .children(constraints)
        })
    });
    Element::new("bpp:PrivilegeList")
        .attr("xmlns:bpp", namespace.uri())
        .children(groups)
        .to_xml()
}

/// The attribute value: base64 of the UTF-8 XML.
pub fn encode(list: &PrivilegeList, namespace: Namespace) -> String {
    base64::engine::general_purpose::STANDARD.encode(emit(list, namespace))
}
