"""Issue 15 finding 1: deep JSON must never crash the API process.

80,000-100,000 '[' POSTed to any path under the base path (no auth, even an
unknown route) segfaulted ``python -m bws``: eth_account's import of py_ecc
raises the recursion limit to 100,000 and the C JSON parser then overflowed the
C stack instead of raising.  The body's nesting is now checked on the text
before parsing (bws/http/jsonbody.py json_too_deep) and every process pins its recursion
limit (bws/reactor.py).  These tests run against the real process, since the
crash killed the process, not a request.
"""

from __future__ import annotations

import uuid

import pytest
import requests

from bws.http.jsonbody import MAX_JSON_DEPTH, json_too_deep
from tests.bws_process import start_bws


@pytest.fixture
def bws_proc(mongo_server, tmp_path):
    db = "depth_" + uuid.uuid4().hex[:10]
    p = start_bws(mongo_server.uri(db), tmp_path)
    yield p
    p.stop()
    with mongo_server.sync_client() as c:
        c.drop_database(db)


def _alive(base: str) -> bool:
    return requests.get(base + "/v1/version/", timeout=5).status_code == 200


@pytest.mark.parametrize("depth", [80_000, 100_000])
def test_deep_bodies_answer_4xx_and_the_process_lives(bws_proc, depth):
    bodies = [b"[" * depth, b'{"a":' * (depth // 5) + b"1", b"[" * depth + b"]" * depth]
    for path in ("/v1/no/such/route/", "/v2/wallets/", "/v1/txproposals/"):
        for body in bodies:
            r = requests.post(bws_proc.base + path, data=body, headers={"Content-Type": "application/json"}, timeout=30)
            assert 400 <= r.status_code < 500, (path, len(body), r.status_code, r.text[:200])
            assert "Traceback" not in r.text
            assert _alive(bws_proc.base), f"API died after {len(body)} bytes to {path}"
    assert bws_proc.proc.alive(), bws_proc.proc.tail()


def test_depth_is_counted_on_the_text_not_inside_strings():
    limit = MAX_JSON_DEPTH
    assert not json_too_deep("[" * limit + "]" * limit)
    assert json_too_deep("[" * (limit + 1) + "]" * (limit + 1))
    assert json_too_deep('{"a":' * (limit + 1) + "1" + "}" * (limit + 1))
    # brackets inside strings (escaped quotes included) are text, not nesting
    assert not json_too_deep('{"note": "' + "[" * 5000 + '\\"' + "{" * 5000 + '"}')
    # many siblings are wide, not deep
    assert not json_too_deep("[" + ",".join(["[]"] * 10_000) + "]")
