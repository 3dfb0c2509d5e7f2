'use strict';
// Why the echo server slows down from 100 to 1,000 clients: a switch costs
// more when it goes to one of many greenlets (each switch touches a cold
// stack, V8's archived thread state and the thread's TLS) even with no IO.
// K greenlets take turns with sleep(0) (one hand-off switch each), and the
// table shows server CPU per switch, with the share of it spent in
// scavenges (which walk every parked stack), against the smallest K.
//
//   npm run build:ts && node bench/io/switch-spread.js [--sizes 10,100,1000,3000] [--switches 200000] [--trials 3]
const { PerformanceObserver, constants } = require('node:perf_hooks');
const c = require('./common.js');
const { Event, spawn, sleep } = require('../../dist/cjs/index.js');

const args = c.parseArgs();
const SIZES = String(args.sizes ?? '10,100,1000,3000')
  .split(',')
  .map(Number);
const SWITCHES = Number(args.switches ?? 200000);
const TRIALS = Number(args.trials ?? 3);

let scavengeMs = 0;
new PerformanceObserver((list) => {
  for (const entry of list.getEntries())
    if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) scavengeMs += entry.duration;
}).observe({ entryTypes: ['gc'] });

/** One trial: K greenlets, SWITCHES sleep(0)s in all; CPU ns per switch and scavenge ms. */
function trial(k) {
  const rounds = Math.max(1, Math.round(SWITCHES / k));
  const done = new Event();
  let left = k;
  let cpu0;
  let scavenge0;
  for (let i = 0; i < k; i++) {
    spawn(() => {
      sleep(0); // all started and parked once before the clock starts
      if (i === 0) {
        cpu0 = process.cpuUsage();
        scavenge0 = scavengeMs;
      }
      for (let r = 0; r < rounds; r++) sleep(0);
      if (--left === 0) done.set();
    });
  }
  done.wait();
  const cpu = process.cpuUsage(cpu0);
  return { nsPerSwitch: ((cpu.user + cpu.system) * 1e3) / (k * rounds), scavengeMs: scavengeMs - scavenge0 };
}

spawn(() => {
  console.log(`switch spread: Node ${process.version}, ${SWITCHES} sleep(0) switches per trial, median of ${TRIALS}`);
  const rows = [['greenlets', 'CPU/switch', 'scavenge share', 'vs smallest']];
  let base;
  for (const k of SIZES) {
    const samples = [];
    for (let t = 0; t < TRIALS; t++) samples.push(trial(k));
    const ns = c.median(samples.map((s) => s.nsPerSwitch));
    const share = c.median(samples.map((s) => (s.scavengeMs * 1e6) / (s.nsPerSwitch * SWITCHES)));
    base ??= ns;
    rows.push([k, `${ns.toFixed(0)} ns`, `${(share * 100).toFixed(1)}%`, c.fmtRatio(ns / base)]);
  }
  c.table(rows);
});
