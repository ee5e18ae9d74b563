"""An SMTP sink: accepts every mail and keeps it, for tests and ``start.sh --dev``.

Wire protocol: plain ESMTP (RFC 5321) from ``twisted.mail.smtp.ESMTP``:
``220`` greeting, ``EHLO`` (advertises ``AUTH LOGIN PLAIN`` only when a user is
configured), optional ``AUTH``, ``MAIL FROM``, one or more ``RCPT TO``, ``DATA``
… ``.``, ``QUIT``. No TLS. When a user is configured, ``MAIL FROM`` before a
successful ``AUTH`` is refused with ``550 … Unauthenticated senders not allowed``
and a bad password gets ``535 Authentication failed``.

Each accepted transaction becomes one :class:`ReceivedMessage` (all its
recipients together), kept in :attr:`SmtpSink.messages` and, when a maildir is
configured, written as one file in Maildir layout (``tmp/`` then renamed into
``new/``; names sort by arrival). A file starts with envelope headers
``X-Sink-Mail-From``, ``X-Sink-Rcpt-To`` (comma separated) and, after AUTH,
``X-Sink-Auth-User``, followed by the message exactly as received;
:func:`read_maildir` parses them back.

Two ways to run it:

* in the test's reactor: ``sink = SmtpSink(maildir=...); sink.start()``;
* as a process: ``python -m devtools.smtpsink --port 2525 --maildir ./data/mail``
  (or :class:`SmtpSinkProcess` from Python), then read the maildir.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Union

from twisted.cred import checkers, portal
from twisted.internet import defer
from twisted.mail.imap4 import LOGINCredentials, PLAINCredentials
from twisted.mail.interfaces import IMessageDelivery, IMessageSMTP
from zope.interface import implementer

# NOTE: twisted.mail.smtp is imported only inside functions: importing it
# installs the default reactor (its sendmail() binds one as a default argument),
# which would break pytest-twisted's --reactor=asyncio when this module is
# imported early, e.g. by a pytest plugin.

__all__ = ["ReceivedMessage", "SmtpSink", "SmtpSinkProcess", "read_maildir"]

_ENV_FROM = b"X-Sink-Mail-From: "
_ENV_TO = b"X-Sink-Rcpt-To: "
_ENV_AUTH = b"X-Sink-Auth-User: "


@dataclass
class ReceivedMessage:
    """One SMTP transaction as the sink saw it.

    ``mail_from``: envelope sender (``""`` for the null sender ``<>``).
    ``rcpt_to``: envelope recipients in RCPT order.
    ``data``: the message bytes as received (dot-unstuffed, ``\\n`` line ends).
    ``auth_user``: the AUTH user name, or ``None`` for an unauthenticated session.
    """

    mail_from: str
    rcpt_to: List[str]
    data: bytes
    auth_user: Optional[str] = None

    @property
    def message(self) -> email.message.EmailMessage:
        """The parsed message (``email.policy.default``: headers decoded, ``get_body()`` works)."""
        return email.message_from_bytes(self.data, policy=email.policy.default)

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    def to_file_bytes(self) -> bytes:
        head = _ENV_FROM + self.mail_from.encode() + b"\n" + _ENV_TO + ", ".join(self.rcpt_to).encode() + b"\n"
        if self.auth_user is not None:
            head += _ENV_AUTH + self.auth_user.encode() + b"\n"
        return head + self.data

    @classmethod
    def from_file_bytes(cls, raw: bytes) -> "ReceivedMessage":
        mail_from, rcpt_to, auth_user = "", [], None
        lines = raw.split(b"\n")
        i = 0
        while i < len(lines) and lines[i].startswith(b"X-Sink-"):
            line = lines[i]
            if line.startswith(_ENV_FROM):
                mail_from = line[len(_ENV_FROM) :].decode()
            elif line.startswith(_ENV_TO):
                rcpt_to = [r for r in line[len(_ENV_TO) :].decode().split(", ") if r]
            elif line.startswith(_ENV_AUTH):
                auth_user = line[len(_ENV_AUTH) :].decode()
            i += 1
        return cls(mail_from, rcpt_to, b"\n".join(lines[i:]), auth_user)


def read_maildir(maildir: Union[str, Path]) -> List[ReceivedMessage]:
    """All messages delivered into ``maildir/new``, oldest first ([] if none yet)."""
    new = Path(maildir) / "new"
    if not new.is_dir():
        return []
    return [ReceivedMessage.from_file_bytes(p.read_bytes()) for p in sorted(new.iterdir())]


def _write_maildir(maildir: Path, msg: ReceivedMessage, seq: int) -> Path:
    # Write into tmp/ and rename into new/ so a reader never sees half a file.
    name = f"{time.time_ns():020d}.{os.getpid()}.{seq:06d}.eml"
    tmp = maildir / "tmp" / name
    tmp.write_bytes(msg.to_file_bytes())
    final = maildir / "new" / name
    os.replace(tmp, final)
    return final


# -- the Twisted side ---------------------------------------------------------


class _LoginCredentials(LOGINCredentials):
    """AUTH LOGIN with the usual SMTP prompts ``Username:``/``Password:`` (as
    twisted.mail.smtp's own variant, which cannot be imported here)."""

    def __init__(self):
        super().__init__()
        self.challenges = [b"Password:", b"Username:"]


@implementer(IMessageSMTP)
class _Recorder:
    """Collects the DATA lines of one transaction; stores them at end of message."""

    def __init__(self, delivery: "_Delivery"):
        self.delivery = delivery
        self.lines: List[bytes] = []

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)

    def eomReceived(self):
        d = self.delivery
        d.sink._store(
            ReceivedMessage(d.mail_from, list(d.rcpt_to), b"\n".join(self.lines) + b"\n", d.auth_user)
        )
        return defer.succeed(None)

    def connectionLost(self) -> None:
        self.lines = []


