"""Block monitors: turn chain activity into wallet notifications.

* ``python -m bcmonitor btc``: push-based, a Bitcoin P2P connection to a trusted
  node (:mod:`bcmonitor.p2p`) feeding :class:`bcmonitor.btc.BtcMonitor`; JSON-RPC
  (:mod:`bws.adapters.bitcoind_rpc`) for back-fill after a restart and for reorgs.
* ``python -m bcmonitor eth`` / ``tri``: :class:`bcmonitor.evm.EvmMonitor` polls an
  EVM JSON-RPC node (native transfers, ERC20 ``Transfer`` logs of the TRY token).

Every notification is stored, then published (:mod:`bcmonitor.notify`).
"""
