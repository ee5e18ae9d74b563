"""Blockchain explorer backends: what the services ask a chain (docs/spec/api.md §6.20).

The contract is :class:`bws.interfaces.Explorer` (:class:`bws.interfaces.EvmExplorer`
for the EVM additions). One backend per ``blockchainExplorerOpts.<coin>.<network>``
(:class:`bws.config.ExplorerOpts`), chosen by its ``provider``:

* ``bitcoind`` -- :mod:`bws.adapters.explorers.bitcoind`, Bitcoin Core JSON-RPC
  (btc, bch; tested against litecoind 0.21 regtest, docs/spec/toolchain.md §3);
* ``web3`` -- :mod:`bws.adapters.explorers.web3`, EVM JSON-RPC (eth, tri);
* ``erc20`` -- :mod:`bws.adapters.explorers.erc20`, the TRY token on the eth chain.

Each module has a ``make_explorer(coin, network, opts, ...)``; bws/runtime.py
``make_explorers`` builds them all once per process. Callers keep the instance
(it owns an HTTP connection pool and caches).
"""
