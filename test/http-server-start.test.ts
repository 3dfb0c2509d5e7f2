import { AsyncLocalStorage, executionAsyncId, executionAsyncResource } from 'node:async_hooks';
import * as net from 'node:net';
import { describe, expect, it } from 'vitest';
import { configure, Event, getcurrent, getHub, type GreenletError, local, sleep, spawn } from '../lib/index.js';
import * as http from '../lib/io/http.js';
import { pollUntil } from './helpers.js';
import { green, httpServerPerTest } from './io-helpers.js';

const servers = httpServerPerTest(http.createServer);
const serve = servers.serve;

describe('green HTTP server: when a handler starts', () => {
  it("runs the handler in the loop turn that read the request, after the request's listeners, before its timers", async () => {
    const order: string[] = [];
    const base = await serve((req, res) => {
      order.push(`handler ${req.url}`);
      res.send('ok');
    });
    servers.current.raw.on('request', (req) => {
      order.push(`listener ${req.url}`);
      setTimeout(() => order.push(`timer ${req.url}`), 0);
    });
    for (const path of ['/a', '/b']) expect(await (await fetch(base + path)).text()).toBe('ok');
    await new Promise((r) => setTimeout(r, 5));
    expect(order).toEqual(['listener /a', 'handler /a', 'timer /a', 'listener /b', 'handler /b', 'timer /b']);
  });

  it('requests read in one loop turn are served one after another by one greenlet, each with fresh local()', async () => {
    const seen: [string, unknown][] = [];
    const perRequest = local<{ url?: string }>();
    const localsBefore: unknown[] = [];
    const base = await serve((req, res) => {
      seen.push([req.url!, getcurrent()]);
      localsBefore.push(perRequest.url);
      perRequest.url = req.url;
      res.send(req.url!);
    });
    const clients = await keepAliveClients(base, 6);
    try {
      seen.length = 0;
      const answers = burst(clients, (i) => `/${i}`);
      expect(await answers).toEqual(clients.map((_, i) => `/${i}`));
      expect(seen.map(([url]) => url)).toEqual(clients.map((_, i) => `/${i}`));
      expect(new Set(seen.map(([, g]) => g)).size).toBe(1);
      expect(localsBefore.slice(-clients.length)).toEqual(clients.map(() => undefined));
      expect(servers.current.pending).toBe(0);
    } finally {
      for (const c of clients) c.socket.destroy();
    }
  });

  it('a handler that parks hands the requests queued behind it to another greenlet at once', async () => {
    const seen = new Map<string, unknown>();
    const released = new Event();
    let pendingWhileParked = -1;
    const base = await serve((req, res) => {
      seen.set(req.url!, getcurrent());
      if (req.url === '/0') {
        released.wait();
      } else if (req.url === '/3') {
        pendingWhileParked = servers.current.pending; // /0 parked and /3 running
        released.set();
      }
      res.send(req.url!);
    });
    const clients = await keepAliveClients(base, 4);
    try {
      expect(await burst(clients, (i) => `/${i}`)).toEqual(['/0', '/1', '/2', '/3']);
      expect(seen.get('/1')).not.toBe(seen.get('/0'));
      expect(seen.get('/2')).toBe(seen.get('/1'));
      expect(seen.get('/3')).toBe(seen.get('/1'));
      expect(pendingWhileParked).toBe(2);
      expect(servers.current.pending).toBe(0);
    } finally {
      for (const c of clients) c.socket.destroy();
    }
  });

  it('each request of a batch runs in the async context its request callback had, across parks', async () => {
    // As tracing libraries do: each request's listeners run inside a context of its own.
    const als = new AsyncLocalStorage<string>();
    const seen: string[] = [];
    const base = await serve((req, res) => {
      seen.push(`${req.url} ${als.getStore()}`);
      if (req.url === '/1') sleep(1);
      seen.push(`${req.url} ${als.getStore()}`);
      res.send('ok');
    });
    const raw = servers.current.raw;
    const emit = raw.emit;
    const plainEmit = emit as (this: unknown, event: string | symbol, ...args: unknown[]) => boolean;
    raw.emit = function (this: typeof raw, event: string | symbol, ...args: unknown[]) {
      if (event !== 'request') return plainEmit.call(this, event, ...args);
      return als.run(`ctx ${(args[0] as { url: string }).url}`, () => plainEmit.call(this, event, ...args));
    } as typeof raw.emit;
    const clients = await keepAliveClients(base, 3);
    try {
      seen.length = 0;
      await burst(clients, (i) => `/${i}`);
      expect([...seen].sort()).toEqual(
        ['/0 ctx /0', '/0 ctx /0', '/1 ctx /1', '/1 ctx /1', '/2 ctx /2', '/2 ctx /2'].sort(),
      );
      expect(als.getStore()).toBe(undefined);
    } finally {
      raw.emit = emit;
      for (const c of clients) c.socket.destroy();
    }
  });

  it('requests whose handler greenlet cannot start (no stack to be had) get 503; the server serves on', async () => {
    const reported: unknown[] = [];
    const hub = getHub();
    const previous = hub.unjoinedErrorHandler;
    hub.unjoinedErrorHandler = (error) => reported.push(error);
    try {
      const base = await serve((req, res) => res.send('ok'));
      configure({ stackSize: 2 ** 39 }); // more than mmap will reserve: the start is refused
      let refused: Response;
      try {
        refused = await fetch(base);
      } finally {
        configure({ stackSize: 984 * 1024 }); // the default
      }
      expect(refused.status).toBe(503);
      // Reported once the greenlets ready then have run (a hub pass), which a
      // busy loop may put after the turn in which the 503 reached the client.
      await pollUntil(
        () => reported.length !== 0,
        'the refused start to be reported',
        10_000,
        () => reported,
      );
      expect(reported).toHaveLength(1);
      expect((reported[0] as GreenletError).errno).toBe(-12); // ENOMEM
      expect(await (await fetch(base)).text()).toBe('ok');
      expect(servers.current.pending).toBe(0);
    } finally {
      hub.unjoinedErrorHandler = previous;
    }
  });

  it('a handler that parks hands the callback back; it resumes later and answers, others are served meanwhile', async () => {
    const events: string[] = [];
    const fastServed = new Event();
    const base = await serve((req, res) => {
      events.push(`start ${req.url}`);
      if (req.url === '/slow') fastServed.wait();
      else fastServed.set();
      events.push(`end ${req.url}`);
      res.send(req.url!);
    });
    const slow = fetch(`${base}/slow`).then((r) => r.text());
    while (!events.includes('start /slow')) await new Promise((r) => setTimeout(r, 5));
    expect(await (await fetch(`${base}/fast`)).text()).toBe('/fast');
    expect(await slow).toBe('/slow');
    expect(events).toEqual(['start /slow', 'start /fast', 'end /fast', 'end /slow']);
    expect(servers.current.pending).toBe(0);
  });

  it('the handler sees the async context the request callback has, and runs in a greenlet of the hub', async () => {
    const als = new AsyncLocalStorage<string>();
    const seen: unknown[] = [];
    const base = await als.run('outer', () =>
      serve((req, res) => {
        seen.push(als.getStore(), getcurrent() !== getHub().greenlet);
        res.send('ok');
      }),
    );
    servers.current.raw.prependListener('request', () => seen.push(als.getStore()));
    await fetch(base);
    expect(seen).toEqual(['outer', 'outer', true]);
  });

  it("the request callback's async resource and id are the same after the handler ran as before it", async () => {
    const als = new AsyncLocalStorage<string>();
    const seen: unknown[][] = [];
    const look = () => seen.push([executionAsyncResource(), executionAsyncId(), als.getStore()]);
    const base = await als.run('outer', () =>
      serve((req, res) => {
        als.enterWith('inside the handler');
        res.send('ok');
      }),
    );
    servers.current.raw.prependListener('request', look);
    servers.current.raw.on('request', look);
    for (let i = 0; i < 2; i++) await fetch(base);
    expect(seen).toHaveLength(4);
    for (const [before, after] of [seen.slice(0, 2), seen.slice(2)]) {
      expect(after![0]).toBe(before![0]);
      expect(after![1]).toBe(before![1]);
      expect(after![2]).toBe('outer');
    }
  });

  it('a handler that keeps yielding with sleep(0) still lets a timer fire (its pass ends after switchInterval)', async () => {
    const base = await serve((req, res) => {
      let fired = false;
      setTimeout(() => (fired = true), 1);
      const start = Date.now();
      while (!fired && Date.now() - start < 2000) sleep(0);
      res.send(fired ? 'fired' : 'starved');
    });
    expect(await (await fetch(base)).text()).toBe('fired');
  }, 20_000);

  it('a handler that ends without parking leaves nothing pending, and errors still answer 500', async () => {
    const errors: unknown[] = [];
    const base = await serve(
      (req, res) => {
        if (req.url === '/throw') throw new Error('at once');
        res.send('done');
      },
      { onError: (error) => errors.push(error) },
    );
    const statuses = await Promise.all(['/a', '/throw', '/b'].map(async (p) => (await fetch(base + p)).status));
    expect(statuses).toEqual([200, 500, 200]);
    expect(errors.map((e) => (e as Error).message)).toEqual(['at once']);
    expect(servers.current.pending).toBe(0);
  });

  it('requests that arrive while greenlets are ready run in order with them, under maxConcurrency too', async () => {
    const order: string[] = [];
    const base = await serve(
      (req, res) => {
        order.push(req.url!);
        sleep(1);
        res.send(req.url!);
      },
      { maxConcurrency: 2 },
    );
    // Keep the hub busy with ready greenlets while the requests arrive.
    let busy = true;
    const spinner = spawn(() => {
      while (busy) sleep(0);
    });
    const paths = Array.from({ length: 8 }, (_, i) => `/${i}`);
    const bodies = await Promise.all(paths.map(async (p) => (await fetch(base + p)).text()));
    busy = false;
    await green(() => spinner.join());
    expect(bodies).toEqual(paths);
    expect([...order].sort()).toEqual([...paths].sort());
    expect(servers.current.pending).toBe(0);
  });
});

