"""E-mail service against a real SMTP sink (twisted.mail ESMTP on 127.0.0.1).

Ports the reference's e-mail cases (spec/services.md §12 items 15–28).
"""

import pytest_twisted
from twisted.internet import reactor

from bws.config import EmailOpts
from bws.delivery.templates import TemplateSet
from emailservice.service import EmailService
from emailservice.smtp import SmtpSender
from tests.helpers import db
from tests.notify_fixtures import make_wallet, notify, set_prefs


def make_service(storage, sink, **kw):
    opts = EmailOpts(
        enabled=True, host="127.0.0.1", port=sink.port, from_="bws@example.com",
        publicTxUrlTemplate={"btc": {"livenet": "https://insight.example/tx/{{txid}}"}},
        **{k: v for k, v in kw.items() if k in EmailOpts.__dataclass_fields__},
    )
    sender = kw.get("sender") or SmtpSender(reactor, "127.0.0.1", sink.port, username=kw.get("username", ""),
                                            password=kw.get("password", ""), timeout=5)
    return EmailService(storage, opts, sender, reactor, templates=kw.get("templates"),
                        backoff=kw.get("backoff", 0.05), max_attempts=kw.get("max_attempts", 3), poll_interval=60)


async def deliver(svc, n):
    await svc.handle(n)
    await svc.outbox.when_idle()
    await svc.outbox.run_due()


async def wallet_2of3(storage, langs=("en", "en", "en"), units=("bit", "bit", "bit")):
    w = await make_wallet(storage)
    await set_prefs(storage, w, [(i, f"copayer{i + 1}@example.com", langs[i], units[i]) for i in range(3)])
    return w


@pytest_twisted.ensureDeferred
async def test_new_tx_proposal_mails_the_others_once(storage, smtp_sink):
    w = await wallet_2of3(storage)
    svc = make_service(storage, smtp_sink)
    n = await notify(storage, "NewTxProposal", w, {"txProposalId": "t1", "amount": 1000}, creator=w["copayers"][0]["id"])
    await deliver(svc, n)
    assert sorted(m.rcpt_to[0] for m in smtp_sink.messages) == ["copayer2@example.com", "copayer3@example.com"]
    for m in smtp_sink.messages:
        assert m.mail_from == "bws@example.com" and m.message["From"] == "bws@example.com"
        assert "New payment proposal" in m.subject and m.subject.startswith("[Wallet Service] ")
    # replaying the notification (restart, second instance) sends nothing more
    await deliver(svc, n)
    assert len(smtp_sink.messages) == 2
    rows = db.find(storage, "email_queue", {"notificationId": n["id"]}, sort=[("id", 1)])
    assert [r["status"] for r in rows] == ["sent", "sent"] and all(r["attempts"] == 1 for r in rows)
    assert db.find(storage, "email_queue", {"status": "fail"}) == []


@pytest_twisted.ensureDeferred
async def test_no_proposal_mail_in_1_of_n(storage, smtp_sink):
    w = await make_wallet(storage, m=1, n=2)
    await set_prefs(storage, w, [(0, "a@example.com", "en", None), (1, "b@example.com", "en", None)])
    svc = make_service(storage, smtp_sink)
    assert await svc.handle(await notify(storage, "NewTxProposal", w, {"amount": 1}, creator=w["copayers"][0]["id"])) == 0


@pytest_twisted.ensureDeferred
async def test_outgoing_tx_all_copayers_bits_and_html(storage, smtp_sink):
    w = await wallet_2of3(storage)
    svc = make_service(storage, smtp_sink)
    n = await notify(storage, "NewOutgoingTx", w, {"txid": "ab" * 32, "amount": 80_000_000}, creator=w["copayers"][0]["id"])
    await deliver(svc, n)
    assert len(smtp_sink.messages) == 3
    for m in smtp_sink.messages:
        assert "Payment sent" in m.subject
        msg = m.message
        assert "800,000 bits" in msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert html.startswith("<html") and "800,000 bits" in html
        assert "https:&#x2F;&#x2F;insight.example&#x2F;tx&#x2F;" + "ab" * 32 in html
        assert msg["Message-ID"].startswith("<" + n["id"][:14])


