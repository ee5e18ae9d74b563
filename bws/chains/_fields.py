"""Read/write fields of a proposal-like value that is either a dict or an object.

The model classes are written elsewhere; these functions accept both the
stored dict shape (spec/api.md §5.4) and attribute-style objects.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any


def get(obj: Any, key: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, Mapping):
        value = obj.get(key, default)
    else:
        value = getattr(obj, key, default)
    return default if value is None else value


def put(obj: Any, key: str, value: Any) -> None:
    if isinstance(obj, MutableMapping):
        obj[key] = value
    else:
        setattr(obj, key, value)


def is_number(value: Any) -> bool:
    """JS ``_.isNumber`` minus NaN: int or float, not bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
