"""Independent SAML peers for chsim's interop tests, built on pysaml2 (which uses xmlsec1).

Each subcommand prints JSON on stdout and exits non-zero with a message on stderr on failure.

  sp-metadata   --base URL --out FILE                 pysaml2 service provider's metadata
  sp-login-url  --base URL --idp-metadata FILE        a signed HTTP-Redirect AuthnRequest to chsim
  sp-consume    --base URL --idp-metadata FILE --request-id ID --saml-response-file FILE
                                                      pysaml2 validates chsim's Response
  idp-metadata  --base URL --out FILE                 pysaml2 identity provider's metadata
  idp-respond   --base URL --sp-metadata FILE --authn-url URL
                                                      verifies chsim's signed AuthnRequest and
                                                      answers with a signed Response

The SP's entityID is <base>/pysaml2-sp and its ACS <base>/pysaml2-sp/acs; the IdP's entityID is
<base>/pysaml2-idp and its SSO endpoint <base>/pysaml2-idp/sso. Nothing listens there: the Rust
test plays the browser and hands messages to this script.
"""

import argparse
import json
import os
import sys
from urllib.parse import parse_qs, urlparse

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, saml, sigver
from saml2.client import Saml2Client
from saml2.config import IdPConfig, SPConfig
from saml2.metadata import create_metadata_string
from saml2.server import Server

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "keys")
X509 = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
XMLSEC = "/usr/bin/xmlsec1"


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
        "issuer": response.issuer(),
        "audience": [a.text for r in assertion.conditions.audience_restriction for a in r.audience],
        "authn_context_class_ref": response.authn_info()[0][0] if response.authn_info() else None,
        "attributes": response.get_identity(),
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
        "idp-respond": idp_respond,
    }
    print(json.dumps(handlers[args.command](args)))


if __name__ == "__main__":
    main()
