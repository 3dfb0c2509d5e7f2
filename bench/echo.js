'use strict';
// TCP echo: greenloop's StreamServer in blocking style vs the same server
// with plain node:net callbacks vs gevent's StreamServer.
//
//   npm run build:ts && node bench/echo.js [--trials 3] [--seconds 3] [--clients 1,100,1000]
//        [--servers node,green,gevent] [--idle 10000] [--no-idle] [--compare DIR] [--tls]
//
// --compare DIR adds a server "base": the green echo server of another
// checkout or copy of greenloop (DIR with bench/ and a built dist/), e.g. the
// main branch, so a change is measured against its baseline in the same run.
//
// Each server runs in its own process; the load generator (bench/io/echo-load.js)
// is another process: N clients, each with one 64-byte message in flight,
// on 127.0.0.1. Throughput is round trips per second over the measured
// window (after a warm-up); "server CPU" is the server process's CPU time
// per round trip over the same window. Trials alternate the servers, and
// the tables show medians; ratios compare medians measured in this run.
//
// The idle part opens --idle idle connections first, then measures 100
// active clients, and reads the server's RSS: "silent" idle connections
// never send (a lazy StreamServer holds no greenlet for them), "parked"
// ones sent one message each (so each has a handler greenlet parked in
// recv()). Needs 2 x (idle + 100) descriptors across the two processes;
// Node raises its soft RLIMIT_NOFILE to the hard limit by itself, and the
// gevent server does the same in Python.
const path = require('node:path');
const c = require('./io/common.js');

const args = c.parseArgs();
const TRIALS = Number(args.trials ?? 3);
const SECONDS = Number(args.seconds ?? 3);
const CLIENTS = String(args.clients ?? '1,100,1000')
  .split(',')
  .map(Number);
const IDLE = Number(args.idle ?? 10000);
const COMPARE = typeof args.compare === 'string' ? path.resolve(args.compare) : null;
const wanted = String(args.servers ?? 'node,green,gevent').split(',');
if (COMPARE !== null && !wanted.includes('base'))
  wanted.splice(wanted.indexOf('green') + 1 || wanted.length, 0, 'base');

// --tls: the same over TLS (Node's tls on both sides, a self-signed P-256
// certificate made here with openssl); gevent's server has no TLS here.
const TLS_DIR = args.tls ? c.makeCertDir() : null;
const tlsArgs = TLS_DIR === null ? [] : ['--tls', TLS_DIR];
if (TLS_DIR !== null) {
  const at = wanted.indexOf('gevent');
  if (at >= 0) wanted.splice(at, 1);
}

const SERVERS = {
  node: {
    label: 'node:net callbacks',
    cmd: process.execPath,
    args: [path.join(__dirname, 'io', 'echo-node.js'), ...tlsArgs],
  },
  green: {
    label: 'greenloop StreamServer',
    cmd: process.execPath,
    args: [path.join(__dirname, 'io', 'echo-green.js'), '--lazy', ...tlsArgs],
  }, // lazy, as these tables were measured
  gevent: {
    label: 'gevent StreamServer',
    cmd: '/usr/bin/python3',
    args: [path.join(__dirname, 'python', 'echo_gevent.py')],
  },
};
if (COMPARE !== null) {
  SERVERS.base = {
    label: `greenloop at ${COMPARE}`,
    cmd: process.execPath,
    args: [path.join(COMPARE, 'bench', 'io', 'echo-green.js'), '--lazy', ...tlsArgs],
  };
}
const servers = wanted.filter((name) => {
  if (name === 'gevent' && !c.haveGevent()) {
    console.log('(gevent not importable by /usr/bin/python3: skipped; apt-get install python3-gevent)');
    return false;
  }
  return name in SERVERS;
});
const has = (name) => servers.includes(name);
/** Ratio columns: every green server against node, and green against gevent when both ran. */
const ratioNames = [
  ...servers.filter((s) => s !== 'node' && has('node')).map((s) => [`${s}/node`, s, 'node']),
  ...(has('green') && has('gevent') ? [['green/gevent', 'green', 'gevent']] : []),
];

