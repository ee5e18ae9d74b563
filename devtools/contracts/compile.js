// Compile TryToken.sol into TryToken.json ({contractName, abi, bytecode, ...}).
// Usage: node devtools/contracts/compile.js   (from the repo root, after npm ci)
// evmVersion must stay "shanghai": ganache 7.9.2 fails cancun bytecode with
// "invalid opcode" (docs/spec/toolchain.md §4).
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..", "..", "..");
const solc = require(path.join(root, "node_modules", "solc"));

const EVM_VERSION = "shanghai";
const source = fs.readFileSync(path.join(__dirname, "TryToken.sol"), "utf8");
const input = {
  language: "Solidity",
  sources: { "TryToken.sol": { content: source } },
  settings: {
    evmVersion: EVM_VERSION,
    optimizer: { enabled: true, runs: 200 },
    outputSelection: { "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] } },
  },
};

const output = JSON.parse(solc.compile(JSON.stringify(input)));
const errors = (output.errors || []).filter((e) => e.severity === "error");
for (const e of output.errors || []) console.error(e.formattedMessage);
if (errors.length) process.exit(1);

const c = output.contracts["TryToken.sol"].TryToken;
const artifact = {
  contractName: "TryToken",
  compiler: "solc-js " + solc.version(),
  evmVersion: EVM_VERSION,
  abi: c.abi,
  bytecode: "0x" + c.evm.bytecode.object,
  deployedBytecode: "0x" + c.evm.deployedBytecode.object,
};
const out = path.join(__dirname, "TryToken.json");
fs.writeFileSync(out, JSON.stringify(artifact, null, 2) + "\n");
console.log("wrote " + out);
