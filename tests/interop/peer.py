"""Independent SAML peers for chsim's interop tests, built on pysaml2 (which uses xmlsec1).

Each subcommand prints JSON on stdout and exits non-zero with a message on stderr on failure.

  sp-metadata   --base URL --out FILE                 pysaml2 service provider's metadata
  sp-login-url  --base URL --idp-metadata FILE        a signed HTTP-Redirect AuthnRequest to chsim
  sp-consume    --base URL --idp-metadata FILE --request-id ID --saml-response-file FILE
                                                      pysaml2 validates chsim's Response
  sp-logout-url --base URL --idp-metadata FILE --name-id N --session-index S
                                                      a signed HTTP-Redirect LogoutRequest to
                                                      chsim's SingleLogoutService (Location)
  sp-logout-consume --base URL --idp-metadata FILE --request-id ID --url URL
                                                      verifies chsim's LogoutResponse (query
                                                      signature, Destination, InResponseTo)
  sp-logout-respond --base URL --idp-metadata FILE --url URL
                                                      verifies chsim's LogoutRequest to the SP's
                                                      SLO and answers with a signed Redirect
                                                      LogoutResponse (Success)
  idp-metadata  --base URL --out FILE                 pysaml2 identity provider's metadata
  idp-respond   --base URL --sp-metadata FILE --authn-url URL
                                                      verifies chsim's signed AuthnRequest and
                                                      answers with a signed Response

The SP's entityID is <base>/pysaml2-sp, its ACS <base>/pysaml2-sp/acs and its SingleLogoutService
<base>/pysaml2-sp/slo (HTTP-Redirect, requests and responses alike); the IdP's entityID is
<base>/pysaml2-idp and its SSO endpoint <base>/pysaml2-idp/sso. Nothing listens there: the Rust
test plays the browser and hands messages to this script.
"""

import argparse
import json
import os
import sys
from urllib.parse import parse_qs, urlparse

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml, sigver, time_util
from saml2.client import Saml2Client
from saml2.config import IdPConfig, SPConfig
from saml2.mdstore import locations
from saml2.metadata import create_metadata_string
from saml2.server import Server

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")
X509 = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
XMLSEC = "/usr/bin/xmlsec1"
LOGOUT_USER = "urn:oasis:names:tc:SAML:2.0:logout:user"


def sp_config(base, idp_metadata=None):
    conf = {
        "entityid": f"{base}/pysaml2-sp",
        "key_file": os.path.join(KEYS, "pysaml2-sp.key.pem"),
        "cert_file": os.path.join(KEYS, "pysaml2-sp.cert.pem"),
        "xmlsec_binary": XMLSEC,
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(f"{base}/pysaml2-sp/acs", BINDING_HTTP_POST)],
                    "single_logout_service": [(f"{base}/pysaml2-sp/slo", BINDING_HTTP_REDIRECT)],
                },
                "authn_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": False,
                "name_id_format": [X509],
                "signing_algorithm": RSA_SHA256,
                "digest_algorithm": SHA256,
            }
        },
    }
    if idp_metadata:
        conf["metadata"] = {"local": [idp_metadata]}
    config = SPConfig()
    config.load(conf)
    return config


def idp_config(base, sp_metadata=None):
    conf = {
        "entityid": f"{base}/pysaml2-idp",
        "key_file": os.path.join(KEYS, "pysaml2-idp.key.pem"),
        "cert_file": os.path.join(KEYS, "pysaml2-idp.cert.pem"),
        "xmlsec_binary": XMLSEC,
        "service": {
            "idp": {
                "endpoints": {
                    "single_sign_on_service": [(f"{base}/pysaml2-idp/sso", BINDING_HTTP_REDIRECT)],
                    "single_logout_service": [(f"{base}/pysaml2-idp/slo", BINDING_HTTP_REDIRECT)],
                },
                "name_id_format": [X509],
                "want_authn_requests_signed": True,
                "sign_response": False,
                "sign_assertion": True,
                "signing_algorithm": RSA_SHA256,
                "digest_algorithm": SHA256,
                "policy": {"default": {"lifetime": {"minutes": 5}, "attribute_restrictions": None}},
            }
        },
    }
    if sp_metadata:
        conf["metadata"] = {"local": [sp_metadata]}
    config = IdPConfig()
    config.load(conf)
    return config


