'use strict';
// HTTP server: greenloop/http (a greenlet per request) vs plain node:http,
// under wrk (a separate process) on 127.0.0.1.
//
//   npm run build:ts && node bench/http-server.js [--trials 3] [--seconds 3] [--connections 10,100]
//
// Both servers answer "hello world" with keep-alive. "green+park" makes each
// handler park once (sleep(0)) before answering, as a handler doing IO
// would. Medians over trials (servers alternate); ratios against node:http
// measured in this run; "CPU/req" is the server process's CPU time per request.
const { execFile } = require('node:child_process');
const path = require('node:path');
const c = require('./io/common.js');

const args = c.parseArgs();
const TRIALS = Number(args.trials ?? 3);
const SECONDS = Number(args.seconds ?? 3);
const CONNECTIONS = String(args.connections ?? '10,100').split(',').map(Number);
const WRK = args.wrk ?? '/usr/bin/wrk';

const SERVERS = {
  node: [path.join(__dirname, 'io', 'http-node.js')],
  green: [path.join(__dirname, 'io', 'http-green.js')],
  'green+park': [path.join(__dirname, 'io', 'http-green.js'), '--park'],
};

function wrk(port, connections) {
  return new Promise((resolve, reject) => {
    execFile(WRK, ['-t1', `-c${connections}`, `-d${SECONDS}s`, `http://127.0.0.1:${port}/`], (error, stdout) => {
      if (error) return reject(error);
      const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
      const errors = /Non-2xx|Socket errors/.exec(stdout);
      if (!m) return reject(new Error(`cannot parse wrk output:\n${stdout}`));
      resolve({ rps: Number(m[1]), errors: errors ? stdout.split('\n').filter((l) => /Non-2xx|Socket errors/.test(l)).join('; ') : '' });
    });
  });
}

async function trial(name, connections) {
  const server = await c.startServer(process.execPath, SERVERS[name]);
  try {
    await wrk(server.port, connections).catch(() => {}); // warm-up run (JIT, pools)
    const cpu0 = server.cpu();
    const r = await wrk(server.port, connections);
    const cpu = server.cpu() - cpu0;
    const requests = r.rps * SECONDS;
    if (r.errors) console.log(`  (${name}, ${connections} conns: ${r.errors})`);
    return { rps: r.rps, cpuUs: (cpu * 1e6) / requests };
  } finally {
    await server.stop();
  }
}

async function main() {
  console.log(`HTTP server benchmark: Node ${process.version}, wrk -t1, ${SECONDS} s x ${TRIALS} trials, loopback\n`);
  const names = Object.keys(SERVERS);
  const rows = [['connections', ...names.map((n) => `${n} req/s`), ...names.map((n) => `${n} CPU/req`), 'green/node', 'green+park/node']];
  for (const connections of CONNECTIONS) {
    const samples = Object.fromEntries(names.map((n) => [n, []]));
    for (let t = 0; t < TRIALS; t++) for (const n of names) samples[n].push(await trial(n, connections));
    const med = Object.fromEntries(names.map((n) => [n, c.median(samples[n].map((x) => x.rps))]));
    const cpu = Object.fromEntries(names.map((n) => [n, c.median(samples[n].map((x) => x.cpuUs))]));
    console.log(`  ${connections} connections: ${names.map((n) => `${n} [${samples[n].map((x) => c.fmtRate(x.rps)).join(', ')}]`).join('  ')}`);
    rows.push([
      connections,
      ...names.map((n) => c.fmtRate(med[n])),
      ...names.map((n) => `${cpu[n].toFixed(1)} µs`),
      c.fmtRatio(med.green / med.node),
      c.fmtRatio(med['green+park'] / med.node),
    ]);
  }
  console.log('');
  c.table(rows);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
