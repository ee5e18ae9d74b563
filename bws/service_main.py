"""Shared wiring of the notification-delivery processes (emailservice, pushservice).

Each service object has ``handle(notification)`` (queue its deliveries, idempotent)
and ``start()``/``stop()`` for its outbox. This module plugs every service into
its own durable :class:`bws.delivery.stream.StreamConsumer` (consumer names
``email``, ``push``, ``webhooks``) over one broker connection, and runs until
the reactor stops.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Callable, Optional, Sequence

EXIT_CONFIG = 2


def parse_args(prog: str, description: str, epilog: str, argv: Optional[Sequence[str]]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog=prog, description=description, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--config", metavar="PATH", help="JSON config file (default: $BWS_CONFIG, else ./config.json)")
    p.add_argument(
        "--start-from",
        choices=["now", "beginning"],
        default="now",
        help="where a consumer without a stored cursor starts (default: now; history is not re-sent)",
    )
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p.parse_args(argv)


async def run_services(
    reactor,
    args: argparse.Namespace,
    logger: logging.Logger,
    build: Callable[[Any, Any, Any], list[tuple[str, Any, float, float]]],
) -> None:
    """``build(cfg, storage, reactor)`` → ``[(consumer name, service, poll s, claim timeout s)]``."""
    from twisted.internet.defer import Deferred

    from bws.config import ConfigError, load_config
    from bws.storage import Storage

    try:
        cfg = load_config(args.config)
    except ConfigError as e:
        logger.error("configuration error: %s", e)
        raise SystemExit(EXIT_CONFIG)
    storage = Storage(cfg.mongo_uri)
    try:
        await storage.connect()
    except Exception as e:  # noqa: BLE001
        logger.error("cannot reach the database (storageOpts.mongoDb.uri): %s", e)
        raise SystemExit(EXIT_CONFIG)
    try:
        services = build(cfg, storage, reactor)
    except Exception as e:  # noqa: BLE001 - bad key file, missing service account, ...
        logger.error("configuration error: %s", e)
        raise SystemExit(EXIT_CONFIG)
    if not services:
        logger.warning("nothing enabled in the configuration; idling")
        await Deferred()
        return

    from bws.broker import make_broker
    from bws.delivery.stream import StreamConsumer

    broker = make_broker(cfg, reactor)
    consumers = []
    for name, service, poll, claim_timeout in services:
        service.start()
        consumer = StreamConsumer(
            name,
            storage,
            broker,
            service.handle,
            reactor,
            poll_interval=poll,
            claim_timeout=claim_timeout,
            retry_delay=max(1.0, poll),
            start_from=args.start_from,
        )
        await consumer.start()
        consumers.append((consumer, service))
        logger.info("%s: consuming the notification stream from %s", name, consumer.cursor or "(beginning)")

    async def shutdown() -> None:
        for consumer, service in consumers:
            consumer.stop()
            service.stop()
        stop = getattr(broker, "stop", None)
        if stop:
            stop()
        await storage.close()

    reactor.addSystemEventTrigger("before", "shutdown", lambda: Deferred.fromCoroutine(shutdown()))
    await Deferred()  # until SIGINT/SIGTERM stops the reactor


def main(prog: str, description: str, epilog: str, build, argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(prog, description, epilog, argv)
    from bws.reactor import install

    install()  # before anything imports twisted.internet.reactor
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from twisted.internet.defer import Deferred
    from twisted.internet.task import react

    logger = logging.getLogger(prog.split()[-1])
    react(lambda reactor: Deferred.fromCoroutine(run_services(reactor, args, logger, build)))
