// JSON-lines driver for the real npm bitcore-wallet-client 6.7.5 (tests/interop).
//
// Usage: node tests/interop/bwc_driver.js BASE_URL
//   (BASE_URL like http://127.0.0.1:3232/bws/api)
//
// Reads one JSON request per line on stdin:
//   {"id": 1, "client": "alice", "cmd": "createWallet", "args": {...}}
// and writes exactly one JSON reply per request on stdout:
//   {"id": 1, "result": <value>}                                  on success
//   {"id": 1, "error": {"name": "...", "code": "...", "message": "..."}}  on failure
// `code` is the bwc error code (e.g. "NOT_FOUND", "SERVER_COMPROMISED") when the
// client raised one of its own error classes (bwc.Error<CODE>), else null.
//
// Any number of named clients (copayers) live in this one process, each with its
// own credentials in memory; `export` / `import` move credentials in and out.
// Everything the client library or bitcore prints goes to stderr, so stdout
// carries replies only.
"use strict";

const path = require("path");
const readline = require("readline");

// Keep stdout for replies: route console output of libraries to stderr.
const out = process.stdout.write.bind(process.stdout);
for (const m of ["log", "info", "warn", "debug", "error"]) {
  console[m] = (...a) => process.stderr.write(a.map(String).join(" ") + "\n");
}

const Client = require(path.join(__dirname, "..", "..", "node_modules", "bitcore-wallet-client"));
const pkg = require(path.join(__dirname, "..", "..", "node_modules", "bitcore-wallet-client", "package.json"));

const baseUrl = process.argv[2];
if (!baseUrl) {
  process.stderr.write("usage: node bwc_driver.js BASE_URL\n");
  process.exit(2);
}

const clients = {};

function getClient(name, create) {
  if (!clients[name]) {
    if (!create) throw new Error("unknown client " + JSON.stringify(name));
    clients[name] = new Client({ baseUrl: baseUrl, timeout: 30000, logLevel: "silent" });
  }
  return clients[name];
}

// Promisify a node-style call on a client; resolve with the first result (some
// methods pass the raw HTTP response headers, or a PayPro memo, as a second one).
function call(fn, self, args) {
  return new Promise((resolve, reject) => {
    fn.apply(self, args.concat([(err, res) => (err ? reject(err) : resolve(res))]));
  });
}

// A proposal object: given inline, or looked up by id among the pending proposals
// (GET /v1/txproposals/, which the client verifies: proposal signature, change address),
// falling back to GET /v1/txproposals/:id for ones no longer pending.
async function findTxp(c, args) {
  if (args.txp) return args.txp;
  if (!args.txpId) throw new Error("txp or txpId required");
  const pending = await call(c.getTxProposals, c, [{}]);
  const found = pending.find((t) => t.id === args.txpId);
  if (found) return found;
  return call(c.getTx, c, [args.txpId]);
}

function credentialsSummary(c) {
  const k = c.credentials || {};
  return {
    copayerId: k.copayerId,
    xPubKey: k.xPubKey,
    requestPubKey: k.requestPubKey,
    walletId: k.walletId || null,
    m: k.m, n: k.n,
    network: k.network, coin: k.coin,
    derivationStrategy: k.derivationStrategy,
    addressType: k.addressType,
    complete: c.credentials ? c.isComplete() : false,
    publicKeyRingSize: (k.publicKeyRing || []).length,
  };
}

