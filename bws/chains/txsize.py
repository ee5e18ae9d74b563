"""Size and fee estimation for BTC/BCH proposals (spec/api.md §6.6).

Sizes are bytes, fees are satoshis, feePerKb is satoshis per 1000 bytes.
"""

from __future__ import annotations

from typing import Any

from bws.chains import _fields as F
from bws.jsnum import to_fixed0

__all__ = ["size_per_input", "estimate_size", "estimate_fee", "estimate_size_for"]

_OVERHEAD = 4 + 4 + 9 + 9  # version + locktime + two varints (bitcore's estimate)
_OUTPUT_SIZE = 34
_SAFETY_MARGIN = 0.02


def size_per_input(address_type: str | None, required_signatures: int, wallet_n: int) -> int:
    """147 for P2PKH; ``m*72 + n*36 + 44`` for P2SH (also the default, like the reference)."""
    if address_type == "P2PKH":
        return 147
    return required_signatures * 72 + wallet_n * 36 + 44


def estimate_size_for(n_inputs: int, n_outputs: int, address_type: str | None, m: int, n: int) -> int:
    """Estimated size in bytes; one change output is always assumed (§6.6).

    n_outputs: number of proposal outputs (0 counts as 1).
    """
    nb_outputs = max(1, n_outputs) + 1
    size = _OVERHEAD + size_per_input(address_type, m, n) * n_inputs + _OUTPUT_SIZE * nb_outputs
    return to_fixed0(size * (1 + _SAFETY_MARGIN))


def _txp_shape(txp: Any) -> tuple[int, int, str | None, int, int]:
    outputs = F.get(txp, "outputs")
    n_out = len(outputs) if isinstance(outputs, list) else 0
    return (
        len(F.get(txp, "inputs", []) or []),
        n_out,
        F.get(txp, "addressType"),
        F.get(txp, "requiredSignatures", 1),
        F.get(txp, "walletN", 1),
    )


def estimate_size(txp: Any) -> int:
    """Estimated size of a proposal (dict/object with inputs, outputs,
    addressType, requiredSignatures, walletN). Example: 2-of-3 P2SH, 4 inputs,
    no outputs → 1304."""
    return estimate_size_for(*_txp_shape(txp))


def estimate_fee(txp: Any, fee_per_kb: float | None = None) -> int:
    """``toFixed0(feePerKb * size / 1000)`` in satoshis; fee_per_kb defaults to txp.feePerKb."""
    if fee_per_kb is None:
        fee_per_kb = F.get(txp, "feePerKb")
    if not F.is_number(fee_per_kb):
        raise ValueError("feePerKb is required to estimate a fee")
    return to_fixed0(fee_per_kb * estimate_size(txp) / 1000)
