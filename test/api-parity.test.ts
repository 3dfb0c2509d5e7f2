// gevent parity: Pool.apply/applyAsync/mapAsync, zipped map/imap, wait(objects)/iwait,
// withTimeout(ms, fn, ...args), silent Timeout, Timeout.signal, blocking peek, BlockingOnHubError.
import { setTimeout as later } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  AsyncResult,
  BlockingOnHubError,
  Event,
  GreenletError,
  Group,
  Pool,
  Queue,
  Timeout,
  TimeoutError,
  iwait,
  killall,
  runAsync,
  sleep,
  spawn,
  wait,
  withTimeout,
  Greenlet,
} from '../lib/index.js';

describe('map and imap over several iterables', () => {
  it('zip their items and stop at the shortest, as gevent and Python do', async () => {
    const out = await runAsync(() => {
      const group = new Group();
      const gate = new Event();
      return {
        map: group.map((a: number, b: number) => a * b, [1, 2, 3], [10, 20]),
        imap: [
          ...group.imap(
            (a: number, b: string, c: boolean) => `${a}${b}${c}`,
            [1, 2, 3],
            ['x', 'y', 'z'],
            [true, false],
          ),
        ],
        // The first call waits for the second: finishing order is known, whatever the machine's speed.
        unordered: [
          ...new Pool(2).imapUnordered(
            (waits: boolean, tag: string) => (waits ? gate.wait() : gate.set(), tag),
            [true, false],
            ['slow', 'fast', 'unused'],
          ),
        ],
        one: new Pool(3).map((n: number) => n + 1, [1, 2]),
      };
    });
    expect(out).toEqual({ map: [10, 40], imap: ['1xtrue', '2yfalse'], unordered: ['fast', 'slow'], one: [2, 3] });
  });

  it("closes every iterator when the shortest ends (a generator's finally runs)", async () => {
    const closed: string[] = [];
    function* numbers(tag: string): Generator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed.push(tag);
      }
    }
    const out = await runAsync(() => new Group().map((a: number, b: number) => a + b, numbers('endless'), [5, 6]));
    expect(out).toEqual([5, 7]);
    expect(closed).toEqual(['endless']);
  });

  it('reject a missing or non-iterable argument, naming it', async () => {
    const errors = await runAsync(() =>
      [
        () => (new Group().map as (fn: unknown) => unknown)((x: number) => x),
        () => new Group().map((a: number, b: number) => a + b, [1], 5 as any),
      ].map((f) => {
        try {
          f();
          return 'returned';
        } catch (e) {
          return (e as Error).message;
        }
      }),
    );
    expect(errors).toEqual([
      'imap() and map() need at least one iterable after fn',
      'iterable 2 must be iterable, got number 5',
    ]);
  });
});

describe('Pool.apply, applyAsync and mapAsync', () => {
  it('apply() runs fn in a member and returns its value; inside a member of a full pool it runs in place', async () => {
    const out = await runAsync(() => {
      const pool = new Pool(1);
      const simple = pool.apply((a: number, b: number) => a + b, [1, 2]);
      const noArgs = pool.apply(() => 'none');
      const fromPromise = pool.apply(() => later(1, 'awaited'));
      // The only slot is taken by the caller itself: a nested apply must not deadlock.
      const nested = pool.spawn(() => pool.apply(() => getCurrentName())).get();
      return { simple, noArgs, fromPromise, nested };
    });
    expect(out).toEqual({ simple: 3, noArgs: 'none', fromPromise: 'awaited', nested: 'outer' });
    function getCurrentName(): string {
      return 'outer';
    }
  });

  it('apply() rethrows what fn throws, and refuses bad arguments by name', async () => {
    const out = await runAsync(() => {
      const pool = new Pool(2);
      const messages: string[] = [];
      for (const f of [
        () =>
          pool.apply(() => {
            throw new Error('boom');
          }),
        () => pool.apply(5 as any),
        () => pool.apply(() => 0, 'x' as any),
      ]) {
        try {
          f();
        } catch (e) {
          messages.push((e as Error).message);
        }
      }
      return messages;
    });
    expect(out).toEqual(['boom', 'fn must be a function, got number 5', 'args must be an array, got string "x"']);
  });

  it('applyAsync() never waits, even on a full pool, and calls back with the value', async () => {
    const out = await runAsync(() => {
      const pool = new Pool(1);
      const values: number[] = [];
      const release = new Event();
      const blocker = pool.spawn(() => release.wait());
      sleep(0); // the blocker holds the only slot and parks
      const g = pool.applyAsync(
        (n: number) => n * 2,
        [21],
        (v) => values.push(v),
      );
      const returnedWhileFull = pool.full() && !blocker.dead;
      release.set();
      const value = g.get();
      sleep(1); // link callbacks run on the hub
      return { value, values, returnedWhileFull, isGreenlet: g instanceof Greenlet };
    });
    expect(out).toEqual({ value: 42, values: [42], returnedWhileFull: true, isGreenlet: true });
  });

  it('applyAsync() and mapAsync() are callable on the hub', async () => {
    const pool = new Pool(2);
    const results = new AsyncResult<number[]>();
    const g = pool.mapAsync(
      (n: number) => n * n,
      [1, 2, 3],
      (squares) => results.set(squares),
    );
    const h = pool.applyAsync(() => 'on hub');
    expect(await g.promise()).toEqual([1, 4, 9]);
    expect(await h.promise()).toBe('on hub');
    expect(await runAsync(() => results.get())).toEqual([1, 4, 9]);
  });

  it('mapAsync() greenlet fails with the first error of the calls', async () => {
    const g = new Pool(2).mapAsync(
      (n: number) => {
        if (n === 2) throw new Error('two');
        return n;
      },
      [1, 2, 3],
    );
    await expect(g.promise()).rejects.toThrow('two');
  });
});

