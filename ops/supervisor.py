"""Process supervisor behind ./start.sh and ./stop.sh.

``python -m ops.supervisor start [--dev]`` runs in the background (start.sh
detaches it) and owns every BWS process: it starts them in the reference order
(docs/spec/services.md §10), writes ``pids/<name>.pid`` and appends each process's
output to ``logs/<name>.log``, waits until each one is healthy, and prints one
line per process. Processes with a port start one after the other: the next one
starts when the previous one's port answers (the database before the services
that need it). Health: bws answers ``GET <basePath>/v1/health`` with 200 (database,
broker, lock and nodes ready), other port-bearing processes accept TCP connections,
processes without a port count as healthy once they have run for a second. A process that dies with an error or a signal is restarted
(the first time within half a second, then with a growing delay while it keeps
crashing) and the restart is logged to ``logs/supervisor.log``. A process that
exits with status 0 was told by its configuration that it has nothing to do
(e.g. a monitor for a chain that is not configured); it is not restarted.

``python -m ops.supervisor stop`` sends SIGTERM to the supervisor, which stops
every child (SIGTERM, then SIGKILL after a grace period, whole process groups)
and removes the pid files, so no process of the project is left behind.

The process table is data (:func:`process_table`), the supervision logic is a
plain object (:class:`Supervisor`) with the reactor injected, so tests drive it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional

ROOT = Path(__file__).resolve().parents[1]
SETSID = shutil.which("setsid")


@dataclass
class ProcessSpec:
    """One supervised process: ``argv`` run from the project root."""

    name: str
    argv: list[str]
    #: TCP port answering when the process is healthy (None: alive for a moment is enough).
    port: Optional[int] = None
    #: HTTP URL answering 200 when the process is ready (checked by ``start``'s report).
    health_url: Optional[str] = None
    env: dict[str, str] = field(default_factory=dict)


def _py(*args: str) -> list[str]:
    return [sys.executable, *args]


def process_table(cfg, config_path: Optional[str], dev_specs: list[ProcessSpec] = ()) -> list[ProcessSpec]:
    """The nine BWS processes (plus the embedded database and dev chains), in start order."""
    conf = ["--config", config_path] if config_path else []
    specs: list[ProcessSpec] = list(dev_specs)
    if not cfg.storageOpts.mongoDb.uri:
        e = cfg.storageOpts.embedded
        specs.append(ProcessSpec("embedded_db", _py("-m", "ops.embedded_db", *conf), port=e.port))
    specs += [
        ProcessSpec("locker", _py("-m", "locker", *conf), port=cfg.locker.port),
        ProcessSpec("messagebroker", _py("-m", "messagebroker", *conf), port=cfg.messageBroker.port),
        ProcessSpec("bcmonitor-btc", _py("-m", "bcmonitor", "btc", *conf)),
        ProcessSpec("bcmonitor-eth", _py("-m", "bcmonitor", "eth", *conf)),
        ProcessSpec("bcmonitor-tri", _py("-m", "bcmonitor", "tri", *conf)),
        ProcessSpec("emailservice", _py("-m", "emailservice", *conf)),
        ProcessSpec("pushservice", _py("-m", "pushservice", *conf)),
        ProcessSpec("fiatrateservice", _py("-m", "fiatrateservice", *conf)),
        ProcessSpec(
            "bws", _py("-m", "bws", *conf), port=cfg.port,
            health_url=f"http://127.0.0.1:{cfg.port}{cfg.basePath.rstrip('/')}/v1/health",
        ),
    ]
    return specs


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def http_ok(url: str, timeout: float = 5.0) -> bool:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status == 200
    except (OSError, urllib.error.URLError):
        return False


class Child:
    """State of one supervised process."""

    def __init__(self, spec: ProcessSpec):
        self.spec = spec
        self.transport = None
        self.pid: Optional[int] = None
        self.started_at = 0.0
        self.restarts = 0
        self.crashes_in_a_row = 0
        self.finished = False


class Supervisor:
    """Starts, watches and restarts processes.

    reactor: provides spawnProcess/callLater/seconds (tests inject their own).
    log: callable taking one line of text (one structured line per event).
    """

    #: Delay before restart after the n-th consecutive quick crash (seconds).
    RESTART_DELAYS = (0.5, 1.0, 2.0, 5.0, 10.0)
    #: A process that ran this long before dying counts as a fresh crash.
    STABLE_AFTER = 30.0
    #: Seconds to wait for a port-bearing process's port before starting the next anyway.
    READY_TIMEOUT = 120.0

    def __init__(self, specs: list[ProcessSpec], reactor, run_dir: Path, log: Callable[[str], None]):
        self.reactor = reactor
        self.run_dir = Path(run_dir)
        self.log = log
        self.children = {s.name: Child(s) for s in specs}
        self.stopping = False
        (self.run_dir / "pids").mkdir(parents=True, exist_ok=True)
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)

    # -- paths -----------------------------------------------------------

    def pid_file(self, name: str) -> Path:
        return self.run_dir / "pids" / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.run_dir / "logs" / f"{name}.log"

    # -- lifecycle ---------------------------------------------------------

    def start_all(self):
        """Start every process in order; a process with a port must answer on it (or
        ``READY_TIMEOUT`` pass) before the next one starts. Returns a Deferred (all started)."""
        from twisted.internet.defer import Deferred

        done: Deferred = Deferred()
        queue = list(self.children.values())

        def next_one():
            if self.stopping or not queue:
                if not done.called:
                    done.callback(None)
                return
            child = queue.pop(0)
            self.spawn(child)
            if child.spec.port is None:
                next_one()
                return
            deadline = self.reactor.seconds() + self.READY_TIMEOUT

            def poll():
                if self.stopping or port_open(child.spec.port):
                    next_one()
                elif self.reactor.seconds() >= deadline:
                    self.log(f"event=not_ready process={child.spec.name} port={child.spec.port} after={self.READY_TIMEOUT:.0f}s")
                    next_one()
                else:
                    self.reactor.callLater(0.1, poll)

            poll()

        next_one()
        return done

    def spawn(self, child: Child) -> None:
        from twisted.internet.protocol import ProcessProtocol

        sup = self
        logf = open(self.log_file(child.spec.name), "ab", buffering=0)

        class Proto(ProcessProtocol):
            def outReceived(self, data: bytes) -> None:
                logf.write(data)

            errReceived = outReceived

            def processExited(self, reason) -> None:
                # processExited, not processEnded: the latter waits until every holder of the
                # output pipes (grandchildren) is gone, which would delay the restart.
                sup.ended(child, getattr(reason.value, "exitCode", None), getattr(reason.value, "signal", None))

            def processEnded(self, reason) -> None:
                logf.close()

        env = {**os.environ, **child.spec.env, "PYTHONUNBUFFERED": "1"}
        # Each child leads its own process group (setsid execs in place, keeping the
        # pid), so stopping it also stops whatever it started (node, litecoind).
        argv = ([SETSID] if SETSID else []) + child.spec.argv
        child.transport = self.reactor.spawnProcess(Proto(), argv[0], argv, env=env, path=str(ROOT), usePTY=False)
        child.pid = child.transport.pid
        child.started_at = self.reactor.seconds()
        child.finished = False
        self.pid_file(child.spec.name).write_text(f"{child.pid}\n")
        self.log(f"event=start process={child.spec.name} pid={child.pid} restarts={child.restarts}")

    def ended(self, child: Child, exit_code: Optional[int], sig: Optional[int]) -> None:
        ran = self.reactor.seconds() - child.started_at
        child.transport = None
        # The child led its own process group: whatever it started (litecoind, node)
        # and left behind would hold ports and data locks, so the group goes with it.
        _kill_group(child.pid, signal.SIGKILL, group_only=True)
        self.pid_file(child.spec.name).unlink(missing_ok=True)
        self.log(f"event=exit process={child.spec.name} pid={child.pid} code={exit_code} signal={sig} ran={ran:.1f}s")
        child.pid = None
        if self.stopping:
            return
        if exit_code == 0:
            child.finished = True
            self.log(f"event=finished process={child.spec.name} (exit 0: nothing to do with this configuration)")
            return
        child.crashes_in_a_row = 0 if ran >= self.STABLE_AFTER else child.crashes_in_a_row + 1
        delay = self.RESTART_DELAYS[min(max(child.crashes_in_a_row - 1, 0), len(self.RESTART_DELAYS) - 1)]
        child.restarts += 1
        self.log(f"event=restart process={child.spec.name} in={delay}s restarts={child.restarts}")
        self.reactor.callLater(delay, self._respawn, child)

    def _respawn(self, child: Child) -> None:
        if not self.stopping and child.transport is None:
            self.spawn(child)

    def stop_all(self, grace: float = 10.0):
        """SIGTERM every child's process group, SIGKILL what is left after ``grace`` s; returns a Deferred."""
        from twisted.internet.defer import Deferred

        self.stopping = True
        done: Deferred = Deferred()
        for child in reversed(list(self.children.values())):
            if child.pid:
                _kill_group(child.pid, signal.SIGTERM)

        deadline = self.reactor.seconds() + grace

        def check():
            alive = [c for c in self.children.values() if c.transport is not None]
            if not alive:
                done.callback(None)
            elif self.reactor.seconds() >= deadline:
                for c in alive:
                    self.log(f"event=kill process={c.spec.name} pid={c.pid} (no exit after {grace}s)")
                    _kill_group(c.pid, signal.SIGKILL)
                self.reactor.callLater(0.2, check)
            else:
                self.reactor.callLater(0.1, check)

        check()
        return done


