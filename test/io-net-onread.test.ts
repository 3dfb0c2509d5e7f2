import { AsyncLocalStorage } from 'node:async_hooks';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { createHash } from 'node:crypto';
import * as nodeNet from 'node:net';
import * as nodeTls from 'node:tls';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getHub, sleep, spawn } from '../lib/index.js';
import { connect, listen, StreamServer, type StreamServerOptions } from '../lib/io/net.js';
import { green, makeCert, tempDir, until } from './io-helpers.js';

// Plain TCP and Unix sockets read through Node's `onread` option into one
// buffer shared by every socket (lib/io/net/onread.ts); accepted ones get
// their net.Socket built by greenloop. These cases check what that path
// must keep: the bytes of many sockets never mix, a slow reader pauses its
// peer, and the server's own bookkeeping is Node's.

/** Opens a plain node:net client and resolves with it once connected. */
function plainConnect(port: number): Promise<nodeNet.Socket> {
  return new Promise((resolve, reject) => {
    const sock = nodeNet.connect(port, '127.0.0.1', () => resolve(sock));
    sock.on('error', reject);
  });
}

/**
 * 200 peers write in one tick, so the server's next poll finds every socket
 * readable. Handlers run (and reply) once 32 of them are ready, not after
 * the turn's last read: the most a woken handler sees still queued behind
 * it is 31, where it would be 199. Their async context is kept.
 */
async function expectBatchedHandlers(
  options: StreamServerOptions,
  connectPeer: (port: number) => Promise<nodeNet.Socket>,
): Promise<void> {
  const count = 200;
  const als = new AsyncLocalStorage<number>();
  let parked = 0;
  let mostQueued = 0;
  const contextKept: boolean[] = [];
  const server = new StreamServer((sock) => {
    const id = parked;
    als.run(id, () => {
      parked++;
      const data = sock.recv();
      mostQueued = Math.max(mostQueued, getHub().readyCount);
      contextKept.push(als.getStore() === id);
      sock.sendall(data);
      sock.recv(); // the peer's end
    });
  }, options);
  await green(() => server.start());
  const peers = await Promise.all(Array.from({ length: count }, () => connectPeer(server.port)));
  await until(() => parked === count, 'every handler parked in recv()');
  const echoes = peers.map(
    (peer, i) =>
      new Promise<string>((resolve, reject) => {
        peer.once('data', (chunk) => resolve(chunk.toString()));
        peer.on('error', reject);
        peer.write(`m${i}`);
      }),
  );
  expect(await Promise.all(echoes)).toEqual(peers.map((_, i) => `m${i}`));
  expect(mostQueued).toBeGreaterThan(0);
  expect(mostQueued).toBeLessThan(32);
  expect(contextKept).toEqual(peers.map(() => true));
  for (const peer of peers) peer.end();
  await green(() => server.stop());
}

