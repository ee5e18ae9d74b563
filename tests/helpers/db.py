"""Direct reads and writes on a test's database, for what the storage API
does not offer (and should not: the production code never needs it), e.g.
"every email row", "flag this copayer as support staff".

A synchronous pymongo client on the same URI as the test's
:class:`bws.storage.Storage` (the server runs in its own process, so a
blocking call is fine in a test), with the storage's codecs (Decimal128 reads
back as int). Documents come back without ``_id``.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Optional

from pymongo import MongoClient
from pymongo.database import Database

from bws.storage.mongo import CODEC_OPTIONS


@contextmanager
def open_db(storage: Any) -> Iterator[Database]:
    """The storage's database through a short-lived synchronous client."""
    with MongoClient(storage.uri, serverSelectionTimeoutMS=5000) as client:
        yield client.get_default_database("bws", codec_options=CODEC_OPTIONS)


def find(storage: Any, collection: str, query: Optional[dict] = None, sort: Optional[list] = None) -> list[dict]:
    """Every document of ``collection`` matching ``query`` (all by default), in ``sort`` order."""
    with open_db(storage) as db:
        cursor = db[collection].find(query or {}, {"_id": False})
        if sort:
            cursor = cursor.sort(sort)
        return list(cursor)


def find_one(storage: Any, collection: str, query: dict) -> Optional[dict]:
    with open_db(storage) as db:
        return db[collection].find_one(query, {"_id": False})


def count(storage: Any, collection: str, query: Optional[dict] = None) -> int:
    with open_db(storage) as db:
        return db[collection].count_documents(query or {})


def insert_one(storage: Any, collection: str, doc: dict) -> None:
    with open_db(storage) as db:
        db[collection].insert_one(dict(doc))


def update_one(storage: Any, collection: str, query: dict, update: dict, upsert: bool = False) -> int:
    """``update_one``; returns how many matched."""
    with open_db(storage) as db:
        return db[collection].update_one(query, update, upsert=upsert).matched_count


def delete_many(storage: Any, collection: str, query: dict) -> int:
    with open_db(storage) as db:
        return db[collection].delete_many(query).deleted_count
