"""bws.chains.txbuild: spec/api.md §6.8, §6.10, §11.5, §12.37, §12.40, §12.48, §12.49 (pure parts)."""

import copy

import pytest
from bip32 import BIP32
from bitcoin.core import CTransaction
from bitcoin.core.script import CScript
from bitcoin.core.scripteval import (
    SCRIPT_VERIFY_DERSIG,
    SCRIPT_VERIFY_LOW_S,
    SCRIPT_VERIFY_NULLDUMMY,
    SCRIPT_VERIFY_P2SH,
    SCRIPT_VERIFY_STRICTENC,
    VerifyScript,
)
from coincurve import PrivateKey

from bws.chains.address import derive_address, script_for_address
from bws.chains.errors import TxBuildError
from bws.chains.txbuild import (
    build_tx,
    check_tx,
    signed_raw,
    signed_tx,
    txid_of,
    unsigned_raw,
    verify_input_signatures,
)
from bws.chains.txsize import estimate_fee, estimate_size
from bws.errors import ClientError
from bws.model import TxProposal

# -- §11.5 -------------------------------------------------------------------

VEC_UNSIGNED = (
    # What bitcore-wallet-client 6.7.5 itself serialises for this proposal (Utils.buildTx(txp)
    # .uncheckedSerialize(), run with the npm package): the P2SH input carries OP_0 <redeemScript>.
    # spec/api.md §11.5 prints an empty scriptSig here; the real client never signs that form.
    "0100000001ab069f7073be9b491bb1ad4233a45d2e383082ccc7206df905662d6d8499e66e0800000049004752210319008ffe1b3e208f5ebed8f46495c056763f87b07930a7027a92ee477fb0cb0f2103b5f035af8be40d0db5abb306b7754949ab39032cf99ad177691753b37d10130152aeffffffff0380969800000000001976a91451224bca38efcaa31d5340917c3f3f713b8b20e488ac002d3101000000001976a91451224bca38efcaa31d5340917c3f3f713b8b20e488ac70f62b040000000017a914778192003f0e9e1d865c082179cc3dae5464b03d8700000000"
)
VEC_SIG = (
    "304402201d210f731fa8cb8473ce49554382ad5d950c963d48b173a0591f13ed8cee10ce022027b30dc3a55c46b1f977a72491"
    "d338fc14b6d13a7b1a7c5a35950d8543c1ced6"
)
VEC_XPUB = (
    "xpub661MyMwAqRbcFLRkhYzK8eQdoywNHJVsJCMQNDoMks5bZymuMcyDgYfnVQYq2Q9npnVmdTAthYGc3N3uxm5sEdnTpSqBc4YYTAhNnoSxCm9"
)
VEC_PARTIAL = (
    "0100000001ab069f7073be9b491bb1ad4233a45d2e383082ccc7206df905662d6d8499e66e08000000910047304402201d210f"
    "731fa8cb8473ce49554382ad5d950c963d48b173a0591f13ed8cee10ce022027b30dc3a55c46b1f977a72491d338fc14b6d13a"
    "7b1a7c5a35950d8543c1ced6014752210319008ffe1b3e208f5ebed8f46495c056763f87b07930a7027a92ee477fb0cb0f2103"
    "b5f035af8be40d0db5abb306b7754949ab39032cf99ad177691753b37d10130152aeffffffff0380969800000000001976a914"
    "51224bca38efcaa31d5340917c3f3f713b8b20e488ac002d3101000000001976a91451224bca38efcaa31d5340917c3f3f713b"
    "8b20e488ac70f62b040000000017a914778192003f0e9e1d865c082179cc3dae5464b03d8700000000"
)