@implementer(IMessageSMTP)
class _Discard:
    """Twisted asks for one IMessage per recipient; all but the first discard."""

    def lineReceived(self, line: bytes) -> None:
        pass

    def eomReceived(self):
        return defer.succeed(None)

    def connectionLost(self) -> None:
        pass


@implementer(IMessageDelivery)
class _Delivery:
    """Per-connection delivery avatar; tracks the current transaction's envelope."""

    def __init__(self, sink: "SmtpSink", auth_user: Optional[str]):
        self.sink = sink
        self.auth_user = auth_user
        self.mail_from = ""
        self.rcpt_to: List[str] = []
        self._recorder: Optional[_Recorder] = None

    def receivedHeader(self, helo, origin, recipients):
        return None  # keep the message exactly as the client sent it

    def validateFrom(self, helo, origin):
        # A new MAIL FROM starts a new transaction on this connection.
        self.mail_from = str(origin)
        self.rcpt_to = []
        self._recorder = None
        return origin

    def validateTo(self, user):
        self.rcpt_to.append(str(user.dest))
        return self._message

    def _message(self):
        if self._recorder is None:
            self._recorder = _Recorder(self)
            return self._recorder
        return _Discard()


@implementer(portal.IRealm)
class _Realm:
    def __init__(self, sink: "SmtpSink"):
        self.sink = sink

    def requestAvatar(self, avatarId, mind, *interfaces):
        if IMessageDelivery not in interfaces:
            raise NotImplementedError("only IMessageDelivery")
        # Anonymous logins have avatarId checkers.ANONYMOUS (an empty tuple).
        user = avatarId.decode() if isinstance(avatarId, bytes) else None
        return IMessageDelivery, _Delivery(self.sink, user), lambda: None


def _make_factory(portal_, challengers):
    """An ESMTP server factory whose protocols offer ``challengers`` for AUTH."""
    from twisted.mail import smtp

    class _Factory(smtp.SMTPFactory):
        protocol = smtp.ESMTP
        domain = b"smtpsink.localhost"

        def buildProtocol(self, addr):
            # SMTPFactory builds ESMTP() with no AUTH mechanisms; pass ours.
            p = self.protocol(challengers)
            p.factory = self
            p.portal = self.portal
            p.host = self.domain
            return p

    return _Factory(portal_)


