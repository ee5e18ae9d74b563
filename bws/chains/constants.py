"""Chain-rule constants used by bws/chains.

The values live once, in :mod:`bws.model.constants` (docs/spec/api.md §8); this module
re-exports the ones the chain rules need.
"""

from bws.model.constants import (  # noqa: F401  (re-exported)
    DUST_AMOUNT,
    EVM_COINS,
    FEE_LEVELS,
    FEE_LEVELS_FALLBACK,
    MAX_FEE_PER_KB,
    MAX_TX_FEE,
    MAX_TX_SIZE_IN_KB,
    MIN_FEE_PER_KB,
    MIN_OUTPUT_AMOUNT,
    UTXO_COINS,
    UTXO_SELECTION_MAX_FEE_VS_SINGLE_UTXO_FEE_FACTOR,
    UTXO_SELECTION_MAX_FEE_VS_TX_AMOUNT_FACTOR,
    UTXO_SELECTION_MAX_SINGLE_UTXO_FACTOR,
    UTXO_SELECTION_MIN_TX_AMOUNT_VS_UTXO_FACTOR,
)

#: the two chain-rule families (``ChainRules.family``, bws/chains/rules.py):
#: the key services use to pick their I/O-doing per-family steps once
UTXO_FAMILY = "utxo"
EVM_FAMILY = "evm"
