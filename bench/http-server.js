'use strict';
// HTTP server: greenloop/http (a greenlet per request) vs plain node:http,
// under wrk (a separate process) on 127.0.0.1.
//
//   npm run build:ts && node bench/http-server.js [--trials 3] [--seconds 3] [--connections 10,100]
//       [--servers green,green+park] [--base DIR]
//
// Both servers answer "hello world" with keep-alive. "green+park" makes each
// handler call sleep(0) before answering (it yields to other ready handlers;
// with none ready it returns at once); "green+wake" makes each handler park
// until a callback of the next loop turn wakes it, as a handler waiting for
// IO does. Medians over trials (servers alternate); ratios against node:http
// measured in the same trial; "CPU/req" is the server process's CPU time per
// request, and "x node CPU" node's CPU/req over the server's (> 1: cheaper
// than node), steadier than throughput on a loaded machine. --servers picks
// the green variants to run (node always runs); --base DIR adds "base" and
// "base+park", the same servers from another checkout's build (DIR/bench/io,
// DIR/dist), so that a change is measured against its baseline in one run.
const { execFile } = require('node:child_process');
const path = require('node:path');
const c = require('./io/common.js');

const args = c.parseArgs();
const TRIALS = Number(args.trials ?? 3);
const SECONDS = Number(args.seconds ?? 3);
const CONNECTIONS = String(args.connections ?? '10,100')
  .split(',')
  .map(Number);
const WRK = args.wrk ?? '/usr/bin/wrk';

const ALL_SERVERS = {
  node: [path.join(__dirname, 'io', 'http-node.js')],
  green: [path.join(__dirname, 'io', 'http-green.js')],
  'green+park': [path.join(__dirname, 'io', 'http-green.js'), '--park'],
  'green+wake': [path.join(__dirname, 'io', 'http-green.js'), '--wake'],
};
if (args.base !== undefined) {
  const script = path.resolve(String(args.base), 'bench', 'io', 'http-green.js');
  ALL_SERVERS.base = [script];
  ALL_SERVERS['base+park'] = [script, '--park'];
}
const chosen =
  args.servers === undefined
    ? Object.keys(ALL_SERVERS)
    : ['node', ...String(args.servers).split(','), ...(args.base === undefined ? [] : ['base', 'base+park'])];
for (const name of chosen)
  if (!(name in ALL_SERVERS)) throw new Error(`unknown server ${name}; known: ${Object.keys(ALL_SERVERS).join(', ')}`);
const SERVERS = Object.fromEntries(chosen.map((name) => [name, ALL_SERVERS[name]]));

function wrk(port, connections) {
  return new Promise((resolve, reject) => {
    execFile(WRK, ['-t1', `-c${connections}`, `-d${SECONDS}s`, `http://127.0.0.1:${port}/`], (error, stdout) => {
      if (error) return reject(error);
      const m = /Requests\/sec:\s+([\d.]+)/.exec(stdout);
      const errors = /Non-2xx|Socket errors/.exec(stdout);
      if (!m) return reject(new Error(`cannot parse wrk output:\n${stdout}`));
      resolve({
        rps: Number(m[1]),
        errors: errors
          ? stdout
              .split('\n')
              .filter((l) => /Non-2xx|Socket errors/.test(l))
              .join('; ')
          : '',
      });
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
  console.log(`HTTP server benchmark: Node ${process.version}, wrk -t1, ${SECONDS} s x ${TRIALS} trials, loopback`);
  console.log(
    `loadavg ${require('node:os')
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}\n`,
  );
  const names = Object.keys(SERVERS);
  const greens = names.filter((n) => n !== 'node');
  const rows = [
    [
      'connections',
      ...names.map((n) => `${n} req/s`),
      ...names.map((n) => `${n} CPU/req`),
      ...greens.map((n) => `${n}/node`),
      ...greens.map((n) => `${n} x node CPU`),
    ],
  ];
  for (const connections of CONNECTIONS) {
    const samples = Object.fromEntries(names.map((n) => [n, []]));
    const ratios = Object.fromEntries(greens.map((n) => [n, { rps: [], cpu: [] }]));
    for (let t = 0; t < TRIALS; t++) {
      for (const n of names) samples[n].push(await trial(n, connections));
      const node = samples.node[t];
      for (const n of greens) {
        ratios[n].rps.push(samples[n][t].rps / node.rps);
        ratios[n].cpu.push(node.cpuUs / samples[n][t].cpuUs);
      }
    }
    const med = Object.fromEntries(names.map((n) => [n, c.median(samples[n].map((x) => x.rps))]));
    const cpu = Object.fromEntries(names.map((n) => [n, c.median(samples[n].map((x) => x.cpuUs))]));
    console.log(
      `  ${connections} connections: ${names.map((n) => `${n} [${samples[n].map((x) => c.fmtRate(x.rps)).join(', ')}]`).join('  ')}`,
    );
    rows.push([
      connections,
      ...names.map((n) => c.fmtRate(med[n])),
      ...names.map((n) => `${cpu[n].toFixed(1)} µs`),
      ...greens.map((n) => c.fmtRatio(c.median(ratios[n].rps))),
      ...greens.map((n) => c.fmtRatio(c.median(ratios[n].cpu))),
    ]);
  }
  console.log('');
  c.table(rows);
  console.log(
    `\nloadavg at end ${require('node:os')
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
