// JSON-lines driver for the real npm bitcore-wallet-client 10.10.15 (npm alias `bwc10`);
// tests/interop/bwc11_driver.js is the same REPL for 11.5.2 and bwc_driver.js for 6.7.5.
//
// Usage: node tests/interop/bwc10_driver.js BASE_URL
//   (BASE_URL like http://127.0.0.1:3232/bws/api)
//
// Protocol (identical to bwc11_driver.js, so tests/interop/harness.py drives all three): one
// JSON request per line on stdin
//   {"id": 1, "client": "alice", "cmd": "createWallet", "args": {...}}
// and exactly one JSON reply per request on stdout
//   {"id": 1, "result": <value>}                                          on success
//   {"id": 1, "error": {"name": "...", "code": "...", "message": "..."}}  on failure
//
// 10.x has 11.x's Key / Credentials split and its routes (docs/spec/protocol-bwc11.md §5), but
// for getMainAddresses (GET /v1/addresses/) and its API: node callbacks, which this driver wraps
// in promises (`cb(api, "method", args...)`); `Key#sign` is synchronous. The module exports
// the client class as `default` (ts_build/index.js) with Key, Utils, Bitcore as its statics.
// bitcore-lib refuses to load twice in one process: this driver loads bwc10's tree only.
"use strict";

const readline = require("readline");

const out = process.stdout.write.bind(process.stdout);
for (const m of ["log", "info", "warn", "debug", "error"]) {
  console[m] = (...a) => process.stderr.write(a.map(String).join(" ") + "\n");
}

let bwc;
try {
  bwc = require("bwc10");
} catch (e) {
  process.stderr.write(
    "cannot load bitcore-wallet-client 10.10.15 (npm alias bwc10): " + e.message +
    "\nrun ./setup.sh (npm ci --ignore-scripts from package-lock.json)\n");
  process.exit(3);
}
const Client = bwc.default || bwc.API || bwc;
const Key = Client.Key;
const pkg = require("bwc10/package.json");

const baseUrl = process.argv[2];
if (!baseUrl) {
  process.stderr.write("usage: node bwc10_driver.js BASE_URL\n");
  process.exit(2);
}

// name -> {client: API, key: Key|null}
const clients = {};

function newApi() {
  return new Client({ baseUrl: baseUrl, timeout: 30000, logLevel: "silent" });
}