@pytest_twisted.ensureDeferred
async def test_custom_html_template_and_unescaped_url(storage, smtp_sink, tmp_path):
    root = tmp_path / "tpl"
    (root / "en").mkdir(parents=True)
    (root / "en" / "new_incoming_tx.plain").write_text("{{subjectPrefix}}New payment received\nGot {{amount}}\n")
    (root / "en" / "new_incoming_tx.html").write_text("<html><a href=\"{{&urlForTx}}\">tx</a></html>\n")
    w = await make_wallet(storage, m=1, n=1)
    await set_prefs(storage, w, [(0, "a@example.com", "en", "btc")])
    svc = make_service(storage, smtp_sink, templates=TemplateSet(str(root)))
    await deliver(svc, await notify(storage, "NewIncomingTx", w, {"txid": "ff", "amount": 10**8}))
    (m,) = smtp_sink.messages
    assert m.message.get_body(("html",)).get_content() == '<html><a href="https://insight.example/tx/ff">tx</a></html>\n'
    assert m.subject == "[Wallet Service] New payment received"


@pytest_twisted.ensureDeferred
async def test_incoming_tx_per_recipient_language_and_unit(storage, smtp_sink):
    w = await wallet_2of3(storage, langs=("es", "en", "ja"), units=("btc", "bit", "sat"))
    await set_prefs(storage, w, [])
    svc = make_service(storage, smtp_sink)
    await deliver(svc, await notify(storage, "NewIncomingTx", w, {"txid": "aa", "address": "x", "amount": 12_300_000}))
    by = {m.rcpt_to[0]: m for m in smtp_sink.messages}
    assert by["copayer1@example.com"].subject == "[Wallet Service] Nuevo pago recibido"
    assert "0.123 BTC" in by["copayer1@example.com"].message.get_body(("plain",)).get_content()
    assert by["copayer2@example.com"].subject == "[Wallet Service] New payment received"
    assert "123,000 bits" in by["copayer2@example.com"].message.get_body(("plain",)).get_content()
    assert by["copayer3@example.com"].subject == "[Wallet Service] 着金確認の知らせ"
    assert "12,300,000 sat" in by["copayer3@example.com"].message.get_body(("plain",)).get_content()


@pytest_twisted.ensureDeferred
async def test_language_and_unit_fallbacks_and_eth(storage, smtp_sink):
    w = await make_wallet(storage, wid="we", m=1, n=2, coin="eth")
    await set_prefs(storage, w, [(0, "a@example.com", "de", "gwei"), (1, "b@example.com", "zh", "bit")])
    svc = make_service(storage, smtp_sink)
    await deliver(svc, await notify(storage, "NewIncomingTx", w, {"txid": "0x1", "amount": "1500000000000000000"}))
    by = {m.rcpt_to[0]: m for m in smtp_sink.messages}
    assert by["a@example.com"].subject.endswith("New payment received")  # de -> default en
    assert "1,500,000,000 gwei" in by["a@example.com"].message.get_body(("plain",)).get_content()
    assert by["b@example.com"].subject.endswith("收到新付款")
    assert "1.50 ETH" in by["b@example.com"].message.get_body(("plain",)).get_content()


@pytest_twisted.ensureDeferred
async def test_rejected_confirmation_wallet_complete_new_copayer(storage, smtp_sink):
    w = await wallet_2of3(storage)
    c1, c2, c3 = (c["id"] for c in w["copayers"])
    svc = make_service(storage, smtp_sink)
    await deliver(svc, await notify(storage, "TxProposalFinallyRejected", w, {"txProposalId": "t", "rejectedBy": [c2, c3]}, creator=c3))
    assert sorted(m.rcpt_to[0] for m in smtp_sink.messages) == ["copayer1@example.com", "copayer2@example.com"]
    assert all("Payment proposal rejected" in m.subject for m in smtp_sink.messages)
    smtp_sink.clear()
    await deliver(svc, await notify(storage, "TxConfirmation", w, {"txid": "aa"}, creator=c2))
    assert [(m.rcpt_to[0], m.subject) for m in smtp_sink.messages] == [("copayer2@example.com", "[Wallet Service] Transaction confirmed")]
    smtp_sink.clear()
    await deliver(svc, await notify(storage, "WalletComplete", w, {"walletId": w["id"]}, creator=None))
    assert len(smtp_sink.messages) == 3 and all("Wallet complete" in m.subject for m in smtp_sink.messages)
    smtp_sink.clear()
    await deliver(svc, await notify(storage, "NewCopayer", w, {"copayerName": "copayer 3"}, creator=c3))
    assert sorted(m.rcpt_to[0] for m in smtp_sink.messages) == ["copayer1@example.com", "copayer2@example.com"]
    smtp_sink.clear()
    await deliver(svc, await notify(storage, "NewAddress", w, {"address": "x"}, creator=c1))
    assert smtp_sink.messages == []


