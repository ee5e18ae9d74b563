// Segwit / taproot / RBF test vectors for issue 18, made by bitcore-wallet-client 11.5.2 itself
// (npm alias `bwc11`) and the libraries it ships with (its bitcore-lib 11.5.1 and
// crypto-wallet-core 11.5.1, reached through the client: API.Bitcore, API.Utils, Key).
//
//   node tests/vectors/make_btc_vectors.js            writes tests/vectors/btc_segwit.json
//   node tests/vectors/make_btc_vectors.js --check    regenerates in memory, exits 1 if the
//                                                     committed file differs (library drift)
//
// Everything is derived from three fixed BIP39 mnemonics (the public BIP39 test phrases), the
// way the client does it (Key -> createCredentials -> Utils.deriveAddress; Utils.buildTx ->
// key.sign -> API#_applyAllSignatures), so a server can pin its own derivation, serialisation,
// sighashes, signature checks and fee rule against the client byte for byte. The format of the
// JSON file is described in docs/spec/protocol-bwc11.md §7 (vectors).
//
// Determinism: ECDSA signatures are RFC 6979 (deterministic) in bitcore-lib. BIP340 Schnorr
// signatures (P2TR) take 32 random "aux" bytes in bitcore-lib (crypto.randomBytes), so the
// real client's P2TR signatures differ on every run; to make the file reproducible the aux
// bytes are fixed to zero while the client signs a P2TR proposal (still a valid BIP340
// signature; a server can only check validity, never equality, of a P2TR signature).
//
// Fee: 11.5.2 computes no fee itself; a proposal's fee is the server's. `fee.proposalFee` is
// upstream BWS 11.10.5's rule (packages/bitcore-wallet-service/src/lib/chain/btc/index.ts,
// BtcChain.selectTxInputs with getEstimatedSize / getEstimatedSizeForSingleInput /
// getEstimatedSizeForAddressType, conservativeEstimation off as for a non-PayPro proposal),
// re-implemented below from reading it; `fee.bitcoreEstimate` is the client library's own
// estimator (bitcore-lib Transaction#_estimateSize / #_estimateFee) on the unsigned tx.
"use strict";

const fs = require("fs");
const path = require("path");
const nodeCrypto = require("crypto");

let bwc;
try {
  bwc = require("bwc11");
} catch (e) {
  process.stderr.write("cannot load bitcore-wallet-client 11.5.2 (npm alias bwc11): " + e.message + "\nrun ./setup.sh\n");
  process.exit(3);
}
const API = bwc.default || bwc.API;
const { Key, Utils, Verifier } = bwc;
const Bitcore = API.Bitcore;
const bwcDir = path.dirname(require.resolve("bwc11/package.json"));
const bitcoreDir = path.dirname(require.resolve("bitcore-lib/package.json", { paths: [bwcDir] }));
const cwcDir = path.dirname(require.resolve("crypto-wallet-core/package.json", { paths: [bwcDir] }));
// Not exported by bitcore-lib's index; the same module its Address class uses.
const Bech32 = require(path.join(bitcoreDir, "lib", "encoding", "bech32"));
const SCRIPT_TYPES = API.Core.Constants.SCRIPT_TYPES;
const Signature = Bitcore.crypto.Signature;

const OUT = path.join(__dirname, "btc_segwit.json");

// ---------------------------------------------------------------- keys

// The BIP39 reference phrases (trezor/python-mnemonic vectors.json), no passphrase.
const MNEMONICS = {
  A: "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
  B: "legal winner thank year wave sausage worth useful legal winner thank yellow",
  C: "letter advice cage absurd amount doctor acoustic avoid letter advice cage above",
  // the external payee of the proposals (not a copayer of any wallet)
  D: "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
};
// A fixed Key id: Key() otherwise takes a random uuid (it only ends up in credentials.keyId).
const keys = {};
for (const [name, words] of Object.entries(MNEMONICS)) {
  keys[name] = new Key({ id: "vector-key-" + name, seedType: "mnemonic", seedData: words });
}