async function trial(name, clients, idle = 0, idleMode = 'silent') {
  const server = await c.startServer(SERVERS[name].cmd, SERVERS[name].args);
  let cpu0 = 0;
  let cpu1 = 0;
  let rss = NaN;
  let rssIdle = NaN;
  try {
    const result = await c.runEchoLoad(
      {
        port: server.port,
        clients,
        seconds: SECONDS,
        warmup: 1,
        idle,
        'idle-mode': idleMode,
        tls: TLS_DIR ?? undefined,
      },
      (line) => {
        if (line === 'IDLE_READY') rssIdle = server.rss();
        if (line === 'WINDOW_START') cpu0 = server.cpu();
        if (line === 'MEASURED') {
          cpu1 = server.cpu();
          rss = server.rss();
        }
      },
    );
    return { rps: result.rps, cpuUs: ((cpu1 - cpu0) * 1e6) / result.requests, rss, rssIdle };
  } finally {
    await server.stop();
  }
}

async function main() {
  const limit = c.fileLimit();
  console.log(
    `echo benchmark: Node ${process.version}, ${require('node:os').cpus().length} CPUs, open-file limit soft ${limit.soft} / hard ${limit.hard}`,
  );
  console.log(
    `${TRIALS} trials x ${SECONDS} s per configuration, 64-byte messages, loopback${TLS_DIR === null ? '' : ', TLS'}\n`,
  );
  const rows = [
    [
      'clients',
      ...servers.map((s) => `${s} rt/s`),
      ...servers.map((s) => `${s} CPU/rt`),
      ...ratioNames.map(([n]) => n),
    ],
  ];
  for (const clients of CLIENTS) {
    const samples = Object.fromEntries(servers.map((s) => [s, []]));
    for (let t = 0; t < TRIALS; t++) for (const s of servers) samples[s].push(await trial(s, clients));
    const med = Object.fromEntries(servers.map((s) => [s, c.median(samples[s].map((x) => x.rps))]));
    const cpu = Object.fromEntries(servers.map((s) => [s, c.median(samples[s].map((x) => x.cpuUs))]));
    rows.push([
      clients,
      ...servers.map((s) => c.fmtRate(med[s])),
      ...servers.map((s) => `${cpu[s].toFixed(1)} µs`),
      ...ratioNames.map(([, a, b]) => c.fmtRatio(med[a] / med[b])),
    ]);
    console.log(
      `  ${clients} clients: ${servers.map((s) => `${s} [${samples[s].map((x) => c.fmtRate(x.rps)).join(', ')}]`).join('  ')}`,
    );
  }
  console.log('\nThroughput (median round trips/s) and server CPU per round trip');
  c.table(rows);

  if (args['no-idle'] || IDLE === 0) return;
  console.log(`\n${IDLE} idle connections + 100 active clients (median of ${TRIALS})`);
  const idleRows = [['server', 'idle mode', 'rt/s', 'vs node', 'RSS idle', 'RSS loaded', 'per idle conn']];
  const base = {};
  for (const mode of ['silent', 'parked']) {
    const samples = Object.fromEntries(servers.map((s) => [s, []]));
    for (let t = 0; t < TRIALS; t++) for (const s of servers) samples[s].push(await trial(s, 100, IDLE, mode));
    for (const s of servers) {
      const rps = c.median(samples[s].map((x) => x.rps));
      const rss = c.median(samples[s].map((x) => x.rss));
      const rssIdle = c.median(samples[s].map((x) => x.rssIdle));
      if (s === 'node') base[mode] = rps;
      idleRows.push([
        SERVERS[s].label,
        mode,
        c.fmtRate(rps),
        c.fmtRatio(rps / base[mode]),
        c.fmtMiB(rssIdle),
        c.fmtMiB(rss),
        '',
      ]);
    }
  }
  // Per idle connection: compare with an idle-free server's RSS.
  const fresh = {};
  for (const s of servers) {
    const r = [];
    for (let t = 0; t < TRIALS; t++) r.push(await trial(s, 100, 0));
    fresh[s] = c.median(r.map((x) => x.rssIdle));
  }
  for (const row of idleRows.slice(1)) {
    const s = servers.find((name) => SERVERS[name].label === row[0]);
    const idleMiB = Number(row[4].split(' ')[0]) * 1048576;
    row[6] = `${((idleMiB - fresh[s]) / IDLE / 1024).toFixed(1)} KiB`;
  }
  c.table(idleRows);
  console.log(`(RSS with no connections: ${servers.map((s) => `${s} ${c.fmtMiB(fresh[s])}`).join(', ')})`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
