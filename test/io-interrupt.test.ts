import { existsSync, readFileSync } from 'node:fs';
import * as nodeHttp from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawn, TimeoutError, withTimeout } from '../lib/index.js';
import * as cp from '../lib/io/child_process.js';
import * as http from '../lib/io/http.js';
import { connect, listen } from '../lib/io/net.js';
import { HEAVY_CHILD_TIMEOUT_MS, HEAVY_TEST_TIMEOUT_MS, runFixture, lastJson } from './helpers.js';
import { green, greenError, tempDir, until } from './io-helpers.js';

describe('green IO interrupted by Timeout and kill()', () => {
  it('a Timeout interrupts recv(); the socket stays usable and no data is lost', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const peer = green(() => listener.accept());
    const out = await green(() => {
      const sock = connect(listener.port, '127.0.0.1');
      let error: unknown;
      try {
        withTimeout(30, () => sock.readLine());
      } catch (e) {
        error = e;
      }
      return { sock, error };
    });
    expect(out.error).toBeInstanceOf(TimeoutError);
    const server = await peer;
    await green(() => server.sendall('after the timeout\n'));
    expect(await green(() => out.sock.readLine())).toBe('after the timeout');
    listener.close();
  });

  it('withTimeout around a green HTTP request aborts the request', async () => {
    let closed = false;
    const server = nodeHttp.createServer((req) => req.socket.on('close', () => (closed = true)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    const error = await greenError(() => withTimeout(50, () => http.request(url)));
    expect(error).toBeInstanceOf(TimeoutError);
    await until(() => closed, 'the aborted request to close its connection');
    server.close();
  });

  it('killing a greenlet parked in run() kills the child process', async () => {
    const dir = tempDir();
    try {
      const pidFile = join(dir.path, 'pid');
      const g = spawn(() => cp.run('sh', ['-c', `echo $$ > ${pidFile}; exec sleep 30`]));
      await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'), 'the child to start');
      const pid = Number(readFileSync(pidFile, 'utf8'));
      await green(() => g.kill());
      await until(() => {
        try {
          process.kill(pid, 0);
          return false;
        } catch {
          return true;
        }
      }, 'the child to die');
      expect(g.dead).toBe(true);
    } finally {
      dir.cleanup();
    }
  });

  it('a killed accept() leaves the listener usable by the next accept()', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const parked = spawn(() => listener.accept());
    await green(() => parked.kill());
    void green(() => connect(listener.port, '127.0.0.1').sendall('hello\n'));
    const line = await green(() => listener.accept().readLine());
    expect(line).toBe('hello');
    listener.close();
  });
});

describe('WebAssembly with parked greenlets', { timeout: HEAVY_TEST_TIMEOUT_MS }, () => {
  it('undici (llhttp in wasm) survives wasm code GC while greenlets are parked', () => {
    const run = runFixture('io-http-wasm.js', [], ['20', '1500'], HEAVY_CHILD_TIMEOUT_MS);
    expect(run.stderr).not.toContain('archived threads');
    expect(lastJson(run)).toEqual({ ok: true, requests: 30000 });
  });
});
