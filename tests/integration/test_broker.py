"""Broker: the WebSocket relay (messagebroker/) and both cross-process clients
(WebSocketBroker, RedisBroker) through one suite; reconnection and shared-secret auth."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest
import pytest_twisted
from twisted.internet import reactor, task
from twisted.internet.task import Clock

from bws.adapters.broker.local import LocalBroker
from bws.runtime import make_broker
from bws.adapters.broker.redis import RedisBroker
from bws.adapters.broker.ws import WebSocketBroker
from bws.config import config_from_dict
from messagebroker.relay import CLOSE_AUTH, Relay
from tests.servers.proc import ROOT, ManagedProcess, free_port, port_open, require_binary


def sleep(s):
    return task.deferLater(reactor, s, lambda: None)


async def wait_until(cond, timeout=10.0, step=0.05):
    deadline = reactor.seconds() + timeout
    while not cond():
        if reactor.seconds() > deadline:
            raise AssertionError("condition not reached in time")
        await sleep(step)


def broker_proc(tmp_path, port, *extra, name="messagebroker"):
    return ManagedProcess(
        name, [sys.executable, "-m", "messagebroker", "--port", str(port), *extra],
        ready=lambda: port_open(port), log_dir=tmp_path, cwd=str(ROOT),
    )


def redis_proc(tmp_path, port, name="redis-private"):
    return ManagedProcess(
        name, [require_binary("redis-server"), "--bind", "127.0.0.1", "--port", str(port), "--save", "",
               "--appendonly", "no"],
        ready=lambda: port_open(port), log_dir=tmp_path,
    )


# -- Relay unit tests -----------------------------------------------------------------


class FakePeer:
    def __init__(self):
        self.sent = []
        self.closed = None

    def send_text(self, text):
        self.sent.append(text)

    def close(self, code, reason):
        self.closed = (code, reason)


def test_relay_sends_every_msg_to_everyone_including_sender():
    relay = Relay(Clock())
    a, b = FakePeer(), FakePeer()
    pa, pb = relay.attach(a, "a"), relay.attach(b, "b")
    text = json.dumps({"event": "msg", "data": {"id": "1", "type": "NewBlock"}})
    relay.receive(pa, text)
    assert a.sent == [text] and b.sent == [text]
    relay.receive(pa, "not json")
    relay.receive(pa, json.dumps({"event": "other"}))
    assert len(a.sent) == 1
    relay.detach(pb)
    relay.receive(pa, text)
    assert len(b.sent) == 1 and len(a.sent) == 2


def test_relay_with_secret_refuses_unauthenticated_peers():
    clock = Clock()
    relay = Relay(clock, secret="s", auth_timeout=5)
    good, wrong, early, silent = FakePeer(), FakePeer(), FakePeer(), FakePeer()
    pg = relay.attach(good, "good")
    relay.receive(pg, json.dumps({"event": "auth", "secret": "s"}))
    assert json.loads(good.sent[0]) == {"event": "auth", "ok": True}
    pw = relay.attach(wrong, "wrong")
    relay.receive(pw, json.dumps({"event": "auth", "secret": "x"}))
    assert wrong.closed == (CLOSE_AUTH, "wrong shared secret")
    pe = relay.attach(early, "early")
    relay.receive(pe, json.dumps({"event": "msg", "data": {}}))
    assert early.closed[0] == CLOSE_AUTH
    relay.attach(silent, "silent")
    clock.advance(5)
    assert silent.closed[0] == CLOSE_AUTH
    text = json.dumps({"event": "msg", "data": {"x": 1}})
    relay.receive(pg, text)
    assert good.sent[-1] == text and all(text not in p.sent for p in (wrong, early, silent))


def test_make_broker_selects_by_mode():
    assert isinstance(make_broker(config_from_dict({"messageBrokerOpts": {"mode": "local"}}), reactor), LocalBroker)
    ws = make_broker(config_from_dict({"messageBrokerOpts": {"mode": "websocket"}}), reactor, start=False)
    assert isinstance(ws, WebSocketBroker) and ws.url == "ws://127.0.0.1:3380"
    rb = make_broker(config_from_dict({"messageBrokerOpts": {"mode": "redis"}}), reactor, start=False)
    assert isinstance(rb, RedisBroker)


def test_messagebroker_cli_help_and_refuses_open_bind_without_secret():
    r = subprocess.run([sys.executable, "-m", "messagebroker", "--help"], capture_output=True, text=True, cwd=str(ROOT))
    assert r.returncode == 0 and "--config" in r.stdout
    r = subprocess.run([sys.executable, "-m", "messagebroker", "--host", "0.0.0.0", "--port", "0"],
                       capture_output=True, text=True, cwd=str(ROOT), timeout=30)
    assert r.returncode == 2 and "shared secret" in r.stderr


# -- one suite, both modes -----------------------------------------------------------


@pytest.fixture(scope="module")
def ws_server(tmp_path_factory):
    port = free_port()
    proc = broker_proc(tmp_path_factory.mktemp("broker"), port).start()
    proc.port = port
    yield proc
    proc.stop()


@pytest.fixture(params=["websocket", "redis"])
def make_client(request):
    made = []
    if request.param == "websocket":
        srv = request.getfixturevalue("ws_server")

        def make():
            b = WebSocketBroker(f"ws://127.0.0.1:{srv.port}", reactor, min_delay=0.2, max_delay=1.0)
            made.append(b)
            return b.start()
    else:
        rs = request.getfixturevalue("redis_server")
        channel = f"test:{time.monotonic_ns()}"

        def make():
            b = RedisBroker(rs.url, reactor, channel=channel)
            made.append(b)
            return b.start()

    yield make
    for b in made:
        b.stop()


@pytest_twisted.ensureDeferred
async def test_every_message_reaches_every_client_including_sender(make_client):
    a, b = make_client(), make_client()
    got_a, got_b = [], []
    a.on_message(got_a.append)
    b.on_message(got_b.append)
    await wait_until(lambda: a.connected and b.connected)
    msgs = [{"id": f"{i:018d}", "type": "NewBlock", "data": {"n": i}} for i in range(50)]
    for m in msgs[:25]:
        a.publish(m)
    for m in msgs[25:]:
        b.publish(m)
    await wait_until(lambda: len(got_a) == 50 and len(got_b) == 50)
    assert sorted(got_a, key=lambda m: m["id"]) == msgs
    # each publisher's messages stay in its order (the two publishers may interleave)
    for got in (got_a, got_b):
        assert [m for m in got if m["data"]["n"] < 25] == msgs[:25]
        assert [m for m in got if m["data"]["n"] >= 25] == msgs[25:]
    await sleep(0.2)
    assert len(got_a) == 50 and len(got_b) == 50  # and nothing doubled


# -- reconnection ----------------------------------------------------------------------------


@pytest_twisted.ensureDeferred
async def test_websocket_client_buffers_while_down_and_reconnects(tmp_path):
    port = free_port()
    a = WebSocketBroker(f"ws://127.0.0.1:{port}", reactor, min_delay=0.2, max_delay=0.5).start()
    connects, got = [], []
    a.on_connect(lambda: connects.append(reactor.seconds()))
    a.on_message(got.append)
    try:
        a.publish({"n": 1})  # server not up yet: buffered
        await sleep(0.3)
        proc = broker_proc(tmp_path, port).start()
        try:
            await wait_until(lambda: got == [{"n": 1}])
            assert len(connects) == 1
            proc.stop()
            await sleep(0.2)
            assert not a.connected
            a.publish({"n": 2})
            proc.start()
            await wait_until(lambda: len(connects) == 2 and got == [{"n": 1}, {"n": 2}])
        finally:
            proc.stop()
    finally:
        a.stop()


@pytest_twisted.ensureDeferred
async def test_redis_subscriber_resubscribes_after_redis_restart(tmp_path):
    port = free_port()
    proc = redis_proc(tmp_path, port).start()
    a = RedisBroker(f"redis://127.0.0.1:{port}/0", reactor, min_delay=0.1, max_delay=0.5).start()
    connects, got = [], []
    a.on_connect(lambda: connects.append(1))
    a.on_message(got.append)
    try:
        await wait_until(lambda: a.connected)
        a.publish({"n": 1})
        await wait_until(lambda: got == [{"n": 1}])
        proc.stop()
        await sleep(0.3)
        proc.start()
        await wait_until(lambda: len(connects) == 2, timeout=15)
        a.publish({"n": 2})
        await wait_until(lambda: got == [{"n": 1}, {"n": 2}], timeout=15)
    finally:
        a.stop()
        proc.stop()


@pytest_twisted.ensureDeferred
async def test_websocket_secret_auth_end_to_end(tmp_path):
    port = free_port()
    proc = broker_proc(tmp_path, port, "--secret", "topsecret").start()
    good = WebSocketBroker(f"ws://127.0.0.1:{port}", reactor, secret="topsecret", min_delay=0.2).start()
    other = WebSocketBroker(f"ws://127.0.0.1:{port}", reactor, secret="topsecret", min_delay=0.2).start()
    bad = WebSocketBroker(f"ws://127.0.0.1:{port}", reactor, secret="guess", min_delay=5).start()
    got_other, got_bad = [], []
    other.on_message(got_other.append)
    bad.on_message(got_bad.append)
    try:
        await wait_until(lambda: good.connected and other.connected)
        good.publish({"hello": 1})
        await wait_until(lambda: got_other == [{"hello": 1}])
        await sleep(0.2)
        assert not bad.connected and got_bad == []
        assert "wrong shared secret" in proc.tail()
    finally:
        for b in (good, other, bad):
            b.stop()
        proc.stop()
