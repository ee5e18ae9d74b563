"""Shared machinery of the model classes.

JS ``JSON.stringify`` semantics are reproduced with the :data:`UNDEFINED`
sentinel: an attribute holding ``UNDEFINED`` is *omitted* by ``to_dict()``,
an attribute holding ``None`` is emitted as ``null``.  ``from_dict()`` turns a
missing key into ``UNDEFINED`` and keeps an explicit ``None``, so
``to_dict -> from_dict -> to_dict`` is the identity.

``UNDEFINED`` is falsy, so ``if txp.message:`` works for both ``None`` and
absent values; use :func:`is_defined` when the difference matters.

Every model keeps keys it does not know in ``self.extra`` (a dict) and emits
them again, so documents written by newer code survive a round trip.  The
storage ``_id`` and storage-only derived keys (``isPending``, ``isShared``)
are never kept.
"""

from __future__ import annotations

import copy
import math
import time
from typing import Any, ClassVar


class _Undefined:
    """Type of :data:`UNDEFINED` (JS ``undefined``)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce__(self):
        return (_Undefined, ())


#: JS ``undefined``: the field is omitted from ``to_dict()``.
UNDEFINED: Any = _Undefined()


def is_defined(value: Any) -> bool:
    """True unless ``value`` is :data:`UNDEFINED` (``None`` *is* defined)."""
    return value is not UNDEFINED


def or_none(value: Any) -> Any:
    """``UNDEFINED`` -> ``None``; anything else unchanged."""
    return None if value is UNDEFINED else value


def or_default(value: Any, default: Any) -> Any:
    """``default`` when ``value`` is ``UNDEFINED`` or ``None``; else ``value``
    (a stored ``0`` or ``""`` is kept, unlike ``value or default``)."""
    return default if value is None or value is UNDEFINED else value


def now_ms() -> int:
    """Current time: int, unix milliseconds."""
    return int(time.time() * 1000)


def now_s() -> int:
    """Current time: int, unix seconds (``floor(now_ms / 1000)``)."""
    return now_ms() // 1000


def to_seconds(now: float | int | None) -> int:
    """``now`` (unix seconds, int or float, or None = current time) -> int seconds."""
    if now is None:
        return now_s()
    return int(math.floor(now))


def to_millis(now: float | int | None) -> int:
    """``now`` (unix seconds, int or float, or None = current time) -> int ms."""
    if now is None:
        return now_ms()
    return int(math.floor(now * 1000))


def pad14(ms: int) -> str:
    """``_.padStart(ms, 14, '0')``: epoch milliseconds as a 14-char string."""
    return str(int(ms)).zfill(14)


def clean(value: Any) -> Any:
    """Deep copy of a plain JSON-like value with ``UNDEFINED`` entries dropped
    from dicts (and turned into ``None`` inside lists, like ``JSON.stringify``).
    Model instances found inside are converted with ``to_dict()``."""
    if value is UNDEFINED:
        return UNDEFINED
    if isinstance(value, Model):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if v is not UNDEFINED}
    if isinstance(value, (list, tuple)):
        return [None if v is UNDEFINED else clean(v) for v in value]
    return copy.deepcopy(value)


def js_int(value: Any) -> int | None:
    """``parseInt(value)`` for versions: ``1``, ``"1"``, ``"1.0.0"`` -> 1; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else None
    if isinstance(value, str):
        s = value.strip()
        digits = ""
        for i, ch in enumerate(s):
            if ch.isdigit() or (i == 0 and ch in "+-"):
                digits += ch
            else:
                break
        try:
            return int(digits)
        except ValueError:
            return None
    return None


