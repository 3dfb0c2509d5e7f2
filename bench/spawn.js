'use strict';
// Spawn benchmark: cold starts and bursts of greenlets that park.
//
//   node bench/spawn.js [--n 10000] [--burst 1000] [--rounds 12] [--trials 3]
//
// Each trial is a fresh process (cold: no owner thread exists yet), per backend:
//   - cold: --n greenlets started with spawn(), each parked on one Event, timed
//     from the first spawn until all have parked, ns per greenlet;
//       'on demand'   as configured by default (threads made on demand);
//       'prewarmed'   prewarm(n + 1) first (threads, its warm-up of the park
//                     path, and a greenlet run on each thread), timed once
//                     its promise has settled (the time prewarm took is
//                     shown beside);
//     then the same greenlets woken and finished (the pool keeps 256 threads,
//     the rest end), timed likewise;
//   - bursts: --rounds rounds of --burst greenlets spawned and parked, then
//     released and joined, ns per greenlet of each round after the first
//     (default pool; then with configure({ spareThreads: burst })).
// Wall time per greenlet, and the event loop thread's own CPU time per greenlet
// (/proc/thread-self/schedstat), which is what spawning costs the thread that
// serves everything else. Baseline measured in the same run: gevent's same
// figures (bench/python/spawn_gevent.py, a fresh Python per trial).
// Medians over --trials [min-max]. The last line printed is JSON.

const fs = require('node:fs');
const c = require('./lib/common.js');

const args = c.parseArgs();
const N = Number(args.n ?? 10_000);
const BURST = Number(args.burst ?? 1000);
const ROUNDS = Number(args.rounds ?? 12);
const TRIALS = Number(args.trials ?? 3);
const PYTHON = args.python ?? '/usr/bin/python3';

// ==================================================================== children

/** ns this thread has run on a CPU (the kernel's scheduler statistics). */
function threadCpuNs() {
  try {
    return Number(fs.readFileSync('/proc/thread-self/schedstat', 'utf8').split(' ')[0]);
  } catch {
    return NaN;
  }
}

/** Minor page faults this thread has taken. */
function threadFaults() {
  try {
    return Number(c.procStatFields('/proc/thread-self/stat')[7]); // minflt, field 10
  } catch {
    return NaN;
  }
}

/** A point to time from: wall clock, this thread's CPU and page faults, the process's CPU. */
function mark() {
  return { t: c.now(), thread: threadCpuNs(), faults: threadFaults(), cpu: process.cpuUsage() };
}

/** ns per op of each clock since `m`. */
function since(m, ops) {
  const u = process.cpuUsage(m.cpu);
  return {
    wallNs: c.elapsedNs(m.t) / ops,
    threadCpuNs: (threadCpuNs() - m.thread) / ops,
    threadFaults: (threadFaults() - m.faults) / ops,
    processCpuNs: ((u.user + u.system) * 1e3) / ops,
  };
}

function childCold() {
  const gl = require(c.DIST);
  const prewarmed = args.mode === 'prewarmed';
  let prewarmMs = null;
  const run = () => {
    gl.spawn(() => {
      const event = new gl.Event();
      const m = mark();
      const parked = [];
      for (let i = 0; i < N; i++) parked.push(gl.spawn(() => event.wait()));
      gl.sleep(0); // behind all of them: each has parked when this returns
      const r = since(m, N);
      const stats = gl.coreStats();
      const released = mark();
      event.set();
      gl.joinall(parked);
      const release = since(released, N);
      c.sendResult({ backend: gl.getBackend(), ...r, release, prewarmMs, stats, statsAfter: gl.coreStats() });
    });
  };
  if (!prewarmed) return run();
  const t0 = c.now();
  // N + 1: the greenlet that spawns them holds a thread too.
  gl.prewarm(N + 1).then(() => {
    prewarmMs = c.elapsedNs(t0) / 1e6;
    run();
  });
}

function childBursts() {
  const gl = require(c.DIST);
  if (args.spares) gl.configure({ spareThreads: Number(args.spares) });
  gl.spawn(() => {
    const rounds = [];
    for (let r = 0; r < ROUNDS; r++) {
      const event = new gl.Event();
      const m = mark();
      const greenlets = [];
      for (let i = 0; i < BURST; i++) greenlets.push(gl.spawn(() => event.wait()));
      gl.sleep(0);
      rounds.push(since(m, BURST));
      event.set();
      gl.joinall(greenlets);
    }
    const later = rounds.slice(1);
    const pick = (k) => c.median(later.map((x) => x[k]));
    c.sendResult({
      backend: gl.getBackend(),
      wallNs: pick('wallNs'),
      threadCpuNs: pick('threadCpuNs'),
      processCpuNs: pick('processCpuNs'),
      firstRound: rounds[0],
      stats: gl.coreStats(),
    });
  });
}

// ==================================================================== parent