describe('sockets that read through onread', () => {
  it('60 clients sending different bytes at once each get their own bytes back', async () => {
    const server = new StreamServer(
      (sock) => {
        for (let data = sock.recv(); data.length > 0; data = sock.recv()) sock.sendall(data);
      },
      { port: 0, host: '127.0.0.1' },
    );
    await green(() => server.start());
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        green(() => {
          const sock = connect(server.port, '127.0.0.1');
          // Different lengths and fill bytes: a read copied from another socket's bytes shows.
          const message = Buffer.alloc(1000 + i * 37, i + 1);
          const echoed: Buffer[] = [];
          for (let round = 0; round < 10; round++) {
            sock.sendall(message);
            echoed.push(sock.recvExactly(message.length));
          }
          sock.close();
          return echoed.every((b) => b.equals(message));
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 60 }, () => true));
    await green(() => server.stop());
  });

  it('a reader that does not read pauses a fast peer: its buffer stays bounded and every byte arrives', async () => {
    const total = 32 * 1024 * 1024;
    const listener = await green(() => listen(0, '127.0.0.1'));
    const payload = Buffer.alloc(total);
    for (let i = 0; i < total; i += 4) payload.writeUInt32LE(i, i);
    const peer = await plainConnect(listener.port);
    let peerDone = false;
    peer.end(payload, () => (peerDone = true));
    const result = await green(() => {
      const sock = listener.accept();
      sleep(200); // the peer keeps sending; the reader must stop reading
      const peerDoneEarly = peerDone;
      const hash = createHash('sha256');
      let received = 0;
      for (let data = sock.recv(); data.length > 0; data = sock.recv()) {
        hash.update(data);
        received += data.length;
      }
      sock.close();
      return { received, digest: hash.digest('hex'), peerDoneEarly };
    });
    expect(result.received).toBe(total);
    expect(result.digest).toBe(createHash('sha256').update(payload).digest('hex'));
    // 32 MiB cannot sit in the kernel's socket buffers on loopback (a few MiB
    // at most): the peer could only finish early if the reader kept reading into memory.
    expect(result.peerDoneEarly).toBe(false);
    listener.close();
  });

  it('bytes that arrive before accept() are kept for the reader', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const peer = await plainConnect(listener.port);
    peer.end('sent before accept\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const line = await green(() => {
      const sock = listener.accept();
      const got = sock.readLine();
      sock.close();
      return got;
    });
    expect(line).toBe('sent before accept');
    listener.close();
  });

  it("the listening server counts accepted sockets as Node's own does: getConnections() and close(callback)", async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const peers = await Promise.all([plainConnect(listener.port), plainConnect(listener.port)]);
    const accepted = await green(() => [listener.accept(), listener.accept()]);
    const count = () => new Promise<number>((resolve) => listener.raw.getConnections((_e, n) => resolve(n)));
    expect(await count()).toBe(2);
    let closed = false;
    listener.raw.close(() => (closed = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(false); // Node's close() waits for the accepted sockets
    accepted[0]!.close();
    await until(() => accepted[0]!.raw.destroyed);
    expect(await count()).toBe(1);
    accepted[1]!.close();
    await until(() => closed);
    for (const p of peers) p.destroy();
  });

  it("maxConnections drops the excess with Node's 'drop' event, naming the peer", async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    listener.raw.maxConnections = 1;
    const drops: Array<{ remoteAddress?: string; localPort?: number } | undefined> = [];
    listener.raw.on('drop', (data) => drops.push(data));
    const first = await plainConnect(listener.port);
    const sock = await green(() => listener.accept());
    const second = await plainConnect(listener.port);
    const secondClosed = new Promise((resolve) => second.on('close', resolve));
    await secondClosed;
    expect(drops).toHaveLength(1);
    expect(drops[0]).toMatchObject({ remoteAddress: '127.0.0.1', localPort: listener.port });
    sock.close();
    first.destroy();
    listener.close();
  });

  it("each accepted socket is published on Node's net.server.socket channel", async () => {
    const seen: nodeNet.Socket[] = [];
    const onSocket = (message: unknown) => seen.push((message as { socket: nodeNet.Socket }).socket);
    subscribe('net.server.socket', onSocket);
    try {
      const listener = await green(() => listen(0, '127.0.0.1'));
      const peer = await plainConnect(listener.port);
      const sock = await green(() => listener.accept());
      expect(seen).toContain(sock.raw);
      sock.close();
      peer.destroy();
      listener.close();
    } finally {
      unsubscribe('net.server.socket', onSocket);
    }
  });

  it('a Unix-socket server reads through onread too, and the peer sees half-close', async () => {
    const dir = tempDir();
    const path = join(dir.path, 'echo.sock');
    try {
      const server = new StreamServer(
        (sock) => {
          const all = sock.readAll();
          sock.sendall(all.toString().toUpperCase());
        },
        { path },
      );
      await green(() => server.start());
      const reply = await green(() => {
        const sock = connect({ path });
        sock.sendall('first ');
        sleep(20);
        sock.sendall('second');
        sock.shutdown(); // the server's readAll() ends; its reply still comes back
        const got = sock.readAll().toString();
        sock.close();
        return got;
      });
      expect(reply).toBe('FIRST SECOND');
      await green(() => server.stop());
    } finally {
      dir.cleanup();
    }
  });

  it('a peer reset reaches a reader parked on an accepted socket as ECONNRESET', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const peer = await plainConnect(listener.port);
    const outcome = green(() => {
      const sock = listener.accept();
      sock.sendall('x');
      try {
        sock.recv();
        return sock.recv().length;
      } catch (error) {
        return (error as NodeJS.ErrnoException).code;
      } finally {
        sock.close();
      }
    });
    await new Promise((resolve) => peer.once('data', resolve));
    peer.write('y');
    await new Promise((resolve) => setTimeout(resolve, 30));
    peer.resetAndDestroy();
    expect(await outcome).toBe('ECONNRESET');
    listener.close();
  });

  it('a loop turn that finds 200 sockets readable runs their handlers in batches between the reads', async () => {
    await expectBatchedHandlers({ port: 0, host: '127.0.0.1' }, plainConnect);
  });

  it('a greenlet parked in recv() on a connect()ed socket wakes for data from a plain server', async () => {
    const plain = nodeNet.createServer((s) => setTimeout(() => s.end('late hello'), 30));
    await new Promise<void>((resolve) => plain.listen(0, '127.0.0.1', resolve));
    const port = (plain.address() as nodeNet.AddressInfo).port;
    const got = await new Promise<string>((resolve, reject) => {
      spawn(() => {
        try {
          const sock = connect(port, '127.0.0.1');
          resolve(sock.readAll().toString());
          sock.close();
        } catch (error) {
          reject(error);
        }
      });
    });
    expect(got).toBe('late hello');
    plain.close();
  });
});

describe('sockets that read through stream events', () => {
  it('TLS: a loop turn that finds 200 sockets readable runs their handlers in batches between the reads', async () => {
    const { key, cert } = makeCert();
    const tlsConnect = (port: number) =>
      new Promise<nodeNet.Socket>((resolve, reject) => {
        const sock = nodeTls.connect({ port, host: '127.0.0.1', ca: cert, servername: 'localhost' }, () =>
          resolve(sock),
        );
        sock.on('error', reject);
      });
    await expectBatchedHandlers({ port: 0, host: '127.0.0.1', tls: { key, cert } }, tlsConnect);
  });
});
