"""Start and stop real local server processes (tests and ``start.sh --dev``).

Every local server (SecantusDB, redis-server, litecoind, ganache, our own
processes) is an OS process on a 127.0.0.1 port. ``ManagedProcess`` starts it,
waits until a readiness probe succeeds, keeps its output in a log file for
post-mortems, and kills the whole process group on stop.

This lives in ``devtools`` (not ``tests/``) because the dev-mode launchers
in ``devtools`` use it too; ``tests/servers/proc.py`` re-exports it.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable, Optional, Sequence

__all__ = [
    "ROOT",
    "SETUP_HINT",
    "free_port",
    "require_binary",
    "node_bin",
    "venv_bin",
    "port_open",
    "ManagedProcess",
]

#: The repository root (holds node_modules/ and .venv/).
ROOT = Path(__file__).resolve().parents[1]
SETUP_HINT = "run ./setup.sh (it installs the project's apt, Python and npm dependencies)"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def require_binary(name: str, path: Optional[str] = None) -> str:
    """Absolute path of an executable, or a loud failure naming the setup command.

    A missing server binary must fail the test run, never skip it.
    """
    found = path if path and os.access(path, os.X_OK) else shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not installed: {SETUP_HINT}")
    return found


def node_bin(name: str) -> str:
    """An executable installed by ``npm ci`` into ./node_modules/.bin."""
    path = ROOT / "node_modules" / ".bin" / name
    if not path.exists():
        raise RuntimeError(f"{path} is missing: {SETUP_HINT}")
    return str(path)


def venv_bin(name: str) -> str:
    """An executable from the project venv, else from $PATH (loud failure if neither)."""
    path = ROOT / ".venv" / "bin" / name
    if path.exists():
        return str(path)
    return require_binary(name)


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """True when something accepts TCP connections on host:port (0.2 s timeout)."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


class ManagedProcess:
    """One server process with a readiness probe and a log file."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        ready: Callable[[], bool],
        log_dir: Path,
        env: Optional[dict] = None,
        cwd: Optional[str] = None,
        timeout: float = 30.0,
    ):
        self.name = name
        self.argv = list(argv)
        self.ready = ready
        self.log_path = Path(log_dir) / f"{name}.log"
        self.env = env
        self.cwd = cwd
        self.timeout = timeout
        self.proc: Optional[subprocess.Popen] = None

    def start(self) -> "ManagedProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(self.env or {})},
            cwd=self.cwd,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}: {self.tail()}")
            try:
                if self.ready():
                    return self
            except Exception:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} not ready after {self.timeout}s: {self.tail()}")

    def tail(self, n: int = 2000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    @property
    def pid(self) -> Optional[int]:
        return self.proc.pid if self.proc else None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Send a signal to the whole process group (for crash tests)."""
        if self.alive():
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, grace: float = 5.0) -> None:
        if not self.proc:
            return
        if self.proc.poll() is None:
            self.kill(signal.SIGTERM)
            try:
                self.proc.wait(grace)
            except subprocess.TimeoutExpired:
                self.kill(signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None
