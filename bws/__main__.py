"""``python -m bws [--config FILE] [--port N] [--host H]``: serve the BWS HTTP API.

Wiring only: installs the asyncio reactor, loads the configuration
(bws/config.py; a bad one prints the error and exits 2), connects storage,
registers in the process registry (bws/process_registry.py; a local lock or
broker beside another API process on the same database also exits 2),
builds the lock, broker and explorers, and serves ``BwsApi`` on
``host:port`` under ``basePath``.  One log line per request (method, path,
status, milliseconds).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Optional, Sequence

log = logging.getLogger("bws")


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bws",
        description="bitcore-wallet-service HTTP API (Twisted/klein). Serves http://HOST:PORT/<basePath>.",
    )
    p.add_argument("--config", metavar="FILE", help="JSON config file (default: $BWS_CONFIG, else ./config.json)")
    p.add_argument("--port", type=int, metavar="N", help="listen port (overrides config 'port' / BWS_PORT)")
    p.add_argument("--host", metavar="H", help="listen address (overrides config 'host')")
    return p.parse_args(argv)


def build_explorers(cfg: Any) -> dict[tuple[str, str], Any]:
    """One explorer per configured ``blockchainExplorerOpts.<coin>.<network>``."""
    out: dict[tuple[str, str], Any] = {}
    if not cfg.blockchainExplorerOpts:
        return out
    from bws.explorers import make_explorer

    for coin, networks in (cfg.blockchainExplorerOpts or {}).items():
        for network, opts in networks.items():
            try:
                out[(coin, network)] = make_explorer(coin, network, opts)
            except ValueError as e:  # e.g. a provider this build has no explorer for (web3, erc20)
                log.warning("explorer %s/%s not available, its wallets cannot be served: %s", coin, network, e)
    return out


def _make_lock(cfg: Any) -> Any:
    try:
        from bws.lock import make_lock
    except ImportError:
        make_lock = None
    if make_lock is not None:
        return make_lock(cfg)
    if cfg.lockOpts.mode != "local":
        raise SystemExit(f"lockOpts.mode {cfg.lockOpts.mode!r} is not available in this build; use 'local'")
    from bws.lock import LocalLock

    return LocalLock()


def _make_broker(cfg: Any) -> Any:
    try:
        from bws.broker import make_broker
    except ImportError:
        make_broker = None
    if make_broker is not None:
        return make_broker(cfg)
    if cfg.messageBrokerOpts.mode != "local":
        raise SystemExit(
            f"messageBrokerOpts.mode {cfg.messageBrokerOpts.mode!r} is not available in this build; use 'local'"
        )
    from bws.broker import LocalBroker

    return LocalBroker()


async def _register(storage: Any, cfg: Any) -> None:
    """Enter this process in the process registry (bws/process_registry.py),
    heartbeat until shutdown; ConfigError when a local lock/broker mode meets
    another live API process on the same database."""
    from twisted.internet import defer, reactor

    from bws.process_registry import ProcessRegistry, new_entry

    registry = ProcessRegistry(
        storage, reactor, new_entry("bws", lockMode=cfg.lockOpts.mode, brokerMode=cfg.messageBrokerOpts.mode)
    )
    await registry.register_api()
    reactor.addSystemEventTrigger("before", "shutdown", lambda: defer.ensureDeferred(registry.stop()))
    registry.start_heartbeat()


def service_tunables(cfg: Any) -> Any:
    """The typed service tunables (bws/services/context.py ``Tunables``) from the config."""
    from bws.services.context import Tunables

    return Tunables(
        fiat_default_provider=cfg.fiatRateServiceOpts.defaultProvider,
        webhook_allow_http=cfg.webhookOpts.allowHttp,
        webhook_allow_private_networks=tuple(cfg.webhookOpts.allowPrivateNetworks),
    )


async def serve(cfg: Any) -> Any:
    """Connect everything and start listening; returns the listening port."""
    from twisted.internet import reactor

    from bws.http.app import BwsApi
    from bws.http.ratelimit import make_rate_limiter
    from bws.services import Services
    from bws.storage import Storage

    mongo = cfg.storageOpts.mongoDb
    storage = await Storage(
        cfg.mongo_uri,
        server_selection_timeout_ms=mongo.serverSelectionTimeoutMS,
        timeout_ms=mongo.timeoutMS,
        transaction_timeout_ms=mongo.transactionTimeoutMS,
    ).connect()
    await _register(storage, cfg)
    services = Services(
        storage,
        _make_lock(cfg),
        _make_broker(cfg),
        build_explorers(cfg),
        lock_wait=cfg.lockOpts.waitTime,
        lock_max_hold=cfg.lockOpts.maxHoldTime,
        clock=reactor,
        tunables=service_tunables(cfg),
    )
    api = BwsApi(services, cfg.basePath, rate_limiter=make_rate_limiter(cfg))
    site = api.site(timeout=300)  # idle sockets (spec §2.1); bodies over 100 KiB not buffered
    site.noisy = False
    from bws.http.metrics import instrument  # Prometheus GET /metrics at the server root; counts requests

    site.resource = instrument(site.resource, api, services)
    port = reactor.listenTCP(cfg.port, site, interface=cfg.host)
    log.info("bws listening on http://%s:%d%s", cfg.host, port.getHost().port, cfg.basePath)
    return port


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    from bws.reactor import install

    install()
    from bws.config import ConfigError, load_config

    try:
        cfg = load_config(args.config)
        if args.port is not None:
            cfg.port = args.port
        if args.host is not None:
            cfg.host = args.host
        cfg.validate()
    except ConfigError as e:
        print(f"bws: configuration error: {e}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:
        print(f"bws: cannot read configuration: {e}", file=sys.stderr)
        return 2
    logging.basicConfig(
        level=logging.WARNING if cfg.disableLogs else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from twisted.internet import defer, reactor

    exit_code = [0]

    def started_failed(failure):
        if failure.check(ConfigError):  # found at start-up, e.g. a second process with a local lock
            print(f"bws: configuration error: {failure.getErrorMessage()}", file=sys.stderr)
            exit_code[0] = 2
        else:
            log.error("bws failed to start: %s", failure.getErrorMessage())
            exit_code[0] = 1
        reactor.stop()

    def start():
        defer.ensureDeferred(serve(cfg)).addErrback(started_failed)

    reactor.callWhenRunning(start)
    reactor.run()
    return exit_code[0]


if __name__ == "__main__":
    sys.exit(main())
