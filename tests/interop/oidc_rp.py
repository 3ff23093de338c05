"""An independent OpenID Connect relying party for chsim's interop tests, built on Authlib, with
chsim's JWTs checked a second time by jwcrypto (a JOSE library that shares no code with Authlib
or chsim).

  code-flow --discovery URL --client-id ID --client-secret S --redirect-uri URI --idp ENTITYID
            --user USER --alg PS256|PS384|PS512 [--refresh]

Authlib does the protocol: it reads discovery (and checks the document against its OIDC
Discovery / RFC 8414 rules, reporting each one broken), builds the authorization request (PKCE S256,
state, nonce, and chsim's `idp` extension as an extra parameter), checks the state of the
callback, exchanges the code with client_secret_basic, validates the ID token (signature with a
key from jwks_uri, iss, aud, exp, iat, nonce, at_hash) with `parse_id_token`, calls userinfo and,
with --refresh, refreshes (then tries the rotated-out refresh token again). The browser part is
plain HTTP with `requests`: follow chsim's redirects to the test IdP, submit its login form for
USER, carry the auto-posted SAML Response back to chsim, and stop at the redirect URI, where
nothing listens.

Prints one JSON object on stdout with what the RP saw; exits non-zero with the reason on stderr
when a check fails. The Rust test (tests/oidc_interop.rs) asserts on the values.
"""

import argparse
import base64
import hashlib
import json
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlparse

import requests
from authlib.integrations.base_client import (
    BaseApp,
    FrameworkIntegration,
    OAuth2Mixin,
    OAuthError,
    OpenIDMixin,
)
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.discovery import OpenIDProviderMetadata
from jwcrypto import jwk, jwt

LOA_SUBSTANTIAL = "https://data.gov.dk/concept/core/nsis/loa/Substantial"


class Failed(Exception):
    """A check of this relying party failed."""


def check(ok, what):
    if not ok:
        raise Failed(what)


class Framework(FrameworkIntegration):
    """Authlib's framework seam, for a script: tokens are kept by the caller."""

    def update_token(self, token, refresh_token=None, access_token=None):
        pass


class RelyingParty(OAuth2Mixin, OpenIDMixin, BaseApp):
    """Authlib's OAuth2/OpenID client app on `requests`, as its Flask and Django integrations
    build theirs, without a web framework: the state data lives in `self.session`."""

    client_cls = OAuth2Session

    def __init__(self, **kwargs):
        super().__init__(Framework("chsim"), name="chsim", **kwargs)
        self.session = {}
        self.token = None

    def _get_requested_token(self, *args, **kwargs):
        return self.token

    def start_login(self, redirect_uri, **kwargs):
        rv = self.create_authorization_url(redirect_uri, **kwargs)
        self.framework.set_state_data(self.session, rv["state"], dict(redirect_uri=redirect_uri, **rv))
        return rv

    def authorize_access_token(self, callback_url, **kwargs):
        """What the framework integrations' `authorize_access_token` does, on a callback URL."""
        params = dict(parse_qsl(urlparse(callback_url).query))
        if "error" in params:
            raise OAuthError(error=params["error"], description=params.get("error_description"))
        state_data = self.framework.get_state_data(self.session, params.get("state"))
        self.framework.clear_state_data(self.session, params.get("state"))
        params = self._format_state_params(state_data, {"state": params.get("state")})
        token = self.fetch_access_token(authorization_response=callback_url, **params, **kwargs)
        self.token = token
        token["userinfo"] = self.parse_id_token(
            token,
            nonce=state_data["nonce"],
            claims_options={
                "iss": {"essential": True, "values": [self.server_metadata["issuer"]]},
                "sub": {"essential": True},
                "acr": {"essential": True, "values": [LOA_SUBSTANTIAL]},
            },
        )
        return token, state_data

    def refresh(self):
        metadata = self.load_server_metadata()
        with self._get_oauth_client(**metadata) as client:
            client.token = self.token
            return client.refresh_token(metadata["token_endpoint"], refresh_token=self.token["refresh_token"])


class Forms(HTMLParser):
    """The forms of a page: (action, {hidden name: value}, id)."""

    def __init__(self):
        super().__init__()
        self.forms = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.forms.append((a.get("action", ""), {}, a.get("id")))
        elif tag == "input" and a.get("type") == "hidden" and self.forms:
            self.forms[-1][1][a.get("name")] = a.get("value", "")


def forms_of(html):
    p = Forms()
    p.feed(html)
    return p.forms