const NETWORKS = ["testnet", "livenet"];
const ADDRESS_PATHS = ["m/0/0", "m/0/1", "m/1/0"];

// Wallet types: the client's addressType for (useNativeSegwit, segwitVersion, n), see
// Credentials#addWalletInfo; keys in copayer order (the creator first).
const WALLETS = {
  p2wpkh_1of1: { addressType: SCRIPT_TYPES.P2WPKH, m: 1, n: 1, keys: ["A"], createWallet: { useNativeSegwit: true } },
  p2wsh_2of3: { addressType: SCRIPT_TYPES.P2WSH, m: 2, n: 3, keys: ["A", "B", "C"], createWallet: { useNativeSegwit: true } },
  p2tr_1of1: { addressType: SCRIPT_TYPES.P2TR, m: 1, n: 1, keys: ["A"], createWallet: { useNativeSegwit: true, segwitVersion: 1 } },
  p2pkh_1of1: { addressType: SCRIPT_TYPES.P2PKH, m: 1, n: 1, keys: ["A"], createWallet: {} },
  p2sh_2of3: { addressType: SCRIPT_TYPES.P2SH, m: 2, n: 3, keys: ["A", "B", "C"], createWallet: {} },
};

function credentialsFor(keyName, wallet, network, account) {
  return keys[keyName].createCredentials(null, {
    coin: "btc", chain: "btc", network, account: account || 0, m: wallet.m, n: wallet.n, addressType: wallet.addressType,
  });
}

// Complete credentials, as after openWallet: wallet info + the public key ring.
function completeCredentials(keyName, wallet, network, ring, walletId) {
  const c = credentialsFor(keyName, wallet, network);
  c.addWalletPrivateKey(new Bitcore.PrivateKey(Bitcore.crypto.Hash.sha256(Buffer.from("join-" + walletId)).toString("hex")).toString());
  c.addWalletInfo(walletId, walletId, wallet.m, wallet.n, keyName, Object.assign({ allowOverwrite: true }, wallet.createWallet));
  c.addPublicKeyRing(ring);
  if (c.addressType !== wallet.addressType) throw new Error(`addressType ${c.addressType} != ${wallet.addressType}`);
  return c;
}

function ringFor(wallet, network) {
  return wallet.keys.map((k) => {
    const c = credentialsFor(k, wallet, network);
    return { xPubKey: c.xPubKey, requestPubKey: c.requestPubKey };
  });
}

// ---------------------------------------------------------------- addresses

function scriptHex(address) {
  return Bitcore.Script.fromAddress(new Bitcore.Address(address)).toHex();
}

// The same witness program under litecoind regtest's HRP `rltc` (bech32 for v0, bech32m for
// v1): what the test node accepts for a tb1… destination (docs/spec/toolchain.md, Added 2026-12).
// Not something the client makes; a convenience for the test helpers.
function rltc(address) {
  const a = new Bitcore.Address(address);
  if (a.type === "witnesspubkeyhash" || a.type === "witnessscripthash") return Bech32.encode("rltc", 0, a.hashBuffer, Bech32.encodings.BECH32);
  if (a.type === "taproot") return Bech32.encode("rltc", 1, a.hashBuffer, Bech32.encodings.BECH32M);
  return null;
}

function deriveAddress(wallet, ring, addrPath, network) {
  // Exactly what Verifier.checkAddress recomputes for an address the server hands out.
  const d = Utils.deriveAddress(wallet.addressType, ring, addrPath, wallet.m, network, "btc");
  const out = {
    path: addrPath,
    address: d.address,
    type: wallet.addressType,
    isChange: addrPath.startsWith("m/1/"),
    publicKeys: d.publicKeys,
    scriptPubKey: scriptHex(d.address),
  };
  if (wallet.addressType === SCRIPT_TYPES.P2WSH || wallet.addressType === SCRIPT_TYPES.P2SH) {
    // buildMultisigOut sorts the keys (BIP67) unless told not to.
    const key = wallet.addressType === SCRIPT_TYPES.P2WSH ? "witnessScript" : "redeemScript";
    out[key] = Bitcore.Script.buildMultisigOut(d.publicKeys.map((p) => new Bitcore.PublicKey(p)), wallet.m).toHex();
    out.sortedPublicKeys = d.publicKeys.slice().sort();
  }
  if (wallet.addressType === SCRIPT_TYPES.P2TR) {
    const pub = new Bitcore.PublicKey(d.publicKeys[0]);
    out.internalKey = pub.point.getX().toBuffer({ size: 32 }).toString("hex");
    out.outputKey = out.scriptPubKey.slice(4); // OP_1 <32 bytes>: the BIP341/BIP86 tweaked key
  }
  const r = rltc(d.address);
  if (r && network === "testnet") out.rltcRegtest = r;
  return out;
}

