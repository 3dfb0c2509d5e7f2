'use strict';
// Fibers benchmark: greenloop/fibers next to greenloop's own primitive.
//
//   node bench/fibers.js [--runs 9] [--sample-ms 120] [--churn 20000]
//
// For each backend ('user-space', 'threads'), in a child process of its own,
// samples taken in turns (so drift hits every figure alike):
//   - round trip main -> greenlet -> main (Greenlet#switch), ns;
//   - round trip main -> fiber -> main (fiber.run() / Fiber.yield()), ns;
//   - the same fiber round trip with the fiber inside AsyncResource#runInAsyncScope
//     (its scope is popped and pushed back at each switch), ns;
//   - create + run + finish of a greenlet whose function returns at once, ns;
//   - the same for a fiber (Fiber(fn).run()), ns;
//   - fiber create + finish again after --churn more fibers were created and
//     finished (node-fibers kept an O(n) per-thread list, #305).
// Every figure is the median over --runs samples; brackets show min-max. The
// last line printed is JSON with every figure.

const path = require('node:path');
const c = require('./lib/common.js');

const args = c.parseArgs();
const RUNS = Number(args.runs ?? 9);
const SAMPLE_MS = Number(args['sample-ms'] ?? 120);
const CHURN = Number(args.churn ?? 20_000);
const FIBERS = path.join(c.ROOT, 'dist', 'cjs', 'fibers', 'fibers.js');

async function child() {
  const { RawGreenlet: Greenlet, getcurrent, getBackend } = require(c.DIST);
  const { AsyncResource } = require('node:async_hooks');
  const Fiber = require(FIBERS);
  const root = getcurrent();
  /** ns per call of `step`, over n calls (the call itself costs the same few ns in every figure). */
  const timed = (step) => (n) => {
    const t0 = c.now();
    for (let i = 0; i < n; i++) step();
    return c.elapsedNs(t0) / n;
  };

  const echo = new Greenlet(() => {
    for (;;) root.switch();
  });
  echo.switch();
  const greenletRoundTrip = timed(() => echo.switch());

  const fiber = Fiber(() => {
    for (;;) Fiber.yield();
  });
  fiber.run();
  const fiberRoundTrip = timed(() => fiber.run());

  const scoped = Fiber(() => {
    new AsyncResource('bench').runInAsyncScope(() => {
      for (;;) Fiber.yield();
    });
  });
  scoped.run();
  const scopedRoundTrip = timed(() => scoped.run());

  const nothing = () => 0;
  const greenletCreate = timed(() => new Greenlet(nothing).switch());
  const fiberCreate = timed(() => Fiber(nothing).run());

  const measures = { greenletRoundTrip, fiberRoundTrip, scopedRoundTrip, greenletCreate, fiberCreate };
  const iterations = {};
  for (const [name, fn] of Object.entries(measures)) iterations[name] = await c.calibrate(fn, SAMPLE_MS, 200, 1 << 22);
  const samples = Object.fromEntries(Object.keys(measures).map((k) => [k, []]));
  for (let r = 0; r < RUNS; r++) {
    for (const [name, fn] of Object.entries(measures)) samples[name].push(fn(iterations[name]));
  }
  // #305: creating and finishing many fibers must not slow later ones down.
  const beforeChurn = [];
  const afterChurn = [];
  const n = iterations.fiberCreate;
  for (let r = 0; r < RUNS; r++) beforeChurn.push(fiberCreate(n));
  for (let i = 0; i < CHURN; i++) Fiber(nothing).run();
  for (let r = 0; r < RUNS; r++) afterChurn.push(fiberCreate(n));
  c.sendResult({
    backend: getBackend(),
    ...Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, c.summary(xs)])),
    fiberCreateBeforeChurn: c.summary(beforeChurn),
    fiberCreateAfterChurn: c.summary(afterChurn),
    fibersCreated: Fiber.fibersCreated,
  });
}

function main() {
  const m = c.machine();
  const t0 = Date.now();
  c.printBanner('fibers', m);
  console.log(`${RUNS} samples of ~${SAMPLE_MS} ms each per figure; medians [min-max]\n`);
  const json = { machine: m, runs: RUNS, churn: CHURN, backends: {} };
  for (const backend of c.BACKENDS) {
    const r = c.runChild(
      __filename,
      ['--child', '--runs', String(RUNS), '--sample-ms', String(SAMPLE_MS), '--churn', String(CHURN)],
      {
        env: c.backendEnv(backend),
      },
    );
    json.backends[backend] = r;
    console.log(`backend ${backend}${r.error ? '' : ` (${r.backend})`}`);
    if (r.error) {
      console.log(`  failed: ${r.error}\n`);
      continue;
    }
    const ratio = (a, b) => c.fmtRatio(a.median / b.median);
    c.printTable([
      ['operation', 'greenlet primitive', 'fiber', 'fiber / greenlet'],
      [
        'round trip (switch / run+yield)',
        c.fmtSpread(r.greenletRoundTrip),
        c.fmtSpread(r.fiberRoundTrip),
        ratio(r.fiberRoundTrip, r.greenletRoundTrip),
      ],
      [
        'round trip, fiber in runInAsyncScope',
        '',
        c.fmtSpread(r.scopedRoundTrip),
        ratio(r.scopedRoundTrip, r.greenletRoundTrip),
      ],
      [
        'create + run + finish',
        c.fmtSpread(r.greenletCreate),
        c.fmtSpread(r.fiberCreate),
        ratio(r.fiberCreate, r.greenletCreate),
      ],
    ]);
    console.log(
      `  fiber create + finish before ${CHURN} more fibers: ${c.fmtSpread(r.fiberCreateBeforeChurn)}, after: ` +
        `${c.fmtSpread(r.fiberCreateAfterChurn)} (after / before ${ratio(r.fiberCreateAfterChurn, r.fiberCreateBeforeChurn)})\n`,
    );
  }
  c.printJsonReport(json, m, t0, { blankLine: false });
}

if (args.child) {
  child().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main();
}
