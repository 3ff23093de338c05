//! PKCE (RFC 7636) with the only method chsim accepts, `S256` (as the Context Handler requires):
//! the challenge's shape at the authorization endpoint (§4.2), the verifier's check at the token
//! endpoint (§4.6).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::sha::sha256;

/// The length of an S256 challenge: base64url without padding of 32 bytes.
const CHALLENGE_LEN: usize = 43;

/// Whether `c` is in RFC 7636's `unreserved` set (§4.1): `A-Z a-z 0-9 - . _ ~`.
fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

/// Checks an S256 `code_challenge` from an authorization request: 43 characters of base64url
/// without padding (the encoding of a SHA-256 digest). The error says what is wrong.
pub fn check_challenge(challenge: &str) -> Result<(), String> {
    if challenge.len() != CHALLENGE_LEN {
        return Err(format!(
            "code_challenge must be the 43-character base64url (no padding) SHA-256 of the verifier; it has {} characters",
            challenge.len()
        ));
    }
    match URL_SAFE_NO_PAD.decode(challenge) {
        Ok(digest) if digest.len() == 32 => Ok(()),
        _ => Err("code_challenge is not base64url without padding (RFC 7636 §4.2)".into()),
    }
}

/// Whether `verifier` answers `challenge` under S256: `BASE64URL(SHA256(verifier)) == challenge`,
/// compared in constant time. A verifier that is not 43–128 characters of the unreserved set
/// (§4.1) never matches.
pub fn verify_s256(verifier: &str, challenge: &str) -> bool {
    let v = verifier.as_bytes();
    if !(43..=128).contains(&v.len()) || !v.iter().copied().all(is_unreserved) {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(sha256(v));
    computed.len() == challenge.len()
        && openssl::memcmp::eq(computed.as_bytes(), challenge.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 7636 Appendix B.
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    #[test]
    fn the_rfc_7636_example_verifies() {
        assert!(check_challenge(CHALLENGE).is_ok());
        assert!(verify_s256(VERIFIER, CHALLENGE));
    }

    #[test]
    fn a_different_verifier_does_not_verify() {
        let other = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXj";
        assert!(!verify_s256(other, CHALLENGE));
    }

    #[test]
    fn the_plain_method_is_not_accepted_in_disguise() {
        // A client sending the verifier itself as the challenge (plain) never verifies.
        assert!(!verify_s256(VERIFIER, VERIFIER));
    }

    #[test]
    fn verifiers_outside_the_rfc_bounds_never_match() {
        let short = "a".repeat(42);
        let short_challenge = URL_SAFE_NO_PAD.encode(sha256(short.as_bytes()));
        assert!(!verify_s256(&short, &short_challenge));
        let long = "a".repeat(129);
        let long_challenge = URL_SAFE_NO_PAD.encode(sha256(long.as_bytes()));
        assert!(!verify_s256(&long, &long_challenge));
        let bad = format!("{}+", "a".repeat(42));
        let bad_challenge = URL_SAFE_NO_PAD.encode(sha256(bad.as_bytes()));
        assert!(!verify_s256(&bad, &bad_challenge));
        let ok = "a~._-".repeat(25) + "abc";
        assert_eq!(ok.len(), 128);
        let ok_challenge = URL_SAFE_NO_PAD.encode(sha256(ok.as_bytes()));
        assert!(verify_s256(&ok, &ok_challenge));
    }

    #[test]
    fn malformed_challenges_are_refused_with_a_reason() {
        assert!(check_challenge("short").unwrap_err().contains("43"));
        assert!(check_challenge(&format!("{}=", &CHALLENGE[..42])).is_err());
        assert!(check_challenge(&CHALLENGE.replace('-', "+")).is_err());
    }
}