const FIGURES = [
  ['cold, on demand', 'cold', ['--mode=demand']],
  ['cold, prewarmed', 'cold', ['--mode=prewarmed']],
  [`bursts of ${BURST}`, 'bursts', []],
  [`bursts of ${BURST}, spareThreads ${BURST}`, 'bursts', [`--spares=${BURST}`]],
];

function main() {
  const t0 = Date.now();
  const m = c.machine();
  c.printBanner('spawn', m);
  console.log(
    `${N} greenlets cold (fresh process), ${ROUNDS} bursts of ${BURST} (all but the first counted); ` +
      `median over ${TRIALS} trials [min-max], trials interleaved`,
  );
  const common = [`--n=${N}`, `--burst=${BURST}`, `--rounds=${ROUNDS}`];
  const results = {}; // `${figure}|${backend}` -> [result]
  const gevent = [];
  for (let t = 0; t < TRIALS; t++) {
    const py = c.runPythonBaseline(
      PYTHON,
      'gevent',
      'spawn_gevent.py',
      [String(N), String(BURST), String(ROUNDS)],
      120_000,
    );
    gevent.push(py);
    for (const [label, child, extra] of FIGURES) {
      for (const b of c.BACKENDS) {
        const r = c.runChild(__filename, ['--child', child, ...common, ...extra], { env: c.backendEnv(b) });
        (results[`${label}|${b}`] ??= []).push(r);
      }
    }
  }
  const py = gevent.filter((g) => !g.skipped);
  const gevCold = py.length ? c.median(py.map((g) => g.coldNs)) : NaN;
  const gevBurst = py.length ? c.median(py.map((g) => g.burstNs.median)) : NaN;
  console.log('');
  if (!py.length) console.log(`gevent: skipped: ${gevent[0].skipped}`);
  else {
    console.log(
      `gevent ${py[0].gevent} (Python ${py[0].python}): cold ${c.fmtSpread(c.summary(py.map((g) => g.coldNs)))}, ` +
        `bursts ${c.fmtSpread(c.summary(py.map((g) => g.burstNs.median)))} per greenlet`,
    );
  }
  console.log(
    "'loop CPU' = the event loop thread's own CPU time (user-space backend; under 'threads' greenlets run on " +
      "their owner threads); 'x gevent' = wall time / gevent's (same run)\n",
  );
  const rows = [['figure', 'backend', 'wall per greenlet', 'loop CPU', 'process CPU', 'x gevent', 'note']];
  const json = {
    bench: 'spawn',
    machine: m,
    n: N,
    burst: BURST,
    rounds: ROUNDS,
    trials: TRIALS,
    gevent: py,
    figures: {},
  };
  for (const [label, child] of FIGURES) {
    const base = child === 'cold' ? gevCold : gevBurst;
    for (const b of c.BACKENDS) {
      const all = results[`${label}|${b}`];
      const ok = all.filter((r) => !r.error);
      for (const r of all.filter((x) => x.error)) console.log(`${label}, ${b}: ${r.error}`);
      if (!ok.length) {
        rows.push([label, b, 'FAILED']);
        continue;
      }
      const wall = c.summary(ok.map((r) => r.wallNs));
      const thread = c.median(ok.map((r) => r.threadCpuNs));
      const proc = c.median(ok.map((r) => r.processCpuNs));
      const prewarm = ok.some((r) => r.prewarmMs !== null && r.prewarmMs !== undefined)
        ? `prewarm took ${c.median(ok.map((r) => r.prewarmMs)).toFixed(0)} ms`
        : '';
      // Under the threads backend greenlets run on their owner threads, not the loop's.
      const loop = b === 'threads' ? 'n/a' : c.fmtNs(thread);
      rows.push([label, b, c.fmtSpread(wall), loop, c.fmtNs(proc), c.fmtRatio(wall.median / base), prewarm]);
      json.figures[`${label}|${b}`] = {
        wallNs: wall,
        threadCpuNs: thread,
        processCpuNs: proc,
        xGevent: wall.median / base,
        prewarm,
      };
      if (child === 'cold') {
        // The same greenlets woken and finished: the pool keeps 256 threads, the rest end.
        const releaseWall = c.summary(ok.map((r) => r.release.wallNs));
        const releaseLoop = c.median(ok.map((r) => r.release.threadCpuNs));
        const endedOnLoop = c.median(ok.map((r) => r.statsAfter.threadsEndedOnLoop ?? NaN));
        rows.push([
          `  then woken and finished`,
          b,
          c.fmtSpread(releaseWall),
          b === 'threads' ? 'n/a' : c.fmtNs(releaseLoop),
          '',
          '-',
          Number.isNaN(endedOnLoop) ? '' : `${endedOnLoop} threads ended on the loop`,
        ]);
        json.figures[`${label}, woken and finished|${b}`] = {
          wallNs: releaseWall,
          threadCpuNs: releaseLoop,
          endedOnLoop,
        };
      }
    }
  }
  c.printTable(rows);
  c.printJsonReport(json, m, t0);
}

if (args.child === 'cold') childCold();
else if (args.child === 'bursts') childBursts();
else main();
