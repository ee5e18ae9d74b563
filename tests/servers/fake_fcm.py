"""A local stand-in for FCM HTTP v1 and Google's OAuth2 token endpoint (plain HTTP, twisted.web).

* ``POST /token`` (the service account's ``token_uri``) → ``{"access_token": "test-token", ...}``.
* ``POST /v1/projects/<project>/messages:send`` with ``Authorization: Bearer test-token`` and
  ``{"message": {"token", "notification", "data", "android"}}`` → 200 ``{"name": ...}``;
  tokens in :attr:`unregistered` → 404 ``UNREGISTERED``; :attr:`fail_times[token]` → that many 503s.
* :meth:`hold` makes every request after the first ``n`` accepted ones wait (not recorded) until
  :meth:`release` — used to kill a client mid-batch.
"""

from __future__ import annotations

import json
from typing import Optional

from twisted.internet import defer
from twisted.web import resource, server


class FakeFcm(resource.Resource):
    isLeaf = True

    def __init__(self):
        super().__init__()
        self.messages: list[dict] = []  # accepted: {"project", "auth", "message"}
        self.rejected: list[dict] = []
        self.unregistered: set[str] = set()
        self.fail_times: dict[str, int] = {}
        self.token_requests = 0
        self._hold_after: Optional[int] = None
        self._held: list = []
        self._waiters: list = []
        self.port = None

    # -- control
    def hold(self, after: int) -> None:
        self._hold_after = after

    def release(self) -> None:
        self._hold_after = None
        held, self._held = self._held, []
        for req, body in held:
            if not getattr(req, "_gone", False):
                self._answer(req, body)

    @property
    def held(self) -> int:
        return len(self._held)

    @property
    def held_open(self) -> int:
        """Held requests whose client is still connected (a killed client's are dropped by :meth:`release`)."""
        return sum(1 for req, _ in self._held if not getattr(req, "_gone", False))

    def wait(self, count: int, timeout: float = 10.0):
        from twisted.internet import reactor

        d = defer.Deferred()
        self._waiters.append((count, d))
        self._notify()
        return d.addTimeout(timeout, reactor)

    def _notify(self):
        for count, d in list(self._waiters):
            if len(self.messages) >= count and not d.called:
                self._waiters.remove((count, d))
                d.callback(list(self.messages))

    # -- HTTP
    def render_POST(self, request):
        path = request.path.decode()
        body = request.content.read()
        if path == "/token":
            self.token_requests += 1
            request.setHeader(b"content-type", b"application/json")
            return json.dumps({"access_token": "test-token", "expires_in": 3600, "token_type": "Bearer"}).encode()
        if self._hold_after is not None and len(self.messages) >= self._hold_after:
            self._held.append((request, body))
            request.notifyFinish().addErrback(lambda _: setattr(request, "_gone", True))
            return server.NOT_DONE_YET
        return self._answer(request, body, direct=True)

    def _answer(self, request, body, direct=False):
        path = request.path.decode()
        request.setHeader(b"content-type", b"application/json")
        auth = (request.getHeader(b"authorization") or b"").decode()
        out = self._reply(path, auth, body, request)
        if direct:
            return out
        request.write(out)
        request.finish()

    def _reply(self, path, auth, body, request):
        if not (path.startswith("/v1/projects/") and path.endswith("/messages:send")):
            request.setResponseCode(404)
            return b'{"error": {"code": 404, "status": "NOT_FOUND"}}'
        if auth != "Bearer test-token":
            request.setResponseCode(401)
            return b'{"error": {"code": 401, "status": "UNAUTHENTICATED"}}'
        msg = json.loads(body)["message"]
        token = msg.get("token")
        project = path.split("/")[3]
        if token in self.unregistered:
            self.rejected.append({"project": project, "message": msg, "code": 404})
            request.setResponseCode(404)
            return json.dumps({"error": {"code": 404, "status": "NOT_FOUND", "message": "Requested entity was not found.",
                                         "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                                                      "errorCode": "UNREGISTERED"}]}}).encode()
        if self.fail_times.get(token, 0) > 0:
            self.fail_times[token] -= 1
            self.rejected.append({"project": project, "message": msg, "code": 503})
            request.setResponseCode(503)
            return b'{"error": {"code": 503, "status": "UNAVAILABLE"}}'
        self.messages.append({"project": project, "auth": auth, "message": msg})
        self._notify()
        return json.dumps({"name": f"projects/{project}/messages/0:{len(self.messages)}"}).encode()

    # -- lifecycle
    def start(self, reactor=None, port: int = 0) -> "FakeFcm":
        if reactor is None:
            from twisted.internet import reactor  # type: ignore[no-redef]
        self._listening = reactor.listenTCP(port, server.Site(self), interface="127.0.0.1")
        self.port = self._listening.getHost().port
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self):
        self.release()
        return defer.maybeDeferred(self._listening.stopListening)
