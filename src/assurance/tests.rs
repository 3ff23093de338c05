//! Assurance levels: ordering, every textual form, the equivalence table, raising a requirement,
//! and each IdP profile's RequestedAuthnContext (issue #3 §6).
#![allow(clippy::unwrap_used)]

use super::*;

fn nist(n: u8) -> NistLevel {
    NistLevel::new(n).unwrap()
}

#[test]
fn nsis_levels_are_ordered_low_substantial_high() {
    assert!(NsisLevel::Low < NsisLevel::Substantial);
    assert!(NsisLevel::Substantial < NsisLevel::High);
    assert!(nist(2) < nist(3));
}

#[test]
fn nist_levels_outside_one_to_four_are_refused() {
    assert_eq!(NistLevel::parse(" 3 ").unwrap(), nist(3));
    for bad in ["0", "5", "three", "", "3.0"] {
        assert_eq!(
            NistLevel::parse(bad),
            Err(AssuranceError::NotNist { found: bad.into() })
        );
    }
}

#[test]
fn nsis_levels_are_read_from_the_plain_word_and_from_the_class_ref() {
    assert_eq!(
        NsisLevel::parse("Substantial").unwrap(),
        NsisLevel::Substantial
    );
    assert_eq!(NsisLevel::parse("high").unwrap(), NsisLevel::High);
    assert_eq!(
        NsisLevel::parse("https://data.gov.dk/concept/core/nsis/loa/Low").unwrap(),
        NsisLevel::Low
    );
    assert!(matches!(
        NsisLevel::parse("Betydelig"),
        Err(AssuranceError::NotNsis { .. })
    ));
}

#[test]
fn levels_are_written_in_the_reference_forms() {
    assert_eq!(
        nist(3).class_ref(),
        "urn:dk:gov:saml:attribute:AssuranceLevel:3"
    );
    assert_eq!(nist(3).to_string(), "3");
    assert_eq!(
        NsisLevel::Substantial.class_ref(),
        "https://data.gov.dk/concept/core/nsis/loa/Substantial"
    );
    assert_eq!(NsisLevel::High.to_string(), "High");
}

fn read(
    loa: Option<&str>,
    nist_attr: Option<&str>,
    class_ref: Option<&str>,
) -> Result<AssertedLevel, AssuranceError> {
    read_asserted(Asserted {
        loa_attribute: loa,
        nist_attribute: nist_attr,
        class_ref,
    })
}

#[test]
fn the_loa_attribute_is_authoritative_for_nsis_over_the_class_ref() {
    let got = read(
        Some("Substantial"),
        None,
        Some("https://data.gov.dk/concept/core/nsis/loa/High"),
    )
    .unwrap();
    assert_eq!(
        got,
        AssertedLevel {
            nsis: Some(NsisLevel::Substantial),
            nist: None
        }
    );
}

#[test]
fn the_assurance_level_attribute_is_read_when_there_is_no_loa() {
    let got = read(
        None,
        Some("3"),
        Some("urn:dk:gov:saml:attribute:AssuranceLevel:2"),
    )
    .unwrap();
    assert_eq!(
        got,
        AssertedLevel {
            nsis: None,
            nist: Some(nist(3))
        }
    );
}

#[test]
fn the_class_ref_stands_in_when_no_attribute_is_sent() {
    assert_eq!(
        read(
            None,
            None,
            Some("https://data.gov.dk/concept/core/nsis/loa/High")
        )
        .unwrap(),
        AssertedLevel {
            nsis: Some(NsisLevel::High),
            nist: None
        }
    );
    assert_eq!(
        read(
            None,
            None,
            Some("urn:dk:gov:saml:attribute:AssuranceLevel:2")
        )
        .unwrap(),
        AssertedLevel {
            nsis: None,
            nist: Some(nist(2))
        }
    );
}

#[test]
fn adfs_multipleauthn_counts_as_nist_level_three() {
    assert_eq!(
        read(
            None,
            None,
            Some("http://schemas.microsoft.com/claims/multipleauthn")
        )
        .unwrap(),
        AssertedLevel {
            nsis: None,
            nist: Some(nist(3))
        }
    );
}

#[test]
fn os2faktor_style_nist_and_nsis_together_are_both_kept() {
    let got = read(Some("Low"), Some("3"), None).unwrap();
    assert_eq!(
        got,
        AssertedLevel {
            nsis: Some(NsisLevel::Low),
            nist: Some(nist(3))
        }
    );
}

#[test]
fn a_malformed_level_is_an_error_not_ignored() {
    assert!(matches!(
        read(Some("Medium"), Some("3"), None),
        Err(AssuranceError::NotNsis { .. })
    ));
    assert!(matches!(
        read(None, Some("9"), None),
        Err(AssuranceError::NotNist { .. })
    ));
    assert_eq!(
        read(
            None,
            None,
            Some("urn:oasis:names:tc:SAML:2.0:ac:classes:Password")
        ),
        Err(AssuranceError::UnknownClassRef {
            found: "urn:oasis:names:tc:SAML:2.0:ac:classes:Password".into()
        })
    );
    assert_eq!(read(None, None, None), Err(AssuranceError::NoLevel));
}

