"""bws.crypto and bws.jsnum: spec/api.md §1, §3.2–3.4, §11.1, §11.2."""

import json
import math

import pytest
from bip32 import BIP32
from coincurve import PrivateKey
from coincurve.ecdsa import cdata_to_der, der_to_cdata, deserialize_compact, serialize_compact
from coincurve.utils import GROUP_ORDER_INT

from bws.crypto import (
    copayer_id,
    derive_public_key,
    hash_message,
    js_json_stringify,
    request_key_auth_pubkey,
    request_message,
    request_signer,
    sha256d,
    sign_message,
    verify_message,
    verify_request_signature,
    xpub_network,
)
from bws.jsnum import js_number_str, js_parse_int, js_round, strip, to_fixed0

HOLA_SIG = (
    "3045022100d6186930e4cd9984e3168e15535e2297988555838ad10126d6c20d4ac0e74eb5"
    "02201095a6319ea0a0de1f1e5fb50f7bf10b8069de10e0083e23dbbf8de9b8e02785"
)
HOLA_PUB = "03bec86ad4a8a91fe7c11ec06af27246ec55094db3d86098b7d8b2f12afe47627f"

ROOT_XPRV = (
    "xprv9s21ZrQH143K2n4rV4AtAJFptEmd1tNMKCcSyQBCSuN5eq1dCUhcv6KQJS49joRxu8NNdFxy8yuw"
    "TtzCPNYUZvVGC7EPRm2st2cvE7oyTbB"
)
XPUB0 = (
    "xpub6DVmxcjRgZdHNSEcXSiFtweVwMSTc3TMwRJ45nJYvyqvLbK1poPerupqh87rSoz27wvckb1CKnGZ"
    "oLmLXSZyNGZtVd7neqSvdwJL6fceQpe"
)
REQ_PRIV = "a710be25950738a7d13637e2e09affd7f579a3479fd7cc024bd9459f8fba6659"
REQ_PUB = "026e3020913420a5b9425952627f0a074c9235e7a329869b322061f786e997ae0d"


# -- §11.1 ------------------------------------------------------------------


def test_sha256d_hola():
    assert sha256d("hola").hex() == "2f17965a30dbb82d20f6f7d24f2d13c74b715f3445c6a1ea2f64ec40a1b80241"
    assert hash_message("hola") == sha256d("hola")
    # the reference's hashMessage returns it reversed
    assert hash_message("hola")[::-1].hex() == "4102b8a140ec642feaa1c645345f714bc7132d4fd2f7f6202db8db305a96172f"


def test_verify_vector_true():
    assert verify_message("hola", HOLA_SIG, HOLA_PUB) is True


@pytest.mark.parametrize(
    "sig,pub",
    [
        (HOLA_SIG, "02555a2d45e309c00cc8c5090b6ec533c6880ab2d3bc970b3943def989b3373f16"),
        ("badsignature", HOLA_PUB),
        (None, HOLA_PUB),
        ("", HOLA_PUB),
        (HOLA_SIG, None),
        (HOLA_SIG, "zz"),
        (HOLA_SIG, "02" + "00" * 32),  # not on the curve
        (HOLA_SIG[:-2], HOLA_PUB),  # truncated DER
    ],
)
def test_verify_vector_false(sig, pub):
    assert verify_message("hola", sig, pub) is False


def test_verify_other_message_false():
    assert verify_message("hola!", HOLA_SIG, HOLA_PUB) is False


def _high_s(sig_hex: str) -> str:
    compact = serialize_compact(der_to_cdata(bytes.fromhex(sig_hex)))
    r, s = compact[:32], int.from_bytes(compact[32:], "big")
    return cdata_to_der(deserialize_compact(r + (GROUP_ORDER_INT - s).to_bytes(32, "big"))).hex()


def test_high_s_rejected():
    high = _high_s(HOLA_SIG)
    assert high != HOLA_SIG
    assert verify_message("hola", high, HOLA_PUB) is False


