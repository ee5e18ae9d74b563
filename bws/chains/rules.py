"""Coin differences as strategies: one :class:`ChainRules` object per coin,
chosen once per wallet with :func:`rules_for` (issue 16 "No mixins in the
service"; like electrumx's per-coin classes, ``env.coin.DAEMON``).

* btc, bch -> :class:`bws.chains.utxo_rules.UtxoRules` (outputs, fee choice,
  caller-supplied inputs, signature verification and the final raw tx);
* eth, tri, try -> :class:`bws.chains.evm_rules.EvmRules` (one output, gas
  price as ``feePerKb``, no inputs/fee, no change).

No I/O here: what needs the explorer or storage (UTXOs, the node's nonce and
chain id) stays in the services, which ask the rules what to check.
"""

from __future__ import annotations

from typing import Any, Protocol

from bws.chains.evm_rules import EVM_RULES
from bws.chains.utxo_rules import UTXO_RULES


class ChainRules(Protocol):
    """What the proposal services ask a coin family.

    coin: the coin key ("btc", "eth", ...); is_evm: account-based chain.
    Errors are :class:`bws.errors.ClientError` (BADREQUEST and the named codes)."""

    coin: str
    is_evm: bool

    def explorer_network(self, network: str) -> str:
        """The network whose explorer serves this coin (EVM coins: livenet only,
        docs/spec/api.md §9.1)."""
        ...

    def validate_fee_choice(self, wallet: Any, opts: dict, *, allow_fee: bool) -> dict:
        """The fee arguments of createTx / getSendMaxInfo checked; returns a copy
        of ``opts`` with ``feeLevel`` defaulted to "normal" when none was given."""
        ...

    def validate_outputs(self, wallet: Any, outputs: Any) -> None:
        """validateOutputs (docs/spec/api.md §6.9) for ``wallet`` (a
        :class:`bws.model.Wallet`)."""
        ...


def rules_for(coin: str) -> ChainRules:
    """The rules of ``coin`` (``btc`` | ``bch`` | ``eth`` | ``tri`` | ``try``);
    ValueError for any other (wallets are created with a known coin)."""
    rules = UTXO_RULES.get(coin) or EVM_RULES.get(coin)
    if rules is None:
        raise ValueError(f"no chain rules for coin {coin!r}")
    return rules


__all__ = ["ChainRules", "rules_for"]
