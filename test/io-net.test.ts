import * as nodeNet from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreenletError, sleep, spawn } from '../lib/index.js';

const sleepBriefly = () => sleep(5);
import { ConcurrentIOError, IncompleteReadError, LineTooLongError } from '../lib/errors.js';
import { connect, listen, type Socket, StreamServer } from '../lib/io/net.js';
import { fixtureSummary } from './helpers.js';
import { green, greenError, makeCert, tempDir, until } from './io-helpers.js';

/** A green line-echo server on 127.0.0.1 (started in a greenlet). */
async function echoServer(options: ConstructorParameters<typeof StreamServer>[1] = {}) {
  const server = new StreamServer(
    (sock) => {
      for (const line of sock) sock.sendall(`${line}\n`);
    },
    { port: 0, host: '127.0.0.1', ...options },
  );
  await green(() => server.start());
  return server;
}

/** A plain node:net client: sends `payload`, resolves with all it receives until the server closes. */
function plainClient(port: number, payload: string, end = true): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = nodeNet.connect(port, '127.0.0.1');
    let data = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk) => (data += chunk));
    sock.on('error', reject);
    sock.on('close', () => resolve(data));
    sock.on('connect', () => (end ? sock.end(payload) : sock.write(payload)));
  });
}

describe('green sockets', () => {
  it('a green call outside a spawned greenlet throws GreenletError', () => {
    expect(() => connect(1, '127.0.0.1')).toThrow(GreenletError);
  });

  it('many concurrent green clients are echoed by a green StreamServer', async () => {
    const server = await echoServer();
    const clients = Array.from({ length: 50 }, (_, i) =>
      green(() => {
        const sock = connect(server.port, '127.0.0.1');
        const got: string[] = [];
        for (let j = 0; j < 20; j++) {
          sock.sendall(`client ${i} line ${j}\n`);
          got.push(sock.readLine()!);
        }
        sock.close();
        return got;
      }),
    );
    const results = await Promise.all(clients);
    results.forEach((got, i) => expect(got).toEqual(Array.from({ length: 20 }, (_, j) => `client ${i} line ${j}`)));
    await green(() => server.stop());
  });

  it('green clients talk to a plain node:net server', async () => {
    const plain = nodeNet.createServer((s) => s.pipe(s));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const port = (plain.address() as nodeNet.AddressInfo).port;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        green(() => {
          const sock = connect(port, '127.0.0.1');
          sock.sendall(`hello ${i}\n`);
          const line = sock.readLine();
          sock.close();
          return line;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => `hello ${i}`));
    plain.close();
  });

  it('plain node:net clients are served by a green server', async () => {
    const server = await echoServer();
    const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => plainClient(server.port, `a${i}\nb${i}\n`)));
    replies.forEach((reply, i) => expect(reply).toBe(`a${i}\nb${i}\n`));
    await green(() => server.stop());
  });

  it('recv returns an empty Buffer at the end of the stream and recvExactly reassembles', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const client = green(() => {
      const sock = connect(listener.port, '127.0.0.1');
      sock.sendall('abc');
      sock.sendall('defgh');
      sock.shutdown();
      const reply = sock.readAll().toString();
      sock.close();
      return reply;
    });
    const seen = await green(() => {
      const sock = listener.accept();
      const first = sock.recvExactly(4).toString();
      const rest = sock.recvExactly(4).toString();
      const eof = sock.recv();
      sock.sendall(`${first}|${rest}|${eof.length}`);
      sock.close();
      return first + rest;
    });
    expect(seen).toBe('abcdefgh');
    expect(await client).toBe('abcd|efgh|0');
    listener.close();
  });

  it('recvExactly throws IncompleteReadError with the partial bytes when the peer ends early', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    void plainClient(listener.port, 'xyz');
    const error = await greenError(() => listener.accept().recvExactly(10));
    expect(error).toBeInstanceOf(IncompleteReadError);
    expect(error.partial.toString()).toBe('xyz');
    listener.close();
  });

  it('readLine strips \\n and \\r\\n and returns a last unterminated line, then null', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    void plainClient(listener.port, 'one\r\ntwo\n\nlast');
    const lines = await green(() => {
      const sock = listener.accept();
      const out: (string | null)[] = [];
      for (let i = 0; i < 5; i++) out.push(sock.readLine());
      return out;
    });
    expect(lines).toEqual(['one', 'two', '', 'last', null]);
    listener.close();
  });

  it('a line longer than maxLength throws LineTooLongError', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    void plainClient(listener.port, `${'x'.repeat(5000)}\n`, false);
    const error = await greenError(() => listener.accept().readLine({ maxLength: 1000 }));
    expect(error).toBeInstanceOf(LineTooLongError);
    expect(error.code).toBe('GREENLOOP_ERR_LINE_TOO_LONG');
    listener.close();
  });

  it('connecting to a closed port throws ECONNREFUSED in the greenlet', async () => {
    const probe = nodeNet.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as nodeNet.AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const error = await greenError(() => connect(port, '127.0.0.1'));
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('a per-operation timeout throws ETIMEDOUT and the socket stays usable', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const server = green(() => {
      const sock = listener.accept();
      sock.readLine(); // the client says 'go' after its timeout fired
      sock.sendall('late\n');
      sock.close();
    });
    const result = await green(() => {
      const sock = connect(listener.port, '127.0.0.1', { timeout: 50 });
      let code: string | undefined;
      try {
        sock.readLine();
      } catch (error) {
        code = (error as NodeJS.ErrnoException).code;
      }
      sock.setTimeout(null);
      sock.sendall('go\n');
      return [code, sock.readLine()];
    });
    expect(result).toEqual(['ETIMEDOUT', 'late']);
    await server;
    listener.close();
  });

  it('sendall parks while the write buffer is over its high-water mark', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    let reader: Socket | undefined;
    const accepted = green(() => (reader = listener.accept()));
    const chunk = Buffer.alloc(1 << 20, 1);
    const total = 64;
    let sent = 0;
    let maxBuffered = 0;
    let writer: Socket | undefined;
    const sending = green(() => {
      writer = connect(listener.port, '127.0.0.1');
      for (let i = 0; i < total; i++) {
        writer.sendall(chunk);
        sent++;
        maxBuffered = Math.max(maxBuffered, writer.raw.writableLength);
      }
      writer.shutdown();
    });
    await accepted;
    // Nobody reads yet: the writer must park long before all 64 MiB are queued.
    await until(() => writer !== undefined && writer.raw.writableNeedDrain, 'the writer to fill its buffer');
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    expect(sent).toBeLessThan(total);
    const received = await green(() => reader!.readAll().length);
    await sending;
    expect(received).toBe(total * chunk.length);
    expect(maxBuffered).toBeLessThanOrEqual(2 * chunk.length);
    listener.close();
  });

  it('two greenlets reading one socket at once: the second throws ConcurrentIOError', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    let client: Socket | undefined;
    void green(() => (client = connect(listener.port, '127.0.0.1')));
    const sock = await green(() => listener.accept());
    let parked = false;
    const first = green(() => {
      parked = true; // set just before parking: seen from the test only once it has parked
      return sock.readLine();
    });
    await until(() => parked, 'the first reader to park');
    const error = await greenError(() => sock.readLine());
    expect(error).toBeInstanceOf(ConcurrentIOError);
    await until(() => client !== undefined, 'the client');
    await green(() => client!.sendall('hi\n'));
    expect(await first).toBe('hi');
    listener.close();
  });

  it('close() wakes a greenlet parked in recv with ERR_SOCKET_CLOSED', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    void green(() => connect(listener.port, '127.0.0.1'));
    const sock = await green(() => listener.accept());
    let started = false;
    const parked = greenError(() => {
      started = true;
      return sock.recv();
    });
    await until(() => started, 'the reader to park');
    sock.close();
    expect((await parked).code).toBe('ERR_SOCKET_CLOSED');
    listener.close();
  });
});

