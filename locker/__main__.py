"""``python -m locker``: the lock server (npm ``locker-server`` protocol) on 127.0.0.1:3231.

Reads ``locker.host``, ``locker.port`` and ``locker.secret`` from the
configuration (``--config``); command-line options override them. Binding to
a non-loopback address requires a shared secret (see :mod:`locker.server`).
"""

from __future__ import annotations

import argparse
import logging
import sys


def _is_loopback(host: str) -> bool:
    return host in ("localhost", "::1") or host.startswith("127.")


def main(argv: list[str] | None = None) -> int:
    from bws.reactor import install

    install()
    parser = argparse.ArgumentParser(
        prog="python -m locker",
        description="Lock server speaking the npm locker-server binary protocol (per-name FIFO locks over TCP).",
    )
    parser.add_argument("--config", help="JSON configuration file (default: $BWS_CONFIG or ./config.json)")
    parser.add_argument("--host", help="address to bind (default: locker.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (default: locker.port, 3231)")
    parser.add_argument("--secret", help="shared secret clients must present (default: locker.secret)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every connection")
    args = parser.parse_args(argv)

    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
        stream=sys.stdout,
    )
    from bws.config import ConfigError, load_config

    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(f"locker: configuration error: {e}", file=sys.stderr)
        return 2
    host = args.host or cfg.locker.host
    port = cfg.locker.port if args.port is None else args.port
    secret = cfg.locker.secret if args.secret is None else args.secret
    if not _is_loopback(host) and not secret:
        print(f"locker: refusing to bind {host}: a shared secret (locker.secret) is required off loopback",
              file=sys.stderr)
        return 2

    from twisted.internet import reactor

    from locker.server import LockerFactory, LockService

    service = LockService(reactor, secret=secret or None)
    try:
        listening = reactor.listenTCP(port, LockerFactory(service), interface=host)
    except Exception as e:  # CannotListenError
        print(f"locker: cannot listen on {host}:{port}: {e}", file=sys.stderr)
        return 1
    logging.getLogger("locker").info(
        "locker listening on %s:%d%s", host, listening.getHost().port, " (shared secret required)" if secret else ""
    )
    reactor.run()
    logging.getLogger("locker").info("locker stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
