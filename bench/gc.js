'use strict';
// GC cost of parked greenlets.
//
//   node bench/gc.js [--gcs 11] [--rounds 2] [--backends user-space,threads] [--counts 1000,10000] [--depths 1,20]
//                    [--semi 64] [--alloc-rounds 10 (0: skip the allocation workload)]
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
//
// Then the cost where it shows, and its tuning knob: with 0 and max(--counts)
// greenlets parked, a child allocates --alloc-rounds x 1e6 short-lived objects
// (a few stay alive, as in a server) and reports the scavenges V8 ran and the
// CPU time of the loop, with the default young generation and with
// `--min-semi-space-size=M --max-semi-space-size=M` (M = --semi, in MiB). V8
// grows the young generation only when much of it survives, so with mostly
// short-lived garbage it stays at its initial 1 MiB semi-space and scavenges
// every ~1.5 MiB allocated; the minimum is what makes scavenges rarer.

const c = require('./lib/common.js');

const args = c.parseArgs();
const GCS = Number(args.gcs ?? 11);
const ROUNDS = Number(args.rounds ?? 2);
const BACKENDS = args.backends ? String(args.backends).split(',') : c.BACKENDS;
const COUNTS = args.counts ? String(args.counts).split(',').map(Number) : [1000, 10000];
const DEPTHS = args.depths ? String(args.depths).split(',').map(Number) : [1, 20];
const CHILD_FLAGS = ['--expose-gc', '--allow-natives-syntax'];
const SEMI_MB = Number(args.semi ?? 64);
const ALLOC_ROUNDS = Number(args['alloc-rounds'] ?? 10);

// ==================================================================== alloc child

