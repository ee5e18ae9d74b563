// JSON-lines driver for the real npm bitcore-wallet-client 11.5.2 (npm alias `bwc11`),
// the newest client; tests/interop/bwc_driver.js is the same REPL for 6.7.5.
//
// Usage: node tests/interop/bwc11_driver.js BASE_URL
//   (BASE_URL like http://127.0.0.1:3232/bws/api)
//
// Protocol (identical to bwc_driver.js, so tests/interop/harness.py drives both): one JSON
// request per line on stdin
//   {"id": 1, "client": "alice", "cmd": "createWallet", "args": {...}}
// and exactly one JSON reply per request on stdout
//   {"id": 1, "result": <value>}                                          on success
//   {"id": 1, "error": {"name": "...", "code": "...", "message": "..."}}  on failure
// `code` is the bwc error code (e.g. "NOT_FOUND", "SERVER_COMPROMISED") when the client
// raised one of its own classes (name "bwc.Error<CODE>"), else null.
//
// 11.x splits what 6.7.5 kept in one object: a `Key` (the seed: mnemonic / xprv) makes
// `Credentials` per wallet (key.createCredentials(password, {coin, chain, network, account,
// m, n})), the client (`API`) holds only those credentials (client.fromObj) and signs requests
// with their request key; proposals are signed by the Key (key.sign(rootPath, txp)) and the
// signatures pushed with client.pushSignatures. This driver keeps, per named client, one
// API instance and the Key it was made from, and calls them the way the client's own test
// helpers do (test/helpers.ts createAndJoinWallet). Methods are the promise forms (the
// callback forms are deprecated in 11.x).
//
// bitcore-lib refuses to load twice in one process, so this driver never loads 6.7.5 or the
// top-level bitcore-lib 0.15.0: everything comes from bwc11's own tree (API.Bitcore,
// API.Utils). `require("bwc11")` resolves from the repository's node_modules (npm ci), or
// from NODE_PATH when node_modules is elsewhere.
"use strict";

const readline = require("readline");

// Keep stdout for replies: route console output of libraries to stderr.
const out = process.stdout.write.bind(process.stdout);
for (const m of ["log", "info", "warn", "debug", "error"]) {
  console[m] = (...a) => process.stderr.write(a.map(String).join(" ") + "\n");
}

let bwc;
try {
  bwc = require("bwc11");
} catch (e) {
  process.stderr.write(
    "cannot load bitcore-wallet-client 11.5.2 (npm alias bwc11): " + e.message +
    "\nrun ./setup.sh (npm ci --ignore-scripts from package-lock.json)\n");
  process.exit(3);
}
const Client = bwc.default || bwc.API;
const Key = bwc.Key;
const pkg = require("bwc11/package.json");

const baseUrl = process.argv[2];
if (!baseUrl) {
  process.stderr.write("usage: node bwc11_driver.js BASE_URL\n");
  process.exit(2);
}

// name -> {client: API, key: Key|null}
const clients = {};

function newApi() {
  return new Client({ baseUrl: baseUrl, timeout: 30000, logLevel: "silent" });
}

function getEntry(name) {
  const e = clients[name];
  if (!e) throw new Error("unknown client " + JSON.stringify(name));
  return e;
}

function getClient(name) {
  return getEntry(name).client;
}

function getKey(name) {
  const e = getEntry(name);
  if (!e.key) throw new Error("client " + JSON.stringify(name) + " has no Key (read-only credentials)");
  return e.key;
}

function credentialsSummary(c) {
  const k = c.credentials || {};
  return {
    copayerId: k.copayerId,
    xPubKey: k.xPubKey,
    requestPubKey: k.requestPubKey,
    walletId: k.walletId || null,
    walletName: k.walletName || null,
    m: k.m, n: k.n,
    network: k.network, coin: k.coin, chain: k.chain,
    account: k.account,
    rootPath: k.rootPath,
    addressType: k.addressType,
    keyId: k.keyId,
    complete: c.credentials ? c.isComplete() : false,
    publicKeyRingSize: (k.publicKeyRing || []).length,
  };
}

// Key options from the request: a new random seed, or given words / xprv.
function makeKey(a) {
  const opts = { seedType: "new" };
  if (a.words) Object.assign(opts, { seedType: "mnemonic", seedData: a.words });
  else if (a.xPrivKey) Object.assign(opts, { seedType: "extendedPrivateKey", seedData: a.xPrivKey });
  if (a.passphrase) opts.passphrase = a.passphrase;
  if (a.useLegacyCoinType) opts.useLegacyCoinType = true;
  if (a.useLegacyPurpose) opts.useLegacyPurpose = true;
  return new Key(opts);
}

