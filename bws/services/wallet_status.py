"""Rules of the v3 wallet status, the bulk status and the wallet options of
bitcore-wallet-client 10.x / 11.x that this server refuses
(docs/spec/protocol-bwc11.md §3.1, §3.5, §4; upstream bitcore-wallet-service
11.10.5 ``routes/wallets.ts``, ``server.ts getStatus/createWallet``).

Transport-free helpers used by :class:`bws.services.wallets.Wallets`; no I/O.
"""

from __future__ import annotations

from typing import Any, Optional

from bws.errors import bad_request, client_error
from bws.model import constants as C

#: ``numberFormat`` values upstream knows (``routes/context.ts checkNumberFormat``)
NUMBER_FORMATS = ("hex", "string", "number")

#: most ``{copayerId, signature}`` pairs one ``POST /v1/wallets/exist`` may ask about
MAX_EXIST_COPAYERS = 200

#: wallet-creation / join options of the new clients this server does not serve
#: -> why (a 400 names the option, never a silent ordinary wallet)
_UNSUPPORTED_WALLET_OPTIONS = {
    "tssVersion": "threshold-signature (TSS) wallets are not served",
    "tssKeyId": "threshold-signature (TSS) wallets are not served",
    "hardwareSourcePublicKey": "hardware-wallet key attestation is not served",
    "clientDerivedPublicKey": "hardware-wallet key attestation is not served",
    "segwitVersion": "native segwit and taproot wallets are not served yet",
}


def refuse_unsupported_wallet_options(opts: dict) -> None:
    """400 BADREQUEST "<option> is not supported yet: <why>" for a create or
    join body carrying ``useNativeSegwit: true`` or any non-null option of
    :data:`_UNSUPPORTED_WALLET_OPTIONS`.  ``useNativeSegwit: false`` and
    ``usePurpose48`` (either value) pass: purpose 48 only names the
    clients' own key path, the server derives from the copayers' xpubs."""
    if opts.get("useNativeSegwit") not in (None, False):
        raise bad_request("useNativeSegwit is not supported yet: native segwit and taproot wallets are not served yet")
    for name, why in _UNSUPPORTED_WALLET_OPTIONS.items():
        if opts.get(name) is not None:
            raise bad_request(f"{name} is not supported yet: {why}")
    purpose48 = opts.get("usePurpose48")
    if purpose48 is not None and not isinstance(purpose48, bool):
        raise bad_request("Invalid usePurpose48")


def check_chain(opts: dict, coin: str) -> None:
    """``chain`` (new clients: btc, bch, eth …) must name the wallet's coin
    chain; for every coin this server serves, chain == coin.  Absent or null
    passes.  400 "Invalid chain" otherwise (upstream's text)."""
    chain = opts.get("chain")
    if chain is None:
        return
    if not isinstance(chain, str) or chain.lower() != coin:
        raise bad_request("Invalid chain")


def check_number_format(value: Any) -> None:
    """``numberFormat``: absent/blank or ``number`` (JSON numbers, what we
    answer) pass; ``hex``/``string`` are refused with a 400 naming the option
    (we render amounts as numbers only); anything else is
    INVALID_NUMBER_FORMAT as upstream."""
    if value in (None, "", "number"):
        return
    if value in NUMBER_FORMATS:
        raise bad_request(f"numberFormat {value} is not supported: amounts are JSON numbers (numberFormat=number)")
    raise client_error("INVALID_NUMBER_FORMAT")


def shape_status_wallet(wdict: dict, copayer_id: Optional[str], extended: bool) -> dict:
    """The wallet of a status answer (upstream ``getStatus``): other
    copayers' ``customData`` removed; without extended info the wallet also
    loses ``publicKeyRing``/``pubKey``/``addressManager`` and every copayer
    ``xPubKey``/``requestPubKey``/``signature``/``addressManager``/
    ``customData``; ``chain`` added (= coin) for the new clients."""
    for c in wdict.get("copayers", []):
        if c.get("id") != copayer_id:
            c.pop("customData", None)
    if not extended:
        for k in ("publicKeyRing", "pubKey", "addressManager"):
            wdict.pop(k, None)
        for c in wdict.get("copayers", []):
            for k in ("xPubKey", "requestPubKey", "signature", "addressManager", "customData"):
                c.pop(k, None)
    return with_chain(wdict)


