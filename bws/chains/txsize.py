"""Size and fee estimation for BTC/BCH proposals (docs/spec/api.md §6.6).

Sizes are bytes, fees are satoshis, feePerKb is satoshis per 1000 bytes.

Outputs (issue 18): a native segwit destination counts as upstream 11.10.5
counts it (``getEstimatedSizeForAddressType``: script + 9, so P2WPKH 31,
P2WSH/P2TR 43 bytes; docs/spec/protocol-bwc11.md §7.4); every other output
(P2PKH, P2SH, script outputs, the assumed change) keeps the 2.5.1 rule of 34
bytes, so legacy proposals keep their fees. Inputs keep the 2.5.1 rule.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from bws.chains.address import parse_address
from bws.chains.script import witness_program
from bws.errors import BWSError
from bws.jsnum import is_number, to_fixed0
from bws.model import TxProposal, or_default

__all__ = [
    "size_per_input",
    "output_size",
    "output_sizes",
    "estimate_size",
    "estimate_fee",
    "estimate_size_for",
    "fee_for_size",
]

_OVERHEAD = 4 + 4 + 9 + 9  # version + locktime + two varints (bitcore's estimate)
_OUTPUT_SIZE = 34
_SAFETY_MARGIN = 0.02


def size_per_input(address_type: str | None, required_signatures: int, wallet_n: int) -> int:
    """147 for P2PKH; ``m*72 + n*36 + 44`` for P2SH (also the default, like the reference)."""
    if address_type == "P2PKH":
        return 147
    return required_signatures * 72 + wallet_n * 36 + 44


def output_size(script: bytes) -> int:
    """Bytes one output with this scriptPubKey adds: ``len(script) + 9`` for a
    witness program (P2WPKH 31, P2WSH/P2TR 43), else 34 (2.5.1 rule)."""
    return len(script) + 9 if witness_program(script) is not None else _OUTPUT_SIZE


def _output_script(out: Any, coin: str) -> Optional[bytes]:
    if not isinstance(out, dict):
        return None
    if out.get("script"):
        try:
            return bytes.fromhex(out["script"])
        except (TypeError, ValueError):
            return None
    try:
        return parse_address(out.get("toAddress"), coin).script
    except BWSError:  # invalid addresses are refused elsewhere (checks, txbuild)
        return None


def output_sizes(outputs: Any, coin: str = "btc") -> list[int]:
    """:func:`output_size` of each proposal output (wire dicts ``{toAddress | script, amount}``);
    an output whose script cannot be known counts 34 bytes."""
    if not isinstance(outputs, list):
        return []
    sizes = []
    for out in outputs:
        script = _output_script(out, coin)
        sizes.append(output_size(script) if script is not None else _OUTPUT_SIZE)
    return sizes


def estimate_size_for(
    n_inputs: int,
    n_outputs: int,
    address_type: str | None,
    m: int,
    n: int,
    sizes: Optional[Sequence[int]] = None,
) -> int:
    """Estimated size in bytes; one change output is always assumed (docs/spec/api.md §6.6).

    n_outputs: number of proposal outputs (0 counts as 1); sizes: their
    :func:`output_sizes` when known (else 34 bytes each).
    """
    if sizes is None or len(sizes) != n_outputs:
        sizes = [_OUTPUT_SIZE] * n_outputs
    outputs_size = (sum(sizes) if sizes else _OUTPUT_SIZE) + _OUTPUT_SIZE  # + change
    size = _OVERHEAD + size_per_input(address_type, m, n) * n_inputs + outputs_size
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
        output_sizes(outputs, txp.coin or "btc"),
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
