"""A real HAProxy (Debian's ``haproxy`` package, installed by ./setup.sh) in front of backends.

* ``haproxy_factory`` → ``make(backends, health_path="/bws/api/v1/health", **options)``
  returns a started :class:`Haproxy`; every one made in the test is stopped afterwards.
  ``backends`` is a list of ports (servers named ``s0``, ``s1``, … in that order) or a
  ``{name: port}`` dict. Options: ``inter_ms`` (health check interval, default 200),
  ``fall``/``rise`` (consecutive failed/passed checks that take a server down/up, default
  2/2), ``balance`` (default ``roundrobin``), ``forwardfor`` (add ``X-Forwarded-For``, as a
  real deployment does; default True), ``extra_backend`` (more lines for the backend
  section, e.g. ``["retries 2", "option redispatch"]``), ``wait_checked`` (default True:
  ``make`` returns once every server has had its first health check, so states are real).

:class:`Haproxy`: ``port``, ``url`` (``http://127.0.0.1:PORT``), ``admin_port``,
``config_path``, ``log_path`` (HAProxy's own log and one access-log line per request);
``servers()`` → ``{name: row}`` from the admin socket's ``show stat`` (CSV columns as
HAProxy names them: ``status`` ``UP``/``DOWN``/``MAINT``/``UP 1/2`` (going down)…,
``check_status`` ``L7OK``/``L7STS``/``L4CON``… of the last finished check (HAProxy's
``* `` in-progress prefix moved to ``check_running``), ``check_code``, ``stot`` requests
sent to it, ``lastchg``…); ``status(name)``; ``wait_status(name, "DOWN", timeout)``;
``set_state(name, "ready"|"drain"|"maint")``; ``command(line)`` for any other admin
command (``show servers state``, ``disable health bws/s0``…); ``stop()``.
Each response carries ``X-Served-By: <server name>`` so a test sees which backend served it.

The health check is ``GET <health_path>``, up when it answers 200 — the API's
``GET <basePath>/v1/health`` (503 while a readiness check fails).

HAProxy runs in the foreground (``-db``) as a :class:`tests.servers.proc.ManagedProcess`, so
it is a child the test owns; a missing binary fails naming ./setup.sh, never skips.
"""

from __future__ import annotations

import csv
import io
import socket
import tempfile
import time
from pathlib import Path
from typing import Iterable, Mapping, Optional, Union

import pytest

from tests.servers.proc import ManagedProcess, free_port, port_open, require_binary

#: The backend section's name in the generated configuration (``show stat`` pxname).
BACKEND = "bws"

Backends = Union[Iterable[int], Mapping[str, int]]


