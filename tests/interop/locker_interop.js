// Interop check: the npm `locker` client (the one the reference BWS used) against our
// `python -m locker`. Usage: node tests/interop/locker_interop.js PORT
// Prints one JSON line per step; exits 0 when every step behaved as the reference expects.
"use strict";
const path = require("path");
const Locker = require(path.join(__dirname, "..", "..", "node_modules", "locker"));

const port = parseInt(process.argv[2], 10);
const a = new Locker(port, "127.0.0.1");
const b = new Locker(port, "127.0.0.1");
const errors = [];
a.on("error", (e) => errors.push("a: " + e.message));
b.on("error", (e) => errors.push("b: " + e.message));

function step(name, fields) {
  console.log(JSON.stringify(Object.assign({ step: name }, fields || {})));
}

function locked(client, name, wait, timeout) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    client.locked(name, wait, timeout, (err, release) => resolve({ err: err ? err.message : null, release, ms: Date.now() - t0 }));
  });
}

(async () => {
  let ok = true;
  // 1. take and release a lock
  const r1 = await locked(a, "wallet-1", 10000, 300000);
  step("lock", { err: r1.err });
  ok = ok && r1.err === null;
  // 2. second client waits while the first holds; gets it once released
  const p2 = locked(b, "wallet-1", 5000, 300000);
  setTimeout(() => r1.release(), 300);
  const r2 = await p2;
  step("handover", { err: r2.err, ms: r2.ms });
  ok = ok && r2.err === null && r2.ms >= 250;
  // 3. a waiter whose wait elapses fails (server LOCK/0 or client timer)
  const r3 = await locked(a, "wallet-1", 500, 300000);
  step("busy", { err: r3.err, ms: r3.ms });
  ok = ok && r3.err !== null && r3.ms >= 450;
  r2.release();
  // 4. names are independent; utf-8 names work
  const r4 = await locked(a, "wallet-ü-2", 1000, 300000);
  step("utf8", { err: r4.err });
  ok = ok && r4.err === null;
  r4.release();
  // 5. the server's hold timeout frees a lock nobody releases
  const r5 = await locked(a, "wallet-3", 1000, 300);
  const r6 = await locked(b, "wallet-3", 2000, 300000);
  step("hold-timeout", { err5: r5.err, err6: r6.err, ms: r6.ms });
  ok = ok && r5.err === null && r6.err === null && r6.ms >= 200;
  r6.release();
  await new Promise((r) => setTimeout(r, 200));
  step("done", { ok, errors });
  process.exit(ok ? 0 : 1);
})();
