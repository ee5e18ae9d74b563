#!/usr/bin/env node
// A small command-line wallet made with bitcore-wallet-client 6.7.5, for trying BWS-Twisted
// (README "Quick start"). `node tools/bwc-wallet.js help` prints the commands.
// Tested by tests/interop/test_bwc_wallet_cli.py.
"use strict";

const fs = require("fs");
const path = require("path");

const ROOT = path.join(__dirname, "..");
const Client = require(path.join(ROOT, "node_modules", "bitcore-wallet-client"));

const PROG = "node tools/bwc-wallet.js";
const baseUrl = process.env.BWS_URL || "http://127.0.0.1:3232/bws/api";
const file = process.env.WALLET_FILE || path.join(ROOT, "data", "dev", "wallet.json");

const USAGE = `usage: ${PROG} COMMAND [ARGS]

A testnet BTC wallet (bitcore-wallet-client 6.7.5) on the BWS at $BWS_URL.

Commands:
  create [M N]              new M-of-N wallet (default 1-of-1); prints a receive address,
                            or (N > 1) the secret the other copayers join with
  join SECRET               join a wallet created with N > 1 (each copayer its own WALLET_FILE)
  status                    copayers joined, complete or not, the secret while pending, balance
  address                   a fresh receive address (once every copayer has joined)
  balance                   the balance (satoshis)
  email ADDRESS             e-mail alerts for this copayer (payments in and out)
  push TOKEN                push alerts to device TOKEN (the fake FCM with ./start.sh --dev)
  send ADDRESS AMOUNT_BTC   pay AMOUNT_BTC (e.g. 0.01) to ADDRESS: creates, publishes and signs
                            a proposal, broadcasts it once it has M signatures (1-of-1: at once;
                            M-of-N: the other copayers run 'pending' and 'sign')
  pending                   proposals waiting for signatures or broadcast
  sign PROPOSAL_ID          sign a pending proposal; broadcasts it once it has M signatures
  help                      this text

Environment:
  BWS_URL      the API (default http://127.0.0.1:3232/bws/api)
  WALLET_FILE  this copayer's credentials (default data/dev/wallet.json);
               keep it private: it holds the keys

Results are JSON on stdout. An error is one line on stderr; exit status 1 when a request
failed, 2 for a bad command line.`;

/** A bad command line (exit status 2). */
class UsageError extends Error {}

function client() {
  return new Client({ baseUrl: baseUrl, timeout: 30000, logLevel: "silent" });
}