def sp_metadata(args):
    write(args.out, create_metadata_string(None, config=sp_config(args.base)))
    return {"entity_id": f"{args.base}/pysaml2-sp"}


def idp_metadata(args):
    write(args.out, create_metadata_string(None, config=idp_config(args.base)))
    return {"entity_id": f"{args.base}/pysaml2-idp"}


def sp_login_url(args):
    client = Saml2Client(config=sp_config(args.base, args.idp_metadata))
    [idp] = client.metadata.identity_providers()
    request_id, info = client.prepare_for_authenticate(
        entityid=idp,
        relay_state="pysaml2-relay",
        binding=BINDING_HTTP_REDIRECT,
        sign=True,
        sigalg=RSA_SHA256,
        digest_alg=SHA256,
    )
    url = dict(info["headers"])["Location"]
    return {"url": url, "request_id": request_id}


def sp_consume(args):
    client = Saml2Client(config=sp_config(args.base, args.idp_metadata))
    with open(args.saml_response_file) as f:
        saml_response = f.read().strip()
    response = client.parse_authn_request_response(
        saml_response, BINDING_HTTP_POST, outstanding={args.request_id: "/"}
    )
    if response is None:
        raise SystemExit("pysaml2 returned no response")
    assertion = response.assertion
    return {
        "name_id": response.name_id.text,
        "name_id_format": response.name_id.format,
        "session_index": assertion.authn_statement[0].session_index,
        "issuer": response.issuer(),
        "audience": [a.text for r in assertion.conditions.audience_restriction for a in r.audience],
        "authn_context_class_ref": response.authn_info()[0][0] if response.authn_info() else None,
        "attributes": response.get_identity(),
    }


def sp_logout_url(args):
    """The SP logs out: a LogoutRequest for the NameID and SessionIndex chsim issued, signed over
    the query string, to chsim's Redirect SingleLogoutService Location (not its ResponseLocation)."""
    client = Saml2Client(config=sp_config(args.base, args.idp_metadata))
    [idp] = client.metadata.identity_providers()
    slo = client.metadata.single_logout_service(idp, BINDING_HTTP_REDIRECT, "idpsso")
    destination = next(locations(slo), None)
    if not destination:
        raise SystemExit("chsim's IdP metadata has no HTTP-Redirect SingleLogoutService")
    request_id, request = client.create_logout_request(
        destination,
        idp,
        name_id=saml.NameID(format=X509, text=args.name_id),
        reason=LOGOUT_USER,
        expire=time_util.in_a_while(minutes=5),
        session_indexes=[args.session_index],
        sign=False,
    )
    info = client.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(request),
        destination,
        relay_state="pysaml2-logout",
        sign=True,
        sigalg=RSA_SHA256,
    )
    return {"url": dict(info["headers"])["Location"], "request_id": request_id, "destination": destination}


def redirect_params(url):
    return {k: v[0] for k, v in parse_qs(urlparse(url).query).items()}


def verify_chsim_redirect(client, idp, saml_msg, what):
    """chsim signs logout messages over the query string; verify with its IdP metadata's cert."""
    certs = client.metadata.certs(idp, "idpsso", "signing")
    if not certs:
        raise SystemExit("chsim's IdP metadata names no signing certificate")
    if "Signature" not in saml_msg or "SigAlg" not in saml_msg:
        raise SystemExit(f"chsim's {what} is not signed (no Signature/SigAlg in the query string)")
    if not any(sigver.verify_redirect_signature(saml_msg, client.sec.sec_backend, cert=c) for _, c in certs):
        raise SystemExit(f"the query-string signature of chsim's {what} does not verify")


