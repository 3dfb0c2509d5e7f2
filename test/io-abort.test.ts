import * as dgram from 'node:dgram';
import { getEventListeners } from 'node:events';
import * as nodeHttp from 'node:http';
import * as nodeNet from 'node:net';
import { join } from 'node:path';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AbortError, sleep, spawn } from '../lib/index.js';
import * as cp from '../lib/io/child_process.js';
import * as dns from '../lib/io/dns.js';
import * as fs from '../lib/io/fs.js';
import * as http from '../lib/io/http.js';
import { connect, listen, StreamServer } from '../lib/io/net.js';
import { green, greenError, tempDir, until } from './io-helpers.js';

/** Aborts a fresh controller `ms` after the call starts (from a timer: the call is parked by then). */
function abortAfter(ms: number, reason: unknown = new Error('enough')): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(reason), ms);
  return controller.signal;
}

function expectAbortError(error: unknown, reason?: unknown): void {
  expect(error).toBeInstanceOf(Error);
  expect((error as AbortError).name).toBe('AbortError');
  expect((error as AbortError).code).toBe('ABORT_ERR');
  if (reason !== undefined) expect((error as Error).cause).toBe(reason);
}

/** A TCP server that accepts and never says anything: a TLS handshake or an HTTP request to it waits forever. */
async function silentServer() {
  const sockets = new Set<nodeNet.Socket>();
  let accepted = 0;
  const server = nodeNet.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.resume(); // reads, so it sees the peer's end
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as nodeNet.AddressInfo).port,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

describe('AbortSignal in net', () => {
  let silent: Awaited<ReturnType<typeof silentServer>>;
  beforeAll(async () => {
    silent = await silentServer();
  });
  afterAll(() => silent.close());

  it('connect({ signal }) aborted mid-handshake throws AbortError and closes the connection', async () => {
    const reason = new Error('user gave up');
    const before = silent.accepted;
    const error = await greenError(() =>
      connect(silent.port, '127.0.0.1', { tls: true, signal: abortAfter(50, reason) }),
    );
    expectAbortError(error, reason);
    expect(silent.accepted).toBe(before + 1);
    await until(() => silent.open === 0, 'the aborted connection to close');
  });

  it("connect({ signal }) covers the socket's life, as node:net's: an abort later interrupts a parked recv() and sendall() with AbortError", async () => {
    const reason = new Error('shutting down');
    const controller = new AbortController();
    const held: nodeNet.Socket[] = [];
    const deaf = nodeNet.createServer((s) => {
      s.pause(); // reads nothing: a large sendall() fills the buffers and parks
      s.on('error', () => {});
      held.push(s);
    });
    await new Promise<void>((r) => deaf.listen(0, '127.0.0.1', r));
    const port = (deaf.address() as nodeNet.AddressInfo).port;
    const results = await green(() => {
      const reader = connect(port, '127.0.0.1', { signal: controller.signal });
      const writer = connect(port, '127.0.0.1', { signal: controller.signal });
      const big = Buffer.alloc(64 * 1024 * 1024); // more than the peer's socket buffers take: sendall() parks
      const outcomes = [spawn(() => reader.recv()), spawn(() => writer.sendall(big))];
      sleep(30);
      controller.abort(reason);
      return outcomes.map((g) => {
        g.join();
        return g.exception;
      });
    });
    for (const s of held) s.destroy();
    deaf.close();
    for (const error of results) expectAbortError(error, reason);
    await until(() => getEventListeners(controller.signal, 'abort').length === 0, 'the abort listeners to go');
  });

  it('a socket closed normally leaves no listener on its connect() signal', async () => {
    const controller = new AbortController();
    await green(() => {
      for (let i = 0; i < 20; i++) connect(silent.port, '127.0.0.1', { signal: controller.signal }).close();
    });
    await until(() => getEventListeners(controller.signal, 'abort').length === 0, 'the abort listeners to go');
  });

  it('connect() with an aborted signal throws before anything is opened', async () => {
    const before = silent.accepted;
    const error = await greenError(() => connect(silent.port, '127.0.0.1', { signal: AbortSignal.abort() }));
    expectAbortError(error);
    await green(() => sleep(50));
    expect(silent.accepted).toBe(before);
  });

  it('connect() refuses a signal that is not an AbortSignal, naming it', async () => {
    const error = await greenError(() => connect(silent.port, '127.0.0.1', { signal: 'stop' as never }));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/signal must be an AbortSignal.*stop/);
  });

  it('accept({ signal }) is interrupted; the listener stays open for the next accept()', async () => {
    const out = await green(() => {
      const listener = listen(0, '127.0.0.1');
      let aborted: unknown;
      try {
        listener.accept({ signal: abortAfter(30) });
      } catch (error) {
        aborted = error;
      }
      spawn(() => connect(listener.port, '127.0.0.1').sendall('late'));
      const sock = listener.accept();
      const text = sock.recv().toString();
      sock.close();
      listener.close();
      return { aborted, text };
    });
    expectAbortError(out.aborted);
    expect(out.text).toBe('late');
  });

  it('listen({ signal }) closes the listener when aborted, as node:net does', async () => {
    const controller = new AbortController();
    const error = await greenError(() => {
      const listener = listen({ port: 0, host: '127.0.0.1', signal: controller.signal });
      setTimeout(() => controller.abort(), 30);
      listener.accept();
    });
    expect(error.code).toBe('ERR_SERVER_NOT_RUNNING');
  });

  it('StreamServer({ signal }) stops the server when aborted: serveForever() returns', async () => {
    const controller = new AbortController();
    const server = new StreamServer((sock) => void sock.readAll(), {
      port: 0,
      host: '127.0.0.1',
      signal: controller.signal,
    });
    const out = await green(() => {
      server.start();
      setTimeout(() => controller.abort(), 30);
      server.serveForever();
      return server.started;
    });
    expect(out).toBe(false);
    expect(server.address()).toBeNull();
  });
});

