"""``python -m locker``: the lock server (npm ``locker-server`` protocol) on 127.0.0.1:3231.

Reads ``locker.host``, ``locker.port`` and ``locker.secret`` from the
configuration (``--config``); command-line options override them. Binding to
a non-loopback address requires a shared secret (see :mod:`locker.server`).
Bootstrap: bws/runtime.py.
"""

from __future__ import annotations

import sys


def add_args(p) -> None:
    p.add_argument("--host", help="address to bind (default: locker.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (default: locker.port, 3231)")
    p.add_argument("--secret", help="shared secret clients must present (default: locker.secret)")
    p.add_argument("-v", "--verbose", action="store_true", help="log every connection (same as --log-level DEBUG)")


def configure(cfg, args) -> None:
    if args.host:
        cfg.locker.host = args.host
    if args.port is not None:
        cfg.locker.port = args.port
    if args.secret is not None:
        cfg.locker.secret = args.secret
    if args.verbose:
        args.log_level = "DEBUG"


async def build(cfg, deps):
    """The lock service listening on ``locker.host:locker.port``. Config.validate
    has refused a non-loopback host without a secret (exit 2)."""
    import logging

    from twisted.application.service import MultiService

    from bws import runtime
    from locker.server import LockerFactory, LockService

    o = cfg.locker
    log = logging.getLogger("locker")
    top = MultiService()
    runtime.CallbackService("announce-stop", stop=lambda: log.info("locker stopped")).setServiceParent(top)
    runtime.TCPListener(
        "locker", deps.reactor, o.port, LockerFactory(LockService(deps.reactor, secret=o.secret or None)), o.host,
        announce=lambda port: log.info("locker listening on %s:%d%s", o.host, port,
                                       " (shared secret required)" if o.secret else ""),
    ).setServiceParent(top)  # fmt: skip
    return top


def main(argv: list[str] | None = None) -> int:
    from bws import runtime

    return runtime.run(
        "python -m locker",
        "Lock server speaking the npm locker-server binary protocol (per-name FIFO locks over TCP).",
        build, add_args=add_args, configure=configure, argv=argv,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
