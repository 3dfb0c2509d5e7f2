'use strict';
// The echo server in greenloop's blocking style: one handler greenlet per
// connection (started at accept; with --lazy, at its first byte), recv() then sendall().
//   node bench/io/echo-green.js [--lazy] [--tls DIR]   -> prints "PORT <n>"
const { spawn } = require('../../dist/cjs/index.js');
const { StreamServer } = require('../../dist/cjs/io/net.js');

const server = new StreamServer(
  (sock) => {
    for (;;) {
      const data = sock.recv();
      if (data.length === 0) break;
      sock.sendall(data);
    }
  },
  { port: 0, host: '127.0.0.1', backlog: 4096, lazy: process.argv.includes('--lazy'), tls: tlsOptions() },
);
spawn(() => {
  const { port } = server.start();
  console.log(`PORT ${port}`);
  server.serveForever();
});

/** --tls DIR: serve TLS with DIR's key.pem and cert.pem. */
function tlsOptions() {
  const at = process.argv.indexOf('--tls');
  if (at < 0) return undefined;
  const read = (name) => require('node:fs').readFileSync(require('node:path').join(process.argv[at + 1], name));
  return { key: read('key.pem'), cert: read('cert.pem') };
}