// Credentials for one wallet of `key`; n decides the root path purpose (44' for 1-of-1,
// 48' for multisig) and m/n are fixed in the credentials (Key.createCredentials).
function makeCredentials(key, a) {
  const coin = a.coin || "btc";
  return key.createCredentials(a.password || null, {
    coin: coin,
    chain: a.chain || coin,
    network: a.network || "testnet",
    account: a.account || 0,
    m: a.m || 1,
    n: a.n || 1,
    addressType: a.addressType,
  });
}

// A proposal object: given inline, or looked up by id among the pending proposals
// (GET /v2/txproposals/, which the client verifies: proposal signature, change address),
// falling back to GET /v1/txproposals/:id for ones no longer pending.
async function findTxp(c, a) {
  if (a.txp) return a.txp;
  if (!a.txpId) throw new Error("txp or txpId required");
  const pending = await c.getTxProposals({});
  const found = pending.find((t) => t.id === a.txpId);
  if (found) return found;
  return c.getTx(a.txpId);
}

function pick(a, names) {
  const o = {};
  for (const n of names) if (a[n] !== undefined) o[n] = a[n];
  return o;
}

const commands = {
  async version() {
    return { bwc: pkg.version, node: process.version };
  },

  // ---- keys and credentials (no server involved)

  // A Key (random, or from words / xPrivKey) and credentials for one wallet from it.
  // args: words?, xPrivKey?, passphrase?, coin, chain, network, account, m, n, addressType
  async newCopayer(name, a) {
    if (clients[name]) throw new Error("client exists: " + name);
    const key = makeKey(a);
    const client = newApi();
    client.fromObj(makeCredentials(key, a));
    clients[name] = { client, key };
    return credentialsSummary(client);
  },
  // Another wallet's credentials from the Key of an existing client (same seed, same
  // request key: what bulk status needs).
  async deriveCopayer(name, a) {
    if (clients[name]) throw new Error("client exists: " + name);
    const key = getKey(a.from);
    const client = newApi();
    client.fromObj(makeCredentials(key, a));
    clients[name] = { client, key };
    return credentialsSummary(client);
  },
  async credentials(name) {
    return credentialsSummary(getClient(name));
  },
  async export(name) {
    const e = getEntry(name);
    return { credentials: e.client.toObj(), key: e.key ? e.key.toObj() : null };
  },
  async import(name, a) {
    if (clients[name]) throw new Error("client exists: " + name);
    const client = newApi();
    client.fromObj(a.credentials);
    const key = a.key ? new Key({ seedType: "object", seedData: a.key }) : null;
    clients[name] = { client, key };
    return credentialsSummary(client);
  },
  async getMnemonic(name) {
    return getKey(name).get(null).mnemonic;
  },
  // No server involved: the unsigned raw tx the client builds for a proposal
  // (Utils.buildTx(txp).uncheckedSerialize(), signed as proposalSignature).
  async buildTx(_name, a) {
    return { unsigned: Client.getRawTx(a.txp) };
  },
  // No server involved: the input signatures key.sign produces for a proposal (DER hex,
  // or 64-byte Schnorr hex for P2TR), in input order.
  async signatures(name, a) {
    const e = getEntry(name);
    return getKey(name).sign(e.client.credentials.rootPath, a.txp, a.password || null);
  },

  // ---- wallets

  // args: walletName, copayerName, m, n, network, coin, chain, singleAddress,
  //       useNativeSegwit, segwitVersion, id
  async createWallet(name, a) {
    const c = getClient(name);
    const opts = pick(a, ["singleAddress", "useNativeSegwit", "segwitVersion", "id", "walletPrivKey"]);
    opts.network = a.network || "testnet";
    opts.coin = a.coin || "btc";
    opts.chain = a.chain || opts.coin;
    const res = await c.createWallet(a.walletName || "w", a.copayerName || name, a.m, a.n, opts);
    return { secret: res.secret || null, wallet: res.wallet, credentials: credentialsSummary(c) };
  },
  async joinWallet(name, a) {
    const c = getClient(name);
    const coin = a.coin || "btc";
    const wallet = await c.joinWallet(a.secret, a.copayerName || name, { coin: coin, chain: a.chain || coin, dryRun: !!a.dryRun });
    return { wallet: wallet, credentials: credentialsSummary(c) };
  },
  async openWallet(name, a) {
    const c = getClient(name);
    const ret = await c.openWallet(pick(a, ["useNativeSegwit", "segwitVersion"]));
    // true when the credentials were already complete, else the status (pending or complete)
    return { status: ret === true ? null : ret, credentials: credentialsSummary(c) };
  },
  async recreateWallet(name) {
    await getClient(name).recreateWallet();
    return null;
  },
  async getStatus(name, a) {
    return getClient(name).getStatus(pick(a, ["includeExtendedInfo", "twoStep", "tokenAddress", "multisigContractAddress"]));
  },
  // GET /v1/wallets/all/ for several clients' wallets in one request (bulkClient). The
  // client refuses credentials with different request keys (they must come from one Key).
  async getStatusAll(name, a) {
    const c = getClient(name);
    const creds = (a.clients || [name]).map((n) => getClient(n).credentials);
    return c.bulkClient.getStatusAll(creds, pick(a, ["includeExtendedInfo", "twoStep", "silentFailure", "ignoreIncomplete", "wallets"]));
  },
  async getStatusByIdentifier(name, a) {
    return getClient(name).getStatusByIdentifier(pick(a, ["identifier", "includeExtendedInfo", "walletCheck"]));
  },
  // Seed import (API.serverAssistedImport): the client derives credentials for every
  // coin/network/multisig variant of the seed, asks GET /v1/wallets/all/ which exist, then
  // probes further accounts. Each wallet found becomes client `${prefix}${i}`.
  async serverAssistedImport(name, a) {
    const prefix = a.prefix || name + "-";
    const opts = pick(a, ["words", "xPrivKey", "passphrase", "includeTestnetWallets", "includeLegacyWallets", "use0forBCH"]);
    const res = await new Promise((resolve, reject) =>
      Client.serverAssistedImport(opts, { baseUrl: baseUrl, timeout: 30000, logLevel: "silent" }, (err, key, found) =>
        err ? reject(err) : resolve({ key, found: found || [] })));
    const names = [];
    res.found.forEach((client, i) => {
      const n = prefix + i;
      if (clients[n]) throw new Error("client exists: " + n);
      clients[n] = { client, key: res.key || null };
      names.push(n);
    });
    return names.map((n) => ({ client: n, credentials: credentialsSummary(clients[n].client) }));
  },
  // PUT /v1/copayers/:id/: a new request key signed by the Key (key.createAccess), then
  // addAccess; with useNewKey the client signs its next requests with it.
  async addAccess(name, a) {
    const c = getClient(name);
    const access = getKey(name).createAccess(null, { path: c.credentials.rootPath, requestPrivKey: a.requestPrivKey });
    const res = await c.addAccess({ requestPrivKey: access.requestPrivKey, signature: access.signature, name: a.copayerName, restrictions: a.restrictions });
    const requestPubKey = new Client.Bitcore.PrivateKey(access.requestPrivKey).toPublicKey().toString();
    if (a.useNewKey) {
      c.credentials.requestPrivKey = access.requestPrivKey;
      c.credentials.requestPubKey = requestPubKey;
    }
    return { wallet: res.wallet, requestPubKey: requestPubKey };
  },
  async startScan(name, a) {
    await getClient(name).startScan(pick(a, ["includeCopayerBranches", "startIdx"]));
    return null;
  },
  async getPreferences(name) {
    return getClient(name).getPreferences();
  },
  async savePreferences(name, a) {
    return getClient(name).savePreferences(a.preferences);
  },
  async getVersion(name) {
    return getClient(name).getVersion();
  },
  async clearCache(name, a) {
    return getClient(name).clearCache(pick(a, ["tokenAddress"]));
  },

  // ---- addresses, balance

  async createAddress(name, a) {
    return getClient(name).createAddress(a.opts || {});
  },
  async getMainAddresses(name, a) {
    return getClient(name).getMainAddresses(a.opts || {});
  },
  async getAddresses(name, a) {
    return getClient(name).getAddresses(a.opts || {});
  },
  async getBalance(name, a) {
    return getClient(name).getBalance(a.opts || {});
  },
  async getUtxos(name, a) {
    return getClient(name).getUtxos(a.opts || {});
  },
  async getCoinsForTx(name, a) {
    return getClient(name).getCoinsForTx(a.opts);
  },
  async getFeeLevels(name, a) {
    return getClient(name).getFeeLevels(a.chain || a.coin || "btc", a.network || "testnet");
  },
  async getSendMaxInfo(name, a) {
    return getClient(name).getSendMaxInfo(a.opts || {});
  },

  // ---- proposals

  // opts as the client takes them: outputs [{toAddress, amount, message}], message, feeLevel,
  // feePerKb, changeAddress, sendMax, excludeUnconfirmedUtxos, dryRun, inputs, fee,
  // noShuffleOutputs, enableRBF, replaceTxByFee, txProposalId, ...
  async createTxProposal(name, a) {
    return getClient(name).createTxProposal(a.opts);
  },
  async publishTxProposal(name, a) {
    const c = getClient(name);
    return c.publishTxProposal({ txp: await findTxp(c, a) });
  },
  async getTxProposals(name, a) {
    return getClient(name).getTxProposals(a.opts || {});
  },
  async getTx(name, a) {
    return getClient(name).getTx(a.txpId);
  },
  async getTxByHash(name, a) {
    return getClient(name).getTxByHash(a.txid);
  },
  // The 11.x way: key.sign(rootPath, txp) -> input signatures, then pushSignatures
  // (POST /v2/txproposals/:id/signatures/, after the client re-verifies the proposal).
  async signTxProposal(name, a) {
    const c = getClient(name);
    const txp = await findTxp(c, a);
    const sigs = await getKey(name).sign(c.credentials.rootPath, txp, a.password || null);
    return c.pushSignatures(txp, sigs);
  },
  async pushSignatures(name, a) {
    const c = getClient(name);
    return c.pushSignatures(await findTxp(c, a), a.signatures);
  },
  async rejectTxProposal(name, a) {
    const c = getClient(name);
    return c.rejectTxProposal(await findTxp(c, a), a.reason || null);
  },
  async broadcastTxProposal(name, a) {
    const c = getClient(name);
    const res = await c.broadcastTxProposal(await findTxp(c, a));
    return res.txp;
  },
  async removeTxProposal(name, a) {
    const c = getClient(name);
    await c.removeTxProposal(await findTxp(c, a));
    return null;
  },
  async broadcastRawTx(name, a) {
    return getClient(name).broadcastRawTx(pick(a, ["rawTx", "network"]));
  },
  async getTxHistory(name, a) {
    return getClient(name).getTxHistory(a.opts || {});
  },

  // ---- notes, notifications, fiat, push

  async editTxNote(name, a) {
    return getClient(name).editTxNote({ txid: a.txid, body: a.body });
  },
  async getTxNote(name, a) {
    return getClient(name).getTxNote({ txid: a.txid });
  },
  async getTxNotes(name, a) {
    return getClient(name).getTxNotes(a.opts || {});
  },
  // GET /v1/notifications/ with a session (POST /v1/login first, as the client does).
  async getNotifications(name, a) {
    return getClient(name).getNotifications(a.opts || {});
  },
  async getFiatRate(name, a) {
    return getClient(name).getFiatRate(pick(a, ["code", "ts", "coin"]));
  },
  async pushNotificationsSubscribe(name, a) {
    return getClient(name).pushNotificationsSubscribe(a.opts || {});
  },
  async pushNotificationsUnsubscribe(name, a) {
    await getClient(name).pushNotificationsUnsubscribe(a.externalUserId);
    return null;
  },
  async txConfirmationSubscribe(name, a) {
    return getClient(name).txConfirmationSubscribe({ txid: a.txid });
  },
  async txConfirmationUnsubscribe(name, a) {
    await getClient(name).txConfirmationUnsubscribe(a.txid);
    return null;
  },
  async logout(name) {
    await getClient(name).dispose();
    return null;
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

// BigInt never reaches JSON.stringify (the client uses it for EVM amounts only).
function toJson(v) {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}

async function handle(line) {
  let req;
  try {
    req = JSON.parse(line);
  } catch (e) {
    return { id: null, error: { name: "BadRequest", code: null, message: "bad JSON: " + e.message } };
  }
  const fn = Object.prototype.hasOwnProperty.call(commands, req.cmd) ? commands[req.cmd] : null;
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
    out(toJson(reply) + "\n");
  });
});
rl.on("close", () => chain.then(() => process.exit(0)));
process.on("unhandledRejection", (e) => process.stderr.write("unhandledRejection: " + (e && e.stack) + "\n"));
process.on("uncaughtException", (e) => process.stderr.write("uncaughtException: " + (e && e.stack) + "\n"));
