"""``python -m messagebroker``: WebSocket fan-out relay on 127.0.0.1:3380.

Reads ``messageBroker.host``, ``messageBroker.port`` and
``messageBroker.secret`` from the configuration (``--config``); options
override them. Binding to a non-loopback address requires a shared secret
(see :mod:`messagebroker.relay` for the wire protocol).
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
        prog="python -m messagebroker",
        description="WebSocket relay: every JSON message from a client is sent to every connected client.",
    )
    parser.add_argument("port_arg", nargs="?", type=int, help=argparse.SUPPRESS)  # reference: argv[2] = port
    parser.add_argument("--config", help="JSON configuration file (default: $BWS_CONFIG or ./config.json)")
    parser.add_argument("--host", help="address to bind (default: messageBroker.host, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="TCP port (default: messageBroker.port, 3380)")
    parser.add_argument("--secret", help="shared secret clients must present (default: messageBroker.secret)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s", stream=sys.stdout)
    from bws.config import ConfigError, load_config

    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        print(f"messagebroker: configuration error: {e}", file=sys.stderr)
        return 2
    host = args.host or cfg.messageBroker.host
    port = args.port if args.port is not None else (args.port_arg if args.port_arg is not None else cfg.messageBroker.port)
    secret = cfg.messageBroker.secret if args.secret is None else args.secret
    if not _is_loopback(host) and not secret:
        print(
            f"messagebroker: refusing to bind {host}: a shared secret (messageBroker.secret) is required off loopback",
            file=sys.stderr,
        )
        return 2

    from twisted.internet import reactor

    from messagebroker.relay import BrokerServerFactory, Relay

    relay = Relay(reactor, secret=secret or None)
    try:
        listening = reactor.listenTCP(port, BrokerServerFactory(relay), interface=host)
    except Exception as e:
        print(f"messagebroker: cannot listen on {host}:{port}: {e}", file=sys.stderr)
        return 1
    log = logging.getLogger("messagebroker")
    log.info("messagebroker listening on ws://%s:%d%s", host, listening.getHost().port,
             " (shared secret required)" if secret else "")
    reactor.run()
    log.info("messagebroker stopped after relaying %d messages", relay.relayed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