def _kill_group(pid: Optional[int], sig: int, group_only: bool = False) -> None:
    if not pid:
        return
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        if group_only:
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------------------
# command line


def _wait_healthy(specs: list[ProcessSpec], run_dir: Path, timeout: float) -> list[str]:
    """Lines ``name pid port log status`` once each process is healthy (or the reason it is not).

    bws: its health URL answers 200; other processes with a port: the port accepts
    connections; processes without a port: the same pid has run for a second."""
    lines = []
    deadline = time.monotonic() + timeout
    sup_log = run_dir / "logs" / "supervisor.log"
    for spec in specs:
        pid_file = run_dir / "pids" / f"{spec.name}.pid"
        status = "NOT HEALTHY (see log)"
        seen: tuple[str, float] = ("", 0.0)
        while time.monotonic() < deadline:
            pid = pid_file.read_text().strip() if pid_file.exists() else ""
            if not pid and _finished(sup_log, spec.name):
                status = "finished: nothing to do with this configuration (exit 0, see log)"
                break
            if pid and spec.health_url:
                if port_open(spec.port) and http_ok(spec.health_url, timeout=5):
                    status = "healthy"
                    break
            elif pid and spec.port is not None:
                if port_open(spec.port):
                    status = "healthy"
                    break
            elif pid:
                if seen[0] != pid:
                    seen = (pid, time.monotonic())
                elif time.monotonic() - seen[1] >= 1.0 and _alive(int(pid)):
                    status = "running"
                    break
            time.sleep(0.1)
        pid = pid_file.read_text().strip() if pid_file.exists() else "-"
        port = str(spec.port) if spec.port else "-"
        log_path = _show_path(run_dir / "logs" / f"{spec.name}.log")
        lines.append(f"{spec.name:16s} pid={pid:8s} port={port:6s} log={log_path}  {status}")
    return lines


