"""Helpers shared by the e-mail/push/webhook tests: wallets, preferences, push subscriptions,
notifications, and the service processes of the kill-and-restart tests."""

import os
import subprocess
import sys
import time
from pathlib import Path

from bws.model import UNDEFINED, Notification, NotificationIds
from bws.service.notifier import Notifier

ROOT = Path(__file__).resolve().parents[1]


async def make_wallet(storage, wid="w1", m=2, n=3, coin="btc", network="livenet", names=("copayer 1", "copayer 2", "copayer 3")):
    wallet = {
        "id": wid, "name": "my wallet", "m": m, "n": n, "coin": coin, "network": network, "status": "complete",
        "copayers": [{"id": f"{wid}-c{i + 1}", "name": name} for i, name in enumerate(names[:n])],
    }
    await storage.wallets.store(wallet)
    return wallet


async def set_prefs(storage, wallet, specs):
    """specs: list of (copayer index, email, language, unit)."""
    for idx, email, lang, unit in specs:
        doc = {"version": "1.0.0", "createdOn": 1, "walletId": wallet["id"], "copayerId": wallet["copayers"][idx]["id"]}
        for k, v in (("email", email), ("language", lang), ("unit", unit)):
            if v is not None:
                doc[k] = v
        await storage.preferences.store(doc)


async def notify(storage, type_, wallet, data, creator=UNDEFINED):
    """Store a notification (as producers do) and return its dict."""
    return await Notifier(storage, None, NotificationIds()).notify(
        Notification.create(type_, data, wallet["id"], creatorId=creator)
    )


async def subscribe(storage, wallet, platform="android", per_copayer=1):
    """Push subscriptions for every copayer: tokens ``tok-<copayerId>`` then ``tok-<copayerId>-2`` …"""
    tokens = []
    for c in wallet["copayers"]:
        for k in range(per_copayer):
            token = "tok-" + c["id"] + (f"-{k + 1}" if k else "")
            await storage.subscriptions.store_push_sub(
                {"version": "1.0.0", "createdOn": 1, "copayerId": c["id"], "token": token,
                 "packageName": "com.example.wallet", "platform": platform})
            tokens.append(token)
    return tokens


def start_service(module, cfg_path, log_path):
    """``python -m <module> --config <cfg_path> --start-from beginning``, output appended to ``log_path``."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", module, "--config", str(cfg_path), "--start-from", "beginning"],
        cwd=str(ROOT), env=env, stdout=open(log_path, "ab"), stderr=subprocess.STDOUT,
    )


async def until(pred, timeout=20.0, what=""):
    """Poll ``pred()`` (sync, or returning an awaitable) every 50 ms in the test reactor."""
    import inspect

    from twisted.internet import reactor, task

    deadline = time.monotonic() + timeout
    while True:
        ok = pred()
        if inspect.isawaitable(ok):
            ok = await ok
        if ok:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await task.deferLater(reactor, 0.05, lambda: None)
