"""The fakes of tests/fakes/ keep the contracts they stand in for: every method
of each adapter Protocol (bws/interfaces.py) and every public method of the
fake repositories has the real one's parameters, and is ``async`` exactly
when the real one is.  A changed Protocol or repository fails here, not as a
confusing unit-test failure."""

from __future__ import annotations

import inspect

import pytest

from bws import interfaces
from bws.storage import addresses, cache, notes, notifications, preferences, proposals, sessions, wallets
from tests.fakes import FakeBroker, FakeEvmExplorer, FakeExplorer, FakeLock, FakeStorage
from tests.fakes import storage as fake_storage

PROTOCOLS = [
    (interfaces.Lock, FakeLock),
    (interfaces.Broker, FakeBroker),
    (interfaces.Explorer, FakeExplorer),
    (interfaces.EvmExplorer, FakeEvmExplorer),
]

REPOSITORIES = [
    (wallets.WalletsRepo, fake_storage.FakeWallets),
    (addresses.AddressesRepo, fake_storage.FakeAddresses),
    (proposals.ProposalsRepo, fake_storage.FakeProposals),
    (notifications.NotificationsRepo, fake_storage.FakeNotifications),
    (cache.CacheRepo, fake_storage.FakeCache),
    (sessions.SessionsRepo, fake_storage.FakeSessions),
    (notes.NotesRepo, fake_storage.FakeNotes),
    (preferences.PreferencesRepo, fake_storage.FakePreferences),
]


def _params(fn) -> list[tuple]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(fn).parameters.values()]


def _same_method(real_cls, fake_cls, name: str) -> None:
    real, fake = getattr(real_cls, name), getattr(fake_cls, name, None)
    assert fake is not None, f"{fake_cls.__name__} lacks {name}"
    assert _params(fake) == _params(real), f"{fake_cls.__name__}.{name} parameters differ"
    assert inspect.iscoroutinefunction(fake) == inspect.iscoroutinefunction(real), f"{name}: async differs"


@pytest.mark.parametrize("protocol, fake", PROTOCOLS, ids=lambda x: x.__name__)
def test_each_fake_adapter_implements_its_protocol(protocol, fake):
    members = [n for n, v in vars(protocol).items() if inspect.isfunction(v) and not n.startswith("_")]
    for base in protocol.__mro__[1:]:
        if base in dict(PROTOCOLS):
            members += [n for n, v in vars(base).items() if inspect.isfunction(v) and not n.startswith("_")]
    assert members
    for name in members:
        _same_method(protocol, fake, name)


@pytest.mark.parametrize("real, fake", REPOSITORIES, ids=lambda x: x.__name__)
def test_each_fake_repository_method_matches_the_real_one(real, fake):
    own = [n for n, v in vars(fake).items() if inspect.isfunction(v) and not n.startswith("_")]
    methods = [n for n in own if hasattr(real, n)]
    assert methods
    for name in methods:
        _same_method(real, fake, name)


def test_fake_storage_has_the_storage_attribute_names():
    fake = FakeStorage()
    for name, (_real, fake_cls) in zip(
        ("wallets", "addresses", "proposals", "notifications", "cache", "sessions", "notes", "preferences"),
        REPOSITORIES,
    ):
        assert isinstance(getattr(fake, name), fake_cls)
