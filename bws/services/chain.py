"""Chain look-ups that need no wallet: an EVM address's nonce and a
transaction's pending status (docs/spec/api.md §4.29, docs/spec/services.md §3.6, §10
Q22; the fork's additions to bitcore-wallet-service lib/expressapp.js), and
pushing a raw transaction (docs/spec/api.md §4.21, upstream lib/server.js ``broadcastRawTx``).
"""

from __future__ import annotations

import logging

from bws.chains.address import parse_address
from bws.chains.rules import rules_for
from bws.errors import BWSError, ServerError, bad_request
from bws.model import constants as C

from .base import Aggregate, check_required
from .context import Caller

log = logging.getLogger(__name__)

#: the reference's nonce-route failure text (docs/spec/api.md §4.29)
NONCE_ERROR = "获取ETH地址信息失败，请稍后再试"
#: coins the pending-status route accepts (docs/spec/api.md §4.29 + tri)
PENDING_STATUS_COINS = ("btc", "eth", "try", "tri")


class Chain(Aggregate):
    """getAddressNonce, getTransactionPendingStatus, broadcastRawTx."""

    # ------------------------------------------------------------ fork routes (docs/spec/api.md §4.29)
    async def get_address_nonce(self, caller: Caller, opts: dict) -> dict:
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
            nonce = await self._explorer_call(coin, C.LIVENET, "get_address_transaction_count", address, "pending")
            return {"nonce": int(nonce)}
        except Exception as e:  # noqa: BLE001
            log.warning("nonce of %r on %s failed: %r", opts.get("address"), coin, e)
            raise ServerError(NONCE_ERROR) from None

    async def get_transaction_pending_status(self, caller: Caller, opts: dict) -> dict:
        """``GET /v1/get_transaction_pending_status?coin=&network=&txid=``
        (§4.29, docs/spec/services.md §3.6): always a dict for HTTP 200 — ``{code: 1,
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
        rules = rules_for(coin)
        network = rules.explorer_network(network)
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
        return {"code": 0, "status": "confirmed" if rules.tx_confirmed(tx) else "pending"}

    async def broadcast_raw_tx(self, caller: Caller, opts: dict) -> str:
        """``POST /v1/broadcast_raw/`` (docs/spec/api.md §4.21): push any signed raw tx.
        opts: ``{network (key required), rawTx, coin?: "btc"}`` -> txid
        string.  Errors: "Required argument ...", "Invalid coin", "Invalid
        network", "Invalid rawTx" (btc/bch: not the hex of a transaction
        with inputs and outputs), 500 with the node's verdict on a
        well-formed transaction (e.g. "bad-txns-inputs-missingorspent")."""
        check_required(opts, ["network", "rawTx"])
        coin = opts.get("coin") or C.DEFAULT_COIN
        if coin not in C.COINS:
            raise bad_request("Invalid coin")
        network = opts.get("network")
        if network not in C.NETWORKS:
            raise bad_request("Invalid network")
        raw = opts.get("rawTx")
        if not isinstance(raw, str) or not raw or not rules_for(coin).is_raw_tx(raw):
            # the node's "TX decode failed" came back as a 500
            raise bad_request("Invalid rawTx")
        return await self._explorer_call(coin, network, "broadcast", raw)


__all__ = ["Chain", "NONCE_ERROR", "PENDING_STATUS_COINS"]
