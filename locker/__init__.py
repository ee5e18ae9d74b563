"""The lock server (``python -m locker``): the npm ``locker-server`` protocol on TCP 3231.

See :mod:`locker.server` for the wire protocol and the semantics.
"""

from locker.server import LockerFactory, LockerProtocol, LockService

__all__ = ["LockService", "LockerProtocol", "LockerFactory"]
