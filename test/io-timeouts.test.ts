// Timeouts of 2^31 ms or more: Node's setTimeout fires those after 1 ms, so
// every timer in lib/io goes through the hub's setTimer. Each case checks
// that the call is still waiting well after 1 ms, then ends it normally.
import { spawn as spawnChild } from 'node:child_process';
import * as nodeHttp from 'node:http';
import * as nodeNet from 'node:net';
import { existsSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sleep } from '../lib/index.js';
import * as cp from '../lib/io/child_process.js';
import * as http from '../lib/io/http.js';
import { connect, StreamServer } from '../lib/io/net.js';
import { green, tempDir } from './io-helpers.js';

const LONG = 2 ** 31;
const node = process.execPath;

/** Tracks a promise's settlement, so a test can check it is still pending. */
function track<T>(promise: Promise<T>): { promise: Promise<T>; settled: () => boolean } {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return { promise, settled: () => settled };
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A child that exits 0 once `file` exists. */
const WAIT_FOR_FILE =
  'const fs=require("fs");(function poll(){fs.existsSync(process.argv[1])?process.exit(0):setTimeout(poll,10)})()';

describe('timeouts of 2^31 ms or more are honoured, not fired at once', () => {
  it('connect() and recv() with timeout 2**31 wait for the data', async () => {
    let peer: nodeNet.Socket | undefined;
    let accepted!: () => void;
    const acceptedOnce = new Promise<void>((resolve) => (accepted = resolve));
    const server = nodeNet.createServer((sock) => {
      peer = sock;
      accepted();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const call = track(
        green(() => {
          const sock = connect(port, '127.0.0.1', { timeout: LONG });
          try {
            return sock.recv().toString();
          } finally {
            sock.close();
          }
        }),
      );
      await acceptedOnce; // however slow the machine: the peer exists before it writes
      await pause(100);
      expect(call.settled()).toBe(false);
      peer!.write('late data');
      expect(await call.promise).toBe('late data');
    } finally {
      peer?.destroy();
      server.close();
    }
  });

  it('connect() with timeout 2**31 waits for a listener whose queue is full', async () => {
    // A listener (python3, which node-gyp needs anyway) that accepts nothing until told to, with a
    // backlog of 0: once one connection is queued, the kernel leaves further SYNs unanswered.
    const listener = spawnChild(
      'python3',
      [
        '-c',
        'import socket,sys\ns=socket.socket();s.bind(("127.0.0.1",0));s.listen(0)\nprint(s.getsockname()[1],flush=True)\nsys.stdin.readline()\nkept=[]\nwhile True: kept.append(s.accept()[0])',
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    try {
      const port = Number(
        await new Promise<string>((resolve, reject) => {
          listener.stdout!.once('data', (d) => resolve(String(d).trim()));
          listener.once('error', reject);
        }),
      );
      const filler = nodeNet.connect(port, '127.0.0.1');
      filler.on('error', () => {});
      await new Promise((resolve) => filler.once('connect', resolve));
      const call = track(
        green(() => {
          const sock = connect(port, '127.0.0.1', { timeout: LONG });
          sock.close();
          return 'connected';
        }),
      );
      await pause(100);
      expect(call.settled()).toBe(false);
      listener.stdin!.write('accept\n'); // the kernel's next SYN retry (about 1 s) gets through
      expect(await call.promise).toBe('connected');
      filler.destroy();
    } finally {
      listener.kill('SIGKILL');
    }
  });

  it('run() with timeout 2**31 does not kill its child', async () => {
    const dir = tempDir();
    try {
      const flag = join(dir.path, 'go');
      const call = track(green(() => cp.run(node, ['-e', WAIT_FOR_FILE, flag], { timeout: LONG })));
      await pause(100);
      expect(call.settled()).toBe(false);
      writeFileSync(flag, '');
      expect(await call.promise).toMatchObject({ status: 0, signal: null });
    } finally {
      dir.cleanup();
    }
  });

  it('Process.wait() with timeout 2**31 waits for the exit', async () => {
    const dir = tempDir();
    try {
      const flag = join(dir.path, 'go');
      const call = track(green(() => cp.spawn(node, ['-e', WAIT_FOR_FILE, flag]).wait({ timeout: LONG })));
      await pause(100);
      expect(call.settled()).toBe(false);
      writeFileSync(flag, '');
      expect(await call.promise).toEqual({ status: 0, signal: null });
      expect(existsSync(flag)).toBe(true);
    } finally {
      dir.cleanup();
    }
  });

  it('http.request() with timeout 2**31 waits for the headers and the body', async () => {
    let arrived!: (release: () => void) => void;
    const requestArrived = new Promise<() => void>((resolve) => (arrived = resolve));
    const server = nodeHttp.createServer((_req, res) => {
      res.write('first,');
      arrived(() => res.end('last'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const call = track(green(() => http.request(url, { timeout: LONG }).text()));
      const release = await requestArrived; // however slow the machine: the server has it now
      await pause(100);
      expect(call.settled()).toBe(false);
      release();
      expect(await call.promise).toBe('first,last');
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('StreamServer.stop() and http Server.close() with timeout 2**31 wait for their handlers', async () => {
    // Both handlers say when they are busy: stopping before that (a 50 ms pause raced the
    // connections on a busy machine) would have nothing to wait for.
    let streamBusy!: () => void;
    let httpBusy!: () => void;
    const bothBusy = Promise.all([
      new Promise<void>((resolve) => (streamBusy = resolve)),
      new Promise<void>((resolve) => (httpBusy = resolve)),
    ]);
    let finishStream = false;
    const stream = new StreamServer(
      (sock) => {
        sock.recv();
        streamBusy();
        while (!finishStream) sleep(5);
      },
      { port: 0, host: '127.0.0.1' },
    );
    let finishHttp = false;
    const web = http.createServer((_req, res) => {
      httpBusy();
      while (!finishHttp) sleep(5);
      res.end('ok');
    });
    const ports = await green(() => [stream.start().port, web.listen(0, '127.0.0.1').port]);
    const client = nodeNet.connect(ports[0]!, '127.0.0.1', () => client.write('x'));
    client.on('error', () => {});
    const response = new Promise<string>((resolve, reject) =>
      nodeHttp
        .get({ host: '127.0.0.1', port: ports[1], agent: false }, (res) => {
          let body = '';
          res.on('data', (c) => (body += c)).on('end', () => resolve(body));
        })
        .on('error', reject),
    );
    await bothBusy;
    const stopping = track(green(() => stream.stop({ timeout: LONG })));
    const closing = track(green(() => web.close({ timeout: LONG })));
    await pause(100);
    expect([stopping.settled(), closing.settled()]).toEqual([false, false]);
    finishStream = true;
    finishHttp = true;
    await Promise.all([stopping.promise, closing.promise]);
    expect(await response).toBe('ok');
    client.destroy();
  });
});
