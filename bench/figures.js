'use strict';
// Every figure of issue 12's table in one run (`npm run bench:figures`), each as a
// ratio against its baseline measured in the same run, with gevent /
// python-greenlet beside where they have a counterpart.
//
//   npm run build:ts && node bench/figures.js [--quick] [--only id,id,...] [--json PATH]
//        [--trials 3] [--seconds 3] [--idle 10000] [--idle-settle 1500] [--park 10000]
//
// It writes JSON to --json (default bench/results/figures-<YYYY-MM-DD>.json,
// with --quick bench/results/figures-<YYYY-MM-DD>-quick.json): per figure the
// samples, the median, the baseline's samples and median, the ratio, the
// target from the issue and whether it is met, plus the Node version, CPU
// count and load average. `node scripts/plot-bench.js <json> <svg>` draws it.
// --quick runs every figure on a tiny configuration (seconds, to check that it
// works; its figures mean nothing). --only runs the named figures (ids below).
//
// Nothing here measures anything itself: it runs the servers and measuring
// code of bench/ (bench/io/*, bench/python/*, bench/switch.js's and
// bench/gc.js's child modes) and bench/figures/* (plain Node's parked async
// functions, python-greenlet's parked greenlets, gevent's pywsgi), trials
// alternating between greenloop and its baselines, and takes medians.
const { execFile, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const c = require('./lib/common.js');
const io = require('./io/common.js');

const args = c.parseArgs();
const QUICK = Boolean(args.quick);
const TRIALS = Number(args.trials ?? (QUICK ? 1 : 3));
const SECONDS = Number(args.seconds ?? (QUICK ? 1 : 3));
const WARMUP_S = QUICK ? 0.5 : 1;
const IDLE = Number(args.idle ?? (QUICK ? 200 : 10_000));
// How long the idle connections stay idle before the server's RSS is read for the RSS row: past
// greenloop's default releaseStacksAfter (1 s), so the row shows a parked connection's steady
// state; the JSON keeps the figure read at once too (`atOnce`).
const IDLE_SETTLE_MS = Number(args['idle-settle'] ?? (QUICK ? 1200 : 1500));
// Quick: enough parked flows that plain Node's parked async functions (a few hundred bytes each
// at this count) show in the RSS, which grows by whole pages.
const PARK = Number(args.park ?? (QUICK ? 2000 : 10_000));
const GCS = QUICK ? 3 : 11;
const SWITCH_RUNS = QUICK ? 3 : 9;
const SWITCH_SAMPLE_MS = QUICK ? 20 : 120;
// Every greenloop process of the run uses the backend GREENLOOP_SWITCH selects, as a user's would.
const BACKEND = ['threads', 'thread'].includes(process.env.GREENLOOP_SWITCH) ? 'threads' : 'user-space';
const PYTHON = '/usr/bin/python3';
const WRK = '/usr/bin/wrk';
const KIB = 1024;

const script = (...p) => path.join(__dirname, ...p);
const today = new Date().toISOString().slice(0, 10);
const JSON_PATH = path.resolve(
  String(args.json ?? path.join(__dirname, 'results', `figures-${today}${QUICK ? '-quick' : ''}.json`)),
);

// ==================================================================== the figures

// Each figure: what the issue's table row says, what it compares, and its target.
// `better` says which way is good; a target is a ratio (`ratio`) or, where the
// issue gives an absolute figure, a value (`value`, in the figure's unit),
// turned into a ratio against the baseline measured in this run.
const FIGURES = [
  {
    id: 'tcp-echo-100',
    title: 'TCP echo, 100 clients',
    group: 'echo',
    unit: 'rt/s',
    better: 'higher',
    greenloop: 'StreamServer (lazy), blocking style',
    baseline: 'node:net callbacks',
    target: { ratio: 1.0 },
  },
  {
    id: 'tcp-echo-1000',
    title: 'TCP echo, 1,000 clients',
    group: 'echo',
    unit: 'rt/s',
    better: 'higher',
    greenloop: 'StreamServer (lazy), blocking style',
    baseline: 'node:net callbacks',
    target: { ratio: 0.9 },
  },
  {
    id: 'http-10',
    title: 'HTTP hello world, 10 connections',
    group: 'http',
    unit: 'req/s',
    better: 'higher',
    greenloop: 'greenloop/http',
    baseline: 'node:http',
    target: { ratio: 1.0 },
  },
  {
    id: 'http-100',
    title: 'HTTP hello world, 100 connections',
    group: 'http',
    unit: 'req/s',
    better: 'higher',
    greenloop: 'greenloop/http',
    baseline: 'node:http',
    target: { ratio: 1.0 },
  },
  {
    id: 'http-park-10',
    title: 'HTTP, handler parks once (sleep(0)), 10 connections',
    group: 'http',
    unit: 'req/s',
    better: 'higher',
    greenloop: 'greenloop/http, sleep(0) in each handler',
    baseline: 'node:http',
    target: { ratio: 0.85 },
  },
  {
    id: 'http-park-100',
    title: 'HTTP, handler parks once (sleep(0)), 100 connections',
    group: 'http',
    unit: 'req/s',
    better: 'higher',
    greenloop: 'greenloop/http, sleep(0) in each handler',
    baseline: 'node:http',
    target: { ratio: 0.85 },
  },
  {
    id: 'parked-conns-active',
    title: `${IDLE.toLocaleString('en-US')} parked connection handlers + 100 active`,
    group: 'parked',
    unit: 'rt/s',
    better: 'higher',
    greenloop: 'StreamServer, each idle handler parked in recv()',
    baseline: 'node:net callbacks, the same idle connections',
    target: { ratio: 0.9 },
  },
  {
    id: 'rss-parked-conn',
    title: 'RSS per parked connection (handler parked in recv)',
    group: 'parked',
    unit: 'bytes',
    better: 'lower',
    greenloop: 'StreamServer',
    baseline: 'node:net callbacks, per idle connection',
    target: { value: 12 * KIB },
  },
  {
    id: 'rss-parked-greenlet',
    title: `RSS per parked greenlet (${PARK.toLocaleString('en-US')} parked)`,
    group: 'greenlets',
    unit: 'bytes',
    better: 'lower',
    greenloop: 'greenlet parked in a switch',
    baseline: 'plain Node, async function parked in await',
    target: { value: 14 * KIB },
  },
  {
    id: 'scavenge-parked-greenlet',
    title: `scavenge with ${PARK.toLocaleString('en-US')} greenlets parked 5 frames deep`,
    group: 'gc',
    unit: 'µs',
    better: 'lower',
    greenloop: 'scavenge with the greenlets parked',
    baseline: 'scavenge with none parked (same script)',
    // The issue's target is per parked greenlet: 1.5 µs added to each scavenge.
    target: { perGreenletUs: 1.5 },
  },
  {
    id: 'cold-spawn-park',
    title: `${PARK.toLocaleString('en-US')} greenlets spawned and parked cold, each`,
    group: 'greenlets',
    unit: 'ns',
    better: 'lower',
    greenloop: 'greenlets started and parked in a fresh process',
    baseline: 'plain Node, async functions started and parked in await',
    target: { value: 15_000 },
  },
  {
    id: 'cold-spawn-prewarmed',
    title: `${PARK.toLocaleString('en-US')} greenlets spawned and parked after prewarm(), each`,
    group: 'greenlets',
    unit: 'ns',
    better: 'lower',
    greenloop:
      'spawn() + Event.wait() in a fresh process once prewarm() has settled (threads made, the park path warmed, a greenlet run on each thread)',
    baseline: 'plain Node, async functions started and parked in await',
    // The issue's cold-start target, met the way it suggests: a warm-up API.
    target: { value: 15_000 },
  },
  {
    id: 'switch-round-trip',
    title: 'switch round trip main -> greenlet -> main',
    group: 'switch',
    unit: 'ns',
    better: 'lower',
    greenloop: `greenloop, ${BACKEND} backend`,
    baseline: 'python-greenlet',
    target: { ratio: 2.0 },
  },
];

// ==================================================================== helpers

const sleepMs = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function haveWrk() {
  return fs.existsSync(WRK);
}

/** `n` trials of `once(name)` for each name, names alternating within a trial; samples by name. */
async function alternate(names, n, once) {
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  for (let t = 0; t < n; t++) for (const name of names) samples[name].push(await once(name));
  return samples;
}

/** Samples of one series, with their median; `field` picks the number from each trial's result. */
function series(label, results, field) {
  const byTrial = results.map((r) => (r && !r.error ? r[field] : null));
  const samples = byTrial.filter((x) => x !== null);
  return {
    label,
    samples,
    median: samples.length ? c.median(samples) : NaN,
    byTrial,
    errors: results.filter((r) => r?.error).map((r) => r.error),
  };
}

/**
 * The median of trial-by-trial ratios a[t] / b[t] (each pair measured back
 * to back, so a change in the machine's load between trials cancels out), or
 * NaN without a pair.
 */
function pairedRatio(a, b) {
  const ratios = a.byTrial.map((x, t) => (x !== null && b.byTrial[t] != null ? x / b.byTrial[t] : null));
  const ok = ratios.filter((r) => r !== null);
  return ok.length ? c.median(ok) : NaN;
}

/** A server of bench/io/common.js's startServer, or { error } when it did not start. */
async function startOrError({ cmd, args: serverArgs }, what) {
  try {
    return await io.startServer(cmd, serverArgs);
  } catch (error) {
    return { error: `${what} did not start: ${error.message}` };
  }
}

// ==================================================================== TCP echo, parked connections

const ECHO_SERVERS = {
  green: { cmd: process.execPath, args: [script('io', 'echo-green.js'), '--lazy'] }, // as bench/echo.js measures
  node: { cmd: process.execPath, args: [script('io', 'echo-node.js')] },
  gevent: { cmd: PYTHON, args: [script('python', 'echo_gevent.py')] },
};

/**
 * One run of bench/io/echo-load.js against a fresh server `name`: round trips/s
 * of `clients` active clients, after `idle` connections that each sent one
 * message (so a green server's handler for each is parked in recv()); with
 * idle connections, also the server's RSS per idle connection.
 */
async function echoTrial(name, clients, idle) {
  const what = `${name} echo server, ${clients} clients, ${idle} idle`;
  const server = await startOrError(ECHO_SERVERS[name], what);
  if (server.error) return server;
  try {
    await sleepMs(200); // let the server finish starting before its RSS is read
    const rssStart = server.rss();
    let rssIdle = NaN;
    let rssSettled = NaN;
    const load = await io.runEchoLoad(
      {
        port: server.port,
        clients,
        seconds: SECONDS,
        warmup: WARMUP_S,
        idle,
        'idle-mode': 'parked',
        'idle-settle': idle > 0 ? IDLE_SETTLE_MS : 0,
      },
      (line) => {
        if (line === 'IDLE_READY') rssIdle = server.rss();
        if (line === 'IDLE_SETTLED') rssSettled = server.rss();
      },
    );
    return {
      rps: load.rps,
      rssPerConnection: idle > 0 ? (rssSettled - rssStart) / idle : NaN,
      rssPerConnectionAtOnce: idle > 0 ? (rssIdle - rssStart) / idle : NaN,
    };
  } catch (error) {
    return { error: `${what}: ${error.message}` };
  } finally {
    await server.stop();
  }
}

function echoServers(notes) {
  const names = ['green', 'node'];
  if (io.haveGevent()) names.push('gevent');
  else notes.push(`gevent: ${PYTHON} cannot import gevent (apt-get install python3-gevent): no gevent column`);
  return names;
}

async function measureEcho(wanted, out, notes) {
  const names = echoServers(notes);
  for (const clients of [100, 1000]) {
    const id = `tcp-echo-${clients}`;
    if (!wanted.has(id)) continue;
    const loadavg = c.machine().loadavg;
    const runs = await alternate(names, TRIALS, (name) => echoTrial(name, clients, 0));
    out[id] = {
      loadavg,
      command: `node bench/io/echo-load.js --clients ${clients} against bench/io/echo-green.js --lazy, bench/io/echo-node.js, bench/python/echo_gevent.py`,
      greenloop: series('StreamServer', runs.green, 'rps'),
      baseline: series('node:net', runs.node, 'rps'),
      beside: runs.gevent ? [series('gevent StreamServer', runs.gevent, 'rps')] : [],
    };
  }
}

async function measureParked(wanted, out, notes) {
  if (!wanted.has('parked-conns-active') && !wanted.has('rss-parked-conn')) return;
  const names = echoServers(notes);
  const loadavg = c.machine().loadavg;
  const runs = await alternate(names, TRIALS, (name) => echoTrial(name, 100, IDLE));
  const command = `node bench/io/echo-load.js --clients 100 --idle ${IDLE} --idle-mode parked against the echo servers`;
  out['parked-conns-active'] = {
    loadavg,
    command,
    greenloop: series('StreamServer', runs.green, 'rps'),
    baseline: series('node:net', runs.node, 'rps'),
    beside: runs.gevent ? [series('gevent StreamServer', runs.gevent, 'rps')] : [],
  };
  out['rss-parked-conn'] = {
    loadavg,
    command: `${command} --idle-settle ${IDLE_SETTLE_MS}; (server RSS ${IDLE_SETTLE_MS} ms after the idle connections were open - at start) / ${IDLE}`,
    greenloop: series('StreamServer', runs.green, 'rssPerConnection'),
    baseline: series('node:net', runs.node, 'rssPerConnection'),
    beside: runs.gevent ? [series('gevent StreamServer', runs.gevent, 'rssPerConnection')] : [],
    // The same, read the moment the last idle connection had its echo (before any stack release).
    atOnce: {
      greenloop: series('StreamServer', runs.green, 'rssPerConnectionAtOnce'),
      baseline: series('node:net', runs.node, 'rssPerConnectionAtOnce'),
    },
  };
  const atOnce = out['rss-parked-conn'].atOnce;
  notes.push(
    `rss-parked-conn is read ${IDLE_SETTLE_MS} ms after the idle connections were open; at once it was ` +
      `${c.fmtBytes(atOnce.greenloop.median)} (StreamServer) and ${c.fmtBytes(atOnce.baseline.median)} (node:net)`,
  );
}

// ==================================================================== HTTP

const HTTP_SERVERS = {
  green: { cmd: process.execPath, args: [script('io', 'http-green.js')] },
  'green+park': { cmd: process.execPath, args: [script('io', 'http-green.js'), '--park'] },
  node: { cmd: process.execPath, args: [script('io', 'http-node.js')] },
  pywsgi: { cmd: PYTHON, args: [script('figures', 'http_pywsgi.py')] },
};

function wrk(port, connections, seconds) {
  return new Promise((resolve, reject) => {
    execFile(WRK, ['-t1', `-c${connections}`, `-d${seconds}s`, `http://127.0.0.1:${port}/`], (error, stdout) => {
      if (error) return reject(error);
      const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
      if (!m) return reject(new Error(`cannot parse wrk output:\n${stdout}`));
      const errors = stdout
        .split('\n')
        .filter((l) => /Non-2xx|Socket errors/.test(l))
        .join('; ');
      resolve({ rps: Number(m[1]), errors });
    });
  });
}

/** One wrk run against a fresh server `name`, after a warm-up run (JIT, pools), as bench/http-server.js does. */
async function httpTrial(name, connections) {
  const server = await startOrError(HTTP_SERVERS[name], `${name} HTTP server`);
  if (server.error) return server;
  try {
    await wrk(server.port, connections, Math.max(1, Math.round(WARMUP_S))).catch(() => {});
    const r = await wrk(server.port, connections, SECONDS);
    // A server that answers errors is not measured: its rate would mean nothing.
    if (r.errors) return { error: `${name}, ${connections} connections: ${r.errors}` };
    return { rps: r.rps };
  } catch (error) {
    return { error: `${name} HTTP server, ${connections} connections: ${error.message}` };
  } finally {
    await server.stop();
  }
}

async function measureHttp(wanted, out, notes) {
  const ids = FIGURES.filter((f) => f.group === 'http' && wanted.has(f.id));
  if (!ids.length) return;
  if (!haveWrk()) {
    notes.push(`HTTP figures: ${WRK} not found (apt-get install wrk)`);
    return;
  }
  const names = ['green', 'node'];
  if (ids.some((f) => f.id.startsWith('http-park'))) names.push('green+park');
  if (io.haveGevent()) names.push('pywsgi');
  else notes.push(`gevent pywsgi: ${PYTHON} cannot import gevent: no gevent column`);
  for (const connections of [10, 100]) {
    const want = (id) => wanted.has(id);
    if (!want(`http-${connections}`) && !want(`http-park-${connections}`)) continue;
    const loadavg = c.machine().loadavg;
    const runs = await alternate(names, TRIALS, (name) => httpTrial(name, connections));
    const command = `wrk -t1 -c${connections} -d${SECONDS}s against bench/io/http-green.js, bench/io/http-node.js, bench/figures/http_pywsgi.py`;
    const baseline = series('node:http', runs.node, 'rps');
    const gevent = runs.pywsgi ? [series('gevent pywsgi', runs.pywsgi, 'rps')] : [];
    if (want(`http-${connections}`)) {
      out[`http-${connections}`] = {
        loadavg,
        command,
        greenloop: series('greenloop/http', runs.green, 'rps'),
        baseline,
        beside: gevent,
      };
    }
    if (want(`http-park-${connections}`)) {
      out[`http-park-${connections}`] = {
        loadavg,
        command: command.replace('http-green.js', 'http-green.js --park'),
        greenloop: series('greenloop/http + sleep(0)', runs['green+park'], 'rps'),
        baseline,
        beside: [],
      };
    }
  }
}

// ==================================================================== greenlets: RSS, cold spawn, GC, switch

/** A bench/python/ baseline under Debian's python3 (c.runPythonBaseline), or { error, skipped } without its module. */
function pythonBaseline(module, scriptPath, scriptArgs) {
  const r = c.runPythonBaseline(PYTHON, module, scriptPath, scriptArgs, 120_000);
  return r.skipped ? { error: r.skipped, skipped: true } : r;
}

/** The series of a Python baseline, or null (with a note) when every trial was skipped. */
function pythonSeries(label, results, notes) {
  if (results.every((r) => r.skipped)) {
    notes.push(`${label}: ${results[0].error}`);
    return null;
  }
  return results;
}

async function measureGreenlets(wanted, out, notes) {
  const prewarmed = wanted.has('cold-spawn-prewarmed');
  if (!wanted.has('rss-parked-greenlet') && !wanted.has('cold-spawn-park') && !prewarmed) return;
  const loadavg = c.machine().loadavg;
  // A fresh process per sample: the first greenlets of a process are the cold ones. The async
  // functions are the baseline of the three figures.
  const names = ['green', 'async', 'python', ...(prewarmed ? ['prewarmed', 'gevent'] : [])];
  const runs = await alternate(names, TRIALS, (name) => {
    if (name === 'green') {
      return c.runChild(script('switch.js'), ['--child', 'rss', `--park=${PARK}`], {
        env: c.backendEnv(BACKEND),
        nodeArgs: ['--expose-gc'],
      });
    }
    if (name === 'prewarmed') {
      return c.runChild(script('spawn.js'), ['--child', 'cold', '--mode=prewarmed', `--n=${PARK}`], {
        env: c.backendEnv(BACKEND),
      });
    }
    if (name === 'async')
      return c.runChild(script('figures', 'async-baseline.js'), [`--n=${PARK}`], { nodeArgs: ['--expose-gc'] });
    // gevent has no threads to make: its cold figure (spawn + park on an Event, fresh process).
    if (name === 'gevent') return pythonBaseline('gevent', 'spawn_gevent.py', [String(PARK), '100', '2']);
    return pythonBaseline('greenlet', path.join('..', 'figures', 'greenlet_park.py'), [String(PARK)]);
  });
  for (const r of runs.green) if (r.failure) r.error = r.failure; // fewer parked than asked: not a sample
  const python = pythonSeries('python-greenlet', runs.python, notes);
  const asyncCommand = `node --expose-gc bench/figures/async-baseline.js --n=${PARK}`;
  out['rss-parked-greenlet'] = {
    loadavg,
    command: `node --expose-gc bench/switch.js --child rss --park=${PARK}; ${asyncCommand}; python3 bench/figures/greenlet_park.py ${PARK}`,
    greenloop: series('greenloop', runs.green, 'rssPerGreenlet'),
    baseline: series('async function', runs.async, 'rssPerFunction'),
    beside: python ? [series('python-greenlet', python, 'rssPerGreenlet')] : [],
  };
  out['cold-spawn-park'] = {
    loadavg,
    command: out['rss-parked-greenlet'].command,
    greenloop: series('greenloop', runs.green, 'spawnAndParkNs'),
    baseline: series('async function', runs.async, 'startAndParkNs'),
    beside: python ? [series('python-greenlet', python, 'spawnAndParkNs')] : [],
  };
  if (!prewarmed) return;
  const gevent = pythonSeries('gevent', runs.gevent, notes);
  out['cold-spawn-prewarmed'] = {
    loadavg,
    command: `node bench/spawn.js --child cold --mode=prewarmed --n=${PARK}; ${asyncCommand}; python3 bench/python/spawn_gevent.py ${PARK} 100 2`,
    greenloop: series('greenloop', runs.prewarmed, 'wallNs'),
    baseline: series('async function', runs.async, 'startAndParkNs'),
    beside: gevent ? [series('gevent', gevent, 'coldNs')] : [],
  };
}

async function measureGc(wanted, out, notes) {
  if (!wanted.has('scavenge-parked-greenlet')) return;
  const loadavg = c.machine().loadavg;
  // bench/gc.js's child, depth 1: 5 JS frames on each parked stack (it reports how many).
  const gcChild = (n) =>
    c.runChild(script('gc.js'), ['--child', `--n=${n}`, '--depth=1', '--kind=parked', `--gcs=${GCS}`], {
      env: c.backendEnv(BACKEND),
      nodeArgs: ['--expose-gc', '--allow-natives-syntax'],
      timeoutMs: 300_000,
    });
  const runs = await alternate(['parked', 'none'], TRIALS, (name) => {
    const r = gcChild(name === 'parked' ? PARK : 0);
    if (r.error) return r;
    if (r.failure) return { error: r.failure };
    if (!r.gcKindCheck.ok)
      return { error: `gc({type:'minor'}) was not seen as a scavenge: ${JSON.stringify(r.gcKindCheck)}` };
    return { scavengeUs: r.minorUs.median, frames: r.framesOnParkedStack, n: r.n };
  });
  const greenloop = series('greenloop', runs.parked, 'scavengeUs');
  const baseline = series('none parked', runs.none, 'scavengeUs');
  const frames = runs.parked.find((r) => !r.error)?.frames ?? null;
  if (frames !== null && frames !== 5) {
    notes.push(
      `scavenge: bench/gc.js --depth=1 leaves ${frames} JS frames on each parked stack (the issue's figure: 5)`,
    );
  }
  out['scavenge-parked-greenlet'] = {
    loadavg,
    command: `node --expose-gc --allow-natives-syntax bench/gc.js --child --n=${PARK} --depth=1 --kind=parked --gcs=${GCS} (and --n=0)`,
    greenloop,
    baseline,
    beside: [],
    framesOnParkedStack: frames,
    perGreenletUs: (greenloop.median - baseline.median) / PARK,
  };
}

async function measureSwitch(wanted, out, notes) {
  if (!wanted.has('switch-round-trip')) return;
  const loadavg = c.machine().loadavg;
  const settings = [String(SWITCH_RUNS), String(SWITCH_SAMPLE_MS)];
  // Each child's median over SWITCH_RUNS samples is one sample here.
  const runs = await alternate(['green', 'python'], TRIALS, (name) => {
    if (name === 'green') {
      const r = c.runChild(
        script('switch.js'),
        ['--child', 'switch', `--runs=${SWITCH_RUNS}`, `--sample-ms=${SWITCH_SAMPLE_MS}`],
        {
          env: c.backendEnv(BACKEND),
        },
      );
      return r.error ? r : { ns: r.roundTripMainNs.median, backend: r.backend };
    }
    const r = c.runPythonBaseline(PYTHON, 'greenlet', 'switch.py', settings, 120_000);
    return r.skipped ? { error: r.skipped } : { ns: r.roundTripMainNs.median };
  });
  if (runs.python.every((r) => r.error)) notes.push(`python-greenlet switch baseline: ${runs.python[0].error}`);
  out['switch-round-trip'] = {
    loadavg,
    command: `node bench/switch.js --child switch --runs=${SWITCH_RUNS} --sample-ms=${SWITCH_SAMPLE_MS}; python3 bench/python/switch.py ${settings.join(' ')}`,
    greenloop: series('greenloop', runs.green, 'ns'),
    baseline: series('python-greenlet', runs.python, 'ns'),
    beside: [],
  };
}

// ==================================================================== report

/** The figure's target as a ratio against this run's baseline, and how it reads. */
function targetOf(figure, measured) {
  const t = figure.target;
  const op = figure.better === 'higher' ? '>=' : '<=';
  if (t.ratio !== undefined) return { op, ratio: t.ratio, text: `${op === '>=' ? '≥' : '≤'} ${t.ratio.toFixed(2)}x` };
  const base = measured.baseline.median;
  if (t.perGreenletUs !== undefined) {
    const value = base + t.perGreenletUs * PARK;
    return {
      op,
      value,
      perGreenletUs: t.perGreenletUs,
      ratio: value / base,
      text: `≤ ${t.perGreenletUs} µs per parked greenlet`,
    };
  }
  return { op, value: t.value, ratio: t.value / base, text: `≤ ${fmtValue(t.value, figure.unit)}` };
}

function fmtValue(v, unit) {
  if (!Number.isFinite(v)) return 'n/a';
  if (unit === 'bytes') return v >= 10 * KIB ? `${(v / KIB).toFixed(1)} KiB` : `${v.toFixed(0)} B`;
  if (unit === 'ns') return c.fmtNs(v);
  if (unit === 'µs') return v >= 10_000 ? `${(v / 1000).toFixed(1)} ms` : `${v.toFixed(0)} µs`;
  return `${io.fmtRate(v)}`.replace('/s', ` ${unit}`);
}

function finish(figure, measured) {
  if (!measured) return { ...figureHead(figure), skipped: 'not measured in this run' };
  const ratio = measured.greenloop.median / measured.baseline.median;
  const target = targetOf(figure, measured);
  const met =
    Number.isFinite(ratio) && Number.isFinite(target.ratio)
      ? target.op === '>='
        ? ratio >= target.ratio
        : ratio <= target.ratio
      : null;
  const errors = [measured.greenloop, measured.baseline, ...measured.beside].flatMap((s) => s.errors);
  const strip = ({ errors: _e, byTrial: _t, ...s }) => s;
  return {
    ...figureHead(figure),
    command: measured.command,
    loadavg: measured.loadavg,
    greenloop: strip(measured.greenloop),
    baseline: strip(measured.baseline),
    ratio,
    pairedRatio: pairedRatio(measured.greenloop, measured.baseline),
    target,
    met,
    beside: measured.beside.map((s) => ({
      ...strip(s),
      ratio: s.median / measured.baseline.median,
      pairedRatio: pairedRatio(s, measured.baseline),
    })),
    ...(measured.perGreenletUs !== undefined
      ? { perGreenletUs: measured.perGreenletUs, framesOnParkedStack: measured.framesOnParkedStack }
      : {}),
    ...(errors.length ? { errors } : {}),
  };
}

function figureHead(f) {
  return {
    id: f.id,
    title: f.title,
    unit: f.unit,
    better: f.better,
    greenloopLabel: f.greenloop,
    baselineLabel: f.baseline,
  };
}

function gitState() {
  const git = (...a) => spawnSync('git', a, { cwd: c.ROOT, encoding: 'utf8' });
  const head = git('rev-parse', '--short', 'HEAD');
  if (head.status !== 0) return null;
  const dirty = git('status', '--porcelain', '--untracked-files=no', '--', 'lib', 'csrc', 'bench').stdout.trimEnd();
  return { commit: head.stdout.trim(), changedFiles: dirty ? dirty.split('\n').map((l) => l.slice(3)) : [] };
}

/** A progress line: one figure's samples, as they were measured. */
function printSamples(id, m) {
  const unit = FIGURES.find((f) => f.id === id).unit;
  const list = (s) =>
    `${s.label} [${s.samples.map((v) => fmtValue(v, unit)).join(', ')}]${s.errors.length ? ` (${s.errors.length} failed)` : ''}`;
  console.log(`  ${id}: ${[m.greenloop, m.baseline, ...m.beside].map(list).join('  ')}`);
}

function printFigures(figures) {
  const rows = [['figure', 'greenloop', 'baseline', 'ratio', 'paired', 'target', 'met', 'gevent / python-greenlet']];
  for (const f of figures) {
    if (f.skipped) {
      rows.push([f.title, 'skipped']);
      continue;
    }
    const shown =
      f.perGreenletUs !== undefined
        ? `${fmtValue(f.greenloop.median, f.unit)} (${f.perGreenletUs.toFixed(2)} µs each)`
        : fmtValue(f.greenloop.median, f.unit);
    rows.push([
      f.title,
      shown,
      `${fmtValue(f.baseline.median, f.unit)} ${f.baseline.label}`,
      c.fmtRatio(f.ratio),
      c.fmtRatio(f.pairedRatio),
      `${f.target.text}${f.target.value !== undefined ? ` (${c.fmtRatio(f.target.ratio)})` : ''}`,
      f.met === null ? '?' : f.met ? 'yes' : 'no',
      f.beside.map((s) => `${s.label} ${fmtValue(s.median, f.unit)} (${c.fmtRatio(s.ratio)})`).join(', '),
    ]);
  }
  c.printTable(rows);
}

async function main() {
  const t0 = Date.now();
  const m = c.machine();
  const ids = new Set(FIGURES.map((f) => f.id));
  const only = args.only ? String(args.only).split(',') : [...ids];
  const unknown = only.filter((id) => !ids.has(id));
  if (unknown.length) {
    console.error(
      `bench/figures.js: unknown figure ${unknown.map((id) => JSON.stringify(id)).join(', ')} in --only; figures: ${[...ids].join(', ')}`,
    );
    process.exit(2);
  }
  const wanted = new Set(only);
  c.printBanner('figures', m);
  console.log(
    `${QUICK ? 'QUICK (a check that it works; the figures mean nothing): ' : ''}${BACKEND} backend, ${TRIALS} trials, ${SECONDS} s windows, ` +
      `${IDLE} idle connections, ${PARK} parked greenlets; medians, ratios against baselines measured in this run`,
  );
  const measured = {};
  const notes = [];
  for (const measure of [measureEcho, measureParked, measureHttp, measureSwitch, measureGreenlets, measureGc]) {
    const before = new Set(Object.keys(measured));
    await measure(wanted, measured, notes);
    for (const id of Object.keys(measured).filter((k) => !before.has(k))) printSamples(id, measured[id]);
  }

  const figures = FIGURES.filter((f) => wanted.has(f.id)).map((f) => finish(f, measured[f.id]));
  console.log('');
  printFigures(figures);
  for (const s of new Set(notes)) console.log(`note: ${s}`);
  for (const f of figures) for (const e of f.errors ?? []) console.log(`problem (${f.id}): ${e}`);

  const json = {
    bench: 'figures',
    date: new Date().toISOString(),
    quick: QUICK,
    machine: m,
    git: gitState(),
    backend: BACKEND,
    settings: {
      trials: TRIALS,
      seconds: SECONDS,
      warmupS: WARMUP_S,
      idle: IDLE,
      park: PARK,
      gcs: GCS,
      switchRuns: SWITCH_RUNS,
      switchSampleMs: SWITCH_SAMPLE_MS,
    },
    notes: [...new Set(notes)],
    figures,
  };
  json.loadavgAtEnd = c.machine().loadavg;
  json.elapsedS = (Date.now() - t0) / 1000;
  const warning = c.loadWarning(m.loadavg, json.loadavgAtEnd);
  if (warning) console.log(`\n${warning}`);
  fs.mkdirSync(path.dirname(JSON_PATH), { recursive: true });
  fs.writeFileSync(JSON_PATH, `${JSON.stringify(c.roundDeep(json), null, 1)}\n`);
  console.log(
    `\nloadavg at end ${json.loadavgAtEnd.join(' ')}; ${json.elapsedS.toFixed(1)} s. JSON: ${path.relative(process.cwd(), JSON_PATH)}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
