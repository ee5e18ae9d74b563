"""``python -m bcmonitor btc|eth|tri``: wiring only (config -> storage, broker, monitor -> reactor).

The logic lives in bcmonitor/btc.py (BtcMonitor), bcmonitor/evm.py (EvmMonitor),
bcmonitor/p2p.py (Bitcoin P2P framing) and bcmonitor/runner.py (transports).
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Optional, Sequence

EXIT_CONFIG = 2

DESCRIPTION = """\
Block monitor. Turns chain activity into wallet notifications (NewIncomingTx,
NewOutgoingTxByThirdParty, NewBlock, TxConfirmation), stored in MongoDB and then
published on the message broker. Keeps a cursor (height + block hash) in MongoDB:
after a restart it back-fills every missed block exactly once, and it rolls back
and re-applies on a reorg.

  btc  push: a Bitcoin P2P connection to the trusted node (blockchainExplorerOpts.btc.<network>.p2p),
       JSON-RPC (…url) for back-fill and reorg walks.
  eth  polls an Ethereum JSON-RPC node (blockchainExplorerOpts.eth.livenet.url) every pollInterval
       seconds, confirmations blocks behind the tip; also the TRY ERC20 Transfer logs when a token
       address is configured (blockchainExplorerOpts.eth.livenet.tokenAddress or …try.livenet.tokenAddress).
  tri  the same code for the Ethereum-compatible Trias chain (blockchainExplorerOpts.tri.livenet).
"""

EPILOG = """\
configuration keys (file or BWS__… environment overrides):
  blockchainExplorerOpts.<coin>.<network>.url            JSON-RPC URL (credentials in the URL for bitcoind)
  blockchainExplorerOpts.btc.<network>.p2p               host:port of the node's P2P port
  blockchainExplorerOpts.btc.<network>.magic             network magic hex (regtest: fabfb5da)
  blockchainExplorerOpts.<eth|tri>.livenet.pollInterval  seconds between polls (default 5)
  blockchainExplorerOpts.<eth|tri>.livenet.confirmations depth before a block is applied (default 0)
  storageOpts.mongoDb.uri / BWS_MONGODB_URI              database
  messageBrokerOpts.*                                    broker
