'use strict';
// The echo server in greenloop's blocking style: one handler greenlet per
// connection (started at accept; with --lazy, at its first byte), recv() then sendall().
//   node bench/io/echo-green.js [--lazy] [--tls DIR]   -> prints "PORT <n>"
const { spawn } = require('../../dist/cjs/index.js');
const { StreamServer } = require('../../dist/cjs/io/net.js');
const { tlsFiles } = require('./common.js');

const server = new StreamServer(
  (sock) => {
    for (;;) {
      const data = sock.recv();
      if (data.length === 0) break;
      sock.sendall(data);
    }
  },
  { port: 0, host: '127.0.0.1', backlog: 4096, lazy: process.argv.includes('--lazy'), tls: tlsFiles() ?? undefined },
);
spawn(() => {
  const { port } = server.start();
  console.log(`PORT ${port}`);
  server.serveForever();
});
