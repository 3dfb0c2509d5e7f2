'use strict';
// What greenloop/debug costs (`node bench/debug.js [--runs 9] [--n 20000]`).
//
// Measured in this process (the backend GREENLOOP_SWITCH selects), each
// configuration interleaved with the baseline run by run, medians with min-max:
//   - the hub's own bookkeeping, always on: performance.now() at every park
//     (the park time dump() shows) and one `hasSubscribers` read per event,
//     each in ns per call, beside a sleep(0) round trip;
//   - sleep(0) round trip and spawn + join with nobody subscribed vs a no-op
//     subscriber on every greenloop:greenlet:* channel;
//   - spawn + join with trackSpawnSites(true);
//   - sleep(0) round trip with trackTime(true);
//   - sleep(0) round trip with monitor() and with profile() running, and a
//     fixed CPU-bound job (20M iterations, no switches) with each.
// The last line is JSON with every figure.
const path = require('node:path');
const dc = require('node:diagnostics_channel');
const { performance } = require('node:perf_hooks');
const c = require('./lib/common.js');

const dist = path.join(__dirname, '..', 'dist', 'cjs');
const gl = require(path.join(dist, 'index.js'));
const debug = require(path.join(dist, 'debug', 'index.js'));
const { spawn, sleep, getBackend } = gl;

const args = c.parseArgs();
const RUNS = Number(args.runs ?? 9);
const N = Number(args.n ?? 20000);

function sleep0(n) {
  const half = Math.ceil(n / 2);
  const t0 = c.now();
  const other = spawn(() => {
    for (let i = 0; i < half; i++) sleep(0);
  });
  for (let i = 0; i < half; i++) sleep(0);
  other.join();
  return c.elapsedNs(t0) / (2 * half);
}

function spawnJoin(n) {
  const nothing = () => undefined;
  const t0 = c.now();
  for (let i = 0; i < n; i++) spawn(nothing).join();
  return c.elapsedNs(t0) / n;
}

/** A fixed CPU-bound job (no switches) in this greenlet, in ms: what sampling costs. */
function cpuWork() {
  const t0 = c.now();
  let x = 0;
  for (let i = 0; i < 2e7; i++) x = (x * 31 + i) % 1000003;
  const ms = c.elapsedNs(t0) / 1e6;
  return x === -1 ? 0 : ms;
}

function perCall(fn, n) {
  let sink = 0;
  const t0 = c.now();
  for (let i = 0; i < n; i++) sink += fn();
  const ns = c.elapsedNs(t0) / n;
  return sink === -1 ? 0 : ns;
}

const channel = dc.channel('greenloop:greenlet:park');
const noop = () => {};
const names = Object.values(debug.channels);

/** Each configuration: [label, turn on, turn off]. */
const CONFIGS = [
  [
    'no-op subscriber on every channel',
    () => names.forEach((n) => dc.subscribe(n, noop)),
    () => names.forEach((n) => dc.unsubscribe(n, noop)),
  ],
  ['trackSpawnSites(true)', () => debug.trackSpawnSites(true), () => debug.trackSpawnSites(false)],
  ['trackTime(true)', () => debug.trackTime(true), () => debug.trackTime(false)],
];
if (typeof debug.monitor === 'function') {
  let h;
  CONFIGS.push([
    'monitor({ threshold: 100 })',
    () => (h = debug.monitor({ threshold: 100, onBlock: () => {} })),
    () => h.stop(),
  ]);
}
if (typeof debug.profile === 'function') {
  let h;
  CONFIGS.push(['profile() (1 ms samples)', () => (h = debug.profile()), () => h.stop()]);
}

function median(xs) {
  return c.summary(xs);
}

spawn(() => {
  const result = { backend: getBackend(), n: N, runs: RUNS, baseline: {}, configs: {} };
  const nowNs = [],
    readNs = [];
  for (let r = 0; r < RUNS; r++) {
    nowNs.push(perCall(() => performance.now(), 1e6));
    readNs.push(perCall(() => (channel.hasSubscribers ? 1 : 0), 1e6));
  }
  result.performanceNowNs = median(nowNs);
  result.hasSubscribersNs = median(readNs);
  sleep0(N);
  spawnJoin(N);
  const base = { sleep0: [], spawnJoin: [], cpuWork: [] };
  const runsOf = {};
  for (const [label] of CONFIGS) runsOf[label] = { sleep0: [], spawnJoin: [], cpuWork: [] };
  for (let r = 0; r < RUNS; r++) {
    for (const [label, on, off] of CONFIGS) {
      base.sleep0.push(sleep0(N));
      base.spawnJoin.push(spawnJoin(N / 4));
      base.cpuWork.push(cpuWork());
      on();
      try {
        runsOf[label].sleep0.push(sleep0(N));
        runsOf[label].spawnJoin.push(spawnJoin(N / 4));
        runsOf[label].cpuWork.push(cpuWork());
      } finally {
        off();
      }
    }
  }
  result.baseline = { sleep0: median(base.sleep0), spawnJoin: median(base.spawnJoin), cpuWorkMs: median(base.cpuWork) };
  const msSpread = (s) => `${s.median.toFixed(1)} ms [${s.min.toFixed(1)}-${s.max.toFixed(1)}]`;
  const rows = [
    ['', 'sleep(0) round trip', 'spawn + join', 'CPU-bound job'],
    [
      'baseline (nobody subscribed)',
      c.fmtSpread(result.baseline.sleep0),
      c.fmtSpread(result.baseline.spawnJoin),
      msSpread(result.baseline.cpuWorkMs),
    ],
  ];
  for (const [label] of CONFIGS) {
    const r = runsOf[label];
    const s = { sleep0: median(r.sleep0), spawnJoin: median(r.spawnJoin), cpuWorkMs: median(r.cpuWork) };
    result.configs[label] = s;
    rows.push([label, c.fmtSpread(s.sleep0), c.fmtSpread(s.spawnJoin), msSpread(s.cpuWorkMs)]);
  }
  console.log(`greenloop/debug costs (${result.backend} backend, ${RUNS} runs)`);
  console.log(`  performance.now() (taken at every park): ${c.fmtNs(result.performanceNowNs.median)}`);
  console.log(
    `  channel.hasSubscribers read (per event, nobody subscribed): ${c.fmtNs(result.hasSubscribersNs.median)}`,
  );
  c.printTable(rows);
  console.log(JSON.stringify(c.roundDeep(result)));
});
