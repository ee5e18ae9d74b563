"""Push-notification and tx-confirmation subscriptions (docs/spec/api.md §4.27)."""

from __future__ import annotations

from bws.errors import bad_request
from bws.model import PushNotificationSub, TxConfirmationSub
from bws.model import constants as C
from bws.model.base import UNDEFINED

from .base import Aggregate, check_length, check_required
from .context import Caller


def _str_arg(opts: dict, name: str, limit: int) -> str:
    check_required(opts, [name])
    value = opts[name]
    if not isinstance(value, str) or not value:
        raise bad_request(f"Invalid {name}")
    check_length(value, limit, name)
    return value


class Subscriptions(Aggregate):
    """pushNotificationsSubscribe/Unsubscribe, txConfirmationSubscribe/Unsubscribe.
    Results mimic the reference's storage write results (the client ignores them)."""

    async def push_notifications_subscribe(self, caller: Caller, opts: dict) -> dict:
        """Upsert ``{token, packageName?, platform?}`` for the caller by
        (copayerId, token) -> ``{"ok": 1, "n": 1}``.  Error: "Required
        argument token missing."."""
        token = _str_arg(opts, "token", C.MAX_TOKEN_LENGTH)
        check_length(opts.get("packageName"), C.MAX_TOKEN_LENGTH, "packageName")
        check_length(opts.get("platform"), C.MAX_TOKEN_LENGTH, "platform")
        sub = PushNotificationSub.create(
            caller.copayer_id,
            token,
            packageName=opts.get("packageName", UNDEFINED),
            platform=opts.get("platform", UNDEFINED),
            now=self.now_s(),
        )
        await self.storage.subscriptions.store_push_sub(sub.to_dict(for_storage=True))
        return {"ok": 1, "n": 1}

    async def push_notifications_unsubscribe(self, caller: Caller, opts: dict) -> dict:
        """Delete the caller's subscription of ``token`` -> ``{"ok": 1, "n": deleted}``."""
        token = _str_arg(opts, "token", C.MAX_TOKEN_LENGTH)
        n = await self.storage.subscriptions.remove_push_sub(caller.copayer_id, token)
        return {"ok": 1, "n": n}

    async def tx_confirmation_subscribe(self, caller: Caller, opts: dict) -> dict:
        """Upsert an active subscription to ``txid`` for the caller ->
        ``{"ok": 1, "n": 1}``.  Error: "Required argument txid missing."."""
        txid = _str_arg(opts, "txid", C.MAX_TXID_LENGTH)
        sub = TxConfirmationSub.create(caller.wallet_id, caller.copayer_id, txid, now=self.now_s())
        await self.storage.subscriptions.store_confirmation_sub(sub.to_dict(for_storage=True))
        return {"ok": 1, "n": 1}

    async def tx_confirmation_unsubscribe(self, caller: Caller, opts: dict) -> dict:
        """Delete the caller's subscription to ``txid`` -> ``{"ok": 1, "n": deleted}``."""
        txid = _str_arg(opts, "txid", C.MAX_TXID_LENGTH)
        n = await self.storage.subscriptions.remove_confirmation_sub(caller.copayer_id, txid)
        return {"ok": 1, "n": n}
