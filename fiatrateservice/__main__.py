"""``python -m fiatrateservice``: wiring only (config → storage → FiatRateService → reactor).

The logic is in fiatrateservice/service.py (rounds, schedule) and providers.py (wire shapes).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

EXIT_OK, EXIT_PARTIAL, EXIT_CONFIG = 0, 1, 2

DESCRIPTION = """\
Fetch fiat exchange rates from the configured providers (BitPay, Bitstamp, CoinGecko) at start
and then every fiatRateServiceOpts.fetchInterval minutes, insert them into the fiat_rates
history (one document per provider, coin, currency code and fetch), and refresh the tables
served by /v1/rates/eth and /v1/rates/try. A failing provider is logged and retried next round.
"""

EPILOG = """\
configuration keys (file or BWS__fiatRateServiceOpts__<key>=<json> environment overrides):
  fiatRateServiceOpts.fetchInterval   minutes between rounds (default 60)
  fiatRateServiceOpts.providers       {name: {url, enabled}}; names BitPay, Bitstamp, CoinGecko
  fiatRateServiceOpts.coins           coins to fetch (default btc, eth, try)
  fiatRateServiceOpts.coinGeckoIds    coin -> CoinGecko id;  .vsCurrencies  CoinGecko currencies
  fiatRateServiceOpts.tryPriceUrl     TRY price source for /v1/rates/try
  fiatRateServiceOpts.timeout         seconds per provider request (default 30)
  storageOpts.mongoDb.uri / BWS_MONGODB_URI   database

exit status with --once: 0 every provider ok, 1 at least one provider failed (the others were
stored), 2 configuration or database error.
"""


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m fiatrateservice",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", metavar="PATH", help="JSON config file (default: $BWS_CONFIG, else ./config.json)")
    p.add_argument("--once", action="store_true", help="fetch one round, then exit (see exit status)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p.parse_args(argv)


async def _run(reactor, args: argparse.Namespace) -> None:
    from bws.config import ConfigError, load_config
    from bws.storage import Storage
    from fiatrateservice.service import FiatRateService

    log = logging.getLogger("fiatrateservice")
    try:
        cfg = load_config(args.config)
        storage = Storage(cfg.mongo_uri)
        service = FiatRateService(storage, cfg.fiatRateServiceOpts, clock=reactor)
    except ConfigError as e:
        log.error("configuration error: %s", e)
        raise SystemExit(EXIT_CONFIG)
    try:
        await storage.connect()
    except Exception as e:  # noqa: BLE001
        log.error("cannot reach the database (storageOpts.mongoDb.uri): %s", e)
        raise SystemExit(EXIT_CONFIG)

    if args.once:
        summary = await service.fetch_round()
        await storage.close()
        failed = [n for n, r in summary["providers"].items() if not r["ok"]]
        raise SystemExit(EXIT_PARTIAL if failed else EXIT_OK)

    async def shutdown() -> None:
        await service.stop()
        await storage.close()

    from twisted.internet.defer import Deferred

    reactor.addSystemEventTrigger("before", "shutdown", lambda: Deferred.fromCoroutine(shutdown()))
    service.start()
    await Deferred()  # runs until SIGINT/SIGTERM stops the reactor


def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    from bws.reactor import install

    install()  # before anything imports twisted.internet.reactor
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    from twisted.internet.defer import Deferred
    from twisted.internet.task import react

    react(lambda reactor: Deferred.fromCoroutine(_run(reactor, args)))


if __name__ == "__main__":
    main()
