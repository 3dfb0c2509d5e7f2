'use strict';
// The same echo server with plain node:net callbacks (the baseline).
//   node bench/io/echo-node.js [--tls DIR]   -> prints "PORT <n>"
const net = require('node:net');

const { tlsFiles } = require('./common.js');

// --tls DIR: a tls.Server with DIR's key.pem and cert.pem.
const tls = tlsFiles();
const onConnection = (sock) => {
  sock.setNoDelay(true);
  sock.on('data', (data) => sock.write(data));
  sock.on('end', () => sock.end());
  sock.on('error', () => sock.destroy());
};
const server =
  tls === null
    ? net.createServer({ allowHalfOpen: true }, onConnection)
    : require('node:tls').createServer({ allowHalfOpen: true, ...tls }, onConnection);
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => console.log(`PORT ${server.address().port}`));
