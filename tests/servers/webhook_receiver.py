"""A local webhook receiver (plain HTTP, twisted.web) that verifies signatures.

Every POST is recorded as ``{"path", "headers", "body" (bytes), "valid" (signature ok),
"code"}``. ``fail_first = n`` answers the first ``n`` POSTs with 500; later ones get 200.
"""

from __future__ import annotations

import hashlib
import hmac

from twisted.internet import defer
from twisted.web import resource, server


class WebhookReceiver(resource.Resource):
    isLeaf = True

    def __init__(self, secret: str = ""):
        super().__init__()
        self.secret = secret
        self.fail_first = 0
        self.requests: list[dict] = []
        self.port = None

    def _valid(self, headers: dict, body: bytes) -> bool:
        ts = headers.get("x-bws-timestamp", "")
        sig = headers.get("x-bws-signature", "")
        mac = hmac.new(self.secret.encode(), ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        return bool(self.secret) and hmac.compare_digest("sha256=" + mac, sig)

    def render_POST(self, request):
        body = request.content.read()
        headers = {k.decode().lower(): v[0].decode() for k, v in request.requestHeaders.getAllRawHeaders()}
        code = 500 if len(self.requests) < self.fail_first else 200
        self.requests.append(
            {"path": request.path.decode(), "headers": headers, "body": body, "valid": self._valid(headers, body), "code": code}
        )
        request.setResponseCode(code)
        return b"ok" if code == 200 else b"boom"

    @property
    def delivered(self) -> list[dict]:
        return [r for r in self.requests if r["code"] == 200]

    def start(self, reactor=None, tls=None) -> "WebhookReceiver":
        """Listen on 127.0.0.1 (plain HTTP, or TLS with ``tls``: (cert.pem, key.pem) paths)."""
        if reactor is None:
            from twisted.internet import reactor  # type: ignore[no-redef]
        if tls is None:
            self._listening = reactor.listenTCP(0, server.Site(self), interface="127.0.0.1")
        else:
            from OpenSSL import crypto
            from twisted.internet import ssl

            cert = crypto.load_certificate(crypto.FILETYPE_PEM, tls[0].read_bytes())
            key = crypto.load_privatekey(crypto.FILETYPE_PEM, tls[1].read_bytes())
            opts = ssl.CertificateOptions(privateKey=key, certificate=cert)
            self._listening = reactor.listenSSL(0, server.Site(self), opts, interface="127.0.0.1")
        self.port = self._listening.getHost().port
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def stop(self):
        return defer.maybeDeferred(self._listening.stopListening)
