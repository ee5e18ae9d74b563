"""Fee levels from fee-estimator samples (docs/spec/api.md §6.5, §8.3, §9.4).

Pure: the caller asks the explorer for :func:`sample_points` and passes the
answer (``{nbBlocks: feePerKb in BTC/kB, -1 when unknown}``) to
:func:`compute_fee_levels`. Caching (5 min, keyed by coin+network) is the
caller's.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence

from bws.chains.constants import EVM_COINS, FEE_LEVELS, FEE_LEVELS_FALLBACK
from bws.jsnum import is_number, strip, to_fixed0

__all__ = ["sample_points", "compute_fee_levels", "static_fee_levels", "fee_level_names"]


def fee_level_names(coin: str) -> list[str]:
    return [lvl["name"] for lvl in FEE_LEVELS[coin]]


def sample_points(levels: Sequence[Mapping]) -> list[int]:
    """nbBlocks values to ask the estimator for: n, n+1, n+2 for each level (unique, in order)."""
    out: list[int] = []
    for lvl in levels:
        for k in range(lvl["nbBlocks"], lvl["nbBlocks"] + FEE_LEVELS_FALLBACK + 1):
            if k not in out:
                out.append(k)
    return out


def _parse_samples(samples: Mapping[Any, Any]) -> dict[int, float]:
    """{nbBlocks: sat/kB float}; non-numeric, missing and non-positive samples dropped."""
    out: dict[int, float] = {}
    for k, v in samples.items():
        try:
            n = int(k)
        except (TypeError, ValueError):
            continue
        if isinstance(v, str):
            try:
                v = float(v)
            except ValueError:
                continue
        # bitcoind/insight answer -1 for "no estimate"; 0 is no estimate either.
        if is_number(v) and v > 0:
            out[n] = strip(v * 1e8)
    return out


def compute_fee_levels(
    levels: Sequence[Mapping] | str,
    samples: Optional[Mapping[Any, Any]],
) -> list[dict]:
    """Fee levels ``[{level, feePerKb (int, sat/kB), nbBlocks (int | None)}]``.

    levels: a FEE_LEVELS list (``{name, nbBlocks, defaultValue, multiplier?}``)
    or a coin name; samples: estimator answer in BTC/kB keyed by nbBlocks
    (ints or numeric strings), or None when the estimator failed (→ all
    defaults, nbBlocks None). A level uses the first valid sample among
    nbBlocks, +1, +2 (times its multiplier), else its default (no multiplier)
    with nbBlocks None; values are then made non-increasing down the list.
    """
    if isinstance(levels, str):
        levels = FEE_LEVELS[levels]
    parsed = _parse_samples(samples) if samples is not None else None
    values: list[dict] = []
    for lvl in levels:
        result = {"level": lvl["name"], "feePerKb": lvl["defaultValue"], "nbBlocks": None}
        if parsed is not None:
            for n in range(lvl["nbBlocks"], lvl["nbBlocks"] + FEE_LEVELS_FALLBACK + 1):
                if n in parsed:
                    result["feePerKb"] = to_fixed0(parsed[n] * (lvl.get("multiplier") or 1))
                    result["nbBlocks"] = n
                    break
        values.append(result)
    for i in range(1, len(values)):
        values[i]["feePerKb"] = min(values[i]["feePerKb"], values[i - 1]["feePerKb"])
    return values


def static_fee_levels(coin: str) -> list[dict]:
    """ETH/TRY levels (docs/spec/api.md §9.4): defaults with their nbBlocks, no multiplier, no estimation."""
    if coin not in EVM_COINS:
        raise ValueError("static fee levels exist only for eth/try")
    return [{"level": l["name"], "feePerKb": l["defaultValue"], "nbBlocks": l["nbBlocks"]} for l in FEE_LEVELS[coin]]