describe('AbortSignal in child_process', () => {
  const dir = tempDir('greenloop-abort-');
  afterAll(() => dir.cleanup());

  /** A child that writes its pid to `file` and sleeps 30 s. */
  const sleeper = (file: string) => [
    '-e',
    `require('fs').writeFileSync(${JSON.stringify(file)}, String(process.pid)); setTimeout(() => {}, 30000)`,
  ];
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };

  it('run({ signal }) kills the child and throws AbortError', async () => {
    const file = join(dir.path, 'run.pid');
    const controller = new AbortController();
    const error = await greenError(() => {
      spawn(() => {
        // The pid is written once the child runs (an empty file is one being written).
        while (!existsSync(file) || readFileSync(file, 'utf8') === '') sleep(10);
        controller.abort();
      });
      cp.run(process.execPath, sleeper(file), { signal: controller.signal });
    });
    expectAbortError(error);
    const pid = Number(readFileSync(file, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    await until(() => !alive(pid), 'the child to be killed');
  });

  it('execFile() and exec() with an aborted signal throw before spawning', async () => {
    const file = join(dir.path, 'never.pid');
    const errors = await green(() =>
      [
        () => cp.execFile(process.execPath, sleeper(file), { signal: AbortSignal.abort() }),
        () => cp.exec('echo hi', { signal: AbortSignal.abort() }),
      ].map((f) => {
        try {
          f();
          return null;
        } catch (error) {
          return error;
        }
      }),
    );
    for (const error of errors) expectAbortError(error);
    expect(existsSync(file)).toBe(false);
  });

  it('Process.wait({ signal }) is interrupted and the child keeps running; spawn({ signal }) kills it', async () => {
    const file = join(dir.path, 'spawn.pid');
    const controller = new AbortController();
    const out = await green(() => {
      const p = cp.spawn(process.execPath, sleeper(file), { signal: controller.signal, stdio: 'ignore' });
      let waitError: unknown;
      try {
        p.wait({ signal: abortAfter(50) });
      } catch (error) {
        waitError = error;
      }
      const runningAfterWaitAbort = p.exitStatus === null;
      controller.abort();
      return { waitError, runningAfterWaitAbort, exit: p.wait({ timeout: 10_000 }) };
    });
    expectAbortError(out.waitError);
    expect(out.runningAfterWaitAbort).toBe(true);
    expect(out.exit).toEqual({ status: null, signal: 'SIGTERM' });
  });
});

describe('AbortSignal in dns, http and fs', () => {
  it('dns.lookup() with an aborted signal throws AbortError', async () => {
    expectAbortError(await greenError(() => dns.lookup('localhost', { signal: AbortSignal.abort() })));
  });

  it('a resolve query to a server that never answers is interrupted by its signal', async () => {
    const mute = dgram.createSocket('udp4');
    await new Promise<void>((r) => mute.bind(0, '127.0.0.1', r));
    try {
      const resolver = new dns.Resolver({ timeout: 60_000, tries: 1 });
      resolver.setServers([`127.0.0.1:${mute.address().port}`]);
      const reason = new Error('too slow');
      const error = await greenError(() => resolver.resolve4('example.test', { signal: abortAfter(50, reason) }));
      expectAbortError(error, reason);
      resolver.cancel();
    } finally {
      mute.close();
    }
  });

  it('http.request({ signal }) throws AbortError with code ABORT_ERR, not a DOMException with code 20', async () => {
    const server = nodeHttp.createServer(() => {}); // never answers
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as nodeNet.AddressInfo).port}/`;
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 50);
      const error = await greenError(() => http.request(url, { signal: controller.signal }));
      expectAbortError(error);
      expect((error.cause as Error).name).toBe('AbortError'); // the signal's own reason, kept as the cause
      expectAbortError(await greenError(() => http.request(url, { signal: AbortSignal.abort() })));
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('fs.readFile/writeFile pass signal to Node: an aborted one throws AbortError', async () => {
    const dir = tempDir('greenloop-abort-fs-');
    try {
      const file = join(dir.path, 'f.txt');
      const errors = await green(() => {
        fs.writeFile(file, 'x');
        const out: unknown[] = [];
        for (const f of [
          () => fs.readFile(file, { signal: AbortSignal.abort() }),
          () => fs.writeFile(file, 'y', { signal: AbortSignal.abort() }),
        ]) {
          try {
            f();
            out.push(null);
          } catch (error) {
            out.push(error);
          }
        }
        return out;
      });
      for (const error of errors) expectAbortError(error);
    } finally {
      dir.cleanup();
    }
  });
});
