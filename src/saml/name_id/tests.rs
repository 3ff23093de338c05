//! The NameID parser: the profile's forms, RFC 4514 escapes, every refusal, and properties.

use super::*;
use proptest::prelude::*;

fn parts(name: &SubjectName) -> [Option<&str>; 4] {
    [
        name.c.as_deref(),
        name.o.as_deref(),
        name.cn.as_deref(),
        name.serial.as_deref(),
    ]
}

#[test]
fn reads_the_four_parts_of_the_profiles_name_id() {
    let n = SubjectName::parse("C=DK,O=11111111,CN=Karen Sagsbehandler,Serial=4b7b2e0a").unwrap();
    assert_eq!(
        parts(&n),
        [
            Some("DK"),
            Some("11111111"),
            Some("Karen Sagsbehandler"),
            Some("4b7b2e0a")
        ]
    );
}

#[test]
fn tolerates_spaces_around_equals_and_commas_as_in_kombit_samples() {
    let n =
        SubjectName::parse("C = DK, O = 19435075, CN = user1 oces3kombitidp, Serial = 555ed208")
            .unwrap();
    assert_eq!(
        parts(&n),
        [
            Some("DK"),
            Some("19435075"),
            Some("user1 oces3kombitidp"),
            Some("555ed208")
        ]
    );
    let n =
        SubjectName::parse("C=DK, O=30808460, CN=TEST MOCES1, Serial=CVR:30808460-RID:53051752")
            .unwrap();
    assert_eq!(n.serial.as_deref(), Some("CVR:30808460-RID:53051752"));
}

#[test]
fn reads_attribute_types_case_insensitively() {
    let n = SubjectName::parse("c=DK,o=11111111,cn=A,SERIAL=x").unwrap();
    assert_eq!(
        parts(&n),
        [Some("DK"), Some("11111111"), Some("A"), Some("x")]
    );
}

#[test]
fn an_escaped_comma_stays_in_the_value_and_names_no_other_organisation() {
    let n = SubjectName::parse(r"C=DK,O=55555555,CN=a\,O=11111111,Serial=x").unwrap();
    assert_eq!(n.cn.as_deref(), Some("a,O=11111111"));
    assert_eq!(n.o.as_deref(), Some("55555555"));
    let n = SubjectName::parse(r"CN=a\,O=11111111").unwrap();
    assert_eq!(n.cn.as_deref(), Some("a,O=11111111"));
    assert_eq!(n.o, None);
}

#[test]
fn a_second_organisation_is_refused_as_repeated() {
    assert_eq!(
        SubjectName::parse("C=DK,O=55555555,CN=a,O=11111111,Serial=x"),
        Err(SubjectNameError::Repeated {
            attribute: SubjectAttribute::O,
            first: "55555555".into(),
            second: "11111111".into(),
        })
    );
    assert!(matches!(
        SubjectName::parse("CN=a,cn=b"),
        Err(SubjectNameError::Repeated {
            attribute: SubjectAttribute::Cn,
            ..
        })
    ));
}

