"""Errors shared by the whole port (docs/spec/api.md §2.4, §7).

* :class:`ClientError` -- the reference ``ClientError``: ``code`` + ``message``,
  sent as ``{"code", "message"}`` with HTTP 400 (401 for ``NOT_AUTHORIZED``).
  ``ClientError()`` -> BADREQUEST "Bad request"; ``ClientError("text")`` ->
  BADREQUEST "text"; ``ClientError(code, message)``.
* ``Errors.<CODE>`` / :func:`client_error` build the named errors of docs/spec/api.md §7.1 with
  their default message (or a custom one).
* :class:`ServerError` -- the reference's bare strings / ``Error`` objects:
  sent as ``{"error": message}`` with HTTP 500 (or the numeric ``status``).
* :class:`StorageError` and its kinds :class:`StorageUnavailable` (database
  unreachable or too slow) and :class:`StorageBusy` (a transactional write kept
  conflicting): raised by ``bws/storage/`` so no other layer needs the driver's
  exception types; the HTTP layer answers the last two with 503.
"""

from __future__ import annotations

from typing import Any

BADREQUEST = "BADREQUEST"

#: code -> default message (docs/spec/api.md §7.1)
ERROR_MESSAGES: dict[str, str] = {
    "BAD_SIGNATURES": "Bad signatures",
    "COPAYER_DATA_MISMATCH": "Copayer data mismatch",
    "COPAYER_IN_WALLET": "Copayer already in wallet",
    "COPAYER_REGISTERED": "Copayer ID already registered on server",
    "COPAYER_VOTED": "Copayer already voted on this transaction proposal",
    "DUST_AMOUNT": "Amount below dust threshold",
    "INCORRECT_ADDRESS_NETWORK": "Incorrect address network",
    "INSUFFICIENT_FUNDS": "Insufficient funds",
    "INSUFFICIENT_FUNDS_FOR_FEE": "Insufficient funds for fee",
    "INSUFFICIENT_ETH_FOR_FEE": "Insufficient ETH funds for fee",
    "INVALID_ADDRESS": "Invalid address",
    "INVALID_CHANGE_ADDRESS": "Invalid change address",
    "INVALID_NUMBER_FORMAT": "Invalid number format",  # upstream 11.x (numberFormat query)
    "KEY_IN_COPAYER": "Key already registered",
    "LOCKED_FUNDS": "Funds are locked by pending transaction proposals",
    "HISTORY_LIMIT_EXCEEDED": "Requested page limit is above allowed maximum",
    "MAIN_ADDRESS_GAP_REACHED": "Maximum number of consecutive addresses without activity reached",
    "NOT_AUTHORIZED": "Not authorized",
    "TOO_MANY_KEYS": "Too many keys registered",
    "TX_ALREADY_BROADCASTED": "The transaction proposal is already broadcasted",
    "TX_CANNOT_CREATE": "Cannot create TX proposal during backoff time",
    "TX_CANNOT_REMOVE": "Cannot remove this tx proposal during locktime",
    "TX_MAX_SIZE_EXCEEDED": "TX exceeds maximum allowed size",
    "TX_NOT_ACCEPTED": "The transaction proposal is not accepted",
    "TX_NOT_FOUND": "Transaction proposal not found",
    "TX_NOT_PENDING": "The transaction proposal is not pending",
    "UNAVAILABLE_UTXOS": "Unavailable unspent outputs",
    "UPGRADE_NEEDED": "Client app needs to be upgraded",
    "WALLET_ALREADY_EXISTS": "Wallet already exists",
    "WALLET_FULL": "Wallet full",
    "WALLET_BUSY": "Wallet is busy, try later",
    "WALLET_NOT_COMPLETE": "Wallet is not complete",
    "WALLET_NOT_FOUND": "Wallet not found",
    "WALLET_NEED_SCAN": "Wallet needs addresses scan",
}


class BWSError(Exception):
    """Base of the errors that reach the HTTP error envelope."""

    def http_status(self) -> int:  # pragma: no cover - overridden
        return 500

    def to_body(self) -> dict[str, Any]:  # pragma: no cover - overridden
        raise NotImplementedError


