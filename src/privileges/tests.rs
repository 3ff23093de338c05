//! OIOBPP parsing and emission: every input shape from a checked-in fixture
//! (`tests/fixtures/oiobpp/README.md`), every malformation as its own error, the round trip as a
//! property, and our output validated against the OIOBPP 1.2 schema by xmllint.
#![allow(clippy::unwrap_used)]

use super::*;
use proptest::prelude::*;

macro_rules! fixture {
    ($name:literal) => {
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/oiobpp/",
            $name
        ))
    };
}

const K: &str = "urn:dk:gov:saml:cvrNumberIdentifier:11111111";
const SAGSBEHANDLER: &str = "http://korsbaek.dk/roles/jobrole/sagsbehandler/1";
const LEDER: &str = "http://korsbaek.dk/roles/jobrole/leder/1";
const PARAM: &str = "http://korsbaek.dk/constraints/KLE/1/parametric";
const ORG: &str = "http://sts.kombit.dk/constraints/orgenhed/1";
const KLE: &str = "http://sts.kombit.dk/constraints/KLE/1";

fn group(scope: &str, privilege: &str, constraints: &[(&str, &[&str])]) -> PrivilegeGroup {
    PrivilegeGroup {
        scope: scope.into(),
        privileges: vec![privilege.into()],
        constraints: constraints
            .iter()
            .map(|(n, v)| Constraint {
                name: (*n).into(),
                values: v.iter().map(|s| (*s).into()).collect(),
            })
            .collect(),
    }
}

/// The list that the job-role fixtures all encode.
fn job_roles() -> PrivilegeList {
    PrivilegeList {
        groups: vec![
            group(K, SAGSBEHANDLER, &[]),
            group(K, LEDER, &[(PARAM, &["27.35.04"])]),
        ],
    }
}

fn constrained() -> PrivilegeList {
    PrivilegeList {
        groups: vec![group(
            K,
            "http://sapa.demo/roles/usersystemrole/laes-sag/1",
            &[
                (
                    ORG,
                    &[
                        "4053d58d-0000-4000-8000-000000000001",
                        "7ac56cc7-0000-4000-8000-000000000002",
                        "8d6e2b41-0000-4000-8000-000000000003",
                    ],
                ),
                (KLE, &["25.*"]),
            ],
        )],
    }
}

#[test]
fn reads_the_itst_namespace_with_a_prefix_and_unqualified_children() {
    assert_eq!(parse(fixture!("itst-prefixed.xml")).unwrap(), job_roles());
}

#[test]
fn reads_the_digst_namespace() {
    assert_eq!(parse(fixture!("digst-prefixed.xml")).unwrap(), job_roles());
}

#[test]
fn reads_a_default_namespace_whose_children_are_qualified() {
    assert_eq!(
        parse(fixture!("default-namespace.xml")).unwrap(),
        job_roles()
    );
}

#[test]
fn reads_prefixed_qualified_children() {
    assert_eq!(
        parse(fixture!("prefixed-qualified-children.xml")).unwrap(),
        job_roles()
    );
}

#[test]
fn reads_base64_of_utf8() {
    assert_eq!(parse(fixture!("itst-prefixed.b64")).unwrap(), job_roles());
}

#[test]
fn tolerates_crlf_indentation_comments_and_an_xml_declaration() {
    assert_eq!(parse(fixture!("crlf-indented.xml")).unwrap(), job_roles());
}

#[test]
fn tolerates_base64_wrapped_in_crlf_lines() {
    assert_eq!(
        parse(fixture!("crlf-indented-wrapped.b64")).unwrap(),
        job_roles()
    );
}

#[test]
fn reads_a_constraint_before_its_privilege() {
    assert_eq!(
        parse(fixture!("constraint-before-privilege.xml")).unwrap(),
        job_roles()
    );
}

#[test]
fn reads_comma_separated_constraint_values() {
    assert_eq!(
        parse(fixture!("comma-separated-values.xml")).unwrap(),
        constrained()
    );
}

#[test]
fn reads_repeated_constraint_elements_as_one_constraint() {
    assert_eq!(
        parse(fixture!("repeated-constraints.xml")).unwrap(),
        constrained()
    );
}

#[test]
fn keeps_groups_with_the_same_scope_apart_and_in_order() {
    let list = parse(fixture!("itst-prefixed.xml")).unwrap();
    assert_eq!(list.groups.len(), 2);
    assert!(list.groups.iter().all(|g| &*g.scope == K));
    assert_eq!(&*list.groups[0].privileges[0], SAGSBEHANDLER);
}

