"""The OIDC client's side of an encrypted ID token, done with jwcrypto (independent of chsim's
josekit): decrypt chsim's JWE, check its protected header, verify the nested JWS with the key
from chsim's published JWK Set, and print what it found as JSON.

    decrypt_id_token.py --jwe FILE --chsim-jwks FILE --alg ALG --enc ENC
                        (--client-key PEM | --client-secret FILE) [--kid KID]

The A*KW key is derived here, from the secret, as OpenID Connect Core 1.0 §10.2 says: the
leftmost bits of SHA-256 over the UTF-8 octets of client_secret. Exits non-zero, with the reason
on stderr, on any failure.
"""

import argparse
import base64
import hashlib
import json
import sys

try:
    from jwcrypto import jwe, jwk, jws
except ImportError:
    sys.exit("jwcrypto is missing: run `make venv` (tests/interop/requirements.txt)")

RSA_ALGS = ["RSA-OAEP", "RSA-OAEP-256"]
KW_BITS = {"A128KW": 128, "A192KW": 192, "A256KW": 256}
ENCS = ["A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512", "A128GCM", "A192GCM", "A256GCM"]
SIGNING_ALGS = ["PS256", "PS384", "PS512"]


def fail(why):
    sys.exit(f"decrypt_id_token.py: {why}")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def decryption_key(args):
    if args.alg in RSA_ALGS:
        if not args.client_key:
            fail(f"{args.alg} needs --client-key")
        with open(args.client_key, "rb") as f:
            return jwk.JWK.from_pem(f.read())
    if args.alg in KW_BITS:
        if not args.client_secret:
            fail(f"{args.alg} needs --client-secret")
        with open(args.client_secret, "rb") as f:
            secret = f.read().decode("utf-8")
        key = hashlib.sha256(secret.encode("utf-8")).digest()[: KW_BITS[args.alg] // 8]
        return jwk.JWK(kty="oct", k=b64url(key))
    fail(f"unexpected alg {args.alg}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--jwe", required=True)
    p.add_argument("--chsim-jwks", required=True)
    p.add_argument("--alg", required=True)
    p.add_argument("--enc", required=True)
    p.add_argument("--client-key")
    p.add_argument("--client-secret")
    p.add_argument("--kid")
    args = p.parse_args()

    with open(args.jwe) as f:
        token = f.read().strip()
    if token.count(".") != 4:
        fail(f"not a compact JWE (5 parts): {token.count('.') + 1} parts")

    # Only the pair the client registered is allowed, as a careful client would.
    outer = jwe.JWE()
    outer.allowed_algs = [args.alg, args.enc]
    try:
        outer.deserialize(token, key=decryption_key(args))
    except Exception as e:  # jwcrypto raises several types; any is a failed check
        fail(f"jwcrypto could not decrypt the JWE: {type(e).__name__}: {e}")
    header = json.loads(outer.objects["protected"])
    expected = {"cty": "JWT", "alg": args.alg, "enc": args.enc}
    if args.kid:
        expected["kid"] = args.kid
    if header != expected:
        fail(f"protected header {header}, expected {expected}")

    # The payload is chsim's signed ID token: verify it with chsim's published key for its kid.
    inner = outer.payload.decode("ascii")
    with open(args.chsim_jwks) as f:
        chsim_keys = jwk.JWKSet.from_json(f.read())
    signed = jws.JWS()
    signed.allowed_algs = SIGNING_ALGS
    try:
        signed.deserialize(inner)
        inner_header = signed.jose_header
        key = chsim_keys.get_key(inner_header.get("kid"))
        if key is None:
            fail(f"kid {inner_header.get('kid')} is not in chsim's JWK Set")
        signed.verify(key)
    except Exception as e:
        fail(f"jwcrypto could not verify the nested JWS: {type(e).__name__}: {e}")

    json.dump(
        {
            "header": header,
            "inner_header": inner_header,
            "claims": json.loads(signed.payload),
            "jws": inner,
        },
        sys.stdout,
    )


if __name__ == "__main__":
    main()