describe('wait(objects) and iwait(objects)', () => {
  it('iwait yields greenlets, events, results and promises as they become ready, each once', async () => {
    const order = await runAsync(() => {
      const e = new Event();
      const r = new AsyncResult<string>();
      const release = new Event();
      const g = spawn(() => (release.wait(), 'g'));
      let resolve!: (v: string) => void;
      const p = new Promise<string>((res) => (resolve = res));
      const already = spawn(() => 'done');
      already.join();
      // One driver makes them ready in a known order, whatever the machine's speed.
      spawn(() => {
        e.set();
        e.clear();
        e.set(); // a second set does not yield it twice
        sleep(1);
        resolve('p');
        sleep(1);
        r.setException(new Error('r failed'));
        sleep(1);
        release.set();
      });
      const names = new Map<unknown, string>([
        [e, 'event'],
        [r, 'result'],
        [g, 'greenlet'],
        [p, 'promise'],
        [already, 'already'],
      ]);
      return [...iwait([e, r, g, p, already])].map((o) => names.get(o));
    });
    expect(order).toEqual(['already', 'event', 'promise', 'result', 'greenlet']);
  });

  it('count and timeout stop early, quietly; wait() returns what was ready', async () => {
    const out = await runAsync(() => {
      const fast = spawn(() => sleep(2));
      const slow = spawn(() => sleep(60_000));
      // fast's 2 ms sleep starts before the 40 ms timeout does, so its timer comes first however
      // late the loop runs them (started after the timeout, a stall could let the timeout win).
      sleep(0);
      const never = new Event();
      const ready = wait([fast, slow, never], { timeout: 40 });
      const first = wait([slow, fast], { count: 1 });
      const none = wait([never], { timeout: 0 });
      slow.kill();
      return {
        ready: ready.map((o) => o === fast),
        first: first[0] === fast,
        none: none.length,
        empty: wait([]).length,
      };
    });
    expect(out).toEqual({ ready: [true], first: true, none: 0, empty: 0 });
  });

  it('watching a failed greenlet counts as joining it: no unjoined-error report', async () => {
    const out = await runAsync(() => {
      const g = spawn(() => {
        throw new Error('seen');
      });
      return wait([g])[0] === g && !g.successful();
    });
    expect(out).toBe(true);
  });

  it('stopping an iwait early removes its watches (a later set wakes nobody stale)', async () => {
    const out = await runAsync(() => {
      const a = new Event();
      const b = new Event();
      spawn(() => a.set());
      for (const o of iwait([a, b])) {
        expect(o).toBe(a);
        break;
      }
      b.set();
      return wait([b]).length;
    });
    expect(out).toBe(1);
  });

  it('checks its arguments at the call, naming the value', async () => {
    const messages = await runAsync(() =>
      [
        () => iwait([5 as any]),
        () => iwait(null as any),
        () => wait([new Event()], { count: -1 }),
        () => wait(5 as any),
      ].map((f) => {
        try {
          f();
          return 'returned';
        } catch (e) {
          return (e as Error).message;
        }
      }),
    );
    expect(messages).toEqual([
      'objects must hold greenlets, events, results or promises, got number 5',
      'objects must be an iterable of greenlets, events, results or promises, got null',
      'count must be an integer >= 0, null or undefined, got number -1',
      'wait() expects a promise or thenable (or an array of objects to wait for), got number 5',
    ]);
  });
});

describe('withTimeout(ms, fn, ...args)', () => {
  it('passes the arguments, and keeps the { fallback } form for a function without parameters', async () => {
    const out = await runAsync(() => ({
      args: withTimeout(1000, (a: number, b: number) => a + b, 1, 2),
      fallback: withTimeout(5, () => (sleep(60_000), 'slept'), { fallback: 'too slow' }),
      objectArg: withTimeout(1000, (o: { fallback: string }) => o.fallback, { fallback: 'an argument' }),
      thrown: (() => {
        try {
          return withTimeout(5, (ms: number) => sleep(ms), 60_000);
        } catch (e) {
          return e instanceof TimeoutError;
        }
      })(),
    }));
    expect(out).toEqual({ args: 3, fallback: 'too slow', objectArg: 'an argument', thrown: true });
  });
});

