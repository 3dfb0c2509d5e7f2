'use strict';
// The same echo server with plain node:net callbacks (the baseline).
//   node bench/io/echo-node.js   -> prints "PORT <n>"
const net = require('node:net');

const server = net.createServer({ allowHalfOpen: true }, (sock) => {
  sock.setNoDelay(true);
  sock.on('data', (data) => sock.write(data));
  sock.on('end', () => sock.end());
  sock.on('error', () => sock.destroy());
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => console.log(`PORT ${server.address().port}`));