class ClientError(BWSError):
    """A client mistake: body ``{"code": code, "message": message}``, HTTP 400
    (401 for NOT_AUTHORIZED).

    ``ClientError()`` -> (BADREQUEST, "Bad request"); ``ClientError(msg)`` ->
    (BADREQUEST, msg); ``ClientError(code, msg)``.  ``code`` alone as a known
    code name is *not* special-cased (use :func:`client_error` for defaults)."""

    def __init__(self, *args: Any) -> None:
        if len(args) == 0:
            code, message = BADREQUEST, "Bad request"
        elif len(args) == 1:
            code, message = BADREQUEST, args[0]
        else:
            code, message = args[0], args[1]
        super().__init__(code, message)
        self.code: str = code
        self.message: Any = message

    def http_status(self) -> int:
        """401 for NOT_AUTHORIZED, else 400."""
        return 401 if self.code == "NOT_AUTHORIZED" else 400

    def to_body(self) -> dict[str, Any]:
        """``{"code", "message"}``."""
        return {"code": self.code, "message": self.message}

    def __str__(self) -> str:
        return f"<ClientError:{self.code} {self.message}>"

    def __repr__(self) -> str:
        return f"ClientError({self.code!r}, {self.message!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClientError):
            return NotImplemented
        return (self.code, self.message) == (other.code, other.message)

    __hash__ = Exception.__hash__


def client_error(code: str, message: str | None = None) -> ClientError:
    """Named error ``code`` (docs/spec/api.md §7.1) with its default message unless
    ``message`` is given.  Unknown codes raise KeyError (typo guard)."""
    default = ERROR_MESSAGES[code]
    return ClientError(code, default if message is None else message)


def bad_request(message: str = "Bad request") -> ClientError:
    """``ClientError(BADREQUEST, message)``."""
    return ClientError(BADREQUEST, message)


class _ErrorFactory:
    """``Errors.WALLET_NOT_FOUND`` -> a fresh ClientError with the default
    message; ``Errors.WALLET_NOT_FOUND.code``/``.message`` are readable too.
    ``Errors.codes`` is the set of names."""

    codes = frozenset(ERROR_MESSAGES)

    def __getattr__(self, name: str) -> ClientError:
        if name in ERROR_MESSAGES:
            return ClientError(name, ERROR_MESSAGES[name])
        raise AttributeError(name)

    def __dir__(self):
        return sorted(ERROR_MESSAGES)


Errors = _ErrorFactory()


class ServerError(BWSError):
    """A non-client error of the reference (plain string or ``Error``):
    body ``{"error": message}``, HTTP ``status`` (default 500).

    E.g. ``ServerError("INSUFFICIENT_ETH_FOR_FEE")`` (the fork's TRY broadcast),
    ``ServerError("Bad xPub")``, explorer error strings."""

    def __init__(self, message: str, status: int = 500) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def http_status(self) -> int:
        return self.status

    def to_body(self) -> dict[str, Any]:
        """``{"error": message}``."""
        return {"error": self.message}

    def __repr__(self) -> str:
        return f"ServerError({self.message!r}, {self.status})"


class StorageError(Exception):
    """A database operation failed for a reason the caller may want to report
    (e.g. a wallet or notification id that could not be allocated). Raised by
    bws/storage/ only."""


class StorageUnavailable(StorageError):
    """The database did not answer in time: unreachable (server selection
    timeout, connection refused or reset, network timeout) or an operation ran
    past ``storageOpts.mongoDb.timeoutMS``. The API answers 503
    SERVICE_UNAVAILABLE; the write may or may not have landed, as with any lost
    answer. The driver's error is the ``__cause__``."""


class StorageBusy(StorageError):
    """A transactional write kept failing for a transient reason (a write
    conflict, typically with the transaction a killed process left open,
    which the server aborts only after its transaction lifetime, 60 s by
    default) for longer than ``storageOpts.mongoDb.transactionTimeoutMS``.
    The API answers 503 SERVICE_UNAVAILABLE and the client may retry. Nothing
    was written, unless the last attempt was a commit whose answer was lost:
    then the whole transaction may have landed (never a part of it)."""


__all__ = [
    "BADREQUEST",
    "ERROR_MESSAGES",
    "BWSError",
    "ClientError",
    "ServerError",
    "Errors",
    "client_error",
    "bad_request",
    "StorageError",
    "StorageUnavailable",
    "StorageBusy",
]
