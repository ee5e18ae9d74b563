"""Coin differences as strategies: one :class:`ChainRules` object per coin,
chosen once per wallet with :func:`rules_for` (issue 16 "No mixins in the
service"; like electrumx's per-coin classes, ``env.coin.DAEMON``).

* btc, bch -> :class:`bws.chains.utxo_rules.UtxoRules` (outputs, fee choice,
  caller-supplied inputs, signature verification and the final raw tx);
* eth, tri, try -> :class:`bws.chains.evm_rules.EvmRules` (one output, gas
  price as ``feePerKb``, no inputs/fee, no change).

The services never test the coin: they ask its rules (a value, a check, a
pure computation).  No I/O here: what needs the explorer or storage (UTXOs,
fee estimates, the node's nonce and chain id) stays in the services, whose
per-family steps (bws/services/proposals_utxo.py / proposals_evm.py, the two
fee-level sources of bws/services/fees.py) are picked once, keyed by
:attr:`ChainRules.family`.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol

from bws.chains.evm_rules import EVM_RULES
from bws.chains.utxo_rules import UTXO_RULES


class ChainRules(Protocol):
    """What the services ask a coin.

    coin: the coin key ("btc", "eth", ...); family: "utxo" | "evm"
    (bws/chains/constants.py ``UTXO_FAMILY`` / ``EVM_FAMILY``), the key of the
    services' per-family steps, never tested in an if.
    Errors are :class:`bws.errors.ClientError` (BADREQUEST and the named codes)."""

    coin: str
    family: str
    #: smallest units per coin: 10**8 (satoshis) or 10**18 (wei / token units);
    #: converts an explorer's decimal ``amount`` to ``satoshis``
    unit: int
    #: seconds the current block height is cached (docs/spec/api.md §8
    #: BLOCKHEIGHT_CACHE_TIME: 600 s, 10 s for EVM chains)
    blockheight_cache_ttl: int
    #: seconds the inputs of a broadcast proposal still count as spent while the
    #: explorer may list them (docs/spec/api.md §6.3: 24 h; 0: never, EVM
    #: pseudo-UTXOs are account balances)
    broadcast_spend_window: int
    #: the coin that ``0x`` addresses asked for by a wallet of this coin are
    #: looked up as (docs/spec/api.md §10 Q17): an EVM wallet's own coin, else eth
    account_lookup_coin: str

    def explorer_network(self, network: str) -> str:
        """The network whose explorer serves this coin (EVM coins: livenet only,
        docs/spec/api.md §9.1)."""
        ...

    def check_copayers(self, m: Any, n: Any) -> None:
        """What wallet creation refuses beyond the general m-of-n limits: EVM
        wallets are 1-of-1 (docs/spec/api.md §9.1), BADREQUEST "Invalid
        combination of required copayers / total copayers" for other integer
        m/n; the rest is checked later (by ``Wallet.verify_copayer_limits``)."""
        ...

    def check_token_options(self, opts: dict) -> None:
        """``tokenAddress`` / ``multisigContractAddress`` on a wallet status
        (``GET /v3/wallets/``, ``/v1/wallets/all/``): UTXO coins ignore them
        (upstream chain/btc BtcChain answers the coin's balance); EVM coins
        would answer a token's or multisig contract's balance, which this
        server does not serve: BADREQUEST naming the option."""
        ...

    def check_token_preferences(self, keys: list) -> None:
        """Non-empty EVM token-list preferences (``tokenAddresses``,
        ``multisigEthInfo``, ...; ``keys`` their names) on ``PUT
        /v1/preferences/``: BADREQUEST "<key> is only valid for EVM wallets"
        on UTXO coins (upstream nulls them silently), "<key> is not supported
        yet" on EVM coins (the lists are not stored here); nothing when empty."""
        ...

    def script_for_address(self, address: str) -> str:
        """The scriptPubKey hex stored with a wallet address (monitors match
        by it): the address's script, "" for EVM addresses.  Raises
        ClientError('INVALID_ADDRESS')."""
        ...

    def is_raw_tx(self, raw: str) -> bool:
        """Whether a non-empty ``raw`` string may be pushed (broadcastRawTx,
        docs/spec/api.md §4.21): UTXO coins: the hex of a transaction with inputs
        and outputs; EVM coins: any (the node judges it)."""
        ...

    def tx_confirmed(self, tx: Optional[dict]) -> bool:
        """Whether the explorer's transaction ``tx`` (None: unknown) is in a
        block (docs/spec/services.md §3.6)."""
        ...

    def signed_raw(self, txp: Any) -> Optional[str]:
        """The raw transaction of an accepted proposal stored without ``raw``,
        rebuilt from its accept actions (docs/spec/api.md §5.4); None when the
        coin cannot rebuild it (EVM: the client's signed tx is the raw).
        BWSError / ValueError when the stored data does not build."""
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
    rules = find_rules(coin)
    if rules is None:
        raise ValueError(f"no chain rules for coin {coin!r}")
    return rules


def find_rules(coin: Any) -> Optional[ChainRules]:
    """The rules of ``coin``, or None when it is no known coin (a value
    straight from a request, checked later or by the caller)."""
    if not isinstance(coin, str):
        return None
    return UTXO_RULES.get(coin) or EVM_RULES.get(coin)


__all__ = ["ChainRules", "find_rules", "rules_for"]
