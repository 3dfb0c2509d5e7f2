'use strict';
// Hub benchmark: the cost of the gevent-level API (`node bench/hub.js`).
//
//   node bench/hub.js [--runs 9] [--sample-ms 100]
//
// For each backend ('user-space', 'threads'), in a child process of its own:
//   - sleep(0) round trip: two greenlets that keep calling sleep(0), ns per sleep(0);
//   - spawn + join: a greenlet spawns a greenlet whose function returns at once
//     and joins it, ns per pair;
//   - Queue hand-off: two greenlets pass an item back and forth through two
//     Queues, ns per put/get hand-off;
//   - Event wake-up: two greenlets wake each other through two Events, ns per
//     wake-up.
// Each figure sits beside the equivalent plain async/await code, measured in
// the same child, in every run, next to it (the ratio is taken run by run):
//   - `await null` in two async functions (a yield to other ready tasks), and
//     `await new Promise(setImmediate)` (a yield to the event loop);
//   - calling an async function and awaiting it;
//   - the same ping-pong over a promise-based queue and a promise-based event.
// And gevent's figures for the same four, from bench/python/hub_gevent.py
// under /usr/bin/python3 (python3-gevent), when it is there.
// Every figure is the median over --runs samples of about --sample-ms each;
// brackets show min-max. The last line printed is JSON with every figure.

const c = require('./lib/common.js');

const args = c.parseArgs();
const RUNS = Number(args.runs ?? 9);
const SAMPLE_MS = Number(args['sample-ms'] ?? 100);
const PYTHON = args.python ?? '/usr/bin/python3';

// ==================================================================== greenloop side

function greenBenches(gl) {
  const { spawn, sleep, Queue, Event } = gl;
  return {
    sleep0(n) {
      // Two greenlets alternate: every sleep(0) hands control to the other one.
      const half = Math.ceil(n / 2);
      const t0 = c.now();
      const other = spawn(() => {
        for (let i = 0; i < half; i++) sleep(0);
      });
      for (let i = 0; i < half; i++) sleep(0);
      other.join();
      return c.elapsedNs(t0) / (2 * half);
    },
    spawnJoin(n) {
      const nothing = () => undefined;
      const t0 = c.now();
      for (let i = 0; i < n; i++) spawn(nothing).join();
      return c.elapsedNs(t0) / n;
    },
    queue(n) {
      const there = new Queue();
      const back = new Queue();
      const half = Math.ceil(n / 2);
      const echo = spawn(() => {
        for (let i = 0; i < half; i++) back.put(there.get());
      });
      const t0 = c.now();
      for (let i = 0; i < half; i++) {
        there.put(i);
        back.get();
      }
      const ns = c.elapsedNs(t0) / (2 * half);
      echo.join();
      return ns;
    },
    event(n) {
      const ping = new Event();
      const pong = new Event();
      const half = Math.ceil(n / 2);
      const echo = spawn(() => {
        for (let i = 0; i < half; i++) {
          ping.wait();
          ping.clear();
          pong.set();
        }
      });
      const t0 = c.now();
      for (let i = 0; i < half; i++) {
        ping.set();
        pong.wait();
        pong.clear();
      }
      const ns = c.elapsedNs(t0) / (2 * half);
      echo.join();
      return ns;
    },
  };
}

// ==================================================================== async/await side