class Haproxy:
    """One HAProxy process: frontend on a free 127.0.0.1 port, one round-robin backend."""

    def __init__(
        self,
        backends: Backends,
        workdir: Path,
        health_path: str = "/bws/api/v1/health",
        inter_ms: int = 200,
        fall: int = 2,
        rise: int = 2,
        balance: str = "roundrobin",
        forwardfor: bool = True,
        extra_backend: Iterable[str] = (),
    ):
        if isinstance(backends, Mapping):
            self.backends = {str(k): int(v) for k, v in backends.items()}
        else:
            self.backends = {f"s{i}": int(p) for i, p in enumerate(backends)}
        if not self.backends:
            raise ValueError("haproxy: at least one backend port is needed")
        if not health_path.startswith("/"):
            raise ValueError(f"haproxy: health_path must start with '/', got {health_path!r}")
        self.workdir = Path(workdir)
        self.health_path = health_path
        self.inter_ms = inter_ms
        self.fall = fall
        self.rise = rise
        self.balance = balance
        self.forwardfor = forwardfor
        self.extra_backend = list(extra_backend)
        self.port = free_port()
        self.admin_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config_path = self.workdir / "haproxy.cfg"
        self.proc: Optional[ManagedProcess] = None

    def config(self) -> str:
        """The configuration file text (HAProxy 2.6 syntax)."""
        servers = "\n".join(f"    server {name} 127.0.0.1:{port}" for name, port in self.backends.items())
        extra = "".join(f"    {line}\n" for line in self.extra_backend)
        return f"""\
global
    # foreground, as the test user: no chroot, no user switch, no pid file (unlike Debian's default)
    log stdout format raw local0 info
    stats socket ipv4@127.0.0.1:{self.admin_port} level admin
    maxconn 512

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout check 2s

frontend api
    bind 127.0.0.1:{self.port}
    default_backend {BACKEND}

backend {BACKEND}
    balance {self.balance}
{"    option forwardfor" + chr(10) if self.forwardfor else ""}\
    option httpchk
    http-check send meth GET uri {self.health_path}
    http-check expect status 200
    http-response set-header X-Served-By %[srv_name]
    default-server check inter {self.inter_ms}ms fall {self.fall} rise {self.rise}
{extra}{servers}
"""

    def start(self, wait_checked: bool = True, timeout: float = 15.0) -> "Haproxy":
        haproxy = require_binary("haproxy", "/usr/sbin/haproxy")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.config())
        self.proc = ManagedProcess(
            "haproxy",
            [haproxy, "-db", "-f", str(self.config_path)],
            ready=lambda: port_open(self.port) and bool(self.command("show info")),
            log_dir=self.workdir,
            timeout=timeout,
        ).start()
        if wait_checked:
            self._wait(
                lambda: all(r["check_status"] not in ("", "INI") for r in self.servers().values()),
                timeout,
                "every server's first health check",
            )
        return self

    @property
    def log_path(self) -> Path:
        return self.proc.log_path

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except (OSError, AttributeError):
            return ""

    def command(self, line: str, timeout: float = 5.0) -> str:
        """One admin-socket command (HAProxy management guide §9.3); its text answer."""
        with socket.create_connection(("127.0.0.1", self.admin_port), timeout=timeout) as s:
            s.sendall(line.encode() + b"\n")
            chunks = []
            while chunk := s.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode()

    def servers(self) -> dict[str, dict[str, str]]:
        """``{server name: show stat row}`` for the backend's servers."""
        text = self.command("show stat")
        if not text.startswith("# "):
            raise RuntimeError(f"haproxy: unexpected 'show stat' answer: {text[:200]!r}")
        servers = {}
        for r in csv.DictReader(io.StringIO(text[2:])):
            if r["pxname"] != BACKEND or r["svname"] in ("FRONTEND", "BACKEND"):
                continue
            # "* L7OK": the "* " prefix only means a check is running right now
            r["check_running"] = r["check_status"].startswith("* ")
            r["check_status"] = r["check_status"].removeprefix("* ")
            servers[r["svname"]] = r
        return servers

    def status(self, name: str) -> str:
        """``UP``, ``DOWN``, ``MAINT``, ``DRAIN``, or a transition such as ``UP 1/2``."""
        return self.servers()[name]["status"]

    def wait_status(self, name: str, status: str, timeout: float = 10.0) -> dict[str, str]:
        """Poll until server ``name`` shows exactly ``status``; its row. TimeoutError otherwise."""
        if name not in self.backends:
            raise KeyError(f"haproxy: no server {name!r} (have {sorted(self.backends)})")
        return self._wait(
            lambda: (r := self.servers()[name])["status"] == status and r, timeout, f"server {name} {status}"
        )

    def set_state(self, name: str, state: str) -> None:
        """Admin state of a server: ``ready``, ``drain`` (no new requests) or ``maint``."""
        if state not in ("ready", "drain", "maint"):
            raise ValueError(f"haproxy: state must be ready, drain or maint, got {state!r}")
        answer = self.command(f"set server {BACKEND}/{name} state {state}").strip()
        if answer:
            raise RuntimeError(f"haproxy: set server {name} state {state}: {answer}")

    def _wait(self, predicate, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return last
            time.sleep(0.05)
        rows = {n: (r["status"], r["check_status"], r["check_code"]) for n, r in self.servers().items()}
        raise TimeoutError(f"haproxy: {what} not reached in {timeout}s; servers {rows}; log:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc:
            self.proc.stop()


@pytest.fixture
def haproxy_factory(tmp_path_factory):
    started: list[Haproxy] = []

    def make(backends: Backends, health_path: str = "/bws/api/v1/health", wait_checked: bool = True, **options):
        # a directory of its own per proxy: config and log side by side for post-mortems
        lb = Haproxy(backends, Path(tempfile.mkdtemp(prefix="haproxy-", dir=tmp_path_factory.getbasetemp())),
                     health_path=health_path, **options)
        started.append(lb)
        return lb.start(wait_checked=wait_checked)

    yield make
    for lb in started:
        lb.stop()
