"""A local stand-in for APNs: TLS + HTTP/2 (Twisted ``listenSSL``, ALPN h2), self-signed cert.

``POST /3/device/<token>``: checks the ``authorization: bearer <JWT>`` (ES256, ``kid``,
``iss`` = team id) against the test's public key, echoes ``apns-id``; 200 with an empty body.
Tokens in :attr:`unregistered` → 410 ``{"reason": "Unregistered"}``; in :attr:`bad` → 400
``BadDeviceToken``. Every request is recorded with its HTTP version (``HTTP/2``).
"""

from __future__ import annotations

import datetime
import ipaddress
import json
from pathlib import Path

from twisted.internet import defer
from twisted.web import resource, server


def make_self_signed(dirpath: Path) -> tuple[Path, Path]:
    """(cert.pem, key.pem) for CN=localhost with SANs localhost, 127.0.0.1, api.push.apple.com."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.DNSName("api.push.apple.com"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = dirpath / "apns-cert.pem", dirpath / "apns-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def make_signing_key() -> tuple[bytes, bytes]:
    """(private PEM, public PEM) of a P-256 key, like an APNs .p8 auth key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    k = ec.generate_private_key(ec.SECP256R1())
    priv = k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    pub = k.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return priv, pub


class FakeApns(resource.Resource):
    isLeaf = True

    def __init__(self, public_key_pem: bytes, team_id: str, key_id: str):
        super().__init__()
        self.public_key_pem = public_key_pem
        self.team_id = team_id
        self.key_id = key_id
        self.requests: list[dict] = []
        self.unregistered: set[str] = set()
        self.bad: set[str] = set()
        self.port = None

    def render_POST(self, request):
        import jwt

        path = request.path.decode()
        body = request.content.read()
        headers = {k.decode().lower(): v[0].decode() for k, v in request.requestHeaders.getAllRawHeaders()}
        apns_id = headers.get("apns-id", "")
        request.setHeader(b"apns-id", apns_id.encode())
        rec = {"path": path, "proto": request.clientproto.decode(), "headers": headers, "body": json.loads(body or b"{}")}
        self.requests.append(rec)
        auth = headers.get("authorization", "")
        try:
            tok = auth.split(" ", 1)[1]
            if jwt.get_unverified_header(tok).get("kid") != self.key_id:
                raise ValueError("kid")
            claims = jwt.decode(tok, self.public_key_pem, algorithms=["ES256"])
            if claims.get("iss") != self.team_id:
                raise ValueError("iss")
            rec["claims"] = claims
        except Exception:
            request.setResponseCode(403)
            return b'{"reason": "InvalidProviderToken"}'
        token = path.rsplit("/", 1)[-1]
        if token in self.unregistered:
            request.setResponseCode(410)
            return b'{"reason": "Unregistered", "timestamp": 1700000000000}'
        if token in self.bad:
            request.setResponseCode(400)
            return b'{"reason": "BadDeviceToken"}'
        rec["accepted"] = True
        return b""

    @property
    def accepted(self) -> list[dict]:
        return [r for r in self.requests if r.get("accepted")]

    def start(self, cert_path: Path, key_path: Path, reactor=None) -> "FakeApns":
        from OpenSSL import crypto
        from twisted.internet import ssl

        if reactor is None:
            from twisted.internet import reactor  # type: ignore[no-redef]
        cert = crypto.load_certificate(crypto.FILETYPE_PEM, cert_path.read_bytes())
        key = crypto.load_privatekey(crypto.FILETYPE_PEM, key_path.read_bytes())
        opts = ssl.CertificateOptions(privateKey=key, certificate=cert, acceptableProtocols=[b"h2", b"http/1.1"])
        self._listening = reactor.listenSSL(0, server.Site(self), opts, interface="127.0.0.1")
        self.port = self._listening.getHost().port
        return self

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def stop(self):
        return defer.maybeDeferred(self._listening.stopListening)
