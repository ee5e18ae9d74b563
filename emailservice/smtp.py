"""SMTP transport (twisted.mail ESMTP client).

Wire protocol: ESMTP (RFC 5321) — ``EHLO``; ``STARTTLS`` (RFC 3207) when
configured; ``AUTH LOGIN``/``PLAIN``/``CRAM-MD5`` when a username is set;
``MAIL FROM``, ``RCPT TO``, ``DATA`` ... ``.``, ``QUIT``. One connection per
message. A 5xx reply to ``RCPT``/``MAIL`` is permanent (the address or sender is
refused); connection errors, timeouts and 4xx replies are transient.

Options mirror ``emailOpts``: ``host``, ``port``, ``username``/``password``
(AUTH when a username is set), ``startTls`` (require STARTTLS; the server
certificate is verified against ``host``), ``ignoreTLS`` (never use STARTTLS;
when both are false STARTTLS is used if the server offers it).
"""

from __future__ import annotations

from io import BytesIO
from typing import Optional, Sequence

from twisted.internet import defer

from bws.delivery.outbox import PermanentError, TransientError

__all__ = ["SmtpSender"]


class SmtpSender:
    def __init__(
        self,
        reactor,
        host: str,
        port: int = 25,
        *,
        username: str = "",
        password: str = "",
        start_tls: bool = False,
        ignore_tls: bool = True,
        timeout: float = 30.0,
        helo_domain: Optional[str] = None,
    ):
        self.reactor = reactor
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.start_tls = start_tls
        self.ignore_tls = ignore_tls
        self.timeout = timeout
        self.helo_domain = helo_domain

    def _context(self):
        if self.ignore_tls and not self.start_tls:
            return None
        from twisted.internet import ssl

        return ssl.optionsForClientTLS(self.host)

    async def send(self, from_addr: str, to_addrs: Sequence[str], message: bytes) -> None:
        """Deliver ``message`` (RFC 5322 bytes); raises TransientError or PermanentError."""
        from twisted.mail import smtp  # not at import time: it binds the default reactor

        d: defer.Deferred = defer.Deferred()
        factory = smtp.ESMTPSenderFactory(
            self.username.encode() if self.username else None,
            self.password.encode() if self.username else None,
            from_addr,
            list(to_addrs),
            BytesIO(message),
            d,
            retries=0,
            timeout=int(self.timeout),
            contextFactory=self._context(),
            heloFallback=True,
            requireAuthentication=bool(self.username),
            requireTransportSecurity=bool(self.start_tls),
            hostname=self.host,
        )
        if self.helo_domain:
            factory.domain = self.helo_domain.encode()
        connector = self.reactor.connectTCP(self.host, self.port, factory, timeout=self.timeout)

        def cancel(_):
            factory.sendFinished = True
            if factory.currentProtocol is not None and factory.currentProtocol.transport is not None:
                factory.currentProtocol.transport.abortConnection()
            else:
                connector.disconnect()

        outer: defer.Deferred = defer.Deferred(cancel)
        d.chainDeferred(outer)
        outer.addTimeout(self.timeout + 5, self.reactor)
        try:
            ok, results = await outer
        except defer.TimeoutError as e:
            raise TransientError(f"SMTP timeout after {self.timeout + 5}s") from e
        except smtp.SMTPClientError as e:
            code = getattr(e, "code", None) or 0
            text = f"SMTP {code}: {e.resp.decode(errors='replace') if isinstance(e.resp, bytes) else e.resp}"
            if 500 <= code < 600 and not isinstance(e, (smtp.AUTHDeclinedError, smtp.TLSRequiredError)):
                raise PermanentError(text) from e
            raise TransientError(text) from e
        except Exception as e:  # connection refused, DNS, TLS
            raise TransientError(f"SMTP {type(e).__name__}: {e}") from e
        refused = [r for r in results if not 200 <= r[1] < 300]
        if refused:
            raise PermanentError("SMTP refused: " + ", ".join(f"{a.decode() if isinstance(a, bytes) else a} {c}" for a, c, _ in refused))