function load() {
  if (!fs.existsSync(file)) throw new Error(`${file} not found: run '${PROG} create' first (or 'join SECRET')`);
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

// The client refuses addresses and proposals ("Illegal State.") until it holds every
// copayer's key; openWallet fetches them once all have joined. Otherwise say where the
// wallet stands and what to do.
async function openComplete(c) {
  const was = c.isComplete();
  await p(c.openWallet, c);
  if (c.isComplete()) {
    if (!was) save(c);
    return c;
  }
  const w = (await p(c.getStatus, c, {})).wallet;
  const join = w.secret
    ? `each other copayer runs '${PROG} join ${w.secret}' with its own WALLET_FILE (share this secret with them)`
    : `each other copayer runs '${PROG} join SECRET' ('status' prints the secret)`;
  throw new Error(`wallet not complete: ${w.copayers.length} of ${w.n} copayers have joined; ${join}, then run this again`);
}

// "0.01" -> 1000000 satoshis; exact (no floating point), at most 8 decimals, > 0.
function satoshis(amount) {
  const m = /^(\d{1,8})(?:\.(\d{1,8}))?$/.exec(amount || "");
  const sat = m ? Number(m[1]) * 1e8 + Number((m[2] || "").padEnd(8, "0")) : 0;
  if (!sat) throw new UsageError(`AMOUNT_BTC must be a positive amount of BTC with at most 8 decimals, e.g. 0.01 (got '${amount}')`);
  return sat;
}

// What a user needs of a proposal (amounts in satoshis).
function summary(c, txp) {
  const actions = txp.actions || [];
  const out = {
    id: txp.id,
    status: txp.status,
    amount: txp.amount,
    fee: txp.fee,
    outputs: (txp.outputs || []).map((o) => ({ toAddress: o.toAddress, amount: o.amount })),
    creator: txp.creatorName,
    signatures: actions.filter((a) => a.type === "accept").length,
    requiredSignatures: txp.requiredSignatures,
    signedByYou: actions.some((a) => a.type === "accept" && a.copayerId === c.credentials.copayerId),
  };
  if (txp.txid) out.txid = txp.txid;
  return out;
}

// Broadcast once the proposal has its M signatures; otherwise tell who acts next.
async function broadcastIfAccepted(c, txp) {
  if (txp.status !== "accepted") {
    return Object.assign(summary(c, txp), {
      next: `${txp.requiredSignatures} signatures needed: the other copayers run '${PROG} pending' and '${PROG} sign ${txp.id}'`,
    });
  }
  try {
    return summary(c, await p(c.broadcastTxProposal, c, txp));
  } catch (err) {
    throw new Error(`proposal ${txp.id} is signed but its broadcast failed (retry: '${PROG} sign ${txp.id}'): ${describe(err)}`);
  }
}

function usage(cmd, args, want) {
  return new UsageError(`usage: ${PROG} ${cmd} ${args}` + (want ? ` (${want})` : ""));
}

const commands = {
  async create(m = "1", n = "1") {
    const M = Number(m), N = Number(n);
    if (!(Number.isInteger(M) && Number.isInteger(N) && M >= 1 && M <= N)) throw usage("create", "[M N]", `1 <= M <= N, got ${m} ${n}`);
    if (fs.existsSync(file)) throw new Error(`${file} exists: set WALLET_FILE=other.json for another wallet`);
    const c = client();
    c.seedFromRandomWithMnemonic({ network: "testnet", coin: "btc" });
    const secret = await p(c.createWallet, c, "my wallet", "me", M, N, { network: "testnet", coin: "btc" });
    save(c);
    const out = { walletId: c.credentials.walletId, m: M, n: N, credentials: file };
    if (secret) {
      out.secret = secret;
      out.next = `each other copayer runs '${PROG} join ${secret}' with its own WALLET_FILE`;
    }
    if (N === 1) out.address = (await p(c.createAddress, c, {})).address;
    show(out);
  },
  async join(secret) {
    if (!secret) throw usage("join", "SECRET");
    if (fs.existsSync(file)) throw new Error(`${file} exists: set WALLET_FILE=other.json`);
    const c = client();
    c.seedFromRandomWithMnemonic({ network: "testnet", coin: "btc" });
    const wallet = await p(c.joinWallet, c, secret, "copayer", { coin: "btc" });
    save(c);
    show({ walletId: wallet.id, joined: true, complete: wallet.status === "complete", credentials: file });
  },
  async address() {
    const c = await openComplete(load());
    show(await p(c.createAddress, c, {}));
  },
  async balance() {
    const c = await openComplete(load());
    show(await p(c.getBalance, c, {}));
  },
  async status() {
    const c = load();
    const st = await p(c.getStatus, c, {});
    const w = st.wallet;
    const out = { wallet: { id: w.id, name: w.name, m: w.m, n: w.n, status: w.status, copayers: w.copayers.map((x) => x.name) }, balance: st.balance };
    if (w.secret) out.wallet.secret = w.secret;
    show(out);
  },
  async email(address) {
    if (!address) throw usage("email", "ADDRESS");
    const c = load();
    show(await p(c.savePreferences, c, { email: address, language: "en", unit: "btc" }));
  },
  async push(token) {
    if (!token) throw usage("push", "TOKEN");
    const c = load();
    show(await p(c.pushNotificationsSubscribe, c, { type: "android", token: token, packageName: "org.bws.dev", platform: "Android" }) || { subscribed: token });
  },
  async send(address, amount, ...rest) {
    if (!address || amount === undefined || rest.length) throw usage("send", "ADDRESS AMOUNT_BTC");
    const sat = satoshis(amount);
    const c = await openComplete(load());
    const draft = await p(c.createTxProposal, c, { outputs: [{ toAddress: address, amount: sat }], feeLevel: "normal" });
    const published = await p(c.publishTxProposal, c, { txp: draft });
    let signed;
    try {
      signed = await p(c.signTxProposal, c, published);
    } catch (err) {
      throw new Error(`proposal ${published.id} is published but signing failed (retry: '${PROG} sign ${published.id}'): ${describe(err)}`);
    }
    show(await broadcastIfAccepted(c, signed));
  },
  async pending() {
    const c = await openComplete(load());
    show((await p(c.getTxProposals, c, {})).map((t) => summary(c, t)));
  },
  async sign(id) {
    if (!id) throw usage("sign", "PROPOSAL_ID");
    const c = await openComplete(load());
    let txp = (await p(c.getTxProposals, c, {})).find((t) => t.id === id);
    if (!txp) throw new Error(`no pending proposal ${id} (see '${PROG} pending')`);
    // an accepted one has all its signatures: only its broadcast is left (it failed before)
    if (txp.status !== "accepted") txp = await p(c.signTxProposal, c, txp);
    show(await broadcastIfAccepted(c, txp));
  },
};

// One line: the server's error code and message (bwc.Error<CODE>), or the library's message.
function describe(err) {
  if (!err) return "unknown error";
  const code = typeof err.name === "string" && err.name.startsWith("bwc.Error") ? err.name.slice("bwc.Error".length) : "";
  let msg = err.message || String(err);
  if (code === "CONNECTION_ERROR") msg = `cannot reach BWS at ${baseUrl} (is it running? ./start.sh --dev)`;
  else if (code && !msg.includes(code)) msg = `${code}: ${msg}`;
  return msg.replace(/\s+/g, " ").trim();
}

const [cmd, ...args] = process.argv.slice(2);
if (cmd === undefined) {
  process.stderr.write(USAGE + "\n");
  process.exit(2);
}
if (["help", "--help", "-h"].includes(cmd)) {
  process.stdout.write(USAGE + "\n");
  process.exit(0);
}
if (!Object.prototype.hasOwnProperty.call(commands, cmd)) {
  process.stderr.write(`error: unknown command '${cmd}' (see '${PROG} help')\n`);
  process.exit(2);
}
commands[cmd](...args).catch((err) => {
  process.stderr.write(`error: ${describe(err)}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