def test_sign_message_roundtrip_low_s_deterministic():
    sig = sign_message("hello world", REQ_PRIV)
    assert sig == sign_message("hello world", REQ_PRIV)  # RFC6979
    assert verify_message("hello world", sig, REQ_PUB)
    s = int.from_bytes(serialize_compact(der_to_cdata(bytes.fromhex(sig)))[32:], "big")
    assert s <= GROUP_ORDER_INT // 2


def test_uncompressed_pubkey_accepted():
    sig = sign_message("x", REQ_PRIV)
    uncompressed = PrivateKey(bytes.fromhex(REQ_PRIV)).public_key.format(compressed=False).hex()
    assert verify_message("x", sig, uncompressed)


# -- §11.2 ------------------------------------------------------------------


def test_wallet_key_pair():
    priv = "0dea92f1df6675085b5cdd965487bb862f84f2755bcb56fa45dbf5b387a6c4a0"
    pub = "026092daeed8ecb2212869395770e956ffc9bf453f803e700f64ffa70c97a00d80"
    assert PrivateKey(bytes.fromhex(priv)).public_key.format().hex() == pub
    assert verify_message("abc", sign_message("abc", priv), pub)


def test_copayer0_keys_from_root():
    root = BIP32.from_xpriv(ROOT_XPRV)
    assert root.get_xpub_from_path("m/44'/0'/0'") == XPUB0
    assert root.get_privkey_from_path("m/1'/0").hex() == REQ_PRIV
    assert root.get_pubkey_from_path("m/1'/0").hex() == REQ_PUB


@pytest.mark.parametrize(
    "coin,expected",
    [
        ("btc", "626452e5e0e35df4d9ae4d3e60653c9ae9a814f00c84dc40f5887069b18e2110"),
        ("bch", "671fee02a6c1c4de2e2609f9f9a6180dc03acfff6b759fe0b13a616ed4880065"),
        ("eth", "1e6f690ac07050b9c3badadbdc32e2a9aaf6936509889893eeca42dbec3a2d74"),
        ("try", "8baa971d536c2d5a1f36e1f070c40efb430cf6f66ca3f9c9afc208b30718e5a8"),
    ],
)
def test_copayer_ids(coin, expected):
    assert copayer_id(coin, XPUB0) == expected


def test_request_key_auth_pubkey():
    assert request_key_auth_pubkey(XPUB0) == "0274fd41eaf2ac9caec080a5f5b3c75262d729fdfd8e8e0002f8930e4beb91e3a3"


def test_derive_public_key_rejects_hardened_and_garbage():
    with pytest.raises(Exception):
        derive_public_key(XPUB0, "m/0'/1")
    with pytest.raises(Exception):
        derive_public_key("xpubgarbage", "m/0/0")


def test_xpub_network():
    assert xpub_network(XPUB0) == "livenet"
    tpub = BIP32.from_seed(bytes(32), network="test").get_xpub_from_path("m/44'/1'/0'")
    assert xpub_network(tpub) == "testnet"
    with pytest.raises(ValueError):
        xpub_network("nope")


# -- §3.4 request signatures -------------------------------------------------


def test_request_message_shape():
    assert request_message("GET", "/v1/txproposals/?r=48213", "{}") == "get|/v1/txproposals/?r=48213|{}"


def test_request_signature_get_without_body():
    url = "/v2/wallets/?includeExtendedInfo=1&twoStep=0&r=12345"
    sig = sign_message(request_message("get", url, "{}"), REQ_PRIV)
    assert verify_request_signature("GET", url, None, None, sig, [REQ_PUB])
    assert verify_request_signature("GET", url, b"", {}, sig, ["02" + "11" * 32, REQ_PUB])
    assert request_signer("GET", url, None, None, sig, ["bad", REQ_PUB]) == REQ_PUB
    # wrong url / key / missing signature
    assert not verify_request_signature("GET", url + "1", None, None, sig, [REQ_PUB])
    assert not verify_request_signature("GET", url, None, None, sig, [HOLA_PUB])
    assert not verify_request_signature("GET", url, None, None, None, [REQ_PUB])
    assert not verify_request_signature("GET", url, None, None, "xyz", [REQ_PUB])


