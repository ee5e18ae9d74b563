"""Helpers shared by the e-mail/push/webhook tests: wallets, preferences, notifications."""

from bws.model import Notification, UNDEFINED


async def make_wallet(storage, wid="w1", m=2, n=3, coin="btc", network="livenet", names=("copayer 1", "copayer 2", "copayer 3")):
    wallet = {
        "id": wid, "name": "my wallet", "m": m, "n": n, "coin": coin, "network": network, "status": "complete",
        "copayers": [{"id": f"{wid}-c{i + 1}", "name": name} for i, name in enumerate(names[:n])],
    }
    await storage.store_wallet(wallet)
    return wallet


async def set_prefs(storage, wallet, specs):
    """specs: list of (copayer index, email, language, unit)."""
    for idx, email, lang, unit in specs:
        doc = {"version": "1.0.0", "createdOn": 1, "walletId": wallet["id"], "copayerId": wallet["copayers"][idx]["id"]}
        for k, v in (("email", email), ("language", lang), ("unit", unit)):
            if v is not None:
                doc[k] = v
        await storage.store_preferences(doc)


async def notify(storage, type_, wallet, data, creator=UNDEFINED):
    """Store a notification (as producers do) and return its dict."""
    n = Notification.create(type_, data, wallet["id"], creatorId=creator).to_dict()
    await storage.store_notification(dict(n))
    n.pop("_id", None)
    return n
