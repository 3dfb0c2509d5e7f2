'use strict';
// Load generator of bench/echo.js, a separate process with plain node:net.
//   node bench/io/echo-load.js --port P [--clients 100] [--seconds 3] [--warmup 1]
//        [--size 64] [--idle 0] [--idle-mode silent|parked] [--idle-settle 0] [--tls DIR]
// Opens --idle idle connections first (silent: connected, never send;
// parked: each sends one message, gets it back, then stays quiet, so a green
// server's handler for it is parked in recv()) and prints IDLE_READY; with
// --idle-settle N it waits N ms more and prints IDLE_SETTLED (a server's idle
// state once it has settled, e.g. parked stacks released). Then it runs --clients ping-pong
// clients (one --size message in flight each) for --warmup + --seconds,
// prints MEASURED at the end of the window, then
// RESULT {"rps":...,"requests":...,"seconds":...}.
const net = require('node:net');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const PORT = Number(args.port);
const CLIENTS = Number(args.clients ?? 100);
const SECONDS = Number(args.seconds ?? 3);
const WARMUP = Number(args.warmup ?? 1);
const SIZE = Number(args.size ?? 64);
const IDLE = Number(args.idle ?? 0);
const IDLE_MODE = args['idle-mode'] ?? 'silent';
const IDLE_SETTLE_MS = Number(args['idle-settle'] ?? 0);
const HOST = '127.0.0.1';
// --tls DIR: connect over TLS, trusting DIR's cert.pem.
const CA = require('./common.js').tlsFiles()?.cert ?? null;

const message = Buffer.alloc(SIZE, 'x');
message[SIZE - 1] = 10;
const sockets = [];

function open(onReady) {
  const sock =
    CA === null
      ? net.connect({ port: PORT, host: HOST, noDelay: true })
      : require('node:tls').connect({ port: PORT, host: HOST, noDelay: true, ca: CA, servername: 'localhost' });
  sock.on('error', (error) => {
    console.error(`load: connection error ${error.code ?? error.message}`);
    process.exit(2);
  });
  sock.once(CA === null ? 'connect' : 'secureConnect', () => onReady(sock));
  sockets.push(sock);
  return sock;
}

function openIdle(n) {
  return new Promise((resolve) => {
    if (n === 0) return resolve();
    let started = 0;
    let ready = 0;
    const BATCH = 200;
    const next = () => {
      if (started >= n) return;
      started++;
      open((sock) => {
        if (IDLE_MODE === 'parked') {
          sock.write('hi\n');
          sock.once('data', () => done());
        } else done();
      });
    };
    const done = () => {
      ready++;
      if (ready === n) resolve();
      else next();
    };
    for (let i = 0; i < Math.min(BATCH, n); i++) next();
  });
}

async function main() {
  await openIdle(IDLE);
  console.log('IDLE_READY');
  if (IDLE_SETTLE_MS > 0) {
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    console.log('IDLE_SETTLED');
  }
  let counting = false;
  let stopped = false;
  let requests = 0;
  for (let i = 0; i < CLIENTS; i++) {
    let pending = 0;
    open((sock) => {
      sock.on('data', (chunk) => {
        pending -= chunk.length;
        if (pending > 0) return;
        if (counting) requests++;
        if (stopped) return;
        pending = SIZE;
        sock.write(message);
      });
      pending = SIZE;
      sock.write(message);
    });
  }
  setTimeout(() => {
    counting = true;
    console.log('WINDOW_START');
    const t0 = process.hrtime.bigint();
    setTimeout(() => {
      counting = false;
      stopped = true;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      console.log('MEASURED');
      setTimeout(() => {
        console.log(`RESULT ${JSON.stringify({ rps: requests / seconds, requests, seconds })}`);
        for (const s of sockets) s.destroy();
        process.exit(0);
      }, 200);
    }, SECONDS * 1000);
  }, WARMUP * 1000);
}

main();