def vector_txp():
    return {
        "coin": "btc",
        "network": "livenet",
        "inputs": [
            {
                "txid": "6ee699846d2d6605f96d20c7cc8230382e5da43342adb11b499bbe73709f06ab",
                "vout": 8,
                "satoshis": 100000000,
                "path": "m/2147483647/0/1",
                "publicKeys": [
                    "0319008ffe1b3e208f5ebed8f46495c056763f87b07930a7027a92ee477fb0cb0f",
                    "03b5f035af8be40d0db5abb306b7754949ab39032cf99ad177691753b37d101301",
                ],
            }
        ],
        "inputPaths": ["m/2147483647/0/1"],
        "requiredSignatures": 2,
        "walletN": 2,
        "addressType": "P2SH",
        "outputs": [
            {"amount": 10000000, "toAddress": "18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7"},
            {"amount": 20000000, "toAddress": "18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7"},
        ],
        "fee": 10000,
        "changeAddress": {"address": "3CauZ5JUFfmSAx2yANvCRoNXccZ3YSUjXH"},
        "outputOrder": [0, 1, 2],
        "actions": [],
    }


def model(doc: dict) -> TxProposal:
    """The chain functions take the model: a v3 proposal from its wire dict."""
    return TxProposal.from_dict({"version": 3, **doc})


def verifies(doc: dict, xpub: str, sigs) -> bool:
    """verify_input_signatures as a yes/no (it raises BAD_SIGNATURES otherwise)."""
    try:
        verify_input_signatures(model(doc), xpub, sigs)
    except ClientError as e:
        assert e.code == "BAD_SIGNATURES"
        return False
    return True


def test_vector_estimated_size():
    assert estimate_size(model(vector_txp())) == 396


def test_vector_unsigned_raw():
    assert unsigned_raw(model(vector_txp())) == VEC_UNSIGNED


def test_vector_signature_and_partial_raw():
    txp = vector_txp()
    built = verify_input_signatures(model(txp), VEC_XPUB, [VEC_SIG])
    # the verified build is the signed transaction itself (no second build needed)
    assert built.raw == VEC_PARTIAL and built.txid == txid_of(VEC_PARTIAL)
    txp["actions"].append({"type": "accept", "copayerId": "c1", "xpub": VEC_XPUB, "signatures": [VEC_SIG]})
    assert signed_raw(model(txp)) == VEC_PARTIAL
    # unsigned raw is unaffected by actions
    assert unsigned_raw(model(txp)) == VEC_UNSIGNED


@pytest.mark.parametrize(
    "sigs",
    [
        [],
        [VEC_SIG, VEC_SIG],
        ["3044" + "00" * 10],
        ["zz"],
        [None],
        "notalist",
        [VEC_SIG[:-2] + ("d7" if VEC_SIG[-2:] != "d7" else "d8")],
    ],
)
def test_vector_bad_signatures(sigs):
    with pytest.raises(ClientError) as ei:
        verify_input_signatures(model(vector_txp()), VEC_XPUB, sigs)
    assert ei.value.code == "BAD_SIGNATURES"


def test_vector_signature_wrong_xpub_or_path():
    other = BIP32.from_seed(b"\x01" * 32).get_xpub_from_path("m/45'")
    assert verifies(vector_txp(), other, [VEC_SIG]) is False
    txp = vector_txp()
    txp["inputPaths"] = ["m/2147483647/0/2"]
    assert verifies(txp, VEC_XPUB, [VEC_SIG]) is False


def test_output_order_permutation():
    txp = vector_txp()
    txp["outputOrder"] = [2, 0, 1]
    tx = build_tx(model(txp)).tx
    assert [o.nValue for o in tx.vout] == [100000000 - 30000000 - 10000, 10000000, 20000000]
    # slots beyond the number of outputs are dropped (no change output here)
    txp = vector_txp()
    txp["changeAddress"] = None
    txp["outputs"][1]["amount"] = 100000000 - 10000000 - 10000
    txp["outputOrder"] = [2, 1, 0]
    assert [o.nValue for o in build_tx(model(txp)).tx.vout] == [100000000 - 10000000 - 10000, 10000000]


def test_output_with_script_and_duplicate_inputs():
    txp = vector_txp()
    txp["outputs"][1] = {"amount": 20000000, "script": "76a914" + "11" * 20 + "88ac"}
    tx = build_tx(model(txp)).tx
    assert tx.vout[1].scriptPubKey.hex() == "76a914" + "11" * 20 + "88ac"
    # duplicate txid:vout is ignored by the builder
    txp = vector_txp()
    txp["inputs"].append(copy.deepcopy(txp["inputs"][0]))
    assert len(build_tx(model(txp)).tx.vin) == 1


