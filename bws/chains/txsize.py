"""Size and fee estimation for BTC/BCH proposals (docs/spec/api.md §6.6).

Sizes are bytes, fees are satoshis, feePerKb is satoshis per 1000 bytes.
"""

from __future__ import annotations

from bws.jsnum import is_number, to_fixed0
from bws.model import TxProposal, or_default

__all__ = ["size_per_input", "estimate_size", "estimate_fee", "estimate_size_for", "fee_for_size"]

_OVERHEAD = 4 + 4 + 9 + 9  # version + locktime + two varints (bitcore's estimate)
_OUTPUT_SIZE = 34
_SAFETY_MARGIN = 0.02


def size_per_input(address_type: str | None, required_signatures: int, wallet_n: int) -> int:
    """147 for P2PKH; ``m*72 + n*36 + 44`` for P2SH (also the default, like the reference)."""
    if address_type == "P2PKH":
        return 147
    return required_signatures * 72 + wallet_n * 36 + 44


def estimate_size_for(n_inputs: int, n_outputs: int, address_type: str | None, m: int, n: int) -> int:
    """Estimated size in bytes; one change output is always assumed (docs/spec/api.md §6.6).

    n_outputs: number of proposal outputs (0 counts as 1).
    """
    nb_outputs = max(1, n_outputs) + 1
    size = _OVERHEAD + size_per_input(address_type, m, n) * n_inputs + _OUTPUT_SIZE * nb_outputs
    return to_fixed0(size * (1 + _SAFETY_MARGIN))


def fee_for_size(size: int, fee_per_kb: float) -> int:
    """``toFixed0(feePerKb * size / 1000)``: satoshis for ``size`` bytes at ``fee_per_kb`` sat/kB."""
    return to_fixed0(fee_per_kb * size / 1000)


def estimate_size(txp: TxProposal) -> int:
    """Estimated size in bytes of a proposal from its ``inputs``, ``outputs``,
    ``address_type``, ``required_signatures`` (default 1) and ``wallet_n``
    (default 1). Example: 2-of-3 P2SH, 4 inputs, no outputs → 1304."""
    outputs = txp.outputs
    return estimate_size_for(
        len(txp.inputs or []),
        len(outputs) if isinstance(outputs, list) else 0,
        txp.address_type or None,
        or_default(txp.required_signatures, 1),
        or_default(txp.wallet_n, 1),
    )


def estimate_fee(txp: TxProposal, fee_per_kb: float | None = None) -> int:
    """Estimated fee of a proposal, satoshis (:func:`fee_for_size` of
    :func:`estimate_size`); fee_per_kb (sat/kB) defaults to ``txp.fee_per_kb``.
    Raises ValueError when neither is a number."""
    if fee_per_kb is None:
        fee_per_kb = txp.fee_per_kb
    if not is_number(fee_per_kb):
        raise ValueError("feePerKb is required to estimate a fee")
    return fee_for_size(estimate_size(txp), fee_per_kb)
