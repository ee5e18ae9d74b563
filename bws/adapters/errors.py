"""Errors raised by the chain adapters (explorers, the bitcoind JSON-RPC client).

docs/spec/api.md §6.20 (the explorer contract) and §7.3 (how a backend failure
reaches the client).
"""

from __future__ import annotations

from bws.errors import ServerError

__all__ = ["ExplorerError"]


class ExplorerError(ServerError):
    """The chain backend failed: node unreachable, timeout, bad answer, or an
    RPC error the caller cannot treat as "not found".

    A :class:`bws.errors.ServerError`, so the HTTP layer answers
    ``500 {"error": message}`` (docs/spec/api.md §6.11: broadcast errors reach
    the client that way). Messages never contain the RPC credentials. The
    node's own JSON-RPC errors are :class:`bws.adapters.bitcoind_rpc.RpcError`.
    """
