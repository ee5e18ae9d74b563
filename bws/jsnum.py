"""JavaScript numeric emulation (docs/spec/api.md §1).

The reference service is JavaScript; a few of its results depend on IEEE-double
arithmetic and on the exact rounding rules of ``Math.round``,
``Number.prototype.toFixed``, ``parseInt`` and ``Number.prototype.toString``.
These helpers reproduce them so amounts and fees come out identical.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["is_number", "js_round", "to_fixed0", "strip", "js_parse_int", "js_number_str", "MAX_SAFE_INTEGER", "js_integral"]

#: ``Number.MAX_SAFE_INTEGER``: the largest integer a double (a JS number) holds exactly
MAX_SAFE_INTEGER = 2**53 - 1


def is_number(value) -> bool:
    """lodash ``_.isNumber`` minus NaN: an int or float, not a bool, not NaN
    (how the reference tests a client-sent ``fee``/``feePerKb``/``amount``)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == value


def js_round(x: float) -> int:
    """``Math.round(x)`` = ``floor(x + 0.5)`` (ties go towards +infinity).

    x: int | float; returns int. NaN/infinity raise ValueError (never happens
    for amounts).
    """
    return math.floor(x + 0.5)


def to_fixed0(x: float) -> int:
    """``x.toFixed(0)`` as an int.

    toFixed works on the exact binary value of the double and rounds a tie
    away from zero, so ``(0.5).toFixed(0) == "1"`` but ``(1.005*1000)``
    rounds according to its real binary expansion. Decimal(float) is exact.
    """
    return int(Decimal(x).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def strip(x: float) -> float:
    """Round to 12 significant digits: ``strip(0.0004 * 1e8) == 40000.0``.

    Used when converting coin floats (BTC) into integer units; wrap in int()
    when an integer is needed.
    """
    return float(format(x, ".12g"))


_INT_PREFIX = re.compile(r"^[ \t\n\r\v\f\u00a0\ufeff\u2028\u2029]*([+-]?)(0[xX])?")


def js_parse_int(value) -> int | float:
    """``parseInt(value)`` with radix 10 (or 16 for a ``0x`` prefix).

    value: str, int or float (numbers are first converted with the JS
    ``String()`` rules, so ``js_parse_int(1e21) == 1``). Returns an int, or
    ``math.nan`` when no digit can be read (compare with ``math.isnan``).
    """
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)):
        text = js_number_str(value)
    else:
        text = str(value)
    m = _INT_PREFIX.match(text)
    sign, hexprefix = m.group(1), m.group(2)
    rest = text[m.end():]
    digits = re.match(r"[0-9a-fA-F]*" if hexprefix else r"[0-9]*", rest).group(0)
    if not digits:
        return math.nan
    n = int(digits, 16 if hexprefix else 10)
    return -n if sign == "-" else n


def js_integral(x: float) -> int | float:
    """A JS number (a finite or infinite double) as Python: ``int`` when it is
    integral and within +-MAX_SAFE_INTEGER, else the float itself.

    ``int(float("1e308"))`` is a 309-digit int that BSON (int64) cannot store or
    query, and ``int(inf)`` raises; the reference keeps such a value a double,
    and so does this (MongoDB compares ints and doubles by value)."""
    if isinstance(x, float) and x.is_integer() and abs(x) <= MAX_SAFE_INTEGER:
        return int(x)
    return x


def js_number_str(x: int | float) -> str:
    """ECMAScript ``Number.prototype.toString()`` (docs/spec/api.md §3.4).

    Python ints below 2**53 print as plain digits; larger ints are first
    rounded to a double, as JSON.parse would have done in the client.
    Floats use the shortest round-trip digits (as ``repr``) with JS's
    exponent thresholds: ``1e21 -> "1e+21"``, ``1.5e-7 -> "1.5e-7"``,
    ``123.0 -> "123"``, ``-0.0 -> "0"``, NaN -> "NaN", inf -> "Infinity".
    """
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        if abs(x) < 2**53:
            return str(x)
        x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0:
        return "0"
    if x < 0:
        return "-" + js_number_str(-x)
    # Shortest round-trip digits: repr() gives them; Decimal splits digits/exponent.
    d = Decimal(repr(x)).normalize()
    _, digit_tuple, exp = d.as_tuple()
    s = "".join(str(c) for c in digit_tuple)
    k = len(s)
    n = exp + k  # value = 0.s * 10**n
    if k <= n <= 21:
        return s + "0" * (n - k)
    if 0 < n <= 21:
        return s[:n] + "." + s[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + s
    e = n - 1
    sign = "+" if e >= 0 else "-"
    mant = s if k == 1 else s[0] + "." + s[1:]
    return f"{mant}e{sign}{abs(e)}"
