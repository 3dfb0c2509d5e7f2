'use strict';
// `npm start`: greenloop doing its job. Every flow below is written in
// blocking style — no callbacks, no await — and thousands of them run at once
// on one thread while Node's event loop keeps serving everything else.
//
//   npm start            (or: node examples/demo.js)
const nodeHttp = require('node:http');
const os = require('node:os');
const path = require('node:path');
const { spawn, sleep, joinall, Pool, coreStats } = require('greenloop');
const net = require('greenloop/net');
const http = require('greenloop/http');
const fs = require('greenloop/fs');
const { run } = require('greenloop/child_process');

function timed(label, fn) {
  const t0 = process.hrtime.bigint();
  const detail = fn();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`  ${label.padEnd(62)} ${ms.toFixed(0).padStart(5)} ms  ${detail ?? ''}`);
}

spawn(() => {
  console.log(`greenloop demo on Node ${process.version} (${coreStats().backend} switching)\n`);

  timed('1,000 greenlets each sleep(100) at the same time', () => {
    joinall(Array.from({ length: 1000 }, () => spawn(sleep, 100)));
    return '(one after another: 100 s)';
  });

  // A TCP echo server written as a plain loop per connection...
  const server = new net.StreamServer((sock) => {
    for (const line of sock) sock.sendall(`${line}\n`);
  });
  const { port } = server.start();
  // ...and 200 clients, each a blocking conversation of 20 lines.
  timed('200 TCP clients x 20 echoed lines against a green server', () => {
    const clients = Array.from({ length: 200 }, (_, c) =>
      spawn(() => {
        const sock = net.connect(port, '127.0.0.1');
        for (let i = 0; i < 20; i++) {
          sock.sendall(`client ${c} line ${i}\n`);
          if (sock.readLine() !== `client ${c} line ${i}`) throw new Error('echo mismatch');
        }
        sock.close();
      }),
    );
    joinall(clients, { raiseError: true });
    return '(4,000 round trips)';
  });
  server.stop();

  // An ordinary node:http server whose every response takes 50 ms.
  const slow = nodeHttp.createServer((req, res) => setTimeout(() => res.end(`page ${req.url}`), 50));
  slow.listen(0, '127.0.0.1');
  sleep(10);
  const base = `http://127.0.0.1:${slow.address().port}`;
  timed('100 HTTP requests (50 ms each) through a pool of 25 greenlets', () => {
    const pool = new Pool(25);
    const bodies = pool.map(
      (i) => http.request(`${base}/${i}`).text(),
      Array.from({ length: 100 }, (_, i) => i),
    );
    return `(${bodies.length} bodies; one at a time: 5,000 ms)`;
  });
  slow.close();

  timed('5 child processes that each run for 200 ms, concurrently', () => {
    const procs = Array.from({ length: 5 }, () => spawn(run, 'sleep', ['0.2']));
    joinall(procs, { raiseError: true });
    return `(exit codes ${procs.map((g) => g.value.status).join(',')})`;
  });

  timed('50 greenlets write, read back and delete a file each', () => {
    const dir = fs.mkdtemp(path.join(os.tmpdir(), 'greenloop-demo-'));
    joinall(
      Array.from({ length: 50 }, (_, i) =>
        spawn(() => {
          const file = path.join(dir, `f${i}.txt`);
          fs.writeFile(file, `greenlet ${i}\n`.repeat(1000));
          if (fs.readFile(file, 'utf8').length !== `greenlet ${i}\n`.length * 1000) throw new Error('short read');
          fs.unlink(file);
        }),
      ),
      { raiseError: true },
    );
    fs.rm(dir, { recursive: true });
  });

  const stats = coreStats();
  console.log(
    `\n${stats.switches.toLocaleString()} switches between greenlets; ${stats.threadsCreated} owner threads ` +
      `(one per greenlet parked at the same time; finished greenlets' threads are pooled)`,
  );
});
