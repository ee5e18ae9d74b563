"""In-memory :class:`bws.storage.Storage` for the service unit tests.

One fake repository per storage aggregate the services under test use, with
the methods they call, the same signatures and the same return shapes as
bws/storage/*.py (wire-named dicts; ``None`` for "not found"; ``async``).
Documents are deep-copied in and out, as a database round trip does, so a
service that changes a dict it read changes nothing until it stores it.
Writes the real storage makes atomic (a change plus its notifications) are
all-or-nothing here too; notification ids are unique (a clash takes a fresh
id from ``renew_id``, as bws/storage/notifications.py does).
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Iterable, Mapping, Optional

from bws.model.notification import format_notification_id

Doc = dict[str, Any]


def _copy(doc: Any) -> Any:
    return copy.deepcopy(doc)


def _in_range(value: Any, min_ts: Optional[float], max_ts: Optional[float]) -> bool:
    """bws/storage/mongo.py ts_range: ``min_ts <= value <= max_ts``, absent bounds ignored."""
    if min_ts is None and max_ts is None:
        return True
    if not isinstance(value, (int, float)):
        return False
    return (min_ts is None or value >= min_ts) and (max_ts is None or value <= max_ts)


def _newest_first(docs: Iterable[Doc]) -> list[Doc]:
    return sorted(docs, key=lambda d: d.get("createdOn") or 0, reverse=True)


class DuplicateKey(Exception):
    """A unique key clash that is not a notification id (pymongo's DuplicateKeyError)."""


class FakeNotifications:
    """bws/storage/notifications.py NotificationsRepo (``docs``: id -> document)."""

    def __init__(self) -> None:
        self.docs: dict[str, Doc] = {}

    def _with_ids(self, notifications: Iterable[Doc], renew_id: Optional[Callable[[], str]]) -> list[Doc]:
        docs = [_copy(n) for n in notifications]
        taken = set(self.docs)
        for d in docs:
            while d["id"] in taken:
                if renew_id is None:
                    raise DuplicateKey(d["id"])
                d["id"] = renew_id()
            taken.add(d["id"])
        return docs

    def _store_after(
        self, write: Optional[Callable[[], Optional[bool]]], notifications: Iterable[Doc],
        renew_id: Optional[Callable[[], str]],
    ) -> Optional[list[Doc]]:
        """``write()`` (False: its condition failed, nothing stored, None) then the
        notifications, all or nothing; returns the stored notifications."""
        docs = self._with_ids(notifications, renew_id)
        if write is not None and write() is False:
            return None
        for d in docs:
            self.docs[d["id"]] = _copy(d)
        return docs

    async def store(self, notification: Doc, renew_id: Optional[Callable[[], str]] = None) -> Doc:
        return self._store_after(None, [notification], renew_id)[0]

    async def fetch(
        self, wallet_ids: Iterable[str], notification_id: Optional[str] = None, min_ts_ms: Optional[int] = None,
        *, scoped: Optional[Mapping[str, Iterable[str]]] = None,
    ) -> list[Doc]:
        floor = "" if min_ts_ms is None else format_notification_id(int(min_ts_ms), 0)
        if notification_id and notification_id > floor:
            floor = notification_id
        own = set(wallet_ids)
        allowed = {w: set(types) for w, types in (scoped or {}).items()}
        out = [
            d for i, d in sorted(self.docs.items())
            if i > floor and (d.get("walletId") in own or d.get("type") in allowed.get(d.get("walletId"), ()))
        ]
        return _copy(out)

    def of_wallet(self, wallet_id: str) -> list[Doc]:
        """Test helper: the wallet's stored notifications, by id."""
        return [_copy(d) for _, d in sorted(self.docs.items()) if d.get("walletId") == wallet_id]


class FakeWallets:
    """bws/storage/wallets.py WalletsRepo (``wallets``: id -> doc; ``lookups``: copayerId -> lookup)."""

    def __init__(self, notifications: FakeNotifications) -> None:
        self._notifications = notifications
        self.wallets: dict[str, Doc] = {}
        self.lookups: dict[str, Doc] = {}

    async def fetch(self, wallet_id: str) -> Optional[Doc]:
        return _copy(self.wallets.get(wallet_id))

    async def store(self, wallet: Doc) -> None:
        self.wallets[wallet["id"]] = _copy(wallet)

    async def store_with_lookups(
        self, wallet: Doc, notifications: Iterable[Doc] = (), renew_id: Optional[Callable[[], str]] = None
    ) -> list[Doc]:
        wallet_id = wallet["id"]
        lookups = {}
        for c in wallet.get("copayers", []):
            other = self.lookups.get(c["id"])
            if other is not None and other["walletId"] != wallet_id:
                raise DuplicateKey(c["id"])
            lookups[c["id"]] = {"copayerId": c["id"], "walletId": wallet_id,
                                "requestPubKeys": _copy(c.get("requestPubKeys", []))}
            if other is not None and other.get("isSupportStaff"):
                lookups[c["id"]]["isSupportStaff"] = True

        def write() -> None:
            for cid in [k for k, v in self.lookups.items() if v["walletId"] == wallet_id]:
                del self.lookups[cid]
            self.lookups.update(lookups)
            self.wallets[wallet_id] = _copy(wallet)

        return self._notifications._store_after(write, notifications, renew_id) or []

    async def fetch_copayer_lookup(self, copayer_id: str) -> Optional[Doc]:
        return _copy(self.lookups.get(copayer_id))


class FakeAddresses:
    """bws/storage/addresses.py AddressesRepo (``docs``: every address, in creation order)."""

    def __init__(self, notifications: FakeNotifications, wallets: FakeWallets) -> None:
        self._notifications = notifications
        self._wallets = wallets
        self.docs: list[Doc] = []

    def _insert_new(self, addresses: Iterable[Doc]) -> None:
        for a in addresses:
            if not any(d["walletId"] == a["walletId"] and d["address"] == a["address"] for d in self.docs):
                self.docs.append(_copy(a))

    async def fetch(self, wallet_id: str) -> list[Doc]:
        return [_copy(d) for d in self.docs if d["walletId"] == wallet_id]

    async def fetch_one(self, wallet_id: str, address: str) -> Optional[Doc]:
        return next((_copy(d) for d in self.docs if d["walletId"] == wallet_id and d["address"] == address), None)

    async def count(self, wallet_id: str) -> int:
        return sum(1 for d in self.docs if d["walletId"] == wallet_id)

    async def store(self, address: Doc) -> None:
        """Replace an existing address; no insert."""
        for i, d in enumerate(self.docs):
            if d["walletId"] == address["walletId"] and d["address"] == address["address"]:
                self.docs[i] = _copy(address)

    async def store_with_wallet(
        self, wallet: Doc, addresses: list[Doc], notifications: Iterable[Doc] = (),
        renew_id: Optional[Callable[[], str]] = None,
    ) -> list[Doc]:
        def write() -> None:
            self._insert_new(addresses)
            self._wallets.wallets[wallet["id"]] = _copy(wallet)

        return self._notifications._store_after(write, notifications, renew_id) or []

    async def fetch_by_coin(self, coin: str, address: str) -> Optional[Doc]:
        docs = [d for d in self.docs if d["address"] == address]
        if len(docs) == 1:
            return _copy(docs[0])
        return next((_copy(d) for d in docs if d.get("coin", "btc") == coin), None)


class FakeProposals:
    """bws/storage/proposals.py ProposalsRepo (``txs``: (walletId, id) -> doc, insertion order)."""

    def __init__(self, notifications: FakeNotifications, addresses: FakeAddresses, wallets: FakeWallets) -> None:
        self._notifications = notifications
        self._addresses = addresses
        self._wallets = wallets
        self.txs: dict[tuple[str, str], Doc] = {}

    def _where(self, **match: Any) -> list[Doc]:
        return [d for d in self.txs.values() if all(d.get(k) == v for k, v in match.items())]

    async def fetch(self, wallet_id: str, txp_id: str) -> Optional[Doc]:
        return _copy(self.txs.get((wallet_id, txp_id)))

    async def fetch_by_txid(self, txid: str) -> Optional[Doc]:
        return _copy(next(iter(self._where(txid=txid)), None))

    async def fetch_last(self, wallet_id: str, creator_id: str, limit: int = 5) -> list[Doc]:
        return _copy(_newest_first(self._where(walletId=wallet_id, creatorId=creator_id))[:limit])

    async def fetch_pending(self, wallet_id: str) -> list[Doc]:
        return _copy(_newest_first(self._where(walletId=wallet_id, isPending=True)))

    async def fetch_broadcasted(
        self, wallet_id: str, min_ts: Optional[int] = None, max_ts: Optional[int] = None, limit: int = 0
    ) -> list[Doc]:
        docs = [d for d in self._where(walletId=wallet_id, status="broadcasted")
                if _in_range(d.get("broadcastedOn"), min_ts, max_ts)]
        docs = _newest_first(docs)
        return _copy(docs[:limit] if limit else docs)

    async def store_with_notifications(
        self, txp: Doc, notifications: Iterable[Doc], renew_id: Optional[Callable[[], str]] = None,
        *, expect: Optional[Doc] = None,
    ) -> Optional[list[Doc]]:
        key = (txp["walletId"], txp["id"])

        def write() -> bool:
            current = self.txs.get(key)
            if expect is not None and (current is None or any(current.get(k) != v for k, v in expect.items())):
                return False
            self.txs[key] = _copy(txp)
            return True

        return self._notifications._store_after(write, notifications, renew_id)

    async def remove_with_notifications(
        self, wallet_id: str, txp_id: str, notifications: Iterable[Doc], renew_id: Optional[Callable[[], str]] = None
    ) -> Optional[list[Doc]]:
        return self._notifications._store_after(
            lambda: self.txs.pop((wallet_id, txp_id), None) is not None, notifications, renew_id
        )

    async def store_with_addresses_and_wallet(self, txp: Doc, wallet: Optional[Doc], addresses: list[Doc]) -> None:
        self._addresses._insert_new(addresses)
        if wallet is not None:
            self._wallets.wallets[wallet["id"]] = _copy(wallet)
        self.txs[(txp["walletId"], txp["id"])] = _copy(txp)


class FakeCache:
    """bws/storage/cache.py CacheRepo, generic entries and the history soft reset
    (``entries``: (walletId, type, key) -> doc)."""

    def __init__(self) -> None:
        self.entries: dict[tuple, Doc] = {}
        self.soft_resets: list[str] = []

    async def get(self, wallet_id: Optional[str], type_: str, key: Any = None) -> Optional[Doc]:
        return _copy(self.entries.get((wallet_id, type_, key)))

    async def set(self, wallet_id: Optional[str], type_: str, key: Any, fields: Doc) -> None:
        doc = self.entries.setdefault((wallet_id, type_, key), {"walletId": wallet_id, "type": type_, "key": key})
        doc.update(_copy(fields))

    async def delete(self, wallet_id: Optional[str], type_: str, key: Any = ...) -> None:
        for k in [k for k in self.entries if k[:2] == (wallet_id, type_) and (key is ... or k[2] == key)]:
            del self.entries[k]

    async def soft_reset(self, *wallet_ids: str, all_wallets: bool = False) -> None:
        self.soft_resets.extend(wallet_ids or (["*"] if all_wallets else []))


class _ByKey:
    """A repository of one document per key (the fields named by ``key``)."""

    def __init__(self, *key: str) -> None:
        self.key = key
        self.docs: dict[tuple, Doc] = {}

    def _get(self, *values: Any) -> Optional[Doc]:
        return _copy(self.docs.get(values))

    def _put(self, doc: Doc) -> None:
        self.docs[tuple(doc[k] for k in self.key)] = _copy(doc)


class FakeSessions(_ByKey):
    """bws/storage/sessions.py SessionsRepo: one session per copayer."""

    def __init__(self) -> None:
        super().__init__("copayerId")

    async def fetch(self, copayer_id: str) -> Optional[Doc]:
        return self._get(copayer_id)

    async def store(self, session: Doc) -> None:
        self._put(session)


class FakeNotes(_ByKey):
    """bws/storage/notes.py NotesRepo: one note per (walletId, txid)."""

    def __init__(self) -> None:
        super().__init__("walletId", "txid")

    async def fetch(self, wallet_id: str, txid: str) -> Optional[Doc]:
        return self._get(wallet_id, txid)

    async def fetch_since(self, wallet_id: str, min_ts: Optional[float] = None) -> list[Doc]:
        return [_copy(d) for (w, _), d in self.docs.items() if w == wallet_id and _in_range(d.get("editedOn"), min_ts, None)]

    async def store(self, note: Doc) -> None:
        self._put(note)


class FakePreferences(_ByKey):
    """bws/storage/preferences.py PreferencesRepo: one document per (walletId, copayerId)."""

    def __init__(self) -> None:
        super().__init__("walletId", "copayerId")

    async def fetch(self, wallet_id: str, copayer_id: Optional[str] = None) -> Any:
        if copayer_id is not None:
            return self._get(wallet_id, copayer_id)
        return [_copy(d) for (w, _), d in self.docs.items() if w == wallet_id]

    async def store(self, prefs: Doc) -> None:
        self._put(prefs)


class FakeStorage:
    """The repositories of :class:`bws.storage.Storage` the wallet services use, in memory."""

    def __init__(self) -> None:
        self.notifications = FakeNotifications()
        self.wallets = FakeWallets(self.notifications)
        self.addresses = FakeAddresses(self.notifications, self.wallets)
        self.proposals = FakeProposals(self.notifications, self.addresses, self.wallets)
        self.cache = FakeCache()
        self.sessions = FakeSessions()
        self.notes = FakeNotes()
        self.preferences = FakePreferences()
