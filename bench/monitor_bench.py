"""BTC monitor benchmark: ``python -m bench.monitor_bench --mongo-uri URI``.

Stores ``--addresses`` watched addresses (P2PKH scripts, 100 wallets, written
straight to the ``addresses`` collection like bws does, with ``scriptPubKey``;
``createdOn`` spread evenly over the last ``--created-within`` seconds, default
a year, as a deployment accumulates them: the monitor re-reads the addresses
created in its last ``address_margin`` = 600 s at every block, so
``--created-within 60`` measures a burst of new addresses),
builds a synthetic ``--txs``-transaction block with python-bitcoinlib (two
outputs per tx; ``--hits`` of the txs pay a watched address, the rest pay
random scripts), and times :meth:`bcmonitor.btc.BtcMonitor.on_block` on it
(the P2P ``block`` path: refresh of the watched scripts, match outputs,
NewIncomingTx notifications, NewBlock, confirmations, cursor).  Each run uses a
fresh monitor whose watched scripts are loaded first, untimed, as
``BtcMonitor.start`` does once per process (``load_s`` in the output).  Prints
one JSON line: wall seconds, process CPU seconds, txs, notifications.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time


def p2pkh(h160: bytes) -> bytes:
    return b"\x76\xa9\x14" + h160 + b"\x88\xac"


def h160(i: int, salt: str) -> bytes:
    return hashlib.sha256(f"{salt}{i}".encode()).digest()[:20]


def build_block(prev_hash: bytes, n_txs: int, watched: list[bytes], hits: int):
    from bitcoin.core import COutPoint, CBlock, CMutableTransaction, CMutableTxIn, CMutableTxOut, CTransaction, CTxIn

    txs = []
    coinbase = CMutableTransaction([CMutableTxIn(COutPoint(), b"\x03\x01\x02\x03")], [CMutableTxOut(625_000_000, p2pkh(h160(0, "cb")))])
    txs.append(CTransaction.from_tx(coinbase))
    step = max(1, (n_txs - 1) // max(1, hits)) if hits else 0
    for i in range(1, n_txs):
        prev = COutPoint(hashlib.sha256(f"prev{i}".encode()).digest(), 0)
        to = watched[(i * 7919) % len(watched)] if hits and i % step == 0 and i // step <= hits else p2pkh(h160(i, "x"))
        outs = [CMutableTxOut(50_000 + i, to), CMutableTxOut(1_000_000, p2pkh(h160(i, "chg")))]
        txs.append(CTransaction.from_tx(CMutableTransaction([CMutableTxIn(prev, b"\x00" * 107)], outs)))
    block = CBlock(nVersion=0x20000000, hashPrevBlock=prev_hash, nTime=int(time.time()), nBits=0x207FFFFF, nNonce=0, vtx=txs)
    return CBlock(nVersion=block.nVersion, hashPrevBlock=prev_hash, hashMerkleRoot=block.calc_merkle_root(),
                  nTime=block.nTime, nBits=block.nBits, nNonce=0, vtx=txs)


async def run(args) -> dict:
    from pymongo import MongoClient

    from bcmonitor.btc import BlockView, BtcMonitor
    from bcmonitor.notify import MonitorNotices
    from bws.adapters.broker.local import LocalBroker
    from bws.adapters.lock.local import LocalLock
    from bws.model import NotificationIds
    from bws.services.broadcasts import BroadcastMarks
    from bws.services.notifier import Notifier
    from bws.storage import Storage
    from twisted.internet import reactor

    storage = await Storage(args.mongo_uri).connect()
    t0 = time.monotonic()
    sync = MongoClient(args.mongo_uri)
    coll = sync.get_default_database()["addresses"]
    watched: list[bytes] = []
    if coll.estimated_document_count() < args.addresses:
        coll.delete_many({})
        batch = []
        now = int(time.time())
        for i in range(args.addresses):
            spk = p2pkh(h160(i, "w"))
            watched.append(spk)
            created = now - (args.addresses - 1 - i) * args.created_within // args.addresses
            batch.append({"version": "1.0.0", "createdOn": created, "address": f"bench{i}", "walletId": f"w{i % 100}",
                          "isChange": False, "path": f"m/0/{i // 100}", "publicKeys": [], "coin": "btc",
                          "network": "testnet", "type": "P2PKH", "hasActivity": None, "scriptPubKey": spk.hex()})
            if len(batch) == 5000:
                coll.insert_many(batch, ordered=False)
                batch = []
        if batch:
            coll.insert_many(batch, ordered=False)
    else:
        watched = [p2pkh(h160(i, "w")) for i in range(args.addresses)]
    setup_s = time.monotonic() - t0

    from bitcoin.core import b2lx

    prev = hashlib.sha256(b"bench-prev").digest()
    block = build_block(prev, args.txs, watched, args.hits)
    the_notifier = Notifier(storage, LocalBroker(), NotificationIds())
    notifier = MonitorNotices(the_notifier)
    broadcasts = BroadcastMarks(storage, the_notifier, LocalLock(reactor), reactor)
    results = []
    for rep in range(args.repeat):
        mon = BtcMonitor(storage, notifier, rpc=None, clock=reactor, coin="btc", network="testnet", third_party_delay=20,
                         broadcasts=broadcasts)
        l0 = time.perf_counter()
        if hasattr(mon, "refresh_watched"):  # (absent before issue 11: nothing to load)
            await mon.refresh_watched()  # what start() does once per process
        load_s = time.perf_counter() - l0
        await storage.chain_index.set_cursor("btc", "testnet", 1000, b2lx(prev), now=int(reactor.seconds()))
        mon.cursor = await storage.chain_index.get_cursor("btc", "testnet")
        sync.get_default_database()["notifications"].delete_many({})
        if args.profile and rep == args.repeat - 1:
            import pyinstrument

            prof = pyinstrument.Profiler(async_mode="enabled")
            prof.start()
        c0, w0 = time.process_time(), time.perf_counter()
        await mon.on_block(block)  # from the P2P message: CBlock -> BlockView inside
        wall, cpu = time.perf_counter() - w0, time.process_time() - c0
        if args.profile and rep == args.repeat - 1:
            prof.stop()
            with open(args.profile, "w") as f:
                f.write(prof.output_text(unicode=True, color=False, show_all=False))
        assert mon.cursor["hash"] == b2lx(block.GetHash()), "block not applied"
        notes = sync.get_default_database()["notifications"].count_documents({"type": "NewIncomingTx"})
        results.append({"wall_s": wall, "cpu_s": cpu, "notifications": notes, "load_s": load_s,
                        "watched": len(getattr(mon, "watched", None) or ())})
    await storage.close()
    sync.close()
    best = min(results, key=lambda r: r["wall_s"])
    return {"op": "monitor_block", "txs": args.txs, "addresses": args.addresses, "hits": args.hits,
            "setup_s": setup_s, "runs": results, "wall_s": best["wall_s"], "cpu_s": best["cpu_s"],
            "notifications": best["notifications"]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--mongo-uri", required=True)
    p.add_argument("--addresses", type=int, default=100_000)
    p.add_argument("--txs", type=int, default=4000)
    p.add_argument("--hits", type=int, default=100, help="txs paying a watched address")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--created-within", type=int, default=365 * 86400,
                   help="seconds over which the addresses' createdOn is spread (newest = now)")
    p.add_argument("--profile", help="write a pyinstrument text profile of the last run here")
    args = p.parse_args(argv)

    from bws.reactor import install

    install()
    from twisted.internet import defer, task

    out = {}

    async def go(_reactor):
        out.update(await run(args))

    try:
        task.react(lambda r: defer.ensureDeferred(go(r)))
    except SystemExit as e:
        if e.code:
            raise
    print(json.dumps(out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
