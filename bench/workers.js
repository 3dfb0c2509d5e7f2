'use strict';
// All the cores: throughput with 1 and 2 worker processes, greenloop's `workers` option beside
// plain node:cluster doing the same, for the TCP echo and HTTP hello world servers.
//
//   npm run build:ts && node bench/workers.js [--trials 3] [--seconds 3] [--clients 100]
//        [--connections 50] [--workers 1,2] [--protocols echo,http] [--json FILE]
//
// Servers (each its own process tree, started by this script with --serve):
//   green   StreamServer / greenloop/http with { workers: N }: a supervising primary, N workers
//   cluster plain node:net / node:http in N node:cluster workers (the primary only forks)
//   single  the same plain server in one process, no cluster (what 1 worker costs over none)
// Load: bench/io/echo-load.js (100 ping-pong clients, 64-byte messages) and wrk -t1 -c50
// (keep-alive), each one process on the same machine: with 2 cores the load generator takes a
// share of them, so 2 workers cannot double anything here; the ratios are what this machine gives.
// Trials alternate the servers; tables show medians; every ratio compares medians of this run.
const { execFile, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const c = require('./io/common.js');

const args = c.parseArgs();

/** The server side: `--serve green-echo|cluster-echo|single-echo|green-http|cluster-http|single-http --workers N`. */
function serve(kind, workers) {
  const [flavour, protocol] = kind.split('-');
  const listen = { port: 0, host: '127.0.0.1', backlog: 4096 };
  const body = 'hello world';
  if (flavour === 'green') {
    const { spawn: spawnGreenlet } = require('../dist/cjs/index.js');
    if (protocol === 'echo') {
      const { StreamServer } = require('../dist/cjs/io/net.js');
      const server = new StreamServer(
        (sock) => {
          for (let data = sock.recv(); data.length > 0; data = sock.recv()) sock.sendall(data);
        },
        { ...listen, workers },
      );
      spawnGreenlet(() => console.log(`PORT ${server.start().port}`));
    } else {
      const http = require('../dist/cjs/io/http.js');
      const server = http.createServer(
        (req, res) => {
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
          res.end(body);
        },
        { workers },
      );
      spawnGreenlet(() => console.log(`PORT ${server.listen(listen).port}`));
    }
    return;
  }
  const cluster = require('node:cluster');
  if (flavour === 'cluster' && cluster.isPrimary) {
    for (let i = 0; i < workers; i++) cluster.fork();
    return;
  }
  let server;
  if (protocol === 'echo') {
    server = require('node:net').createServer((sock) => {
      sock.setNoDelay(true);
      sock.on('data', (data) => sock.write(data));
      sock.on('error', () => {});
    });
  } else {
    server = require('node:http').createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
      res.end(body);
    });
  }
  server.listen(listen, () => console.log(`PORT ${server.address().port}`));
}

/** Starts `--serve kind --workers n` and resolves once `n` processes print PORT (1 for single). */
function startServer(kind, workers) {
  const child = spawn(process.execPath, [__filename, '--serve', kind, '--workers', String(workers)], {
    cwd: c.ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // The primary's line for each trial's stop is expected; anything else it or a worker says is shown.
  child.stderr.setEncoding('utf8').on('data', (chunk) => {
    const shown = chunk
      .split('\n')
      .filter((line) => line !== '' && !/^greenloop: primary \d+: SIGTERM: stopping/.test(line));
    if (shown.length > 0) process.stderr.write(`${shown.join('\n')}\n`);
  });
  const expected = kind.startsWith('single') ? 1 : workers;
  return new Promise((resolve, reject) => {
    let seen = 0;
    let buffer = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      buffer += chunk;
      for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
        const m = /^PORT (\d+)$/.exec(buffer.slice(0, at));
        buffer = buffer.slice(at + 1);
        if (m && ++seen === expected)
          resolve({ port: Number(m[1]), cpu: () => treeCpu(child.pid), stop: () => stop(child) });
      }
    });
    child.once('exit', (code) => reject(new Error(`server ${kind} x${workers} exited with ${code} before listening`)));
    // A worker that cannot start (a shared machine out of threads: EAGAIN) never prints: give up on this trial.
    setTimeout(() => {
      if (seen === expected) return;
      killTree(child.pid);
      reject(new Error(`server ${kind} x${workers}: ${seen} of ${expected} processes listening after 30 s`));
    }, 30_000).unref();
  });
}

/** CPU seconds used by a process and its children (the primary and its workers; Linux). */
function treeCpu(pid) {
  const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return c.cpuOf(pid) + children.reduce((sum, child) => sum + c.cpuOf(Number(child)), 0);
}

function killTree(pid) {
  for (const child of fs
    .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
    .trim()
    .split(/\s+/)
    .filter(Boolean)) {
    try {
      process.kill(Number(child), 'SIGKILL');
    } catch {}
  }
  process.kill(pid, 'SIGKILL');
}

/** SIGTERM (a greenloop primary stops its workers; a plain cluster primary dies and its workers with it). */
function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      // A plain cluster's workers leave on their own when the primary's IPC channel closes.
      setTimeout(resolve, 200);
    });
    child.kill('SIGTERM');
  });
}

const TRIALS = Number(args.trials ?? 3);
const SECONDS = Number(args.seconds ?? 3);
const CLIENTS = Number(args.clients ?? 100);
const CONNECTIONS = Number(args.connections ?? 50);
const WORKERS = String(args.workers ?? '1,2')
  .split(',')
  .map(Number);
