"""The SMTP sink receives what twisted.mail.smtp.sendmail sends, for real."""

from email.message import EmailMessage

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from devtools.smtpsink import read_maildir


def _mail(subject: str, to: list) -> bytes:
    msg = EmailMessage()
    msg["From"] = "wallet-service@bitcore.io"
    msg["To"] = ", ".join(to)
    msg["Subject"] = subject
    msg.set_content("Plain body.\n.A line starting with a dot\n")
    msg.add_alternative("<html><body><p>Html body</p></body></html>", subtype="html")
    return msg.as_bytes()


def _send(port, to, data, **kw):
    from twisted.mail.smtp import sendmail  # after pytest-twisted installed the reactor

    d = sendmail("127.0.0.1", "wallet-service@bitcore.io", to, data, port=port, reactor=reactor, **kw)
    return d.addTimeout(10, reactor)  # a hung server must fail the test, not stall it


@pytest_twisted.ensureDeferred
async def test_sendmail_arrives_with_subject_and_recipients(smtp_sink):
    to = ["alice@example.com", "bob@example.com"]
    subject = "[Wallet Service] Nuevo pago recibido ✓"
    sent, results = await _send(smtp_sink.port, to, _mail(subject, to))
    assert sent == 2 and [r[1] for r in results] == [250, 250]

    [got] = await smtp_sink.wait(1)
    assert got.mail_from == "wallet-service@bitcore.io"
    assert got.rcpt_to == to
    assert got.subject == subject
    assert got.auth_user is None
    body = got.message
    assert body.get_body(("plain",)).get_content() == "Plain body.\n.A line starting with a dot\n"
    assert "Html body" in body.get_body(("html",)).get_content()
    # The same message is in the maildir, envelope included.
    [on_disk] = read_maildir(smtp_sink.maildir)
    assert on_disk == got


@pytest_twisted.ensureDeferred
async def test_auth_is_required_when_configured(smtp_sink_factory):
    from twisted.mail.smtp import SMTPClientError

    sink = smtp_sink_factory(username="mailer", password="s3cret")
    await _send(sink.port, ["carol@example.com"], _mail("authed", ["carol@example.com"]),
                username=b"mailer", password=b"s3cret", requireAuthentication=True)
    [got] = await sink.wait(1)
    assert (got.auth_user, got.rcpt_to, got.subject) == ("mailer", ["carol@example.com"], "authed")

    with pytest.raises(SMTPClientError) as bad_password:
        await _send(sink.port, ["carol@example.com"], _mail("x", ["carol@example.com"]),
                    username=b"mailer", password=b"wrong", requireAuthentication=True)
    assert bad_password.value.code == 535
    with pytest.raises(SMTPClientError) as anonymous:
        await _send(sink.port, ["carol@example.com"], _mail("x", ["carol@example.com"]))
    assert anonymous.value.code == 550
    assert len(sink.messages) == 1


@pytest_twisted.ensureDeferred
async def test_process_sink_writes_the_maildir(smtp_sink_process):
    to = ["dave@example.com"]
    await _send(smtp_sink_process.port, to, _mail("Payment sent", to))
    for _ in range(100):  # the sink writes the file right after answering 250
        if smtp_sink_process.messages():
            break
        await task.deferLater(reactor, 0.05, lambda: None)
    [got] = smtp_sink_process.messages()
    assert (got.rcpt_to, got.subject) == (to, "Payment sent")