"""


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bcmonitor", description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )  # fmt: skip
    p.add_argument("chain", choices=["btc", "eth", "tri"], help="which monitor to run")
    p.add_argument("--config", metavar="PATH", help="JSON config file (default: $BWS_CONFIG, else ./config.json)")
    p.add_argument("--network", help="network key under blockchainExplorerOpts.<coin> (default: the only/first one)")
    p.add_argument("--third-party-delay", type=float, default=20.0,
                   help="btc: seconds before an accepted proposal seen on the network is marked broadcast (default 20)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    return p.parse_args(argv)


def _pick(cfg, coin: str, network: Optional[str]):
    from bws.config import ConfigError

    nets = cfg.blockchainExplorerOpts.get(coin) or {}
    if network:
        if network not in nets:
            raise ConfigError(f"blockchainExplorerOpts.{coin}.{network}: not configured")
        return network, nets[network]
    if not nets:
        raise ConfigError(f"blockchainExplorerOpts.{coin}: not configured")
    network = "livenet" if "livenet" in nets else sorted(nets)[0]
    return network, nets[network]


def _magic(opts, network: str) -> bytes:
    from bcmonitor.p2p import MAGIC
    from bws.config import ConfigError

    hexmagic = opts.magic or MAGIC.get(network, "")
    try:
        magic = bytes.fromhex(hexmagic)
    except ValueError:
        magic = b""
    if len(magic) != 4:
        raise ConfigError(f"blockchainExplorerOpts.btc.{network}.magic: must be 8 hex digits, got {opts.magic!r}")
    return magic


async def _run(reactor, args: argparse.Namespace) -> None:
    from twisted.internet.defer import Deferred

    from bcmonitor.notify import MonitorNotices
    from bcmonitor.runner import BtcRunner, EvmRunner
    from bws.broker import make_broker
    from bws.config import ConfigError, load_config
    from bws.lock import make_lock
    from bws.model import NotificationIds
    from bws.services.broadcasts import BroadcastMarks
    from bws.services.notifier import Notifier
    from bws.storage import Storage

    log = logging.getLogger("bcmonitor")
    try:
        cfg = load_config(args.config)
        network, opts = _pick(cfg, args.chain, args.network)
        if args.chain == "btc":
            host, _, port = opts.p2p.rpartition(":")
            if not host or not port.isdigit():
                raise ConfigError(f"blockchainExplorerOpts.btc.{network}.p2p: must be host:port, got {opts.p2p!r}")
            magic = _magic(opts, network)
    except ConfigError as e:
        log.error("bcmonitor: configuration error: %s", e)
        raise SystemExit(EXIT_CONFIG)

    # it marks proposals broadcast in transactions, as the API does
    storage = Storage(cfg.mongo_uri, transaction_timeout_ms=cfg.storageOpts.mongoDb.transactionTimeoutMS)
    try:
        await storage.connect()
    except Exception as e:  # noqa: BLE001
        log.error("bcmonitor: cannot reach the database %s: %s", cfg.mongo_uri, e)
        raise SystemExit(EXIT_CONFIG)
    broker = make_broker(cfg, reactor)
    the_notifier = Notifier(storage, broker, NotificationIds())
    notifier = MonitorNotices(the_notifier)
    # the API's mark-broadcast rule, under the same (cross-process) wallet lock
    broadcasts = BroadcastMarks(storage, the_notifier, make_lock(cfg, reactor), reactor,
                                lock_wait=cfg.lockOpts.waitTime, lock_max_hold=cfg.lockOpts.maxHoldTime)

    if args.chain == "btc":
        from bcmonitor.btc import BtcMonitor
        from bcmonitor.rpc import BitcoindRpc

        monitor = BtcMonitor(storage, notifier, BitcoindRpc(opts.url, reactor=reactor), reactor,
                             coin="btc", network=network, third_party_delay=args.third_party_delay,
                             broadcasts=broadcasts)
        runner = BtcRunner(monitor, reactor, host, int(port), magic)
        log.info("bcmonitor btc %s: node p2p %s, rpc %s", network, opts.p2p, opts.url.split("@")[-1])
    else:
        from web3 import AsyncWeb3

        from bcmonitor.evm import EvmMonitor

        token = opts.tokenAddress
        if args.chain == "eth" and not token:
            try_opts = (cfg.blockchainExplorerOpts.get("try") or {}).get(network)
            token = try_opts.tokenAddress if try_opts else ""
        w3 = AsyncWeb3(AsyncWeb3.AsyncHTTPProvider(opts.url))
        if opts.chainId:
            from bws.aio import as_deferred

            got = await as_deferred(w3.eth.chain_id)
            if got != opts.chainId:
                log.error("bcmonitor %s: node chain id %s, configured %s", args.chain, got, opts.chainId)
                raise SystemExit(EXIT_CONFIG)
        monitor = EvmMonitor(storage, notifier, w3, reactor, coin=args.chain, network=network,
                             token_coin="try" if token and args.chain == "eth" else None,
                             token_address=token if args.chain == "eth" else None,
                             confirmations=opts.confirmations, broadcasts=broadcasts)
        runner = EvmRunner(monitor, reactor, opts.pollInterval)
        log.info("bcmonitor %s %s: rpc %s every %ss, %d confirmations, token %s", args.chain, network,
                 opts.url, opts.pollInterval, opts.confirmations, token or "-")

    async def shutdown() -> None:
        await runner.stop()
        stop = getattr(broker, "stop", None)
        if stop:
            stop()
        await storage.close()

    reactor.addSystemEventTrigger("before", "shutdown", lambda: Deferred.fromCoroutine(shutdown()))
    await runner.start()
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
