"""The proposal steps of BTC and BCH (docs/spec/api.md §6.9-§6.13, §10
Q10/Q11; upstream bitcore-wallet-service lib/server.js ``createTx`` /
``publishTx`` / ``getSendMaxInfo``), ``UTXO_STEPS``, picked by :class:`bws.services.proposals.Proposals` when
``rules_for(wallet.coin).family`` is "utxo" -- the wallet is read once by the aggregate, under the lock, and
handed in; the coin's checks are asked of the rules
(bws/chains/utxo_rules.py).

Shapes: amounts and fees are int satoshis, ``feePerKb`` sat/kB.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from bws.chains.checks import is_int, truthy
from bws.chains.selection import select_tx_inputs, send_max_info as select_send_max
from bws.chains.txbuild import signed_raw, unsigned_raw
from bws.chains.utxo_rules import UtxoRules
from bws.crypto import verify_message
from bws.errors import BWSError, Errors, bad_request
from bws.jsnum import is_number
from bws.model import UNDEFINED, TxProposal, Wallet
from bws.model import constants as C

from .addresses import address_out, derive_wallet_address
from .context import Caller
from .lookups import WalletFacts
from . import proposals_v3
from .proposal_views import decorate_txp

if TYPE_CHECKING:
    from .proposals import Proposals


async def send_max_info(p: "Proposals", caller: Caller, wallet: Wallet, rules: UtxoRules, opts: dict) -> dict:
    """getSendMaxInfo (docs/spec/api.md §6.13) -> ``{size (bytes), amount, fee, feePerKb,
    inputs, utxosBelowFee, amountBelowFee, utxosAboveMaxSize,
    amountAboveMaxSize}`` (satoshis); fee-argument errors of
    :meth:`bws.chains.utxo_rules.UtxoRules.validate_fee_choice`."""
    opts = rules.validate_fee_choice(wallet, opts, allow_fee=False)
    fee_per_kb = await p.fees.fee_per_kb(caller, wallet, opts)
    utxos = await p.balance.get_wallet_utxos(caller, {}, wallet=wallet)
    return select_send_max(
        utxos,
        fee_per_kb,
        m=wallet.m,
        n=wallet.n,
        address_type=wallet.address_type,
        exclude_unconfirmed=truthy(opts.get("excludeUnconfirmedUtxos")),
        return_inputs=truthy(opts.get("returnInputs")),
    )


async def change_address_for(p: "Proposals", wallet: Wallet, opts: dict) -> tuple[Any, Any]:
    """(change Address dict or UNDEFINED, newly derived Address or None).
    A derived address advances ``wallet``'s change index in memory only."""
    if truthy(opts.get("sendMax")):
        return UNDEFINED, None
    if wallet.single_address:
        addresses = await p.storage.addresses.fetch(wallet.id)
        if not addresses:
            raise bad_request("The wallet has no addresses")
        return address_out(addresses[0]), None
    given = opts.get("changeAddress")
    if given is not None and given is not UNDEFINED:
        doc = await p.storage.addresses.fetch_one(wallet.id, given) if isinstance(given, str) else None
        if not doc:
            raise Errors.INVALID_CHANGE_ADDRESS
        return address_out(doc), None  # Q10: reused as is, never re-inserted
    new = derive_wallet_address(wallet, True, now=p.now_s())
    return address_out(new.to_dict()), new


