"""Fake push providers and a webhook receiver on 127.0.0.1 (in the test reactor).

* ``fake_fcm`` → :class:`tests.servers.fake_fcm.FakeFcm` (``.base_url``, ``.messages``,
  ``.unregistered``, ``.fail_times``, ``.hold(n)``/``.release()``), plus
  ``fcm_service_account`` → path of a service-account JSON (fresh RSA key) whose
  ``token_uri`` is the fake's ``/token``.
* ``fake_apns`` → :class:`tests.servers.fake_apns.FakeApns` over TLS + HTTP/2 with a self-signed
  cert; attributes ``ca_file``, ``key_pem`` (the .p8-style signing key), ``team_id``, ``key_id``.
* ``webhook_receiver`` → :class:`tests.servers.webhook_receiver.WebhookReceiver`.
"""

import json

import pytest
import pytest_twisted


@pytest_twisted.async_yield_fixture()
async def fake_fcm():
    from tests.servers.fake_fcm import FakeFcm

    fake = FakeFcm().start()
    yield fake
    await fake.stop()


@pytest.fixture
def fcm_service_account(fake_fcm, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    info = {
        "type": "service_account",
        "project_id": "test-proj",
        "private_key_id": "k1",
        "private_key": pem.decode(),
        "client_email": "bws@test-proj.iam.gserviceaccount.com",
        "client_id": "1",
        "token_uri": fake_fcm.base_url + "/token",
    }
    path = tmp_path / "service-account.json"
    path.write_text(json.dumps(info))
    return str(path)


@pytest_twisted.async_yield_fixture()
async def fake_apns(tmp_path):
    from tests.servers.fake_apns import FakeApns, make_self_signed, make_signing_key

    cert, key = make_self_signed(tmp_path)
    priv, pub = make_signing_key()
    fake = FakeApns(pub, team_id="TEAMID1234", key_id="KEYID12345").start(cert, key)
    fake.ca_file = str(cert)
    fake.key_pem = priv
    yield fake
    await fake.stop()


@pytest_twisted.async_yield_fixture()
async def webhook_receiver():
    from tests.servers.webhook_receiver import WebhookReceiver

    r = WebhookReceiver().start()
    yield r
    await r.stop()
