'use strict';
// A TCP echo server in blocking style: one greenlet per connection.
//
//   npm run build:ts && node examples/echo-server.js [port]
//   (GREENLOOP_EXAMPLE_SELFTEST=1: exit after the self-check)
//
// It checks itself with a few concurrent clients, then keeps serving:
// try `nc 127.0.0.1 7000` and type lines. Ctrl-C stops it.
const { spawn, joinall } = require('greenloop');
const { StreamServer, connect } = require('greenloop/net');

const PORT = Number(process.argv[2] ?? 7000);

// The handler reads like a plain loop; recv() parks only this connection's greenlet.
function echo(sock, peer) {
  console.log(`+ ${peer.address}:${peer.port}`);
  for (;;) {
    const data = sock.recv();
    if (data.length === 0) break; // the peer closed its side
    sock.sendall(data);
  }
  console.log(`- ${peer.address}:${peer.port}`);
}

const server = new StreamServer(echo, { port: PORT, host: '127.0.0.1', timeout: 60_000 });

spawn(() => {
  const { port } = server.start();
  console.log(`echo server on 127.0.0.1:${port}`);

  // Self-check: five clients at once, each sending three lines.
  const clients = Array.from({ length: 5 }, (_, i) =>
    spawn(() => {
      const sock = connect(port, '127.0.0.1');
      const replies = [];
      for (let j = 0; j < 3; j++) {
        sock.sendall(`client ${i} says ${j}\n`);
        replies.push(sock.readLine());
      }
      sock.close();
      return replies.join(' | ');
    }),
  );
  joinall(clients);
  for (const c of clients) console.log(`  ${c.value}`);
  console.log(`self-check done; try: nc 127.0.0.1 ${port}`);

  if (process.env.GREENLOOP_EXAMPLE_SELFTEST) return server.stop(); // the test suite's run ends here
  server.serveForever();
});

process.on('SIGINT', () =>
  spawn(() => {
    server.stop();
    process.exit(0);
  }),
);
