#!/usr/bin/env node
// Tiny bitcore-wallet-client 6.7.5 CLI for trying BWS-Twisted (./start.sh --dev).
//
//   node tools/bwc-wallet.js create [M N]      new testnet wallet (default 1-of-1), prints a receive address
//   node tools/bwc-wallet.js join SECRET       join a wallet created with N > 1
//   node tools/bwc-wallet.js address           a fresh receive address
//   node tools/bwc-wallet.js balance           the wallet balance (satoshis)
//   node tools/bwc-wallet.js status            wallet status (copayers, complete or not)
//   node tools/bwc-wallet.js email ADDRESS     e-mail notifications for this copayer (PUT /v1/preferences)
//   node tools/bwc-wallet.js push TOKEN        push notifications to device TOKEN (fake FCM in --dev)
//
// Options (environment): BWS_URL (default http://127.0.0.1:3232/bws/api),
// WALLET_FILE (credentials, default data/dev/wallet.json; keep it private: it holds the keys).
"use strict";

const fs = require("fs");
const path = require("path");
const Client = require(path.join(__dirname, "..", "node_modules", "bitcore-wallet-client"));

const baseUrl = process.env.BWS_URL || "http://127.0.0.1:3232/bws/api";
const file = process.env.WALLET_FILE || path.join(__dirname, "..", "data", "dev", "wallet.json");

function client() {
  return new Client({ baseUrl: baseUrl, timeout: 30000, logLevel: "silent" });
}

function load() {
  if (!fs.existsSync(file)) throw new Error(`${file} not found: run 'node tools/bwc-wallet.js create' first`);
  const c = client();
  c.import(fs.readFileSync(file, "utf8"));
  return c;
}

function save(c) {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  fs.writeFileSync(file, c.export(), { mode: 0o600 });
}

function p(fn, self, ...args) {
  return new Promise((resolve, reject) => fn.apply(self, args.concat([(err, res) => (err ? reject(err) : resolve(res))])));
}

function show(obj) {
  process.stdout.write(JSON.stringify(obj, null, 2) + "\n");
}

const commands = {
  async create(m = "1", n = "1") {
    if (fs.existsSync(file)) throw new Error(`${file} exists: set WALLET_FILE=other.json for another wallet`);
    const c = client();
    c.seedFromRandomWithMnemonic({ network: "testnet", coin: "btc" });
    const secret = await p(c.createWallet, c, "my wallet", "me", Number(m), Number(n), { network: "testnet", coin: "btc" });
    save(c);
    const out = { walletId: c.credentials.walletId, m: Number(m), n: Number(n), credentials: file };
    if (secret) out.secret = secret; // give it to the other copayers: node tools/bwc-wallet.js join SECRET
    if (Number(n) === 1) out.address = (await p(c.createAddress, c, {})).address;
    show(out);
  },
  async join(secret) {
    if (fs.existsSync(file)) throw new Error(`${file} exists: set WALLET_FILE=other.json`);
    const c = client();
    c.seedFromRandomWithMnemonic({ network: "testnet", coin: "btc" });
    const wallet = await p(c.joinWallet, c, secret, "copayer", { coin: "btc" });
    save(c);
    show({ walletId: wallet.id, joined: true, credentials: file });
  },
  async address() {
    const c = load();
    await p(c.openWallet, c);
    save(c);
    show(await p(c.createAddress, c, {}));
  },
  async balance() {
    const c = load();
    show(await p(c.getBalance, c, {}));
  },
  async status() {
    const c = load();
    const st = await p(c.getStatus, c, {});
    show({ wallet: { id: st.wallet.id, name: st.wallet.name, m: st.wallet.m, n: st.wallet.n, status: st.wallet.status,
      copayers: st.wallet.copayers.map((x) => x.name) }, balance: st.balance });
  },
  async email(address) {
    const c = load();
    show(await p(c.savePreferences, c, { email: address, language: "en", unit: "btc" }));
  },
  async push(token) {
    const c = load();
    show(await p(c.pushNotificationsSubscribe, c, { type: "android", token: token, packageName: "org.bws.dev", platform: "Android" }) || { subscribed: token });
  },
};

const [cmd, ...args] = process.argv.slice(2);
if (!commands[cmd]) {
  process.stderr.write(fs.readFileSync(__filename, "utf8").split("\n").slice(1, 15).map((l) => l.replace(/^\/\/ ?/, "")).join("\n") + "\n");
  process.exit(2);
}
commands[cmd](...args).catch((err) => {
  process.stderr.write(`error: ${(err && (err.message || err.name)) || err}\n`);
  process.exit(1);
});