#[test]
fn honours_every_rfc4514_escape() {
    let n = SubjectName::parse(r#"CN=\"q\" \+ \; \< \> \\ \= \# end"#).unwrap();
    assert_eq!(n.cn.as_deref(), Some(r#""q" + ; < > \ = # end"#));
    // Hex pairs are UTF-8 bytes: ø is C3 B8; \2C is a comma.
    let n = SubjectName::parse(r"CN=S\C3\B8by\2cO=1").unwrap();
    assert_eq!(n.cn.as_deref(), Some("Søby,O=1"));
    assert_eq!(n.o, None);
    // A leading `\#` is a literal `#`; an unescaped `#` later and `=` in a value are plain.
    let n = SubjectName::parse(r"CN=\#1 a#b=c").unwrap();
    assert_eq!(n.cn.as_deref(), Some("#1 a#b=c"));
}

#[test]
fn keeps_escaped_leading_and_trailing_spaces_and_drops_unescaped_ones() {
    let n = SubjectName::parse(r"CN=\ a b\ ,O=  11111111  ").unwrap();
    assert_eq!(n.cn.as_deref(), Some(" a b "));
    assert_eq!(n.o.as_deref(), Some("11111111"));
}

#[test]
fn refuses_a_multi_valued_rdn() {
    assert_eq!(
        SubjectName::parse("C=DK,O=1+CN=x"),
        Err(SubjectNameError::MultiValued {
            attribute: SubjectAttribute::O,
            position: 9,
        })
    );
}

#[test]
fn refuses_unknown_attribute_types() {
    assert_eq!(
        SubjectName::parse("C=DK, OU=IT,CN=x"),
        Err(SubjectNameError::UnknownType {
            found: "OU".into(),
            position: 7,
        })
    );
    // serialNumber is not the profile's Serial.
    assert!(matches!(
        SubjectName::parse("serialNumber=1"),
        Err(SubjectNameError::UnknownType { .. })
    ));
}

#[test]
fn refuses_characters_rfc4514_allows_only_escaped() {
    for (text, character) in [
        ("CN=a\"b", '"'),
        ("CN=a;O=1", ';'),
        ("CN=<a>", '<'),
        ("CN=a>", '>'),
        ("CN=a\0", '\0'),
    ] {
        assert!(
            matches!(
                SubjectName::parse(text),
                Err(SubjectNameError::Unescaped { character: c, .. }) if c == character
            ),
            "{text}"
        );
    }
}

#[test]
fn refuses_bad_escapes_hex_values_bad_utf8_and_empty_parts() {
    assert_eq!(
        SubjectName::parse(r"CN=a\x"),
        Err(SubjectNameError::BadEscape {
            attribute: SubjectAttribute::Cn,
            found: "x".into(),
            position: 5,
        })
    );
    assert!(matches!(
        SubjectName::parse(r"CN=a\4"),
        Err(SubjectNameError::BadEscape { .. })
    ));
    assert!(matches!(
        SubjectName::parse(r"CN=a\"),
        Err(SubjectNameError::BadEscape { ref found, .. }) if found.is_empty()
    ));
    assert_eq!(
        SubjectName::parse("CN=#04024869"),
        Err(SubjectNameError::HexValue {
            attribute: SubjectAttribute::Cn,
            position: 4,
        })
    );
    assert_eq!(
        SubjectName::parse(r"CN=\C3"),
        Err(SubjectNameError::NotUtf8 {
            attribute: SubjectAttribute::Cn
        })
    );
    assert_eq!(SubjectName::parse("  "), Err(SubjectNameError::Empty));
    assert_eq!(
        SubjectName::parse("C=DK,,O=1"),
        Err(SubjectNameError::EmptyRdn { position: 6 })
    );
    assert_eq!(
        SubjectName::parse("C=DK,"),
        Err(SubjectNameError::EmptyRdn { position: 6 })
    );
    assert_eq!(
        SubjectName::parse("C=DK,O"),
        Err(SubjectNameError::MissingEquals {
            found: "O".into(),
            position: 6,
        })
    );
    assert_eq!(
        SubjectName::parse("C=DK,O= "),
        Err(SubjectNameError::EmptyValue {
            attribute: SubjectAttribute::O
        })
    );
}

#[test]
fn every_refusal_says_what_to_do() {
    let e = SubjectName::parse("C=DK,O=1,O=2").unwrap_err().to_string();
    assert!(e.contains("O twice (`1` and `2`)"), "{e}");
    let e = SubjectName::parse("CN=a+b").unwrap_err().to_string();
    assert!(e.contains(r"write a literal plus as `\+`"), "{e}");
    let e = SubjectName::parse("CN=a;b").unwrap_err().to_string();
    assert!(e.contains(r"escaped (`\;`)"), "{e}");
}

#[test]
fn writes_the_parts_in_the_profiles_order_escaped() {
    let n = SubjectName {
        c: Some("DK".into()),
        o: Some("11111111".into()),
        cn: Some(" Hansen, Jens+1 ".into()),
        serial: Some("#x".into()),
    };
    assert_eq!(
        n.to_string(),
        r"C=DK,O=11111111,CN=\ Hansen\, Jens\+1\ ,Serial=\#x"
    );
    assert_eq!(SubjectName::parse(&n.to_string()).unwrap(), n);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Whatever the text, the parser answers (no panic).
    #[test]
    fn never_panics(text in "\\PC{0,40}", tricky in "[CNOSerial=,+\\\\ #\";<>0-9a-fA-F]{0,30}") {
        let _ = SubjectName::parse(&text);
        let _ = SubjectName::parse(&tricky);
    }

    /// Every value, escaped, reads back exactly — and an attacker's text inside a CN never
    /// becomes another part.
    #[test]
    fn escaped_values_read_back_exactly(
        cn in "\\PC{1,30}",
        serial in "[ -~]{1,20}",
        o in "[0-9]{8}",
    ) {
        let name = SubjectName {
            c: Some("DK".into()),
            o: Some(o),
            cn: Some(cn),
            serial: Some(serial),
        };
        prop_assert_eq!(SubjectName::parse(&name.to_string()), Ok(name));
    }
}