#[test]
fn an_unrelated_class_ref_is_tolerated_when_an_attribute_states_the_level() {
    let got = read(
        None,
        Some("2"),
        Some("urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"),
    )
    .unwrap();
    assert_eq!(got.nist, Some(nist(2)));
}

#[test]
fn the_default_equivalence_is_kombits_rule_of_thumb() {
    let eq = Equivalence::default();
    assert_eq!(eq.nist_for(NsisLevel::Low), nist(2));
    assert_eq!(eq.nist_for(NsisLevel::Substantial), nist(3));
    assert_eq!(eq.nist_for(NsisLevel::High), nist(4));
}

#[test]
fn a_nist_requirement_is_met_by_a_high_enough_nist_level_or_its_nsis_equivalent() {
    let eq = Equivalence::default();
    let req = Requirement::Nist(nist(3));
    assert!(req.is_met_by(
        &AssertedLevel {
            nsis: None,
            nist: Some(nist(3))
        },
        &eq
    ));
    assert!(!req.is_met_by(
        &AssertedLevel {
            nsis: None,
            nist: Some(nist(2))
        },
        &eq
    ));
    assert!(req.is_met_by(
        &AssertedLevel {
            nsis: Some(NsisLevel::Substantial),
            nist: None
        },
        &eq
    ));
    assert!(!req.is_met_by(
        &AssertedLevel {
            nsis: Some(NsisLevel::Low),
            nist: None
        },
        &eq
    ));
    // A configured table changes the outcome.
    let lenient = Equivalence { low: nist(3), ..eq };
    assert!(req.is_met_by(
        &AssertedLevel {
            nsis: Some(NsisLevel::Low),
            nist: None
        },
        &lenient
    ));
}

#[test]
fn an_nsis_requirement_is_never_met_by_a_nist_level() {
    let eq = Equivalence::default();
    let req = Requirement::Nsis(NsisLevel::Substantial);
    assert!(!req.is_met_by(
        &AssertedLevel {
            nsis: None,
            nist: Some(nist(4))
        },
        &eq
    ));
    assert!(!req.is_met_by(
        &AssertedLevel {
            nsis: Some(NsisLevel::Low),
            nist: Some(nist(4))
        },
        &eq
    ));
    assert!(req.is_met_by(
        &AssertedLevel {
            nsis: Some(NsisLevel::High),
            nist: None
        },
        &eq
    ));
}

#[test]
fn a_requested_context_raises_a_requirement_but_never_lowers_it() {
    let eq = Equivalence::default();
    let n = |l| Requirement::Nist(nist(l));
    let s = Requirement::Nsis;
    assert_eq!(n(2).raised_by(n(3), &eq), Some(n(3)));
    assert_eq!(n(3).raised_by(n(2), &eq), Some(n(3)));
    assert_eq!(
        s(NsisLevel::High).raised_by(s(NsisLevel::Low), &eq),
        Some(s(NsisLevel::High))
    );
    assert_eq!(
        s(NsisLevel::Low).raised_by(s(NsisLevel::Substantial), &eq),
        Some(s(NsisLevel::Substantial))
    );
    // Across kinds: the lowest NSIS level meeting both.
    assert_eq!(
        n(3).raised_by(s(NsisLevel::Low), &eq),
        Some(s(NsisLevel::Substantial))
    );
    assert_eq!(
        n(2).raised_by(s(NsisLevel::High), &eq),
        Some(s(NsisLevel::High))
    );
    assert_eq!(
        s(NsisLevel::Substantial).raised_by(n(2), &eq),
        Some(s(NsisLevel::Substantial))
    );
    assert_eq!(
        s(NsisLevel::Low).raised_by(n(4), &eq),
        Some(s(NsisLevel::High))
    );
}

