'use strict';
// What parked greenlets keep of the stack they once used, and what
// Hub#releaseStacksAfter gives back: N greenlets (gevent-level, spawned on the
// hub) each recurse --depth frames deep, return, and park on an Event, as a
// server's handler that did real work and then waits for the next request.
//
//   npm run build:ts && node bench/stack-release.js [--park 2000] [--depth 2000] [--runs 3]
//
// Each run is a fresh child process with --expose-gc: RSS per parked greenlet
// after GC right after they parked (the baseline: what they keep without a
// release, `releaseStacksAfter = null`), then again once the hub has released
// every one of them (`releaseStacksAfter = 50`), and what one release costs
// (its system call, timed over all of them: they are released again). The
// same with no recursion (--depth 0, in a child of its own): what a shallow
// park keeps either way.
//
// The sweeps' own cost: --idle greenlets parked for good (released once) and
// 200 that keep parking for 21-30 ms, with releaseStacksAfter = 20 (a sweep
// every few ms, each releasing the few that just reached 20 ms) against the
// same with releases off, in the same run: the process's CPU per second.
const c = require('./lib/common.js');
// Internal: what the hub calls per parked greenlet (timed here on its own).
const { releaseParkedStack } = require(require('node:path').join(c.ROOT, 'dist', 'cjs', 'greenlet.js'));

const args = c.parseArgs();
const PARK = Number(args.park ?? 2000);
const DEPTH = Number(args.depth ?? 2000);
const RUNS = Number(args.runs ?? 3);
const IDLE = Number(args.idle ?? 10000);

function deep(n) {
  const frame = [n, n + 1];
  return n === 0 ? 0 : deep(n - 1) + frame[1] - n;
}

function perGreenlet(depth, { spawn, sleep, Event, getHub }) {
  const hub = getHub();
  hub.releaseStacksAfter = null;
  const event = new Event();
  globalThis.gc();
  const rss0 = c.rssBytes();
  const gs = [];
  for (let i = 0; i < PARK; i++) {
    gs.push(
      spawn(() => {
        deep(depth);
        event.wait();
      }),
    );
  }
  sleep(0);
  globalThis.gc();
  const rssParked = c.rssBytes();
  const released0 = hub.stackReleases;
  hub.releaseStacksAfter = 50;
  while (hub.stackReleases - released0 < PARK) sleep(10);
  globalThis.gc();
  const rssReleased = c.rssBytes();
  const t0 = c.now();
  for (const g of gs) releaseParkedStack(g);
  const releaseNs = c.elapsedNs(t0) / PARK;
  event.set();
  for (const g of gs) g.join();
  hub.releaseStacksAfter = 1000;
  return {
    keptBytes: (rssParked - rss0) / PARK,
    releasedBytes: (rssReleased - rss0) / PARK,
    releaseNs,
  };
}

function sweepCost(releaseAfter, { spawn, sleep, Event, getHub }) {
  const hub = getHub();
  hub.releaseStacksAfter = releaseAfter;
  const idle = new Event();
  for (let i = 0; i < IDLE; i++) spawn(() => idle.wait());
  for (let i = 0; i < 200; i++)
    spawn(() => {
      for (;;) sleep(21 + (i % 10));
    });
  sleep(1500); // the idle ones released, the cycling ones in step
  const cpu0 = process.cpuUsage();
  const released0 = hub.stackReleases;
  const t0 = c.now();
  sleep(3000);
  const seconds = c.elapsedNs(t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  return {
    cpuMsPerS: (cpu.user + cpu.system) / 1000 / seconds,
    releasesPerS: (hub.stackReleases - released0) / seconds,
  };
}

function child() {
  const gl = require(c.DIST);
  if (args.sweep !== undefined) {
    gl.spawn(() => {
      c.sendResult(sweepCost(args.sweep === 'on' ? 20 : null, gl));
      process.exit(0);
    });
    return;
  }
  gl.spawn(() => {
    c.sendResult({ backend: gl.getBackend(), ...perGreenlet(DEPTH, gl) });
    process.exit(0);
  });
}

function main() {
  const m = c.machine();
  const t0 = Date.now();
  c.printBanner('stack release', m);
  console.log(`${PARK} greenlets parked on an Event after recursing ${DEPTH} frames (and 0), ${RUNS} runs; medians\n`);
  const runs = { shallow: [], deep: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const [kind, depth] of [
      ['shallow', 0],
      ['deep', DEPTH],
    ]) {
      const r = c.runChild(__filename, ['--child', `--park=${PARK}`, `--depth=${depth}`], {
        nodeArgs: ['--expose-gc'],
      });
      if (r.error) {
        console.log(r.error);
        process.exitCode = 1;
        return;
      }
      runs[kind].push(r);
    }
  }
  const rows = [['parked greenlet', 'RSS kept (release off)', 'RSS after release', 'after / kept', 'one release']];
  const json = { park: PARK, depth: DEPTH, runs: RUNS, backend: runs.deep[0].backend, machine: m };
  for (const kind of ['shallow', 'deep']) {
    const med = (f) => c.median(runs[kind].map(f));
    const kept = med((r) => r.keptBytes);
    const released = med((r) => r.releasedBytes);
    const releaseNs = med((r) => r.releaseNs);
    json[kind] = { keptBytes: kept, releasedBytes: released, ratio: released / kept, releaseNs };
    rows.push([
      kind === 'deep' ? `${DEPTH} frames deep once, then parked` : 'never deeper than its park',
      c.fmtBytes(kept),
      c.fmtBytes(released),
      c.fmtRatio(released / kept),
      c.fmtNs(releaseNs),
    ]);
  }
  c.printTable(rows);
  const sweeps = { on: [], off: [] };
  for (let i = 0; i < RUNS; i++) {
    for (const mode of ['off', 'on']) {
      const r = c.runChild(__filename, ['--child', `--sweep=${mode}`, `--idle=${IDLE}`]);
      if (r.error) {
        console.log(r.error);
        process.exitCode = 1;
        return;
      }
      sweeps[mode].push(r);
    }
  }
  const cpuOn = c.median(sweeps.on.map((r) => r.cpuMsPerS));
  const cpuOff = c.median(sweeps.off.map((r) => r.cpuMsPerS));
  const releasesPerS = c.median(sweeps.on.map((r) => r.releasesPerS));
  json.sweep = { idle: IDLE, cpuMsPerSOn: cpuOn, cpuMsPerSOff: cpuOff, ratio: cpuOn / cpuOff, releasesPerS };
  console.log(`\n${IDLE} parked for good + 200 parking 21-30 ms at a time, CPU per second (medians):\n`);
  c.printTable([
    ['releaseStacksAfter', 'CPU ms/s', 'releases/s', 'ratio'],
    ['null (baseline)', cpuOff.toFixed(1), '0', '1.00x'],
    ['20', cpuOn.toFixed(1), releasesPerS.toFixed(0), c.fmtRatio(cpuOn / cpuOff)],
  ]);
  c.printJsonReport(json, m, t0);
}

if (args.child) child();
else main();