describe('Timeout', () => {
  it('new Timeout(ms, false) is silent: run() returns undefined when it fires', async () => {
    const out = await runAsync(() => {
      const silent = new Timeout(5, false);
      const cut = silent.run(() => (sleep(60_000), 'slept'));
      const done = new Timeout(1000, false).run((x: number) => x * 2, 21);
      let loud: unknown;
      try {
        new Timeout(5).run(() => sleep(60_000));
      } catch (e) {
        loud = e;
      }
      return {
        cut,
        done,
        silent: silent.silent,
        expired: silent.expired,
        loud: loud instanceof TimeoutError,
        errorIsTimeout: silent.error instanceof TimeoutError,
      };
    });
    expect(out).toEqual({ cut: undefined, done: 42, silent: true, expired: true, loud: true, errorIsTimeout: true });
  });

  it('its signal aborts when it fires, with its error as reason, and stops a signal-taking API', async () => {
    const out = await runAsync(() => {
      const t = new Timeout(10).start();
      const signal = t.signal;
      let caught: unknown;
      try {
        wait(later(60_000, 'late', { signal }));
      } catch (e) {
        caught = e;
      } finally {
        t.cancel();
      }
      return { aborted: signal.aborted, reasonIsError: signal.reason === t.error, caughtTimeout: caught === t.error };
    });
    // The greenlet is interrupted by the Timeout itself; the promise API was told too.
    expect(out).toEqual({ aborted: true, reasonIsError: true, caughtTimeout: true });
  });

  it('a cancelled Timeout never aborts its signal; started again after firing, it gives a new one', async () => {
    const out = await runAsync(() => {
      const t = new Timeout(5);
      t.start();
      const first = t.signal;
      t.cancel();
      sleep(15);
      const keptQuiet = !first.aborted;
      t.run(() => {}); // start and cancel at once
      const fires = new Timeout(2);
      const s1 = fires.signal;
      fires.run(() => {
        try {
          sleep(60_000);
        } catch {
          // its own error
        }
      });
      fires.start();
      const s2 = fires.signal;
      fires.cancel();
      return { keptQuiet, s1Aborted: s1.aborted, freshAfterRestart: s2 !== s1 && !s2.aborted };
    });
    expect(out).toEqual({ keptQuiet: true, s1Aborted: true, freshAfterRestart: true });
  });

  it('the signal option: already aborted makes start() throw; a bad one is named', async () => {
    const out = await runAsync(() => {
      const messages: string[] = [];
      for (const f of [
        () => new Timeout(10, undefined, { signal: AbortSignal.abort() }).start(),
        () => new Timeout(10, undefined, { signal: 1 as any }),
      ]) {
        try {
          f();
        } catch (e) {
          messages.push(`${(e as Error).name}: ${(e as Error).message}`);
        }
      }
      return messages;
    });
    expect(out).toEqual([
      'AbortError: The operation was aborted',
      'TypeError: options.signal must be an AbortSignal or undefined, got number 1',
    ]);
  });
});

describe('Queue.peek({ block: true })', () => {
  it('waits for an item without taking it; without options it still returns undefined at once', async () => {
    const out = await runAsync(() => {
      const q = new Queue<string>();
      const empty = q.peek();
      const peeker = spawn(() => [q.peek({ block: true }), q.qsize()]);
      sleep(2);
      q.put('a');
      const seen = peeker.get();
      let timedOut = '';
      const other = new Queue<number>();
      try {
        other.peek({ block: true, timeout: 5 });
      } catch (e) {
        timedOut = (e as Error).message;
      }
      return { empty, seen, left: q.get(), timedOut };
    });
    expect(out).toEqual({ empty: undefined, seen: ['a', 1], left: 'a', timedOut: 'the queue stayed empty for 5 ms' });
  });
});

describe('BlockingOnHubError', () => {
  it('is what every blocking call throws on the hub: a GreenletError with its own code, built in one place', async () => {
    const started = spawn(() => sleep(1000));
    await runAsync(() => undefined); // queued after it, so it has started and parks: a blocking kill would have to wait
    const calls: [string, () => unknown][] = [
      ['sleep(1)', () => sleep(1)],
      ['Event.wait()', () => new Event().wait()],
      ['wait()', () => wait(Promise.resolve(1))],
      ['Greenlet.kill()', () => started.kill()],
      ['killall()', () => killall([started])],
    ];
    for (const [operation, call] of calls) {
      let error: unknown;
      try {
        call();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BlockingOnHubError);
      expect(error).toBeInstanceOf(GreenletError);
      expect((error as BlockingOnHubError).code).toBe('GREENLOOP_ERR_BLOCKING_ON_HUB');
      expect((error as BlockingOnHubError).operation).toBe(operation);
      expect((error as Error).message).toMatch(
        /would block the event loop's own greenlet \(the hub\); call it inside a greenlet started with spawn\(\)/,
      );
    }
    started.kill(undefined, { block: false });
  });
});