def js_number(value: Any) -> float | None:
    """``+value`` for versions (``"3"`` -> 3.0, ``"2.0.0"`` -> None i.e. NaN)."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip()) if value.strip() else 0.0
        except ValueError:
            return None
    return None


class Model:
    """Base of every model.

    Subclasses declare ``FIELDS``: a tuple of ``(attribute, wireName)`` pairs in
    output order.  All attributes start as :data:`UNDEFINED`.  Override
    ``_encode(attr, value)`` / ``_decode(attr, value)`` for nested models.
    """

    FIELDS: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: storage-only derived keys, dropped by from_dict()
    DERIVED: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **attrs: Any) -> None:
        for attr, _wire in self.FIELDS:
            setattr(self, attr, UNDEFINED)
        self.extra: dict[str, Any] = {}
        for k, v in attrs.items():
            if k not in self._attr_names():
                raise TypeError(f"{type(self).__name__} has no field {k!r}")
            setattr(self, k, v)

    # -------------------------------------------------------------- helpers
    @classmethod
    def _attr_names(cls) -> set[str]:
        names = cls.__dict__.get("_attr_cache")
        if names is None:
            names = {a for a, _w in cls.FIELDS}
            cls._attr_cache = names
        return names

    @classmethod
    def _wire_names(cls) -> set[str]:
        names = cls.__dict__.get("_wire_cache")
        if names is None:
            names = {w for _a, w in cls.FIELDS}
            cls._wire_cache = names
        return names

    def _encode(self, attr: str, value: Any) -> Any:
        return clean(value)

    @classmethod
    def _decode(cls, attr: str, value: Any) -> Any:
        return copy.deepcopy(value)

    def _derived(self) -> dict[str, Any]:
        """Storage-only fields (override)."""
        return {}

    # -------------------------------------------------------------- public
    def to_dict(self, for_storage: bool = False) -> dict[str, Any]:
        """JSON-ready dict with the reference wire names.  ``UNDEFINED`` fields
        are omitted, ``None`` ones kept.  ``for_storage=True`` adds the derived
        storage-only fields (see ``DERIVED``)."""
        out: dict[str, Any] = {}
        for attr, wire in self.FIELDS:
            value = getattr(self, attr)
            if value is UNDEFINED:
                continue
            value = self._encode(attr, value)
            if value is UNDEFINED:
                continue
            out[wire] = value
        for k, v in self.extra.items():
            if k not in out and v is not UNDEFINED:
                out[k] = clean(v)
        if for_storage:
            out.update(self._derived())
        return out

    def to_storage(self) -> dict[str, Any]:
        """Same as ``to_dict(for_storage=True)``."""
        return self.to_dict(for_storage=True)

    @classmethod
    def _from_dict_fields(cls, obj, d: dict[str, Any]):
        for attr, wire in cls.FIELDS:
            if wire in d:
                setattr(obj, attr, cls._decode(attr, d[wire]))
        skip = cls._wire_names() | set(cls.DERIVED) | {"_id"}
        obj.extra = {k: copy.deepcopy(v) for k, v in d.items() if k not in skip}
        return obj

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        """Build from a stored / wire document (``_id`` ignored)."""
        if d is None:
            raise ValueError(f"{cls.__name__}.from_dict: no document")
        return cls._from_dict_fields(cls(), d)

    def copy(self):
        """Deep copy (through to_dict/from_dict)."""
        return type(self).from_dict(self.to_dict())

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.to_dict(for_storage=True) == other.to_dict(for_storage=True)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        ident = getattr(self, "id", UNDEFINED)
        return f"<{type(self).__name__} {ident!r}>" if ident is not UNDEFINED else f"<{type(self).__name__}>"


#: storage-only key of the last-writer-wins documents (TxNote, Preferences,
#: Session): digests of the signed requests that changed the document, oldest first
APPLIED_REQUESTS = "appliedRequests"
#: digests such a document keeps (an older request could be replayed again)
MAX_APPLIED_REQUESTS = 100


class RequestLog(Model):
    """A model whose stored document remembers which signed requests changed
    it, so that a replayed request cannot undo a newer change (docs/security.md
    §4; the digests come from :func:`bws.http.auth.request_digest`).

    ``applied_requests``: list of digests (str), oldest first, at most
    :data:`MAX_APPLIED_REQUESTS`; stored under :data:`APPLIED_REQUESTS`, never
    on the wire (``to_dict()`` without ``for_storage``)."""

    DERIVED: ClassVar[tuple[str, ...]] = (APPLIED_REQUESTS,)

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        self.applied_requests: list[str] = []

    @classmethod
    def _from_dict_fields(cls, obj, d: dict[str, Any]):
        obj = super()._from_dict_fields(obj, d)
        log = d.get(APPLIED_REQUESTS)
        obj.applied_requests = [x for x in log if isinstance(x, str)] if isinstance(log, list) else []
        return obj

    def _derived(self) -> dict[str, Any]:
        return {APPLIED_REQUESTS: list(self.applied_requests)} if self.applied_requests else {}

    def last_request(self) -> str | None:
        """Digest of the request that made the latest change, or None."""
        return self.applied_requests[-1] if self.applied_requests else None

    def record_request(self, digest: str | None) -> None:
        """Remember ``digest`` as the latest change (no-op for None: a call
        that did not come from a signed request)."""
        if not digest:
            return
        if digest in self.applied_requests:
            self.applied_requests.remove(digest)
        self.applied_requests.append(digest)
        del self.applied_requests[:-MAX_APPLIED_REQUESTS]
