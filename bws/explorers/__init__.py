"""Blockchain explorer backends: what the service asks a chain (spec/api.md §6.20).

* :mod:`bws.explorers.bitcoind` -- Bitcoin Core JSON-RPC (BTC/BCH; tested
  against litecoind 0.21 regtest, see spec/toolchain.md §3).

:func:`make_explorer` builds one backend per (coin, network) from
``blockchainExplorerOpts.<coin>.<network>`` (:class:`bws.config.ExplorerOpts`).
Callers keep the instance (it owns an HTTP connection pool and caches).
"""

from __future__ import annotations

import importlib
from typing import Any, Mapping, Union

from bws.explorers.errors import ExplorerError, RpcError

__all__ = ["ExplorerError", "RpcError", "make_explorer"]


def _opt(opts: Union[Mapping[str, Any], Any], name: str, default: Any = None) -> Any:
    if isinstance(opts, Mapping):
        return opts.get(name, default)
    return getattr(opts, name, default)


def make_explorer(coin: str, network: str, opts: Union[Mapping[str, Any], Any]):
    """The explorer for ``coin`` ("btc", "bch", ...) on ``network``
    ("livenet" | "testnet"; regtest counts as testnet) described by ``opts``.

    opts: a :class:`bws.config.ExplorerOpts` (or a dict with the same keys):
    ``provider`` ("bitcoind"), ``url`` (``http://user:pass@host:port``, optionally
    ``…/wallet/<name>`` to choose the watch-only wallet, default "bws-watch").
    Optional keys not (yet) in ExplorerOpts are honoured when present:
    ``timeout`` (s, default 30), ``concurrency`` (default 8), ``rescanTimeout``
    (s, default 3600), ``wallet``.

    Other providers are looked up as ``bws.explorers.<provider>.make_explorer``.
    Raises ValueError for an unknown provider or a missing url.
    """
    provider = _opt(opts, "provider", "bitcoind") or "bitcoind"
    if provider == "bitcoind":
        from bws.explorers.bitcoind import BitcoindExplorer

        url = _opt(opts, "url", "")
        if not url:
            raise ValueError(f"blockchainExplorerOpts.{coin}.{network}.url: required")
        kwargs = {}
        for key, kw in (("timeout", "timeout"), ("concurrency", "concurrency"),
                        ("rescanTimeout", "rescan_timeout"), ("wallet", "wallet")):
            value = _opt(opts, key)
            if value:
                kwargs[kw] = value
        return BitcoindExplorer(coin, network, url, **kwargs)
    try:
        module = importlib.import_module(f"bws.explorers.{provider}")
    except ImportError:
        module = None
    factory = getattr(module, "make_explorer", None)
    if factory is None:
        raise ValueError(f"blockchainExplorerOpts.{coin}.{network}.provider: unsupported provider {provider!r}")
    return factory(coin, network, opts)