const commands = {
  async version() {
    return { bwc: pkg.version, node: process.version };
  },
  // No server involved: bwc's own serialisation of a proposal (Utils.buildTx), i.e. the
  // unsigned raw hex the client signs as proposalSignature. Inputs without scriptPubKey
  // get the standard one for their publicKeys (P2SH m-of-n, or P2PKH).
  async buildTx(_name, a) {
    const Bitcore = require(path.join(__dirname, "..", "..", "node_modules", "bitcore-lib"));
    const Utils = require(path.join(__dirname, "..", "..", "node_modules", "bitcore-wallet-client", "lib", "common", "utils.js"));
    const txp = JSON.parse(JSON.stringify(a.txp));
    for (const i of txp.inputs) {
      if (i.scriptPubKey) continue;
      const pubs = i.publicKeys.map((k) => new Bitcore.PublicKey(k));
      const script = txp.addressType === "P2SH"
        ? Bitcore.Script.buildScriptHashOut(Bitcore.Script.buildMultisigOut(pubs, txp.requiredSignatures))
        : Bitcore.Script.buildPublicKeyHashOut(pubs[0]);
      i.scriptPubKey = script.toHex();
    }
    return { unsigned: Utils.buildTx(txp).uncheckedSerialize() };
  },
  async newCopayer(name, a) {
    if (clients[name]) throw new Error("client exists: " + name);
    const c = getClient(name, true);
    c.seedFromRandomWithMnemonic({ network: a.network || "testnet", coin: a.coin || "btc", account: a.account || 0 });
    return credentialsSummary(c);
  },
  async credentials(name) {
    return credentialsSummary(getClient(name));
  },
  async export(name) {
    return getClient(name).export();
  },
  async import(name, a) {
    const c = getClient(name, true);
    c.import(a.str);
    return credentialsSummary(c);
  },
  async getMnemonic(name) {
    return getClient(name).getMnemonic();
  },
  // Recovery: fresh credentials from the 12 words, then the client's import flow
  // (GET /v2/wallets/?includeExtendedInfo=1, addAccess on failure).
  async importFromMnemonic(name, a) {
    if (clients[name]) throw new Error("client exists: " + name);
    const c = getClient(name, true);
    await call(c.importFromMnemonic, c, [a.words, { network: a.network || "testnet", coin: a.coin || "btc" }]);
    return credentialsSummary(c);
  },
  // PUT /v1/copayers/:id/ (a new request key when generateNewKey); with useNewKey the
  // client signs its next requests with that key.
  async addAccess(name, a) {
    const c = getClient(name);
    const res = await new Promise((resolve, reject) =>
      c.addAccess({ generateNewKey: !!a.generateNewKey, name: a.copayerName }, (err, wallet, reqPrivKey) =>
        err ? reject(err) : resolve({ wallet, reqPrivKey })));
    const requestPubKey = res.reqPrivKey.toPublicKey().toString();
    if (a.useNewKey) {
      c.credentials.requestPrivKey = res.reqPrivKey.toString();
      c.credentials.requestPubKey = requestPubKey;
    }
    return { wallet: res.wallet, requestPubKey: requestPubKey };
  },
  async startScan(name, a) {
    const c = getClient(name);
    await call(c.startScan, c, [{ includeCopayerBranches: a.includeCopayerBranches }]);
    return null;
  },
  async getPreferences(name) {
    const c = getClient(name);
    return call(c.getPreferences, c, []);
  },
  async savePreferences(name, a) {
    const c = getClient(name);
    return call(c.savePreferences, c, [a.preferences]);
  },
  async editTxNote(name, a) {
    const c = getClient(name);
    return call(c.editTxNote, c, [{ txid: a.txid, body: a.body }]);
  },
  async getTxNote(name, a) {
    const c = getClient(name);
    return call(c.getTxNote, c, [{ txid: a.txid }]);
  },
  async getTxNotes(name, a) {
    const c = getClient(name);
    return call(c.getTxNotes, c, [a.opts || {}]);
  },
  async createWallet(name, a) {
    const c = getClient(name);
    const opts = { network: a.network || "testnet", coin: a.coin || "btc" };
    if (a.singleAddress) opts.singleAddress = true;
    const secret = await call(c.createWallet, c, [a.walletName || "w", a.copayerName || name, a.m, a.n, opts]);
    return { secret: secret || null, credentials: credentialsSummary(c) };
  },
  async joinWallet(name, a) {
    const c = getClient(name);
    const wallet = await call(c.joinWallet, c, [a.secret, a.copayerName || name, { coin: a.coin || "btc", dryRun: !!a.dryRun }]);
    return { wallet: wallet, credentials: credentialsSummary(c) };
  },
  async openWallet(name) {
    const c = getClient(name);
    const ret = await call(c.openWallet, c, []);
    // openWallet answers true when already complete, undefined while pending, else the status
    return { status: ret === undefined ? null : ret, credentials: credentialsSummary(c) };
  },
  async getStatus(name, a) {
    const c = getClient(name);
    return call(c.getStatus, c, [{ includeExtendedInfo: !!a.includeExtendedInfo, twoStep: !!a.twoStep }]);
  },
  async createAddress(name, a) {
    const c = getClient(name);
    return call(c.createAddress, c, [a.opts || {}]);
  },
  async getMainAddresses(name, a) {
    const c = getClient(name);
    return call(c.getMainAddresses, c, [a.opts || {}]);
  },
  async getBalance(name, a) {
    const c = getClient(name);
    return call(c.getBalance, c, [a.opts || {}]);
  },
  async getUtxos(name, a) {
    const c = getClient(name);
    return call(c.getUtxos, c, [a.opts || {}]);
  },
  async getFeeLevels(name, a) {
    const c = getClient(name);
    return call(c.getFeeLevels, c, [a.coin || "btc", a.network || "testnet"]);
  },
  async getSendMaxInfo(name, a) {
    const c = getClient(name);
    return call(c.getSendMaxInfo, c, [a.opts || {}]);
  },
  async createTxProposal(name, a) {
    const c = getClient(name);
    return call(c.createTxProposal, c, [a.opts]);
  },
  async publishTxProposal(name, a) {
    const c = getClient(name);
    return call(c.publishTxProposal, c, [{ txp: a.txp }]);
  },
  async getTxProposals(name, a) {
    const c = getClient(name);
    return call(c.getTxProposals, c, [a.opts || {}]);
  },
  async getTx(name, a) {
    const c = getClient(name);
    return call(c.getTx, c, [a.txpId]);
  },
  async signTxProposal(name, a) {
    const c = getClient(name);
    const txp = await findTxp(c, a);
    return call(c.signTxProposal, c, [txp]);
  },
  async rejectTxProposal(name, a) {
    const c = getClient(name);
    const txp = await findTxp(c, a);
    return call(c.rejectTxProposal, c, [txp, a.reason || null]);
  },
  async broadcastTxProposal(name, a) {
    const c = getClient(name);
    const txp = await findTxp(c, a);
    return call(c.broadcastTxProposal, c, [txp]);
  },
  async removeTxProposal(name, a) {
    const c = getClient(name);
    const txp = await findTxp(c, a);
    await call(c.removeTxProposal, c, [txp]);
    return null;
  },
  async getTxHistory(name, a) {
    const c = getClient(name);
    return call(c.getTxHistory, c, [a.opts || {}]);
  },
  async getNotifications(name, a) {
    const c = getClient(name);
    return call(c.getNotifications, c, [a.opts || {}]);
  },
};

