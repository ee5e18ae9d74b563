"""``python -m bcmonitor btc|eth|tri``: wiring only (config -> storage, broker, monitor; bootstrap: bws/runtime.py).

The logic lives in bcmonitor/btc.py (BtcMonitor), bcmonitor/evm.py (EvmMonitor),
bcmonitor/p2p.py (Bitcoin P2P framing) and bcmonitor/runner.py (transports); the node's
JSON-RPC client is bws/adapters/bitcoind_rpc.py.
"""

from __future__ import annotations

import logging
import sys
from typing import Optional, Sequence

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


def add_args(p) -> None:
    p.add_argument("chain", choices=["btc", "eth", "tri"], help="which monitor to run")
    p.add_argument("--network", help="network key under blockchainExplorerOpts.<coin> (default: the only/first one)")
    p.add_argument("--third-party-delay", type=float, default=20.0,
                   help="btc: seconds before an accepted proposal seen on the network is marked broadcast (default 20)")


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


async def build(cfg, deps):
    """The monitor for ``deps.args.chain``, caught up and following its node.
    Raises ConfigError (exit 2) for a missing or malformed chain configuration."""
    from bcmonitor.notify import MonitorNotices
    from bcmonitor.runner import BtcRunner, EvmRunner
    from bws import runtime
    from bws.config import ConfigError
    from bws.model import NotificationIds
    from bws.services.broadcasts import BroadcastMarks
    from bws.services.notifier import Notifier

    args = deps.args
    log = logging.getLogger("bcmonitor")
    network, opts = _pick(cfg, args.chain, args.network)
    if args.chain == "btc":
        host, _, port = opts.p2p.rpartition(":")
        if not host or not port.isdigit():
            raise ConfigError(f"blockchainExplorerOpts.btc.{network}.p2p: must be host:port, got {opts.p2p!r}")
        magic = _magic(opts, network)

    storage = await deps.storage()  # it marks proposals broadcast in transactions, as the API does
    the_notifier = Notifier(storage, deps.broker(), NotificationIds(lambda: int(deps.reactor.seconds() * 1000)))
    notifier = MonitorNotices(the_notifier)
    # the API's mark-broadcast rule, under the same (cross-process) wallet lock
    broadcasts = BroadcastMarks(storage, the_notifier, deps.lock(), deps.reactor,
                                lock_wait=cfg.lockOpts.waitTime, lock_max_hold=cfg.lockOpts.maxHoldTime)

    if args.chain == "btc":
        from bcmonitor.btc import BtcMonitor
        from bws.adapters.bitcoind_rpc import BitcoindRpc

        rpc = BitcoindRpc(opts.url, deps.reactor, timeout=opts.timeout)
        monitor = BtcMonitor(storage, notifier, rpc, deps.reactor,
                             coin="btc", network=network, third_party_delay=args.third_party_delay,
                             broadcasts=broadcasts)
        runner = BtcRunner(monitor, deps.reactor, host, int(port), magic)
        log.info("bcmonitor btc %s: node p2p %s, rpc %s", network, opts.p2p, rpc.where)
    else:
        from web3 import AsyncWeb3

        from bcmonitor.evm import EvmMonitor
        from bws.aio import as_deferred

        token = opts.tokenAddress
        if args.chain == "eth" and not token:
            try_opts = (cfg.blockchainExplorerOpts.get("try") or {}).get(network)
            token = try_opts.tokenAddress if try_opts else ""
        w3 = AsyncWeb3(AsyncWeb3.AsyncHTTPProvider(opts.url))
        if opts.chainId:
            got = await as_deferred(w3.eth.chain_id)
            if got != opts.chainId:
                raise ConfigError(f"blockchainExplorerOpts.{args.chain}.{network}.chainId: {opts.chainId}, "
                                  f"but the node's chain id is {got}")
        monitor = EvmMonitor(storage, notifier, w3, deps.reactor, coin=args.chain, network=network,
                             token_coin="try" if token and args.chain == "eth" else None,
                             token_address=token if args.chain == "eth" else None,
                             confirmations=opts.confirmations, broadcasts=broadcasts)
        runner = EvmRunner(monitor, deps.reactor, opts.pollInterval)
        log.info("bcmonitor %s %s: rpc %s every %ss, %d confirmations, token %s", args.chain, network,
                 opts.url, opts.pollInterval, opts.confirmations, token or "-")
    await runner.start()
    return runtime.CallbackService("bcmonitor", stop=runner.stop)


def main(argv: Optional[Sequence[str]] = None) -> int:
    from bws import runtime

    return runtime.run("python -m bcmonitor", DESCRIPTION, build, epilog=EPILOG, add_args=add_args, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