def test_build_assertions():
    txp = vector_txp()
    txp["fee"] = 20_000_000  # above MAX_TX_FEE 0.1 BTC
    with pytest.raises(TxBuildError):
        build_tx(model(txp))
    txp = vector_txp()
    txp["outputs"][0]["amount"] = 2e8  # more out than in
    with pytest.raises(TxBuildError):
        build_tx(model(txp))
    txp = vector_txp()
    txp["outputs"][0]["amount"] = 1.5
    with pytest.raises(TxBuildError, match="Output satoshis are invalid"):
        build_tx(model(txp))
    txp = vector_txp()
    txp["outputs"][0]["toAddress"] = "bogus"
    with pytest.raises(ClientError):
        build_tx(model(txp))


# -- checkTx -------------------------------------------------------------------


def test_check_tx_ok_sets_fee():
    txp = model(dict(vector_txp(), fee=None))
    with pytest.raises(TxBuildError, match="Proposal fee is not set"):
        check_tx(txp)
    txp.fee = 10000
    built = check_tx(txp)
    assert txp.fee == 10000 and built.fee == 10000


def test_check_tx_fee_mismatch_without_change_address():
    txp = vector_txp()
    txp["changeAddress"] = None
    txp["outputs"][1]["amount"] = 100000000 - 10000000 - 20000  # 20 000 left over, fee says 10 000
    with pytest.raises(ClientError) as ei:
        check_tx(model(txp))
    assert ei.value.code == "INSUFFICIENT_FUNDS_FOR_FEE"


def test_check_tx_dust_output_and_dust_change():
    txp = vector_txp()
    txp["outputs"][0]["amount"] = 500
    with pytest.raises(ClientError) as ei:
        check_tx(model(txp))
    assert ei.value.code == "DUST_AMOUNT"
    txp = vector_txp()
    txp["outputs"][1]["amount"] = 100000000 - 10000000 - 10000 - 300  # change of 300 sat
    with pytest.raises(ClientError) as ei:
        check_tx(model(txp))
    assert ei.value.code == "DUST_AMOUNT"


def test_check_tx_max_size():
    txp = vector_txp()
    base = txp["inputs"][0]
    txp["inputs"] = [dict(base, vout=i, satoshis=1000) for i in range(400)]
    with pytest.raises(ClientError) as ei:
        check_tx(model(txp))
    assert ei.value.code == "TX_MAX_SIZE_EXCEEDED"


def test_exact_amount_has_no_change_output():
    # §12.37: amount + fee == inputs → no change output even with a change address
    txp = vector_txp()
    txp["outputs"] = [{"amount": 100000000 - 10000, "toAddress": "18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7"}]
    built = check_tx(model(txp))
    assert len(built.tx.vout) == 1 and built.fee == 10000


# -- real keys: P2PKH 1-of-1 (§12.48) and 2-of-3 P2SH ------------------------------

ROOT_XPRV = (
    "xprv9s21ZrQH143K2n4rV4AtAJFptEmd1tNMKCcSyQBCSuN5eq1dCUhcv6KQJS49joRxu8NNdFxy8yuw"
    "TtzCPNYUZvVGC7EPRm2st2cvE7oyTbB"
)
FLAGS = {SCRIPT_VERIFY_P2SH, SCRIPT_VERIFY_STRICTENC, SCRIPT_VERIFY_DERSIG, SCRIPT_VERIFY_LOW_S, SCRIPT_VERIFY_NULLDUMMY}


def _sign_all(txp, base_node, coin="btc"):
    """Client-side signing: one DER signature per input with the key at inputPaths[i]."""
    built = build_tx(model(txp))
    sigs = []
    for i, path in enumerate(txp["inputPaths"]):
        priv = base_node.get_privkey_from_path(path)
        sigs.append(PrivateKey(priv).sign(built.sighash(i), hasher=None).hex())
    return sigs