function walletVectors() {
  const out = {};
  for (const [name, w] of Object.entries(WALLETS)) {
    const entry = { addressType: w.addressType, m: w.m, n: w.n, createWallet: w.createWallet, copayers: [], addresses: {} };
    for (const network of NETWORKS) {
      const ring = ringFor(w, network);
      w.keys.forEach((k, i) => {
        const c = credentialsFor(k, w, network);
        let cp = entry.copayers[i];
        if (!cp) cp = entry.copayers[i] = { key: k, rootPath: {}, xPubKey: {}, copayerId: {}, requestPubKey: c.requestPubKey };
        cp.rootPath[network] = c.rootPath;
        cp.xPubKey[network] = c.xPubKey;
        cp.copayerId[network] = c.copayerId;
      });
      entry.addresses[network] = ADDRESS_PATHS.map((p) => deriveAddress(w, ring, p, network));
    }
    out[name] = entry;
  }
  return out;
}

// External destinations of every type, from key D (not a copayer).
function destinations(network) {
  const pub = (p) => new Bitcore.HDPrivateKey(keys.D.get(null).xPrivKey).deriveChild(p).publicKey;
  const k1 = pub("m/84'/1'/0'/0/0");
  const k2 = pub("m/84'/1'/0'/0/1");
  const k3 = pub("m/84'/1'/0'/0/2");
  const net = Bitcore.Networks.get(network);
  const addr = {
    P2PKH: Bitcore.Address.fromPublicKey(k1, net).toString(),
    P2SH: Bitcore.Address.createMultisig([k1, k2, k3], 2, net).toString(),
    P2WPKH: Bitcore.Address.fromPublicKey(k1, net, "witnesspubkeyhash").toString(),
    P2WSH: Bitcore.Address.createMultisig([k1, k2, k3], 2, net, false, "witnessscripthash").toString(),
    P2TR: Bitcore.Address.fromPublicKey(k1, net, "taproot").toString(),
  };
  const out = {};
  for (const [t, a] of Object.entries(addr)) {
    out[t] = { address: a, scriptPubKey: scriptHex(a) };
    const r = rltc(a);
    if (r && network === "testnet") out[t].rltcRegtest = r;
  }
  return out;
}

// ---------------------------------------------------------------- upstream fee rule

// upstream chain/btc/index.ts BtcChain#getEstimatedSizeForSingleInput (vbytes, no margin)
function upstreamInputSize(addressType, m, n) {
  switch (addressType) {
    case SCRIPT_TYPES.P2PKH: return 148;
    case SCRIPT_TYPES.P2WPKH: return 69;
    case SCRIPT_TYPES.P2TR: return 58;
    case SCRIPT_TYPES.P2WSH: return Math.ceil(32 + 4 + 1 + (5 + m * 74 + n * 34) / 4 + 4);
    default: return 46 + m * 73 + n * 34; // P2SH
  }
}

// upstream BtcChain#getEstimatedSizeForAddressType: scriptPubKey + 8 (value) + 1 (length);
// no case for 'taproot' there, it takes the default (34), which is the P2TR script size.
function upstreamOutputSize(address) {
  const sizes = { pubkeyhash: 25, scripthash: 23, witnesspubkeyhash: 22, witnessscripthash: 34 };
  const t = new Bitcore.Address(address).type;
  return (t in sizes ? sizes[t] : 34) + 8 + 1;
}

