import * as nodeHttp from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreenletError, sleep } from '../lib/index.js';
import { PayloadTooLargeError } from '../lib/errors.js';
import * as http from '../lib/io/http.js';
import { fixtureSummary, lastJson, runFixture } from './helpers.js';
import { green, greenError, until } from './io-helpers.js';

/** A real node:http server with a few routes, counting the connections it accepted. */
function startPlainServer(): Promise<{ url: string; connections: () => number; close(): void; release: () => void }> {
  let connections = 0;
  let releaseHung: (() => void)[] = [];
  const server = nodeHttp.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/hello') {
      res.setHeader('x-test', 'yes');
      res.end('hello');
    } else if (url.pathname === '/json') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ query: url.searchParams.get('q') }));
    } else if (url.pathname === '/echo') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () =>
        res.end(JSON.stringify({ method: req.method, type: req.headers['content-type'] ?? null, body })),
      );
    } else if (url.pathname === '/chunked') {
      // Three chunks, each written after the previous one was flushed.
      res.write('one,');
      setTimeout(() => {
        res.write('two,');
        setTimeout(() => res.end('three'), 10);
      }, 10);
    } else if (url.pathname === '/status') {
      res.statusCode = 404;
      res.end('nope');
    } else if (url.pathname === '/hang') {
      releaseHung.push(() => res.end('finally'));
    } else {
      res.statusCode = 500;
      res.end();
    }
  });
  server.on('connection', () => connections++);
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        connections: () => connections,
        release: () => {
          for (const r of releaseHung) r();
          releaseHung = [];
        },
        close: () => {
          server.closeAllConnections();
          server.close();
        },
      }),
    ),
  );
}

describe('green HTTP client', () => {
  let plain: Awaited<ReturnType<typeof startPlainServer>>;
  beforeAll(async () => {
    plain = await startPlainServer();
  });
  afterAll(() => plain.close());

  it('outside a spawned greenlet request() throws GreenletError', () => {
    expect(() => http.request(`${plain.url}/hello`)).toThrow(GreenletError);
  });

  it('request() returns status, headers and the body as text or JSON', async () => {
    const out = await green(() => {
      const a = http.request(`${plain.url}/hello`);
      const b = http.get(`${plain.url}/json`, { query: { q: 'green' } });
      return { status: a.status, header: a.headers['x-test'], text: a.text(), json: b.json() };
    });
    expect(out).toEqual({ status: 200, header: 'yes', text: 'hello', json: { query: 'green' } });
  });

  it('sends bodies: strings, Buffers and json', async () => {
    const out = await green(() => [
      http.request(`${plain.url}/echo`, { method: 'POST', body: 'plain text' }).json(),
      http.request(`${plain.url}/echo`, { method: 'put', body: Buffer.from('bytes') }).json(),
      http.request(`${plain.url}/echo`, { method: 'POST', json: { a: 1 } }).json(),
    ]);
    expect(out).toEqual([
      { method: 'POST', type: null, body: 'plain text' },
      { method: 'PUT', type: null, body: 'bytes' },
      { method: 'POST', type: 'application/json', body: '{"a":1}' },
    ]);
  });

  it('iterating a chunked response yields its chunks as they arrive', async () => {
    const chunks = await green(() => [...http.request(`${plain.url}/chunked`)].map((c) => c.toString()));
    expect(chunks.join('')).toBe('one,two,three');
    expect(chunks.length).toBeGreaterThan(1);
  });

  it('keeps connections alive: sequential requests reuse one connection', async () => {
    const before = plain.connections();
    await green(() => {
      for (let i = 0; i < 10; i++) http.request(`${plain.url}/hello`).text();
    });
    expect(plain.connections() - before).toBeLessThanOrEqual(1);
  });

  it('non-2xx statuses are returned, not thrown', async () => {
    const out = await green(() => {
      const res = http.request(`${plain.url}/status`);
      return { status: res.status, ok: res.ok, body: res.text() };
    });
    expect(out).toEqual({ status: 404, ok: false, body: 'nope' });
  });

  it('a refused connection throws ECONNREFUSED in the greenlet', async () => {
    const probe = nodeHttp.createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const error = await greenError(() => http.request(`http://127.0.0.1:${port}/`));
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('a server that does not answer in time gives UND_ERR_HEADERS_TIMEOUT', async () => {
    const error = await greenError(() => http.request(`${plain.url}/hang`, { timeout: 100 }));
    expect(error.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    plain.release();
  });

  it('fetch() is blocking-style WHATWG fetch', async () => {
    const out = await green(() => {
      const res = http.fetch(`${plain.url}/json?q=fetch`);
      return { status: res.status, type: res.headers.get('content-type'), json: res.json() };
    });
    expect(out).toEqual({ status: 200, type: 'application/json', json: { query: 'fetch' } });
  });

  it('many greenlets request concurrently', async () => {
    const bodies = await Promise.all(
      Array.from({ length: 50 }, () => green(() => http.request(`${plain.url}/hello`).text())),
    );
    expect(bodies).toEqual(Array.from({ length: 50 }, () => 'hello'));
  });
});

describe('green HTTP server', () => {
  let server: http.Server;
  let base: string;
  const errors: unknown[] = [];
  beforeAll(async () => {
    server = http.createServer(
      (req, res) => {
        const url = new URL(req.url!, 'http://x');
        if (url.pathname === '/sleep') {
          sleep(Number(url.searchParams.get('ms') ?? 10));
          res.send('slept');
        } else if (url.pathname === '/json') {
          const value = req.json<{ n: number }>();
          res.json({ doubled: value.n * 2 }, 201);
        } else if (url.pathname === '/stream') {
          res.setHeader('content-type', 'text/plain');
          for (let i = 0; i < 5; i++) res.sendall(`part ${i}\n`);
        } else if (url.pathname === '/throw') {
          throw new Error('handler exploded');
        } else if (url.pathname === '/call') {
          // A handler may itself use the blocking-style client.
          res.send(http.request(`${base}/sleep?ms=1`).text());
        } else {
          res.send('not found', 404);
        }
      },
      { onError: (error) => errors.push(error), maxBodyLength: 1000 },
    );
    const address = await green(() => server.listen(0, '127.0.0.1'));
    base = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await green(() => server.close());
  });

  it('serves concurrent requests whose handlers park', async () => {
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => fetch(`${base}/sleep?ms=50`).then(async (r) => [r.status, await r.text()])),
    );
    expect(responses).toEqual(Array.from({ length: 50 }, () => [200, 'slept']));
  });

  it('req.json() reads the body and res.json() answers', async () => {
    const res = await fetch(`${base}/json`, { method: 'POST', body: JSON.stringify({ n: 21 }) });
    expect(res.status).toBe(201);
    expect(await res.json()).toEqual({ doubled: 42 });
  });

  it('res.sendall() streams a chunked body', async () => {
    const res = await fetch(`${base}/stream`);
    expect(await res.text()).toBe('part 0\npart 1\npart 2\npart 3\npart 4\n');
  });

  it('a handler that throws gives a 500 and the server keeps serving', async () => {
    const before = errors.length;
    const res = await fetch(`${base}/throw`);
    expect(res.status).toBe(500);
    expect((errors[before] as Error).message).toBe('handler exploded');
    expect((await fetch(`${base}/sleep?ms=1`)).status).toBe(200);
  });

  it('a body over maxBodyLength gives 413; invalid JSON gives 400', async () => {
    const big = await fetch(`${base}/json`, { method: 'POST', body: 'x'.repeat(5000) });
    expect(big.status).toBe(413);
    expect(errors.some((e) => e instanceof PayloadTooLargeError)).toBe(true);
    const bad = await fetch(`${base}/json`, { method: 'POST', body: '{not json' });
    expect(bad.status).toBe(400);
  });

  it('a handler can call the green HTTP client', async () => {
    expect(await (await fetch(`${base}/call`)).text()).toBe('slept');
  });

  it('an idle keep-alive connection holds no handler greenlet', async () => {
    const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const get = () =>
        new Promise<string>((resolve, reject) => {
          nodeHttp
            .get(`${base}/sleep?ms=1`, { agent }, (res) => {
              let body = '';
              res.on('data', (c) => (body += c));
              res.on('end', () => resolve(body));
            })
            .on('error', reject);
        });
      expect(await get()).toBe('slept');
      await until(() => server.pending === 0, 'the handler to finish');
      // The connection is still open and idle.
      const sockets = Object.values(agent.freeSockets).flat();
      expect(sockets.length).toBe(1);
      expect(server.pending).toBe(0);
      expect(await get()).toBe('slept');
    } finally {
      agent.destroy();
    }
  });

  it('green clients against the green server, from greenlets', async () => {
    const out = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        green(() => http.request(`${base}/json`, { method: 'POST', json: { n: i } }).json()),
      ),
    );
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => ({ doubled: i * 2 })));
  });
});