def with_chain(wdict: dict) -> dict:
    """``wdict`` with ``chain`` (= its coin: btc, bch, eth, try, tri) as the
    new clients read it; returned for chaining."""
    if wdict.get("coin"):
        wdict.setdefault("chain", wdict["coin"])
    return wdict


def bulk_item(wallet_id: Optional[str], token_address: Optional[str], status: Any, error: Optional[Exception]) -> dict:
    """One element of the ``GET /v1/wallets/all/`` answer for an
    authenticated identity: ``{walletId, tokenAddress, success: true,
    status}`` or ``{walletId, tokenAddress, success: false, message}``.

    A pending wallet's item also carries ``wallet: {id, status: "pending"}``:
    bitcore-wallet-client 10.x/11.x ``getStatusAll`` writes
    ``result.wallet.secret`` for pending wallets and would raise a TypeError
    on upstream's items, which have no ``wallet`` key."""
    if error is not None:
        return {"walletId": wallet_id, "tokenAddress": token_address, "success": False, "message": error_message(error)}
    item = {"walletId": wallet_id, "tokenAddress": token_address, "success": True, "status": status}
    wallet = status.get("wallet") if isinstance(status, dict) else None
    if isinstance(wallet, dict) and wallet.get("status") == C.WALLET_PENDING:
        item["wallet"] = {"id": wallet.get("id"), "status": C.WALLET_PENDING}
    return item


def error_message(error: Exception) -> str:
    """The text of a client or server error (its ``message``), as upstream's
    bulk items carry it."""
    message = getattr(error, "message", None)
    return message if isinstance(message, str) else str(error)


def per_copayer_options(query: dict, copayer_id: str) -> dict:
    """``<copayerId>:tokenAddress`` (repeatable), ``<copayerId>:multisigContractAddress``
    and ``<copayerId>:network`` of a bulk query (also the older
    ``<copayerId>[tokenAddress]`` spelling, as upstream) ->
    ``{tokenAddresses: [str], multisigContractAddress, network}``."""

    def get(name: str) -> Any:
        value = query.get(f"{copayer_id}:{name}")
        if value is None:
            value = query.get(f"{copayer_id}[{name}]")
        return value

    tokens = get("tokenAddress")
    tokens = [t for t in (tokens if isinstance(tokens, list) else [tokens]) if isinstance(t, str) and t]
    msig, network = get("multisigContractAddress"), get("network")
    return {
        "tokenAddresses": tokens,
        "multisigContractAddress": msig if isinstance(msig, str) and msig else None,
        "network": network if isinstance(network, str) and network else None,
    }


def exist_pairs(body: Any) -> list[tuple[str, str]]:
    """``{copayers: [{copayerId, signature}]}`` -> the well-formed
    ``(copayerId, signature)`` pairs (upstream answers ``[]`` when
    ``copayers`` is not an array; malformed entries cannot verify).  400
    "Too many copayers" past :data:`MAX_EXIST_COPAYERS`."""
    copayers = body.get("copayers") if isinstance(body, dict) else None
    if not isinstance(copayers, list):
        return []
    if len(copayers) > MAX_EXIST_COPAYERS:
        raise bad_request(f"Too many copayers: at most {MAX_EXIST_COPAYERS}")
    out: list[tuple[str, str]] = []
    for c in copayers:
        if isinstance(c, dict) and isinstance(c.get("copayerId"), str) and isinstance(c.get("signature"), str):
            out.append((c["copayerId"], c["signature"]))
    return out


__all__ = [
    "MAX_EXIST_COPAYERS",
    "NUMBER_FORMATS",
    "bulk_item",
    "check_chain",
    "check_number_format",
    "error_message",
    "exist_pairs",
    "per_copayer_options",
    "refuse_unsupported_wallet_options",
    "shape_status_wallet",
    "with_chain",
]