/** Parks `n` greenlets, then times an allocation-heavy loop and counts its scavenges. */
async function allocChild() {
  const N = Number(args.n);
  const { RawGreenlet: Greenlet, getcurrent, getBackend } = require(c.DIST);
  const { PerformanceObserver, constants } = require('node:perf_hooks');
  const root = getcurrent();
  const held = [];
  let failure = null;
  for (let i = 0; i < N; i++) {
    const g = new Greenlet(() => root.switch());
    try {
      g.switch();
    } catch (e) {
      failure = `starting greenlet #${i + 1} failed: ${e.message}`;
      break;
    }
    held.push(g);
  }
  global.gc();
  let scavenges = 0;
  let scavengeMs = 0;
  let others = 0;
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if ((e.detail?.kind ?? e.kind) === constants.NODE_PERFORMANCE_GC_MINOR) {
        scavenges++;
        scavengeMs += e.duration;
      } else {
        others++;
      }
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  await new Promise((r) => setTimeout(r, 20));
  let survivors = [];
  const cpu0 = process.cpuUsage();
  const t0 = c.now();
  for (let r = 0; r < ALLOC_ROUNDS; r++) {
    for (let i = 0; i < 1e6; i++) {
      const o = { a: i, b: [i, i + 1], c: 'k' + (i & 1023) };
      if ((i & 1023) === 0) survivors.push(o); // a few outlive the scavenge that finds them
    }
    if (survivors.length > 2000) survivors = [];
  }
  const wallMs = c.elapsedNs(t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  await new Promise((r) => setTimeout(r, 50)); // the observer is called asynchronously
  obs.disconnect();
  c.sendResult({
    backend: getBackend(),
    n: held.length,
    failure,
    scavenges,
    scavengeMs,
    otherGcs: others,
    cpuMs: (cpu.user + cpu.system) / 1e3,
    wallMs,
  });
}

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
    settrace((event, origin) => {
      // The first call is root -> probe; the second is probe parking (probe -> root).
      if (origin === probe && frames === null) {
        frames = new Error().stack
          .split('\n')
          .slice(1)
          .filter((l) => l.includes(' at '));
      }
    });
    try {
      probe.switch();
    } finally {
      settrace(null);
      Error.stackTraceLimit = saved;
    }
    probe.switch(0); // let it finish
    // frames[0] is the tracer; greenlet.js's trace() and depart(), which call
    // it, return before the switch: none of them is on a parked stack.
    frames = frames ? frames.filter((l) => !/ at (trace|depart) \(/.test(l)).length - 1 : null;
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
    const rows = [
      [
        'parked',
        'JS frames each',
        'scavenge µs [min-max]',
        'full GC µs [min-max]',
        'scav. µs/greenlet',
        'full µs/greenlet',
      ],
    ];
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
  json.allocation = allocationSection(maxN, problems);
  for (const p of problems) console.log(`problem: ${p}`);
  json.problems = problems;
  c.printJsonReport(json, m, t0, { blankLine: false });
}

/**
 * The allocation workload (see the header) with 0 and `maxN` parked, default
 * young generation and --semi MiB, children alternating over --rounds; prints
 * a table per backend and returns its figures.
 */
function allocationSection(maxN, problems) {
  if (ALLOC_ROUNDS <= 0) return null;
  const settings = [
    { label: 'default young generation', flags: [] },
    {
      label: `--min/--max-semi-space-size=${SEMI_MB}`,
      flags: [`--min-semi-space-size=${SEMI_MB}`, `--max-semi-space-size=${SEMI_MB}`],
    },
  ];
  const runs = {};
  for (let r = 0; r < ROUNDS; r++) {
    for (const b of BACKENDS) {
      for (const st of settings) {
        for (const n of [0, maxN]) {
          const res = c.runChild(__filename, ['--child', 'alloc', `--n=${n}`, `--alloc-rounds=${ALLOC_ROUNDS}`], {
            env: c.backendEnv(b),
            nodeArgs: ['--expose-gc', ...st.flags],
            timeoutMs: 300_000,
          });
          if (res.error) problems.push(`alloc ${b} ${st.label} n=${n}: ${res.error}`);
          else if (res.failure) problems.push(`alloc ${b} ${st.label} n=${n}: ${res.failure}`);
          (runs[`${b}|${st.label}|${n}`] ??= []).push(res);
        }
      }
    }
  }
  console.log(
    `allocation workload: ${ALLOC_ROUNDS} x 1e6 short-lived objects on the root, medians of ${ROUNDS} children` +
      "\n(CPU = the process's user+system time for the loop; x = against the same young generation with 0 parked)",
  );
  const out = {};
  for (const b of BACKENDS) {
    console.log(`backend ${b}`);
    const rows = [['young generation', 'parked', 'scavenges', 'scavenge ms', 'CPU ms', 'x']];
    out[b] = [];
    for (const st of settings) {
      const med = (n, f) => {
        const ok = (runs[`${b}|${st.label}|${n}`] ?? []).filter((x) => !x.error);
        return ok.length ? c.median(ok.map(f)) : NaN;
      };
      const cpu0 = med(0, (x) => x.cpuMs);
      for (const n of [0, maxN]) {
        const fig = {
          setting: st.label,
          parked: n,
          scavenges: med(n, (x) => x.scavenges),
          scavengeMs: med(n, (x) => x.scavengeMs),
          cpuMs: med(n, (x) => x.cpuMs),
        };
        out[b].push(fig);
        rows.push([
          st.label,
          String(n),
          String(fig.scavenges),
          fig.scavengeMs.toFixed(0),
          fig.cpuMs.toFixed(0),
          n ? c.fmtRatio(fig.cpuMs / cpu0) : '-',
        ]);
      }
    }
    c.printTable(rows);
    const cpuOf = (label) => out[b].find((f) => f.setting === label && f.parked === maxN)?.cpuMs;
    const ratio = cpuOf(settings[0].label) / cpuOf(settings[1].label);
    if (Number.isFinite(ratio))
      console.log(
        `  with ${maxN} parked, ${settings[1].label} runs the loop in ${c.fmtRatio(1 / ratio)} the CPU time\n`,
      );
  }
  return out;
}

function pts2str(depths, agg, n, key) {
  return depths
    .map((d) => agg[key({ n, depth: d, kind: 'parked' })])
    .filter(Boolean)
    .map((a) => `${a.frames} frames`)
    .join(' and ');
}

if (args.child === 'alloc') {
  allocChild().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else if (args.child) {
  child().catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  main();
}