def sp_logout_consume(args):
    """chsim's answer to the SP's LogoutRequest, verified as a pysaml2 SP would."""
    client = Saml2Client(config=sp_config(args.base, args.idp_metadata))
    [idp] = client.metadata.identity_providers()
    saml_msg = redirect_params(args.url)
    verify_chsim_redirect(client, idp, saml_msg, "LogoutResponse")
    # pysaml2 checks the status (a non-Success top level raises), IssueInstant and Destination.
    response = client.parse_logout_request_response(saml_msg["SAMLResponse"], BINDING_HTTP_REDIRECT)
    if response is None:
        raise SystemExit("pysaml2 returned no LogoutResponse")
    r = response.response
    slo = f"{args.base}/pysaml2-sp/slo"
    if r.destination != slo:
        raise SystemExit(f"the LogoutResponse's Destination is {r.destination}, not {slo}")
    if r.in_response_to != args.request_id:
        raise SystemExit(f"the LogoutResponse answers {r.in_response_to}, not {args.request_id}")
    if response.issuer() != idp:
        raise SystemExit(f"the LogoutResponse is from {response.issuer()}, not {idp}")
    code = r.status.status_code
    return {
        "status": code.value,
        "sub_status": code.status_code.value if code.status_code else None,
        "message": r.status.status_message.text if r.status.status_message else None,
        "in_response_to": r.in_response_to,
        "relay_state": saml_msg.get("RelayState"),
    }


def sp_logout_respond(args):
    """chsim's LogoutRequest reaches the SP (the logout started elsewhere): verify it, and answer
    Success with a LogoutResponse signed over the query string, to chsim's ResponseLocation."""
    client = Saml2Client(config=sp_config(args.base, args.idp_metadata))
    [idp] = client.metadata.identity_providers()
    saml_msg = redirect_params(args.url)
    verify_chsim_redirect(client, idp, saml_msg, "LogoutRequest")
    # pysaml2 checks Version, Destination (its own SLO endpoint) and IssueInstant.
    request = client.parse_logout_request(
        saml_msg["SAMLRequest"],
        BINDING_HTTP_REDIRECT,
        relay_state=saml_msg.get("RelayState"),
        sigalg=saml_msg.get("SigAlg"),
        signature=saml_msg.get("Signature"),
    )
    msg = request.message
    if msg.issuer.text.strip() != idp:
        raise SystemExit(f"the LogoutRequest is from {msg.issuer.text}, not {idp}")
    response = client.create_logout_response(msg, [BINDING_HTTP_REDIRECT], sign=False)
    info = client.apply_binding(
        BINDING_HTTP_REDIRECT,
        str(response),
        response.destination,
        relay_state=saml_msg.get("RelayState"),
        response=True,
        sign=True,
        sigalg=RSA_SHA256,
    )
    return {
        "url": dict(info["headers"])["Location"],
        "destination": response.destination,
        "request_id": msg.id,
        "name_id": msg.name_id.text,
        "name_id_format": msg.name_id.format,
        "session_indexes": [s.text for s in msg.session_index],
        "reason": msg.reason,
        "relay_state": saml_msg.get("RelayState"),
    }