#[test]
fn keeps_other_scope_kinds_as_they_are() {
    let list = parse(fixture!("other-scopes.xml")).unwrap();
    let scopes: Vec<_> = list.groups.iter().map(|g| scope_kind(&g.scope)).collect();
    assert_eq!(
        scopes,
        vec![
            ScopeKind::ProductionUnit("1003388394"),
            ScopeKind::Se("12345678"),
            ScopeKind::Cpr("0101701234"),
            ScopeKind::Other("urn:example:own-scope:x"),
        ]
    );
    assert_eq!(
        scope_kind(K),
        ScopeKind::Cvr(crate::ids::Cvr::parse("11111111").unwrap())
    );
}

#[test]
fn refuses_bad_base64_naming_it() {
    assert!(matches!(
        parse(fixture!("bad-base64.txt")),
        Err(PrivilegeError::NotBase64 { .. })
    ));
}

#[test]
fn refuses_base64_that_is_not_xml() {
    assert!(matches!(
        parse(fixture!("not-xml.b64")),
        Err(PrivilegeError::NotXml { .. })
    ));
}

#[test]
fn refuses_bytes_that_are_not_utf8() {
    assert_eq!(
        parse(fixture!("not-utf8.b64")),
        Err(PrivilegeError::NotUtf8 { offset: 0 })
    );
}

#[test]
fn refuses_a_group_without_scope_naming_its_position() {
    assert_eq!(
        parse(fixture!("missing-scope.xml")),
        Err(PrivilegeError::MissingScope { group: 2 })
    );
}

#[test]
fn refuses_an_unknown_root() {
    assert_eq!(
        parse(fixture!("unknown-root.xml")),
        Err(PrivilegeError::UnknownRoot {
            found: "{http://itst.dk/oiosaml/basic_privilege_profile}Privileges".into()
        })
    );
    assert!(matches!(
        parse("<PrivilegeList><PrivilegeGroup Scope=\"x\"><Privilege>p</Privilege></PrivilegeGroup></PrivilegeList>"),
        Err(PrivilegeError::UnknownRoot { .. })
    ));
}

#[test]
fn refuses_entity_declarations_before_expanding_them() {
    assert_eq!(
        parse(fixture!("entity-declaration.xml")),
        Err(PrivilegeError::EntityDeclaration)
    );
}

#[test]
fn refuses_an_empty_value() {
    assert_eq!(parse("  \r\n"), Err(PrivilegeError::Empty));
}