// upstream BtcChain#selectTxInputs: base size (10 + outputs incl. change, ceil) and per-input
// size priced separately, fee = round(baseFee + nInputs * feePerInput); a change at or below
// the dust threshold (max(MIN_OUTPUT_AMOUNT 546, DUST_AMOUNT 546)) is added to the fee.
function upstreamFee(txp) {
  const outs = txp.outputs.map((o) => o.toAddress).concat([txp.changeAddress.address]);
  const baseSize = Math.ceil(10 + outs.reduce((s, a) => s + upstreamOutputSize(a), 0));
  const inputSize = upstreamInputSize(txp.addressType, txp.requiredSignatures, txp.walletN);
  const fee = Math.round((baseSize * txp.feePerKb) / 1000 + txp.inputs.length * (inputSize * txp.feePerKb) / 1000);
  return { baseSize, inputSize, estimatedSize: baseSize + txp.inputs.length * inputSize, fee };
}

// ---------------------------------------------------------------- proposals

function fakeTxid(label) {
  return Bitcore.crypto.Hash.sha256(Buffer.from("bws-twisted vector " + label)).toString("hex");
}

// A proposal as the server hands it to the client (the fields Utils.buildTx and Verifier read),
// funded by `inputs` (wallet addresses by path, with amounts) and paying `outputs`.
function makeTxp(spec, wallet, walletName, ring, network) {
  const addrs = Object.fromEntries(ADDRESS_PATHS.map((p) => [p, deriveAddress(wallet, ring, p, network)]));
  const inputs = spec.inputs.map((inp, i) => {
    const a = addrs[inp.path];
    return {
      txid: fakeTxid(spec.name + "/" + i), vout: inp.vout, satoshis: inp.satoshis,
      scriptPubKey: a.scriptPubKey, address: a.address, path: a.path, publicKeys: a.publicKeys,
      confirmations: 6, locked: false,
    };
  });
  const change = addrs["m/1/0"];
  const creator = credentialsFor(wallet.keys[0], wallet, network);
  const txp = {
    id: "vector-" + spec.name,
    walletId: "vector-wallet-" + walletName,
    creatorId: creator.copayerId,
    version: 3,
    coin: "btc", chain: "btc", network,
    addressType: wallet.addressType,
    requiredSignatures: wallet.m, requiredRejections: Math.min(wallet.m, wallet.n - wallet.m + 1),
    walletM: wallet.m, walletN: wallet.n,
    inputs, inputPaths: inputs.map((i) => i.path),
    outputs: spec.outputs.map((o) => ({ toAddress: o.toAddress, amount: o.amount })),
    outputOrder: spec.outputOrder,
    changeAddress: { address: change.address, path: change.path, publicKeys: change.publicKeys, type: wallet.addressType, isChange: true },
    feePerKb: spec.feePerKb,
    feeLevel: null,
    signingMethod: "ecdsa",
    enableRBF: !!spec.enableRBF,
    replaceTxByFee: !!spec.replaceTxByFee,
    excludeUnconfirmedUtxos: false,
    status: "pending",
    actions: [],
    message: null, payProUrl: null,
  };
  const rule = upstreamFee(txp);
  txp.fee = rule.fee;
  const changeAmount = inputs.reduce((s, i) => s + i.satoshis, 0) - txp.outputs.reduce((s, o) => s + o.amount, 0) - txp.fee;
  if (changeAmount <= 546) throw new Error(spec.name + ": change " + changeAmount + " is dust; pick bigger inputs");
  if (txp.outputOrder.length !== txp.outputs.length + 1) throw new Error(spec.name + ": outputOrder covers outputs + change");
  return { txp, rule, changeAmount };
}

