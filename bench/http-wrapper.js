'use strict';
// What the green HTTP server adds to each request, in-process and without
// sockets: 'request' events emitted on server.raw with stand-in req/res
// objects, so only greenloop's part runs (queueing each request, the handler
// greenlet that serves a loop turn's requests, its start, the handlers, its
// end and the server's bookkeeping). Much steadier than wrk on a loaded machine, and comparable
// across builds: --base DIR runs the same in another checkout's build
// (DIR/dist) in alternation with this one, and prints the ratio.
//
//   npm run build:ts && node bench/http-wrapper.js [--trials 5] [--base DIR] [--per-turn 10]
//
// "hello" answers at once; "park" calls sleep(0) first (it hands the rest of
// the turn's requests to another greenlet). Each loop turn emits --per-turn
// requests (default 10, as 10 busy keep-alive connections give a server) and
// the turn ends when the server has none pending. Each trial is a fresh
// process: 40 batches of 20,000 requests; a trial's figure is its batches'
// 25th percentile (the quiet end: interference only adds time), and the
// table shows the median over trials, in ns per request.
const path = require('node:path');
const c = require('./io/common.js');

const args = c.parseArgs();
const PER_TURN = Number(args['per-turn'] ?? 10);

function child(dist, mode, perTurn) {
  const { sleep } = require(path.join(dist, 'cjs', 'index.js'));
  const http = require(path.join(dist, 'cjs', 'io', 'http.js'));
  const server = http.createServer(
    mode === 'park'
      ? (req, res) => {
          sleep(0);
          res.writableEnded = true;
        }
      : (req, res) => {
          res.writableEnded = true;
        },
  );
  const perBatch = 20000;
  const req = { method: 'GET', url: '/' };
  // node:http runs the request callback in the parser's async resource (an
  // HTTPServerAsyncResource): the spawn copies ALS stores from it.
  const { AsyncResource } = require('node:async_hooks');
  const parserScope = new AsyncResource('HTTPINCOMINGMESSAGE');
  const emitTurn = () => {
    for (let i = 0; i < perTurn; i++) server.raw.emit('request', req, { writableEnded: false, headersSent: false });
  };
  const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
  const batch = async () => {
    const t0 = process.hrtime.bigint();
    for (let done = 0; done < perBatch; done += perTurn) {
      parserScope.runInAsyncScope(emitTurn);
      do await nextTurn();
      while (server.pending !== 0);
    }
    return Number(process.hrtime.bigint() - t0) / perBatch;
  };
  setImmediate(async () => {
    const times = [];
    for (let b = 0; b < 40; b++) times.push(await batch());
    times.sort((x, y) => x - y);
    console.log(`RESULT ${JSON.stringify({ ns: times[10] })}`);
  });
}

async function main() {
  const TRIALS = Number(args.trials ?? 5);
  const builds = { this: path.resolve(__dirname, '..', 'dist') };
  if (args.base !== undefined) builds.base = path.resolve(String(args.base), 'dist');
  const modes = ['hello', 'park'];
  console.log(
    `HTTP server wrapper cost per request (in-process, no sockets): Node ${process.version}, ${TRIALS} trials, ` +
      `${PER_TURN} requests per loop turn`,
  );
  console.log(
    `loadavg ${require('node:os')
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}\n`,
  );
  const rows = [['handler', ...Object.keys(builds).map((b) => `${b} ns/req`), ...(builds.base ? ['this/base'] : [])]];
  for (const mode of modes) {
    const samples = Object.fromEntries(Object.keys(builds).map((b) => [b, []]));
    const ratios = [];
    for (let t = 0; t < TRIALS; t++) {
      for (const [name, dist] of Object.entries(builds)) {
        const r = await c.runLoad(process.execPath, [
          __filename,
          '--child',
          dist,
          '--mode',
          mode,
          '--per-turn',
          String(PER_TURN),
        ]);
        samples[name].push(r.ns);
      }
      if (builds.base) ratios.push(samples.this[t] / samples.base[t]);
    }
    rows.push([
      mode,
      ...Object.keys(builds).map((b) => c.median(samples[b]).toFixed(0)),
      ...(builds.base ? [c.fmtRatio(c.median(ratios))] : []),
    ]);
  }
  c.table(rows);
  console.log(
    `\nloadavg at end ${require('node:os')
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
}

if (args.child !== undefined) child(String(args.child), String(args.mode ?? 'hello'), PER_TURN);
else
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
