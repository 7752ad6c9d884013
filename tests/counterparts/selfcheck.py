#!/usr/bin/env python3
"""Self-check of the Python test counterparts, no Rust needed.

    tests/counterparts/.venv/bin/python tests/counterparts/selfcheck.py

Starts saml/idp.py and smtp/sink.py as the Rust tests do, plays a throwaway SP (pysaml2
Saml2Client with a fresh key, metadata written to a temporary directory), logs in once per
mutation and checks every response: each ds:Signature with `xmlsec1 --verify` against the IdP
certificate from its metadata, the key fields, and (for the positive cases) that pysaml2's own
SP code accepts it. Then a few hostile requests the IdP must refuse (400), Single Logout over
HTTP-Redirect both ways (signatures checked on the raw query octets), and one mail through
the SMTP sink. Prints a table; exits 1 when anything is off. Takes ~10 s.
"""

import base64
import datetime as dt
import zlib
import html
import json
import logging
import os
import re
import shutil
import smtplib
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings

warnings.filterwarnings("ignore")
logging.disable(logging.CRITICAL)  # pysaml2 logs every rejection it is shown on purpose

from cryptography import x509  # noqa: E402
from cryptography.exceptions import InvalidSignature  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import padding  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402
from lxml import etree  # noqa: E402
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT  # noqa: E402
from saml2.client import Saml2Client  # noqa: E402
from saml2.config import SPConfig  # noqa: E402
from saml2.saml import NAMEID_FORMAT_TRANSIENT, AuthnContextClassRef, NameID  # noqa: E402
from saml2.samlp import RequestedAuthnContext  # noqa: E402
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol", "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "ds": "http://www.w3.org/2000/09/xmldsig#"}
SP_ID = "https://sportello.test/saml/metadata"
ACS = "https://sportello.test/saml/acs"
SLO = "https://sportello.test/saml/slo"
RELAY = "/dopo?x=1&y=è"
CF = "TINIT-RSSMRA80A01G702C"
CF_OTHER = "TINIT-VRDGPP80A01H501U"
EVIL = "https://evil.example.org"
FORM = re.compile(r'<form method="post" action="([^"]*)"><input type="hidden" name="SAMLResponse" value="([^"]*)">'
                  r'<input type="hidden" name="RelayState" value="([^"]*)">')

R, A = "Response:rsa-sha256:OK", "Assertion:rsa-sha256:OK"
# mutation -> (signatures expected, {field: expected value}, pysaml2 SP must accept?)
EXPECT = {
    None: ([R, A], {}, True),
    "unsigned": ([], {}, False),
    "unsigned_assertion": ([R], {}, False),
    "unsigned_response": ([A], {}, True),
    "other_key": (["Response:rsa-sha256:OTHER-KEY", "Assertion:rsa-sha256:OTHER-KEY"], {}, False),
    "sha1": (["Response:rsa-sha1:OK", "Assertion:rsa-sha1:OK"], {}, None),
    "doctype": ([R, A], {"doctype": True}, False),
    "two_assertions": ([R, A, A], {"assertions": 2, "cf": f"{CF},{CF}"}, False),
    "wrapping": (["Extensions/Assertion:rsa-sha256:OK"], {"assertions": 2, "cf": f"{CF},{CF_OTHER}"}, False),
    "destination_wrong": ([R, A], {"destination": EVIL + "/acs"}, None),
    "destination_missing": ([R, A], {"destination": None}, None),
    "issuer_wrong": ([R, A], {"issuer": EVIL + "/idp"}, False),
    "issuer_missing": ([R, A], {"issuer": None}, False),
    "assertion_issuer_wrong": ([R, A], {"assertion_issuer": EVIL + "/idp"}, False),
    "audience_wrong": ([R, A], {"audience": EVIL + "/sp"}, False),
    "recipient_wrong": ([R, A], {"recipient": EVIL + "/acs"}, None),
    "in_response_to_wrong": ([R, A], {"irt": "other", "scd_irt": "other"}, False),
    "in_response_to_missing": ([R, A], {"irt": None, "scd_irt": None}, False),
    "version_wrong": ([R, A], {"version": "1.0"}, False),
    "issue_instant_before_request": ([R, A], {"issue_instant": -3600}, None),
    "issue_instant_future": ([R, A], {"issue_instant": 3600}, None),
    "expired": ([R, A], {"not_before": -900, "not_on_or_after": -600, "scd_not_on_or_after": -600}, False),
    "not_yet_valid": ([R, A], {"not_before": 600, "not_on_or_after": 900}, False),
    "nameid_format_wrong": ([R, A], {"nameid_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"}, None),
    "level_lower": ([R, A], {"level": "https://www.spid.gov.it/SpidL1"}, None),
    "comment_in_nameid": ([R, A], {"comment": "NameID"}, None),
    "comment_in_fiscal_number": ([R, A], {"comment": "AttributeValue"}, None),
    "status_authn_failed": ([R], {"status": "Responder/AuthnFailed", "assertions": 0, "message": "ErrorCode nr22"}, False),
    "attribute_fiscal_number_other": ([R, A], {"cf": CF_OTHER}, True),
}


