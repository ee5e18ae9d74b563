"""BTC/BCH (and ETH/TRY address) chain rules in one import.

A façade over the single-purpose modules of :mod:`bws.chains`; see their
docstrings for shapes and units.
"""

from bws.chains.address import (  # noqa: F401
    ParsedAddress,
    address_from_script,
    derive_address,
    derive_public_keys,
    eth_address_from_pubkey,
    is_valid_address,
    multisig_redeem_script,
    parse_address,
    script_for_address,
    validate_output_address,
)
from bws.chains.errors import ClientError, TxBuildError  # noqa: F401
from bws.chains.feelevels import compute_fee_levels, sample_points, static_fee_levels  # noqa: F401
from bws.chains.history import decorate_txs, normalize_tx, tag_low_fees  # noqa: F401
from bws.chains.selection import (  # noqa: F401
    default_shuffle,
    select_evm_input,
    select_tx_inputs,
    send_max_info,
    totalize,
)
from bws.chains.txbuild import (  # noqa: F401
    BuiltTx,
    add_signature,
    build_tx,
    check_tx,
    signed_raw,
    signed_tx,
    txid_of,
    unsigned_raw,
    verify_input_signatures,
)
from bws.chains.txsize import estimate_fee, estimate_size, size_per_input  # noqa: F401