/** A promise-based FIFO queue: the async/await counterpart of Queue. */
class AsyncQueue {
  #items = [];
  #getters = [];
  put(item) {
    const g = this.#getters.shift();
    if (g) g(item);
    else this.#items.push(item);
  }
  get() {
    if (this.#items.length) return Promise.resolve(this.#items.shift());
    return new Promise((resolve) => this.#getters.push(resolve));
  }
}

/** A promise-based event: the async/await counterpart of Event. */
class AsyncEvent {
  #flag = false;
  #waiters = [];
  set() {
    this.#flag = true;
    const w = this.#waiters;
    this.#waiters = [];
    for (const r of w) r(true);
  }
  clear() {
    this.#flag = false;
  }
  wait() {
    return this.#flag ? Promise.resolve(true) : new Promise((r) => this.#waiters.push(r));
  }
}

const asyncBenches = {
  async awaitNull(n) {
    const half = Math.ceil(n / 2);
    const loop = async () => {
      for (let i = 0; i < half; i++) await null;
    };
    const t0 = c.now();
    await Promise.all([loop(), loop()]);
    return c.elapsedNs(t0) / (2 * half);
  },
  async awaitImmediate(n) {
    const half = Math.ceil(n / 2);
    const loop = async () => {
      for (let i = 0; i < half; i++) await new Promise(setImmediate);
    };
    const t0 = c.now();
    await Promise.all([loop(), loop()]);
    return c.elapsedNs(t0) / (2 * half);
  },
  async callAwait(n) {
    const nothing = async () => undefined;
    const t0 = c.now();
    for (let i = 0; i < n; i++) await nothing();
    return c.elapsedNs(t0) / n;
  },
  async queue(n) {
    const there = new AsyncQueue();
    const back = new AsyncQueue();
    const half = Math.ceil(n / 2);
    const echo = (async () => {
      for (let i = 0; i < half; i++) back.put(await there.get());
    })();
    const t0 = c.now();
    for (let i = 0; i < half; i++) {
      there.put(i);
      await back.get();
    }
    const ns = c.elapsedNs(t0) / (2 * half);
    await echo;
    return ns;
  },
  async event(n) {
    const ping = new AsyncEvent();
    const pong = new AsyncEvent();
    const half = Math.ceil(n / 2);
    const echo = (async () => {
      for (let i = 0; i < half; i++) {
        await ping.wait();
        ping.clear();
        pong.set();
      }
    })();
    const t0 = c.now();
    for (let i = 0; i < half; i++) {
      ping.set();
      await pong.wait();
      pong.clear();
    }
    const ns = c.elapsedNs(t0) / (2 * half);
    await echo;
    return ns;
  },
};

/** Each greenloop figure, and the async/await figures it is compared with. */
const PAIRS = [
  ['sleep(0) round trip', 'sleep0', ['awaitNull', 'awaitImmediate']],
  ['spawn + join', 'spawnJoin', ['callAwait']],
  ['Queue put/get hand-off', 'queue', ['queue']],
  ['Event wake-up', 'event', ['event']],
];

async function child() {
  const gl = require(c.DIST);
  const green = greenBenches(gl);
  const runGreen = (k) => (n) => gl.runAsync(() => green[k](n));
  const names = {};
  for (const [, g, as] of PAIRS) {
    names[`green.${g}`] = runGreen(g);
    for (const a of as) names[`async.${a}`] = (n) => asyncBenches[a](n);
  }
  const iterations = {};
  for (const [k, f] of Object.entries(names)) iterations[k] = await c.calibrate(f, SAMPLE_MS, 64, 1 << 22);
  const samples = Object.fromEntries(Object.keys(names).map((k) => [k, []]));
  const ratios = {};
  for (let r = 0; r < RUNS; r++) {
    for (const [, g, as] of PAIRS) {
      const gNs = await names[`green.${g}`](iterations[`green.${g}`]);
      samples[`green.${g}`].push(gNs);
      for (const a of as) {
        const aNs = await names[`async.${a}`](iterations[`async.${a}`]);
        samples[`async.${a}`].push(aNs);
        (ratios[`${g}/${a}`] ??= []).push(gNs / aNs);
      }
    }
  }
  const out = { backend: gl.getBackend(), iterations, figures: {}, ratios: {}, stats: gl.coreStats() };
  for (const [k, s] of Object.entries(samples)) out.figures[k] = c.summary(s);
  for (const [k, s] of Object.entries(ratios)) out.ratios[k] = c.median(s);
  c.sendResult(out);
}

// ==================================================================== parent

function main() {
  const t0 = Date.now();
  const m = c.machine();
  c.printBanner('hub', m);
  console.log(`each figure: median over ${RUNS} runs of ~${SAMPLE_MS} ms [min-max]; one child process per backend`);
  const common = ['--child', `--runs=${RUNS}`, `--sample-ms=${SAMPLE_MS}`];
  const results = {};
  for (const b of c.BACKENDS) results[b] = c.runChild(__filename, common, { env: c.backendEnv(b), timeoutMs: 600_000 });
  const gevent = c.runPythonBaseline(PYTHON, 'gevent', 'hub_gevent.py', [String(RUNS), String(SAMPLE_MS)], 300_000);

  console.log(
    "\n'x async' = run-by-run ratio to the async/await code measured beside it in the same child" +
      " (greenloop / async: above 1 means greenloop is slower); 'x gevent' = ratio to gevent's median\n",
  );
  const asyncLabel = {
    awaitNull: 'await null',
    awaitImmediate: 'await new Promise(setImmediate)',
    callAwait: 'await asyncFn()',
    queue: 'promise queue',
    event: 'promise event',
  };
  const rows = [
    ['figure', 'backend', 'greenloop median [min-max]', 'async/await equivalent', 'its median', 'x async', 'x gevent'],
  ];
  for (const [label, g, as] of PAIRS) {
    for (const b of c.BACKENDS) {
      const r = results[b];
      if (r.error) {
        rows.push([label, b, 'FAILED']);
        continue;
      }
      as.forEach((a, i) => {
        rows.push([
          i === 0 ? label : '',
          i === 0 ? b : '',
          i === 0 ? c.fmtSpread(r.figures[`green.${g}`]) : '',
          asyncLabel[a],
          c.fmtNs(r.figures[`async.${a}`].median),
          c.fmtRatio(r.ratios[`${g}/${a}`]),
          i === 0 && !gevent.skipped ? c.fmtRatio(r.figures[`green.${g}`].median / gevent[g]?.median) : '',
        ]);
      });
    }
  }
  c.printTable(rows);
  if (gevent.skipped) console.log(`\ngevent: skipped: ${gevent.skipped}`);
  else {
    console.log(
      `\ngevent ${gevent.gevent} (Python ${gevent.python}): sleep(0) ${c.fmtSpread(gevent.sleep0)}, ` +
        `spawn+join ${c.fmtSpread(gevent.spawnJoin)}, Queue hand-off ${c.fmtSpread(gevent.queue)}, ` +
        `Event wake-up ${c.fmtSpread(gevent.event)}`,
    );
  }
  for (const b of c.BACKENDS) if (results[b].error) console.log(`\n${b}: ${results[b].error}`);

  c.printJsonReport({ bench: 'hub', machine: m, runs: RUNS, sampleMs: SAMPLE_MS, gevent, backends: results }, m, t0);
}

if (args.child) child();
else main();
