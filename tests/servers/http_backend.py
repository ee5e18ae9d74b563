"""A tiny HTTP backend (twisted.web) to stand behind a load balancer in tests.

Run as its own process (so a test may block on HTTP calls without starving it):

    python -m tests.servers.http_backend --port 18001 --name a [--base-path /bws/api]

* ``GET <base-path>/v1/health`` → the current health code (200 ``{"status": "ok"}`` at
  start, or whatever was set) — the path the API's health check uses.
* ``POST /_backend/health?code=503`` → sets the code the health path answers from now on
  (sent straight to the backend's port, not through the balancer).
* anything else under ``<base-path>/`` → 200 JSON ``{"backend": NAME, "method", "path",
  "headers"}`` (headers lower-cased), so a test sees which backend served it and what the
  balancer added; any other path → 404.

:func:`start_backend` starts one as a :class:`tests.servers.proc.ManagedProcess`.
"""

from __future__ import annotations

import argparse
import json
import sys
import urllib.request
from pathlib import Path

from twisted.web import resource, server

from tests.servers.proc import ROOT, ManagedProcess, free_port, port_open


class Backend(resource.Resource):
    isLeaf = True

    def __init__(self, name: str, base_path: str):
        super().__init__()
        self.name = name
        self.base_path = base_path.rstrip("/")
        self.health_path = self.base_path + "/v1/health"
        self.health_code = 200

    def render(self, request):
        path = request.path.decode()
        request.setHeader(b"content-type", b"application/json")
        if path == "/_backend/health" and request.method == b"POST":
            self.health_code = int(request.args[b"code"][0])
            return json.dumps({"backend": self.name, "healthCode": self.health_code}).encode()
        if path.rstrip("/") == self.health_path:
            request.setResponseCode(self.health_code)
            status = "ok" if self.health_code == 200 else "failing"
            return json.dumps({"status": status, "backend": self.name}).encode()
        if not path.startswith(self.base_path + "/"):
            request.setResponseCode(404)
            return json.dumps({"backend": self.name, "error": "not under " + self.base_path}).encode()
        headers = {k.decode().lower(): v[0].decode() for k, v in request.requestHeaders.getAllRawHeaders()}
        return json.dumps(
            {"backend": self.name, "method": request.method.decode(), "path": path, "headers": headers}
        ).encode()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--base-path", default="/bws/api")
    args = parser.parse_args(argv)
    from twisted.internet import reactor

    reactor.listenTCP(args.port, server.Site(Backend(args.name, args.base_path)), interface="127.0.0.1")
    reactor.run()
    return 0


class BackendProcess:
    """Handle on a started backend: ``name``, ``port``, ``url``, ``set_health(code)``, ``stop()``."""

    def __init__(self, name: str, proc: ManagedProcess, port: int):
        self.name = name
        self.proc = proc
        self.port = port
        self.url = f"http://127.0.0.1:{port}"

    def set_health(self, code: int) -> None:
        """Make ``<base-path>/v1/health`` answer ``code`` from now on."""
        req = urllib.request.Request(f"{self.url}/_backend/health?code={int(code)}", method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=5) as r:
            assert json.load(r)["healthCode"] == code

    def stop(self) -> None:
        self.proc.stop()


def start_backend(name: str, log_dir: Path, base_path: str = "/bws/api") -> BackendProcess:
    """Start ``python -m tests.servers.http_backend`` on a free port; ready when it accepts."""
    port = free_port()
    proc = ManagedProcess(
        f"backend-{name}",
        [sys.executable, "-m", "tests.servers.http_backend",
         "--port", str(port), "--name", name, "--base-path", base_path],
        ready=lambda: port_open(port),
        log_dir=log_dir,
        cwd=str(ROOT),
        timeout=20,
    ).start()
    return BackendProcess(name, proc, port)


if __name__ == "__main__":
    sys.exit(main())
