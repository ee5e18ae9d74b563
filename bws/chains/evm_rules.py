"""EVM chain rules: eth, tri and the TRY token (bws/chains/rules.py
``rules_for``; docs/spec/api.md §9, the fork's ETH/TRY additions to
bitcore-wallet-service lib/server.js ``createTx``).

Accounts squeezed into the UTXO model: one pseudo-UTXO per address, one
output, the gas price (wei) passed as ``feePerKb``, no caller inputs, no
``fee``, no change; the fee is ``EVM_GAS_LIMIT`` (21000) x gas price.  What
needs the node (chain id, the sender's nonce, the raw tx check) stays in the
services (bws/services/proposals_evm.py), which use bws/chains/evm.py for the decoding.
"""

from __future__ import annotations

from typing import Any, Optional

from bws.chains.constants import EVM_FAMILY
from bws.chains.checks import fee_level_names, invalid_fee_level_error, is_int, truthy, validate_outputs
from bws.chains.selection import EVM_GAS_LIMIT
from bws.errors import bad_request
from bws.jsnum import is_number
from bws.model import constants as C

#: highest gas price accepted as ``feePerKb`` (wei; 100 000 gwei)
MAX_GAS_PRICE = 100_000 * 10**9


class EvmRules:
    """The rules of one EVM coin (``coin``: "eth" | "tri" | "try"); the
    attributes are documented on :class:`bws.chains.rules.ChainRules`."""

    family = EVM_FAMILY
    unit = 10**18
    blockheight_cache_ttl = C.BLOCKHEIGHT_CACHE_TIME_ETH
    broadcast_spend_window = 0

    def __init__(self, coin: str) -> None:
        self.coin = coin
        #: the coin pays its own gas (eth, tri); a token (try) pays gas in ETH
        self.native = coin != C.COIN_TRY
        #: the coin whose balance the source address needs (bws/chains/selection.py
        #: ``select_evm_input``): the token's for try, else the gas coin's ("eth")
        self.selection_coin = C.COIN_ETH if self.native else C.COIN_TRY
        self.account_lookup_coin = coin

    def explorer_network(self, network: str) -> str:
        """EVM coins live on livenet only (docs/spec/api.md §9.1)."""
        return C.LIVENET

    def check_copayers(self, m: Any, n: Any) -> None:
        """EVM wallets are 1-of-1 (docs/spec/api.md §9.1 recommendation)."""
        if is_int(m) and is_int(n) and (int(m), int(n)) != (1, 1):
            raise bad_request("Invalid combination of required copayers / total copayers")

    def check_token_options(self, opts: dict) -> None:
        """Token and multisig-contract balances are not served here."""
        for name in ("tokenAddress", "multisigContractAddress"):
            if opts.get(name):
                raise bad_request(f"{name} is not supported: token and multisig-contract balances are not served")

    def check_token_preferences(self, keys: list) -> None:
        if keys:
            raise bad_request(f"{keys[0]} is not supported yet: token lists are not stored by this server")

    def script_for_address(self, address: str) -> str:
        """"": EVM addresses have no script (the monitors match the address)."""
        return ""

    def is_raw_tx(self, raw: str) -> bool:
        """Any: the node judges an EVM raw transaction."""
        return True

    def tx_confirmed(self, tx: Optional[dict]) -> bool:
        """The node's transaction has a ``blockHash``."""
        return bool(tx and tx.get("blockHash"))

    def signed_raw(self, txp: Any) -> Optional[str]:
        """None: the raw of an EVM proposal is the client's signed tx, stored on accept."""
        return None

    def validate_fee_choice(self, wallet: Any, opts: dict, *, allow_fee: bool = False) -> dict:
        """BADREQUEST "inputs/fee cannot be specified for <coin>", "Only one of
        feeLevel/feePerKb/fee can be specified", "Invalid fee level. ...",
        "Invalid fee per KB" (gas price not an int in [1, MAX_GAS_PRICE] wei).
        Returns a copy of ``opts`` with ``feeLevel`` defaulted to "normal" and
        ``feePerKb`` an int.  ``allow_fee`` is ignored: EVM proposals never take one."""
        opts = dict(opts)
        if is_number(opts.get("fee")) or opts.get("inputs"):
            raise bad_request(f"inputs/fee cannot be specified for {wallet.coin}")
        n_args = int(truthy(opts.get("feeLevel"))) + int(is_number(opts.get("feePerKb")))
        if n_args > 1:
            raise bad_request("Only one of feeLevel/feePerKb/fee can be specified")
        if n_args == 0:
            opts["feeLevel"] = C.DEFAULT_FEE_LEVEL
        if truthy(opts.get("feeLevel")) and opts["feeLevel"] not in fee_level_names(wallet.coin):
            raise invalid_fee_level_error(wallet.coin)
        if is_number(opts.get("feePerKb")):
            gp = opts["feePerKb"]
            if not is_int(gp) or not (1 <= gp <= MAX_GAS_PRICE):
                raise bad_request("Invalid fee per KB")
            opts["feePerKb"] = int(gp)
        return opts

    def validate_outputs(self, wallet: Any, outputs: Any) -> None:
        validate_outputs(wallet, outputs)

    def single_output(self, wallet: Any, outputs: Any) -> dict:
        """The one output of an EVM proposal: BADREQUEST "No outputs were
        specified", "Only one output allowed for <coin>", "Argument missing
        in output #1."."""
        if not isinstance(outputs, list) or not outputs:
            raise bad_request("No outputs were specified")
        if len(outputs) > 1:
            raise bad_request(f"Only one output allowed for {wallet.coin}")
        if not isinstance(outputs[0], dict):
            raise bad_request("Argument missing in output #1.")
        return outputs[0]

    def send_max(self, utxos: list[dict], gas_price: int, *, return_inputs: bool) -> dict:
        """getSendMaxInfo over the unlocked pseudo-UTXOs (one per address):
        the best single address pays ``amount`` = its balance minus the gas
        (native coins) or its token balance (try).  gas_price: wei.  Shape as
        the UTXO answer: ``{size: 0, amount, fee, feePerKb, inputs,
        utxosBelowFee, amountBelowFee, utxosAboveMaxSize: 0, amountAboveMaxSize: 0}``."""
        gas = gas_price * EVM_GAS_LIMIT

        def spendable(u: dict) -> int:
            return u["satoshis"] - gas if self.native else u["satoshis"]

        best = max(utxos, key=spendable, default=None)
        below = [u for u in utxos if spendable(u) <= 0]
        amount = max(0, spendable(best)) if best is not None else 0
        return {
            "size": 0,
            "amount": amount,
            "fee": gas if amount > 0 else 0,
            "feePerKb": gas_price,
            "inputs": [best] if (best is not None and amount > 0 and return_inputs) else [],
            "utxosBelowFee": len(below),
            "amountBelowFee": sum(u["satoshis"] for u in below),
            "utxosAboveMaxSize": 0,
            "amountAboveMaxSize": 0,
        }


EVM_RULES = {coin: EvmRules(coin) for coin in C.EVM_COINS}

__all__ = ["EvmRules", "EVM_RULES", "MAX_GAS_PRICE"]