// What the client signs for a proposal: one digest per input (BIP143 for v0 witness inputs,
// BIP341 for P2TR key path, the legacy sighash otherwise), from its own bitcore-lib Input.
function sighashes(t, txp) {
  return t.inputs.map((input, i) => {
    const pubs = txp.inputs[i].publicKeys;
    const t0 = txp.addressType;
    const kind = t0 === SCRIPT_TYPES.P2TR ? "BIP341" : (t0 === SCRIPT_TYPES.P2WPKH || t0 === SCRIPT_TYPES.P2WSH) ? "BIP143" : "legacy";
    const sigtype = t0 === SCRIPT_TYPES.P2TR ? Signature.SIGHASH_DEFAULT : Signature.SIGHASH_ALL;
    const digest = input.getSighash(t, new Bitcore.PublicKey(pubs[0]), i, sigtype);
    const out = { input: i, kind, sighashType: sigtype, digest: Buffer.from(digest).toString("hex") };
    if (t0 === SCRIPT_TYPES.P2WPKH || t0 === SCRIPT_TYPES.P2WSH) {
      // BIP143 scriptCode (with its length prefix) and the amount the digest commits to.
      out.scriptCode = input.getScriptCode(new Bitcore.PublicKey(pubs[0])).toString("hex");
      out.amount = txp.inputs[i].satoshis;
    }
    return out;
  });
}

async function withZeroSchnorrAux(fn) {
  const orig = nodeCrypto.randomBytes;
  nodeCrypto.randomBytes = (n, cb) => {
    const b = Buffer.alloc(n);
    if (cb) return cb(null, b);
    return b;
  };
  try {
    return await fn();
  } finally {
    nodeCrypto.randomBytes = orig;
  }
}

async function proposalVector(spec) {
  const wallet = WALLETS[spec.wallet];
  const network = "testnet";
  const ring = ringFor(wallet, network);
  const { txp, rule, changeAmount } = makeTxp(spec, wallet, spec.wallet, ring, network);

  // The unsigned serialisation the creator signs as proposalSignature (API#publishTxProposal).
  const unsigned = API.getRawTx(txp);
  const creds = wallet.keys.map((k) => completeCredentials(k, wallet, network, ring, txp.walletId));
  txp.proposalSignature = Utils.signMessage(unsigned, creds[0].requestPrivKey);
  // Each copayer's client accepts it (Verifier.checkTxProposal: proposal signature + change address).
  for (const c of creds) {
    if (!Verifier.checkTxProposal(c, txp, {})) throw new Error(spec.name + ": Verifier refuses the proposal");
  }

  const t = Utils.buildTx(txp);
  const digests = sighashes(t, txp);

  // key.sign as the client's signTxProposal (then pushSignatures) does, by the first m copayers.
  const signers = wallet.keys.slice(0, wallet.m);
  const signatures = {};
  for (const [i, k] of signers.entries()) {
    const doSign = () => keys[k].sign(creds[i].rootPath, txp, null);
    signatures[k] = wallet.addressType === SCRIPT_TYPES.P2TR ? await withZeroSchnorrAux(doSign) : await doSign();
  }

  // The signed tx as the client assembles it (API#_applyAllSignatures, the same steps as
  // upstream's BtcChain#getBitcoreTx with signatures): accepted proposal, one accept action per signer.
  const accepted = JSON.parse(JSON.stringify(txp));
  accepted.status = "accepted";
  accepted.actions = signers.map((k, i) => ({ type: "accept", copayerId: creds[i].copayerId, xpub: creds[i].xPubKey, signatures: signatures[k] }));
  const api = new API({ baseUrl: "http://127.0.0.1:1/bws/api" });
  api.fromObj(creds[0].toObj());
  const signedTx = Utils.buildTx(accepted);
  api._applyAllSignatures(accepted, signedTx);
  if (!signedTx.isFullySigned()) throw new Error(spec.name + ": not fully signed");
  const verify = signedTx.verify();
  if (verify !== true) throw new Error(spec.name + ": bitcore verify: " + verify);
  signedTx.inputs.forEach((inp, i) => {
    if (!inp.isFullySigned()) throw new Error(spec.name + ": input " + i + " not signed");
  });
  const signed = signedTx.serialize({ disableSmallFees: true, disableLargeFees: true, disableDustOutputs: true });

  // The library's own size/fee estimate on the unsigned tx (bitcore-lib Transaction#_estimateFee).
  const est = Utils.buildTx(txp);
  est.feePerKb(txp.feePerKb);
  const bitcoreSize = est._estimateSize();

  const weight = signedTx._calculateWeight();
  const vsize = signedTx._calculateVSize();
  return {
    name: spec.name,
    description: spec.description,
    wallet: spec.wallet,
    network,
    txp,
    unsigned,
    proposalSignature: txp.proposalSignature,
    creatorRequestPubKey: creds[0].requestPubKey,
    sighashes: digests,
    signatures,
    signed,
    txid: signedTx.id,
    wtxid: signedTx.witnessHash ? signedTx.witnessHash : null,
    sequence: signedTx.inputs.map((i) => i.sequenceNumber),
    nLockTime: signedTx.nLockTime,
    txVersion: signedTx.version,
    size: signed.length / 2,
    weight,
    vsize,
    fee: {
      feePerKb: txp.feePerKb,
      proposalFee: txp.fee,
      upstreamBaseSize: rule.baseSize,
      upstreamInputSize: rule.inputSize,
      upstreamEstimatedSize: rule.estimatedSize,
      bitcoreEstimatedSize: bitcoreSize,
      bitcoreEstimatedFee: est._estimateFee(),
      change: changeAmount,
      feeRateSatPerVbyte: Math.round((txp.fee / vsize) * 1000) / 1000,
    },
  };
}