def browse(url, user, stop_at):
    """Plays the browser from the authorization URL to the redirect URI; returns the callback URL
    and the URLs visited."""
    b = requests.Session()
    visited = []
    resp = b.get(url, allow_redirects=False)
    for _ in range(20):
        visited.append(resp.url)
        if resp.is_redirect:
            nxt = urljoin(resp.url, resp.headers["location"])
            if nxt.startswith(stop_at):
                return nxt, visited
            resp = b.get(nxt, allow_redirects=False)
            continue
        check(resp.status_code == 200, f"{resp.url} answered {resp.status_code}: {resp.text[:500]}")
        forms = forms_of(resp.text)
        auto = [f for f in forms if f[2] == "saml-post"]
        login = [f for f in forms if f[1].get("user") == user]
        if auto:
            action, fields, _ = auto[0]
        elif login:
            action, fields, _ = login[0]
        else:
            raise Failed(f"{resp.url}: neither a login form for {user} nor an auto-post form")
        resp = b.post(urljoin(resp.url, action), data=fields, allow_redirects=False)
    raise Failed("too many hops")


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jose_verify(token, jwks, alg, issuer, audience, typ):
    """jwcrypto's verdict on one of chsim's JWTs: signature with the key chsim publishes under the
    header's kid, only `alg` allowed, iss, aud and exp; also that a one-character change in the
    payload is refused."""
    t = jwt.JWT(
        jwt=token,
        key=jwks,
        algs=[alg],
        check_claims={"iss": issuer, "aud": audience, "exp": None, "iat": None},
        expected_type="JWS",
    )
    header = json.loads(t.header)
    check(header.get("alg") == alg, f"header alg {header.get('alg')} is not {alg}")
    check(header.get("typ") == typ, f"header typ {header.get('typ')} is not {typ}")
    key = jwks.get_key(header["kid"])
    check(key is not None and key.get("alg") == alg, f"the JWK {header['kid']} is not for {alg}")
    head, payload, sig = token.split(".")
    raw = bytearray(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raw[raw.index(b"Karen")] = ord("C")
    tampered = ".".join([head, b64url(bytes(raw)), sig])
    try:
        jwt.JWT(jwt=tampered, key=jwks, algs=[alg])
        refused = False
    except Exception:  # jwcrypto raises its own error types for a bad signature
        refused = True
    return {"header": header, "claims": json.loads(t.claims), "tampered_refused": refused}


def at_hash(access_token, alg):
    digest = {"PS256": hashlib.sha256, "PS384": hashlib.sha384, "PS512": hashlib.sha512}[alg]
    h = digest(access_token.encode()).digest()
    return b64url(h[: len(h) // 2])


def code_flow(args):
    rp = RelyingParty(
        client_id=args.client_id,
        client_secret=args.client_secret,
        server_metadata_url=args.discovery,
        client_kwargs={
            "scope": "openid",
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",
        },
    )
    metadata = rp.load_server_metadata()
    issuer = metadata["issuer"]
    # OIDC Discovery §4.3: the issuer is the discovery URL less the well-known suffix.
    check(args.discovery == issuer + "/.well-known/openid-configuration", f"issuer {issuer}")
    check(args.alg in metadata["id_token_signing_alg_values_supported"], "alg not in discovery")
    # Authlib's OIDC Discovery §3 / RFC 8414 §2 rules, each run; what breaks one is reported.
    document = OpenIDProviderMetadata({k: v for k, v in metadata.items() if not k.startswith("_")})
    discovery_problems = {}
    for key in document.REGISTRY_KEYS:
        try:
            getattr(document, f"validate_{key}")()
        except ValueError as e:
            discovery_problems[key] = str(e)

    start = rp.start_login(args.redirect_uri, idp=args.idp)
    sent = dict(parse_qsl(urlparse(start["url"]).query))
    check(sent.get("code_challenge_method") == "S256", f"no S256 challenge in {start['url']}")
    callback, visited = browse(start["url"], args.user, args.redirect_uri)
    returned = dict(parse_qsl(urlparse(callback).query))
    # RFC 9207: chsim names itself in the callback (Authlib leaves this check to the RP).
    check(returned.get("iss") == issuer, f"callback iss {returned.get('iss')} is not {issuer}")

    token, state_data = rp.authorize_access_token(callback)
    id_claims = dict(token["userinfo"])
    userinfo = dict(rp.userinfo())

    jwks = jwk.JWKSet.from_json(requests.get(metadata["jwks_uri"]).text)
    id_jose = jose_verify(token["id_token"], jwks, args.alg, issuer, args.client_id, "JWT")
    at_jose = jose_verify(token["access_token"], jwks, args.alg, issuer, args.client_id, "at+jwt")
    check(id_jose["claims"]["at_hash"] == at_hash(token["access_token"], args.alg), "at_hash")

    out = {
        "discovery": {k: metadata[k] for k in ("issuer", "token_endpoint", "userinfo_endpoint", "jwks_uri")},
        "discovery_problems": discovery_problems,
        "authorization_request": sent,
        "visited_idp": any("/test-idp/" in u for u in visited),
        "callback": returned,
        "nonce_sent": state_data["nonce"],
        "token_type": token["token_type"],
        "expires_in": token.get("expires_in"),
        "id_token_claims": id_claims,
        "userinfo": userinfo,
        "jose": {"id_token": id_jose, "access_token": at_jose},
    }

    if args.refresh:
        first = dict(token)
        new = rp.refresh()
        check(new.get("refresh_token") not in (None, first["refresh_token"]), "no rotated refresh token")
        check(new["access_token"] != first["access_token"], "the access token did not change")
        rp.token = new
        # The refreshed ID token: same iss, sub, aud, validated the same way.
        new_claims = dict(rp.parse_id_token(new, nonce=state_data["nonce"]))
        new_userinfo = dict(rp.userinfo())
        new_id_jose = jose_verify(new["id_token"], jwks, args.alg, issuer, args.client_id, "JWT")
        # The rotated-out refresh token again: chsim must refuse it (and revoke its family).
        rp.token = first
        try:
            rp.refresh()
            reuse = None
        except OAuthError as e:
            reuse = {"error": e.error, "description": e.description}
        rp.token = new
        after_reuse = rp.get(metadata["userinfo_endpoint"])
        out["refresh"] = {
            "id_token_claims": new_claims,
            "userinfo": new_userinfo,
            "jose_id_token": new_id_jose,
            "refresh_token_rotated": True,
            "reuse_of_rotated_out_token": reuse,
            "userinfo_status_after_reuse": after_reuse.status_code,
        }
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("code-flow")
    for name in ("discovery", "client-id", "client-secret", "redirect-uri", "idp", "user", "alg"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--refresh", action="store_true")
    args = parser.parse_args()
    try:
        out = code_flow(args)
    except (Failed, OAuthError) as e:
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    json.dump(out, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
