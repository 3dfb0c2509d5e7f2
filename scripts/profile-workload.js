'use strict';
// The workload that scripts/screenshots.js profiles for docs/debugging.md: a
// green TCP echo server with three chatty clients, and beside them a
// greenlet that crunches numbers (a CPU-bound function) between short naps.
//
//   node scripts/profile-workload.js out.cpuprofile
const { Greenlet, getcurrent, joinall, sleep } = require('greenloop');
const net = require('greenloop/net');
const { profile } = require('greenloop/debug');

function isPrime(n) {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return n > 1;
}

function countPrimes(from, count) {
  let found = 0;
  for (let n = from; n < from + count; n++) if (isPrime(n)) found++;
  return found;
}

/** About 60 ms of CPU per day of the month, with a nap between days. */
function buildMonthlyReport(days) {
  let total = 0;
  for (let day = 0; day < days; day++) {
    total += countPrimes(1e12 + day * 1e4, 200);
    sleep(15);
  }
  return total;
}

function echoHandler(sock) {
  getcurrent().name = `echo-handler :${sock.remoteAddress.port}`;
  for (const line of sock) sock.sendall(`${line}\n`);
}

function chat(port, rounds) {
  const sock = net.connect(port, '127.0.0.1');
  for (let i = 0; i < rounds; i++) {
    sock.sendall(`hello ${i}\n`);
    sock.readLine();
    sleep(4);
  }
  sock.close();
}

const file = process.argv[2];
if (!file) throw new Error('usage: node scripts/profile-workload.js out.cpuprofile');
const p = profile({ file });
new Greenlet(
  () => {
    const server = new net.StreamServer(echoHandler);
    const { port } = server.start();
    const jobs = [new Greenlet(buildMonthlyReport, { name: 'report-builder' }).start(8)];
    for (let i = 0; i < 3; i++) jobs.push(new Greenlet(chat, { name: `echo-client-${i}` }).start(port, 120));
    joinall(jobs);
    server.stop();
    const result = p.stop();
    console.log(`${result.samples.length} samples written to ${file}`);
  },
  { name: 'main' },
).start();