/** A keep-alive HTTP/1.1 client on a raw socket: one request in flight, answers parsed by Content-Length. */
interface RawClient {
  socket: net.Socket;
  ask(path: string): Promise<string>;
}

/** `n` connections to `base`, each accepted by the server and through one request already. */
async function keepAliveClients(base: string, n: number): Promise<RawClient[]> {
  const { port } = new URL(base);
  const clients: RawClient[] = [];
  for (let i = 0; i < n; i++) {
    const socket = net.connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    let buffered = '';
    let waiting: ((body: string) => void) | null = null;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      const length = Number(/content-length: (\d+)/i.exec(buffered.slice(0, end))![1]);
      if (buffered.length < end + 4 + length) return;
      const body = buffered.slice(end + 4, end + 4 + length);
      buffered = buffered.slice(end + 4 + length);
      const done = waiting!;
      waiting = null;
      done(body);
    });
    const client: RawClient = {
      socket,
      ask(path) {
        return new Promise((resolve) => {
          waiting = resolve;
          socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
        });
      },
    };
    await client.ask('/warm-up');
    clients.push(client);
  }
  return clients;
}

/**
 * Writes one request on every client in the same tick: the server reads them
 * all in its next poll phase, one loop turn.
 */
function burst(clients: RawClient[], path: (i: number) => string): Promise<string[]> {
  return Promise.all(clients.map((c, i) => c.ask(path(i))));
}
