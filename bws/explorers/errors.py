"""Errors raised by blockchain explorer backends (spec/api.md §6.20, §7.3)."""

from __future__ import annotations

from typing import Optional

from bws.errors import ServerError

__all__ = ["ExplorerError", "RpcError"]


class ExplorerError(ServerError):
    """The chain backend failed: node unreachable, timeout, bad answer, or an
    RPC error the caller cannot treat as "not found".

    A :class:`bws.errors.ServerError`, so the HTTP layer answers
    ``500 {"error": message}`` (spec §6.11: broadcast errors reach the client
    that way). Messages never contain the RPC credentials.
    """


class RpcError(ExplorerError):
    """A JSON-RPC error answer from the node.

    ``message``: the node's own message (e.g. ``"TX decode failed"``), which is
    what the client sees; ``code``: the node's numeric code (e.g. -5 not found,
    -22 decode failed, -26 rejected, -25 missing inputs); ``method``: the RPC.
    """

    def __init__(self, code: Optional[int], message: str, method: str):
        super().__init__(message)
        self.code = code
        self.method = method

    def __repr__(self) -> str:
        return f"RpcError({self.code!r}, {self.message!r}, method={self.method!r})"
