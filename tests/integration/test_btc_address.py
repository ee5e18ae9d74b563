"""bws.chains.address: spec/api.md §6.1, §9.2, §11.3, §11.4, §12.19."""

import pytest
from bip32 import BIP32
from bitcoin.base58 import CBase58Data
from bitcoin.core import Hash160
from coincurve import PrivateKey

from bws.chains.address import (
    address_from_script,
    derive_address,
    eth_address_from_pubkey,
    is_valid_address,
    multisig_redeem_script,
    parse_address,
    script_for_address,
    validate_output_address,
)
from bws.errors import ClientError

XPUB0 = (
    "xpub6DVmxcjRgZdHNSEcXSiFtweVwMSTc3TMwRJ45nJYvyqvLbK1poPerupqh87rSoz27wvckb1CKnGZ"
    "oLmLXSZyNGZtVd7neqSvdwJL6fceQpe"
)
XPUB1 = (
    "xpub6CAa5y1xxykKjpHH9coq1EqfKX8Si5wsdggS9UU535DQWcQ4jKtVcD7qi9TCvhV31N3QCLdEaftL"
    "jNdXv8R72XiorEnrTfn1ULjA35RgQVp"
)
BIP45_0 = (
    "xpub68pKcb8jHWqWuTgPz2czjFSJJBJTsTNdd87Mgh5bVz4sNFBJBus5KyptGBWgA4V6LGCi12s4Mw4S"
    "1JC2GkqX4NJ4kfQ47XqRZLbyM2DY9Jd"
)
BIP45_1 = (
    "xpub68GyCcdsCV9A3NvFqJP7hr8t3sm26vGausUfYXm5f6CqPwKLKBKvy9MDSUA6ot6WMzXCWFyWCFfZ"
    "yhcqK4uZGPZL83rKW9KfuGLPJ6P38Ex"
)

TABLE_11_3 = [
    ("m/0/0", "03e00bb0cb0fdf50489df10dbeb0004c5262f44d1cfafaf340772edf9aa54c522f",
     "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG", "CbWsiNjh18ynQYc5jfYhhespEGrAaW8YUq",
     "0xE299d49C2cf9BfaFb7C6E861E80bb8c83f961622"),
    ("m/0/1", "024d27ca79a3ed27a143cb9d1dff01e4e6445294679a700ca404ca449211d08aa7",
     "1LHgMiTHq92Re5ZZXB4YjdjkyahfKGuuA6", None,
     "0x42501258a5aF89A39E8efB5223c81E242A3c1fEd"),
    ("m/0/2", "033cba4f909e998fe68e7a90680a0813b6ef528beb035013b7f885bb0ec556869a",
     "1GdXraZ1gtoVAvBh49D4hK9xLm6SKgesoE", None,
     "0x22C23381408944dC57AB3B949F8b6a7B416c1fe8"),
    ("m/1/0", "02129acdcc600694b3ce55a2d05244186e806174eb0bafde20e5a6395ded647857",
     "1FUzgKcyPJsYwDLUEVJYeE2N3KVaoxTjGS", None,
     "0x2b4117EE8dDE47A030bC3024918ddd870cfA6f12"),
]


@pytest.mark.parametrize("path,pub,btc,bch,eth", TABLE_11_3)
def test_vectors_11_3(path, pub, btc, bch, eth):
    a = derive_address([XPUB0], path, "btc", "livenet", "P2PKH", 1)
    assert a == {"address": btc, "path": path, "publicKeys": [pub], "type": "P2PKH", "network": "livenet"}
    if bch:
        assert derive_address([XPUB0], path, "bch", "livenet", "P2PKH", 1)["address"] == bch
    for coin in ("eth", "try"):
        e = derive_address([XPUB0], path, coin, "livenet", "P2PKH", 1)
        assert e == {"address": eth, "path": path, "publicKeys": [pub], "type": "P2PKH", "network": "livenet"}


def test_eip55_sanity_private_key_one():
    pub = PrivateKey((1).to_bytes(32, "big")).public_key.format().hex()
    assert eth_address_from_pubkey(pub) == "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"


def test_vector_11_4_bip44_2of2():
    a = derive_address([XPUB0, XPUB1], "m/0/0", "btc", "livenet", "P2SH", 2)
    assert a["address"] == "36q2G5FMGvJbPgAVEaiyAsFGmpkhPKwk2r"
    assert a["type"] == "P2SH" and a["path"] == "m/0/0"
    # ring order, not sorted
    assert a["publicKeys"][0] == "03e00bb0cb0fdf50489df10dbeb0004c5262f44d1cfafaf340772edf9aa54c522f"
    # the redeem script sorts: swapping the ring gives the same address
    assert derive_address([XPUB1, XPUB0], "m/0/0", "btc", "livenet", "P2SH", 2)["address"] == a["address"]


def test_vector_11_4_bip45_shared_branch():
    a = derive_address([BIP45_0, BIP45_1], "m/2147483647/0/0", "btc", "livenet", "P2SH", 2)
    assert a["address"] == "3BVJZ4CYzeTtawDtgwHvWV5jbvnXtYe97i"


def test_redeem_script_layout():
    keys = ["03" + "bb" * 32, "02" + "aa" * 32, "03" + "aa" * 32]
    rs = multisig_redeem_script(keys, 2)
    assert rs[0] == 0x52 and rs[-2] == 0x53 and rs[-1] == 0xAE
    assert rs[1] == 33 and rs[2:35].hex() == "02" + "aa" * 32
    assert rs[36:69].hex() == "03" + "aa" * 32
    assert rs[70:103].hex() == "03" + "bb" * 32


