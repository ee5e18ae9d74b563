"""``python -m messagebroker``: WebSocket fan-out relay on 127.0.0.1:3380.

Reads ``messageBroker.host``, ``messageBroker.port`` and
``messageBroker.secret`` from the configuration (``--config``); options
override them. Binding to a non-loopback address requires a shared secret
(see :mod:`messagebroker.relay` for the wire protocol). Bootstrap: bws/runtime.py.
"""

from __future__ import annotations

import argparse
import sys


def add_args(p) -> None:
    p.add_argument("port_arg", nargs="?", type=int, help=argparse.SUPPRESS)  # reference: argv[2] = port
    p.add_argument("--host", help="address to bind (default: messageBroker.host, 127.0.0.1)")
    p.add_argument("--port", type=int, help="TCP port (default: messageBroker.port, 3380)")
    p.add_argument("--secret", help="shared secret clients must present (default: messageBroker.secret)")


def configure(cfg, args) -> None:
    if args.host:
        cfg.messageBroker.host = args.host
    if args.port is not None:
        cfg.messageBroker.port = args.port
    elif args.port_arg is not None:
        cfg.messageBroker.port = args.port_arg
    if args.secret is not None:
        cfg.messageBroker.secret = args.secret


async def build(cfg, deps):
    """The relay listening on ``messageBroker.host:port``. Config.validate has
    refused a non-loopback host without a secret (exit 2)."""
    import logging

    from twisted.application.service import MultiService

    from bws import runtime
    from messagebroker.relay import BrokerServerFactory, Relay

    o = cfg.messageBroker
    relay = Relay(deps.reactor, secret=o.secret or None)
    log = logging.getLogger("messagebroker")
    top = MultiService()
    runtime.CallbackService(
        "announce-stop", stop=lambda: log.info("messagebroker stopped after relaying %d messages", relay.relayed)
    ).setServiceParent(top)
    runtime.TCPListener(
        "messagebroker", deps.reactor, o.port, BrokerServerFactory(relay), o.host,
        announce=lambda port: log.info("messagebroker listening on ws://%s:%d%s", o.host, port,
                                       " (shared secret required)" if o.secret else ""),
    ).setServiceParent(top)  # fmt: skip
    return top


def main(argv: list[str] | None = None) -> int:
    from bws import runtime

    return runtime.run(
        "python -m messagebroker",
        "WebSocket relay: every JSON message from a client is sent to every connected client.",
        build, add_args=add_args, configure=configure, argv=argv,
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