class SmtpSink:
    """An in-reactor SMTP sink.

    ``host``/``port``: where to listen (port 0 = any free port; read :attr:`port`
    after :meth:`start`). ``maildir``: also write each message there (optional).
    ``username``/``password``: when set, AUTH LOGIN/PLAIN is offered and required.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        maildir: Optional[Union[str, Path]] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
        reactor=None,
    ):
        self.host = host
        self.port = port
        self.maildir = Path(maildir) if maildir else None
        self.username = username
        self.password = password
        self._reactor = reactor
        #: Every message received so far, oldest first.
        self.messages: List[ReceivedMessage] = []
        self._listening = None
        self._waiters: List[tuple] = []

    @property
    def reactor(self):
        if self._reactor is None:
            from twisted.internet import reactor

            self._reactor = reactor
        return self._reactor

    def _factory(self):
        p = portal.Portal(_Realm(self))
        if self.username is not None:
            db = checkers.InMemoryUsernamePasswordDatabaseDontUse()
            db.addUser(self.username.encode(), (self.password or "").encode())
            p.registerChecker(db)
            challengers = {b"LOGIN": _LoginCredentials, b"PLAIN": PLAINCredentials}
        else:
            p.registerChecker(checkers.AllowAnonymousAccess())
            challengers = {}
        return _make_factory(p, challengers)

    def start(self) -> "SmtpSink":
        """Listen now (synchronous); :attr:`port` holds the real port afterwards."""
        if self.maildir:
            for sub in ("tmp", "new", "cur"):
                (self.maildir / sub).mkdir(parents=True, exist_ok=True)
        self._listening = self.reactor.listenTCP(self.port, self._factory(), interface=self.host)
        self.port = self._listening.getHost().port
        return self

    def stop(self) -> defer.Deferred:
        """Stop listening; the Deferred fires when the port is closed."""
        listening, self._listening = self._listening, None
        for d, _, call in self._waiters:
            call.cancel()
            d.errback(RuntimeError("SMTP sink stopped"))
        self._waiters = []
        return defer.maybeDeferred(listening.stopListening) if listening else defer.succeed(None)

    def clear(self) -> None:
        """Forget received messages (memory and maildir)."""
        self.messages.clear()
        if self.maildir and (self.maildir / "new").is_dir():
            for p in (self.maildir / "new").iterdir():
                p.unlink()

    def wait(self, count: int = 1, timeout: float = 10.0) -> defer.Deferred:
        """Deferred firing with :attr:`messages` once at least ``count`` arrived;
        fails with ``TimeoutError`` after ``timeout`` seconds."""
        d = defer.Deferred()
        if len(self.messages) >= count:
            d.callback(list(self.messages))
            return d

        def expire():
            self._waiters = [w for w in self._waiters if w[0] is not d]
            d.errback(TimeoutError(f"{len(self.messages)} of {count} messages after {timeout}s"))

        self._waiters.append((d, count, self.reactor.callLater(timeout, expire)))
        return d

    def _store(self, msg: ReceivedMessage) -> None:
        self.messages.append(msg)
        if self.maildir:
            _write_maildir(self.maildir, msg, len(self.messages))
        ready = [w for w in self._waiters if len(self.messages) >= w[1]]
        self._waiters = [w for w in self._waiters if w not in ready]
        for d, _, call in ready:
            call.cancel()
            d.callback(list(self.messages))


class SmtpSinkProcess:
    """The sink as a separate process (``python -m devtools.smtpsink``),
    for tests of services that run as processes. Read mail with :meth:`messages`.

    ``maildir``: where messages land; ``log_dir``: where ``smtpsink.log`` goes.
    """

    def __init__(
        self,
        maildir: Union[str, Path],
        log_dir: Union[str, Path],
        port: Optional[int] = None,
        username: Optional[str] = None,
        password: Optional[str] = None,
    ):
        from devtools.process import free_port

        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.maildir = Path(maildir)
        self.log_dir = Path(log_dir)
        self.username = username
        self.password = password
        self.process = None

    def start(self) -> "SmtpSinkProcess":
        from devtools.process import ManagedProcess, port_open

        argv = [sys.executable, "-m", "devtools.smtpsink", "--port", str(self.port), "--maildir", str(self.maildir)]
        if self.username is not None:
            argv += ["--user", self.username, "--password", self.password or ""]
        root = Path(__file__).resolve().parents[1]
        self.process = ManagedProcess(
            "smtpsink", argv, lambda: port_open(self.port), self.log_dir, cwd=str(root), timeout=30
        ).start()
        return self

    def stop(self) -> None:
        if self.process:
            self.process.stop()

    def messages(self) -> List[ReceivedMessage]:
        """Messages delivered so far, oldest first."""
        return read_maildir(self.maildir)

    def clear(self) -> None:
        new = self.maildir / "new"
        if new.is_dir():
            for p in new.iterdir():
                p.unlink()


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.smtpsink",
        description="Run an SMTP sink that accepts every mail and writes each one as a file "
        "into a Maildir (new/), with X-Sink-Mail-From / X-Sink-Rcpt-To envelope headers first.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="listen address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=2525, help="listen port (default 2525; 0 = any)")
    parser.add_argument("--maildir", required=True, help="Maildir to write messages into (created)")
    parser.add_argument("--user", help="require AUTH LOGIN/PLAIN with this user name")
    parser.add_argument("--password", default="", help="password for --user")
    args = parser.parse_args(argv)

    from twisted.internet import reactor
    from twisted.python import log

    log.startLogging(sys.stdout)
    sink = SmtpSink(args.host, args.port, args.maildir, args.user, args.password if args.user else None)
    sink.start()
    print(json.dumps({"host": sink.host, "port": sink.port, "maildir": str(sink.maildir)}), flush=True)
    reactor.run()  # SIGTERM/SIGINT stop the reactor cleanly (Twisted installs the handlers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
