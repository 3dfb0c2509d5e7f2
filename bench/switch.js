'use strict';
// Switch benchmark of greenloop's native core (`npm run bench`).
//
//   node bench/switch.js [--runs 9] [--sample-ms 120] [--park 10000] [--rss-runs 3]
//
// For each backend ('user-space', 'threads'), in a child process of its own
// (GREENLOOP_SWITCH is read when the module loads):
//   - round trip main -> greenlet -> main, ns;
//   - round trip greenlet -> greenlet -> greenlet (two non-root greenlets), ns;
//   - spawn + run + finish of a greenlet whose run returns at once, warm pool, ns;
//   - RSS per parked greenlet with 10,000 parked (fresh child per measurement).
// Baselines measured in the same run: `await` of a resolved promise in plain
// Node (a child that never loads greenloop), and python-greenlet's round trip
// and spawn + finish (bench/python/switch.py under /usr/bin/python3).
// Every figure is the median over --runs samples (each about --sample-ms long);
// the brackets show min-max. The last line printed is JSON with every figure.

const c = require('./lib/common.js');

const args = c.parseArgs();
const RUNS = Number(args.runs ?? 9);
const SAMPLE_MS = Number(args['sample-ms'] ?? 120);
const PARK = Number(args.park ?? 10_000);
const RSS_RUNS = Number(args['rss-runs'] ?? 3);
const PYTHON = args.python ?? '/usr/bin/python3';

// ==================================================================== children

/** ns per `await` of a resolved promise, over n awaits. */
async function awaitLoop(n) {
  const p = Promise.resolve(1);
  const t0 = c.now();
  for (let i = 0; i < n; i++) await p;
  return c.elapsedNs(t0) / n;
}

/** Iterations of awaitLoop that last about SAMPLE_MS. */
const calibrateAwait = () => c.calibrate(awaitLoop, SAMPLE_MS, 1000, 1 << 24);

async function childBaseline() {
  // Plain Node: greenloop is never loaded here.
  const n = await calibrateAwait();
  const samples = [];
  for (let r = 0; r < RUNS; r++) samples.push(await awaitLoop(n));
  c.sendResult({ awaitNs: c.summary(samples), iterations: n });
}

async function childSwitch() {
  const { RawGreenlet: Greenlet, getcurrent, getBackend, coreStats } = require(c.DIST);
  const root = getcurrent();

  // main -> g -> main: g parks in root.switch() forever; each g.switch() is one round trip.
  const echo = new Greenlet(() => {
    for (;;) root.switch();
  });
  echo.switch();
  function mainRoundTrip(n) {
    const t0 = c.now();
    for (let i = 0; i < n; i++) echo.switch();
    return c.elapsedNs(t0) / n;
  }

  // g -> g -> g: `ping` switches to `pong`, which switches straight back to ping.
  // Timed inside ping, so the root is not involved.
  let ping;
  const pong = new Greenlet(() => {
    for (;;) ping.switch();
  });
  ping = new Greenlet((n) => {
    for (;;) {
      const t0 = c.now();
      for (let i = 0; i < n; i++) pong.switch();
      n = root.switch(c.elapsedNs(t0) / n);
    }
  });
  pong.parent = ping;
  const g2gRoundTrip = (n) => ping.switch(n);

  // spawn + run + finish: run returns at once; the pool is warm after calibration.
  const nothing = () => undefined;
  function spawnFinish(n) {
    const t0 = c.now();
    for (let i = 0; i < n; i++) new Greenlet(nothing).switch();
    return c.elapsedNs(t0) / n;
  }

  const benches = { roundTripMainNs: mainRoundTrip, roundTripG2GNs: g2gRoundTrip, spawnFinishNs: spawnFinish };
  const iterations = {};
  for (const [k, f] of Object.entries(benches)) iterations[k] = await c.calibrate(f, SAMPLE_MS, 200, 1 << 24);
  const awaitIterations = await calibrateAwait();
  const samples = Object.fromEntries(Object.keys(benches).map((k) => [k, []]));
  const cpu = Object.fromEntries(Object.keys(benches).map((k) => [k, []]));
  const ratios = Object.fromEntries(Object.keys(benches).map((k) => [k, []]));
  const awaits = [];
  for (let r = 0; r < RUNS; r++) {
    // The baseline is sampled in every run, in this process, next to the
    // figures it is compared with: ratios are taken run by run.
    const a = await awaitLoop(awaitIterations);
    awaits.push(a);
    for (const [k, f] of Object.entries(benches)) {
      const u0 = process.cpuUsage();
      const ns = f(iterations[k]);
      const u = process.cpuUsage(u0);
      samples[k].push(ns);
      cpu[k].push(((u.user + u.system) * 1e3) / iterations[k]); // process CPU ns per op (all threads)
      ratios[k].push(ns / a);
    }
  }
  const out = { backend: getBackend(), iterations, awaitNs: c.summary(awaits), stats: coreStats() };
  for (const k of Object.keys(benches)) {
    out[k] = c.summary(samples[k]);
    out[k].cpuNs = c.median(cpu[k]);
    out[k].xAwait = c.median(ratios[k]);
  }
  c.sendResult(out);
}

