'use strict';
// The same server on greenloop/http: each request's handler runs in a greenlet.
//   node bench/io/http-green.js [--park]   -> prints "PORT <n>"
// --park makes each handler park once (sleep(0)) before answering, as a
// handler that does any IO would.
const { spawn, sleep } = require('../../dist/cjs/index.js');
const http = require('../../dist/cjs/io/http.js');

const body = 'hello world';
const park = process.argv.includes('--park');
const server = http.createServer((req, res) => {
  if (park) sleep(0);
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
spawn(() => {
  const { port } = server.listen(0, '127.0.0.1', 4096);
  console.log(`PORT ${port}`);
});
