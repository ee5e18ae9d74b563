"""SMTP sink fixtures (Twisted ESMTP, real sockets on 127.0.0.1).

* ``smtp_sink`` -> a started :class:`devtools.smtpsink.SmtpSink` in the test
  reactor, fresh per test, no AUTH, also writing a maildir under ``tmp_path``.
  Attributes: ``host``, ``port``, ``messages`` (list of ``ReceivedMessage`` with
  ``mail_from``, ``rcpt_to``, ``data``, ``auth_user``, ``message``, ``subject``),
  ``maildir``; methods ``wait(count=1, timeout=10) -> Deferred[list]``, ``clear()``.
* ``smtp_sink_factory`` -> ``make(username=None, password=None) -> SmtpSink``
  for sinks that require AUTH LOGIN/PLAIN; all are stopped after the test.
* ``smtp_sink_process`` -> a started :class:`devtools.smtpsink.SmtpSinkProcess`
  (separate OS process, for services under test that run as processes):
  ``host``, ``port``, ``maildir``, ``messages() -> list``, ``clear()``.

The in-reactor fixtures are async (pytest-twisted) so the port is really closed
before the next test.
"""

import pytest
import pytest_twisted

from devtools.smtpsink import SmtpSink, SmtpSinkProcess


@pytest_twisted.async_yield_fixture()
async def smtp_sink_factory(tmp_path):
    sinks = []

    def make(username=None, password=None):
        sink = SmtpSink(maildir=tmp_path / f"maildir-{len(sinks)}", username=username, password=password)
        sinks.append(sink.start())
        return sink

    yield make
    for sink in sinks:
        await sink.stop()


@pytest_twisted.async_yield_fixture()
async def smtp_sink(smtp_sink_factory):
    yield smtp_sink_factory()


@pytest.fixture
def smtp_sink_process(tmp_path):
    sink = SmtpSinkProcess(tmp_path / "maildir", tmp_path).start()
    yield sink
    sink.stop()
