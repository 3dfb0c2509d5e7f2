import { AsyncLocalStorage, executionAsyncId, executionAsyncResource } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { Event, getcurrent, getHub, sleep, spawn } from '../lib/index.js';
import * as http from '../lib/io/http.js';
import { green, httpServerPerTest } from './io-helpers.js';

const servers = httpServerPerTest(http.createServer);
const serve = servers.serve;

describe('green HTTP server: when a handler starts', () => {
  it("runs the handler inside the request callback, before the request's other listeners", async () => {
    const order: string[] = [];
    const base = await serve((req, res) => {
      order.push(`handler ${req.url}`);
      res.send('ok');
    });
    servers.current.raw.on('request', (req) => order.push(`listener ${req.url}`));
    for (const path of ['/a', '/b']) expect(await (await fetch(base + path)).text()).toBe('ok');
    expect(order).toEqual(['handler /a', 'listener /a', 'handler /b', 'listener /b']);
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
