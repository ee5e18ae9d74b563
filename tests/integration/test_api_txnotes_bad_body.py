"""PUT /v1/txnotes/:txid/ with empty, array or odd bodies: a client error or a note, never a 500."""

import pytest
import pytest_twisted

from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401
from tests.helpers.keys import CopayerKeys, WalletKey
from tests.helpers.wallets import create_and_join


@pytest.mark.parametrize("raw", [b"[]", b"{}", b'{"body": null}', b'{"body": 5}', b'{"body": {"x": 1}}'])
@pytest_twisted.ensureDeferred
async def test_put_txnote_odd_bodies_never_500(api, raw):
    w = await create_and_join(api.service, m=1, n=1)
    me = w.copayers[0]
    r = await api.client.request("PUT", "/v1/txnotes/abcd/", copayer=me, raw=raw)
    assert r.status in (200, 400), (raw, r.status, r.text)


@pytest.mark.parametrize("content_type", ["application/json", None, "text/plain"])
@pytest_twisted.ensureDeferred
async def test_put_txnote_empty_body_signed_as_empty_object(api, content_type):
    """An empty body (any content type) is the empty object for signing and for the service."""
    w = await create_and_join(api.service, m=1, n=1)
    me = w.copayers[0]
    sig = me.sign("put|/v1/txnotes/abcd/|{}")
    r = await api.client.request(
        "PUT", "/v1/txnotes/abcd/", raw=b"", content_type=content_type,
        identity=me.copayer_id(), signature=sig, headers={"x-identity": me.copayer_id(), "x-signature": sig},
    )
    assert r.status in (200, 400), (content_type, r.status, r.text)


@pytest.mark.parametrize("txid", ["%00", "%FF", "%C3%A9", "a" * 2000, "%2F", "%20", "true", "0"])
@pytest_twisted.ensureDeferred
async def test_odd_txids_never_500(api, txid):
    w = await create_and_join(api.service, m=1, n=1)
    me = w.copayers[0]
    for method, body in (("PUT", {"body": "x"}), ("GET", None)):
        r = await api.client.request(method, f"/v1/txnotes/{txid}/", body, copayer=me)
        assert r.status in (200, 400, 404), (method, txid, r.status, r.text)