def keycert(directory, name, cn):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    n = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(n).issuer_name(n).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30)).sign(key, hashes.SHA256()))
    with open(f"{directory}/{name}.key", "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    with open(f"{directory}/{name}.crt", "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    return base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode()


def sp_metadata(cert_b64):
    return f"""<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{SP_ID}">
 <md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" AuthnRequestsSigned="true" WantAssertionsSigned="true">
  <md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_b64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>
  <md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{SLO}"/>
  <md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:transient</md:NameIDFormat>
  <md:AssertionConsumerService index="0" isDefault="true" Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{ACS}"/>
  <md:AssertionConsumerService index="1" Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{ACS}/alt"/>
  <md:AttributeConsumingService index="0"><md:ServiceName xml:lang="it">Sportello</md:ServiceName>
   <md:RequestedAttribute Name="fiscalNumber"/><md:RequestedAttribute Name="name"/><md:RequestedAttribute Name="familyName"/><md:RequestedAttribute Name="email"/>
  </md:AttributeConsumingService>
  <md:AttributeConsumingService index="1"><md:ServiceName xml:lang="it">Solo CF</md:ServiceName><md:RequestedAttribute Name="fiscalNumber"/></md:AttributeConsumingService>
 </md:SPSSODescriptor>
</md:EntityDescriptor>"""


def http(method, url, body=None, ctype=None):
    req = urllib.request.Request(url, data=body, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def xmlsec_verify(path, k, cert=None):
    """Verifies the k-th ds:Signature of the file: with cert pinned, or (cert=None) with its KeyInfo cert."""
    xp = f"(//*[local-name()='Signature' and namespace-uri()='{NS['ds']}'])[{k}]"
    cmd = ["xmlsec1", "--verify", "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:protocol:Response",
           "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:assertion:Assertion", "--node-xpath", xp]
    cmd += ["--pubkey-cert-pem", cert, "--enabled-key-data", "rsa"] if cert else ["--insecure"]
    return subprocess.run(cmd + [path], capture_output=True).returncode == 0


def redirect_parts(url):
    """(location, raw query pieces {name: raw value}, decoded params, inflated XML) of an HTTP-Redirect URL."""
    loc, _, query = url.partition("?")
    raw = dict(piece.split("=", 1) for piece in query.split("&"))
    q = {k: urllib.parse.unquote_plus(v) for k, v in raw.items()}
    param = "SAMLRequest" if "SAMLRequest" in q else "SAMLResponse"
    xml = zlib.decompress(base64.b64decode(q[param]), -15)
    return loc, raw, q, xml


def redirect_signature_ok(url, cert_path):
    """The HTTP-Redirect binding signature of url, checked on its raw query octets with cert_path."""
    _, raw, q, _ = redirect_parts(url)
    if "Signature" not in raw or q.get("SigAlg") != SIG_RSA_SHA256:
        return False
    param = "SAMLRequest" if "SAMLRequest" in raw else "SAMLResponse"
    signed = f"{param}={raw[param]}" + (f"&RelayState={raw['RelayState']}" if "RelayState" in raw else "")
    signed += f"&SigAlg={raw['SigAlg']}"
    with open(cert_path, "rb") as f:
        pk = x509.load_pem_x509_certificate(f.read()).public_key()
    try:
        pk.verify(base64.b64decode(q["Signature"]), signed.encode(), padding.PKCS1v15(), hashes.SHA256())
        return True
    except InvalidSignature:
        return False


def parse_time(s):
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def no_redirect_get(url):
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None
    try:
        with urllib.request.build_opener(NoRedirect).open(url, timeout=20) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def slo_checks(client, base, ready, idp_crt, work, login, failures):
    """Single Logout over HTTP-Redirect, both directions, with the throwaway pysaml2 SP."""
    print("\nsingle logout (HTTP-Redirect):")
    slo_url = ready["slo_redirect_url"]

    def check(label, ok, detail=""):
        print(f"  {'ok ' if ok else 'BAD'} {label:52} {detail}"[:160])
        if not ok:
            failures.append(f"SLO {label}: {detail}")

    def state():
        return json.loads(http("GET", base + "/__admin/state")[1])

    def fresh_login():
        http("POST", base + "/__admin/next", json.dumps({"mutation": None}).encode(), "application/json")
        _, st, body = login(admin=False)
        xml = base64.b64decode(html.unescape(FORM.search(body.decode()).group(2)))
        root = etree.fromstring(xml)
        nid = root.find("saml:Assertion/saml:Subject/saml:NameID", NS)
        si = root.find("saml:Assertion/saml:AuthnStatement", NS).get("SessionIndex")
        return nid, si

    def sp_logout_request(nid_value, si, sign=True, relay="slo-relay"):
        req_id, req = client.create_logout_request(
            slo_url, ready["entity_id"], name_id=NameID(text=nid_value, format=NAMEID_FORMAT_TRANSIENT,
                                                        name_qualifier=ready["entity_id"]),
            session_indexes=[si], sign=False)
        info = client.apply_binding(BINDING_HTTP_REDIRECT, str(req), slo_url, relay, sign=sign, sigalg=SIG_RSA_SHA256)
        return req_id, dict(info["headers"])["Location"]

    nid, si = fresh_login()
    sessions = state()["sessions"].get(SP_ID, [])
    last = sessions[-1] if sessions else {}
    check("login recorded as a session", last.get("name_id") == nid.text and last.get("session_index") == si
          and last.get("format") == NAMEID_FORMAT_TRANSIENT and last.get("name_qualifier") == ready["entity_id"],
          f"{len(sessions)} session(s), SessionIndex {si}")

    # SP-initiated: signed LogoutRequest -> 302 to the SP's SLO with a signed LogoutResponse
    for label, want_status in (("SP-initiated, known subject", "Success"), ("SP-initiated, same subject again", "Responder")):
        req_id, loc = sp_logout_request(nid.text, si)
        st, headers, body = no_redirect_get(loc)
        if st != 302:
            check(label, False, f"HTTP {st} {body[:120]!r}")
            continue
        target = headers["Location"]
        dest, raw, q, xml = redirect_parts(target)
        root = etree.fromstring(xml)
        got = {"to": dest, "tag": etree.QName(root).localname, "irt": root.get("InResponseTo"),
               "destination": root.get("Destination"), "version": root.get("Version"),
               "issuer": root.findtext("saml:Issuer", namespaces=NS),
               "issuer_format": root.find("saml:Issuer", NS).get("Format"),
               "status": root.find("samlp:Status/samlp:StatusCode", NS).get("Value").rsplit(":", 1)[1],
               "relay": q.get("RelayState"), "sigalg": q.get("SigAlg")}
        want = {"to": SLO, "tag": "LogoutResponse", "irt": req_id, "destination": SLO, "version": "2.0",
                "issuer": ready["entity_id"], "issuer_format": "urn:oasis:names:tc:SAML:2.0:nameid-format:entity",
                "status": want_status, "relay": "slo-relay", "sigalg": SIG_RSA_SHA256}
        bad = {k: got[k] for k in want if got[k] != want[k]}
        sig_ok = redirect_signature_ok(target, idp_crt)
        entry = state()["logouts"][-1]
        entry_ok = (entry["id"] == req_id and entry["name_id"] == nid.text and entry["session_index"] == si
                    and entry["sp"] == SP_ID and entry["known"] == (want_status == "Success"))
        check(label, not bad and sig_ok and entry_ok,
              f"302 LogoutResponse {got['status']}, signature {'OK' if sig_ok else 'BAD'}, state {'ok' if entry_ok else entry}"
              + (f" wrong: {bad}" if bad else ""))
    check("session forgotten after SP-initiated logout",
          all(x["name_id"] != nid.text for x in state()["sessions"].get(SP_ID, [])))

    nid, si = fresh_login()
    n_logouts = len(state()["logouts"])

    def with_query(loc, fn):
        u = urllib.parse.urlsplit(loc)
        return urllib.parse.urlunsplit(u._replace(query=urllib.parse.urlencode(fn(urllib.parse.parse_qsl(u.query)))))

    refused = [
        ("SP-initiated unsigned", sp_logout_request(nid.text, si, sign=False)[1]),
        ("SP-initiated signature bit flipped", with_query(sp_logout_request(nid.text, si)[1], lambda q: [
            (k, base64.b64encode(bytes([base64.b64decode(v)[0] ^ 1]) + base64.b64decode(v)[1:]).decode())
            if k == "Signature" else (k, v) for k, v in q])),
        ("SP-initiated RelayState altered", sp_logout_request(nid.text, si)[1].replace("RelayState=", "RelayState=X")),
    ]
    conf3 = SPConfig()
    conf3.load({"entityid": "https://unknown.test/md", "key_file": client.config.key_file,
                "cert_file": client.config.cert_file, "metadata": {"local": [f"{work}/idp-md.xml"]},
                "service": {"sp": {"endpoints": {"single_logout_service": [(SLO, BINDING_HTTP_REDIRECT)]}}}})
    stranger = Saml2Client(conf3)
    _, req = stranger.create_logout_request(slo_url, ready["entity_id"], name_id=NameID(text=nid.text), sign=False)
    info = stranger.apply_binding(BINDING_HTTP_REDIRECT, str(req), slo_url, "r", sign=True, sigalg=SIG_RSA_SHA256)
    refused.append(("SP-initiated from an unknown SP", dict(info["headers"])["Location"]))
    for label, url in refused:
        st, _, body = no_redirect_get(url)
        check(label + " refused", st == 400, f"HTTP {st} {body.decode(errors='replace').strip()[:70]}")
    check("refused requests leave no trace", len(state()["logouts"]) == n_logouts
          and state()["sessions"].get(SP_ID, [{}])[-1].get("name_id") == nid.text)

    # IdP-initiated: /__admin/logout builds the LogoutRequest URL for the SP's last session
    def admin_logout(sp=SP_ID, mutation=None):
        st, body = http("POST", base + "/__admin/logout", json.dumps({"sp": sp, "mutation": mutation}).encode(),
                        "application/json")
        return st, (json.loads(body) if st == 200 else body)

    results = {}
    for mutation in (None, "unsigned", "other_key", "unknown_subject"):
        st, out = admin_logout(mutation=mutation)
        if st != 200:
            check(f"IdP-initiated {mutation or 'normal'}", False, f"HTTP {st} {out!r}")
            continue
        loc, raw, q, xml = redirect_parts(out["url"])
        root = etree.fromstring(xml)
        n = root.find("saml:NameID", NS)
        got = {"to": loc, "tag": etree.QName(root).localname, "id": root.get("ID"), "destination": root.get("Destination"),
               "issuer": root.findtext("saml:Issuer", namespaces=NS), "name_id": n.text,
               "format": n.get("Format"), "qualifier": n.get("NameQualifier"),
               "session_index": root.findtext("samlp:SessionIndex", namespaces=NS), "relay": bool(q.get("RelayState")),
               "signed": "Signature" in raw and "SigAlg" in raw, "sig_ok": redirect_signature_ok(out["url"], idp_crt)}
        want = {"to": SLO, "tag": "LogoutRequest", "id": out["id"], "destination": SLO, "issuer": ready["entity_id"],
                "name_id": nid.text, "format": NAMEID_FORMAT_TRANSIENT, "qualifier": ready["entity_id"],
                "session_index": si, "relay": True, "signed": True, "sig_ok": True}
        if mutation == "unsigned":
            want.update(signed=False, sig_ok=False)
        elif mutation == "other_key":
            want.update(sig_ok=False)
        elif mutation == "unknown_subject":
            want["name_id"] = got["name_id"] if got["name_id"] != nid.text else "(another NameID)"
        bad = {k: got[k] for k in want if got[k] != want[k]}
        results[mutation] = (out, q)
        check(f"IdP-initiated {mutation or 'normal'}", not bad,
              f"signed={got['signed']} verifies-with-IdP-cert={got['sig_ok']}" + (f" wrong: {bad}" if bad else ""))
    st, _ = admin_logout(sp="https://nobody.test/md")
    check("IdP-initiated for an SP without session -> 404", st == 404, f"HTTP {st}")
    st, _ = admin_logout(mutation="nope")
    check("IdP-initiated unknown mutation -> 400", st == 400, f"HTTP {st}")

    # the SP answers the normal IdP-initiated request with a signed LogoutResponse
    if None in results:
        out, q = results[None]

        def sp_logout_response(in_response_to, sign=True, status="urn:oasis:names:tc:SAML:2.0:status:Success"):
            now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            xml = (f'<samlp:LogoutResponse xmlns:samlp="{NS["samlp"]}" xmlns:saml="{NS["saml"]}" ID="_r{os.urandom(8).hex()}"'
                   f' Version="2.0" IssueInstant="{now}" Destination="{slo_url}" InResponseTo="{in_response_to}">'
                   f'<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">{SP_ID}</saml:Issuer>'
                   f'<samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status></samlp:LogoutResponse>')
            info = client.apply_binding(BINDING_HTTP_REDIRECT, xml, slo_url, q["RelayState"], response=True,
                                        sign=sign, sigalg=SIG_RSA_SHA256)
            return dict(info["headers"])["Location"]

        st, _, body = no_redirect_get(sp_logout_response(out["id"], sign=False))
        e = state()["logout_responses"][-1]
        check("SP LogoutResponse unsigned -> 400, recorded", st == 400 and e["signature_ok"] is False
              and e["in_response_to"] == out["id"], f"HTTP {st} signature_ok={e['signature_ok']}")
        st, _, body = no_redirect_get(sp_logout_response(out["id"]))
        e = state()["logout_responses"][-1]
        check("SP LogoutResponse signed -> 200 Logged out", st == 200 and b"Logged out" in body and e["signature_ok"]
              and e["in_response_to"] == out["id"] and e["status"].endswith(":Success") and e["error"] is None,
              f"HTTP {st} {json.dumps({k: e[k] for k in ('in_response_to', 'status', 'signature_ok', 'error')})[:100]}")
        check("session forgotten after IdP-initiated logout",
              all(x["name_id"] != nid.text for x in state()["sessions"].get(SP_ID, [])))
        st, _, body = no_redirect_get(sp_logout_response("_never_sent"))
        check("SP LogoutResponse to an unknown request -> 400", st == 400, f"HTTP {st} {body.decode().strip()[:70]}")


def main() -> int:
    work = tempfile.mkdtemp(prefix="counterparts-selfcheck-")
    failures = []
    py = sys.executable

    # ---------------------------------------------------------------- IdP
    t0 = time.time()
    idp = subprocess.Popen([py, os.path.join(HERE, "saml", "idp.py")], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ready = json.loads(idp.stdout.readline())
    print(f"idp.py ready in {time.time() - t0:.2f}s: {ready['entity_id']}")
    base = ready["entity_id"].rsplit("/", 1)[0]
    _, md = http("GET", ready["metadata_url"])
    with open(f"{work}/idp-md.xml", "wb") as f:
        f.write(md)
    c = re.findall(rb"<ds:X509Certificate>(.*?)</ds:X509Certificate>", md, re.S)[-1]
    b = b"".join(c.split()).decode()
    with open(f"{work}/idp.crt", "w") as f:
        f.write("-----BEGIN CERTIFICATE-----\n" + "\n".join(b[i:i + 64] for i in range(0, len(b), 64))
                + "\n-----END CERTIFICATE-----\n")
    idp_crt = f"{work}/idp.crt"
    md_ok = subprocess.run(["xmlsec1", "--verify", "--pubkey-cert-pem", idp_crt, "--enabled-key-data", "rsa",
                            "--id-attr:ID", "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor",
                            f"{work}/idp-md.xml"], capture_output=True).returncode == 0
    if not md_ok:
        failures.append("IdP metadata signature does not verify")

    sp_cert = keycert(work, "sp", "sportello.test")
    spmd = sp_metadata(sp_cert)
    st, body = http("POST", base + "/__admin/sp", spmd.encode())
    if st != 200:
        failures.append(f"register SP: HTTP {st} {body!r}")

    conf = SPConfig()
    conf.load({
        "entityid": SP_ID, "key_file": f"{work}/sp.key", "cert_file": f"{work}/sp.crt",
        "metadata": {"local": [f"{work}/idp-md.xml"]}, "accepted_time_diff": 60, "allow_unknown_attributes": True,
        "service": {"sp": {"endpoints": {"assertion_consumer_service": [(ACS, BINDING_HTTP_POST)],
                                         "single_logout_service": [(SLO, BINDING_HTTP_REDIRECT)]},
                           "want_response_signed": False, "want_assertions_signed": True,
                           "authn_requests_signed": True, "name_id_format": NAMEID_FORMAT_TRANSIENT}},
    })
    client = Saml2Client(conf)

    def login(mutation=None, binding=BINDING_HTTP_REDIRECT, level_req="https://www.spid.gov.it/SpidL2",
              tamper=None, attr_index=0, admin=None):
        if admin is not False:
            http("POST", base + "/__admin/next", json.dumps(admin or {"mutation": mutation}).encode(),
                 "application/json")
        rac = RequestedAuthnContext(authn_context_class_ref=[AuthnContextClassRef(text=level_req)], comparison="minimum")
        reqid, info = client.prepare_for_authenticate(
            entityid=ready["entity_id"], relay_state=RELAY, binding=binding, sign=True, sigalg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256, requested_authn_context=rac, attribute_consuming_service_index=str(attr_index))
        if binding == BINDING_HTTP_REDIRECT:
            loc = dict(info["headers"])["Location"]
            st, body = http("GET", tamper(loc) if tamper else loc)
        else:
            saml_req = html.unescape(re.search(r'name="SAMLRequest" value="([^"]*)"', info["data"]).group(1))
            form = urllib.parse.urlencode({"SAMLRequest": tamper(saml_req) if tamper else saml_req, "RelayState": RELAY})
            st, body = http("POST", ready["sso_post_url"], form.encode(), "application/x-www-form-urlencoded")
        return reqid, st, body

    def examine(label, mutation, reqid, st, body, sent_at, extra=None):
        exp_sigs, exp, exp_accept = EXPECT[mutation]
        exp = {**exp, **(extra or {})}
        problems = []
        if st != 200:
            failures.append(f"{label}: HTTP {st} {body[:200]!r}")
            print(f"{label:30} HTTP {st}")
            return
        m = FORM.search(body.decode())
        if not m:
            failures.append(f"{label}: no auto-post form")
            return
        action, resp_b64, relay = (html.unescape(x) for x in m.groups())
        xml = base64.b64decode(resp_b64)
        path = f"{work}/response-{label}.xml"
        with open(path, "wb") as f:
            f.write(xml)
        if http("GET", base + "/__admin/last")[1] != xml:
            problems.append("/__admin/last differs")
        root = etree.fromstring(xml, etree.XMLParser(resolve_entities=False, load_dtd=False))
        sigs = []
        for k, s in enumerate(root.iter("{%s}Signature" % NS["ds"]), 1):
            parent = s.getparent()
            owner = etree.QName(parent).localname
            if parent.getparent() is not None and etree.QName(parent.getparent()).localname == "Extensions":
                owner = "Extensions/" + owner
            alg = s.find("ds:SignedInfo/ds:SignatureMethod", NS).get("Algorithm").rsplit("#", 1)[1]
            if s.find("ds:SignedInfo/ds:Reference", NS).get("URI") != "#" + parent.get("ID"):
                problems.append(f"signature #{k} does not reference its parent")
            state = "OK" if xmlsec_verify(path, k, idp_crt) else ("OTHER-KEY" if xmlsec_verify(path, k) else "BAD")
            sigs.append(f"{owner}:{alg}:{state}")
        if sigs != exp_sigs:
            problems.append(f"signatures {sigs} != {exp_sigs}")

        assertions = root.findall(".//saml:Assertion", NS)
        a = root.find("saml:Assertion", NS)

        def val(el, path, attr=None):
            if el is None:
                return None
            e = el.find(path, NS) if path else el
            if e is None:
                return None
            return e.get(attr) if attr else e.xpath("string()")

        status_el = root.find("samlp:Status/samlp:StatusCode", NS)
        sub_el = status_el.find("samlp:StatusCode", NS)
        got = {
            "version": root.get("Version"),
            "destination": root.get("Destination"),
            "irt": root.get("InResponseTo"),
            "issuer": val(root, "saml:Issuer"),
            "status": status_el.get("Value").rsplit(":", 1)[1] + ("/" + sub_el.get("Value").rsplit(":", 1)[1] if sub_el is not None else ""),
            "message": val(root, "samlp:Status/samlp:StatusMessage"),
            "assertions": len(assertions),
            "assertion_issuer": val(a, "saml:Issuer"),
            "audience": val(a, "saml:Conditions/saml:AudienceRestriction/saml:Audience"),
            "recipient": val(a, "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", "Recipient"),
            "scd_irt": val(a, "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", "InResponseTo"),
            "nameid_format": val(a, "saml:Subject/saml:NameID", "Format"),
            "level": val(a, "saml:AuthnStatement/saml:AuthnContext/saml:AuthnContextClassRef"),
            "cf": ",".join(v.xpath("string()") for v in root.xpath(
                "//saml:Attribute[@Name='fiscalNumber']/saml:AttributeValue", namespaces=NS)) or None,
            "attrs": [at.get("Name") for at in a.iterfind(".//saml:Attribute", NS)] if a is not None else [],
            "doctype": b"<!DOCTYPE" in xml,
            "comment": None,
        }
        for tag in ("NameID", "AttributeValue"):
            if re.search(rb"<saml:" + tag.encode() + rb"[^>]*>[^<]*<!---->", xml):
                got["comment"] = tag
        normal = {
            "version": "2.0", "destination": ACS, "irt": reqid, "issuer": ready["entity_id"], "status": "Success",
            "message": None, "assertions": 1, "assertion_issuer": ready["entity_id"], "audience": SP_ID,
            "recipient": ACS, "scd_irt": reqid, "nameid_format": NAMEID_FORMAT_TRANSIENT,
            "level": "https://www.spid.gov.it/SpidL2", "cf": CF, "doctype": False, "comment": None,
            "attrs": ["fiscalNumber", "name", "familyName", "email"],
        }
        if mutation == "status_authn_failed":
            for k in ("assertion_issuer", "audience", "recipient", "scd_irt", "nameid_format", "level", "cf"):
                normal[k] = None
            normal["attrs"] = []
        timing = {k: exp.pop(k) for k in ("issue_instant", "not_before", "not_on_or_after", "scd_not_on_or_after")
                  if k in exp}
        for k, want in {**normal, **exp}.items():
            if want == "other":
                ok = got[k] not in (None, reqid)
            else:
                ok = got[k] == want
            if not ok:
                problems.append(f"{k}={got[k]!r} (want {want!r})")
        # times: all "now" unless the mutation moves them
        ii = parse_time(root.get("IssueInstant"))
        want_shift = timing.get("issue_instant", 0)
        if abs((ii - sent_at).total_seconds() - want_shift) > 5:
            problems.append(f"IssueInstant {root.get('IssueInstant')}")
        if a is not None:
            if a.get("IssueInstant") != root.get("IssueInstant"):
                problems.append("assertion IssueInstant differs")
            cond = a.find("saml:Conditions", NS)
            nb, noa = parse_time(cond.get("NotBefore")), parse_time(cond.get("NotOnOrAfter"))
            scd_noa = parse_time(val(a, "saml:Subject/saml:SubjectConfirmation/saml:SubjectConfirmationData", "NotOnOrAfter"))
            for name, t, want in (("NotBefore", nb, timing.get("not_before", 0)),
                                  ("NotOnOrAfter", noa, timing.get("not_on_or_after", 300)),
                                  ("SubjectConfirmationData NotOnOrAfter", scd_noa, timing.get("scd_not_on_or_after", 300))):
                if abs((t - sent_at).total_seconds() - want) > 5:
                    problems.append(f"{name} {t.isoformat()} (want now{want:+d}s)")
        if action != ACS:
            problems.append(f"form action {action}")
        if relay != RELAY:
            problems.append(f"RelayState {relay!r}")
        try:
            resp = client.parse_authn_request_response(resp_b64, BINDING_HTTP_POST, outstanding={reqid: "/"})
            accepted = resp is not None
            who = resp.get_identity().get("fiscalNumber", ["?"])[0] if accepted else ""
        except Exception as e:
            accepted, who = False, type(e).__name__
        if exp_accept is not None and accepted != exp_accept:
            problems.append(f"pysaml2 SP {'accepted' if accepted else 'rejected'} it ({who})")
        flag = "ok " if not problems else "BAD"
        shown = {k: got[k] for k in ("destination", "issuer", "irt", "scd_irt", "assertion_issuer", "audience", "recipient",
                                     "version", "nameid_format", "level", "cf", "status") if got[k] != normal.get(k)}
        if got["irt"] not in (None, reqid):
            shown["irt"] = "(another ID)"
        if got["scd_irt"] not in (None, reqid):
            shown["scd_irt"] = "(another ID)"
        for k in ("assertions", "doctype", "comment"):
            if got[k] != normal[k]:
                shown[k] = got[k]
        if timing:
            shown["times"] = " ".join(f"{k}{v:+d}s" for k, v in timing.items())
        print(f"{flag} {label:30} sigs={' '.join(sigs) or '(none)'}")
        print(f"    {'':30} {json.dumps(shown, ensure_ascii=False) if shown else '(all fields normal)'}"
              f"  pysaml2-SP: {'ACCEPT ' + who if accepted else 'reject (' + who + ')'}")
        if problems:
            failures.append(f"{label}: " + "; ".join(problems))

    print("\nresponses (signature states: OK = verifies with the IdP cert from its metadata; OTHER-KEY = only with"
          " the cert in its own KeyInfo):")
    for mutation in EXPECT:
        sent = dt.datetime.now(dt.timezone.utc)
        reqid, st, body = login(mutation)
        examine(mutation or "normal", mutation, reqid, st, body, sent)
    # mutations are one-shot: the next login is normal again
    def now():
        return dt.datetime.now(dt.timezone.utc)

    login("unsigned")  # consumes the one-shot mutation...
    sent = now()
    reqid, st, body = login(admin=False)  # ...so the next login, with no /__admin/next call, is normal
    examine("normal after a one-shot", None, reqid, st, body, sent)
    sent = now()
    reqid, st, body = login(binding=BINDING_HTTP_POST)
    examine("normal (HTTP-POST binding)", None, reqid, st, body, sent)
    sent = now()
    reqid, st, body = login(level_req="https://www.spid.gov.it/SpidL1")
    examine("normal (SpidL1 requested)", None, reqid, st, body, sent, {"level": "https://www.spid.gov.it/SpidL1"})
    sent = now()
    reqid, st, body = login(admin={"level": "https://www.spid.gov.it/SpidL3"})
    examine("level forced to SpidL3", None, reqid, st, body, sent, {"level": "https://www.spid.gov.it/SpidL3"})
    other_user = {"fiscalNumber": "TINIT-BNCLRA85T41F205Y", "name": "Laura", "familyName": "Bianchi"}
    sent = now()
    reqid, st, body = login(admin={"level": None, "user": other_user})
    examine("another user", None, reqid, st, body, sent,
            {"cf": other_user["fiscalNumber"], "attrs": ["fiscalNumber", "name", "familyName"]})
    http("POST", base + "/__admin/next", json.dumps({"user": {"fiscalNumber": CF, "name": "Mario", "familyName": "Rossi",
                                                               "email": "mario@example.org"}}).encode())
    sent = now()
    reqid, st, body = login(attr_index=1)
    examine("AttributeConsumingService 1", None, reqid, st, body, sent, {"attrs": ["fiscalNumber"]})

    print("\nrequests the IdP must refuse:")

    def with_query(loc, fn):
        u = urllib.parse.urlsplit(loc)
        return urllib.parse.urlunsplit(u._replace(query=urllib.parse.urlencode(fn(urllib.parse.parse_qsl(u.query)))))

    def flip(v):
        raw = base64.b64decode(v)
        return base64.b64encode(bytes([raw[0] ^ 1]) + raw[1:]).decode()

    cases = [
        ("redirect: signature bit flipped", BINDING_HTTP_REDIRECT,
         lambda loc: with_query(loc, lambda q: [(k, flip(v) if k == "Signature" else v) for k, v in q])),
        ("redirect: unsigned", BINDING_HTTP_REDIRECT,
         lambda loc: with_query(loc, lambda q: [(k, v) for k, v in q if k not in ("Signature", "SigAlg")])),
        ("redirect: RelayState altered", BINDING_HTTP_REDIRECT, lambda loc: loc.replace("RelayState=", "RelayState=X")),
        ("post: signed content altered", BINDING_HTTP_POST,
         lambda b: base64.b64encode(base64.b64decode(b).replace(b'AttributeConsumingServiceIndex="0"',
                                                                b'AttributeConsumingServiceIndex="1"')).decode()),
    ]
    for label, binding, tamper in cases:
        _, st, body = login(binding=binding, tamper=tamper)
        print(f"  {'ok ' if st == 400 else 'BAD'} {label:38} HTTP {st} {body.decode(errors='replace').strip()[:90]}")
        if st != 400:
            failures.append(f"{label}: HTTP {st}")
    # the same SP re-registered with another certificate: its old signatures no longer pass
    http("POST", base + "/__admin/sp", sp_metadata(keycert(work, "sp2", "other")).encode())
    for binding in (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST):
        _, st, body = login(binding=binding)
        label = f"{'redirect' if binding == BINDING_HTTP_REDIRECT else 'post'}: SP re-registered, new cert"
        print(f"  {'ok ' if st == 400 else 'BAD'} {label:38} HTTP {st} {body.decode(errors='replace').strip()[:90]}")
        if st != 400:
            failures.append(f"{label}: HTTP {st}")
    http("POST", base + "/__admin/sp", spmd.encode())
    conf2 = SPConfig()
    conf2.load({"entityid": "https://unknown.test/md", "key_file": f"{work}/sp.key", "cert_file": f"{work}/sp.crt",
                "metadata": {"local": [f"{work}/idp-md.xml"]},
                "service": {"sp": {"endpoints": {"assertion_consumer_service": [(ACS, BINDING_HTTP_POST)]}}}})
    _, info = Saml2Client(conf2).prepare_for_authenticate(entityid=ready["entity_id"], relay_state="r", sign=True,
                                                          binding=BINDING_HTTP_REDIRECT, sigalg=SIG_RSA_SHA256,
                                                          digest_alg=DIGEST_SHA256)
    st, body = http("GET", dict(info["headers"])["Location"])
    print(f"  {'ok ' if st == 400 else 'BAD'} {'redirect: unknown SP':38} HTTP {st} {body.decode().strip()[:90]}")
    if st != 400:
        failures.append(f"unknown SP: HTTP {st}")
    st, _ = http("POST", base + "/__admin/next", b'{"mutation":"nope"}')
    if st != 400:
        failures.append("unknown mutation accepted")

    slo_checks(client, base, ready, idp_crt, work, login, failures)

    t1 = time.time()
    idp.stdin.close()
    rc = idp.wait(10)
    print(f"\nidp.py exit on stdin EOF: rc={rc} after {time.time() - t1:.2f}s")
    if rc != 0:
        failures.append(f"idp.py exit code {rc}")

    # ---------------------------------------------------------------- SMTP sink
    mail_dir = os.path.join(work, "mail")
    t0 = time.time()
    sink = subprocess.Popen([py, os.path.join(HERE, "smtp", "sink.py"), "--dir", mail_dir],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    port = json.loads(sink.stdout.readline())["port"]
    print(f"sink.py ready in {time.time() - t0:.2f}s on port {port}")
    msg = ("From: Sportello <noreply@sportello.test>\r\nTo: mario@example.org\r\nSubject: Prova\r\n"
           "Content-Type: text/plain; charset=utf-8\r\n\r\nCiao Mario, è tutto a posto.\r\n.riga con punto\r\n").encode()
    with smtplib.SMTP("127.0.0.1", port) as s:
        s.sendmail("noreply@sportello.test", ["mario@example.org", "anna@example.org"], msg)
    files = sorted(os.listdir(mail_dir))
    same = all(open(os.path.join(mail_dir, f), "rb").read() == msg for f in files)
    print(f"  {'ok ' if files == ['000001-mario@example.org.eml', '000002-anna@example.org.eml'] and same else 'BAD'}"
          f" files {files}, bytes identical: {same}")
    if files != ["000001-mario@example.org.eml", "000002-anna@example.org.eml"] or not same:
        failures.append(f"sink files {files} identical={same}")
    sink.stdin.close()
    rc = sink.wait(10)
    if rc != 0:
        failures.append(f"sink.py exit code {rc}")

    print()
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures))
        print(f"(responses kept in {work})")
        return 1
    shutil.rmtree(work, ignore_errors=True)
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
