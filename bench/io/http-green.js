'use strict';
// The same server on greenloop/http: each request's handler runs in a greenlet.
//   node bench/io/http-green.js [--park | --wake]   -> prints "PORT <n>"
// --park makes each handler call sleep(0) before answering (it hands control
// to other ready greenlets, if any); --wake makes it park until a callback of
// the next loop turn wakes it, as a handler waiting for any IO is.
const { spawn, sleep, Event } = require('../../dist/cjs/index.js');
const http = require('../../dist/cjs/io/http.js');

const body = 'hello world';
const park = process.argv.includes('--park');
const wake = process.argv.includes('--wake');
const server = http.createServer((req, res) => {
  if (park) sleep(0);
  if (wake) {
    const woken = new Event();
    setImmediate(() => woken.set());
    woken.wait();
  }
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
spawn(() => {
  const { port } = server.listen(0, '127.0.0.1', 4096);
  console.log(`PORT ${port}`);
});