describe('green HTTP server pool', () => {
  it('maxConcurrency bounds the handler greenlets; queued requests are served in order', async () => {
    let running = 0;
    let maxRunning = 0;
    const served: number[] = [];
    const server = http.createServer(
      (req, res) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        sleep(5);
        served.push(Number(req.url!.slice(1)));
        running--;
        res.send('ok');
      },
      { maxConcurrency: 3 },
    );
    const { port } = await green(() => server.listen(0, '127.0.0.1'));
    const statuses = await Promise.all(
      Array.from({ length: 12 }, (_, i) => fetch(`http://127.0.0.1:${port}/${i}`).then((r) => r.status)),
    );
    expect(statuses).toEqual(Array.from({ length: 12 }, () => 200));
    expect(maxRunning).toBe(3);
    expect(served.length).toBe(12);
    await green(() => server.close());
  });
});

describe('green HTTP server: async handlers and close()', () => {
  it('an async handler is waited for; its rejection is a 500 and onError, and the server keeps serving', () => {
    // Runs in a child process: before the fix the rejection was unhandled and ended the process.
    const out = fixtureSummary('io-server-async.js');
    expect(out.httpOk).toEqual([200, 'late /ok']);
    expect(out.httpFail).toEqual([500, 'Internal Server Error\n']);
    expect(out.httpErrors).toEqual(['async request handler failed']);
    expect(out.again[1]).toEqual([200, 'late /again']);
  });

  it('close({ timeout }) kills handlers still parked: their finally blocks run, nothing stays pending or parked', () => {
    const run = runFixture('io-http-close.js', [], [], 30_000);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toMatch(/LoopExit|parked/);
    expect(lastJson(run)).toEqual({
      before: 3,
      started: ['/body', '/sleep'],
      finished: ['/body', '/sleep'],
      pending: 0,
    });
  });

  it('close({ timeout: null }) waits for running and queued requests to be served', async () => {
    let release = false;
    const server = http.createServer(
      (req, res) => {
        while (!release) sleep(2);
        res.end(req.url);
      },
      { maxConcurrency: 1 },
    );
    const { port } = await green(() => server.listen(0, '127.0.0.1'));
    const bodies = Promise.all(
      ['/a', '/b'].map((path) => fetch(`http://127.0.0.1:${port}${path}`).then((r) => r.text())),
    );
    await until(() => server.pending === 2, 'both requests to arrive');
    const closing = green(() => server.close({ timeout: null }));
    release = true;
    await closing;
    expect((await bodies).sort()).toEqual(['/a', '/b']);
    expect(server.pending).toBe(0);
  });
});
