"""``python -m bws [--config FILE] [--port N] [--host H]``: serve the BWS HTTP API.

Wiring only (the bootstrap is bws/runtime.py): connects storage, registers in
the process registry (bws/process_registry.py; a local lock or broker beside
another API process on the same database exits 2), builds the lock, broker
and explorers, and serves ``BwsApi`` on ``host:port`` under ``basePath``. One
log line per request (method, path, status, milliseconds).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any, Optional, Sequence

from twisted.application.service import MultiService

from bws import runtime
from bws.config import Config

log = logging.getLogger("bws")

DESCRIPTION = "bitcore-wallet-service HTTP API (Twisted/klein). Serves http://HOST:PORT/<basePath>."


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, metavar="N", help="listen port (overrides config 'port' / BWS_PORT)")
    p.add_argument("--host", metavar="H", help="listen address (overrides config 'host')")


def configure(cfg: Config, args: argparse.Namespace) -> None:
    if args.port is not None:
        cfg.port = args.port
    if args.host is not None:
        cfg.host = args.host
    if cfg.disableLogs and args.log_level == "INFO":
        args.log_level = "WARNING"


def service_tunables(cfg: Config) -> Any:
    """The typed service tunables (bws/services/context.py ``Tunables``) from the config."""
    from bws.services.context import Tunables

    return Tunables(
        fiat_default_provider=cfg.fiatRateServiceOpts.defaultProvider,
        webhook_allow_http=cfg.webhookOpts.allowHttp,
        webhook_allow_private_networks=tuple(cfg.webhookOpts.allowPrivateNetworks),
    )


async def build(cfg: Config, deps: runtime.Deps) -> Any:
    """The API process: registry heartbeat + the HTTP listener. Raises ConfigError
    (exit 2) when a local lock/broker meets another live API process."""
    from bws.http.app import BwsApi
    from bws.http.metrics import instrument
    from bws.http.ratelimit import make_rate_limiter
    from bws.process_registry import ProcessRegistry, new_entry
    from bws.services import Services

    storage = await deps.storage()
    registry = ProcessRegistry(
        storage, deps.reactor, new_entry("bws", lockMode=cfg.lockOpts.mode, brokerMode=cfg.messageBrokerOpts.mode)
    )
    await registry.register_api()
    services = Services(
        storage,
        deps.lock(),
        deps.broker(),
        deps.explorers(storage),
        lock_wait=cfg.lockOpts.waitTime,
        lock_max_hold=cfg.lockOpts.maxHoldTime,
        clock=deps.reactor,
        tunables=service_tunables(cfg),
    )
    api = BwsApi(services, cfg.basePath, rate_limiter=make_rate_limiter(cfg, deps.reactor))
    site = api.site(timeout=300)  # idle sockets (docs/spec/api.md §2.1); bodies over 100 KiB not buffered
    site.noisy = False
    site.resource = instrument(site.resource, api, services)  # Prometheus GET /metrics at the root; counts requests

    top = MultiService()
    runtime.CallbackService("registry", start=registry.start_heartbeat, stop=registry.stop).setServiceParent(top)
    runtime.TCPListener(
        "http", deps.reactor, cfg.port, site, cfg.host,
        announce=lambda port: log.info("bws listening on http://%s:%d%s", cfg.host, port, cfg.basePath),
    ).setServiceParent(top)  # fmt: skip
    return top


def main(argv: Optional[Sequence[str]] = None) -> int:
    return runtime.run("python -m bws", DESCRIPTION, build, add_args=add_args, configure=configure, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
