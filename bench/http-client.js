'use strict';
// HTTP client: 1,000 requests over 50 greenlets with greenloop/http
// (blocking style) vs the same with undici.request + Promise.all over 50
// async workers, against a plain node:http server in another process.
//
//   npm run build:ts && node bench/http-client.js [--trials 3] [--requests 1000] [--greenlets 50] [--rounds 6]
//
// Each client runs in its own process, doing --rounds batches (the first a
// warm-up); a trial's figure is its median batch. Tables show medians over
// trials (clients alternate) and the ratio against undici measured in this run.
const path = require('node:path');
const c = require('./io/common.js');

const args = c.parseArgs();
const TRIALS = Number(args.trials ?? 3);
const REQUESTS = String(args.requests ?? 1000);
const GREENLETS = String(args.greenlets ?? 50);
const ROUNDS = String(args.rounds ?? 6);

const CLIENTS = {
  undici: path.join(__dirname, 'io', 'http-client-undici.js'),
  green: path.join(__dirname, 'io', 'http-client-green.js'),
};

async function main() {
  console.log(
    `HTTP client benchmark: Node ${process.version}, ${REQUESTS} requests over ${GREENLETS} concurrent flows, loopback\n`,
  );
  const server = await c.startServer(process.execPath, [path.join(__dirname, 'io', 'http-node.js')]);
  try {
    const url = `http://127.0.0.1:${server.port}/`;
    const samples = { undici: [], green: [] };
    for (let t = 0; t < TRIALS; t++) {
      for (const [name, script] of Object.entries(CLIENTS)) {
        const r = await c.runLoad(process.execPath, [
          script,
          '--url',
          url,
          '--requests',
          REQUESTS,
          '--greenlets',
          GREENLETS,
          '--rounds',
          ROUNDS,
        ]);
        samples[name].push(c.median(r.ms));
      }
    }
    const med = { undici: c.median(samples.undici), green: c.median(samples.green) };
    const rows = [['client', `ms per ${REQUESTS}`, 'req/s', 'trials (ms)', 'vs undici']];
    for (const name of Object.keys(CLIENTS)) {
      rows.push([
        name === 'green' ? 'greenloop/http (50 greenlets)' : 'undici.request + Promise.all',
        med[name].toFixed(1),
        c.fmtRate((Number(REQUESTS) / med[name]) * 1000),
        samples[name].map((x) => x.toFixed(1)).join(', '),
        c.fmtRatio(med.undici / med[name]),
      ]);
    }
    c.table(rows);
    console.log('("vs undici" is throughput relative to undici: above 1 is faster)');
  } finally {
    await server.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
