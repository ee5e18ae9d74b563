"""Transaction history: normalisation and decoration (docs/spec/api.md §6.14).

Pure functions over wire dicts: a history item is built from the API forms
of what it shows (the decorated proposal the API answers, the TxNote with
``editedByName``), so they come in as those dicts, not as models. The service
fetches the explorer page, the wallet's addresses, proposals and notes, and
fee levels, then calls:

    txs   = [normalize_tx(raw, coin, now=now_s) for raw in page]
    items = decorate_txs(txs, addresses, proposals=…, notes=…, single_address=…)
    tag_low_fees(items, fee_levels)

Amounts are ints in satoshis (wei for eth/try). Keys the reference leaves
``undefined`` are simply absent from the returned dicts.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Sequence

from bws.chains.constants import EVM_COINS
from bws.jsnum import is_number, js_parse_int, to_fixed0

__all__ = [
    "normalize_tx",
    "classify",
    "index_addresses",
    "decorate_tx",
    "decorate_txs",
    "tag_low_fees",
    "proposal_time_window",
    "cache_window",
]

DAY = 24 * 3600


def _num(v: Any) -> float:
    # JS coerces "0.001" * 1e8 to a number; do the same for insight's string values.
    if isinstance(v, str):
        return float(v)
    return v if v is not None else 0


def normalize_tx(raw: Mapping, coin: str = "btc", *, now: int) -> dict:
    """Insight-format tx → ``{txid, confirmations, blockheight, fees, size, time,
    inputs: [{address, amount}], outputs: [{address, amount}]}``.

    raw: ``{txid, vin:[{addr, valueSat}], vout:[{value, scriptPubKey:{addresses}}],
    confirmations, blockheight, blocktime, firstSeenTs, fees, size}``;
    vout.value and fees are in coin units (BTC), converted with
    ``parseInt(toFixed0(x * 1e8))``. For eth/try vout.value is already wei
    (int or decimal string) and fees are ETH (×1e18) unless an int
    ``feesWei`` is given, which wins. time = blocktime || firstSeenTs || now
    (unix seconds, the caller's clock).
    """
    inputs = [{"address": vin.get("addr"), "amount": vin.get("valueSat")} for vin in raw.get("vin") or []]
    outputs = []
    for vout in raw.get("vout") or []:
        addresses = (vout.get("scriptPubKey") or {}).get("addresses") or []
        value = vout.get("value")
        if coin in EVM_COINS:
            amount = int(value) if isinstance(value, (int, str)) else to_fixed0(value)
        else:
            amount = js_parse_int(to_fixed0(_num(value) * 1e8))
        outputs.append({"address": addresses[0] if len(addresses) == 1 else None, "amount": amount})
    if coin in EVM_COINS and isinstance(raw.get("feesWei"), int):
        fees = raw["feesWei"]
    elif coin in EVM_COINS:
        fees = to_fixed0(_num(raw.get("fees")) * 1e18)
    else:
        fees = js_parse_int(to_fixed0(_num(raw.get("fees")) * 1e8))
    t = raw.get("blocktime") or raw.get("firstSeenTs") or now
    return {
        "txid": raw.get("txid"),
        "confirmations": raw.get("confirmations"),
        "blockheight": raw.get("blockheight"),
        "fees": fees,
        "size": raw.get("size"),
        "time": t,
        "inputs": inputs,
        "outputs": outputs,
    }


def _key(address: Any) -> Any:
    # EVM addresses compare case-insensitively (EIP-55 vs lowercase forms).
    if isinstance(address, str) and address[:2] in ("0x", "0X"):
        return address.lower()
    return address


def index_addresses(addresses: Iterable[Mapping | str]) -> dict:
    """address key → Address wire dict (``{address, isChange?}``, as stored);
    plain strings count as non-change addresses. Build it once per address
    set and pass it to :func:`decorate_txs` as ``indexed`` to decorate several
    pages."""
    out = {}
    for a in addresses:
        if isinstance(a, str):
            out[_key(a)] = {"address": a, "isChange": False}
        else:
            out[_key(a.get("address"))] = a
    return out


def classify(items: Sequence[Mapping], indexed: Mapping, single_address: bool = False) -> list[dict]:
    """``[{address, amount, isMine, isChange}]`` for tx inputs or outputs."""
    out = []
    for it in items:
        addr = indexed.get(_key(it.get("address")))
        out.append(
            {
                "address": it.get("address"),
                "amount": it.get("amount"),
                "isMine": addr is not None,
                "isChange": bool(addr.get("isChange") or single_address) if addr is not None else False,
            }
        )
    return out


def _sum(items: Iterable[Mapping]) -> int:
    return sum(i["amount"] or 0 for i in items)


def _pick(obj: Mapping, keys: Sequence[str]) -> dict:
    # lodash _.pick: copy the keys that exist.
    return {k: obj[k] for k in keys if k in obj}


def decorate_tx(
    tx: Mapping,
    indexed_addresses: Mapping,
    *,
    single_address: bool = False,
    include_extended_info: bool = True,
    proposal: Optional[Mapping] = None,
    note: Optional[Mapping] = None,
) -> dict:
    """One history item from a normalised tx (docs/spec/api.md §6.14 "Decoration").

    indexed_addresses: from :func:`index_addresses`. proposal: the wallet's
    proposal whose txid matches, as the API answers it (``TxProposal.to_dict()``
    plus creatorName and actions[].copayerName), or None; note: the TxNote
    wire dict (with editedByName) or None.
    """
    item: dict[str, Any] = {"txid": tx.get("txid")}
    fees = tx.get("fees") or 0
    ins_raw, outs_raw = tx.get("inputs") or [], tx.get("outputs") or []
    ins: list[dict] = []
    outs: list[dict] = []
    address_to = None
    foreign = False
    has_address_to = False
    if ins_raw or outs_raw:
        ins = classify(ins_raw, indexed_addresses, single_address)
        outs = classify(outs_raw, indexed_addresses, single_address)
        amount_in = _sum(i for i in ins if i["isMine"])
        amount_out = _sum(o for o in outs if o["isMine"] and not o["isChange"])
        amount_change = _sum(o for o in outs if o["isMine"] and o["isChange"])
        if amount_in == amount_out + amount_change + (fees if amount_in > 0 else 0):
            action, amount = "moved", amount_out
        else:
            amount = amount_in - amount_out - amount_change - (fees if amount_in > 0 and amount_change > 0 else 0)
            action = "sent" if amount > 0 else "received"
        amount = abs(amount)
        if action in ("sent", "moved"):
            has_address_to = True
            address_to = next((o["address"] for o in outs if not o["isMine"]), None)
        if action == "sent" and not all(i["isMine"] for i in ins):
            foreign = True
    else:
        action, amount = "invalid", 0

    item.update({"action": action, "amount": amount, "fees": tx.get("fees"), "time": tx.get("time")})
    if has_address_to:
        item["addressTo"] = address_to
    item["confirmations"] = tx.get("confirmations")
    if foreign:
        item["foreignCrafted"] = True
    size = tx.get("size")
    if is_number(size) and size > 0:
        item["feePerKb"] = to_fixed0(fees * 1000 / size)

    if include_extended_info:
        item["inputs"] = [{"address": i["address"], "amount": i["amount"], "isMine": i["isMine"]} for i in ins]
        item["outputs"] = [{"address": o["address"], "amount": o["amount"], "isMine": o["isMine"]} for o in outs]
    else:
        shown = [o for o in outs if not o["isChange"]]
        if action == "received":
            shown = [o for o in shown if o["isMine"]]
        item["outputs"] = [{"amount": o["amount"], "address": o["address"]} for o in shown]

    if proposal is not None:
        item["createdOn"] = proposal.get("createdOn")
        item["proposalId"] = proposal.get("id")
        if proposal.get("type") is not None:  # legacy proposals only
            item["proposalType"] = proposal.get("type")
        item["creatorName"] = proposal.get("creatorName")
        item["message"] = proposal.get("message")
        item["actions"] = [
            _pick(a, ["createdOn", "type", "copayerId", "copayerName", "comment"])
            for a in (proposal.get("actions") or [])
        ]
        txp_outputs = proposal.get("outputs") or []
        for o in item["outputs"]:
            match = next(
                (p for p in txp_outputs if p.get("toAddress") == o["address"] and p.get("amount") == o["amount"]),
                None,
            )
            o["message"] = match.get("message") if match is not None else None
        item["customData"] = proposal.get("customData")
    if note is not None:
        item["note"] = _pick(note, ["body", "editedBy", "editedByName", "editedOn"])
    return item


def decorate_txs(
    txs: Sequence[Mapping],
    addresses: Iterable[Mapping | str],
    *,
    proposals: Iterable[Mapping] = (),
    notes: Iterable[Mapping] = (),
    single_address: bool = False,
    include_extended_info: bool = True,
    indexed: Optional[Mapping] = None,
) -> list[dict]:
    """Decorate normalised txs (docs/spec/api.md §6.14). addresses: the
    wallet's Address wire dicts (``address``, ``isChange``) or plain strings;
    or pass ``indexed`` (:func:`index_addresses` of them) instead; proposals
    and notes (wire dicts, see :func:`decorate_tx`) are matched by ``txid``.
    The txs are not modified.

    Examples (wallet fees 100): external → mine 200 ⇒ received 200; mine 500
    → external 400, no change ⇒ sent 500; mine 500 → external 300 + my
    change 100 ⇒ sent 300.
    """
    if indexed is None:
        indexed = index_addresses(addresses)
    by_txid = {p.get("txid"): p for p in proposals if p.get("txid")}
    notes_by_txid = {n.get("txid"): n for n in notes}
    return [
        decorate_tx(
            tx,
            indexed,
            single_address=single_address,
            include_extended_info=include_extended_info,
            proposal=by_txid.get(tx.get("txid")),
            note=notes_by_txid.get(tx.get("txid")),
        )
        for tx in txs
    ]


def tag_low_fees(items: Sequence[dict], fee_levels: Optional[Sequence[Mapping]]) -> None:
    """Set ``lowFees`` on unconfirmed items (confirmations == 0) in place.

    fee_levels: getFeeLevels(coin, network) result, or None when it failed.
    Only when the superEconomy level has a real estimate (truthy nbBlocks):
    ``lowFees = feePerKb < superEconomy.feePerKb`` (no feePerKb → False).
    """
    unconfirmed = [i for i in items if i.get("confirmations") == 0 and not isinstance(i.get("confirmations"), bool)]
    if not unconfirmed or not fee_levels:
        return
    level = next((lv for lv in fee_levels if lv.get("level") == "superEconomy"), None)
    if not level or not level.get("nbBlocks"):
        return
    for item in unconfirmed:
        fpk = item.get("feePerKb")
        item["lowFees"] = is_number(fpk) and fpk < level["feePerKb"]


def proposal_time_window(txs: Sequence[Mapping]) -> tuple[int, int]:
    """(minTs, maxTs) for the proposals/notes merged into a history page:
    min(time) − 7 days, max(time) + 1 day (seconds)."""
    times = [t["time"] for t in txs]
    return min(times) - 7 * DAY, max(times) + DAY


def cache_window(total_items: int, frm: int, to: int) -> Optional[tuple[int, int]]:
    """History-cache positions ``[fwd, end)`` serving page ``[frm, to)``
    (positions count from the oldest tx); None when the page is past the end."""
    fwd = max(0, total_items - to)
    end = total_items - frm
    if end <= 0:
        return None
    return fwd, end