// bwc turns a server error {code, message} into its own class when it knows the code
// (bwc.Error<CODE>), else into a plain Error("<CODE>: <message>"); report the code either way.
function errorReply(err) {
  const name = (err && err.name) || "Error";
  const message = (err && err.message) || String(err);
  let m = /^bwc\.Error(.+)$/.exec(name);
  let code = m ? m[1] : null;
  if (!code && name === "Error" && (m = /^([A-Z][A-Z0-9_]+): /.exec(message))) code = m[1];
  return { name: name, code: code, message: message };
}

async function handle(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    return { id: null, error: { name: "BadRequest", code: null, message: "bad JSON: " + e.message } };
  }
  const fn = commands[req.cmd];
  if (!fn) return { id: req.id, error: { name: "BadRequest", code: null, message: "unknown cmd " + req.cmd } };
  try {
    const result = await fn(req.client, req.args || {});
    return { id: req.id, result: result === undefined ? null : result };
  } catch (err) {
    return { id: req.id, error: errorReply(err) };
  }
}

// Requests are handled one at a time, in order (the Python side waits for each reply).
let chain = Promise.resolve();
const rl = readline.createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  if (!line.trim()) return;
  chain = chain.then(() => handle(line)).then((reply) => {
    out(JSON.stringify(reply) + "\n");
  });
});
rl.on("close", () => chain.then(() => process.exit(0)));
process.on("unhandledRejection", (e) => process.stderr.write("unhandledRejection: " + (e && e.stack) + "\n"));
process.on("uncaughtException", (e) => process.stderr.write("uncaughtException: " + (e && e.stack) + "\n"));
