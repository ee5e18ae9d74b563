"""Byte-for-byte: the unsigned transaction our server builds for a proposal equals the one
bitcore-wallet-client 6.7.5 builds from the same JSON (the text behind proposalSignature).
No server process: the node driver only runs the client's Utils.buildTx.
"""

from __future__ import annotations

import copy

import coincurve
import pytest

from bws.chains.txbuild import unsigned_raw
from tests.interop.harness import BwcDriver
from tests.integration.test_btc_tx import model, vector_txp

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    d = BwcDriver("http://127.0.0.1:9/unused", tmp_path_factory.mktemp("bwc-serialisation"))
    yield d
    d.close()


def _pub(i: int) -> str:
    return coincurve.PrivateKey((i + 1).to_bytes(32, "big")).public_key.format(compressed=True).hex()


def _multisig_txp(m: int, n: int, n_inputs: int = 1) -> dict:
    txp = copy.deepcopy(vector_txp())
    txp.update(network="testnet", requiredSignatures=m, walletN=n, fee=12_345, outputOrder=[1, 0, 2])
    txp["inputs"] = [
        {"txid": f"{k + 1:064x}", "vout": k, "satoshis": 50_000_000, "path": f"m/0/{k}",
         "publicKeys": [_pub(10 * k + j) for j in range(n)]}
        for k in range(n_inputs)
    ]
    txp["outputs"] = [
        {"amount": 10_000_000, "toAddress": "mipcBbFg9gMiCh81Kj8tqqdgoZub1ZJRfn"},
        {"amount": 20_000_000, "toAddress": "2MzQwSSnBHWHqSAqtTVQ6v47XtaisrJa1Vc"},
    ]
    txp["changeAddress"] = {"address": "2N1SP7r92ZZJvYKG2oNtzPwYnzw62up7mTo"}
    return txp


CASES = {
    "spec-11.5-2of2": vector_txp(),  # 71-byte redeem script: direct push
    "2of3-two-inputs": _multisig_txp(2, 3, n_inputs=2),  # 105 bytes: OP_PUSHDATA1
    "3of5": _multisig_txp(3, 5),
    "1of1-p2pkh": {**_multisig_txp(1, 1), "addressType": "P2PKH"},
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_server_unsigned_raw_equals_bwc(driver, name):
    txp = CASES[name]
    assert unsigned_raw(model(txp)) == driver.call("-", "buildTx", txp=txp)["unsigned"]
