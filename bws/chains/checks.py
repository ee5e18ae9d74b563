"""Argument checks shared by the chain rules (bws/chains/utxo_rules.py,
bws/chains/evm_rules.py) and the services: JSON value predicates with the
reference's JavaScript meaning (bitcore-wallet-service lib/server.js uses
lodash ``_.isNumber`` -- bws/jsnum.py ``is_number`` -- and JS truthiness on
request values) and the fee-level
names (bws/model/constants.py ``FEE_LEVELS``); the output checks every coin
shares (:func:`validate_outputs`)."""

from __future__ import annotations

from typing import Any

from bws.chains.address import validate_output_address
from bws.errors import Errors, bad_request
from bws.jsnum import is_number
from bws.model import constants as C


def is_int(value: Any) -> bool:
    """A real integer (bools excluded; 3.0 from JSON counts)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and value.is_integer()


def truthy(value: Any) -> bool:
    """JS truthiness of a JSON value ("", 0, null, false are falsy)."""
    if isinstance(value, float) and value != value:
        return False
    return bool(value)


def fee_level_names(coin: str) -> list[str]:
    """Level names of ``coin`` in FEE_LEVELS order."""
    return [lvl["name"] for lvl in C.FEE_LEVELS[coin]]


def invalid_fee_level_error(coin: str):
    """BADREQUEST "Invalid fee level. Valid values are urgent, priority, ..."."""
    return bad_request("Invalid fee level. Valid values are " + ", ".join(fee_level_names(coin)))


def validate_outputs(wallet: Any, outputs: Any) -> None:
    """validateOutputs (docs/spec/api.md §6.9) for ``wallet`` (a :class:`bws.model.Wallet`:
    coin, network): BADREQUEST "No outputs were specified",
    "Argument missing in output #<n>.", "Invalid amount", "Invalid script";
    INVALID_ADDRESS, INCORRECT_ADDRESS_NETWORK, DUST_AMOUNT."""
    if not isinstance(outputs, list) or not outputs:
        raise bad_request("No outputs were specified")
    for i, o in enumerate(outputs):
        if not isinstance(o, dict) or "toAddress" not in o or "amount" not in o:
            raise bad_request(f"Argument missing in output #{i + 1}.")
        if not isinstance(o["toAddress"], str):
            raise Errors.INVALID_ADDRESS
        validate_output_address(o["toAddress"], wallet.coin, wallet.network)
        check_script(o)
        amount = o["amount"]
        # reference: not a number, NaN or <= 0; non-integers would only fail later in bitcore
        if not is_number(amount) or amount <= 0 or not is_int(amount):
            raise bad_request("Invalid amount")
        if amount < max(C.MIN_OUTPUT_AMOUNT, C.DUST_AMOUNT):
            raise Errors.DUST_AMOUNT


def check_script(output: dict) -> None:
    """BADREQUEST "Invalid script" unless an output's ``script`` is absent,
    falsy (the build then pays ``toAddress``, as bitcore's ``if (o.script)``)
    or hex text.  Anything else reached ``bytes.fromhex`` in the build (a 500
    in the reference too: bitcore's Output refuses a non-string script)."""
    script = output.get("script")
    if not script:
        return
    try:
        bytes.fromhex(script)
    except (TypeError, ValueError):
        raise bad_request("Invalid script") from None


__all__ = ["is_int", "truthy", "fee_level_names", "invalid_fee_level_error", "validate_outputs", "check_script"]
