'use strict';
// The same echo server with plain node:net callbacks (the baseline).
//   node bench/io/echo-node.js [--tls DIR]   -> prints "PORT <n>"
const net = require('node:net');

// --tls DIR: a tls.Server with DIR's key.pem and cert.pem.
const at = process.argv.indexOf('--tls');
const tlsDir = at > 0 ? process.argv[at + 1] : null;
const onConnection = (sock) => {
  sock.setNoDelay(true);
  sock.on('data', (data) => sock.write(data));
  sock.on('end', () => sock.end());
  sock.on('error', () => sock.destroy());
};
const server =
  tlsDir === null
    ? net.createServer({ allowHalfOpen: true }, onConnection)
    : require('node:tls').createServer(
        {
          allowHalfOpen: true,
          key: require('node:fs').readFileSync(require('node:path').join(tlsDir, 'key.pem')),
          cert: require('node:fs').readFileSync(require('node:path').join(tlsDir, 'cert.pem')),
        },
        onConnection,
      );
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => console.log(`PORT ${server.address().port}`));
