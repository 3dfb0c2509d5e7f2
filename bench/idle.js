'use strict';
// What StreamServer's `lazy: true` saves: server RSS per idle (silent)
// connection when handlers start at accept (the default, each one a greenlet
// parked in recv()) vs at the first byte (`lazy: true`, no greenlet until then).
//
//   npm run build:ts && node bench/idle.js [--connections 3000] [--trials 3]
//
// The server (bench/io/echo-green.js) runs in its own process; this process
// opens the idle connections with plain node:net and never writes on them.
// RSS per connection = (RSS with the connections - RSS before) / connections.
const net = require('node:net');
const path = require('node:path');
const c = require('./io/common.js');

const args = c.parseArgs();
const CONNECTIONS = Number(args.connections ?? 3000);
const TRIALS = Number(args.trials ?? 3);
const SERVER = path.join(__dirname, 'io', 'echo-green.js');

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens `n` connections, a few hundred at a time (the backlog stays small). */
async function openIdle(port, n) {
  const sockets = [];
  for (let done = 0; done < n;) {
    const batch = Math.min(200, n - done);
    await Promise.all(
      Array.from(
        { length: batch },
        () =>
          new Promise((resolve, reject) => {
            const s = net.connect(port, '127.0.0.1', () => resolve());
            s.on('error', reject);
            sockets.push(s);
          }),
      ),
    );
    done += batch;
  }
  return sockets;
}

/** Waits until the server's RSS stops growing (the last handlers have started). */
async function settledRss(server) {
  let last = server.rss();
  for (let i = 0; i < 20; i++) {
    await delay(250);
    const now = server.rss();
    if (Math.abs(now - last) < 64 * 1024) return now;
    last = now;
  }
  return last;
}

async function trial(lazy) {
  const server = await c.startServer(process.execPath, lazy ? [SERVER, '--lazy'] : [SERVER]);
  try {
    const before = await settledRss(server);
    const sockets = await openIdle(server.port, CONNECTIONS);
    const after = await settledRss(server);
    for (const s of sockets) s.destroy();
    return { before, after, perConnection: (after - before) / CONNECTIONS };
  } finally {
    await server.stop();
  }
}

async function main() {
  const limit = c.fileLimit();
  console.log(
    `idle-connection benchmark: Node ${process.version}, ${require('node:os').cpus().length} CPUs, ${CONNECTIONS} silent connections, ${TRIALS} trials (open-file limit ${limit.soft})\n`,
  );
  const samples = { eager: [], lazy: [] };
  for (let t = 0; t < TRIALS; t++) {
    for (const mode of ['eager', 'lazy']) samples[mode].push(await trial(mode === 'lazy'));
  }
  const rows = [['StreamServer', 'RSS before', `RSS with ${CONNECTIONS} idle`, 'RSS per idle connection']];
  const med = {};
  for (const mode of ['eager', 'lazy']) {
    const s = samples[mode];
    med[mode] = c.median(s.map((x) => x.perConnection));
    rows.push([
      mode === 'eager' ? 'eager (default)' : 'lazy: true',
      c.fmtMiB(c.median(s.map((x) => x.before))),
      c.fmtMiB(c.median(s.map((x) => x.after))),
      `${(med[mode] / 1024).toFixed(1)} KiB`,
    ]);
  }
  c.table(rows);
  console.log(
    `\nlazy: true saves ${((med.eager - med.lazy) / 1024).toFixed(1)} KiB per idle connection (medians of ${TRIALS}).`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