def test_testnet_and_bch_testnet_versions():
    tpub = BIP32.from_seed(bytes(32), network="test").get_xpub_from_path("m/44'/1'/0'")
    p2pkh = derive_address([tpub], "m/0/0", "btc", "testnet", "P2PKH", 1)["address"]
    assert p2pkh[0] in "mn"
    p2sh = derive_address([tpub, XPUB0], "m/0/0", "btc", "testnet", "P2SH", 1)["address"]
    assert p2sh[0] == "2"
    assert derive_address([tpub], "m/0/0", "bch", "testnet", "P2PKH", 1)["address"] == p2pkh
    assert parse_address(p2pkh).network == "testnet"
    assert parse_address(p2sh).type == "P2SH"


def test_bch_legacy_p2sh_prefix():
    a = derive_address([XPUB0, XPUB1], "m/0/0", "bch", "livenet", "P2SH", 2)
    assert a["address"].startswith("H")
    # same hash as the BTC address
    assert parse_address(a["address"], "bch").script == parse_address("36q2G5FMGvJbPgAVEaiyAsFGmpkhPKwk2r").script


def test_derive_errors():
    with pytest.raises(ValueError):
        derive_address([XPUB0, XPUB1], "m/0/0", "btc", "livenet", "P2PKH", 1)
    with pytest.raises(Exception):
        derive_address(["xpubbad"], "m/0/0")
    with pytest.raises(ValueError):
        derive_address([XPUB0], "m/0/0", "ltc", "livenet")


# -- parsing -----------------------------------------------------------------


def test_script_for_address_vectors():
    assert script_for_address("18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7") == "76a91451224bca38efcaa31d5340917c3f3f713b8b20e488ac"
    assert script_for_address("3CauZ5JUFfmSAx2yANvCRoNXccZ3YSUjXH") == "a914778192003f0e9e1d865c082179cc3dae5464b03d87"
    assert script_for_address("CbWsiNjh18ynQYc5jfYhhespEGrAaW8YUq", "bch") == script_for_address(
        "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG"
    )
    assert script_for_address("CbWsiNjh18ynQYc5jfYhhespEGrAaW8YUq") == script_for_address(
        "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG"
    )


def test_address_from_script_roundtrip():
    for addr in ("18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7", "3CauZ5JUFfmSAx2yANvCRoNXccZ3YSUjXH"):
        assert address_from_script(script_for_address(addr)) == addr
    assert address_from_script(script_for_address("1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG"), "bch") == (
        "CbWsiNjh18ynQYc5jfYhhespEGrAaW8YUq"
    )
    assert address_from_script("6a0568656c6c6f") is None


@pytest.mark.parametrize(
    "address,coin",
    [
        ("", "btc"),
        ("notanaddress", "btc"),
        ("1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CH", "btc"),  # bad checksum
        ("1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG", "bch"),  # BTC version on BCH
        ("CbWsiNjh18ynQYc5jfYhhespEGrAaW8YUq", "btc"),  # BCH version on BTC
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t5", "btc"),  # bad bech32 checksum
        ("bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", "bch"),  # segwit is BTC only (issue 18)
        ("0xE299d49C2cf9BfaFb7C6E861E80bb8c83f961622", "btc"),
        ("0xE299d49C2cf9BfaFb7C6E861E80bb8c83f961623", "eth"),  # bad EIP-55 checksum
        ("0xe299d49c2cf9bfafb7c6e861e80bb8c83f9616", "eth"),  # too short
        ("0xg299d49c2cf9bfafb7c6e861e80bb8c83f961622", "eth"),
        ("1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG", "eth"),
    ],
)
def test_invalid_addresses(address, coin):
    with pytest.raises(ClientError) as ei:
        parse_address(address, coin)
    assert ei.value.code == "INVALID_ADDRESS"
    assert not is_valid_address(address, coin)


def test_eth_addresses_case_insensitive_canonicalised():
    for form in ("0xe299d49c2cf9bfafb7c6e861e80bb8c83f961622", "0xE299D49C2CF9BFAFB7C6E861E80BB8C83F961622"):
        p = parse_address(form, "eth")
        assert p.address == "0xE299d49C2cf9BfaFb7C6E861E80bb8c83f961622"
        assert p.network == "livenet" and p.script == b""
    assert parse_address("0xE299d49C2cf9BfaFb7C6E861E80bb8c83f961622", "try").network == "livenet"


def test_validate_output_address_network():
    assert validate_output_address("18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7", "btc", "livenet").type == "P2PKH"
    with pytest.raises(ClientError) as ei:
        validate_output_address("18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7", "btc", "testnet")
    assert ei.value.code == "INCORRECT_ADDRESS_NETWORK"
    # eth/try: always livenet
    assert validate_output_address("0xE299d49C2cf9BfaFb7C6E861E80bb8c83f961622", "eth", "livenet")


def test_regtest_litecoind_q_address_is_testnet_p2sh():
    h = Hash160(b"redeem")
    q = str(CBase58Data.from_bytes(h, 0x3A))
    two = str(CBase58Data.from_bytes(h, 0xC4))
    assert q[0] == "Q" and two[0] == "2"
    pq, p2 = parse_address(q), parse_address(two)
    assert pq.network == p2.network == "testnet"
    assert pq.script == p2.script
    assert pq.type == "P2SH"