const WRK = args.wrk ?? '/usr/bin/wrk';
const PROTOCOLS = String(args.protocols ?? 'echo,http').split(',');

function wrk(port) {
  return new Promise((resolve, reject) => {
    execFile(WRK, ['-t1', `-c${CONNECTIONS}`, `-d${SECONDS}s`, `http://127.0.0.1:${port}/`], (error, stdout) => {
      if (error) return reject(error);
      const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
      if (!m) return reject(new Error(`cannot parse wrk output:\n${stdout}`));
      if (/Non-2xx|Socket errors/.test(stdout))
        console.log(
          `  (wrk: ${stdout
            .split('\n')
            .filter((l) => /Non-2xx|Socket errors/.test(l))
            .join('; ')})`,
        );
      resolve(Number(m[1]));
    });
  });
}

async function trial(protocol, flavour, workers) {
  let server;
  try {
    server = await startServer(`${flavour}-${protocol}`, workers);
  } catch (error) {
    console.log(`  (trial left out: ${error.message})`);
    return { rps: NaN, cpuUs: NaN };
  }
  try {
    if (protocol === 'echo') {
      let cpu0 = 0;
      let cpu1 = 0;
      const result = await c.runLoad(
        process.execPath,
        [
          path.join(__dirname, 'io', 'echo-load.js'),
          '--port',
          String(server.port),
          '--clients',
          String(CLIENTS),
          '--seconds',
          String(SECONDS),
          '--warmup',
          '1',
        ],
        (line) => {
          if (line === 'WINDOW_START') cpu0 = server.cpu();
          if (line === 'MEASURED') cpu1 = server.cpu();
        },
      );
      return { rps: result.rps, cpuUs: ((cpu1 - cpu0) * 1e6) / result.requests };
    }
    await wrk(server.port).catch(() => {}); // warm-up (JIT in every worker, connection pools)
    const cpu0 = server.cpu();
    const rps = await wrk(server.port);
    return { rps, cpuUs: ((server.cpu() - cpu0) * 1e6) / (rps * SECONDS) };
  } finally {
    await server.stop();
  }
}

async function main() {
  console.log(
    `workers benchmark: Node ${process.version}, ${os.cpus().length} CPUs, load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log(
    `${TRIALS} trials x ${SECONDS} s; echo: ${CLIENTS} clients (bench/io/echo-load.js); HTTP: wrk -t1 -c${CONNECTIONS}\n`,
  );
  const configs = [['single', 1], ...['green', 'cluster'].flatMap((f) => WORKERS.map((n) => [f, n]))];
  const results = {};
  for (const protocol of PROTOCOLS) {
    const samples = new Map(configs.map(([f, n]) => [`${f} x${n}`, []]));
    for (let t = 0; t < TRIALS; t++) {
      for (const [flavour, workers] of configs)
        samples.get(`${flavour} x${workers}`).push(await trial(protocol, flavour, workers));
    }
    const kept = (xs, key) => xs.map((x) => x[key]).filter(Number.isFinite);
    const med = Object.fromEntries([...samples].map(([k, xs]) => [k, c.median(kept(xs, 'rps'))]));
    const cpu = Object.fromEntries([...samples].map(([k, xs]) => [k, c.median(kept(xs, 'cpuUs'))]));
    console.log(
      `${protocol}: ${[...samples].map(([k, xs]) => `${k} [${xs.map((x) => c.fmtRate(x.rps)).join(', ')}]`).join('  ')}`,
    );
    results[protocol] = { samples: Object.fromEntries(samples), median: med, cpuUs: cpu };
  }
  const unit = { echo: 'round trips/s', http: 'requests/s' };
  const top = WORKERS[WORKERS.length - 1];
  const rows = [
    [
      'server',
      ...WORKERS.map((n) => `${n} worker${n > 1 ? 's' : ''}`),
      `${top} vs 1`,
      `greenloop / node:cluster (${WORKERS.join(' / ')})`,
      `server CPU per request (${WORKERS.join(' / ')})`,
    ],
  ];
  for (const protocol of PROTOCOLS) {
    const med = results[protocol].median;
    for (const flavour of ['green', 'cluster']) {
      rows.push([
        `${protocol}: ${flavour === 'green' ? 'greenloop workers' : 'node:cluster'}`,
        ...WORKERS.map((n) => c.fmtRate(med[`${flavour} x${n}`])),
        c.fmtRatio(med[`${flavour} x${top}`] / med[`${flavour} x1`]),
        flavour === 'green'
          ? WORKERS.map((n) => c.fmtRatio(med[`green x${n}`] / med[`cluster x${n}`])).join(' / ')
          : '',
        WORKERS.map((n) => `${results[protocol].cpuUs[`${flavour} x${n}`].toFixed(1)} µs`).join(' / '),
      ]);
    }
    rows.push([
      `${protocol}: one process, no cluster`,
      c.fmtRate(med['single x1']),
      ...WORKERS.slice(1).map(() => ''),
      '',
      '',
      `${results[protocol].cpuUs['single x1'].toFixed(1)} µs`,
    ]);
  }
  console.log(`\nMedian throughput (echo: ${unit.echo}, HTTP: ${unit.http})`);
  c.table(rows);
  if (args.json) {
    fs.writeFileSync(
      String(args.json),
      `${JSON.stringify({ node: process.version, cpus: os.cpus().length, loadavg: os.loadavg(), trials: TRIALS, seconds: SECONDS, clients: CLIENTS, connections: CONNECTIONS, results }, null, 2)}\n`,
    );
  }
}

if (args.serve) serve(String(args.serve), Number(args.workers ?? 1));
else
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
