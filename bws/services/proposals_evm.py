"""The proposal steps of ETH, Tri and the TRY token (docs/spec/api.md §9, §10
Q12/Q13/Q27; issue 6), ``EVM_STEPS``, picked by :class:`bws.services.proposals.Proposals`
when ``rules_for(wallet.coin).family`` is "evm" -- the wallet is read once by the
aggregate, under the lock, and handed in.

Coins: ``eth`` (Ethereum), ``tri`` (the Ethereum-compatible Trias chain, its
own chain id) and ``try`` (the TRY ERC20 on the eth chain).  Accounts are
squeezed into the UTXO model as one pseudo-UTXO per address (docs/spec/api.md §9.3) because
the fork's client signs from ``inputs[0].address`` / ``inputs[0].path``.

* create: 1 output; gas price = ``feePerKb`` (wei; a fee level or a number in
  ``[1, MAX_GAS_PRICE]``, bws/chains/evm_rules.py); one source address that
  covers amount + 21000 × gas price (eth/tri) or the token amount (try);
  pending proposals lock their source address (Q12); no change; ``fee`` =
  21000 × gas price.
* publish: the client's proposalSignature covers its own bitcore-eth
  serialisation, which the server cannot rebuild: stored unverified (as the
  reference); the source address must not be locked by another proposal.
* sign: ``signatures = [[{..., "signature": "<signed raw tx hex>"}]]``; the raw
  tx is decoded and checked (sender, recipient, value / ERC20 transfer data,
  nonce = node's ``pending`` nonce, chain id) by
  :func:`bws.chains.evm.verify_raw_tx` — any mismatch is 400
  ``INVALID_RAW_TX``, undecodable input ``BAD_SIGNATURES``; nothing is stored.
  Accepted proposals get ``raw`` and ``txid`` (keccak of the raw tx) at once.
* broadcast: checked again (nonce may have moved); a tx the node already knows
  is marked broadcast by a third party; try: an ETH balance below gas × gas
  price answers 500 ``{"error": "INSUFFICIENT_ETH_FOR_FEE"}`` (the fork's
  bare string) without broadcasting; then ``eth_sendRawTransaction``.

Upstream: the fork's ETH/TRY additions to bitcore-wallet-service
lib/server.js ``createTx`` / ``signTx`` / ``broadcastTx``.
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any, Optional

from bws.chains.address import parse_address
from bws.chains.checks import truthy
from bws.chains.evm import raw_from_signatures, verify_raw_tx
from bws.chains.evm_rules import MAX_GAS_PRICE, EvmRules
from bws.chains.selection import select_evm_input
from bws.errors import BWSError, Errors, ServerError, bad_request
from bws.jsnum import is_number
from bws.model import UNDEFINED, TxProposal, Wallet
from bws.model import constants as C

from .base import maybe_await
from .context import Caller

if TYPE_CHECKING:
    from .proposals import Proposals

log = logging.getLogger(__name__)

INSUFFICIENT_ETH_FOR_FEE = "INSUFFICIENT_ETH_FOR_FEE"


async def send_max_info(p: "Proposals", caller: Caller, wallet: Wallet, rules: EvmRules, opts: dict) -> dict:
    """getSendMaxInfo of an EVM wallet: the best single address
    (:meth:`bws.chains.evm_rules.EvmRules.send_max`); amounts in wei / token units."""
    o = rules.validate_fee_choice(wallet, {k: v for k, v in opts.items() if k not in ("fee", "inputs")})
    gas_price = int(await p.fees.fee_per_kb(caller, wallet, o))
    utxos = [u for u in await p.balance.get_wallet_utxos(caller, {}, wallet=wallet) if not u.get("locked")]
    return rules.send_max(utxos, gas_price, return_inputs=truthy(opts.get("returnInputs")))


async def create(
    p: "Proposals", caller: Caller, wallet: Wallet, rules: EvmRules, opts: dict, txp_id: Any
) -> dict:
    """createTx's EVM steps, under the wallet lock, after the shared preamble
    -> TxProposal dict (status temporary).  Errors: see the module doc and
    :meth:`bws.chains.evm_rules.EvmRules.validate_fee_choice`; ``enableRBF:
    true`` is a 400 naming it (BIP125 signalling has no meaning on an account
    chain; v3 refuses it before this, the v2 route reaches here)."""
    if opts.get("enableRBF") not in (None, False):
        raise bad_request(f"enableRBF is not supported for {wallet.coin}")
    o = rules.validate_fee_choice(wallet, opts)
    outputs = [rules.single_output(wallet, o.get("outputs"))]
    if truthy(o.get("sendMax")):
        if is_number(outputs[0].get("amount")):
            raise bad_request("Amount is not allowed when sendMax is specified")
        info = await send_max_info(
            p, caller, wallet, rules,
            {"feePerKb": o.get("feePerKb"), "feeLevel": o.get("feeLevel"), "returnInputs": True},
        )
        outputs = [dict(outputs[0], amount=info["amount"])]
    rules.validate_outputs(wallet, outputs)
    out = dict(outputs[0])
    out["toAddress"] = parse_address(out["toAddress"], wallet.coin).address  # EIP-55 form
    await p._check_backoff(caller, wallet)
    fee_per_kb = int(await p.fees.fee_per_kb(caller, wallet, o))
    txp = TxProposal.create(
        wallet.id,
        wallet.coin,
        wallet.network,
        wallet.m,
        wallet.n,
        outputs=[out],
        creatorId=caller.copayer_id,
        id=txp_id if isinstance(txp_id, str) and txp_id else None,
        message=o.get("message", UNDEFINED),
        payProUrl=o.get("payProUrl", UNDEFINED),
        feeLevel=o["feeLevel"] if truthy(o.get("feeLevel")) else UNDEFINED,
        feePerKb=fee_per_kb,
        excludeUnconfirmedUtxos=truthy(o.get("excludeUnconfirmedUtxos")),
        addressType=wallet.address_type,
        customData=o.get("customData", UNDEFINED),
        noShuffleOutputs=True,
        now=p.now_s(),
    )
    utxos = await p.balance.get_wallet_utxos(caller, {}, wallet=wallet)
    select_evm_input(txp, copy.deepcopy(utxos), rules.selection_coin)
    if not truthy(o.get("dryRun")):
        await p._store_txp(txp)
    return txp.to_dict()


async def publish(
    p: "Proposals", caller: Caller, wallet: Wallet, rules: EvmRules, txp: TxProposal, opts: dict
) -> dict:
    """publishTx's EVM steps (under the lock; ``txp`` v3, read by the
    aggregate) -> TxProposal dict.  Errors: "Invalid proposal signature",
    UNAVAILABLE_UTXOS.  Emits NewTxProposal."""
    if not txp.is_temporary():
        return txp.to_dict()
    sig = opts["proposalSignature"]
    if not isinstance(sig, str) or not sig:
        raise bad_request("Invalid proposal signature")
    txp.proposal_signature = sig  # unverifiable: see the module doc
    addresses = [
        {"address": i.get("address"), "path": i.get("path"), "publicKeys": i.get("publicKeys")}
        for i in txp.inputs or []
    ]
    fresh = await p.balance.get_wallet_utxos(caller, {"addresses": addresses}, wallet=wallet)
    available = {f"{u['txid']}|{u['vout']}" for u in fresh if not u.get("locked")}
    if not txp.inputs or any(f"{i.get('txid')}|{i.get('vout')}" not in available for i in txp.inputs):
        raise Errors.UNAVAILABLE_UTXOS
    txp.status = C.TXP_PENDING
    await p._store_txp(txp, p._new_notification(caller, "NewTxProposal", txp.notification_data()))
    return txp.to_dict()


async def verify_raw(p: "Proposals", txp: TxProposal, raw: str, check_nonce: bool = True):
    """Decode ``raw`` and check it against ``txp`` and the node (chain id,
    sender's pending nonce) -> the decoded tx (bws/chains/evm.py).
    INVALID_RAW_TX / BAD_SIGNATURES / explorer errors."""
    ex = p._explorer(txp.coin, C.LIVENET)
    inputs = txp.inputs or []
    outputs = txp.outputs or []
    if not inputs or not outputs:
        raise Errors.BAD_SIGNATURES
    sender = inputs[0].get("address")
    chain_id = int(await maybe_await(ex.get_chain_id()))
    nonce = None
    if check_nonce:
        nonce = int(await p._explorer_call(txp.coin, C.LIVENET, "get_address_transaction_count", sender, "pending"))
    return verify_raw_tx(
        raw,
        coin=txp.coin,
        sender=sender,
        to_address=outputs[0].get("toAddress"),
        amount=int(outputs[0].get("amount") or 0),
        chain_id=chain_id,
        nonce=nonce,
        token_address=getattr(ex, "token_address", None),
        allow_unprotected=bool(getattr(ex, "allow_unprotected", False)),
    )


async def sign(
    p: "Proposals", caller: Caller, wallet: Wallet, rules: EvmRules, txp: TxProposal, copayer: Any, sigs: Any
) -> dict:
    """signTx's EVM steps (under the lock, vote already checked): the signed
    raw tx is checked against the proposal and the node, then accepted ->
    the proposal as read."""
    raw = raw_from_signatures(sigs)
    decoded = await verify_raw(p, txp, raw)
    return await p._accept_and_notify(caller, txp, copayer, sigs, lambda _t: (raw, decoded.hash))


async def broadcast(p: "Proposals", caller: Caller, wallet: Wallet, rules: EvmRules, txp: TxProposal) -> dict:
    """broadcastTx's EVM steps (under the lock; ``txp`` accepted, not yet
    broadcast) -> TxProposal dict.  Errors: see the module doc."""
    raw: Optional[str] = txp.raw
    if not isinstance(raw, str) or not raw:
        raw = raw_from_signatures(next((a.signatures for a in txp.actions if a.type == "accept"), None))
    decoded = await verify_raw(p, txp, raw, check_nonce=False)
    txp.txid = decoded.hash
    if await p._explorer_call(txp.coin, C.LIVENET, "get_transaction", decoded.hash):
        await p.broadcasts.mark_broadcast(txp, None, True, creator_id=caller.copayer_id, locked=True)
        return txp.to_dict()
    await verify_raw(p, txp, raw, check_nonce=True)
    if not rules.native:  # a token: the gas is paid in ETH
        eth = int(await p._explorer_call(txp.coin, C.LIVENET, "get_native_balance", decoded.sender))
        if eth < decoded.max_fee + decoded.value:
            raise ServerError(INSUFFICIENT_ETH_FOR_FEE)
    try:
        txid = await p._explorer_call(txp.coin, C.LIVENET, "broadcast", raw)
    except BWSError:
        if await p._explorer_call(txp.coin, C.LIVENET, "get_transaction", decoded.hash):
            await p.broadcasts.mark_broadcast(txp, None, True, creator_id=caller.copayer_id, locked=True)
            return txp.to_dict()
        raise
    if isinstance(txid, str) and txid.lower() != decoded.hash:
        log.warning("node answered txid %s for %s", txid, decoded.hash)
    await p.broadcasts.mark_broadcast(txp, None, False, creator_id=caller.copayer_id, locked=True)
    return txp.to_dict()


async def coins_for_tx(p: Any, wallet: Wallet, rules: Any, txid: str) -> dict:
    """``GET /v1/txcoins/``: no coins on an account chain (as upstream
    server.ts getCoinsForTx off UTXO chains)."""
    return {"inputs": [], "outputs": []}


class EvmSteps:
    """The EVM proposal steps as one strategy object
    (:class:`bws.services.proposals.ProposalSteps`); stateless."""

    send_max_info = staticmethod(send_max_info)
    create = staticmethod(create)
    publish = staticmethod(publish)
    sign = staticmethod(sign)
    broadcast = staticmethod(broadcast)
    coins_for_tx = staticmethod(coins_for_tx)


EVM_STEPS = EvmSteps()

__all__ = [
    "EVM_STEPS",
    "EvmSteps",
    "INSUFFICIENT_ETH_FOR_FEE",
    "MAX_GAS_PRICE",
    "broadcast",
    "create",
    "publish",
    "send_max_info",
    "sign",
]
