"""Issue 18, first slice: BTC wallets pay P2WPKH, P2WSH (bech32) and P2TR (bech32m).

No servers. Expected scripts, serialisations, sighashes and signatures come from
tests/vectors/btc_segwit.json (made by bitcore-wallet-client 11.5.2 and its
bitcore-lib; docs/spec/protocol-bwc11.md §8) and from the BIP173/BIP350 test
vectors. Wrong-encoding strings are made with embit's encoder (the library the
server decodes with is the one that encodes here only for the checksum kind).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from embit.bech32 import Encoding, bech32_encode, convertbits

from bws.chains.address import (
    address_from_script,
    is_valid_address,
    parse_address,
    script_for_address,
    validate_output_address,
)
from bws.chains.txbuild import build_tx, unsigned_raw, verify_input_signatures
from bws.chains.txsize import estimate_size, output_sizes
from bws.errors import ClientError
from bws.model import TxProposal

VECTORS = json.loads((Path(__file__).resolve().parents[1] / "vectors" / "btc_segwit.json").read_text())
SEGWIT = ("P2WPKH", "P2WSH", "P2TR")
TYPES = ("P2PKH", "P2SH") + SEGWIT
OTHER = {"livenet": "testnet", "testnet": "livenet"}


def _proposal(name: str) -> dict:
    return copy.deepcopy(next(p for p in VECTORS["proposals"] if p["name"] == name))


def _model(txp: dict) -> TxProposal:
    return TxProposal.from_dict({"version": 3, **txp})


def _error(address, coin="btc", network=None) -> str:
    with pytest.raises(ClientError) as ei:
        if network is None:
            parse_address(address, coin)
        else:
            validate_output_address(address, coin, network)
    return ei.value.code


def _encode(encoding, hrp: str, version: int, program: bytes) -> str:
    return bech32_encode(encoding, hrp, [version] + convertbits(program, 8, 5))


# ------------------------------------------------------------------ parsing


@pytest.mark.parametrize("network", ["testnet", "livenet"])
@pytest.mark.parametrize("kind", TYPES)
def test_destination_of_each_type_parses_to_the_vector_script(network, kind):
    dest = VECTORS["destinations"][network][kind]
    parsed = validate_output_address(dest["address"], "btc", network)
    assert (parsed.network, parsed.type, parsed.script.hex()) == (network, kind, dest["scriptPubKey"])
    assert script_for_address(dest["address"], "btc") == dest["scriptPubKey"]
    assert address_from_script(dest["scriptPubKey"], "btc", network) == dest["address"]


@pytest.mark.parametrize("network", ["testnet", "livenet"])
@pytest.mark.parametrize("kind", TYPES)
def test_destination_of_the_other_network_is_incorrect_network(network, kind):
    address = VECTORS["destinations"][OTHER[network]][kind]["address"]
    assert _error(address, "btc", network) == "INCORRECT_ADDRESS_NETWORK"


def test_every_vector_wallet_address_is_a_valid_destination():
    # The client's own derivations (segwit wallets' receive/change addresses).
    seen = set()
    for wallet in VECTORS["wallets"].values():
        for network, addresses in wallet["addresses"].items():
            for a in addresses:
                parsed = validate_output_address(a["address"], "btc", network)
                assert (parsed.type, parsed.script.hex()) == (a["type"], a["scriptPubKey"])
                assert address_from_script(a["scriptPubKey"], "btc", network) == a["address"]
                seen.add(a["type"])
    assert seen == set(TYPES)


def test_regtest_hrp_is_our_testnet():
    program = bytes.fromhex(VECTORS["destinations"]["testnet"]["P2WPKH"]["scriptPubKey"][4:])
    address = _encode(Encoding.BECH32, "bcrt", 0, program)
    parsed = validate_output_address(address, "btc", "testnet")
    assert (parsed.type, parsed.script[2:]) == ("P2WPKH", program)
    assert _error(address, "btc", "livenet") == "INCORRECT_ADDRESS_NETWORK"


@pytest.mark.parametrize("kind", SEGWIT)
def test_litecoin_hrps_are_invalid(kind):
    dest = VECTORS["destinations"]["testnet"][kind]
    assert _error(dest["rltcRegtest"]) == "INVALID_ADDRESS"
    version, program = (0 if kind != "P2TR" else 1), bytes.fromhex(dest["scriptPubKey"][4:])
    enc = Encoding.BECH32 if version == 0 else Encoding.BECH32M
    assert _error(_encode(enc, "ltc", version, program)) == "INVALID_ADDRESS"


@pytest.mark.parametrize("kind", SEGWIT)
@pytest.mark.parametrize("network", ["testnet", "livenet"])
def test_bch_refuses_segwit(kind, network):
    address = VECTORS["destinations"][network][kind]["address"]
    assert _error(address, "bch") == "INVALID_ADDRESS"
    assert _error(address, "bch", network) == "INVALID_ADDRESS"
    assert not is_valid_address(address, "bch")
    script = VECTORS["destinations"][network][kind]["scriptPubKey"]
    assert address_from_script(script, "bch", network) is None


@pytest.mark.parametrize("kind", SEGWIT)
def test_uppercase_is_accepted_mixed_case_is_not(kind):
    dest = VECTORS["destinations"]["livenet"][kind]
    parsed = parse_address(dest["address"].upper(), "btc")
    assert (parsed.script.hex(), parsed.address) == (dest["scriptPubKey"], dest["address"])
    mixed = dest["address"][:4] + dest["address"][4:].upper()
    assert _error(mixed) == "INVALID_ADDRESS"


@pytest.mark.parametrize("kind", SEGWIT)
def test_bad_checksum_is_invalid(kind):
    address = VECTORS["destinations"]["testnet"][kind]["address"]
    last = "q" if address[-1] != "q" else "p"
    assert _error(address[:-1] + last) == "INVALID_ADDRESS"
    assert _error(address[:10] + address[11:]) == "INVALID_ADDRESS"  # a character dropped


@pytest.mark.parametrize("kind", SEGWIT)
def test_checksum_kind_must_match_the_version(kind):
    # BIP350: v0 must use bech32, v1+ bech32m; the other constant is refused.
    dest = VECTORS["destinations"]["testnet"][kind]
    version = 0 if kind != "P2TR" else 1
    program = bytes.fromhex(dest["scriptPubKey"][4:])
    wrong = Encoding.BECH32M if version == 0 else Encoding.BECH32
    right = Encoding.BECH32 if version == 0 else Encoding.BECH32M
    assert _encode(right, "tb", version, program) == dest["address"]
    assert _error(_encode(wrong, "tb", version, program)) == "INVALID_ADDRESS"


@pytest.mark.parametrize(
    "version,length",
    [(0, 16), (0, 21), (0, 31), (0, 33), (1, 20), (1, 31), (1, 33), (1, 40), (2, 32), (16, 2)],
)
def test_witness_version_and_program_length_rules(version, length):
    enc = Encoding.BECH32 if version == 0 else Encoding.BECH32M
    address = _encode(enc, "bc", version, bytes(range(1, length + 1)))
    assert _error(address) == "INVALID_ADDRESS"
    script = bytes([0 if version == 0 else 0x50 + version, length]) + bytes(range(1, length + 1))
    assert address_from_script(script, "btc", "livenet") is None


@pytest.mark.parametrize(
    "address,script",
    [  # BIP173/BIP350 valid vectors that are P2WPKH/P2WSH/P2TR
        ("BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4", "0014751e76e8199196d454941c45d1b3a323f1433bd6"),
        (
            "tb1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3q0sl5k7",
            "00201863143c14c5166804bd19203356da136c985678cd4d27a1b8c6329604903262",
        ),
        (
            "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
            "512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
        ),
    ],
)
def test_bip_vectors(address, script):
    assert parse_address(address, "btc").script.hex() == script


@pytest.mark.parametrize(
    "address",
    [  # BIP350 invalid vectors
        "tc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vq5zuyut",  # unknown HRP
        "bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqh2y7hd",  # v1 with bech32
        "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh",  # v0 with bech32m
        "bc1p38j9r5y49hruaue7wxjce0updqjuyyx0kh56v8s25huc6995vvpql3jow4",  # invalid character
        "bc1pw5dgrnzv",  # program of 1 byte
        "BC1QR508D6QEJXTDG4Y5R3ZARVARYV98GJ9P",  # v0 program of 16 bytes
        "bc1gmk9yu",  # empty data
        "tb1",
        "1",
    ],
)
def test_bip_invalid_vectors(address):
    assert _error(address) == "INVALID_ADDRESS"


# ------------------------------------------------------------------ proposals


def test_output_sizes_follow_upstream_for_segwit_only():
    outs = [{"toAddress": VECTORS["destinations"]["testnet"][k]["address"], "amount": 1000} for k in TYPES]
    outs.append({"script": "6a0568656c6c6f", "amount": 0})
    # P2PKH and P2SH keep the 2.5.1 rule (34), segwit is upstream's script + 9.
    assert output_sizes(outs, "btc") == [34, 34, 31, 43, 43, 34]


@pytest.mark.parametrize(
    "name,size",
    [
        # (26 + 147 + 31 + 43 + 34 change) * 1.02
        ("p2pkh_pays_bech32_and_bech32m", 287),
        # (26 + (2*72 + 3*36 + 44) + 43 + 43 + 34 change) * 1.02
        ("p2sh_2of3_pays_p2wsh_and_p2tr", 451),
    ],
)
def test_estimated_size_with_segwit_destinations(name, size):
    assert estimate_size(_model(_proposal(name)["txp"])) == size


@pytest.mark.parametrize("name", ["p2pkh_pays_bech32_and_bech32m", "p2sh_2of3_pays_p2wsh_and_p2tr"])
def test_unsigned_serialisation_equals_the_client(name):
    vec = _proposal(name)
    assert unsigned_raw(_model(vec["txp"])) == vec["unsigned"]
    built = build_tx(_model(vec["txp"]))
    for sh in vec["sighashes"]:
        assert built.sighash(sh["input"]).hex() == sh["digest"]


def test_p2pkh_paying_bech32_and_bech32m_signed_by_the_client():
    vec = _proposal("p2pkh_pays_bech32_and_bech32m")
    xpub = VECTORS["wallets"][vec["wallet"]]["copayers"][0]["xPubKey"]["testnet"]
    built = verify_input_signatures(_model(vec["txp"]), xpub, vec["signatures"]["A"])
    assert built.raw == vec["signed"]
    assert built.txid == vec["txid"]


def test_p2sh_2of3_paying_p2wsh_and_p2tr_signed_by_two_copayers():
    vec = _proposal("p2sh_2of3_pays_p2wsh_and_p2tr")
    copayers = VECTORS["wallets"][vec["wallet"]]["copayers"]
    txp = _model(vec["txp"])
    built = verify_input_signatures(txp, copayers[0]["xPubKey"]["testnet"], vec["signatures"]["A"])
    assert not built.inputs[0].is_fully_signed()
    txp.accept(copayers[0]["copayerId"]["testnet"], vec["signatures"]["A"], copayers[0]["xPubKey"]["testnet"])
    built = verify_input_signatures(txp, copayers[1]["xPubKey"]["testnet"], vec["signatures"]["B"])
    assert built.raw == vec["signed"]


def test_a_bad_client_signature_is_refused():
    vec = _proposal("p2pkh_pays_bech32_and_bech32m")
    xpub = VECTORS["wallets"][vec["wallet"]]["copayers"][0]["xPubKey"]["testnet"]
    other = _proposal("p2pkh_pays_bech32_and_bech32m")
    other["txp"]["outputs"][1]["amount"] += 1  # the signature no longer covers this tx
    other["txp"]["fee"] -= 1
    with pytest.raises(ClientError) as ei:
        verify_input_signatures(_model(other["txp"]), xpub, vec["signatures"]["A"])
    assert ei.value.code == "BAD_SIGNATURES"