def _verify_scripts(raw_hex, prev_scripts):
    tx = CTransaction.deserialize(bytes.fromhex(raw_hex))
    for i, txin in enumerate(tx.vin):
        VerifyScript(txin.scriptSig, CScript(bytes.fromhex(prev_scripts[i])), tx, i, flags=FLAGS)


def p2pkh_fixture():
    root = BIP32.from_xpriv(ROOT_XPRV)
    xpub = root.get_xpub_from_path("m/44'/0'/0'")
    account = BIP32.from_xpriv(root.get_xpriv_from_path("m/44'/0'/0'"))
    addr0 = derive_address([xpub], "m/0/0", "btc", "livenet", "P2PKH", 1)
    addr1 = derive_address([xpub], "m/0/1", "btc", "livenet", "P2PKH", 1)
    change = derive_address([xpub], "m/1/0", "btc", "livenet", "P2PKH", 1)
    assert addr0["address"] == "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG"
    inputs = [
        {"txid": "aa" * 32, "vout": 0, "satoshis": 60000, "address": addr0["address"], "path": "m/0/0",
         "publicKeys": addr0["publicKeys"], "scriptPubKey": script_for_address(addr0["address"])},
        {"txid": "bb" * 32, "vout": 3, "satoshis": 50000, "address": addr1["address"], "path": "m/0/1",
         "publicKeys": addr1["publicKeys"], "scriptPubKey": script_for_address(addr1["address"])},
    ]
    txp = {
        "coin": "btc", "network": "livenet", "addressType": "P2PKH", "requiredSignatures": 1, "walletN": 1,
        "inputs": inputs, "inputPaths": ["m/0/0", "m/0/1"],
        "outputs": [{"amount": 70000, "toAddress": "18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7"}],
        "fee": 3000, "changeAddress": change, "outputOrder": [1, 0], "actions": [],
    }
    return txp, xpub, account


def test_p2pkh_1of1_sign_verify_and_raw_contains_signature():
    txp, xpub, account = p2pkh_fixture()
    check_tx(model(txp))
    sigs = _sign_all(txp, account)
    assert verifies(txp, xpub, sigs)
    assert not verifies(txp, xpub, list(reversed(sigs)))
    assert not verifies(txp, xpub, sigs[:1])
    txp["actions"].append({"type": "accept", "copayerId": "c0", "xpub": xpub, "signatures": sigs})
    built = signed_tx(model(txp))
    raw = built.raw
    for s in sigs:
        assert s + "01" in raw
    assert built.txid == txid_of(raw)
    assert [o.nValue for o in built.tx.vout] == [110000 - 70000 - 3000, 70000]
    _verify_scripts(raw, [i["scriptPubKey"] for i in txp["inputs"]])


def test_p2pkh_high_s_signature_rejected():
    from coincurve.ecdsa import cdata_to_der, der_to_cdata, deserialize_compact, serialize_compact
    from coincurve.utils import GROUP_ORDER_INT

    txp, xpub, account = p2pkh_fixture()
    sigs = _sign_all(txp, account)
    c = serialize_compact(der_to_cdata(bytes.fromhex(sigs[0])))
    high = cdata_to_der(deserialize_compact(c[:32] + (GROUP_ORDER_INT - int.from_bytes(c[32:], "big")).to_bytes(32, "big")))
    assert not verifies(txp, xpub, [high.hex(), sigs[1]])


def multisig_fixture(coin="btc"):
    roots = [BIP32.from_seed(bytes([i + 1]) * 32) for i in range(3)]
    accounts = [BIP32.from_xpriv(r.get_xpriv_from_path("m/44'/0'/0'")) for r in roots]
    xpubs = [r.get_xpub_from_path("m/44'/0'/0'") for r in roots]
    def addr(path):
        return derive_address(xpubs, path, coin, "livenet", "P2SH", 2)
    a0, a1, ch = addr("m/0/0"), addr("m/0/1"), addr("m/1/0")
    inputs = [
        {"txid": "cc" * 32, "vout": 1, "satoshis": 100000, "address": a0["address"], "path": "m/0/0",
         "publicKeys": a0["publicKeys"], "scriptPubKey": script_for_address(a0["address"], coin)},
        {"txid": "dd" * 32, "vout": 0, "satoshis": 200000, "address": a1["address"], "path": "m/0/1",
         "publicKeys": a1["publicKeys"], "scriptPubKey": script_for_address(a1["address"], coin)},
    ]
    to = "18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7" if coin == "btc" else "CbWsiNjh18ynQYc5jfYhhespEGrAaW8YUq"
    txp = {
        "coin": coin, "network": "livenet", "addressType": "P2SH", "requiredSignatures": 2, "walletN": 3,
        "inputs": inputs, "inputPaths": ["m/0/0", "m/0/1"],
        "outputs": [{"amount": 150000, "toAddress": to}],
        "fee": 10000, "changeAddress": ch, "outputOrder": [0, 1], "actions": [],
    }
    return txp, xpubs, accounts


