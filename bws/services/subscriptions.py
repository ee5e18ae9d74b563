"""Push-notification and tx-confirmation subscriptions (docs/spec/api.md §4.27;
the v2/v3 push routes of bitcore-wallet-client 10.x/11.x: docs/spec/protocol-bwc11.md §3.4)."""

from __future__ import annotations

from bws.errors import bad_request
from bws.model import PushNotificationSub, TxConfirmationSub
from bws.model import constants as C
from bws.model.base import UNDEFINED

from .base import Aggregate, check_length, check_required
from .context import Caller

PUSH_TYPES = ("ios", "android")  # the client's `type` (bwc 11.x api.ts pushNotificationsSubscribe)


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

    async def push_subscribe_v2(self, caller: Caller, opts: dict) -> dict:
        """``POST /v2/pushnotifications/subscriptions/`` (upstream
        ``pushNotificationsBrazeSubscribe``, docs/spec/protocol-bwc11.md §3.4).

        Body: ``externalUserId`` (required, non-empty string), ``type``
        ("ios" | "android"), ``packageName``, ``platform``, ``walletId``
        (strings, as the app sends them) and, added here, a device ``token``.
        Upserts the v2 subscription on (copayerId, externalUserId).  With a
        ``token`` (which needs ``type``) the token is also registered as a
        device subscription exactly like ``POST /v1/pushnotifications/
        subscriptions/`` (platform = ``type``), so the push service delivers
        through FCM / APNs; a token registered earlier under this
        externalUserId is replaced.  Braze is not supported: without a token
        nothing is delivered.

        Returns the stored subscription ``{version: "2.0.0", createdOn: int s,
        copayerId, externalUserId, type?, packageName?, platform?, walletId?,
        token?, delivered: bool}`` (``delivered``: a device token is registered).
        Errors: BADREQUEST "Required argument externalUserId missing.",
        "Invalid externalUserId", "Invalid type: must be ios or android",
        "Required argument type missing (a device token needs it)",
        "Invalid <field>" for a non-string optional field or one longer than
        1024 characters."""
        external_id = _str_arg(opts, "externalUserId", C.MAX_TOKEN_LENGTH)
        doc: dict = {
            "version": "2.0.0",
            "createdOn": int(self.now_s()),
            "copayerId": caller.copayer_id,
            "externalUserId": external_id,
        }
        for name in ("type", "packageName", "platform", "walletId", "token"):
            value = opts.get(name)
            if value is None:
                continue
            if not isinstance(value, str) or not value:
                raise bad_request(f"Invalid {name}")
            check_length(value, C.MAX_TOKEN_LENGTH, name)
            doc[name] = value
        if "type" in doc and doc["type"] not in PUSH_TYPES:
            raise bad_request("Invalid type: must be ios or android")
        device = None
        if "token" in doc:
            if "type" not in doc:
                raise bad_request("Required argument type missing (a device token needs it)")
            device = PushNotificationSub.create(
                caller.copayer_id,
                doc["token"],
                packageName=doc.get("packageName", UNDEFINED),
                platform=doc["type"],
                now=self.now_s(),
            ).to_dict(for_storage=True)
            device["externalUserId"] = external_id
        await self.storage.subscriptions.store_push_sub_v2(doc, device)
        return dict(doc, delivered=device is not None)

    async def push_unsubscribe_v3(self, caller: Caller, opts: dict) -> dict:
        """``DELETE /v3/pushnotifications/subscriptions/:externalUserId`` (upstream
        ``pushNotificationsBrazeUnsubscribe``): delete the caller's v2
        subscription of ``externalUserId`` and the device token registered with
        it -> ``{"ok": 1, "n": v2 subscriptions deleted (0 or 1)}``.  Error:
        BADREQUEST "Invalid externalUserId"."""
        external_id = _str_arg(opts, "externalUserId", C.MAX_TOKEN_LENGTH)
        n = await self.storage.subscriptions.remove_push_sub_v2(caller.copayer_id, external_id)
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