async def create(p: "Proposals", caller: Caller, wallet: Wallet, rules: UtxoRules, opts: dict, txp_id: Any) -> dict:
    """createTx's UTXO steps, under the wallet lock, after the shared
    preamble -> TxProposal dict (status temporary); errors in the order of
    :meth:`bws.services.proposals.Proposals.create_tx`; ``enableRBF``
    (bool, default false; "enableRBF must be a boolean" otherwise) makes
    every input signal BIP125 replaceability (bws/chains/txbuild.py)."""
    enable_rbf = proposals_v3.check_enable_rbf(opts.get("enableRBF"))
    o = rules.validate_fee_choice(wallet, opts, allow_fee=True)
    inputs = rules.check_inputs(o.get("inputs"))
    if is_number(o.get("fee")):
        if not inputs:
            raise bad_request("fee can only be set when inputs are specified")
        if not is_int(o["fee"]) or o["fee"] < C.MIN_TX_FEE:
            raise bad_request("Invalid fee")
    if inputs:
        inputs = rules.wallet_inputs(inputs, await p.balance.get_wallet_utxos(caller, {}, wallet=wallet))
    if wallet.single_address and o.get("changeAddress"):
        raise bad_request("Cannot specify change address on single-address wallet")
    outputs = o.get("outputs")
    if truthy(o.get("sendMax")):
        if not isinstance(outputs, list) or len(outputs) > 1:
            raise bad_request("Only one output allowed when sendMax is specified")
        if not outputs or not isinstance(outputs[0], dict):
            raise bad_request("No outputs were specified")
        if is_number(outputs[0].get("amount")):
            raise bad_request("Amount is not allowed when sendMax is specified")
        if is_number(o.get("fee")):
            raise bad_request("Fee is not allowed when sendMax is specified (use feeLevel/feePerKb instead)")
        info = await p._send_max_info(
            caller,
            wallet,
            {  # Q11: the requested level, not "normal"
                "feePerKb": o.get("feePerKb"),
                "feeLevel": o.get("feeLevel") if not is_number(o.get("feePerKb")) else None,
                "excludeUnconfirmedUtxos": o.get("excludeUnconfirmedUtxos"),
                "returnInputs": True,
            },
        )
        outputs = [dict(outputs[0], amount=info["amount"])]
        inputs = info["inputs"]
    if o.get("validateOutputs") is not False:
        rules.validate_outputs(wallet, outputs)
    rules.check_output_shapes(outputs)
    excluded = o.get("utxosToExclude") or []
    if not isinstance(excluded, list) or not all(isinstance(x, str) for x in excluded):
        raise bad_request("Invalid utxosToExclude")

    await p._check_backoff(caller, wallet)

    change, new_change = await change_address_for(p, wallet, o)
    fee_given = is_number(o.get("fee")) and bool(inputs)
    fee_per_kb = UNDEFINED if fee_given else await p.fees.fee_per_kb(caller, wallet, o)

    txp = TxProposal.create(
        wallet.id,
        wallet.coin,
        wallet.network,
        wallet.m,
        wallet.n,
        outputs=outputs,
        creatorId=caller.copayer_id,
        id=txp_id if isinstance(txp_id, str) and txp_id else None,
        message=o.get("message", UNDEFINED),
        payProUrl=o.get("payProUrl", UNDEFINED),
        changeAddress=change,
        feeLevel=o["feeLevel"] if truthy(o.get("feeLevel")) and not fee_given else UNDEFINED,
        feePerKb=fee_per_kb,
        excludeUnconfirmedUtxos=truthy(o.get("excludeUnconfirmedUtxos")),
        addressType=wallet.address_type,
        customData=o.get("customData", UNDEFINED),
        inputs=copy.deepcopy(inputs),
        fee=o["fee"] if fee_given else None,
        noShuffleOutputs=truthy(o.get("noShuffleOutputs")),
        enableRBF=enable_rbf,
        now=p.now_s(),
    )
    utxos = [] if inputs else await p.balance.get_wallet_utxos(caller, {}, wallet=wallet)
    select_tx_inputs(txp, utxos, excluded)

    if not truthy(o.get("dryRun")):
        if new_change is not None:
            await p.addresses.register_addresses(caller, wallet, [new_change])
        await p.storage.proposals.store_with_addresses_and_wallet(
            txp.to_dict(for_storage=True),
            wallet.to_dict(for_storage=True) if new_change is not None else None,
            [new_change.to_dict()] if new_change is not None else [],
        )
    return txp.to_dict()


