'use strict';
// greenloop/monkey: what a patched call costs against its original, and what
// patching buys for N greenlets that each block in execSync.
//
//   node bench/monkey.js [--rounds 7] [--n 4]
//
// Per-call costs are medians over rounds of a fixed batch, each beside the
// original measured in the same run:
//   - original on the root (plain Node),
//   - patched on the root (the rule's fast path: runs the original),
//   - patched in a spawned greenlet (the emulation: a park on the thread pool),
// for statSync and readFileSync of a small file; then the stack check the rule
// uses to recognise Node's own callers; then the crypto/zlib thresholds
// (the original's cost at the threshold vs a park); then N greenlets each
// execSync('sleep 0.3'), patched vs unpatched.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const cp = require('node:child_process');
const crypto = require('node:crypto');
const zlib = require('node:zlib');
const { DIST, median, fmtNs, fmtRatio, printTable, printBanner, machine, parseArgs } = require('./lib/common.js');

const { spawn, joinall } = require(DIST);
const monkey = require(path.join(path.dirname(DIST), 'monkey', 'index.js'));

const args = parseArgs(process.argv.slice(2));
const ROUNDS = Number(args.rounds ?? 7);
const N = Number(args.n ?? 4);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'greenloop-bench-monkey-'));
const small = path.join(dir, 'small.txt');
fs.writeFileSync(small, 'x'.repeat(100));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

/** Median ns per call of fn over ROUNDS rounds of `batch` calls. */
function perCall(fn, batch) {
  for (let i = 0; i < batch; i++) fn(); // warm-up
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) fn();
    rounds.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  return median(rounds);
}

/** The rule's stack check, as lib/monkey/rule.ts does it: the caller's file name. */
function callerIsNode() {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  Error.prepareStackTrace = (_, sites) => sites;
  Error.stackTraceLimit = 1;
  try {
    const holder = {};
    Error.captureStackTrace(holder, callerIsNode);
    return String(holder.stack[0]?.getFileName()).startsWith('node:');
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

function runInGreenlet(fn) {
  return new Promise((resolve, reject) => {
    const g = spawn(fn);
    g.link(() => (g.exception ? reject(g.exception) : resolve(g.value)));
  });
}

async function main() {
  printBanner('monkey', machine());
  const calls = [
    ['statSync', () => fs.statSync(small), 20000, 2000],
    ['readFileSync (100 B)', () => fs.readFileSync(small), 20000, 2000],
  ];
  const rows = [['call', 'original (root)', 'patched, root', 'patched, greenlet', 'greenlet / original']];
  const report = {};
  for (const [name, fn, rootBatch, greenletBatch] of calls) {
    const original = perCall(fn, rootBatch);
    monkey.patchAll();
    const onRoot = perCall(fn, rootBatch);
    const inGreenlet = await runInGreenlet(() => perCall(fn, greenletBatch));
    monkey.unpatch();
    rows.push([name, fmtNs(original), fmtNs(onRoot), fmtNs(inGreenlet), fmtRatio(inGreenlet / original)]);
    report[name] = { original, onRoot, inGreenlet };
  }
  console.log('\nPer call (median of rounds):');
  printTable(rows);
  console.log(
    `\nThe rule's stack check (is the caller Node's own code?): ${fmtNs(perCall(callerIsNode, 20000))} per call`,
  );

  console.log(
    '\nThresholds (below them a patched call runs the original; a park costs about the greenlet figure above):',
  );
  printTable([
    ['work at the threshold', 'original'],
    [
      'pbkdf2Sync, 1000 iterations sha256',
      fmtNs(perCall(() => crypto.pbkdf2Sync('pw', 'salt', 1000, 32, 'sha256'), 50)),
    ],
    ['randomFillSync, 256 KiB', fmtNs(perCall(() => crypto.randomFillSync(Buffer.alloc(256 * 1024)), 50))],
    ['gzipSync, 64 KiB text', fmtNs(perCall(() => zlib.gzipSync(Buffer.alloc(64 * 1024, 'greenloop ')), 100))],
    ['generateKeyPairSync ed25519 (never parks)', fmtNs(perCall(() => crypto.generateKeyPairSync('ed25519'), 50))],
  ]);

  const execRun = async () => {
    const t0 = process.hrtime.bigint();
    await runInGreenlet(() => joinall(Array.from({ length: N }, () => spawn(() => cp.execSync('sleep 0.3')))));
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const unpatched = [];
  const patched = [];
  for (let r = 0; r < Math.min(ROUNDS, 3); r++) {
    unpatched.push(await execRun());
    monkey.patchAll();
    patched.push(await execRun());
    monkey.unpatch();
  }
  const u = median(unpatched);
  const p = median(patched);
  console.log(`\n${N} greenlets each execSync('sleep 0.3') (median of ${patched.length} runs):`);
  printTable([
    ['', 'elapsed', 'vs one sleep'],
    ['unpatched', `${u.toFixed(0)} ms`, fmtRatio(u / 300)],
    ['patched', `${p.toFixed(0)} ms`, fmtRatio(p / 300)],
    ['speed-up', fmtRatio(u / p), ''],
  ]);
  report.execSync = { n: N, unpatchedMs: u, patchedMs: p };
  console.log(`\nBENCH_JSON ${JSON.stringify(report)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