def _finished(sup_log: Path, name: str) -> bool:
    try:
        return f"event=finished process={name} " in sup_log.read_text()
    except OSError:
        return False


def _show_path(p: Path) -> str:
    try:
        return str(p.relative_to(Path.cwd()))
    except ValueError:
        return str(p)


def cmd_start(args) -> int:
    from bws.config import ConfigError, load_config

    run_dir = Path(args.run_dir).resolve()
    sup_pid = run_dir / "pids" / "supervisor.pid"
    if sup_pid.exists() and _alive(int(sup_pid.read_text().strip() or 0)):
        print(f"already running (supervisor pid {sup_pid.read_text().strip()}); run ./stop.sh first")
        return 1
    dev_specs: list[ProcessSpec] = []
    config_path = args.config
    if args.dev:
        from devtools.devstack import prepare_dev

        config_path, dev_procs = prepare_dev(run_dir, args.config)
        dev_specs = [ProcessSpec(p.name, p.argv, port=p.port) for p in dev_procs]
    try:
        cfg = load_config(config_path)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return 2
    specs = process_table(cfg, config_path, dev_specs)
    busy = [f"{s.name} port {s.port}" for s in specs if s.port and port_open(s.port)]
    if busy:
        print("cannot start: already in use by another process: " + ", ".join(busy)
              + " (stop it, or change the port: config file / BWS_DEV_PORT_<NAME> for --dev)", file=sys.stderr)
        return 2
    (run_dir / "pids").mkdir(parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    # Detach: the supervisor outlives the shell that ran start.sh.
    pid = os.fork()
    if pid == 0:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        _run_supervisor(specs, run_dir)
        os._exit(0)
    sup_pid.write_text(f"{pid}\n")
    lines = []
    for line in _wait_healthy(specs, run_dir, args.timeout if args.timeout else (180.0 if args.dev else 60.0)):
        print(line, flush=True)
        lines.append(line)
    print(f"supervisor       pid={pid}  log={_show_path(run_dir / 'logs' / 'supervisor.log')}  (./stop.sh stops everything)")
    return 0 if all(l.endswith(("healthy", "running")) or "finished:" in l for l in lines) else 1


def _run_supervisor(specs: list[ProcessSpec], run_dir: Path) -> None:
    from bws.reactor import install

    install()
    from twisted.internet import reactor

    logf = open(run_dir / "logs" / "supervisor.log", "a", buffering=1)

    def log(line: str) -> None:
        logf.write(f"{time.strftime('%Y-%m-%dT%H:%M:%S')} {line}\n")

    sup = Supervisor(specs, reactor, run_dir, log)

    def on_shutdown():
        log("event=stop requested")
        return sup.stop_all()

    # Twisted's own handlers: SIGTERM/SIGINT stop the reactor (our trigger stops the
    # children first) and SIGCHLD tells us when a child exits.
    reactor.addSystemEventTrigger("before", "shutdown", on_shutdown)
    reactor.callWhenRunning(sup.start_all)
    reactor.run()
    (run_dir / "pids" / "supervisor.pid").unlink(missing_ok=True)
    log("event=stopped")


def _alive(pid: int) -> bool:
    """True if ``pid`` runs; a zombie (exited, not yet reaped by init) counts as gone."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmd_stop(args) -> int:
    run_dir = Path(args.run_dir).resolve()
    sup_pid = run_dir / "pids" / "supervisor.pid"
    if not sup_pid.exists():
        print("not running (no pids/supervisor.pid)")
        _kill_leftovers(run_dir)
        return 0
    pid = int(sup_pid.read_text().strip() or 0)
    if _alive(pid):
        print(f"stopping supervisor pid={pid} and its processes ...", flush=True)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + args.timeout
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)
    sup_pid.unlink(missing_ok=True)
    _kill_leftovers(run_dir)
    print("stopped")
    return 0


def _kill_leftovers(run_dir: Path) -> None:
    """Kill processes whose pid files survived (supervisor killed hard); remove stale pid files."""
    for f in (run_dir / "pids").glob("*.pid"):
        try:
            pid = int(f.read_text().strip() or 0)
        except ValueError:
            pid = 0
        if pid and _alive(pid):
            print(f"killing leftover {f.stem} pid={pid}")
            _kill_group(pid, signal.SIGKILL)
        f.unlink(missing_ok=True)


def main(argv: Optional[list[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m ops.supervisor", description="Start or stop every BWS-Twisted process.")
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("start", help="start everything in the background (what ./start.sh runs)")
    s.add_argument("--config", help="config file (default: $BWS_CONFIG or ./config.json)")
    s.add_argument("--dev", action="store_true", help="also run local regtest/ganache chains and an SMTP sink")
    s.add_argument("--run-dir", default=str(ROOT), help="where pids/ and logs/ go (default: project root)")
    s.add_argument("--timeout", type=float, default=0.0, help="seconds to wait for health checks (default 60; 180 with --dev)")
    t = sub.add_parser("stop", help="stop everything (what ./stop.sh runs)")
    t.add_argument("--run-dir", default=str(ROOT))
    t.add_argument("--timeout", type=float, default=30.0)
    args = p.parse_args(argv)
    return cmd_start(args) if args.cmd == "start" else cmd_stop(args)


if __name__ == "__main__":
    sys.exit(main())