def idp_respond(args):
    server = Server(config=idp_config(args.base, args.sp_metadata))
    query = parse_qs(urlparse(args.authn_url).query)
    saml_msg = {k: v[0] for k, v in query.items()}
    # chsim signs its AuthnRequest over the query string; verify it with chsim's metadata cert.
    if not sigver.verify_redirect_signature(saml_msg, server.sec.sec_backend, cert=chsim_cert(server)):
        raise SystemExit("the query-string signature of chsim's AuthnRequest does not verify")
    # pysaml2 checks the query-string signature again itself (want_authn_requests_signed).
    request = server.parse_authn_request(
        saml_msg["SAMLRequest"],
        BINDING_HTTP_REDIRECT,
        relay_state=saml_msg.get("RelayState"),
        sigalg=saml_msg.get("SigAlg"),
        signature=saml_msg.get("Signature"),
    )
    args_ = server.response_args(request.message, [BINDING_HTTP_POST])
    name_id = saml.NameID(format=X509, text="C=DK,O=33333333,CN=Pia Pysaml,Serial=py-0001")
    identity = {
        "https://data.gov.dk/model/core/specVersion": ["OIO-SAML-3.0"],
        "https://data.gov.dk/concept/core/nsis/loa": ["Substantial"],
        "https://data.gov.dk/model/core/eid/professional/cvr": ["33333333"],
        "https://data.gov.dk/model/core/eid/email": ["pia@pysaml.dk"],
    }
    response = server.create_authn_response(
        identity,
        userid="pia",
        name_id=name_id,
        authn={
            "class_ref": "https://data.gov.dk/concept/core/nsis/loa/Substantial",
            "authn_auth": f"{args.base}/pysaml2-idp",
        },
        sign_assertion=True,
        sign_response=False,
        sign_alg=RSA_SHA256,
        digest_alg=SHA256,
        **args_,
    )
    import base64

    return {
        "destination": args_["destination"],
        "saml_response": base64.b64encode(str(response).encode("utf-8")).decode("ascii"),
        "relay_state": saml_msg.get("RelayState"),
    }


def chsim_cert(server):
    """chsim's signing certificate (base64 DER) from its SP metadata, the only one trusted."""
    [sp] = list(server.metadata.service_providers())
    certs = server.metadata.certs(sp, "spsso", "signing")
    if not certs:
        raise SystemExit("chsim's SP metadata names no signing certificate")
    return certs[0][1]


def write(path, text):
    with open(path, "w") as f:
        f.write(text if isinstance(text, str) else text.decode("utf-8"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ["sp-metadata", "idp-metadata"]:
        p = sub.add_parser(name)
        p.add_argument("--base", required=True)
        p.add_argument("--out", required=True)
    p = sub.add_parser("sp-login-url")
    p.add_argument("--base", required=True)
    p.add_argument("--idp-metadata", required=True)
    p = sub.add_parser("sp-consume")
    p.add_argument("--base", required=True)
    p.add_argument("--idp-metadata", required=True)
    p.add_argument("--request-id", required=True)
    p.add_argument("--saml-response-file", required=True)
    p = sub.add_parser("sp-logout-url")
    p.add_argument("--base", required=True)
    p.add_argument("--idp-metadata", required=True)
    p.add_argument("--name-id", required=True)
    p.add_argument("--session-index", required=True)
    p = sub.add_parser("sp-logout-consume")
    p.add_argument("--base", required=True)
    p.add_argument("--idp-metadata", required=True)
    p.add_argument("--request-id", required=True)
    p.add_argument("--url", required=True)
    p = sub.add_parser("sp-logout-respond")
    p.add_argument("--base", required=True)
    p.add_argument("--idp-metadata", required=True)
    p.add_argument("--url", required=True)
    p = sub.add_parser("idp-respond")
    p.add_argument("--base", required=True)
    p.add_argument("--sp-metadata", required=True)
    p.add_argument("--authn-url", required=True)
    args = parser.parse_args()
    handlers = {
        "sp-metadata": sp_metadata,
        "idp-metadata": idp_metadata,
        "sp-login-url": sp_login_url,
        "sp-consume": sp_consume,
        "sp-logout-url": sp_logout_url,
        "sp-logout-consume": sp_logout_consume,
        "sp-logout-respond": sp_logout_respond,
        "idp-respond": idp_respond,
    }
    print(json.dumps(handlers[args.command](args)))


if __name__ == "__main__":
    main()