describe('TLS and Unix sockets', () => {
  let cert: { key: Buffer; cert: Buffer };
  beforeAll(() => {
    cert = makeCert();
  });

  it('a TLS StreamServer echoes to TLS clients that trust its certificate', async () => {
    const server = await echoServer({ tls: { key: cert.key, cert: cert.cert } });
    const lines = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        green(() => {
          const sock = connect(server.port, 'localhost', { tls: { ca: cert.cert } });
          sock.sendall(`secret ${i}\n`);
          const line = sock.readLine();
          sock.close();
          return line;
        }),
      ),
    );
    expect(lines).toEqual(Array.from({ length: 5 }, (_, i) => `secret ${i}`));
    await green(() => server.stop());
  });

  it("a TLS client that does not trust the certificate gets Node's certificate error", async () => {
    const server = await echoServer({ tls: { key: cert.key, cert: cert.cert } });
    const error = await greenError(() => connect(server.port, 'localhost', { tls: true }));
    expect(error.code).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    const ok = await green(() => {
      const sock = connect(server.port, 'localhost', { tls: { ca: cert.cert } });
      sock.sendall('still serving\n');
      return sock.readLine();
    });
    expect(ok).toBe('still serving');
    await green(() => server.stop());
  });

  it('Unix sockets: listen/accept and connect by path', async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'echo.sock');
      const server = await echoServer({ path, port: undefined, host: undefined });
      const line = await green(() => {
        const sock = connect({ path });
        sock.sendall('over a unix socket\n');
        const reply = sock.readLine();
        sock.close();
        return reply;
      });
      expect(line).toBe('over a unix socket');
      expect(server.address()?.family).toBe('unix');
      await green(() => server.stop());
    } finally {
      dir.cleanup();
    }
  });
});

