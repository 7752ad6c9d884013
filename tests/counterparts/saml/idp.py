#!/usr/bin/env python3
"""SPID-style SAML 2.0 test Identity Provider for Sportello's integration tests.

    python idp.py [--port 0] [--verbose] [--ignore-stdin]

Listens on 127.0.0.1:PORT (0 = a free port); entityID http://127.0.0.1:PORT/metadata. A fresh
RSA-2048 key and self-signed certificate are made at start (in a temporary directory, removed
at exit). When ready it prints exactly one JSON line to stdout:

    {"ready":true,"entity_id":...,"metadata_url":...,"sso_redirect_url":...,"sso_post_url":...,"slo_redirect_url":...}

and it exits when its stdin reaches EOF (the test process holds the pipe) or on SIGTERM/SIGINT.
See README.md beside this file for the HTTP contract and the list of mutations. Single Logout
(HTTP-Redirect, both SP- and IdP-initiated) is at /slo/redirect and /__admin/logout.

pysaml2 parses the AuthnRequests (and checks the enveloped signature of the HTTP-POST binding
against the SP's registered certificate) and writes the IdP metadata; the responses are built
with lxml and signed with the xmlsec1 CLI, so that each mutation can be exactly what it says.
"""

import argparse
import base64
import copy
import datetime as dt
import html
import json
import logging
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import urllib.parse
import warnings
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID
from lxml import etree

warnings.filterwarnings("ignore", module=r"saml2(\..*)?$")  # CryptographyDeprecationWarning on import
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT  # noqa: E402
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor
from saml2.request import AuthnRequest as Saml2AuthnRequest
from saml2.saml import NAMEID_FORMAT_TRANSIENT
from saml2.server import Server

# --- constants -----------------------------------------------------------------------------------

NS = {
    "samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
    "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
    "md": "urn:oasis:names:tc:SAML:2.0:metadata",
    "ds": "http://www.w3.org/2000/09/xmldsig#",
    "xs": "http://www.w3.org/2001/XMLSchema",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
SAMLP = "{%s}" % NS["samlp"]
SAML = "{%s}" % NS["saml"]
MD = "{%s}" % NS["md"]
DS = "{%s}" % NS["ds"]
XSI = "{%s}" % NS["xsi"]

NAMEID_ENTITY = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity"
NAMEID_EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"
ATTRNAME_BASIC = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
CM_BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"
STATUS_RESPONDER = "urn:oasis:names:tc:SAML:2.0:status:Responder"
STATUS_AUTHN_FAILED = "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed"
SPID_L1 = "https://www.spid.gov.it/SpidL1"

ALG = {
    "sha256": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", "http://www.w3.org/2001/04/xmlenc#sha256"),
    "sha1": ("http://www.w3.org/2000/09/xmldsig#rsa-sha1", "http://www.w3.org/2000/09/xmldsig#sha1"),
}
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"

# SigAlg values accepted on the HTTP-Redirect binding (SPID forbids SHA-1).
REDIRECT_SIGALGS = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": ("rsa", hashes.SHA256),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": ("rsa", hashes.SHA384),
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": ("rsa", hashes.SHA512),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": ("ec", hashes.SHA256),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": ("ec", hashes.SHA384),
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": ("ec", hashes.SHA512),
}

DEFAULT_USER = {
    "fiscalNumber": "TINIT-RSSMRA80A01G702C",
    "name": "Mario",
    "familyName": "Rossi",
    "email": "mario@example.org",
    "mobilePhone": "+393331234567",
    "dateOfBirth": "1980-01-01",
    "placeOfBirth": "G702",
}
OTHER_FISCAL_NUMBER = "TINIT-VRDGPP80A01H501U"
EVIL = "https://evil.example.org"

MUTATIONS = [
    "unsigned", "unsigned_assertion", "unsigned_response", "other_key", "sha1", "doctype",
    "two_assertions", "wrapping", "destination_wrong", "destination_missing", "issuer_wrong",
    "issuer_missing", "assertion_issuer_wrong", "audience_wrong", "recipient_wrong",
    "in_response_to_wrong", "in_response_to_missing", "version_wrong",
    "issue_instant_before_request", "issue_instant_future", "expired", "not_yet_valid",
    "nameid_format_wrong", "level_lower", "comment_in_nameid", "comment_in_fiscal_number",
    "status_authn_failed", "attribute_fiscal_number_other", "scd_in_response_to_wrong",
    "assertion_id_reuse",
]

# Responses after which the IdP records a session with the SP (the ones it should accept).
SESSION_MUTATIONS = (None, "unsigned_response", "attribute_fiscal_number_other")
LOGOUT_MUTATIONS = ["unsigned", "other_key", "unknown_subject"]
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"

SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


class BadRequest(Exception):
    pass


class NotFound(Exception):
    pass


# --- small helpers ---------------------------------------------------------------------------------

def new_id() -> str:
    return "_" + secrets.token_hex(16)


