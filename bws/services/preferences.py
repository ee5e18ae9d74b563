"""Copayer preferences (docs/spec/api.md §4.7, §5.6)."""

from __future__ import annotations

import re
from typing import Any, Optional

from bws.chains.rules import rules_for
from bws.errors import bad_request
from bws.model import Preferences as PreferencesDoc

from .base import Aggregate, truthy
from .context import Caller

# npm email-validator 2.x rules (what the reference uses)
_EMAIL_RE = re.compile(
    r"^[-!#$%&'*+/0-9=?A-Z^_a-z`{|}~](\.?[-!#$%&'*+/0-9=?A-Z^_a-z`{|}~])*"
    r"@[a-zA-Z0-9](-*\.?[a-zA-Z0-9])*\.[a-zA-Z](-?[a-zA-Z0-9])+$"
)


def valid_email(email: Any) -> bool:
    """email-validator: the regex above, <= 254 chars, local part <= 64,
    every domain label <= 63."""
    if not isinstance(email, str) or len(email) > 254 or not _EMAIL_RE.match(email):
        return False
    local, _, domain = email.partition("@")
    return len(local) <= 64 and all(len(p) <= 63 for p in domain.split("."))


#: the EVM token-list preferences upstream 11.10.5 validates (``server.ts savePreferences``)
EVM_PREFERENCE_KEYS = (
    "tokenAddresses",
    "multisigEthInfo",
    "maticTokenAddresses",
    "multisigMaticInfo",
    "opTokenAddresses",
    "baseTokenAddresses",
    "arbTokenAddresses",
    "solTokenAddresses",
)


class Preferences(Aggregate):
    """getPreferences, savePreferences."""

    async def get_preferences(self, caller: Caller, opts: Optional[dict] = None) -> dict:
        """The caller's Preferences ``{version, createdOn, walletId, copayerId,
        email, language, unit}`` or ``{}``."""
        doc = await self.storage.preferences.fetch(caller.wallet_id, caller.copayer_id)
        return PreferencesDoc.from_dict(doc).to_dict() if doc else {}

    async def save_preferences(self, caller: Caller, opts: dict) -> None:
        """Merge ``email``/``language``/``unit`` into the caller's preferences
        (keys present overwrite, null clears, other keys ignored), under the
        wallet lock.  Errors: "Invalid email", "Invalid language",
        "Invalid unit"; NOT_AUTHORIZED "Request already applied" for a signed
        request that changed them before a newer change (a replay,
        :meth:`_already_applied`; a plain re-send changes nothing).  Returns
        None (empty body).

        The EVM token lists of :data:`EVM_PREFERENCE_KEYS` (non-empty) are
        refused, never dropped: on a UTXO wallet "<key> is only valid for EVM
        wallets" (upstream nulls them silently), on an EVM wallet "<key> is not
        supported yet" (token balances are not served here)."""
        opts = opts if isinstance(opts, dict) else {}
        evm_keys = [k for k in EVM_PREFERENCE_KEYS if opts.get(k) not in (None, False, 0, "", [], {})]
        if evm_keys:
            wallet = await self._fetch_wallet(caller.wallet_id)
            rules_for(wallet.coin).check_token_preferences(evm_keys)
        prefs = {k: opts[k] for k in PreferencesDoc.KEYS if k in opts}
        if truthy(prefs.get("email")) and not valid_email(prefs["email"]):
            raise bad_request("Invalid email")
        lang = prefs.get("language")
        if truthy(lang) and not (isinstance(lang, str) and len(lang) == 2):
            raise bad_request("Invalid language")
        unit = prefs.get("unit")
        if truthy(unit) and not (isinstance(unit, str) and unit.lower() in ("btc", "bit")):
            raise bad_request("Invalid unit")

        async def save() -> None:
            doc = await self.storage.preferences.fetch(caller.wallet_id, caller.copayer_id)
            current = (
                PreferencesDoc.from_dict(doc)
                if doc
                else PreferencesDoc.create(caller.wallet_id, caller.copayer_id, now=self.now_s())
            )
            if self._already_applied(caller, current):
                return
            for k, v in prefs.items():
                setattr(current, k, v)
            current.record_request(caller.request_digest)
            await self.storage.preferences.store(current.to_dict(for_storage=True))

        await self._run_locked(caller.wallet_id, save)
        return None