describe('StreamServer under hostile peers', () => {
  const errors: unknown[] = [];
  let server: StreamServer;
  beforeAll(async () => {
    server = await echoServer({ onError: (error) => errors.push(error), timeout: 1000 });
  });
  afterAll(async () => {
    await green(() => server.stop());
  });

  /** A well-behaved client must still be served. */
  function healthy(): Promise<string | null> {
    return green(() => {
      const sock = connect(server.port, '127.0.0.1');
      sock.sendall('are you there?\n');
      const line = sock.readLine();
      sock.close();
      return line;
    });
  }

  it('a peer that resets mid-line ends its handler only', async () => {
    const before = errors.length;
    await new Promise<void>((resolve) => {
      const sock = nodeNet.connect(server.port, '127.0.0.1', () => {
        sock.write('half a li', () => setTimeout(() => sock.resetAndDestroy(), 20));
      });
      sock.on('close', () => resolve());
      sock.on('error', () => {});
    });
    await until(() => errors.length > before, 'the handler to fail');
    expect((errors[before] as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    await until(() => server.handlers === 0, 'the handler to end');
    expect(await healthy()).toBe('are you there?');
  });

  it('an endless line costs one handler (LineTooLongError), not the server', async () => {
    const before = errors.length;
    const sock = nodeNet.connect(server.port, '127.0.0.1');
    sock.on('error', () => {});
    const chunk = 'y'.repeat(16 * 1024);
    let closed = false;
    sock.on('close', () => (closed = true));
    const pump = () => {
      while (!closed && sock.write(chunk));
    };
    sock.on('drain', pump);
    sock.on('connect', pump);
    await until(() => errors.length > before, 'the handler to fail');
    expect(errors[before]).toBeInstanceOf(LineTooLongError);
    await until(() => closed, 'the server to close the connection');
    expect(await healthy()).toBe('are you there?');
  });

  it('a slow-loris peer times out in its own handler while others are served', async () => {
    const before = errors.length;
    const sock = nodeNet.connect(server.port, '127.0.0.1');
    sock.on('error', () => {});
    let closed = false;
    sock.on('close', () => (closed = true));
    const drip = setInterval(() => sock.write('z'), 100);
    try {
      // Served while the slow peer holds its connection.
      expect(await healthy()).toBe('are you there?');
      await until(() => closed, 'the slow peer to be cut off');
      expect((errors[before] as NodeJS.ErrnoException).code).toBe('ETIMEDOUT');
    } finally {
      clearInterval(drip);
      sock.destroy();
    }
  });
});

describe('StreamServer life cycle', () => {
  it('lazy: true holds no handler greenlet for an idle connection until its first byte', async () => {
    const server = await echoServer({ lazy: true });
    const socks = await Promise.all(
      Array.from(
        { length: 20 },
        () =>
          new Promise<nodeNet.Socket>((r) => {
            const s = nodeNet.connect(server.port, '127.0.0.1', () => r(s));
          }),
      ),
    );
    await until(() => server.connections === 20, 'the connections to be accepted');
    expect(server.handlers).toBe(0);
    socks[0]!.write('wake\n');
    await until(() => server.handlers === 1, 'one handler to start');
    for (const s of socks) s.destroy();
    await until(() => server.connections === 0, 'the connections to close');
    expect(server.handlers).toBe(0);
    await green(() => server.stop());
  });

  it('handlers start at accept by default, so a server can speak first', async () => {
    const server = new StreamServer((sock) => sock.sendall('220 welcome\n'), { port: 0, host: '127.0.0.1' });
    await green(() => server.start());
    const banner = await green(() => connect(server.port, '127.0.0.1', { timeout: 5000 }).readLine());
    expect(banner).toBe('220 welcome');
    await green(() => server.stop());
  });

  it('a gevent-style chat server registers clients that have not typed yet (eager default)', async () => {
    const clients = new Set<Socket>();
    const server = new StreamServer(
      (sock) => {
        clients.add(sock);
        try {
          for (const line of sock) for (const other of clients) if (other !== sock) other.sendall(`${line}\n`);
        } finally {
          clients.delete(sock);
        }
      },
      { port: 0, host: '127.0.0.1' },
    );
    await green(() => server.start());
    const heard = await green(() => {
      const silent = connect(server.port, '127.0.0.1');
      const talker = connect(server.port, '127.0.0.1');
      for (let i = 0; i < 400 && clients.size < 2; i++) sleepBriefly();
      const registered = clients.size;
      talker.sendall('hello all\n');
      silent.setTimeout(2000);
      const line = registered === 2 ? silent.readLine() : null;
      silent.close();
      talker.close();
      return { registered, line };
    });
    expect(heard).toEqual({ registered: 2, line: 'hello all' });
    await green(() => server.stop());
  });

  it('stop() waits for running handlers, then kills those that outlive the timeout', async () => {
    let finishedCleanly = 0;
    let killed = 0;
    const server = new StreamServer(
      (sock) => {
        const line = sock.readLine();
        if (line === 'quick') {
          sock.sendall('bye\n');
          finishedCleanly++;
          return;
        }
        try {
          sock.readLine(); // the stubborn client never sends another line
        } catch (error) {
          killed++;
          throw error;
        }
      },
      { port: 0, host: '127.0.0.1', onError: () => {} },
    );
    await green(() => server.start());
    const stubborn = nodeNet.connect(server.port, '127.0.0.1', () => stubborn.write('stubborn\n'));
    stubborn.on('error', () => {});
    await until(() => server.handlers === 1, 'the stubborn handler');
    await green(() => server.stop({ timeout: 50 }));
    expect(server.handlers).toBe(0);
    expect(killed + finishedCleanly).toBe(1);
    const error = await greenError(() => connect(server.port, '127.0.0.1'));
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('serveForever returns once stop() is called from another greenlet', async () => {
    const server = new StreamServer(() => {}, { port: 0, host: '127.0.0.1' });
    const serving = green(() => {
      server.serveForever();
      return 'returned';
    });
    await until(() => server.port !== 0, 'the server to listen');
    spawn(() => server.stop());
    expect(await serving).toBe('returned');
  });

  it('maxConnections closes connections over the limit as they arrive', async () => {
    const server = await echoServer({ maxConnections: 2 });
    const held = await Promise.all(
      [0, 1].map(() =>
        green(() => {
          const sock = connect(server.port, '127.0.0.1');
          sock.sendall('hold\n');
          sock.readLine();
          return sock;
        }),
      ),
    );
    const third = await green(() => {
      const sock = connect(server.port, '127.0.0.1');
      try {
        return sock.readLine(); // closed by the server at once: end of stream (or a reset)
      } catch (error) {
        return (error as NodeJS.ErrnoException).code;
      }
    });
    expect([null, 'ECONNRESET']).toContain(third);
    for (const sock of held) sock.close();
    await green(() => server.stop());
  });

  it('Listener.close() makes a parked accept() throw ERR_SERVER_NOT_RUNNING', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    let started = false;
    const parked = greenError(() => {
      started = true;
      return listener.accept();
    });
    await until(() => started, 'accept() to park');
    listener.close();
    expect((await parked).code).toBe('ERR_SERVER_NOT_RUNNING');
  });

  it('EADDRINUSE from start() is thrown in the greenlet', async () => {
    const first = await echoServer();
    const error = await greenError(() => new StreamServer(() => {}, { port: first.port, host: '127.0.0.1' }).start());
    expect(error.code).toBe('EADDRINUSE');
    await green(() => first.stop());
  });
});

describe('StreamServer with async handlers', () => {
  it("an async handler is waited for (the socket stays open); a rejection is that connection's error", () => {
    // Runs in a child process: before the fix the rejection was unhandled and ended the process.
    const out = fixtureSummary('io-server-async.js');
    expect(out.streamOk).toBe('late ok\n');
    expect(out.streamFail).toBe('');
    expect(out.streamErrors).toEqual(['async stream handler failed']);
    expect(out.again[0]).toBe('late again\n');
  });
});

describe('socket addresses', () => {
  /** Connects with `connectTo` to a server made with `options`; returns both ends' addresses, before and after close. */
  async function addresses(
    options: ConstructorParameters<typeof StreamServer>[1],
    connectTo: (port: number) => Socket,
  ) {
    let serverSide: unknown;
    const server = new StreamServer((sock, address) => {
      serverSide = { remote: sock.remoteAddress, local: sock.localAddress, handlerArg: address };
      sock.sendall('x');
    }, options);
    await green(() => server.start());
    const clientSide = await green(() => {
      const sock = connectTo(server.port);
      const during = { remote: sock.remoteAddress, local: sock.localAddress };
      sock.recv();
      sock.close();
      return { ...during, afterClose: { remote: sock.remoteAddress, local: sock.localAddress } };
    });
    await green(() => server.stop());
    return { clientSide, serverSide: serverSide as any };
  }

  it('a TCP socket from connect() reports its peer and its own address (also after close)', async () => {
    const { clientSide, serverSide } = await addresses({ port: 0, host: '127.0.0.1' }, (port) =>
      connect(port, '127.0.0.1'),
    );
    expect(clientSide.remote).toEqual({ address: '127.0.0.1', port: expect.any(Number), family: 'IPv4' });
    expect(clientSide.remote.port).toBeGreaterThan(0);
    expect(clientSide.local).toEqual({ address: '127.0.0.1', port: expect.any(Number), family: 'IPv4' });
    expect(clientSide.afterClose).toEqual({ remote: clientSide.remote, local: clientSide.local });
    // The accepted end sees the same connection from the other side.
    expect(serverSide.remote).toEqual(clientSide.local);
    expect(serverSide.local).toEqual(clientSide.remote);
    expect(serverSide.handlerArg).toEqual(serverSide.remote);
  });

  it('a TLS socket reports TCP addresses on both ends', async () => {
    const cert = makeCert();
    const { clientSide, serverSide } = await addresses(
      { port: 0, host: '127.0.0.1', tls: { key: cert.key, cert: cert.cert } },
      (port) => connect(port, '127.0.0.1', { tls: { ca: cert.cert, servername: 'localhost' } }),
    );
    expect(clientSide.remote).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(clientSide.remote.port).toBeGreaterThan(0);
    expect(serverSide.remote).toEqual(clientSide.local);
    expect(serverSide.local).toEqual(clientSide.remote);
  });

  it('a Unix socket reports the socket path as the server end, family unix', async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'addr.sock');
      const { clientSide, serverSide } = await addresses({ path }, () => connect({ path }));
      expect(clientSide.remote).toEqual({ address: path, port: 0, family: 'unix' });
      expect(clientSide.local).toEqual({ address: '', port: 0, family: 'unix' });
      expect(clientSide.afterClose).toEqual({ remote: clientSide.remote, local: clientSide.local });
      expect(serverSide.local).toEqual({ address: path, port: 0, family: 'unix' });
      expect(serverSide.remote).toEqual({ address: '', port: 0, family: 'unix' });
      // listen() + accept() name the path the same way.
      const acceptedLocal = await green(() => {
        const listener = listen({ path: join(dir.path, 'listener.sock') });
        spawn(() => connect({ path: join(dir.path, 'listener.sock') }).close());
        const sock = listener.accept();
        sock.close();
        listener.close();
        return sock.localAddress;
      });
      expect(acceptedLocal).toEqual({ address: join(dir.path, 'listener.sock'), port: 0, family: 'unix' });
    } finally {
      dir.cleanup();
    }
  });

  it('listen() + accept() over TCP report both ends', async () => {
    const out = await green(() => {
      const listener = listen(0, '127.0.0.1');
      const client = spawn(() => {
        const sock = connect(listener.port, '127.0.0.1');
        const ends = { remote: sock.remoteAddress, local: sock.localAddress };
        sock.close();
        return ends;
      });
      const sock = listener.accept();
      const ends = { remote: sock.remoteAddress, local: sock.localAddress };
      sock.close();
      listener.close();
      return { server: ends, client: client.get() };
    });
    expect(out.server.local).toEqual(out.client.remote);
    expect(out.server.remote).toEqual(out.client.local);
    expect(out.client.remote).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
  });
});