def instant(t: dt.datetime) -> str:
    t = t.astimezone(dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (t.microsecond // 1000)


def make_key_cert(directory: str, name: str, common_name: str, expired: bool = False,
                  future: bool = False):
    """A fresh RSA-2048 key and a self-signed certificate (valid from yesterday for a year; when
    `expired`, from 400 days ago until yesterday; when `future`, from tomorrow for a year);
    returns (key_path, cert_path, cert_b64)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "IT"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sportello test IdP"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=1 if future else -400 if expired else -1))
        .not_valid_after(now + dt.timedelta(days=366 if future else -1 if expired else 365))
        .sign(key, hashes.SHA256())
    )
    key_path = os.path.join(directory, f"{name}.key")
    cert_path = os.path.join(directory, f"{name}.crt")
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(cert_path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    cert_b64 = base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()
    return key_path, cert_path, cert_b64


def sub(parent, tag, text=None, nsmap=None, **attrs):
    el = etree.SubElement(parent, tag, nsmap=nsmap)
    for k, v in attrs.items():
        if v is not None:
            el.set(k, v)
    if text is not None:
        el.text = text
    return el


def signature_template(ref_id: str, alg: str):
    sig_alg, digest_alg = ALG[alg]
    sig = etree.Element(DS + "Signature", nsmap={"ds": NS["ds"]})
    si = sub(sig, DS + "SignedInfo")
    sub(si, DS + "CanonicalizationMethod", Algorithm=EXC_C14N)
    sub(si, DS + "SignatureMethod", Algorithm=sig_alg)
    ref = sub(si, DS + "Reference", URI="#" + ref_id)
    tr = sub(ref, DS + "Transforms")
    sub(tr, DS + "Transform", Algorithm=ENVELOPED)
    sub(tr, DS + "Transform", Algorithm=EXC_C14N)
    sub(ref, DS + "DigestMethod", Algorithm=digest_alg)
    sub(ref, DS + "DigestValue")
    sub(sig, DS + "SignatureValue")
    ki = sub(sig, DS + "KeyInfo")
    sub(ki, DS + "X509Data")
    return sig


def serialize(root) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="UTF-8")


def insert_after_issuer(el, node):
    """Places node right after el's saml:Issuer child (or first, when there is no Issuer)."""
    issuer = el.find(SAML + "Issuer")
    if issuer is not None:
        issuer.addnext(node)
    else:
        el.insert(0, node)


# --- the IdP -----------------------------------------------------------------------------------------

class SP:
    def __init__(self, xml: bytes):
        root = etree.fromstring(xml, SAFE_PARSER)
        if root.tag == MD + "EntitiesDescriptor":
            eds = root.findall(".//" + MD + "EntityDescriptor")
            if len(eds) != 1:
                raise BadRequest("expected exactly one EntityDescriptor")
            root = eds[0]
        if root.tag != MD + "EntityDescriptor":
            raise BadRequest("not SAML metadata (no md:EntityDescriptor)")
        self.entity_id = root.get("entityID")
        if not self.entity_id:
            raise BadRequest("EntityDescriptor without entityID")
        spsso = root.find(MD + "SPSSODescriptor")
        if spsso is None:
            raise BadRequest("no md:SPSSODescriptor")
        self.certs = []
        for kd in spsso.findall(MD + "KeyDescriptor"):
            if kd.get("use") in (None, "signing"):
                for c in kd.iterfind(".//" + DS + "X509Certificate"):
                    if c.text and c.text.strip():
                        self.certs.append("".join(c.text.split()))
        if not self.certs:
            raise BadRequest("no signing certificate in SPSSODescriptor")
        self.acs = []  # (index, binding, location, is_default)
        for i, a in enumerate(spsso.findall(MD + "AssertionConsumerService")):
            idx = int(a.get("index", i))
            self.acs.append((idx, a.get("Binding"), a.get("Location"), a.get("isDefault") == "true"))
        if not self.acs:
            raise BadRequest("no md:AssertionConsumerService")
        self.slo = []  # (binding, location, response_location)
        for s in spsso.findall(MD + "SingleLogoutService"):
            self.slo.append((s.get("Binding"), s.get("Location"), s.get("ResponseLocation") or s.get("Location")))
        self.attr_services = {}  # index -> [names]
        self.default_attr_service = None
        for i, s in enumerate(spsso.findall(MD + "AttributeConsumingService")):
            idx = int(s.get("index", i))
            self.attr_services[idx] = [r.get("Name") for r in s.findall(MD + "RequestedAttribute") if r.get("Name")]
            if s.get("isDefault") == "true":
                self.default_attr_service = idx
        try:
            self.public_keys = [x509.load_der_x509_certificate(base64.b64decode(c)).public_key() for c in self.certs]
        except ValueError as e:
            raise BadRequest(f"bad signing certificate in SP metadata: {e}")

    def pick_acs(self, url, index):
        post = [a for a in self.acs if a[1] == BINDING_HTTP_POST] or self.acs
        if url and any(a[2] == url for a in post):
            return url
        if index is not None:
            for a in post:
                if a[0] == int(index):
                    return a[2]
        for a in post:
            if a[3]:
                return a[2]
        return sorted(post, key=lambda a: a[0])[0][2]

    def slo_redirect(self, response: bool = False):
        """The SP's HTTP-Redirect SingleLogoutService Location (ResponseLocation for responses)."""
        for binding, location, response_location in self.slo:
            if binding == BINDING_HTTP_REDIRECT and location:
                return response_location if response else location
        raise BadRequest(f"SP {self.entity_id!r} has no HTTP-Redirect md:SingleLogoutService in its metadata")

    def attribute_names(self, index, user):
        names = None
        if index is not None and int(index) in self.attr_services:
            names = self.attr_services[int(index)]
        elif self.default_attr_service is not None:
            names = self.attr_services[self.default_attr_service]
        elif len(self.attr_services) == 1:
            names = next(iter(self.attr_services.values()))
        if not names:
            return list(user.keys())
        return [n for n in names if n in user]


class IdP:
    def __init__(self, port: int, tmpdir: str, xmlsec: str, expired_cert: bool = False,
                 future_cert: bool = False):
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.entity_id = self.base + "/metadata"
        self.metadata_url = self.base + "/metadata"
        self.sso_redirect_url = self.base + "/sso/redirect"
        self.sso_post_url = self.base + "/sso/post"
        self.slo_redirect_url = self.base + "/slo/redirect"
        self.tmpdir = tmpdir
        self.xmlsec = xmlsec
        self.key, self.cert, self.cert_b64 = make_key_cert(
            tmpdir, "idp", f"127.0.0.1:{port}", expired=expired_cert, future=future_cert)
        self._other = None
        self.last_assertion_id = None
        self.lock = threading.Lock()
        self.sps = {}
        self.user = dict(DEFAULT_USER)
        self.level = None
        self.mutation = None
        self.last_response = None
        self.last_request = None
        self.sessions = {}           # SP entityID -> [session dicts], oldest first
        self.logouts = []            # SP-initiated LogoutRequests received
        self.logout_requests = {}    # ID -> IdP-initiated LogoutRequest sent (via /__admin/logout)
        self.logout_responses = []   # LogoutResponses received (answers to IdP-initiated logouts)

        conf = IdPConfig()
        conf.load({
            "entityid": self.entity_id,
            "xmlsec_binary": xmlsec,
            "key_file": self.key,
            "cert_file": self.cert,
            "metadata": {},
            "accepted_time_diff": 120,
            "valid_for": 24,
            "service": {"idp": {
                "name": "Sportello test IdP",
                "endpoints": {
                    "single_sign_on_service": [
                        (self.sso_redirect_url, BINDING_HTTP_REDIRECT),
                        (self.sso_post_url, BINDING_HTTP_POST),
                    ],
                    "single_logout_service": [(self.slo_redirect_url, BINDING_HTTP_REDIRECT)],
                },
                "name_id_format": [NAMEID_FORMAT_TRANSIENT],
                "want_authn_requests_signed": True,
            }},
        })
        self.server = Server(config=conf)
        self.metadata_xml = self._make_metadata()

    # -- keys & signing --

    def other_key(self):
        with self.lock:
            if self._other is None:
                self._other = make_key_cert(self.tmpdir, "other", "evil.example.org")
            return self._other

    def sign(self, xml: bytes, node_id: str, node_name: str, key: str, cert: str) -> bytes:
        """Signs the (template) ds:Signature inside the element whose ID is node_id."""
        with tempfile.NamedTemporaryFile(dir=self.tmpdir, suffix=".xml", delete=False) as f:
            f.write(xml)
            src = f.name
        out = src + ".signed"
        try:
            r = subprocess.run(
                [self.xmlsec, "--sign", "--privkey-pem", f"{key},{cert}", "--id-attr:ID", node_name,
                 "--node-id", node_id, "--output", out, src],
                capture_output=True,
            )
            if r.returncode != 0:
                raise RuntimeError("xmlsec1 --sign failed: " + r.stderr.decode(errors="replace"))
            with open(out, "rb") as f:
                return f.read()
        finally:
            for p in (src, out):
                try:
                    os.unlink(p)
                except FileNotFoundError:
                    pass

    def _make_metadata(self) -> bytes:
        ed = entity_descriptor(self.server.config)
        ed.id = new_id()
        generated = etree.fromstring(str(ed).encode(), SAFE_PARSER)
        # Drop pysaml2's algorithm-support Extensions (it lists md5/sha1) and re-home the tree
        # under readable prefixes (pysaml2 writes ns0:, ns1:, ...).
        for ext in generated.findall(MD + "Extensions"):
            generated.remove(ext)

        def rebuild(el, parent):
            new = etree.Element(el.tag, nsmap={"md": NS["md"], "ds": NS["ds"]}) if parent is None \
                else etree.SubElement(parent, el.tag)
            for k, v in el.attrib.items():
                new.set(k, v)
            new.text = el.text
            for child in el:
                rebuild(child, new)
            return new

        root = rebuild(generated, None)
        root.insert(0, signature_template(ed.id, "sha256"))
        xml = serialize(root)
        return self.sign(xml, ed.id, NS["md"] + ":EntityDescriptor", self.key, self.cert)

    # -- SP registry --

    def register_sp(self, xml: bytes) -> SP:
        try:
            sp = SP(xml)
        except etree.XMLSyntaxError as e:
            raise BadRequest(f"SP metadata is not XML: {e}")
        with self.lock:
            md = self.server.metadata
            for key in [k for k, m in md.metadata.items() if sp.entity_id in getattr(m, "entity", {})]:
                del md.metadata[key]
            md.load("inline", xml.decode("utf-8"))
            if sp.entity_id not in md.keys():
                raise BadRequest("pysaml2 could not load the metadata")
            self.sps[sp.entity_id] = sp
        return sp

    # -- requests --

    def parse_request(self, binding: str, saml_request: str, raw_query: str = None):
        try:
            data = base64.b64decode(saml_request, validate=False)
            xml = zlib.decompress(data, -15) if binding == BINDING_HTTP_REDIRECT else data
        except Exception as e:
            raise BadRequest(f"cannot decode SAMLRequest: {e}")
        try:
            root = etree.fromstring(xml, SAFE_PARSER)
        except etree.XMLSyntaxError as e:
            raise BadRequest(f"SAMLRequest is not XML: {e}")
        if root.getroottree().docinfo.doctype:
            raise BadRequest("DOCTYPE not allowed")
        if root.tag != SAMLP + "AuthnRequest":
            raise BadRequest("not a samlp:AuthnRequest")
        issuer_el = root.find(SAML + "Issuer")
        if issuer_el is None or not (issuer_el.text or "").strip():
            raise BadRequest("AuthnRequest without Issuer")
        issuer = issuer_el.text.strip()
        with self.lock:
            sp = self.sps.get(issuer)
        if sp is None:
            raise BadRequest(f"unknown SP {issuer!r}: POST its metadata to /__admin/sp first")
        self.last_request = xml

        if binding == BINDING_HTTP_REDIRECT:
            self.verify_redirect_signature(sp, raw_query)
        else:
            sigs = root.findall(DS + "Signature")
            if len(sigs) != 1 or len(root.findall(".//" + DS + "Signature")) != 1:
                raise BadRequest("HTTP-POST AuthnRequest must carry exactly one enveloped ds:Signature")
            refs = sigs[0].findall(f"{DS}SignedInfo/{DS}Reference")
            if len(refs) != 1 or refs[0].get("URI") != "#" + (root.get("ID") or "\0"):
                raise BadRequest("the signature must reference the AuthnRequest itself")

        req = Saml2AuthnRequest(
            self.server.sec,
            [self.entity_id, self.sso_redirect_url, self.sso_post_url],
            self.server.config.attribute_converters,
            timeslack=120,
        )
        try:
            # HTTP-POST: pysaml2 verifies the enveloped signature with the SP's registered cert.
            # HTTP-Redirect: already verified above on the query string octets as received.
            req.loads(xml.decode("utf-8"), binding, origdoc=saml_request, must=(binding == BINDING_HTTP_POST))
            if not req._verify():
                raise BadRequest("IssueInstant out of range")
        except BadRequest:
            raise
        except Exception as e:
            raise BadRequest(f"AuthnRequest rejected: {type(e).__name__}: {e}")
        return sp, req.message

    def verify_redirect_signature(self, sp: SP, raw_query: str, param: str = "SAMLRequest",
                                  what: str = "AuthnRequest"):
        """Checks the HTTP-Redirect signature over `param=…[&RelayState=…]&SigAlg=…` exactly as the
        octets were received, with the SP's registered certificate(s). Raises BadRequest."""
        parts = {}
        for piece in (raw_query or "").split("&"):
            if "=" in piece:
                k, v = piece.split("=", 1)
                parts.setdefault(k, v)
        for k in (param, "SigAlg", "Signature"):
            if k not in parts:
                raise BadRequest(f"HTTP-Redirect {what} without {k}: it must be signed")
        sigalg = urllib.parse.unquote_plus(parts["SigAlg"])
        if sigalg not in REDIRECT_SIGALGS:
            raise BadRequest(f"unsupported SigAlg {sigalg}")
        kind, hash_cls = REDIRECT_SIGALGS[sigalg]
        signed = param + "=" + parts[param]
        if "RelayState" in parts:
            signed += "&RelayState=" + parts["RelayState"]
        signed += "&SigAlg=" + parts["SigAlg"]
        try:
            signature = base64.b64decode(urllib.parse.unquote_plus(parts["Signature"]))
        except Exception:
            raise BadRequest("Signature is not base64")
        for pk in sp.public_keys:
            try:
                if kind == "rsa" and isinstance(pk, rsa.RSAPublicKey):
                    pk.verify(signature, signed.encode("ascii"), padding.PKCS1v15(), hash_cls())
                    return
                if kind == "ec" and isinstance(pk, ec.EllipticCurvePublicKey):
                    size = (pk.curve.key_size + 7) // 8
                    if len(signature) == 2 * size:  # XML-DSig form: r || s
                        signature = encode_dss_signature(int.from_bytes(signature[:size], "big"),
                                                         int.from_bytes(signature[size:], "big"))
                    pk.verify(signature, signed.encode("ascii"), ec.ECDSA(hash_cls()))
                    return
            except InvalidSignature:
                continue
        raise BadRequest("bad HTTP-Redirect signature (checked with the SP's registered certificate)")

    # -- single logout (HTTP-Redirect binding) --

    @staticmethod
    def _decode_redirect(value: str, what: str):
        try:
            xml = zlib.decompress(base64.b64decode(value, validate=False), -15)
        except Exception as e:
            raise BadRequest(f"cannot decode {what}: {e}")
        try:
            root = etree.fromstring(xml, SAFE_PARSER)
        except etree.XMLSyntaxError as e:
            raise BadRequest(f"{what} is not XML: {e}")
        if root.getroottree().docinfo.doctype:
            raise BadRequest("DOCTYPE not allowed")
        return xml, root

    @staticmethod
    def _text(el):
        return None if el is None else (el.xpath("string()") or "").strip()

    def redirect_url(self, location: str, param: str, xml: bytes, relay_state, key_path) -> str:
        """location?param=…[&RelayState=…][&SigAlg=…&Signature=…] (SAML bindings §3.4.4.1): DEFLATE,
        base64, URL-encoding; signed with RSA-SHA256 over the encoded query unless key_path is None."""
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        pairs = [(param, base64.b64encode(co.compress(xml) + co.flush()).decode())]
        if relay_state is not None:
            pairs.append(("RelayState", relay_state))
        query = urllib.parse.urlencode(pairs)
        if key_path is not None:
            query += "&" + urllib.parse.urlencode([("SigAlg", RSA_SHA256)])
            with open(key_path, "rb") as f:
                key = serialization.load_pem_private_key(f.read(), None)
            sig = key.sign(query.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
            query += "&" + urllib.parse.urlencode([("Signature", base64.b64encode(sig).decode())])
        return location + ("&" if "?" in location else "?") + query

    def _check_destination(self, root, what):
        dest = root.get("Destination")
        if dest not in (self.slo_redirect_url, self.entity_id):
            raise BadRequest(f"{what} Destination {dest!r} is neither {self.slo_redirect_url} nor the entityID")

    def sp_logout(self, saml_request: str, relay_state, raw_query: str) -> str:
        """SP-initiated LogoutRequest → the URL of the signed LogoutResponse (302 target)."""
        xml, root = self._decode_redirect(saml_request, "SAMLRequest")
        if root.tag != SAMLP + "LogoutRequest":
            raise BadRequest("not a samlp:LogoutRequest")
        issuer = self._text(root.find(SAML + "Issuer"))
        if not issuer:
            raise BadRequest("LogoutRequest without Issuer")
        with self.lock:
            sp = self.sps.get(issuer)
        if sp is None:
            raise BadRequest(f"unknown SP {issuer!r}: POST its metadata to /__admin/sp first")
        self.verify_redirect_signature(sp, raw_query, "SAMLRequest", "LogoutRequest")
        req_id = root.get("ID")
        if not req_id:
            raise BadRequest("LogoutRequest without ID")
        if root.get("Version") != "2.0":
            raise BadRequest(f"LogoutRequest Version {root.get('Version')!r}")
        if not root.get("IssueInstant"):
            raise BadRequest("LogoutRequest without IssueInstant")
        self._check_destination(root, "LogoutRequest")
        nid = root.find(SAML + "NameID")
        name_id = self._text(nid)
        if not name_id:
            raise BadRequest("LogoutRequest without saml:NameID")
        session_indexes = [self._text(e) for e in root.findall(SAMLP + "SessionIndex")]
        destination = sp.slo_redirect(response=True)

        with self.lock:
            sessions = self.sessions.get(sp.entity_id, [])
            matched = [x for x in sessions if x["name_id"] == name_id]
            self.sessions[sp.entity_id] = [x for x in sessions if x["name_id"] != name_id]
            status = STATUS_SUCCESS if matched else STATUS_RESPONDER
            resp_id = new_id()
            self.logouts.append({
                "sp": sp.entity_id, "id": req_id, "name_id": name_id,
                "name_id_format": nid.get("Format"), "name_qualifier": nid.get("NameQualifier"),
                "session_index": session_indexes[0] if session_indexes else None,
                "session_indexes": session_indexes,
                "session_index_known": any(x["session_index"] in session_indexes for x in matched),
                "known": bool(matched), "destination": root.get("Destination"), "relay_state": relay_state,
                "status": status, "response_id": resp_id, "at": instant(dt.datetime.now(dt.timezone.utc)),
                "xml": xml.decode("utf-8", "replace"),
            })

        resp = etree.Element(SAMLP + "LogoutResponse", nsmap={"samlp": NS["samlp"], "saml": NS["saml"]})
        resp.set("ID", resp_id)
        resp.set("Version", "2.0")
        resp.set("IssueInstant", instant(dt.datetime.now(dt.timezone.utc)))
        resp.set("Destination", destination)
        resp.set("InResponseTo", req_id)
        sub(resp, SAML + "Issuer", self.entity_id, Format=NAMEID_ENTITY)
        sub(sub(resp, SAMLP + "Status"), SAMLP + "StatusCode", Value=status)
        xml = serialize(resp)
        return self.redirect_url(destination, "SAMLResponse", xml, relay_state, self.key)

    def idp_logout(self, sp_id, mutation):
        """IdP-initiated LogoutRequest for the SP's last recorded session → {"url", "id", ...}."""
        if mutation is not None and mutation not in LOGOUT_MUTATIONS:
            raise BadRequest(f"unknown logout mutation {mutation!r}; known: {', '.join(LOGOUT_MUTATIONS)}")
        with self.lock:
            sp = self.sps.get(sp_id)
            sessions = list(self.sessions.get(sp_id, []))
        if sp is None or not sessions:
            raise NotFound(f"no session recorded for SP {sp_id!r}")
        location = sp.slo_redirect()
        s = sessions[-1]
        name_id = new_id() if mutation == "unknown_subject" else s["name_id"]
        req = etree.Element(SAMLP + "LogoutRequest", nsmap={"samlp": NS["samlp"], "saml": NS["saml"]})
        req_id = new_id()
        req.set("ID", req_id)
        req.set("Version", "2.0")
        req.set("IssueInstant", instant(dt.datetime.now(dt.timezone.utc)))
        req.set("Destination", location)
        sub(req, SAML + "Issuer", self.entity_id, Format=NAMEID_ENTITY)
        sub(req, SAML + "NameID", name_id, Format=s["format"], NameQualifier=s["name_qualifier"])
        sub(req, SAMLP + "SessionIndex", s["session_index"])
        xml = serialize(req)
        key = None if mutation == "unsigned" else self.other_key()[0] if mutation == "other_key" else self.key
        relay = secrets.token_urlsafe(9)
        url = self.redirect_url(location, "SAMLRequest", xml, relay, key)
        sent = {"id": req_id, "sp": sp_id, "name_id": name_id, "session_index": s["session_index"],
                "mutation": mutation, "relay_state": relay, "url": url, "xml": xml.decode(),
                "at": instant(dt.datetime.now(dt.timezone.utc))}
        with self.lock:
            self.logout_requests[req_id] = sent
        return {"url": url, "id": req_id, "relay_state": relay, "name_id": name_id,
                "session_index": s["session_index"]}

    def sp_logout_response(self, saml_response: str, relay_state, raw_query: str):
        """The SP's LogoutResponse to an IdP-initiated logout: recorded always; BadRequest unless it is
        well-formed, from a registered SP, validly signed, to this endpoint and answers a sent request."""
        xml, root = self._decode_redirect(saml_response, "SAMLResponse")
        if root.tag != SAMLP + "LogoutResponse":
            raise BadRequest("not a samlp:LogoutResponse")
        code = root.find(f"{SAMLP}Status/{SAMLP}StatusCode")
        sub_code = code.find(SAMLP + "StatusCode") if code is not None else None
        irt = root.get("InResponseTo")
        issuer = self._text(root.find(SAML + "Issuer"))
        with self.lock:
            sp = self.sps.get(issuer) if issuer else None
            pending = self.logout_requests.get(irt) if irt else None
        entry = {
            "in_response_to": irt, "status": code.get("Value") if code is not None else None,
            "sub_status": sub_code.get("Value") if sub_code is not None else None,
            "issuer": issuer, "id": root.get("ID"), "destination": root.get("Destination"),
            "relay_state": relay_state, "known_request": pending is not None, "signature_ok": False,
            "error": None, "at": instant(dt.datetime.now(dt.timezone.utc)), "xml": xml.decode("utf-8", "replace"),
        }
        try:
            if sp is None:
                raise BadRequest(f"LogoutResponse Issuer {issuer!r} is not a registered SP")
            self.verify_redirect_signature(sp, raw_query, "SAMLResponse", "LogoutResponse")
            entry["signature_ok"] = True
            if root.get("Version") != "2.0":
                raise BadRequest(f"LogoutResponse Version {root.get('Version')!r}")
            self._check_destination(root, "LogoutResponse")
            if pending is None or pending["sp"] != sp.entity_id:
                raise BadRequest(f"LogoutResponse InResponseTo {irt!r} answers no LogoutRequest sent to this SP")
            if entry["status"] is None:
                raise BadRequest("LogoutResponse without Status/StatusCode")
        except BadRequest as e:
            entry["error"] = str(e)
            raise
        finally:
            with self.lock:
                self.logout_responses.append(entry)
        if entry["status"] == STATUS_SUCCESS and pending["mutation"] is None:
            with self.lock:
                self.sessions[sp.entity_id] = [x for x in self.sessions.get(sp.entity_id, [])
                                               if x["name_id"] != pending["name_id"]]
        return entry

    # -- responses --

    def answer(self, sp: SP, msg, relay_state):
        with self.lock:
            user = dict(self.user)
            level = self.level
            mutation, self.mutation = self.mutation, None
        requested = None
        rac = msg.requested_authn_context
        if rac is not None and rac.authn_context_class_ref:
            requested = rac.authn_context_class_ref[0].text.strip()
        acs = sp.pick_acs(msg.assertion_consumer_service_url, msg.assertion_consumer_service_index)
        attr_index = msg.attribute_consuming_service_index
        ctx = {
            "sp": sp,
            "acs": acs,
            "request_id": msg.id,
            "level": level or requested or SPID_L1,
            "user": user,
            "attr_names": sp.attribute_names(attr_index, user),
        }
        xml = self.build(ctx, mutation)
        with self.lock:
            self.last_response = xml
            if mutation in SESSION_MUTATIONS:
                # A response the SP should accept: the IdP now has a session with that SP.
                self.sessions.setdefault(sp.entity_id, []).append(
                    {**ctx["subject"], "at": instant(dt.datetime.now(dt.timezone.utc))})
        return acs, xml

    def _assertion(self, p, user, fiscal_number=None, assertion_id=None):
        a = etree.Element(SAML + "Assertion", nsmap={"saml": NS["saml"]})
        a.set("ID", assertion_id or new_id())
        a.set("Version", "2.0")
        a.set("IssueInstant", p["assertion_issue_instant"])
        sub(a, SAML + "Issuer", p["assertion_issuer"], Format=NAMEID_ENTITY)
        s = sub(a, SAML + "Subject")
        sub(s, SAML + "NameID", p["nameid"], Format=p["nameid_format"], NameQualifier=self.entity_id)
        sc = sub(s, SAML + "SubjectConfirmation", Method=CM_BEARER)
        sub(sc, SAML + "SubjectConfirmationData", Recipient=p["recipient"], InResponseTo=p["scd_in_response_to"],
            NotOnOrAfter=p["scd_not_on_or_after"])
        c = sub(a, SAML + "Conditions", NotBefore=p["not_before"], NotOnOrAfter=p["not_on_or_after"])
        ar = sub(c, SAML + "AudienceRestriction")
        sub(ar, SAML + "Audience", p["audience"])
        st = sub(a, SAML + "AuthnStatement", AuthnInstant=p["authn_instant"], SessionIndex=p["session_index"])
        ac = sub(st, SAML + "AuthnContext")
        sub(ac, SAML + "AuthnContextClassRef", p["level"])
        attrs = sub(a, SAML + "AttributeStatement")
        for name in p["attr_names"]:
            value = user.get(name)
            if name == "fiscalNumber" and fiscal_number:
                value = fiscal_number
            if value is None:
                continue
            at = sub(attrs, SAML + "Attribute", Name=name, NameFormat=ATTRNAME_BASIC)
            av = sub(at, SAML + "AttributeValue", str(value), nsmap={"xs": NS["xs"], "xsi": NS["xsi"]})
            av.set(XSI + "type", "xs:string")
        return a

    def build(self, ctx, m) -> bytes:
        now = dt.datetime.now(dt.timezone.utc)
        sp, user = ctx["sp"], ctx["user"]
        p = {
            "version": "2.0",
            "response_issue_instant": instant(now),
            "assertion_issue_instant": instant(now),
            "authn_instant": instant(now),
            "destination": ctx["acs"],
            "in_response_to": ctx["request_id"],
            "scd_in_response_to": ctx["request_id"],
            "response_issuer": self.entity_id,
            "assertion_issuer": self.entity_id,
            "nameid": new_id(),
            "session_index": new_id(),
            "nameid_format": NAMEID_FORMAT_TRANSIENT,
            "recipient": ctx["acs"],
            "not_before": instant(now),
            "not_on_or_after": instant(now + dt.timedelta(minutes=5)),
            "scd_not_on_or_after": instant(now + dt.timedelta(minutes=5)),
            "audience": sp.entity_id,
            "level": ctx["level"],
            "attr_names": ctx["attr_names"],
        }
        sign_response = sign_assertion = True
        alg = "sha256"
        key, cert = self.key, self.cert
        fiscal_number = None

        if m == "unsigned":
            sign_response = sign_assertion = False
        elif m == "unsigned_assertion":
            sign_assertion = False
        elif m in ("unsigned_response", "wrapping"):
            sign_response = False
        elif m == "other_key":
            key, cert, _ = self.other_key()
        elif m == "sha1":
            alg = "sha1"
        elif m == "destination_wrong":
            p["destination"] = EVIL + "/acs"
        elif m == "destination_missing":
            p["destination"] = None
        elif m == "issuer_wrong":
            p["response_issuer"] = EVIL + "/idp"
        elif m == "issuer_missing":
            p["response_issuer"] = None
        elif m == "assertion_issuer_wrong":
            p["assertion_issuer"] = EVIL + "/idp"
        elif m == "audience_wrong":
            p["audience"] = EVIL + "/sp"
        elif m == "recipient_wrong":
            p["recipient"] = EVIL + "/acs"
        elif m == "in_response_to_wrong":
            p["in_response_to"] = p["scd_in_response_to"] = new_id()
        elif m == "in_response_to_missing":
            p["in_response_to"] = p["scd_in_response_to"] = None
        elif m == "scd_in_response_to_wrong":
            # The Response answers our request; its SubjectConfirmationData names another.
            p["scd_in_response_to"] = new_id()
        elif m == "version_wrong":
            p["version"] = "1.0"
        elif m == "issue_instant_before_request":
            p["response_issue_instant"] = p["assertion_issue_instant"] = instant(now - dt.timedelta(hours=1))
        elif m == "issue_instant_future":
            p["response_issue_instant"] = p["assertion_issue_instant"] = instant(now + dt.timedelta(hours=1))
        elif m == "expired":
            p["not_before"] = instant(now - dt.timedelta(minutes=15))
            p["not_on_or_after"] = p["scd_not_on_or_after"] = instant(now - dt.timedelta(minutes=10))
        elif m == "not_yet_valid":
            p["not_before"] = instant(now + dt.timedelta(minutes=10))
            p["not_on_or_after"] = instant(now + dt.timedelta(minutes=15))
        elif m == "nameid_format_wrong":
            p["nameid_format"] = NAMEID_EMAIL
            p["nameid"] = user.get("email") or "mario@example.org"
        elif m == "level_lower":
            p["level"] = SPID_L1
        elif m == "attribute_fiscal_number_other":
            fiscal_number = OTHER_FISCAL_NUMBER
        ctx["subject"] = {"name_id": p["nameid"], "format": p["nameid_format"], "name_qualifier": self.entity_id,
                          "session_index": p["session_index"]}

        resp = etree.Element(SAMLP + "Response", nsmap={"samlp": NS["samlp"], "saml": NS["saml"]})
        resp_id = new_id()
        resp.set("ID", resp_id)
        resp.set("Version", p["version"])
        resp.set("IssueInstant", p["response_issue_instant"])
        if p["destination"] is not None:
            resp.set("Destination", p["destination"])
        if p["in_response_to"] is not None:
            resp.set("InResponseTo", p["in_response_to"])
        if p["response_issuer"] is not None:
            sub(resp, SAML + "Issuer", p["response_issuer"], Format=NAMEID_ENTITY)
        status = sub(resp, SAMLP + "Status")
        if m == "status_authn_failed":
            sc = sub(status, SAMLP + "StatusCode", Value=STATUS_RESPONDER)
            sub(sc, SAMLP + "StatusCode", Value=STATUS_AUTHN_FAILED)
            sub(status, SAMLP + "StatusMessage", "ErrorCode nr22")
            assertions = []
        else:
            sub(status, SAMLP + "StatusCode", Value=STATUS_SUCCESS)
            # A fresh, validly signed answer to the current request whose Assertion reuses the
            # ID of the previous one (what a replay cache must catch).
            reuse = self.last_assertion_id if m == "assertion_id_reuse" else None
            assertions = [self._assertion(p, user, fiscal_number, reuse)]
            self.last_assertion_id = assertions[0].get("ID")
            if m == "two_assertions":
                assertions.append(self._assertion(p, user, fiscal_number))
        for a in assertions:
            resp.append(a)
            if sign_assertion:
                insert_after_issuer(a, signature_template(a.get("ID"), alg))

        xml = serialize(resp)
        if sign_assertion:
            for a in assertions:
                xml = self.sign(xml, a.get("ID"), NS["saml"] + ":Assertion", key, cert)

        if m == "wrapping":
            # XSW: the genuine signed assertion goes into samlp:Extensions (so the first
            # ds:Signature of the document is still a valid one); in its place an unsigned evil
            # assertion (another fiscalNumber, NameID and ID). The Response is not signed.
            root = etree.fromstring(xml, SAFE_PARSER)
            genuine = root.find(SAML + "Assertion")
            evil = copy.deepcopy(genuine)
            evil.remove(evil.find(DS + "Signature"))
            evil.set("ID", new_id())
            evil.find(f"{SAML}Subject/{SAML}NameID").text = new_id()
            for at in evil.iter(SAML + "Attribute"):
                if at.get("Name") == "fiscalNumber":
                    at.find(SAML + "AttributeValue").text = OTHER_FISCAL_NUMBER
            genuine.addprevious(evil)
            ext = etree.Element(SAMLP + "Extensions")
            root.find(SAMLP + "Status").addprevious(ext)
            ext.append(genuine)
            xml = serialize(root)

        if sign_response:
            root = etree.fromstring(xml, SAFE_PARSER)
            insert_after_issuer(root, signature_template(resp_id, alg))
            xml = serialize(root)
            xml = self.sign(xml, resp_id, NS["samlp"] + ":Response", key, cert)

        # Post-signature tampering that keeps the signatures valid.
        if m == "comment_in_nameid":
            xml = self._comment_inside(xml, b"NameID", p["nameid"].encode(), 9)
        elif m == "comment_in_fiscal_number":
            xml = self._comment_inside(xml, b"AttributeValue", user["fiscalNumber"].encode(), 12)
        elif m == "doctype":
            decl_end = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
            doctype = b'\n<!DOCTYPE samlp:Response [\n  <!ENTITY sportello "doctype">\n]>'
            xml = xml[:decl_end] + doctype + xml[decl_end:]
        return xml

    @staticmethod
    def _comment_inside(xml: bytes, tag: bytes, value: bytes, at: int) -> bytes:
        needle = b">" + value + b"</saml:" + tag + b">"
        pos = xml.index(needle)
        tampered = b">" + value[:at] + b"<!---->" + value[at:] + b"</saml:" + tag + b">"
        return xml[:pos] + tampered + xml[pos + len(needle):]


# --- HTTP -------------------------------------------------------------------------------------------

def autopost_form(acs: str, response_xml: bytes, relay_state: str) -> bytes:
    value = base64.b64encode(response_xml).decode()
    body = (
        '<!DOCTYPE html>\n<html lang="it"><head><meta charset="utf-8"><title>SPID test IdP</title></head><body>'
        f'<form method="post" action="{html.escape(acs, quote=True)}">'
        f'<input type="hidden" name="SAMLResponse" value="{html.escape(value, quote=True)}">'
        f'<input type="hidden" name="RelayState" value="{html.escape(relay_state or "", quote=True)}">'
        '<button type="submit">Continua</button></form>'
        "<script>document.forms[0].submit()</script></body></html>\n"
    )
    return body.encode("utf-8")


def logged_out_page(entry) -> bytes:
    status = (entry.get("status") or "").rsplit(":", 1)[-1]
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Logged out</title></head>'
            f'<body><h1>Logged out</h1><p>{html.escape(status)}</p></body></html>\n').encode("utf-8")


def make_handler(idp: IdP, verbose: bool):
    class Handler(BaseHTTPRequestHandler):
        server_version = "SportelloTestIdP/1.0"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            if verbose:
                sys.stderr.write("idp: " + (fmt % args) + "\n")

        def send(self, code: int, body: bytes, ctype: str):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def text(self, code: int, msg: str):
            if verbose and code >= 400:
                sys.stderr.write(f"idp: {code} {msg}\n")
            self.send(code, (msg + "\n").encode(), "text/plain; charset=utf-8")

        def json(self, code: int, obj):
            self.send(code, json.dumps(obj).encode(), "application/json")

        def body(self) -> bytes:
            n = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(n) if n else b""

        def do_GET(self):
            path, _, query = self.path.partition("?")
            try:
                if path == "/metadata":
                    self.send(200, idp.metadata_xml, "application/samlmetadata+xml")
                elif path == "/sso/redirect":
                    q = urllib.parse.parse_qs(query, keep_blank_values=True)
                    if "SAMLRequest" not in q:
                        return self.text(400, "missing SAMLRequest")
                    relay = q.get("RelayState", [None])[0]
                    sp, msg = idp.parse_request(BINDING_HTTP_REDIRECT, q["SAMLRequest"][0], query)
                    acs, xml = idp.answer(sp, msg, relay)
                    self.send(200, autopost_form(acs, xml, relay), "text/html; charset=utf-8")
                elif path == "/slo/redirect":
                    q = urllib.parse.parse_qs(query, keep_blank_values=True)
                    relay = q.get("RelayState", [None])[0]
                    if "SAMLRequest" in q:
                        url = idp.sp_logout(q["SAMLRequest"][0], relay, query)
                        self.send_response(302)
                        self.send_header("Location", url)
                        self.send_header("Content-Length", "0")
                        self.send_header("Cache-Control", "no-store")
                        self.end_headers()
                    elif "SAMLResponse" in q:
                        entry = idp.sp_logout_response(q["SAMLResponse"][0], relay, query)
                        self.send(200, logged_out_page(entry), "text/html; charset=utf-8")
                    else:
                        self.text(400, "missing SAMLRequest or SAMLResponse")
                elif path == "/__admin/last":
                    if idp.last_response is None:
                        return self.text(404, "no response sent yet")
                    self.send(200, idp.last_response, "application/xml")
                elif path == "/__admin/last_request":
                    if idp.last_request is None:
                        return self.text(404, "no request received yet")
                    self.send(200, idp.last_request, "application/xml")
                elif path == "/__admin/state":
                    with idp.lock:
                        state = {"user": idp.user, "level": idp.level, "mutation": idp.mutation,
                                 "sps": sorted(idp.sps), "mutations": MUTATIONS,
                                 "sessions": {k: v for k, v in idp.sessions.items() if v},
                                 "logouts": idp.logouts,
                                 "logout_requests": list(idp.logout_requests.values()),
                                 "logout_responses": idp.logout_responses,
                                 "logout_mutations": LOGOUT_MUTATIONS}
                        body = json.dumps(state).encode()
                    self.send(200, body, "application/json")
                else:
                    self.text(404, "not found")
            except BadRequest as e:
                self.text(400, str(e))
            except Exception as e:  # a bug here: make it visible to the test
                self.text(500, f"{type(e).__name__}: {e}")

        def do_POST(self):
            path = self.path.partition("?")[0]
            data = self.body()
            try:
                if path == "/sso/post":
                    form = urllib.parse.parse_qs(data.decode("ascii", "replace"), keep_blank_values=True)
                    if "SAMLRequest" not in form:
                        return self.text(400, "missing SAMLRequest")
                    relay = form.get("RelayState", [None])[0]
                    sp, msg = idp.parse_request(BINDING_HTTP_POST, form["SAMLRequest"][0])
                    acs, xml = idp.answer(sp, msg, relay)
                    self.send(200, autopost_form(acs, xml, relay), "text/html; charset=utf-8")
                elif path == "/__admin/sp":
                    sp = idp.register_sp(data)
                    self.json(200, {"entity_id": sp.entity_id, "acs": [a[2] for a in sp.acs],
                                    "signing_certs": len(sp.certs)})
                elif path == "/__admin/next":
                    try:
                        cfg = json.loads(data or b"{}")
                    except ValueError as e:
                        return self.text(400, f"bad JSON: {e}")
                    mutation = cfg.get("mutation")
                    if mutation is not None and mutation not in MUTATIONS:
                        return self.text(400, f"unknown mutation {mutation!r}; known: {', '.join(MUTATIONS)}")
                    user = cfg.get("user")
                    if user is not None and (not isinstance(user, dict) or not user.get("fiscalNumber")):
                        return self.text(400, "user must be an object with at least fiscalNumber")
                    with idp.lock:
                        if user is not None:
                            idp.user = {k: str(v) for k, v in user.items() if v is not None}
                        if "level" in cfg:
                            idp.level = cfg["level"]
                        idp.mutation = mutation
                    self.json(200, {"ok": True})
                elif path == "/__admin/logout":
                    try:
                        cfg = json.loads(data or b"{}")
                    except ValueError as e:
                        return self.text(400, f"bad JSON: {e}")
                    if not isinstance(cfg, dict) or not isinstance(cfg.get("sp"), str):
                        return self.text(400, 'expected {"sp": "<SP entityID>", "mutation": null | "<name>"}')
                    self.json(200, idp.idp_logout(cfg["sp"], cfg.get("mutation")))
                else:
                    self.text(404, "not found")
            except BadRequest as e:
                self.text(400, str(e))
            except NotFound as e:
                self.text(404, str(e))
            except Exception as e:
                self.text(500, f"{type(e).__name__}: {e}")

    return Handler


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = a free port)")
    ap.add_argument("--verbose", action="store_true", help="log requests and 4xx reasons to stderr")
    ap.add_argument("--ignore-stdin", action="store_true", help="do not exit on stdin EOF (manual runs)")
    ap.add_argument("--expired-cert", action="store_true",
                    help="sign with a certificate that expired yesterday (valid from 400 days ago)")
    ap.add_argument("--future-cert", action="store_true",
                    help="sign with a certificate valid only from tomorrow")
    args = ap.parse_args()

    if not args.verbose:  # pysaml2 logs rejected requests at ERROR level; the 400 body says why
        logging.getLogger("saml2").setLevel(logging.CRITICAL + 1)
    xmlsec = shutil.which("xmlsec1")
    if not xmlsec:
        sys.stderr.write("idp: xmlsec1 not found (run tests/counterparts/setup.sh)\n")
        return 2
    tmpdir = tempfile.mkdtemp(prefix="sportello-idp-")
    stop = threading.Event()
    try:
        httpd = ThreadingHTTPServer(("127.0.0.1", args.port), BaseHTTPRequestHandler)
        httpd.daemon_threads = True
        port = httpd.server_address[1]
        idp = IdP(port, tmpdir, xmlsec, expired_cert=args.expired_cert, future_cert=args.future_cert)
        httpd.RequestHandlerClass = make_handler(idp, args.verbose)

        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        if not args.ignore_stdin:
            def watch_stdin():
                try:
                    while sys.stdin.buffer.read(65536):
                        pass
                except (OSError, ValueError):
                    pass
                stop.set()
            threading.Thread(target=watch_stdin, daemon=True).start()
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()

        ready = {
            "ready": True,
            "entity_id": idp.entity_id,
            "metadata_url": idp.metadata_url,
            "sso_redirect_url": idp.sso_redirect_url,
            "sso_post_url": idp.sso_post_url,
            "slo_redirect_url": idp.slo_redirect_url,
        }
        sys.stdout.write(json.dumps(ready, separators=(",", ":")) + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
        httpd.shutdown()
        httpd.server_close()
        return 0
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    os._exit(code)  # the stdin thread may still be blocked in read()
