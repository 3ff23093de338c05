//! `chsim check-config` and `chsim serve` on broken configurations: every problem is reported at
//! once with its file and key, the exit code is 1, and serve does not start.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

mod common;

use common::on_disk::*;

fn chsim(args: &[&str]) -> (i32, String) {
    run_chsim(args, &[])
}

#[test]
fn the_demo_configuration_on_disk_is_valid() {
    let (_tmp, dir) = demo_copy();
    let (code, out) = chsim(&["check-config", "--config", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("is valid"));
}

#[test]
fn check_config_reports_every_problem_with_file_and_key() {
    let (_tmp, dir) = demo_copy();
    edit(
        &dir,
        "chsim.toml",
        "clock_skew_seconds = 60",
        "clock_skew_seconds = 60\ncolour = \"blue\"",
    );
    edit(
        &dir,
        "municipalities.toml",
        "cvr = \"22222222\"",
        "cvr = \"2222\"",
    );
    edit(
        &dir,
        "test_idps.toml",
        "nist_level = 2\nnsis_level = \"Low\"\nforced_nist_level = 3",
        "nist_level = 7\nnsis_level = \"Low\"",
    );
    edit(
        &dir,
        "demo_sps.toml",
        "signing_cert = \"../keys/demo-sp-oiosaml2.cert.pem\"",
        "signing_cert = \"../keys/demo-sp-oiosaml3.cert.pem\"",
    );
    let (code, out) = chsim(&["check-config", "--config", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    // Parse errors stop at the file, so fix those two and look again for the rest.
    assert!(
        out.contains("chsim.toml: line") && out.contains("unknown field `colour`"),
        "{out}"
    );
    assert!(
        out.contains("municipalities.toml: line") && out.contains("is not a CVR number"),
        "{out}"
    );
    edit(&dir, "chsim.toml", "\ncolour = \"blue\"", "");
    edit(
        &dir,
        "municipalities.toml",
        "cvr = \"2222\"",
        "cvr = \"22222222\"",
    );
    let (code, out) = chsim(&["check-config", "--config", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("test_idps.toml: test_idp[0].user[2].nist_level: must be 1, 2, 3 or 4"),
        "{out}"
    );
    assert!(
        out.contains("demo_sps.toml: demo_sp[1].signing_key:")
            && out.contains("does not belong to the certificate"),
        "{out}"
    );
    // The broken demo SP cannot publish metadata, which its registration then reports.
    assert!(out.contains("user_systems.toml: user_system[1].metadata: `builtin:demo-sp/oiosaml2` is unavailable because of the problem reported for its own entry"), "{out}");
    assert!(out.contains("3 problems"), "{out}");
}

#[test]
fn role_catalogue_problems_are_all_reported_with_file_and_key() {
    let (_tmp, dir) = demo_copy();
    let us = "user_systems.toml";
    // A mapping to a role system A does not define.
    edit(
        &dir,
        us,
        "role = \"http://fagsystem-a.demo/roles/usersystemrole/administrator/1\"",
        "role = \"http://fagsystem-a.demo/roles/usersystemrole/superbruger/1\"",
    );
    // A constraint type the role does not take.
    edit(
        &dir,
        us,
        "constraints = [{ type = \"http://sts.kombit.dk/constraints/KLE/1\", values = [\"27.35.04\"] }]",
        "constraints = [{ type = \"http://sts.kombit.dk/constraints/KLE/1\", values = [\"27.35.04\"] }, { type = \"http://sts.kombit.dk/constraints/orgenhed/1\", values = [\"x\"] }]",
    );
    // A required constraint with no value.
    edit(
        &dir,
        us,
        "constraints = [{ type = \"http://sts.kombit.dk/constraints/KLE/1\", values = [\"32.*\"] }]",
        "constraints = []",
    );
    // A duplicate role URI.
    edit(
        &dir,
        us,
        "id = \"http://fagsystem-a.demo/roles/usersystemrole/administrator/1\"",
        "id = \"http://fagsystem-a.demo/roles/usersystemrole/skriv-sag/1\"",
    );
    // A job role owned by a municipality that is not configured.
    edit(
        &dir,
        "municipalities.toml",
        "owner = \"44444444\"",
        "owner = \"55555555\"",
    );
    let (code, out) = chsim(&["check-config", "--config", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    for expected in [
        "user_systems.toml: user_system[0].mapping[2].role: `http://fagsystem-a.demo/roles/usersystemrole/superbruger/1` is not one of this user system's roles",
        "user_systems.toml: user_system[0].mapping[1].constraints[1].type: the role `http://fagsystem-a.demo/roles/usersystemrole/skriv-sag/1` does not take the constraint type `http://sts.kombit.dk/constraints/orgenhed/1`",
        "user_systems.toml: user_system[0].mapping[6]: the role `http://fagsystem-a.demo/roles/usersystemrole/laes-sag/1` requires a value for the constraint type `http://sts.kombit.dk/constraints/KLE/1`",
        "user_systems.toml: user_system[0].role[2].id: the role `http://fagsystem-a.demo/roles/usersystemrole/skriv-sag/1` is defined twice",
        "municipalities.toml: job_role[6].owner: the role `http://soeby.dk/roles/jobrole/sagsbehandler/1` is owned by CVR 55555555, which is no configured municipality",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
}

#[test]
fn idp_metadata_without_a_signing_certificate_is_a_configuration_error() {
    let (_tmp, dir) = demo_copy();
    std::fs::write(
        dir.join("no-cert-idp.xml"),
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>"#,
    )
    .unwrap();
    edit(
        &dir,
        "municipalities.toml",
        "metadata = \"builtin:test-idp/bakkeby\"",
        "metadata = \"no-cert-idp.xml\"",
    );
    let (code, out) = chsim(&["check-config", "--config", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("municipalities.toml: municipality[1].idp[0].metadata: the metadata of `https://idp.example` has no signing certificate"), "{out}");
}

#[test]
fn unreadable_files_and_unknown_builtin_parties_are_named() {
    let (_tmp, dir) = demo_copy();
    edit(
        &dir,
        "user_systems.toml",
        "metadata = \"builtin:demo-sp/oiosaml2\"",
        "metadata = \"builtin:demo-sp/nope\"",
    );
    edit(
        &dir,
        "municipalities.toml",
        "metadata = \"builtin:test-idp/bakkeby\"",
        "metadata = \"missing.xml\"",
    );
    let (code, out) = chsim(&["check-config", "--config", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("user_systems.toml: user_system[1].metadata: `builtin:demo-sp/nope` names no built-in party; known: builtin:demo-sp/oiosaml2, builtin:demo-sp/oiosaml3"), "{out}");
    assert!(
        out.contains("municipalities.toml: municipality[1].idp[0].metadata: cannot read")
            && out.contains("missing.xml"),
        "{out}"
    );
}

#[test]
fn unusable_constraint_values_levels_and_timeouts_are_reported() {
    let (_tmp, dir) = demo_copy();
    let us = "user_systems.toml";
    edit(
        &dir,
        us,
        "values = [\"32.*\"]",
        "values = [\"32.*, 33.*\", \"\"]",
    );
    edit(
        &dir,
        us,
        "nsis_level = \"Substantial\"\n",
        "nsis_level = \"Substantial\"\nnist_level = 3\n",
    );
    edit(
        &dir,
        us,
        "profile = \"OIOSAML2\"\nnist_level = 3",
        "profile = \"OIOSAML2\"\nnsis_level = \"High\"",
    );
    edit(
        &dir,
        "chsim.toml",
        "timeout_seconds = 3",
        "timeout_seconds = 0",
    );
    edit(
        &dir,
        "municipalities.toml",
        "profile = \"OIOSAML2_WITHOUT_REQUESTED_LOA\"\nnist_level = 3",
        "profile = \"OIOSAML2_WITHOUT_REQUESTED_LOA\"\nnist_level = 3\nnsis_level = \"Low\"",
    );
    let (code, out) = chsim(&["check-config", "--config", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    for expected in [
        "user_systems.toml: user_system[0].mapping[6].constraints[0].values[0]: `32.*, 33.*` is not a usable constraint value",
        "user_systems.toml: user_system[0].mapping[6].constraints[0].values[1]: `` is not a usable constraint value",
        "user_systems.toml: user_system[0]: gives both nist_level and nsis_level",
        "user_systems.toml: user_system[1].nsis_level: an NSIS requirement needs profile = \"OIOSAML3\"",
        "chsim.toml: attribute_service.timeout_seconds: must be at least 1",
        "municipalities.toml: municipality[1].idp[0].nsis_level: an IdP with profile OIOSAML2_WITHOUT_REQUESTED_LOA cannot assert an NSIS level",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in\n{out}");
    }
}

#[test]
fn a_user_system_without_a_level_and_a_falling_equivalence_are_reported() {
    let (_tmp, dir) = demo_copy();
    edit(
        &dir,
        "user_systems.toml",
        "profile = \"OIOSAML2\"\nnist_level = 3\n",
        "profile = \"OIOSAML2\"\n",
    );
    edit(
        &dir,
        "chsim.toml",
        "nsis_high_as_nist = 4",
        "nsis_high_as_nist = 1",
    );
    let (code, out) = chsim(&["check-config", "--config", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("user_systems.toml: user_system[1]: gives no required level"),
        "{out}"
    );
    assert!(
        out.contains("chsim.toml: assurance: the equivalence must not fall as NSIS rises: Low 2 ≤ Substantial 3 ≤ High 1"),
        "{out}"
    );
}

#[test]
fn a_broken_broker_key_does_not_hide_the_other_problems() {
    let (_tmp, dir) = demo_copy();
    edit(
        &dir,
        "chsim.toml",
        "signing_cert = \"../keys/broker.cert.pem\"",
        "signing_cert = \"../keys/demo-sp-oiosaml3.cert.pem\"",
    );
    edit(
        &dir,
        "municipalities.toml",
        "metadata = \"builtin:test-idp/bakkeby\"",
        "metadata = \"missing.xml\"",
    );
    edit(
        &dir,
        "demo_sps.toml",
        "signing_cert = \"../keys/demo-sp-oiosaml2.cert.pem\"",
        "signing_cert = \"../keys/demo-sp-oiosaml3.cert.pem\"",
    );
    let (code, out) = chsim(&["check-config", "--config", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("chsim.toml: broker.signing_key:")
            && out.contains("does not belong to the certificate"),
        "{out}"
    );
    assert!(
        out.contains("demo_sps.toml: demo_sp[1].signing_key:"),
        "{out}"
    );
    assert!(
        out.contains("municipalities.toml: municipality[1].idp[0].metadata: cannot read")
            && out.contains("missing.xml"),
        "{out}"
    );
    // The built-in parties are not blamed for chsim's own key.
    assert!(!out.contains("is unavailable because"), "{out}");
    assert!(out.contains("3 problems"), "{out}");
}

#[test]
fn serve_refuses_to_start_on_an_invalid_configuration() {
    let (_tmp, dir) = demo_copy();
    edit(
        &dir,
        "chsim.toml",
        "public_url = \"http://localhost:8080\"",
        "public_url = \"localhost\"",
    );
    let (code, out) = chsim(&["serve", "--config", dir.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("chsim cannot start")
            && out.contains("chsim.toml: server.public_url: `localhost` is not an http(s) URL"),
        "{out}"
    );
}
