'use strict';
// A line-based chat server: each connection asks for a name, then every line
// a user types goes to everybody else. Each user has an outbox queue drained
// by its own writer greenlet, so a slow reader never stalls the others.
//
//   npm run build:ts && node examples/chat-server.js [port]
//   (GREENLOOP_EXAMPLE_SELFTEST=1: exit after the bots chatted)
//
// Two bots chat for a moment to show it working; then join with
// `nc 127.0.0.1 7001` from a few terminals. Ctrl-C stops it.
const { spawn, sleep, Event, Queue, StopIteration } = require('greenloop');
const { StreamServer, connect } = require('greenloop/net');

const PORT = Number(process.argv[2] ?? 7001);
const users = new Map(); // name -> outbox Queue

function broadcast(from, text) {
  for (const [name, outbox] of users) if (name !== from) outbox.putNowait(`${text}\n`);
}

function session(sock) {
  sock.sendall('Welcome! Your name? ');
  const name = sock.readLine({ maxLength: 64 })?.trim();
  if (!name) return;
  if (users.has(name)) return sock.sendall(`Sorry, ${name} is taken.\n`);

  const outbox = new Queue(1000); // bounded: a reader that never reads gets dropped
  users.set(name, outbox);
  const writer = spawn(() => {
    for (const text of outbox) sock.sendall(text); // ends at StopIteration
  });
  broadcast(name, `* ${name} joined (${users.size} here)`);
  sock.sendall(`Hi ${name}! ${users.size - 1} other(s) here. /quit leaves.\n`);
  try {
    for (const line of sock.lines({ maxLength: 4096 })) {
      if (line.trim() === '/quit') break;
      if (line.trim()) broadcast(name, `<${name}> ${line}`);
    }
  } finally {
    users.delete(name);
    outbox.putNowait(StopIteration);
    writer.join();
    broadcast(name, `* ${name} left`);
  }
}

// Handlers start at accept (as in gevent), so this server can speak first (the welcome prompt).
const server = new StreamServer(session, {
  port: PORT,
  host: '127.0.0.1',
  onError: (error) => console.error(`session ended: ${error.message}`),
});

// A bot says its lines a beat apart; with `stayFor` it stays until it has seen that line
// (a timed exit could leave before the other bot's last line, however slow the machine).
function bot(port, name, lines, stayFor) {
  const sock = connect(port, '127.0.0.1');
  sock.readRaw = () => sock.recv().toString();
  sock.readRaw(); // the welcome prompt
  sock.sendall(`${name}\n`);
  sock.readLine(); // the greeting
  const seen = new Event();
  spawn(() => {
    for (const line of sock) {
      console.log(`  ${name} sees: ${line}`);
      if (line === stayFor) seen.set();
    }
  });
  for (const line of lines) {
    sleep(100);
    sock.sendall(`${line}\n`);
  }
  sleep(100);
  if (stayFor !== undefined) seen.wait();
  sock.sendall('/quit\n');
}

spawn(() => {
  const { port } = server.start();
  console.log(`chat server on 127.0.0.1:${port}`);
  const alice = spawn(bot, port, 'alice', ['hello bob', 'greenlets make this easy'], '<bob> no callbacks anywhere');
  sleep(50);
  const bob = spawn(bot, port, 'bob', ['hi alice', 'no callbacks anywhere']);
  alice.join();
  bob.join();
  console.log(`demo done; join with: nc 127.0.0.1 ${port}`);
  if (process.env.GREENLOOP_EXAMPLE_SELFTEST) return server.stop(); // the test suite's run ends here
  server.serveForever();
});

process.on('SIGINT', () =>
  spawn(() => {
    server.stop();
    process.exit(0);
  }),
);