function proposalSpecs() {
  const d = destinations("testnet");
  const spec = (o) => Object.assign({ feePerKb: 10000, outputOrder: [1, 0] }, o);
  return [
    spec({
      name: "p2wpkh_pays_p2wpkh",
      description: "1-of-1 P2WPKH wallet, two inputs, pays a tb1q P2WPKH address; change to m/1/0",
      wallet: "p2wpkh_1of1",
      inputs: [{ path: "m/0/0", vout: 0, satoshis: 1500000 }, { path: "m/0/1", vout: 1, satoshis: 700000 }],
      outputs: [{ toAddress: d.P2WPKH.address, amount: 2000000 }],
    }),
    spec({
      name: "p2wsh_2of3_pays_p2pkh_and_p2wsh",
      description: "2-of-3 P2WSH wallet (sorted multisig), signed by copayers A and B, pays a legacy P2PKH and a P2WSH address",
      wallet: "p2wsh_2of3",
      inputs: [{ path: "m/0/0", vout: 2, satoshis: 3000000 }, { path: "m/0/1", vout: 0, satoshis: 1000000 }],
      outputs: [{ toAddress: d.P2PKH.address, amount: 1200000 }, { toAddress: d.P2WSH.address, amount: 2500000 }],
      outputOrder: [2, 0, 1],
    }),
    spec({
      name: "p2tr_pays_p2wpkh",
      description: "1-of-1 P2TR (key path, segwitVersion 1) wallet, two inputs, pays a tb1q P2WPKH address",
      wallet: "p2tr_1of1",
      inputs: [{ path: "m/0/0", vout: 0, satoshis: 800000 }, { path: "m/0/1", vout: 3, satoshis: 900000 }],
      outputs: [{ toAddress: d.P2WPKH.address, amount: 1500000 }],
    }),
    spec({
      name: "p2pkh_pays_bech32_and_bech32m",
      description: "legacy 1-of-1 P2PKH wallet pays a tb1q (bech32) and a tb1p (bech32m) address",
      wallet: "p2pkh_1of1",
      inputs: [{ path: "m/0/0", vout: 1, satoshis: 5000000 }],
      outputs: [{ toAddress: d.P2WPKH.address, amount: 1000000 }, { toAddress: d.P2TR.address, amount: 2000000 }],
      outputOrder: [1, 2, 0],
    }),
    spec({
      name: "p2sh_2of3_pays_p2wsh_and_p2tr",
      description: "legacy 2-of-3 P2SH wallet, signed by A and B, pays a tb1q P2WSH and a tb1p P2TR address",
      wallet: "p2sh_2of3",
      inputs: [{ path: "m/0/0", vout: 0, satoshis: 4000000 }],
      outputs: [{ toAddress: d.P2WSH.address, amount: 1000000 }, { toAddress: d.P2TR.address, amount: 1500000 }],
      outputOrder: [0, 2, 1],
    }),
    spec({
      name: "p2wpkh_rbf",
      description: "enableRBF: every input signals BIP125 replacement (sequence 0xfffffffd); otherwise as p2wpkh_pays_p2wpkh",
      wallet: "p2wpkh_1of1",
      enableRBF: true,
      inputs: [{ path: "m/0/0", vout: 0, satoshis: 1500000 }, { path: "m/0/1", vout: 1, satoshis: 700000 }],
      outputs: [{ toAddress: d.P2WPKH.address, amount: 2000000 }],
    }),
    spec({
      name: "p2wpkh_rbf_replacement",
      description: "replaceTxByFee: the same inputs and payment as p2wpkh_rbf at 3x the fee rate (higher absolute fee and fee rate, BIP125 rules 3-4), still signalling RBF",
      wallet: "p2wpkh_1of1",
      enableRBF: true,
      replaceTxByFee: true,
      feePerKb: 30000,
      inputs: [{ path: "m/0/0", vout: 0, satoshis: 1500000 }, { path: "m/0/1", vout: 1, satoshis: 700000 }],
      outputs: [{ toAddress: d.P2WPKH.address, amount: 2000000 }],
    }),
  ];
}