function childRss() {
  const { RawGreenlet: Greenlet, getcurrent, getBackend, coreStats } = require(c.DIST);
  const root = getcurrent();
  // Load everything the parking loop uses and warm it up, so that the
  // difference is the greenlets' own cost.
  for (let i = 0; i < 100; i++) new Greenlet(() => 1).switch();
  const parked = [];
  const park = () => root.switch();
  global.gc();
  global.gc();
  const rss0 = c.rssBytes();
  const heap0 = process.memoryUsage().heapUsed;
  const threads0 = c.threadCount();
  const chunk = Math.max(1, Math.floor(PARK / 10));
  const chunkNs = []; // spawn + park, ns per greenlet, for each tenth
  let failure = null;
  let t0 = c.now();
  for (let i = 0; i < PARK; i++) {
    const g = new Greenlet(park);
    try {
      g.switch();
    } catch (e) {
      failure = `parking greenlet #${i + 1} failed: ${e.message}`;
      break;
    }
    parked.push(g); // kept reachable: an unreachable parked greenlet is unwound
    if ((i + 1) % chunk === 0) {
      chunkNs.push(c.elapsedNs(t0) / chunk);
      t0 = c.now();
    }
  }
  global.gc();
  global.gc();
  const rss1 = c.rssBytes();
  const heap1 = process.memoryUsage().heapUsed;
  const threads1 = c.threadCount();
  const n = parked.length;
  c.sendResult({
    backend: getBackend(),
    parked: n,
    failure,
    rssBefore: rss0,
    rssAfter: rss1,
    rssPerGreenlet: (rss1 - rss0) / n,
    heapPerGreenlet: (heap1 - heap0) / n,
    threadsPerGreenlet: (threads1 - threads0) / n,
    spawnAndParkFirstTenthNs: chunkNs[0],
    spawnAndParkLastTenthNs: chunkNs[chunkNs.length - 1],
    spawnAndParkNs: c.median(chunkNs),
    stats: coreStats(),
  });
}

// ==================================================================== parent

