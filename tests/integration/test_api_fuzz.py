"""Hypothesis: generated bodies, headers and query strings against every
route; no response is a 500 and none leaks a traceback (issue 3, "Bad input")."""

from __future__ import annotations

import json

import pytest_twisted
from hypothesis import given, settings
from hypothesis import strategies as st

from bws.http.routes import build_router
from tests.helpers.fixtures import api, clock, explorer, service  # noqa: F401
from tests.helpers.wallets import create_and_join

#: values that broke storage or number handling before (issue 15 finding 12)
odd_leaves = st.sampled_from([1e308, -1e308, 2**64, "NaN", "1e400", "a\u0000b", "\ud800", "x" * 20_000])
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=20)
    | odd_leaves,
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=12) | st.sampled_from(["\u0000", "\ud800", "$gt", "a.b"]), children, max_size=4),
    max_leaves=12,
)
FIELDS = ["name", "m", "n", "pubKey", "xPubKey", "requestPubKey", "copayerSignature", "signature", "coin",
          "network", "id", "walletId", "email", "language", "unit", "token", "txid", "body", "ignoreMaxGap",
          "dryRun", "restrictions", "supportBIP44AndP2PKH", "singleAddress", "addresses", "customData"]
bodies = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6).map(lambda d: json.dumps(d).encode()),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=40),
)
query_keys = st.sampled_from(["limit", "reverse", "timeSpan", "notificationId", "twoStep", "includeExtendedInfo",
                              "addresses", "minTs", "coin", "network", "from", "to", "r", "a[b]", "x[]", "skip", "ts"])
query_values = st.text(alphabet="abc019,.-%[]&=_ ", max_size=8) | st.sampled_from(
    ["1e400", "-1e308", "18446744073709551616", "Infinity", "%00", "%ED%A0%80"])
queries = st.lists(st.tuples(query_keys, query_values), max_size=4).map(
    lambda kv: "&".join(f"{k}={v}" for k, v in kv))
header_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)
headers = st.dictionaries(
    st.sampled_from(["x-identity", "x-signature", "x-session", "x-client-version", "x-wallet-id", "content-type"]),
    header_values, max_size=4)
segments = st.text(alphabet="abcXYZ019-_.~%", min_size=1, max_size=10) | st.sampled_from(["%ED%A0%80", "%00", "%FF"])


def generate_requests(n: int) -> list[tuple]:
    """Run hypothesis synchronously and collect ``n`` generated requests.

    (pytest-twisted runs tests inside the reactor, where a hypothesis test
    cannot block on each request; so hypothesis generates, the async test
    replays.)"""
    out: list[tuple] = []

    @settings(max_examples=n, deadline=None, database=None)
    @given(route=st.sampled_from(build_router().routes), body=bodies, query=queries, hdrs=headers, seg=segments,
           signed=st.booleans(), json_type=st.booleans())
    def collect(route, body, query, hdrs, seg, signed, json_type):
        out.append((route, body, query, dict(hdrs), seg, signed, json_type))

    collect()
    return out


@pytest_twisted.ensureDeferred
async def test_generated_requests_never_500(api):
    w = await create_and_join(api.service, 1, 2)
    await w.as_copayer(api.service).create_address({})
    for route, body, query, hdrs, seg, signed, json_type in generate_requests(300):
        path = "/".join(seg if s.startswith(":") else s for s in route.path.split("/"))
        path += "?" + query if query else ""
        ct = "application/json" if json_type else hdrs.get("content-type", "text/plain")
        hdrs.pop("content-type", None)
        r = await api.client.request(
            route.method, path, raw=body, copayer=w.copayers[0] if signed else None, headers=hdrs, content_type=ct)
        assert r.status < 500, (route.method, path, body, hdrs, r.status, r.text)
        assert "Traceback" not in r.text