#[test]
fn each_profile_sends_its_requested_authn_context() {
    use IdpProfile::*;
    let n3 = Requirement::Nist(nist(3));
    let n2 = Requirement::Nist(nist(2));
    let sub = Requirement::Nsis(NsisLevel::Substantial);
    let cr = |p: IdpProfile, r| p.request(r).class_ref;
    let s = |x: &str| Some(x.to_string());
    assert_eq!(
        cr(Oiosaml2, n3),
        s("urn:dk:gov:saml:attribute:AssuranceLevel:3")
    );
    assert_eq!(
        cr(Oiosaml2AdfsMultipleAuthn, n3),
        s("http://schemas.microsoft.com/claims/multipleauthn")
    );
    assert_eq!(cr(Oiosaml2AdfsMultipleAuthn, n2), None);
    assert_eq!(cr(Oiosaml2WithoutRequestedLoa, n3), None);
    assert_eq!(cr(Oiosaml2WithoutRequestedLoa, sub), None);
    assert_eq!(
        cr(Oiosaml3, sub),
        s("https://data.gov.dk/concept/core/nsis/loa/Substantial")
    );
    assert_eq!(
        cr(Oiosaml3, n3),
        s("urn:dk:gov:saml:attribute:AssuranceLevel:3")
    );
    assert_eq!(
        cr(Oiosaml3AdfsMultipleAuthn, sub),
        s("http://schemas.microsoft.com/claims/multipleauthn")
    );
    let relay = Oiosaml3AdfsRelayState.request(sub);
    assert_eq!(
        relay.class_ref,
        s("http://schemas.microsoft.com/claims/multipleauthn")
    );
    assert_eq!(
        relay.relay_state_level,
        s("https://data.gov.dk/concept/core/nsis/loa/Substantial")
    );
    assert_eq!(Oiosaml3.request(sub).relay_state_level, None);
}

#[test]
fn profiles_parse_from_their_configuration_names() {
    for p in [
        IdpProfile::Oiosaml2,
        IdpProfile::Oiosaml2AdfsMultipleAuthn,
        IdpProfile::Oiosaml2WithoutRequestedLoa,
        IdpProfile::Oiosaml3,
        IdpProfile::Oiosaml3AdfsMultipleAuthn,
        IdpProfile::Oiosaml3AdfsRelayState,
    ] {
        #[derive(serde::Deserialize)]
        struct W {
            p: IdpProfile,
        }
        let w: W = toml::from_str(&format!("p = \"{}\"", p.as_str())).unwrap();
        assert_eq!(w.p, p);
        assert_eq!(p.is_oiosaml3(), p.as_str().starts_with("OIOSAML3"));
    }
}

#[test]
fn a_requested_context_is_read_as_its_weakest_known_minimum() {
    let refs = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        requested_minimum(
            "minimum",
            &refs(&[
                "https://data.gov.dk/concept/core/nsis/loa/High",
                "https://data.gov.dk/concept/core/nsis/loa/Substantial"
            ])
        ),
        Some(Requirement::Nsis(NsisLevel::Substantial))
    );
    assert_eq!(
        requested_minimum(
            "exact",
            &refs(&[
                "urn:dk:gov:saml:attribute:AssuranceLevel:3",
                "https://data.gov.dk/concept/core/nsis/loa/Low"
            ])
        ),
        Some(Requirement::Nist(nist(3)))
    );
    assert_eq!(
        requested_minimum(
            "minimum",
            &refs(&["http://schemas.microsoft.com/claims/multipleauthn"])
        ),
        Some(Requirement::Nist(nist(3)))
    );
    assert_eq!(
        requested_minimum(
            "maximum",
            &refs(&["urn:dk:gov:saml:attribute:AssuranceLevel:4"])
        ),
        None
    );
    assert_eq!(
        requested_minimum(
            "minimum",
            &refs(&["urn:oasis:names:tc:SAML:2.0:ac:classes:Password"])
        ),
        None
    );
}

#[test]
fn a_raise_no_login_could_meet_is_none_rather_than_a_lower_requirement() {
    // With High counting only as NIST 3, "NIST 4 and NSIS Low" cannot be met by anyone.
    let eq = Equivalence {
        high: nist(3),
        ..Equivalence::default()
    };
    assert_eq!(
        Requirement::Nist(nist(4)).raised_by(Requirement::Nsis(NsisLevel::Low), &eq),
        None
    );
}

#[test]
fn an_echoed_nsis_class_ref_does_not_prove_nsis_over_a_nist_attribute() {
    let got = read(
        None,
        Some("2"),
        Some("https://data.gov.dk/concept/core/nsis/loa/Substantial"),
    )
    .unwrap();
    assert_eq!(
        got,
        AssertedLevel {
            nsis: None,
            nist: Some(nist(2))
        }
    );
    assert!(!Requirement::Nsis(NsisLevel::Substantial).is_met_by(&got, &Equivalence::default()));
}

#[test]
fn an_oiosaml2_user_system_is_told_the_higher_of_the_nist_level_and_the_nsis_equivalent() {
    let eq = Equivalence::default();
    let both = AssertedLevel {
        nsis: Some(NsisLevel::Substantial),
        nist: Some(nist(2)),
    };
    assert_eq!(Requirement::stated_nist(&both, &eq), Some(nist(3)));
    let nist_only = AssertedLevel {
        nsis: None,
        nist: Some(nist(4)),
    };
    assert_eq!(Requirement::stated_nist(&nist_only, &eq), Some(nist(4)));
    let nsis_only = AssertedLevel {
        nsis: Some(NsisLevel::High),
        nist: None,
    };
    assert_eq!(Requirement::stated_nist(&nsis_only, &eq), Some(nist(4)));
}