function main() {
  const t0 = Date.now();
  const me = __filename;
  const m = c.machine();
  const common = [`--runs=${RUNS}`, `--sample-ms=${SAMPLE_MS}`];
  c.printBanner('switch', m);
  console.log(`each figure: median over ${RUNS} runs of ~${SAMPLE_MS} ms [min-max]; one child process per backend`);

  const baseline = c.runChild(me, ['--child', 'baseline', ...common], { env: c.backendEnv('user-space') });
  const py = c.runPythonBaseline(PYTHON, 'greenlet', 'switch.py', [String(RUNS), String(SAMPLE_MS)], 120_000);
  const results = {};
  for (const b of c.BACKENDS) {
    results[b] = { switch: c.runChild(me, ['--child', 'switch', ...common], { env: c.backendEnv(b) }), rss: [] };
  }
  // RSS: a fresh process per measurement, backends alternating.
  for (let i = 0; i < RSS_RUNS; i++) {
    for (const b of c.BACKENDS) {
      results[b].rss.push(
        c.runChild(me, ['--child', 'rss', `--park=${PARK}`], { env: c.backendEnv(b), nodeArgs: ['--expose-gc'] }),
      );
    }
  }

  console.log('');
  if (baseline.error) console.log(`baseline failed: ${baseline.error}`);
  else
    console.log(
      `baseline, plain Node (greenloop not loaded): await of a resolved promise ${c.fmtSpread(baseline.awaitNs)}`,
    );
  for (const b of c.BACKENDS) {
    const sw = results[b].switch;
    if (!sw.error)
      console.log(`  the same await inside the ${b} child, sampled in every run: ${c.fmtSpread(sw.awaitNs)}`);
  }
  if (py.skipped) console.log(`python-greenlet: skipped: ${py.skipped}`);
  else {
    console.log(
      `python-greenlet ${py.greenlet} (Python ${py.python}): round trip main->g->main ${c.fmtSpread(py.roundTripMainNs)}, ` +
        `g->g->g ${c.fmtSpread(py.roundTripG2GNs)}, spawn+run+finish ${c.fmtSpread(py.spawnFinishNs)}`,
    );
  }
  console.log(
    "\n'x await' = run-by-run ratio to the await sampled in the same child; 'x python' = ratio to python-greenlet's median;" +
      '\nCPU/op counts every thread of the process (the threads backend spins while it waits)\n',
  );

  const rows = [['figure', 'backend', 'median [min-max]', 'CPU/op', 'x await', 'x python']];
  const figures = [
    ['round trip main->g->main', 'roundTripMainNs'],
    ['round trip g->g->g', 'roundTripG2GNs'],
    ['spawn+run+finish, warm pool', 'spawnFinishNs'],
  ];
  for (const [label, key] of figures) {
    for (const b of c.BACKENDS) {
      const sw = results[b].switch;
      if (sw.error) {
        rows.push([label, b, 'FAILED']);
        continue;
      }
      const s = sw[key];
      rows.push([
        label,
        b,
        c.fmtSpread(s),
        c.fmtNs(s.cpuNs),
        c.fmtRatio(s.xAwait),
        c.fmtRatio(s.median / py[key]?.median),
      ]);
    }
  }
  const rssOk = (b) => results[b].rss.filter((r) => !r.error);
  for (const b of c.BACKENDS) {
    const ok = rssOk(b);
    const parked = ok.length ? Math.min(...ok.map((r) => r.parked)) : 0;
    const label = `RSS per parked, ${parked < PARK ? `${parked} (of ${PARK})` : PARK} parked`;
    rows.push([label, b, ok.length ? c.fmtSpread(c.summary(ok.map((r) => r.rssPerGreenlet)), c.fmtBytes) : 'FAILED']);
  }
  for (const b of c.BACKENDS) {
    const ok = rssOk(b);
    if (ok.length) rows.push(['  of it JS heap', b, c.fmtBytes(c.median(ok.map((r) => r.heapPerGreenlet)))]);
  }
  for (const b of c.BACKENDS) {
    const ok = rssOk(b);
    if (ok.length)
      rows.push([`spawn+park, up to ${PARK} live`, b, c.fmtSpread(c.summary(ok.map((r) => r.spawnAndParkNs)))]);
  }
  c.printTable(rows);
  const tenths = c.BACKENDS.filter((b) => rssOk(b).length).map((b) => {
    const ok = rssOk(b);
    const first = c.median(ok.map((r) => r.spawnAndParkFirstTenthNs));
    const last = c.median(ok.map((r) => r.spawnAndParkLastTenthNs));
    return `${b} first tenth ${c.fmtNs(first)}, last tenth ${c.fmtNs(last)}`;
  });
  if (tenths.length) {
    console.log(`  (spawn+park creates a thread per greenlet: ${tenths.join('; ')})`);
  }

  const json = {
    bench: 'switch',
    machine: m,
    runs: RUNS,
    sampleMs: SAMPLE_MS,
    baseline: { awaitNs: baseline.awaitNs ?? null, error: baseline.error },
    python: py.skipped ? { skipped: py.skipped } : py,
    backends: {},
  };
  for (const b of c.BACKENDS) {
    const { switch: sw, rss } = results[b];
    const errors = [sw, ...rss].filter((r) => r.error).map((r) => r.error);
    errors.push(...rss.filter((r) => r.failure).map((r) => r.failure));
    for (const e of errors) console.log(`\n${b}: ${e}`);
    if (sw.backend && sw.backend !== b) console.log(`\nWARNING: the '${b}' child reported backend '${sw.backend}'`);
    const ok = rssOk(b);
    const ratioTo = (base) =>
      sw.error || !base
        ? null
        : Object.fromEntries(figures.map(([, k]) => [k.replace(/Ns$/, ''), sw[k].median / base[k].median]));
    json.backends[b] = {
      reported: sw.backend ?? null,
      awaitNs: sw.awaitNs ?? null,
      roundTripMainNs: sw.roundTripMainNs ?? null,
      roundTripG2GNs: sw.roundTripG2GNs ?? null,
      spawnFinishNs: sw.spawnFinishNs ?? null,
      ratioToPython: py.skipped ? null : ratioTo(py),
      rss: ok.length
        ? {
            parked: Math.min(...ok.map((r) => r.parked)),
            perGreenletBytes: c.summary(ok.map((r) => r.rssPerGreenlet)),
            heapPerGreenletBytes: c.median(ok.map((r) => r.heapPerGreenlet)),
            threadsPerGreenlet: c.median(ok.map((r) => r.threadsPerGreenlet)),
            spawnAndParkNs: c.summary(ok.map((r) => r.spawnAndParkNs)),
            spawnAndParkFirstTenthNs: c.median(ok.map((r) => r.spawnAndParkFirstTenthNs)),
            spawnAndParkLastTenthNs: c.median(ok.map((r) => r.spawnAndParkLastTenthNs)),
          }
        : null,
      errors,
    };
  }
  c.printJsonReport(json, m, t0);
}

if (args.child === 'baseline') childBaseline();
else if (args.child === 'switch') childSwitch();
else if (args.child === 'rss') childRss();
else main();