def test_p2sh_2of3_valid_standard_tx():
    txp, xpubs, accounts = multisig_fixture()
    check_tx(model(txp))
    # copayer 2 signs first, then copayer 0: scriptSig order still follows the sorted pubkeys
    for k in (2, 0):
        sigs = _sign_all(txp, accounts[k])
        assert verifies(txp, xpubs[k], sigs)
        txp["actions"].append({"type": "accept", "copayerId": f"c{k}", "xpub": xpubs[k], "signatures": sigs})
    raw = signed_raw(model(txp))
    _verify_scripts(raw, [i["scriptPubKey"] for i in txp["inputs"]])
    # once fully signed, a third copayer's signatures are rejected (spec §10 Q24)
    assert not verifies(txp, xpubs[1], _sign_all(txp, accounts[1]))


def test_p2sh_partial_is_not_script_valid_and_signature_order():
    txp, xpubs, accounts = multisig_fixture()
    sigs = _sign_all(txp, accounts[1])
    txp["actions"].append({"type": "accept", "copayerId": "c1", "xpub": xpubs[1], "signatures": sigs})
    built = signed_tx(model(txp))
    script = list(built.tx.vin[0].scriptSig)
    assert script[0] == 0 and len(script) == 3  # OP_0 <sig> <redeem>
    with pytest.raises(Exception):  # one signature of two
        _verify_scripts(built.raw, [i["scriptPubKey"] for i in txp["inputs"]])


def test_sighash_differs_per_input_and_signature_of_other_input_fails():
    txp, xpubs, accounts = multisig_fixture()
    sigs = _sign_all(txp, accounts[0])
    assert not verifies(txp, xpubs[0], [sigs[1], sigs[0]])


def test_bch_forkid_signatures():
    txp, xpubs, accounts = multisig_fixture("bch")
    built = build_tx(model(txp))
    assert built.hashtype == 0x41
    sigs = _sign_all(txp, accounts[0])
    assert verifies(txp, xpubs[0], sigs)
    # a legacy-sighash (BTC) signature is not valid for BCH
    btc_txp = dict(txp, coin="btc", outputs=[{"amount": 150000, "toAddress": "1L3z9LPd861FWQhf3vDn89Fnc9dkdBo2CG"}],
                   changeAddress={"address": derive_address(xpubs, "m/1/0", "btc", "livenet", "P2SH", 2)["address"]})
    assert unsigned_raw(model(btc_txp)) == unsigned_raw(model(txp))
    assert not verifies(txp, xpubs[0], _sign_all(btc_txp, accounts[0]))
    txp["actions"].append({"type": "accept", "copayerId": "c0", "xpub": xpubs[0], "signatures": sigs})
    assert sigs[0] + "41" in signed_raw(model(txp))


def test_send_max_shape_has_no_change_output():
    # §12.40: sendMax proposals have no change address; amount = inputs - fee
    txp, xpubs, accounts = multisig_fixture()
    txp["changeAddress"] = None
    txp["outputs"] = [{"amount": 0, "toAddress": "18PzpUFkFZE8zKWUPvfykkTxmB9oMR8qP7"}]
    fee = estimate_fee(model(dict(txp, outputs=[])), 10000)
    txp["outputs"][0]["amount"] = 300000 - fee
    txp["fee"] = fee
    built = check_tx(model(txp))
    assert len(built.tx.vout) == 1 and built.fee == fee