// ---------------------------------------------------------------- main

async function build() {
  const libVersion = (dir) => JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).version;
  const keyInfo = {};
  for (const [name, words] of Object.entries(MNEMONICS)) {
    const k = keys[name].get(null);
    keyInfo[name] = { mnemonic: words, xPrivKey: k.xPrivKey, fingerPrint: keys[name].fingerPrint };
  }
  const proposals = [];
  for (const s of proposalSpecs()) proposals.push(await proposalVector(s));
  return {
    generator: "tests/vectors/make_btc_vectors.js",
    libraries: {
      "bitcore-wallet-client": libVersion(bwcDir),
      "bitcore-lib": libVersion(bitcoreDir),
      "crypto-wallet-core": libVersion(cwcDir),
    },
    description: "Addresses, proposals, sighashes, signatures and sizes as bitcore-wallet-client 11.5.2 makes them; format in docs/spec/protocol-bwc11.md §7",
    notes: [
      "Keys: the root xPrivKey is serialised for livenet (the client always does); credentials re-serialise the account key for the wallet's network.",
      "Root paths: m/44'/coin'/account' for n = 1 (P2PKH, P2WPKH and P2TR alike), m/48'/coin'/account' for n > 1 (P2SH and P2WSH alike); coin' = 1' on testnet. No 84'/86'.",
      "Amounts in satoshis; feePerKb in satoshis per 1000 vbytes; sizes in bytes, vsize in vbytes, weight in weight units.",
      "txp version 3 (what upstream creates): transaction version 1, nLockTime 0.",
      "P2TR signatures were made with BIP340 aux = 32 zero bytes (the real client uses random aux); check validity, not equality.",
      "Prevout txids are synthetic (sha256 of a label): the transactions are valid against the stated prevouts but not broadcastable.",
      "rltcRegtest: the same witness program under litecoind regtest's HRP (not made by the client).",
    ],
    keys: keyInfo,
    wallets: walletVectors(),
    destinations: { testnet: destinations("testnet"), livenet: destinations("livenet") },
    proposals,
  };
}

async function main() {
  const data = JSON.stringify(await build(), null, 2) + "\n";
  if (process.argv.includes("--check")) {
    const old = fs.existsSync(OUT) ? fs.readFileSync(OUT, "utf8") : "";
    if (old !== data) {
      process.stderr.write(OUT + " differs from what the installed libraries produce now\n");
      process.exit(1);
    }
    process.stdout.write(OUT + " is up to date\n");
    return;
  }
  fs.writeFileSync(OUT, data);
  process.stdout.write("wrote " + OUT + "\n");
}

main().catch((e) => {
  process.stderr.write((e && e.stack) || String(e));
  process.stderr.write("\n");
  process.exit(1);
});