async def publish(
    p: "Proposals", caller: Caller, wallet: Wallet, rules: UtxoRules, txp: TxProposal, opts: dict
) -> dict:
    """publishTx's UTXO steps (under the lock; ``txp`` v3, read by the
    aggregate): the proposal signature must verify against one of the
    caller's request keys over the unsigned raw tx, and every input must
    still be an unlocked UTXO of the wallet -> the decorated proposal.
    Errors: "Invalid proposal signature", UNAVAILABLE_UTXOS.  Emits NewTxProposal."""
    if not txp.is_temporary():
        return decorate_txp(WalletFacts.of(wallet), txp)
    raw = unsigned_raw(txp)
    sig = opts["proposalSignature"]
    copayer = wallet.get_copayer(caller.copayer_id)
    keys = copayer.get_request_pub_keys() if copayer else []
    key = next((k for k in keys if isinstance(sig, str) and verify_message(raw, sig, k.get("key"))), None)
    if key is None:
        raise bad_request("Invalid proposal signature")
    txp.proposal_signature = sig
    if key.get("selfSigned"):
        txp.proposal_signature_pub_key = key.get("key")
        txp.proposal_signature_pub_key_sig = key.get("signature")

    seen: dict[str, dict] = {}
    for i in txp.inputs or []:
        seen.setdefault(i.get("address"), {"address": i.get("address"), "path": i.get("path"),
                                           "publicKeys": i.get("publicKeys")})
    fresh = await p.balance.get_wallet_utxos(caller, {"addresses": list(seen.values())}, wallet=wallet)
    available = {f"{u['txid']}|{u['vout']}" for u in fresh if not u.get("locked")}
    if any(f"{i.get('txid')}|{i.get('vout')}" not in available for i in txp.inputs or []):
        raise Errors.UNAVAILABLE_UTXOS
    txp.status = C.TXP_PENDING
    await p._store_txp(txp, p._new_notification(caller, "NewTxProposal", txp.notification_data()))
    return decorate_txp(WalletFacts.of(wallet), txp)


async def sign(
    p: "Proposals", caller: Caller, wallet: Wallet, rules: UtxoRules, txp: TxProposal, copayer: Any, sigs: Any
) -> dict:
    """signTx's UTXO steps (under the lock, vote already checked): BAD_SIGNATURES
    unless ``sigs`` are the copayer's valid signatures; the verified build
    carries every signature, so on quorum it is the final transaction (built
    once) -> the proposal as read."""
    built = rules.verify_signatures(txp, copayer.xpub_key, sigs)
    return await p._accept_and_notify(caller, txp, copayer, sigs, lambda _t: (built.raw, built.txid))


async def broadcast(p: "Proposals", caller: Caller, wallet: Wallet, rules: UtxoRules, txp: TxProposal) -> dict:
    """broadcastTx's UTXO steps (under the lock; ``txp`` accepted, not yet
    broadcast) -> the decorated proposal.  When the explorer refuses the tx
    but already knows its txid, the proposal is marked broadcast by a third
    party; else the explorer's error."""
    raw = txp.raw or signed_raw(txp)
    try:
        txid = await p._explorer_call(wallet.coin, wallet.network, "broadcast", raw)
    except BWSError as err:
        if not txp.txid:
            raise
        found = await p._explorer_call(wallet.coin, wallet.network, "get_transaction", txp.txid)
        if not found:
            raise err
        await p.broadcasts.mark_broadcast(txp, None, True, creator_id=caller.copayer_id, locked=True)
        return decorate_txp(WalletFacts.of(wallet), txp)
    await p.broadcasts.mark_broadcast(
        txp,
        txp.txid or (txid if isinstance(txid, str) else None),
        False,
        creator_id=caller.copayer_id,
        locked=True,
    )
    return decorate_txp(WalletFacts.of(wallet), txp)


async def coins_for_tx(p: Any, wallet: Wallet, rules: Any, txid: str) -> dict:
    """``GET /v1/txcoins/``: the inputs and outputs of ``txid`` as the
    wallet's explorer knows it (shape: bws/services/proposals_v3.py
    ``coins_for_tx``); TX_NOT_FOUND when the node does not know it."""
    tx = await p._explorer_call(wallet.coin, wallet.network, "get_transaction", txid)
    if not tx:
        raise Errors.TX_NOT_FOUND
    return proposals_v3.coins_for_tx(tx, wallet.coin, wallet.network)


class UtxoSteps:
    """The UTXO proposal steps as one strategy object
    (:class:`bws.services.proposals.ProposalSteps`); stateless."""

    send_max_info = staticmethod(send_max_info)
    create = staticmethod(create)
    publish = staticmethod(publish)
    sign = staticmethod(sign)
    broadcast = staticmethod(broadcast)
    coins_for_tx = staticmethod(coins_for_tx)


UTXO_STEPS = UtxoSteps()

__all__ = ["UTXO_STEPS", "UtxoSteps", "broadcast", "change_address_for", "coins_for_tx", "create", "publish", "send_max_info", "sign"]