def test_request_signature_raw_body_first():
    # A client whose JSON text is not what Python would re-serialise: the raw text wins.
    raw = '{"b":1,"a":"\\u00e9","n":1.0}'
    sig = sign_message(request_message("post", "/v1/addresses/", raw), REQ_PRIV)
    assert verify_request_signature("POST", "/v1/addresses/", raw, json.loads(raw), sig, [REQ_PUB])
    assert verify_request_signature("POST", "/v1/addresses/", raw.encode(), json.loads(raw), sig, [REQ_PUB])


def test_request_signature_reserialisation_fallback():
    body = {"name": "ñandú \u2028", "amount": 1e21, "f": 1.5e-7, "10": [1, 2.0], "2": None}
    js = '{"2":null,"10":[1,2],"name":"ñandú \u2028","amount":1e+21,"f":1.5e-7}'
    assert js_json_stringify(body) == js
    sig = sign_message(request_message("put", "/v1/preferences", js), REQ_PRIV)
    # raw text reformatted by something on the way: the re-serialisation matches
    pretty = json.dumps(body, indent=2)
    assert verify_request_signature("PUT", "/v1/preferences", pretty, json.loads(pretty), sig, [REQ_PUB])


@pytest.mark.parametrize(
    "value,expected",
    [
        ({}, "{}"),
        ([], "[]"),
        ({"a": [True, False, None]}, '{"a":[true,false,null]}'),
        ("q\"b\\s\b\f\n\r\t\x01\x1f\x7f", '"q\\"b\\\\s\\b\\f\\n\\r\\t\\u0001\\u001f\x7f"'),
        ("\ud800x", '"\\ud800x"'),  # lone surrogate escaped (well-formed stringify)
        ("😀", '"😀"'),
        ({"01": 1, "1": 2, "-1": 3, "4294967295": 4, "4294967294": 5}, '{"1":2,"4294967294":5,"01":1,"-1":3,"4294967295":4}'),
        (float("nan"), "null"),
        (float("inf"), "null"),
        (2**53 + 1, "9007199254740992"),
    ],
)
def test_js_json_stringify(value, expected):
    assert js_json_stringify(value) == expected


# -- §1 JS numeric emulation ---------------------------------------------------


@pytest.mark.parametrize(
    "x,expected",
    [
        (0, "0"),
        (-0.0, "0"),
        (123.0, "123"),
        (1.5, "1.5"),
        (-1.5, "-1.5"),
        (0.1 + 0.2, "0.30000000000000004"),
        (1e21, "1e+21"),
        (1.5e21, "1.5e+21"),
        (1e20, "100000000000000000000"),
        (123456789012345680000.0, "123456789012345680000"),
        (0.000001, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (1.2345e-10, "1.2345e-10"),
        (100, "100"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Infinity"),
    ],
)
def test_js_number_str(x, expected):
    assert js_number_str(x) == expected


def test_js_round():
    assert js_round(2.5) == 3
    assert js_round(-2.5) == -2
    assert js_round(2.4999) == 2
    assert js_round(2430.0) == 2430


def test_to_fixed0():
    assert to_fixed0(2.5) == 3
    assert to_fixed0(-2.5) == -3
    assert to_fixed0(0.5) == 1
    assert to_fixed0(1303.56) == 1304
    assert to_fixed0(395.76) == 396
    assert to_fixed0(1.005 * 1000) == 1005
    assert to_fixed0(0.1 * 1e8) == 10000000
    assert to_fixed0(13040.0) == 13040


def test_strip():
    assert strip(0.0004 * 1e8) == 40000
    assert 0.29 * 1e8 != 29000000
    assert strip(0.29 * 1e8) == 29000000
    assert strip(5.7e-07 * 1e8) == 57
    assert strip(0.00018 * 1e8) == 18000


def test_js_parse_int():
    assert js_parse_int("12px") == 12
    assert js_parse_int("  -42") == -42
    assert js_parse_int("0x1f") == 31
    assert js_parse_int(1e21) == 1
    assert js_parse_int(13040) == 13040
    assert js_parse_int("3.9") == 3
    assert math.isnan(js_parse_int("abc"))
    assert math.isnan(js_parse_int(""))
