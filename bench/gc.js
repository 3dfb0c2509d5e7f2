'use strict';
// GC cost of parked greenlets.
//
//   node bench/gc.js [--gcs 11] [--rounds 2] [--backends user-space,threads] [--counts 1000,10000] [--depths 1,20]
//
// V8 visits every archived thread (every parked greenlet) on every GC. For
// each backend, and for each configuration in a child process of its own
// (node --expose-gc), this parks N greenlets, each D JS frames deep, then
// times --gcs scavenges (`gc({type: 'minor'})`) and --gcs full GCs (`gc()`),
// alternating, and reports the medians (with --rounds > 1, every child runs
// that many times, rounds interleaved, and the median of the children's
// medians is used; the brackets then show the spread over rounds). Configurations: N = 0; N in --counts
// at each depth in --depths; and a control with max(--counts) finished
// greenlets whose JS objects are held (what the heap costs without stacks).
// Derived: µs per parked greenlet per GC ((T(N) - T(0)) / N), µs per JS frame
// per parked greenlet (slope over depth), and the fixed part per greenlet
// (extrapolated to no JS frame on its stack).
//
// The recursing frames are kept out of optimized code (%NeverOptimizeFunction)
// so that each level is one real stack frame, not an inlined one.

const c = require('./lib/common.js');

const args = c.parseArgs();
const GCS = Number(args.gcs ?? 11);
const ROUNDS = Number(args.rounds ?? 2);
const BACKENDS = args.backends ? String(args.backends).split(',') : c.BACKENDS;
const COUNTS = args.counts ? String(args.counts).split(',').map(Number) : [1000, 10000];
const DEPTHS = args.depths ? String(args.depths).split(',').map(Number) : [1, 20];
const CHILD_FLAGS = ['--expose-gc', '--allow-natives-syntax'];

// ==================================================================== child

async function child() {
  const N = Number(args.n);
  const DEPTH = Number(args.depth ?? 1);
  const KIND = args.kind ?? 'parked'; // 'parked' | 'dead'
  const { RawGreenlet: Greenlet, getcurrent, getBackend, coreStats, settrace } = require(c.DIST);
  const { PerformanceObserver, constants } = require('node:perf_hooks');
  const root = getcurrent();

  function recurse(d) {
    if (d <= 1) return root.switch();
    return recurse(d - 1) + 0; // not a tail call: the frame stays
  }
  new Function('f', '%NeverOptimizeFunction(f)')(recurse);
  const run = () => recurse(DEPTH);
  const finish = () => 0;

  // How many JS frames sit on a parked stack at this depth: capture the stack
  // from a tracer, which runs inside the switch that parks the greenlet.
  let frames = null;
  {
    const saved = Error.stackTraceLimit;
    Error.stackTraceLimit = Infinity;
    const probe = new Greenlet(run);
    settrace((event, origin, target) => {
      // The first call is root -> probe; the second is probe parking (probe -> root).
      if (origin === probe && frames === null) {
        frames = new Error().stack.split('\n').slice(1).filter((l) => l.includes(' at '));
      }
    });
    try {
      probe.switch();
    } finally {
      settrace(null);
      Error.stackTraceLimit = saved;
    }
    probe.switch(0); // let it finish
    // frames[0] is the tracer, frames[1] greenlet.js's trace(): not on a parked stack.
    frames = frames ? frames.length - 2 : null;
  }

  for (let i = 0; i < 50; i++) new Greenlet(finish).switch(); // load and warm up
  const held = [];
  let failure = null;
  const t0 = c.now();
  for (let i = 0; i < N; i++) {
    const g = new Greenlet(KIND === 'dead' ? finish : run);
    try {
      g.switch();
    } catch (e) {
      failure = `starting greenlet #${i + 1} failed: ${e.message}`;
      break;
    }
    held.push(g); // reachable: an unreachable parked greenlet is unwound
  }
  const setupMs = c.elapsedNs(t0) / 1e6;
  const stats = coreStats();

  global.gc();
  global.gc({ type: 'minor' });
  global.gc();
  const minor = [];
  const major = [];
  for (let i = 0; i < GCS; i++) {
    let t = c.now();
    global.gc({ type: 'minor' });
    minor.push(c.elapsedNs(t) / 1e3);
    t = c.now();
    global.gc();
    major.push(c.elapsedNs(t) / 1e3);
  }

  // Check that gc({type:'minor'}) really is a scavenge and gc() a full GC, by
  // what V8 reports to a performance observer (outside the timed loop).
  const kinds = { minor: 0, major: 0, other: 0 };
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const k = e.detail?.kind ?? e.kind;
      if (k === constants.NODE_PERFORMANCE_GC_MINOR) kinds.minor++;
      else if (k === constants.NODE_PERFORMANCE_GC_MAJOR) kinds.major++;
      else kinds.other++;
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  const settle = () => new Promise((r) => setTimeout(r, 50));
  await settle();
  for (let i = 0; i < 3; i++) global.gc({ type: 'minor' });
  await settle();
  const afterMinor = { ...kinds };
  for (let i = 0; i < 3; i++) global.gc();
  await settle();
  obs.disconnect();
  const afterMajor = { minor: kinds.minor - afterMinor.minor, major: kinds.major - afterMinor.major };

  c.sendResult({
    backend: getBackend(),
    kind: KIND,
    n: held.length,
    depth: DEPTH,
    framesOnParkedStack: frames,
    failure,
    setupMs,
    live: stats.live,
    minorUs: c.summary(minor),
    majorUs: c.summary(major),
    gcKindCheck: {
      minorCallsSeenAs: { minor: afterMinor.minor, major: afterMinor.major, other: afterMinor.other },
      majorCallsSeenAs: afterMajor,
      ok: afterMinor.minor >= 3 && afterMinor.major === 0 && afterMajor.major >= 3,
    },
  });
  // Exiting with parked greenlets is supported; no unwinding needed here.
}