@pytest_twisted.ensureDeferred
async def test_shared_address_gets_one_mail(storage, smtp_sink):
    w = await make_wallet(storage)
    await set_prefs(storage, w, [(0, "same@example.com", "en", None), (1, "same@example.com", "en", None), (2, "c@example.com", "en", None)])
    svc = make_service(storage, smtp_sink)
    await deliver(svc, await notify(storage, "NewIncomingTx", w, {"txid": "aa", "amount": 5}))
    assert sorted(m.rcpt_to[0] for m in smtp_sink.messages) == ["c@example.com", "same@example.com"]


@pytest_twisted.ensureDeferred
async def test_render_failure_stores_and_sends_nothing(storage, smtp_sink, tmp_path):
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "new_incoming_tx.plain").write_text("{{subjectPrefix}}x\n{% if %}\n")
    w = await make_wallet(storage, m=1, n=1)
    await set_prefs(storage, w, [(0, "a@example.com", "en", None)])
    svc = make_service(storage, smtp_sink, templates=TemplateSet(str(tmp_path)))
    assert await svc.handle(await notify(storage, "NewIncomingTx", w, {"amount": 5})) == 0
    assert db.find(storage, "email_queue", {}, sort=[("id", 1)]) == [] and smtp_sink.messages == []


@pytest_twisted.ensureDeferred
async def test_smtp_auth(storage, smtp_sink_factory):
    sink = smtp_sink_factory(username="bws", password="s3cret")
    w = await make_wallet(storage, m=1, n=1)
    await set_prefs(storage, w, [(0, "a@example.com", "en", None)])
    svc = make_service(storage, sink, username="bws", password="s3cret")
    await deliver(svc, await notify(storage, "NewIncomingTx", w, {"amount": 5}))
    assert [m.auth_user for m in sink.messages] == ["bws"]


class FlakySender:
    def __init__(self, real, failures):
        self.real, self.failures, self.calls = real, failures, 0

    async def send(self, *a):
        self.calls += 1
        if self.calls <= self.failures:
            from bws.delivery.outbox import TransientError
            raise TransientError("SMTP 451 try later")
        return await self.real.send(*a)


@pytest_twisted.ensureDeferred
async def test_smtp_failures_are_retried_with_backoff_then_recorded(storage, smtp_sink):
    from twisted.internet import task

    w = await make_wallet(storage, m=1, n=1)
    await set_prefs(storage, w, [(0, "a@example.com", "en", None)])
    real = SmtpSender(reactor, "127.0.0.1", smtp_sink.port, timeout=5)
    flaky = FlakySender(real, failures=2)
    svc = make_service(storage, smtp_sink, sender=flaky, max_attempts=5)
    n = await notify(storage, "NewIncomingTx", w, {"amount": 5})
    await svc.handle(n)
    for _ in range(40):
        rows = db.find(storage, "email_queue", {"notificationId": n["id"]}, sort=[("id", 1)])
        if rows[0]["status"] == "sent":
            break
        await task.deferLater(reactor, 0.05, lambda: None)
        await svc.outbox.run_due()
    assert rows[0]["status"] == "sent" and rows[0]["attempts"] == 3
    assert len(smtp_sink.messages) == 1

    # a server that refuses everything: attempts are recorded, status fail, from kept
    dead = make_service(storage, smtp_sink, max_attempts=3)
    dead.sender = SmtpSender(reactor, "127.0.0.1", 1, timeout=2)  # nothing listens on port 1
    n2 = await notify(storage, "NewIncomingTx", w, {"amount": 6})
    await dead.handle(n2)
    for _ in range(60):
        await dead.outbox.run_due()
        rows = db.find(storage, "email_queue", {"notificationId": n2["id"]}, sort=[("id", 1)])
        if rows[0]["attempts"] >= 3:
            break
        await task.deferLater(reactor, 0.05, lambda: None)
    assert rows[0]["status"] == "fail" and rows[0]["attempts"] == 3 and rows[0]["nextAttemptOn"] is None
    assert rows[0]["from"] == "bws@example.com" and "Connection refused" in rows[0]["lastError"]
    assert [r["id"] for r in db.find(storage, "email_queue", {"status": "fail"})] == [rows[0]["id"]]
