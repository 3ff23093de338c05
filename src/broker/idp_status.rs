//! What a user system is told when the IdP answered with a non-success status (issue #8 §5).
//! The IdP's status is not copied: chsim passes on a fixed status built from codes it knows —
//! a top-level code of saml-core §3.2.2.2 and, when there is one, a second-level code from that
//! section's list — with chsim's own StatusMessage. The IdP's StatusMessage is free text from
//! outside (and a non-success Response need not even be signed), so it reaches only the log and
//! the person's error page (escaped), never the user system.

use crate::saml::response::Status;

const PREFIX: &str = "urn:oasis:names:tc:SAML:2.0:status:";

/// The top-level codes a non-success Response may carry (saml-core §3.2.2.2).
const TOP_LEVEL: [&str; 3] = ["Requester", "Responder", "VersionMismatch"];

/// The second-level codes of saml-core §3.2.2.2.
const SECOND_LEVEL: [&str; 19] = [
    "AuthnFailed",
    "InvalidAttrNameOrValue",
    "InvalidNameIDPolicy",
    "NoAuthnContext",
    "NoAvailableIDP",
    "NoPassive",
    "NoSupportedIDP",
    "PartialLogout",
    "ProxyCountExceeded",
    "RequestDenied",
    "RequestUnsupported",
    "RequestVersionDeprecated",
    "RequestVersionTooHigh",
    "RequestVersionTooLow",
    "ResourceNotRecognized",
    "TooManyResponses",
    "UnknownAttrProfile",
    "UnknownPrincipal",
    "UnsupportedBinding",
];

/// The short name of `code` when it is `urn:…:status:<one of names>`.
fn known<'a>(code: &str, names: &[&'a str]) -> Option<&'a str> {
    let short = code.strip_prefix(PREFIX)?;
    names.iter().copied().find(|n| *n == short)
}

/// The status the user system receives for the IdP `idp`'s non-success `received`:
/// - a valid top-level code and no second-level code: that code alone;
/// - a valid top-level code and a listed second-level code: both;
/// - anything else (an unknown top-level or second-level code, or `Success` with a sub-code):
///   `Responder` / `AuthnFailed`.
pub fn passed_on(idp: &str, received: &Status) -> Status {
    let top = known(&received.code, &TOP_LEVEL);
    let sub = received
        .sub_code
        .as_deref()
        .map(|s| known(s, &SECOND_LEVEL));
    let (code, sub_code) = match (top, sub) {
        (Some(top), None) => (top, None),
        (Some(top), Some(Some(sub))) => (top, Some(sub)),
        _ => ("Responder", Some("AuthnFailed")),
    };
    let message = format!(
        "the identity provider `{idp}` did not authenticate the person (status {code}{})",
        sub_code.map(|s| format!(" / {s}")).unwrap_or_default()
    );
    Status {
        code: format!("{PREFIX}{code}"),
        sub_code: sub_code.map(|s| format!("{PREFIX}{s}")),
        message: Some(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::saml::status;

    fn received(code: &str, sub: Option<&str>) -> Status {
        Status {
            code: code.to_string(),
            sub_code: sub.map(str::to_string),
            message: Some("<script>alert(1)</script> call +45 12345678".into()),
        }
    }

    fn codes(s: &Status) -> (&str, Option<&str>) {
        (s.code.as_str(), s.sub_code.as_deref())
    }

    #[test]
    fn passes_on_a_valid_top_level_code_with_a_listed_second_level_code() {
        let s = passed_on(
            "https://idp",
            &received(status::REQUESTER, Some(status::NO_AUTHN_CONTEXT)),
        );
        assert_eq!(
            codes(&s),
            (status::REQUESTER, Some(status::NO_AUTHN_CONTEXT))
        );
        let s = passed_on(
            "https://idp",
            &received(
                "urn:oasis:names:tc:SAML:2.0:status:VersionMismatch",
                Some("urn:oasis:names:tc:SAML:2.0:status:RequestVersionTooHigh"),
            ),
        );
        assert!(s.code.ends_with(":VersionMismatch"));
        assert!(s.sub_code.unwrap().ends_with(":RequestVersionTooHigh"));
    }

    #[test]
    fn passes_on_a_valid_top_level_code_alone_when_it_has_no_second_level_code() {
        let s = passed_on("https://idp", &received(status::RESPONDER, None));
        assert_eq!(codes(&s), (status::RESPONDER, None));
    }

    #[test]
    fn anything_else_becomes_responder_authn_failed() {
        for (code, sub) in [
            ("urn:example:Teapot", None),
            (
                "urn:example:Teapot",
                Some("urn:oasis:names:tc:SAML:2.0:status:NoPassive"),
            ),
            (status::SUCCESS, Some(status::AUTHN_FAILED)),
            (status::RESPONDER, Some("urn:example:PasswordExpired")),
            (
                status::REQUESTER,
                Some("urn:oasis:names:tc:SAML:2.0:status:Requester"),
            ),
            ("", None),
        ] {
            let s = passed_on("https://idp", &received(code, sub));
            assert_eq!(
                codes(&s),
                (status::RESPONDER, Some(status::AUTHN_FAILED)),
                "{code} {sub:?}"
            );
        }
    }

    #[test]
    fn the_message_is_chsims_own_never_the_idps() {
        let s = passed_on(
            "https://idp",
            &received(status::RESPONDER, Some(status::AUTHN_FAILED)),
        );
        assert_eq!(
            s.message.as_deref(),
            Some("the identity provider `https://idp` did not authenticate the person (status Responder / AuthnFailed)")
        );
    }
}