// obj.method(...args, callback) as a promise of the callback's first result.
function cb(obj, method, ...args) {
  return new Promise((resolve, reject) => {
    try {
      obj[method](...args, (err, res) => (err ? reject(err) : resolve(res)));
    } catch (e) {
      reject(e);
    }
  });
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

function makeKey(a) {
  const opts = { seedType: "new" };
  if (a.words) Object.assign(opts, { seedType: "mnemonic", seedData: a.words });
  else if (a.xPrivKey) Object.assign(opts, { seedType: "extendedPrivateKey", seedData: a.xPrivKey });
  if (a.passphrase) opts.passphrase = a.passphrase;
  return new Key(opts);
}

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

// A proposal: given inline, or by id among the pending ones (GET /v2/txproposals/, verified
// by the client), else GET /v1/txproposals/:id.
async function findTxp(c, a) {
  if (a.txp) return a.txp;
  if (!a.txpId) throw new Error("txp or txpId required");
  const pending = await cb(c, "getTxProposals", {});
  const found = pending.find((t) => t.id === a.txpId);
  if (found) return found;
  return cb(c, "getTx", a.txpId);
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

  async newCopayer(name, a) {
    if (clients[name]) throw new Error("client exists: " + name);
    const key = makeKey(a);
    const client = newApi();
    client.fromObj(makeCredentials(key, a));
    clients[name] = { client, key };
    return credentialsSummary(client);
  },
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

  // ---- wallets

  async createWallet(name, a) {
    const c = getClient(name);
    const opts = pick(a, ["singleAddress", "useNativeSegwit", "segwitVersion", "id", "walletPrivKey"]);
    opts.network = a.network || "testnet";
    opts.coin = a.coin || "btc";
    opts.chain = a.chain || opts.coin;
    const secret = await cb(c, "createWallet", a.walletName || "w", a.copayerName || name, a.m, a.n, opts);
    return { secret: secret || null, credentials: credentialsSummary(c) };
  },
  async joinWallet(name, a) {
    const c = getClient(name);
    const coin = a.coin || "btc";
    const wallet = await cb(c, "joinWallet", a.secret, a.copayerName || name, { coin: coin, chain: a.chain || coin, dryRun: !!a.dryRun });
    return { wallet: wallet, credentials: credentialsSummary(c) };
  },
  async openWallet(name, a) {
    const c = getClient(name);
    const ret = await cb(c, "openWallet", pick(a, ["useNativeSegwit", "segwitVersion"]));
    return { status: ret === true ? null : ret, credentials: credentialsSummary(c) };
  },
  async getStatus(name, a) {
    return cb(getClient(name), "getStatus", pick(a, ["includeExtendedInfo", "twoStep", "tokenAddress", "multisigContractAddress"]));
  },
  async getStatusAll(name, a) {
    const c = getClient(name);
    const creds = (a.clients || [name]).map((n) => getClient(n).credentials);
    return cb(c.bulkClient, "getStatusAll", creds, pick(a, ["includeExtendedInfo", "twoStep", "silentFailure", "ignoreIncomplete", "wallets"]));
  },
  async getPreferences(name) {
    return cb(getClient(name), "getPreferences");
  },
  async savePreferences(name, a) {
    return cb(getClient(name), "savePreferences", a.preferences);
  },
  async getVersion(name) {
    return cb(getClient(name), "getVersion");
  },

  // ---- addresses, balance

  async createAddress(name, a) {
    return cb(getClient(name), "createAddress", a.opts || {});
  },
  // GET /v1/addresses/?limit=&reverse=1 in 10.x (11.x: GET /v2/addresses)
  async getMainAddresses(name, a) {
    return cb(getClient(name), "getMainAddresses", a.opts || {});
  },
  async getBalance(name, a) {
    return cb(getClient(name), "getBalance", a.opts || {});
  },
  async getUtxos(name, a) {
    return cb(getClient(name), "getUtxos", a.opts || {});
  },
  async getFeeLevels(name, a) {
    return cb(getClient(name), "getFeeLevels", a.chain || a.coin || "btc", a.network || "testnet");
  },
  async getSendMaxInfo(name, a) {
    return cb(getClient(name), "getSendMaxInfo", a.opts || {});
  },

  // ---- proposals

  async createTxProposal(name, a) {
    return cb(getClient(name), "createTxProposal", a.opts);
  },
  async publishTxProposal(name, a) {
    const c = getClient(name);
    return cb(c, "publishTxProposal", { txp: await findTxp(c, a) });
  },
  async getTxProposals(name, a) {
    return cb(getClient(name), "getTxProposals", a.opts || {});
  },
  async getTx(name, a) {
    return cb(getClient(name), "getTx", a.txpId);
  },
  async getTxByHash(name, a) {
    return cb(getClient(name), "getTxByHash", a.txid);
  },
  // key.sign(rootPath, txp) (synchronous in 10.x) then pushSignatures (POST /v2/…/signatures/)
  async signTxProposal(name, a) {
    const c = getClient(name);
    const txp = await findTxp(c, a);
    const sigs = getKey(name).sign(c.credentials.rootPath, txp, a.password || null);
    return cb(c, "pushSignatures", txp, sigs);
  },
  async rejectTxProposal(name, a) {
    const c = getClient(name);
    return cb(c, "rejectTxProposal", await findTxp(c, a), a.reason || null);
  },
  async broadcastTxProposal(name, a) {
    const c = getClient(name);
    return cb(c, "broadcastTxProposal", await findTxp(c, a));
  },
  async removeTxProposal(name, a) {
    const c = getClient(name);
    await cb(c, "removeTxProposal", await findTxp(c, a));
    return null;
  },
  async getTxHistory(name, a) {
    return cb(getClient(name), "getTxHistory", a.opts || {});
  },

  // ---- notes, notifications, fiat, push

  async editTxNote(name, a) {
    return cb(getClient(name), "editTxNote", { txid: a.txid, body: a.body });
  },
  async getTxNote(name, a) {
    return cb(getClient(name), "getTxNote", { txid: a.txid });
  },
  async getTxNotes(name, a) {
    return cb(getClient(name), "getTxNotes", a.opts || {});
  },
  async getNotifications(name, a) {
    return cb(getClient(name), "getNotifications", a.opts || {});
  },
  async getFiatRate(name, a) {
    return cb(getClient(name), "getFiatRate", pick(a, ["code", "ts", "coin"]));
  },
  async pushNotificationsSubscribe(name, a) {
    return cb(getClient(name), "pushNotificationsSubscribe", a.opts || {});
  },
  async pushNotificationsUnsubscribe(name, a) {
    await cb(getClient(name), "pushNotificationsUnsubscribe", a.externalUserId);
    return null;
  },
  async txConfirmationSubscribe(name, a) {
    return cb(getClient(name), "txConfirmationSubscribe", { txid: a.txid });
  },
  async txConfirmationUnsubscribe(name, a) {
    await cb(getClient(name), "txConfirmationUnsubscribe", a.txid);
    return null;
  },
  async logout(name) {
    await cb(getClient(name), "dispose");
    return null;
  },
};

function errorReply(err) {
  const name = (err && err.name) || "Error";
  const message = (err && err.message) || String(err);
  let m = /^bwc\.Error(.+)$/.exec(name);
  let code = m ? m[1] : null;
  if (!code && name === "Error" && (m = /^([A-Z][A-Z0-9_]+): /.exec(message))) code = m[1];
  return { name: name, code: code, message: message };
}

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