// ==================================================================== parent

function main() {
  const t0 = Date.now();
  const m = c.machine();
  c.printBanner('GC', m);
  console.log(
    `each configuration in its own child (node ${CHILD_FLAGS.join(' ')}); median of ${GCS} scavenges ` +
      `(gc({type:'minor'})) and ${GCS} full GCs (gc()) per child${ROUNDS > 1 ? `; ${ROUNDS} rounds: median of the children's medians, [min-max] over rounds` : ', [min-max] over those GCs'}\n`,
  );
  const maxN = Math.max(...COUNTS);
  const configs = [{ n: 0, depth: 1, kind: 'parked' }];
  for (const n of COUNTS) for (const depth of DEPTHS) configs.push({ n, depth, kind: 'parked' });
  configs.push({ n: maxN, depth: 1, kind: 'dead' });

  // results[backend][configKey] = list of child results (one per round)
  const key = (cf) => `${cf.kind}:${cf.n}:${cf.depth}`;
  const results = Object.fromEntries(BACKENDS.map((b) => [b, {}]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const b of BACKENDS) {
      for (const cf of configs) {
        const res = c.runChild(
          __filename,
          ['--child', `--n=${cf.n}`, `--depth=${cf.depth}`, `--kind=${cf.kind}`, `--gcs=${GCS}`],
          { env: c.backendEnv(b), nodeArgs: CHILD_FLAGS, timeoutMs: 300_000 },
        );
        (results[b][key(cf)] ??= []).push(res);
      }
    }
  }

  const json = { bench: 'gc', machine: m, gcs: GCS, rounds: ROUNDS, backends: {} };
  const problems = [];
  for (const b of BACKENDS) {
    // Per configuration: median over rounds of each child's median.
    const agg = {};
    for (const cf of configs) {
      const list = results[b][key(cf)].filter((x) => !x.error);
      for (const x of results[b][key(cf)]) if (x.error) problems.push(`${b} ${key(cf)}: ${x.error}`);
      for (const x of list) {
        if (x.failure) problems.push(`${b} ${key(cf)}: ${x.failure}`);
        if (!x.gcKindCheck.ok) problems.push(`${b} ${key(cf)}: GC kind check failed ${JSON.stringify(x.gcKindCheck)}`);
        if (x.backend !== b) problems.push(`${b} ${key(cf)}: the child ran backend ${x.backend}`);
      }
      if (!list.length) continue;
      agg[key(cf)] = {
        ...cf,
        n: Math.min(...list.map((x) => x.n)),
        frames: list[0].framesOnParkedStack,
        minorUs: c.median(list.map((x) => x.minorUs.median)),
        majorUs: c.median(list.map((x) => x.majorUs.median)),
        minorMinUs: Math.min(...list.map((x) => x.minorUs.min)),
        majorMinUs: Math.min(...list.map((x) => x.majorUs.min)),
        minorSpread: list.length === 1 ? list[0].minorUs : c.summary(list.map((x) => x.minorUs.median)),
        majorSpread: list.length === 1 ? list[0].majorUs : c.summary(list.map((x) => x.majorUs.median)),
        setupMs: c.median(list.map((x) => x.setupMs)),
      };
    }
    const base = agg[key(configs[0])];
    const per = (a, field) => (base && a && a.n > 0 ? (a[field] - base[field]) / a.n : NaN);

    console.log(`backend ${b}`);
    const rows = [['parked', 'JS frames each', 'scavenge µs [min-max]', 'full GC µs [min-max]', 'scav. µs/greenlet', 'full µs/greenlet']];
    for (const cf of configs) {
      const a = agg[key(cf)];
      if (!a) {
        rows.push([cf.kind === 'dead' ? `${cf.n} finished` : String(cf.n), '', 'FAILED']);
        continue;
      }
      const label = a.kind === 'dead' ? `${a.n} finished (held)` : String(a.n);
      const frames = a.kind === 'dead' || a.n === 0 ? '-' : `${a.frames} (depth ${a.depth})`;
      rows.push([
        label,
        frames,
        c.fmtSpread(a.minorSpread, (x) => x.toFixed(0)),
        c.fmtSpread(a.majorSpread, (x) => x.toFixed(0)),
        a.n ? per(a, 'minorUs').toFixed(3) : '-',
        a.n ? per(a, 'majorUs').toFixed(3) : '-',
      ]);
    }
    c.printTable(rows);

    // Fixed vs per-frame, from the largest count (most signal over noise).
    const derived = {};
    for (const n of COUNTS) {
      const pts = DEPTHS.map((d) => agg[key({ n, depth: d, kind: 'parked' })]).filter(Boolean);
      if (pts.length < 2 || !base) continue;
      derived[n] = {};
      for (const field of ['minorUs', 'majorUs']) {
        const fit = c.linearFit(pts.map((a) => [a.frames, per(a, field)]));
        derived[n][field] = { perFrameUs: fit.slope, fixedUs: fit.intercept };
      }
    }
    const dead = agg[key({ n: maxN, depth: 1, kind: 'dead' })];
    const main = derived[maxN];
    if (main) {
      const f = (x) => x.toFixed(3);
      console.log(
        `  per parked greenlet (from ${maxN} parked, fit over ${pts2str(DEPTHS, agg, maxN, key)}):` +
          `\n    scavenge: ${f(main.minorUs.fixedUs)} µs fixed + ${f(main.minorUs.perFrameUs)} µs per JS frame` +
          `\n    full GC:  ${f(main.majorUs.fixedUs)} µs fixed + ${f(main.majorUs.perFrameUs)} µs per JS frame`,
      );
    }
    for (const depth of DEPTHS) {
      const a = agg[key({ n: maxN, depth, kind: 'parked' })];
      if (!a || !base) continue;
      // Interference from other processes only adds time: the fastest GC of
      // each configuration is a cross-check of the medians on a busy machine.
      console.log(
        `  from the fastest GCs instead of medians, ${a.n} parked at ${a.frames} frames: ` +
          `${per(a, 'minorMinUs').toFixed(3)} µs/scavenge, ${per(a, 'majorMinUs').toFixed(3)} µs/full GC per greenlet`,
      );
    }
    if (dead && base) {
      console.log(
        `  control, ${dead.n} finished greenlets held (JS objects, no stack): ` +
          `${per(dead, 'minorUs').toFixed(3)} µs/scavenge, ${per(dead, 'majorUs').toFixed(3)} µs/full GC per greenlet`,
      );
    }
    const setup = agg[key({ n: maxN, depth: 1, kind: 'parked' })];
    if (setup) console.log(`  (parking ${setup.n} took ${setup.setupMs.toFixed(0)} ms)`);
    console.log('');

    json.backends[b] = {
      configs: Object.values(agg).map((a) => ({
        kind: a.kind,
        n: a.n,
        depth: a.depth,
        frames: a.frames,
        minorUs: a.minorSpread,
        majorUs: a.majorSpread,
        minorUsPerGreenlet: a.n ? per(a, 'minorUs') : null,
        majorUsPerGreenlet: a.n ? per(a, 'majorUs') : null,
        minorUsPerGreenletFromMin: a.n ? per(a, 'minorMinUs') : null,
        majorUsPerGreenletFromMin: a.n ? per(a, 'majorMinUs') : null,
        setupMs: a.setupMs,
      })),
      fit: derived,
    };
  }
  for (const p of problems) console.log(`problem: ${p}`);
  json.problems = problems;
  c.printJsonReport(json, m, t0, { blankLine: false });
}

function pts2str(depths, agg, n, key) {
  return depths
    .map((d) => agg[key({ n, depth: d, kind: 'parked' })])
    .filter(Boolean)
    .map((a) => `${a.frames} frames`)
    .join(' and ');
}

if (args.child) {
  child().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main();
}
