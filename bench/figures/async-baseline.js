'use strict';
// Plain Node's counterpart of greenloop's parked greenlets, for bench/figures.js:
// a flow that waits, written with async/await, in a process that never loads greenloop.
//
//   node --expose-gc bench/figures/async-baseline.js [--n 10000]
//
// Starts N async functions in this fresh process, each parked at once in
// `await` of a promise that never settles (kept reachable), and passes to the
// parent (bench/lib/common.js's sendResult) the RSS per parked function after
// GC and the start + park time per function (cold: the first N of this
// process), as bench/switch.js's `--child rss` measures greenlets.
//
// (A scavenge has no such counterpart: N pending async call chains 5 deep
// cost it too little to measure, under 0.02 µs each, so bench/figures.js
// compares a scavenge with parked greenlets to one with none.)
const c = require('../lib/common.js');

const args = c.parseArgs();
const N = Number(args.n ?? 10_000);
const never = new Promise(() => {});

async function parkOnce() {
  await never;
}

function park() {
  for (let i = 0; i < 100; i++) parkOnce(); // compile and warm up what the loop uses
  global.gc();
  global.gc();
  const rss0 = c.rssBytes();
  const held = [];
  const t0 = c.now();
  for (let i = 0; i < N; i++) held.push(parkOnce());
  const startAndParkNs = c.elapsedNs(t0) / N;
  global.gc();
  global.gc();
  const rss1 = c.rssBytes();
  c.sendResult({ parked: held.length, rssPerFunction: (rss1 - rss0) / N, startAndParkNs });
}

park();
