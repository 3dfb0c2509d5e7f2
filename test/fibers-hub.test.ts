// Fibers beside greenloop's hub: a fiber may call greenloop's blocking API
// (sleep, green sockets), which parks the fiber alone on the hub until its IO
// completes, and fibers, futures and hub greenlets wake each other.
import * as nodeNet from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Event, runAsync, sleep, spawn } from '../lib/index.js';
import * as net from '../lib/io/net.js';
import { Fiber } from '../lib/fibers/fiber.js';
import { Future } from '../lib/fibers/future.js';

let server: nodeNet.Server;
let port: number;
beforeAll(async () => {
  // A plain node:net server that answers each line with its upper-case form, a little later.
  server = nodeNet.createServer((sock) => {
    let buffered = '';
    sock.on('data', (chunk) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        setTimeout(() => sock.write(`${line.toUpperCase()}\n`), 5);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Starts `fn` in a fiber; resolves with its outcome once it ends, however it was resumed. */
function fiberOutcome<T>(fn: () => T): { started: unknown; done: Promise<T> } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const done = new Promise<T>((res, rej) => ((resolve = res), (reject = rej)));
  const started = Fiber(() => {
    try {
      resolve(fn());
    } catch (e) {
      reject(e);
    }
  }).run();
  return { started, done };
}

describe('fibers and the hub', () => {
  it('sleep() inside a fiber parks only that fiber: run() returns meanwhile, the fiber finishes later', async () => {
    const log: string[] = [];
    const { started, done } = fiberOutcome(() => {
      const self = Fiber.current;
      log.push('fiber sleeps');
      sleep(10);
      log.push('fiber woke');
      return Fiber.current === self;
    });
    log.push('run() returned');
    expect(started).toBeUndefined();
    expect(await done).toBe(true);
    expect(log).toEqual(['fiber sleeps', 'run() returned', 'fiber woke']);
  });

  it('green sockets inside fibers: several fibers talk to a real TCP server at once', async () => {
    const outcomes = [0, 1, 2].map((i) =>
      fiberOutcome(() => {
        const sock = net.connect(port, '127.0.0.1');
        try {
          const replies: string[] = [];
          for (const word of ['alpha', 'beta']) {
            sock.sendall(`${word}${i}\n`);
            replies.push(sock.readLine()!);
          }
          return replies;
        } finally {
          sock.close();
        }
      }),
    );
    expect(await Promise.all(outcomes.map((o) => o.done))).toEqual([
      ['ALPHA0', 'BETA0'],
      ['ALPHA1', 'BETA1'],
      ['ALPHA2', 'BETA2'],
    ]);
  });

  it('a fiber parked on the hub cannot be run() meanwhile: a clear error', async () => {
    let fiber: ReturnType<typeof Fiber> | undefined;
    const { done } = fiberOutcome(() => {
      fiber = Fiber.current;
      sleep(5);
      return 'slept';
    });
    expect(() => fiber!.run()).toThrow(/already running \(it waits inside greenloop's hub/);
    expect(await done).toBe('slept');
  });

  it('Future.wait() in a fiber, resolved by a greenlet the hub runs; Event.wait() in a fiber, set by a fiber', async () => {
    const future = new Future<string>();
    const waited = fiberOutcome(() => future.wait());
    spawn(() => {
      sleep(2);
      future.return('from a greenlet');
    });
    expect(await waited.done).toBe('from a greenlet');
    const event = new Event();
    const onEvent = fiberOutcome(() => event.wait());
    fiberOutcome(() => {
      sleep(1);
      event.set();
    });
    expect(await onEvent.done).toBe(true);
  });

  it('a fiber run from a hub greenlet yields back to that greenlet', async () => {
    const r = await runAsync(() => {
      const gen = Fiber((n: number) => {
        for (;;) n = Fiber.yield(n * 2);
      });
      const out = [gen.run(1), gen.run(2)];
      sleep(1);
      out.push(gen.run(3));
      gen.reset();
      return out;
    });
    expect(r).toEqual([2, 4, 6]);
  });

  it('reset() of a fiber that catches the unwinding error and then sleeps unwinds it again', () => {
    const log: string[] = [];
    const f = Fiber(() => {
      try {
        Fiber.yield();
      } catch {
        log.push('caught once');
      }
      try {
        sleep(50);
      } finally {
        log.push('sleep interrupted');
      }
      log.push('not reached');
    });
    f.run();
    expect(f.reset()).toBeUndefined();
    expect(log).toEqual(['caught once', 'sleep interrupted']);
    expect(f.started).toBe(false);
  });

  it('Future.wait() and future.wait() in a greenlet of the hub park that greenlet', async () => {
    const r = await runAsync(() => {
      const a = new Future<string>();
      const b = new Future<string>();
      setTimeout(() => a.return('a'), 2);
      setTimeout(() => b.throw(new Error('b failed')), 4);
      Future.wait(a, [b]);
      const c = new Future<number>();
      setTimeout(() => c.return(3), 1);
      return [a.get(), b.isResolved(), c.wait(), (() => 'inline').future()().wait()];
    });
    expect(r).toEqual(['a', true, 3, 'inline']);
  });

  it('run() from a hub greenlet of a fiber that sleeps returns when the fiber ends (the greenlet waits for it)', async () => {
    const r = await runAsync(() => {
      const log: string[] = [];
      const f = Fiber(() => {
        sleep(5);
        log.push('fiber woke');
        return 'slept';
      });
      const result = f.run();
      log.push(`run returned ${result}`);
      const failing = Fiber(() => {
        sleep(1);
        throw new Error('after sleeping');
      });
      try {
        failing.run();
      } catch (e) {
        log.push(`caught ${(e as Error).message}`);
      }
      return log;
    });
    expect(r).toEqual(['fiber woke', 'run returned slept', 'caught after sleeping']);
  });
});
