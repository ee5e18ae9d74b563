"""Errors raised by the chain rules (docs/spec/api.md §7).

Named client errors come from :mod:`bws.errors` (``client_error(code)`` →
``ClientError(code, default message)``). Build failures that the reference
reports as bitcore exceptions (HTTP 500 ``{"error": message}``) are
:class:`TxBuildError`, a :class:`bws.errors.ServerError`.
"""

from __future__ import annotations

from bws.errors import ClientError, ServerError, client_error

__all__ = ["ClientError", "ServerError", "client_error", "TxBuildError"]


class TxBuildError(ServerError):
    """A transaction could not be built/serialised (bitcore exception → 500)."""
