"""ETH, Tri and the TRY token (spec api.md §9, §4.29, §10 Q12/Q13/Q17/Q22/Q27;
issue 6).  ``EvmMixin`` is listed first in WalletService: each override
branches on the coin and hands everything else to the BTC code unchanged.

Coins: ``eth`` (Ethereum), ``tri`` (the Ethereum-compatible Trias chain, its
own chain id) and ``try`` (the TRY ERC20 on the eth chain).  Accounts are
squeezed into the UTXO model as one pseudo-UTXO per address (§9.3) because
the fork's client signs from ``inputs[0].address`` / ``inputs[0].path``.

Proposal lifecycle for these coins:

* create: 1 output; gas price = ``feePerKb`` (wei; a fee level or a number in
  ``[1, MAX_GAS_PRICE]``); one source address that covers amount + 21000 × gas
  price (eth/tri) or the token amount (try); pending proposals lock their
  source address (Q12); no change; ``fee`` = 21000 × gas price.
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
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Optional

from bws.chains.address import parse_address
from bws.chains.evm import raw_from_signatures, verify_raw_tx
from bws.chains.feelevels import static_fee_levels
from bws.chains.selection import EVM_GAS_LIMIT, select_evm_input
from bws.errors import BWSError, Errors, ServerError, bad_request
from bws.jsnum import is_number
from bws.model import LEGACY_UNSUPPORTED_MESSAGE, UNDEFINED, TxProposal, Wallet
from bws.model import constants as C

from .base import ServiceBase, check_required, is_int, maybe_await, truthy
from .feelevels import fee_level_names, invalid_fee_level_error
from .txproposals import _validate_outputs

log = logging.getLogger(__name__)

#: highest gas price accepted as ``feePerKb`` (wei; 100 000 gwei)
MAX_GAS_PRICE = 100_000 * 10**9
#: the reference's nonce-route failure text (§4.29)
NONCE_ERROR = "获取ETH地址信息失败，请稍后再试"
INSUFFICIENT_ETH_FOR_FEE = "INSUFFICIENT_ETH_FOR_FEE"
#: coins the pending-status route accepts (§4.29 + tri)
PENDING_STATUS_COINS = ("btc", "eth", "try", "tri")


def _is_evm(coin: Any) -> bool:
    return coin in C.EVM_COINS


class EvmMixin(ServiceBase):
    """EVM branches of wallets, fee levels, proposals, utxos; nonce and
    pending-status look-ups."""

    # ------------------------------------------------------------ explorers
    def _explorer(self, coin: str, network: str) -> Any:
        """EVM coins live on livenet only (§9.1); their explorers get the
        storage holding the tx index."""
        if _is_evm(coin):
            network = C.LIVENET
        ex = super()._explorer(coin, network)
        attach = getattr(ex, "attach_storage", None)
        if attach is not None:
            attach(self.storage)
        return ex

    async def _evm_wallet(self) -> Optional[Wallet]:
        """The caller's wallet when it is an EVM one, else None (errors are
        left to the BTC code path, which reports them in its own order)."""
        try:
            wallet = await self._fetch_wallet()
        except BWSError:
            return None
        return wallet if _is_evm(wallet.coin) else None

    async def _evm_call(self, coin: str, method: str, *args: Any) -> Any:
        return await self._explorer_call(coin, C.LIVENET, method, *args)

    # ------------------------------------------------------------ wallets
    async def create_wallet(self, opts: dict) -> dict:
        """EVM wallets are 1-of-1 (§9.1 recommendation): anything else is
        BADREQUEST "Invalid combination of required copayers / total copayers"."""
        if isinstance(opts, dict) and _is_evm(opts.get("coin")):
            m, n = opts.get("m"), opts.get("n")
            if is_int(m) and is_int(n) and (int(m), int(n)) != (1, 1):
                raise bad_request("Invalid combination of required copayers / total copayers")
        return await super().create_wallet(opts)

    # ------------------------------------------------------------ fee levels
    async def get_fee_levels(self, opts: Optional[dict] = None) -> list[dict]:
        """EVM: gas prices (wei) from the node (see
        :meth:`bws.adapters.explorers.web3.Web3Explorer.get_fee_levels`); without an
        explorer or when the node cannot answer, the reference's static table
        (§9.4)."""
        opts = opts or {}
        coin = opts.get("coin")
        if not _is_evm(coin):
            return await super().get_fee_levels(opts)
        network = opts.get("network") or C.DEFAULT_NETWORK
        if network not in C.NETWORKS:
            raise bad_request("Invalid network")
        try:
            return await self._evm_call(coin, "get_fee_levels")
        except Exception as e:  # noqa: BLE001 - like BTC: defaults, never an error
            log.warning("fee levels for %s failed: %r", coin, e)
            return static_fee_levels(coin)

    def _evm_fee_choice(self, wallet: Wallet, opts: dict) -> dict:
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

    # ------------------------------------------------------------ send max
    async def _send_max_info(self, wallet: Wallet, opts: dict) -> dict:
        if not _is_evm(wallet.coin):
            return await super()._send_max_info(wallet, opts)
        o = self._evm_fee_choice(wallet, {k: v for k, v in opts.items() if k not in ("fee", "inputs")})
        gas_price = int(await self._get_fee_per_kb(wallet, o))
        gas = gas_price * EVM_GAS_LIMIT
        utxos = [u for u in await self.get_wallet_utxos({}, wallet=wallet) if not u.get("locked")]
        native = wallet.coin != C.COIN_TRY

        def spendable(u: dict) -> int:
            return u["satoshis"] - gas if native else u["satoshis"]

        best = max(utxos, key=spendable, default=None)
        below = [u for u in utxos if spendable(u) <= 0]
        amount = max(0, spendable(best)) if best is not None else 0
        return {
            "size": 0,
            "amount": amount,
            "fee": gas if amount > 0 else 0,
            "feePerKb": gas_price,
            "inputs": [best] if (best is not None and amount > 0 and truthy(opts.get("returnInputs"))) else [],
            "utxosBelowFee": len(below),
            "amountBelowFee": sum(u["satoshis"] for u in below),
            "utxosAboveMaxSize": 0,
            "amountAboveMaxSize": 0,
        }

    # ------------------------------------------------------------ create
    async def create_tx(self, opts: Optional[dict] = None) -> dict:
        wallet = await self._evm_wallet()
        if wallet is None:
            return await super().create_tx(opts)
        opts = dict(opts) if isinstance(opts, dict) else {}

        async def create() -> dict:
            wallet, existing = await self._create_preamble(opts)
            if existing is not None:
                return existing
            txp_id = opts.get("txProposalId")  # validated by the preamble
            o = self._evm_fee_choice(wallet, opts)
            outputs = o.get("outputs")
            if not isinstance(outputs, list) or not outputs:
                raise bad_request("No outputs were specified")
            if len(outputs) > 1:
                raise bad_request(f"Only one output allowed for {wallet.coin}")
            if not isinstance(outputs[0], dict):
                raise bad_request("Argument missing in output #1.")
            if truthy(o.get("sendMax")):
                if is_number(outputs[0].get("amount")):
                    raise bad_request("Amount is not allowed when sendMax is specified")
                info = await self._send_max_info(
                    wallet, {"feePerKb": o.get("feePerKb"), "feeLevel": o.get("feeLevel"), "returnInputs": True}
                )
                outputs = [dict(outputs[0], amount=info["amount"])]
            _validate_outputs(wallet, outputs)
            out = dict(outputs[0])
            out["toAddress"] = parse_address(out["toAddress"], wallet.coin).address  # EIP-55 form
            await self._check_backoff(wallet)
            fee_per_kb = int(await self._get_fee_per_kb(wallet, o))
            txp = TxProposal.create(
                wallet.id,
                wallet.coin,
                wallet.network,
                wallet.m,
                wallet.n,
                outputs=[out],
                creatorId=self.copayer_id,
                id=txp_id if isinstance(txp_id, str) and txp_id else None,
                message=o.get("message", UNDEFINED),
                payProUrl=o.get("payProUrl", UNDEFINED),
                feeLevel=o["feeLevel"] if truthy(o.get("feeLevel")) else UNDEFINED,
                feePerKb=fee_per_kb,
                excludeUnconfirmedUtxos=truthy(o.get("excludeUnconfirmedUtxos")),
                addressType=wallet.address_type,
                customData=o.get("customData", UNDEFINED),
                noShuffleOutputs=True,
                now=self.now_s(),
            )
            utxos = await self.get_wallet_utxos({}, wallet=wallet)
            select_evm_input(txp, copy.deepcopy(utxos), C.COIN_TRY if wallet.coin == C.COIN_TRY else C.COIN_ETH)
            if not truthy(o.get("dryRun")):
                await self._store_txp(txp)
            return txp.to_dict()

        return await self._run_locked(create)

    # ------------------------------------------------------------ publish
    async def publish_tx(self, opts: dict) -> dict:
        wallet = await self._evm_wallet()
        if wallet is None:
            return await super().publish_tx(opts)
        check_required(opts, ["txProposalId", "proposalSignature"])

        async def publish() -> dict:
            txp = await self._fetch_txp(opts["txProposalId"], wallet.id)
            self._require_evm_v3(txp)
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
            fresh = await self.get_wallet_utxos({"addresses": addresses}, wallet=wallet)
            available = {f"{u['txid']}|{u['vout']}" for u in fresh if not u.get("locked")}
            if not txp.inputs or any(f"{i.get('txid')}|{i.get('vout')}" not in available for i in txp.inputs):
                raise Errors.UNAVAILABLE_UTXOS
            txp.status = C.TXP_PENDING
            await self._store_txp(txp, self._new_notification("NewTxProposal", txp.notification_data()))
            return txp.to_dict()

        return await self._run_locked(publish)

    @staticmethod
    def _require_evm_v3(txp: Any) -> None:
        if txp.is_legacy():
            raise ServerError(LEGACY_UNSUPPORTED_MESSAGE)

    # ------------------------------------------------------------ verification
    async def _verify_evm_raw(self, txp: TxProposal, raw: str, check_nonce: bool = True):
        """Decode ``raw`` and check it against ``txp`` and the node (chain id,
        sender's pending nonce).  INVALID_RAW_TX / BAD_SIGNATURES / explorer errors."""
        ex = self._explorer(txp.coin, C.LIVENET)
        inputs = txp.inputs or []
        outputs = txp.outputs or []
        if not inputs or not outputs:
            raise Errors.BAD_SIGNATURES
        sender = inputs[0].get("address")
        chain_id = int(await maybe_await(ex.get_chain_id()))
        nonce = None
        if check_nonce:
            nonce = int(await self._evm_call(txp.coin, "get_address_transaction_count", sender, "pending"))
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

    # ------------------------------------------------------------ sign
    async def sign_tx(self, opts: dict) -> dict:
        wallet = await self._evm_wallet()
        if wallet is None:
            return await super().sign_tx(opts)
        check_required(opts, ["txProposalId", "signatures"])

        async def sign() -> dict:
            txp = await self._fetch_txp(opts["txProposalId"], wallet.id)
            self._require_evm_v3(txp)
            self._check_can_sign(txp)
            copayer = wallet.get_copayer(self.copayer_id)
            if copayer is None:
                raise Errors.BAD_SIGNATURES
            sigs = opts["signatures"]
            raw = raw_from_signatures(sigs)
            decoded = await self._verify_evm_raw(txp, raw)
            return await self._accept_and_notify(txp, copayer, sigs, lambda _t: (raw, decoded.hash))

        return await self._run_locked(sign)

    # ------------------------------------------------------------ broadcast
    async def broadcast_tx(self, opts: dict) -> dict:
        wallet = await self._evm_wallet()
        if wallet is None:
            return await super().broadcast_tx(opts)
        check_required(opts, ["txProposalId"])

        async def broadcast() -> dict:
            txp = await self._fetch_txp(opts["txProposalId"], wallet.id)
            self._require_evm_v3(txp)
            if txp.is_broadcasted():
                raise Errors.TX_ALREADY_BROADCASTED
            if txp.status != C.TXP_ACCEPTED:
                raise Errors.TX_NOT_ACCEPTED
            raw = txp.raw
            if not isinstance(raw, str) or not raw:
                raw = raw_from_signatures(next((a.signatures for a in txp.actions if a.type == "accept"), None))
            decoded = await self._verify_evm_raw(txp, raw, check_nonce=False)
            txp.txid = decoded.hash
            if await self._evm_call(txp.coin, "get_transaction", decoded.hash):
                await self._process_broadcast(txp, by_third_party=True)
                return txp.to_dict()
            await self._verify_evm_raw(txp, raw, check_nonce=True)
            if txp.coin == C.COIN_TRY:
                eth = int(await self._evm_call(txp.coin, "get_native_balance", decoded.sender))
                if eth < decoded.max_fee + decoded.value:
                    raise ServerError(INSUFFICIENT_ETH_FOR_FEE)
            try:
                txid = await self._evm_call(txp.coin, "broadcast", raw)
            except BWSError:
                if await self._evm_call(txp.coin, "get_transaction", decoded.hash):
                    await self._process_broadcast(txp, by_third_party=True)
                    return txp.to_dict()
                raise
            if isinstance(txid, str) and txid.lower() != decoded.hash:
                log.warning("node answered txid %s for %s", txid, decoded.hash)
            await self._process_broadcast(txp, by_third_party=False)
            return txp.to_dict()

        return await self._run_locked(broadcast)

    # ------------------------------------------------------------ pending list
    async def _check_pending_broadcasts(self, txps: list, *, take_lock: bool = True) -> list:
        """Accepted EVM proposals whose tx the node knows were broadcast by
        someone else (or by us, answer lost): mark (once, as BTC ones) and drop
        them.  Explorer errors keep the proposal (Q7)."""
        txps = await super()._check_pending_broadcasts(txps, take_lock=take_lock)
        out = []
        for t in txps:
            if not t.is_legacy() and t.status == C.TXP_ACCEPTED and t.txid and _is_evm(t.coin):
                try:
                    found = await self._evm_call(t.coin, "get_transaction", t.txid)
                except Exception as e:  # noqa: BLE001
                    log.warning("pending check of %s (%s) failed: %r", t.id, t.txid, e)
                    found = None
                if found:
                    await self._mark_broadcast_by_third_party(t, take_lock=take_lock)
                    continue
            out.append(t)
        return out

    # ------------------------------------------------------------ utxos (Q17)
    async def get_utxos(self, opts: Optional[dict] = None) -> list[dict]:
        opts = opts or {}
        addresses = opts.get("addresses")
        if isinstance(addresses, str):
            addresses = [a for a in addresses.split(",") if a]
        if addresses and isinstance(addresses, list) and isinstance(addresses[0], str) and addresses[0][:2] in ("0x", "0X"):
            from .balance import normalize_utxo

            coin = C.COIN_ETH
            if self.wallet_id:
                try:
                    w = await self._fetch_wallet()
                    if _is_evm(w.coin):
                        coin = w.coin
                except BWSError:
                    pass
            for a in addresses:
                parse_address(a, coin)
            raw = await self._evm_call(coin, "get_utxos", addresses)
            return [normalize_utxo(u, coin) for u in (raw or [])]
        return await super().get_utxos(opts)

    # ------------------------------------------------------------ fork routes (§4.29)
    async def get_address_nonce(self, opts: dict) -> dict:
        """``GET /v1/<eth|try|tri>/address_nonce/:address`` -> ``{"nonce": int}``:
        the address's next nonce on the coin's chain, ``pending`` block tag
        (counts the node's pool; the reference used ``latest``, Q22).  Not an
        EVM address: BADREQUEST "Invalid address" (the reference asked the
        node anyway); any node failure: the reference's 500 text."""
        coin = opts.get("coin")
        address = opts.get("address")
        if not isinstance(address, str):
            raise bad_request("Invalid address")
        try:
            address = parse_address(address, coin).address
        except BWSError:
            raise bad_request("Invalid address") from None
        try:
            nonce = await self._evm_call(coin, "get_address_transaction_count", address, "pending")
            return {"nonce": int(nonce)}
        except Exception as e:  # noqa: BLE001
            log.warning("nonce of %r on %s failed: %r", opts.get("address"), coin, e)
            raise ServerError(NONCE_ERROR) from None

    async def get_transaction_pending_status(self, opts: dict) -> dict:
        """``GET /v1/get_transaction_pending_status?coin=&network=&txid=``
        (§4.29, services §3.6): always a dict for HTTP 200 — ``{code: 1,
        message}`` on bad parameters or lookup errors, else ``{code: 0,
        status: "confirmed"|"pending"}`` ("pending" also when unknown)."""
        coin = opts.get("coin")
        if not isinstance(coin, str) or not coin:
            return {"code": 1, "message": "can not find coin param"}
        coin = coin.lower()
        if coin not in PENDING_STATUS_COINS:
            return {"code": 1, "message": f"coin param not supported: {coin}"}
        network = opts.get("network")
        if not isinstance(network, str) or not network:
            return {"code": 1, "message": "can not find network param"}
        network = network.lower()
        if network not in C.NETWORKS:
            return {"code": 1, "message": f"network param not supported: {network}"}
        if _is_evm(coin):
            network = C.LIVENET
        txid = opts.get("txid")
        if not isinstance(txid, str) or not txid:
            return {"code": 1, "message": "can not find txid param"}
        txid = txid.lower()
        try:
            tx = await self._explorer_call(coin, network, "get_transaction", txid)
        except BWSError as e:
            return {"code": 1, "message": getattr(e, "message", None) or str(e)}
        except Exception as e:  # noqa: BLE001
            return {"code": 1, "message": str(e)}
        if _is_evm(coin):
            confirmed = bool(tx and tx.get("blockHash"))
        else:
            confirmed = bool(
                tx
                and (
                    tx.get("blockhash")
                    or (is_int(tx.get("block")) and tx["block"] > 0)
                    or (is_int(tx.get("confirmations")) and tx["confirmations"] > 0)
                )
            )
        return {"code": 0, "status": "confirmed" if confirmed else "pending"}


__all__ = ["EvmMixin", "MAX_GAS_PRICE", "NONCE_ERROR", "INSUFFICIENT_ETH_FOR_FEE"]
