"""Node transactions -> the Insight shapes the service expects from an explorer
(docs/spec/api.md §6.20, §6.14), for bws/adapters/explorers/bitcoind.py.

Pure functions, no I/O: :func:`slim` keeps what the explorer caches of a
verbose node transaction; :func:`insight_tx` turns one slim transaction, its
wallet metadata and its inputs' previous transactions into Insight's JSON.
Amounts: satoshis as int (``valueSat``), coins as float (``value``, ``fees``),
as Insight sends them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable, Mapping, Optional, Union

__all__ = ["SAT", "sats", "coins", "slim", "insight_tx"]

SAT = 100_000_000


def sats(amount: Union[Decimal, int, float, str, None]) -> int:
    """Coin amount (8 decimals) -> satoshis: int, exactly (JSON is parsed as Decimal)."""
    if amount is None:
        return 0
    return int((Decimal(str(amount)) * SAT).to_integral_value())


def coins(amount_sats: int) -> float:
    """Satoshis -> coin float, as Insight's ``value`` / ``fees`` (BTC)."""
    return amount_sats / SAT


def slim(tx: Mapping[str, Any]) -> dict:
    """What we keep of a verbose node tx (immutable per txid, so cacheable):
    ``{txid, size, vsize, vin: [(txid, vout) | None for coinbase], vout: [(n, spk_hex, sats)]}``."""
    vin = []
    for i in tx.get("vin") or []:
        vin.append((i["txid"], i["vout"]) if "txid" in i and "vout" in i else None)
    vout = []
    for o in tx.get("vout") or []:
        spk = ((o.get("scriptPubKey") or {}).get("hex") or "").lower()
        vout.append((o.get("n", len(vout)), spk, sats(o.get("value"))))
    return {"txid": tx["txid"], "size": tx.get("size"), "vsize": tx.get("vsize"), "vin": vin, "vout": vout}


def insight_tx(
    tx: Mapping[str, Any],
    meta: Mapping[str, Any],
    prev: Mapping[str, Mapping[str, Any]],
    encode: Callable[[str], Optional[str]],
    tip: int,
) -> dict:
    """One Insight-format transaction.

    tx: a :func:`slim` tx; meta: the node's wallet entry or verbose-tx fields
    (``confirmations``, ``blockhash``, ``blockheight``, ``blocktime``,
    ``timereceived``); prev: ``{txid: slim tx}`` of its inputs' transactions (an
    input whose previous tx is absent shows no address/value, and the fee reads 0);
    encode: scriptPubKey hex -> address text or None; tip: the best height, used
    when a confirmed entry has no ``blockheight`` (older nodes)."""
    vin, total_in, known_in = [], 0, True
    coinbase = bool(tx["vin"]) and all(v is None for v in tx["vin"])
    for n, v in enumerate(tx["vin"]):
        if v is None:
            vin.append({"n": n, "coinbase": True})
            continue
        p = prev.get(v[0])
        po = next((o for o in p["vout"] if o[0] == v[1]), None) if p else None
        if po is None:
            known_in = False
            vin.append({"n": n, "txid": v[0], "vout": v[1], "addr": None, "valueSat": None, "value": None})
            continue
        total_in += po[2]
        vin.append({"n": n, "txid": v[0], "vout": v[1], "addr": encode(po[1]),
                    "valueSat": po[2], "value": coins(po[2])})  # fmt: skip
    vout = []
    total_out = 0
    for n, spk, amount in tx["vout"]:
        total_out += amount
        addr = encode(spk)
        vout.append({"n": n, "value": coins(amount), "valueSat": amount,
                     "scriptPubKey": {"hex": spk, "addresses": [addr] if addr else []}})  # fmt: skip
    conf = int(meta.get("confirmations") or 0)
    height = meta.get("blockheight")
    if conf > 0 and height is None:
        height = tip - conf + 1
    fees = total_in - total_out if known_in and not coinbase else 0
    return {
        "txid": tx["txid"],
        "size": tx.get("size"),
        "vsize": tx.get("vsize"),
        "vin": vin,
        "vout": vout,
        "confirmations": conf,
        "blockhash": meta.get("blockhash") if conf > 0 else None,
        "blockheight": int(height) if conf > 0 else -1,
        "blocktime": meta.get("blocktime") if conf > 0 else None,
        # Insight's firstSeenTs is a mempool notion; for a confirmed tx the wallet's
        # timereceived may be a later rescan time, so blocktime alone dates it.
        "firstSeenTs": meta.get("timereceived") if conf == 0 else None,
        "time": (meta.get("blocktime") if conf > 0 else None) or meta.get("timereceived"),
        "isCoinBase": coinbase,
        "valueIn": coins(total_in),
        "valueOut": coins(total_out),
        "fees": coins(fees),
    }
