'use strict';
// Plain node:http server (baseline of bench/http-server.js, target of bench/http-client.js).
//   node bench/io/http-node.js   -> prints "PORT <n>"
const http = require('node:http');

const body = 'hello world';
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => console.log(`PORT ${server.address().port}`));
