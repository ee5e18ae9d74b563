"""JSON request bodies as body-parser ``json({strict: true})`` reads them
(docs/spec/api.md §2.2), hardened: object or array only, nested at most
:data:`MAX_JSON_DEPTH` levels (counted on the text, before parsing), and
nothing a stored document cannot hold (unpaired surrogates, NUL in keys).
Every refusal is :class:`~bws.http.request.HttpError` 400
``{"code": "BADREQUEST", "message": "Invalid JSON..."}``.  The size limit
(413) is the app's (bws/http/app.py ``BODY_LIMIT``).
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional

from bws.http.request import HttpError

#: deepest JSON nesting accepted in a body (MongoDB stores at most 100 levels;
#: deeper input would only fail later, in storage or in recursive code)
MAX_JSON_DEPTH = 64


def content_type_is_json(value: Optional[str]) -> bool:
    """True for ``application/json`` with or without parameters (any case)."""
    if not value:
        return False
    return value.split(";", 1)[0].strip().lower() == "application/json"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"invalid JSON constant {name}")


def parse_json_body(data: bytes) -> Any:
    """body-parser ``json({strict: true})``: object or array only; HttpError
    400 ``{"code":"BADREQUEST","message":"Invalid JSON"}`` otherwise."""
    try:
        text = data.decode("utf-8")
        if text.startswith("\ufeff"):
            text = text[1:]
        stripped = text.lstrip(" \t\r\n")
        if not stripped or stripped[0] not in "{[":
            raise ValueError("strict JSON: object or array expected")
    except ValueError:
        raise HttpError(400, {"code": "BADREQUEST", "message": "Invalid JSON"}) from None
    # Depth is checked on the text, before the C parser sees it: the parser
    # recurses once per level and is bounded only by the recursion limit, which
    # an imported library may raise far beyond what the C stack holds (py_ecc
    # sets 100,000: 80,000 '[' then segfaulted the process).
    if json_too_deep(text):
        raise HttpError(400, {"code": "BADREQUEST", "message": f"Invalid JSON: nested deeper than {MAX_JSON_DEPTH} levels"})
    try:
        parsed = json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        raise HttpError(400, {"code": "BADREQUEST", "message": "Invalid JSON"}) from None
    # \u escapes can spell what no stored document can hold: an unpaired
    # surrogate (not UTF-8) or a NUL in a key (BSON keys are C strings).  Both
    # failed later, in the database driver, as a 500.  Only a text with such an
    # escape is walked.
    if _ODD_ESCAPE.search(text):
        problem = _unstorable(parsed)
        if problem:
            raise HttpError(400, {"code": "BADREQUEST", "message": f"Invalid JSON: {problem}"})
    return parsed


#: ``\u0000`` or a surrogate escape (``\ud800``-``\udfff``)
_ODD_ESCAPE = re.compile(r"\\u(?:0000|[dD][89a-fA-F])")


def _unstorable(value: Any) -> Optional[str]:
    """Why a parsed body cannot be stored as is (None when it can): a string
    or key with an unpaired surrogate, or a key containing NUL."""
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, dict):
            for k, item in v.items():
                if "\x00" in k:
                    return "NUL character in an object key"
                if not _utf8_encodable(k):
                    return "unpaired surrogate in an object key"
                stack.append(item)
        elif isinstance(v, list):
            stack.extend(v)
        elif isinstance(v, str) and not _utf8_encodable(v):
            return "unpaired surrogate in a string"
    return None


def _utf8_encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def json_too_deep(text: str) -> bool:
    """True when a JSON text nests brackets deeper than MAX_JSON_DEPTH.

    Counted on the text without parsing: string literals are removed first so
    their brackets do not count (an unterminated string leaves its brackets
    counted, which only over-estimates a text the parser refuses anyway).
    Cheap: a text with at most MAX_JSON_DEPTH opening brackets cannot be too
    deep and is not scanned; otherwise two regex passes and one pass over the
    brackets alone."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return False
    depth = 0
    for ch in _NOT_BRACKET.sub("", _JSON_STRING.sub("", text)):
        if ch in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        else:
            depth -= 1
    return False


__all__ = ["MAX_JSON_DEPTH", "content_type_is_json", "json_too_deep", "parse_json_body"]