#[test]
fn refuses_structural_faults_each_with_its_own_error() {
    let wrap = |inner: &str| {
        format!(r#"<bpp:PrivilegeList xmlns:bpp="{NS_ITST}">{inner}</bpp:PrivilegeList>"#)
    };
    let cases: Vec<(String, PrivilegeError)> = vec![
        (
            wrap(r#"<PrivilegeGroup Scope="s"></PrivilegeGroup>"#),
            PrivilegeError::GroupWithoutPrivilege { scope: "s".into() },
        ),
        (
            wrap(r#"<PrivilegeGroup Scope="s"><Privilege> </Privilege></PrivilegeGroup>"#),
            PrivilegeError::EmptyPrivilege { scope: "s".into() },
        ),
        (
            wrap(
                r#"<PrivilegeGroup Scope="s"><Privilege>p</Privilege><Constraint>v</Constraint></PrivilegeGroup>"#,
            ),
            PrivilegeError::ConstraintWithoutName { scope: "s".into() },
        ),
        (
            wrap(
                r#"<PrivilegeGroup Scope="s"><Privilege>p</Privilege><Constraint Name="n"> , </Constraint></PrivilegeGroup>"#,
            ),
            PrivilegeError::EmptyConstraint {
                scope: "s".into(),
                name: "n".into(),
            },
        ),
        (
            wrap(
                r#"<PrivilegeGroup Scope="s"><Privilege>p</Privilege><Role>r</Role></PrivilegeGroup>"#,
            ),
            PrivilegeError::UnexpectedElement {
                found: "Role".into(),
                parent: "PrivilegeGroup".into(),
            },
        ),
        (
            wrap(r#"<PrivilegeGroup Scope="s"><Privilege><b>p</b></Privilege></PrivilegeGroup>"#),
            PrivilegeError::UnexpectedElement {
                found: "b".into(),
                parent: "Privilege".into(),
            },
        ),
        (
            wrap(r#"stray<PrivilegeGroup Scope="s"><Privilege>p</Privilege></PrivilegeGroup>"#),
            PrivilegeError::UnexpectedText {
                text: "stray".into(),
                parent: format!("{{{NS_ITST}}}PrivilegeList"),
            },
        ),
    ];
    for (xml, expected) in cases {
        assert_eq!(parse(&xml), Err(expected), "{xml}");
    }
}

#[test]
fn an_empty_privilege_list_is_refused_not_read_as_no_privileges() {
    // The schema requires a group; "no privileges" is said by omitting the attribute.
    assert_eq!(
        parse(&format!(r#"<bpp:PrivilegeList xmlns:bpp="{NS_ITST}"/>"#)),
        Err(PrivilegeError::EmptyList)
    );
}

#[test]
fn emits_the_digst_namespace_with_one_group_per_privilege_and_one_constraint_per_value() {
    let list = PrivilegeList {
        groups: vec![PrivilegeGroup {
            scope: K.into(),
            privileges: vec!["http://a/1".into(), "http://a/2".into()],
            constraints: vec![Constraint {
                name: KLE.into(),
                values: vec!["25.*".into(), "27.35.04".into()].into(),
            }],
        }],
    };
    let xml = emit(&list, Namespace::Digst);
    let group = format!(
        r#"<Constraint Name="{KLE}">25.*</Constraint><Constraint Name="{KLE}">27.35.04</Constraint></PrivilegeGroup>"#
    );
    assert_eq!(
        xml,
        format!(
            r#"<bpp:PrivilegeList xmlns:bpp="{NS_DIGST}"><PrivilegeGroup Scope="{K}"><Privilege>http://a/1</Privilege>{group}<PrivilegeGroup Scope="{K}"><Privilege>http://a/2</Privilege>{group}</bpp:PrivilegeList>"#
        )
    );
}

#[test]
fn emits_base64_of_utf8_in_the_itst_namespace() {
    let encoded = encode(&job_roles(), Namespace::Itst);
    use base64::Engine as _;
    let text = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&encoded)
            .unwrap(),
    )
    .unwrap();
    assert!(text.starts_with(&format!(r#"<bpp:PrivilegeList xmlns:bpp="{NS_ITST}">"#)));
    assert_eq!(parse(&encoded).unwrap(), job_roles());
}

/// Validates `xml` with `xmllint --schema` (libxml2-utils, installed by `make deps`).
fn xmllint_validates(xml: &str, schema: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let (doc, xsd) = (dir.path().join("list.xml"), dir.path().join("bpp.xsd"));
    std::fs::write(&doc, xml).unwrap();
    std::fs::write(&xsd, schema).unwrap();
    let out = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(&doc)
        .output()
        .map_err(|e| format!("cannot run xmllint (make deps installs libxml2-utils): {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

const BPP_V12: &str = fixture!("schema/bpp_v12.xsd");

#[test]
fn digst_output_validates_against_the_oiobpp_1_2_schema() {
    let xml = emit(&constrained(), Namespace::Digst);
    xmllint_validates(&xml, BPP_V12).unwrap();
}

#[test]
fn itst_output_validates_against_the_1_2_schema_with_the_itst_namespace() {
    // OIOBPP 1.0.1 has no Constraint, yet KOMBIT uses it with the itst.dk namespace.
    let xsd = BPP_V12.replace(NS_DIGST, NS_ITST);
    let xml = emit(&constrained(), Namespace::Itst);
    xmllint_validates(&xml, &xsd).unwrap();
}

#[test]
fn the_schema_check_itself_refuses_a_list_that_breaks_the_schema() {
    // Guards the two tests above against an xmllint that accepts anything.
    let xml = format!(
        r#"<bpp:PrivilegeList xmlns:bpp="{NS_DIGST}"><PrivilegeGroup/></bpp:PrivilegeList>"#
    );
    assert!(xmllint_validates(&xml, BPP_V12).is_err());
}

fn value() -> impl Strategy<Value = String> {
    // Anything without a comma (the value separator) and without surrounding whitespace,
    // including the characters XML must escape.
    "[A-Za-z0-9&<>\"'.*/:_ -]{1,16}"
        .prop_map(|s| s.trim().to_string())
        .prop_filter("non-empty", |s| !s.is_empty())
}

fn scope() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{8}".prop_map(|c| format!("{SCOPE_CVR}{c}")),
        "[0-9]{10}".prop_map(|p| format!("{SCOPE_PRODUCTION_UNIT}{p}")),
        "urn:[a-z]{1,8}:[a-z&<>]{1,8}".prop_map(|s| s),
    ]
}

fn list() -> impl Strategy<Value = PrivilegeList> {
    let constraint = (
        "http://[a-z]{1,8}\\.dk/constraints/[A-Za-z]{1,6}/1",
        proptest::collection::vec(value(), 1..4),
    )
        .prop_map(|(name, mut values)| {
            values.dedup();
            let mut unique = Vec::new();
            for v in values {
                if !unique.contains(&v) {
                    unique.push(v);
                }
            }
            Constraint {
                name: name.into(),
                values: unique.into_iter().map(Text::from).collect(),
            }
        });
    let group = (
        scope(),
        "http://[a-z]{1,8}\\.dk/roles/(jobrole|usersystemrole)/[a-z-]{1,10}/1",
        proptest::collection::vec(constraint, 0..4),
    )
        .prop_map(|(scope, privilege, constraints)| {
            let mut unique: Vec<Constraint> = Vec::new();
            for c in constraints {
                if !unique.iter().any(|u| u.name == c.name) {
                    unique.push(c);
                }
            }
            PrivilegeGroup {
                scope: scope.into(),
                privileges: vec![privilege.into()],
                constraints: unique,
            }
        });
    proptest::collection::vec(group, 1..6).prop_map(|groups| PrivilegeList { groups })
}

proptest! {
    #[test]
    fn parse_of_emit_is_the_identity(list in list(), digst in any::<bool>()) {
        let ns = if digst { Namespace::Digst } else { Namespace::Itst };
        prop_assert_eq!(parse(&encode(&list, ns)).unwrap(), list.clone());
        prop_assert_eq!(parse(&emit(&list, ns)).unwrap(), list);
    }

    #[test]
    fn no_input_makes_the_parser_panic(text in ".{0,200}") {
        let _ = parse(&text);
    }
}

#[test]
fn refuses_xml_that_is_not_well_formed_each_time_naming_it() {
    let list = |inner: &str| {
        format!(r#"<bpp:PrivilegeList xmlns:bpp="{NS_ITST}">{inner}</bpp:PrivilegeList>"#)
    };
    let group = r#"<PrivilegeGroup Scope="s"><Privilege>p</Privilege></PrivilegeGroup>"#;
    let cases = [
        (
            list(r#"<PrivilegeGroup Scope="s"><Privilege>p</Privilege></PrivilegeGroupX>"#),
            "PrivilegeGroupX",
        ),
        (
            format!(r#"<bpp:PrivilegeList xmlns:bpp="{NS_ITST}">{group}"#),
            "never closed",
        ),
        (format!("{}{}", list(group), list(group)), "unknown token"),
        (format!("{}trailing", list(group)), "unknown token"),
        (
            list(r#"<x:PrivilegeGroup Scope="s"><Privilege>p</Privilege></x:PrivilegeGroup>"#),
            "unknown namespace prefix 'x'",
        ),
        (
            list(r#"<PrivilegeGroup Scope="s"><Privilege>&role;</Privilege></PrivilegeGroup>"#),
            "unknown entity reference 'role'",
        ),
        (
            list(
                r#"<PrivilegeGroup Scope="s" Scope="t"><Privilege>p</Privilege></PrivilegeGroup>"#,
            ),
            "attribute 'Scope' at 1:105 is already defined",
        ),
    ];
    for (xml, needle) in cases {
        match parse(&xml) {
            Err(PrivilegeError::NotXml { detail }) => {
                assert!(
                    detail.contains(needle),
                    "{xml}: {detail} (expected {needle})"
                )
            }
            other => panic!("{xml}: expected NotXml ({needle}), got {other:?}"),
        }
    }
}

#[test]
fn expands_predefined_entities_character_references_and_cdata() {
    let xml = format!(
        r#"<bpp:PrivilegeList xmlns:bpp="{NS_ITST}"><PrivilegeGroup Scope="a&amp;b"><Privilege>http://x/&#x72;ole?a=1&amp;b=2</Privilege><Constraint Name="n"><![CDATA[<1>]]>, 2</Constraint></PrivilegeGroup></bpp:PrivilegeList>"#
    );
    assert_eq!(
        parse(&xml).unwrap().groups,
        vec![group(
            "a&b",
            "http://x/role?a=1&b=2",
            &[("n", &["<1>", "2"])]
        )]
    );
}

#[test]
fn elements_of_a_foreign_namespace_are_refused_with_their_namespace() {
    let xml = format!(
        r#"<bpp:PrivilegeList xmlns:bpp="{NS_ITST}"><o:PrivilegeGroup xmlns:o="urn:other" Scope="s"><Privilege>p</Privilege></o:PrivilegeGroup></bpp:PrivilegeList>"#
    );
    assert_eq!(
        parse(&xml),
        Err(PrivilegeError::UnexpectedElement {
            found: "{urn:other}PrivilegeGroup".into(),
            parent: format!("{{{NS_ITST}}}PrivilegeList")
        })
    );
}
