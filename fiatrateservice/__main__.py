"""``python -m fiatrateservice``: wiring only (config → storage → FiatRateService; bootstrap: bws/runtime.py).

The logic is in fiatrateservice/service.py (rounds, schedule) and providers.py (wire shapes).
"""

from __future__ import annotations

import sys
from typing import Optional, Sequence

EXIT_OK, EXIT_PARTIAL = 0, 1  # EXIT_CONFIG (2) comes from bws.runtime

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


def add_args(p) -> None:
    p.add_argument("--once", action="store_true", help="fetch one round, then exit (see exit status)")


async def build(cfg, deps):
    """One round and exit (``--once``), else rounds every fetchInterval minutes until SIGTERM."""
    from bws import runtime
    from fiatrateservice.service import FiatRateService

    storage = await deps.storage()
    service = FiatRateService(storage, cfg.fiatRateServiceOpts, clock=deps.reactor)
    if deps.args.once:
        summary = await service.fetch_round()
        failed = [n for n, r in summary["providers"].items() if not r["ok"]]
        deps.exit(EXIT_PARTIAL if failed else EXIT_OK)
    return runtime.CallbackService("fiatrateservice", start=service.start, stop=service.stop)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from bws import runtime

    return runtime.run("python -m fiatrateservice", DESCRIPTION, build, epilog=EPILOG, add_args=add_args, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
