import { spawnSync } from 'node:child_process';
import * as nodeHttp from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import * as http from '../lib/io/http.js';
import { connect, listen, StreamServer } from '../lib/io/net.js';
import { green, greenError, until } from './io-helpers.js';

/** GETs `url` with node:http (no greenlet needed); resolves with the body. */
function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    nodeHttp
      .get(url, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (body += chunk));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

const hello = () => http.createServer((req, res) => res.send(`hello ${req.url}`));

describe("http.Server follows node:http's listen/address/close", () => {
  it('listen(port, cb) works outside a greenlet and returns the server, as node:http', async () => {
    const server = hello();
    let returned: unknown;
    await new Promise<void>((resolve) => {
      returned = server.listen(0, resolve);
    });
    expect(returned).toBe(server);
    const address = server.address()!;
    expect(address.port).toBeGreaterThan(0);
    expect(await get(`http://127.0.0.1:${address.port}/a`)).toBe('hello /a');
    await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    expect(server.address()).toBeNull();
  });

  it('listen(port, host, cb) and listen({ port, host }, cb) bind where asked', async () => {
    const a = hello();
    const b = hello();
    await new Promise<void>((resolve) => a.listen(0, '127.0.0.1', resolve));
    await new Promise<void>((resolve) => b.listen({ port: 0, host: '127.0.0.1' }, resolve));
    for (const server of [a, b]) {
      expect(server.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
      expect(await get(`http://127.0.0.1:${server.port}/x`)).toBe('hello /x');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it("address() is a method with node:http's shape", async () => {
    const server = hello();
    const parked = await green(() => server.listen(0, '127.0.0.1'));
    const node = nodeHttp.createServer();
    await new Promise<void>((resolve) => node.listen(0, '127.0.0.1', resolve));
    try {
      expect(typeof server.address).toBe('function');
      expect(server.address()).toEqual(parked);
      expect(Object.keys(server.address()!).sort()).toEqual(Object.keys(node.address() as AddressInfo).sort());
    } finally {
      node.close();
      await green(() => server.close());
    }
  });

  it('close(cb) on a server that is not listening gives ERR_SERVER_NOT_RUNNING, as node:http', async () => {
    const error = await new Promise<Error | undefined>((resolve) => hello().close(resolve));
    expect((error as NodeJS.ErrnoException).code).toBe('ERR_SERVER_NOT_RUNNING');
  });

  it("a listen error with a callback goes to the raw server's 'error' listeners", async () => {
    const first = hello();
    await new Promise<void>((resolve) => first.listen(0, '127.0.0.1', resolve));
    const second = hello();
    const failed = new Promise<Error>((resolve) => second.raw.once('error', resolve));
    let listened = false;
    second.listen(first.port, '127.0.0.1', () => (listened = true));
    expect(((await failed) as NodeJS.ErrnoException).code).toBe('EADDRINUSE');
    expect(listened).toBe(false);
    await new Promise<void>((resolve) => first.close(() => resolve()));
  });

  it('with no error listener it is an uncaught exception, as an unhandled error event in node', () => {
    const script = `
      const http = require(${JSON.stringify(join(__dirname, '..', 'dist', 'cjs', 'io', 'http.js'))});
      const first = http.createServer(() => {});
      first.listen(0, '127.0.0.1', () => http.createServer(() => {}).listen(first.port, '127.0.0.1', () => console.log('listened')));
    `;
    const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stdout).not.toContain('listened');
    expect(run.stderr).toContain('EADDRINUSE');
  });

  it('a bad port or host is refused before binding, naming the value', async () => {
    const port = await greenError(() => hello().listen(70000));
    expect(port).toBeInstanceOf(TypeError);
    expect(port.message).toMatch(/port must be an integer from 0 to 65535, got .*70000/);
    const host = await greenError(() => hello().listen(0, 42 as never));
    expect(host.message).toMatch(/host must be a string, got .*42/);
  });

  it('Symbol.dispose closes it in a greenlet; Symbol.asyncDispose from async code', async () => {
    const a = hello();
    const port = await green(() => {
      const { port } = a.listen(0, '127.0.0.1');
      {
        using _server = a;
      }
      return port;
    });
    expect(a.address()).toBeNull();
    await expect(get(`http://127.0.0.1:${port}/`)).rejects.toThrow(/ECONNREFUSED/);

    const b = hello();
    await new Promise<void>((resolve) => b.listen(0, '127.0.0.1', resolve));
    await b[Symbol.asyncDispose]();
    expect(b.address()).toBeNull();
  });
});

describe('StreamServer and Listener: address() and disposal', () => {
  it('StreamServer.address() is a method; null before start and after stop', async () => {
    const server = new StreamServer((sock) => void sock.readAll(), { port: 0, host: '127.0.0.1' });
    expect(server.address()).toBeNull();
    const started = await green(() => server.start());
    expect(server.address()).toEqual(started);
    expect(server.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port: server.port });
    await green(() => server.stop());
    expect(server.address()).toBeNull();
  });

  it('`using` a StreamServer stops it; asyncDispose stops one from async code', async () => {
    const a = new StreamServer((sock) => void sock.readAll(), { port: 0, host: '127.0.0.1' });
    await green(() => {
      using server = a;
      server.start();
    });
    expect(a.started).toBe(false);

    const b = new StreamServer((sock) => void sock.readAll(), { port: 0, host: '127.0.0.1' });
    await green(() => b.start());
    await green(() => connect(b.port, '127.0.0.1').sendall('x'));
    await until(() => b.handlers === 1, 'the handler to start');
    await b[Symbol.asyncDispose]();
    expect(b.started).toBe(false);
    expect(b.handlers).toBe(0);
  });

  it('Listener.address() is a method; null once closed', async () => {
    const out = await green(() => {
      const listener = listen(0, '127.0.0.1');
      const open = listener.address();
      listener.close();
      return { open, port: listener.port, closed: listener.address() };
    });
    expect(out.open).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    expect(out.open!.port).toBeGreaterThan(0);
    expect(out.closed).toBeNull();
  });
});
