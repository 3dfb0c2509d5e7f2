// Cancellation with AbortSignal: every blocking call takes `signal` and throws
// Node's AbortError, like node:timers/promises; the listener lives only for the call.
import { getEventListeners } from 'node:events';
import { setTimeout as promiseSleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  AbortError,
  AsyncResult,
  BoundedSemaphore,
  Channel,
  Event,
  Greenlet,
  Group,
  idle,
  iwait,
  JoinableQueue,
  joinall,
  Lock,
  Pool,
  PriorityQueue,
  Queue,
  RLock,
  runAsync,
  Semaphore,
  sleep,
  spawn,
  Timeout,
  wait,
  withTimeout,
} from '../lib/index.js';

/** What node:timers/promises throws for `signal`, to compare the shape with. */
async function nodeAbortError(reason?: unknown): Promise<any> {
  const c = new AbortController();
  const p = promiseSleep(60_000, undefined, { signal: c.signal }).catch((e: unknown) => e);
  c.abort(reason);
  return p;
}

describe('the AbortError', () => {
  it("has the shape of Node's own (name, code, message, cause)", async () => {
    const reason = new Error('user gave up');
    const node = await nodeAbortError(reason);
    const c = new AbortController();
    const ours = await runAsync(() => {
      spawn(() => c.abort(reason));
      try {
        sleep(60_000, { signal: c.signal });
        return 'slept (wrong)';
      } catch (e) {
        return e;
      }
    });
    expect(ours).toBeInstanceOf(AbortError);
    expect(ours).toBeInstanceOf(Error);
    for (const key of ['name', 'code', 'message', 'cause'] as const) expect((ours as any)[key]).toBe(node[key]);
    expect((ours as AbortError).code).toBe('ABORT_ERR');
  });
});

describe('sleep() and idle() with a signal', () => {
  it('an already aborted signal throws before parking, also sleep(0) and idle()', async () => {
    const signal = AbortSignal.abort('early');
    const results = await runAsync(() =>
      [() => sleep(10, { signal }), () => sleep(0, { signal }), () => idle({ signal })].map((f) => {
        try {
          f();
          return 'returned';
        } catch (e) {
          return [(e as Error).name, (e as Error).cause];
        }
      }),
    );
    expect(results).toEqual([
      ['AbortError', 'early'],
      ['AbortError', 'early'],
      ['AbortError', 'early'],
    ]);
  });

  it('AbortSignal.timeout() ends a long sleep, and an unaborted signal changes nothing', async () => {
    const outcome = await runAsync(() => {
      sleep(5, { signal: new AbortController().signal });
      try {
        sleep(60_000, { signal: AbortSignal.timeout(10) });
        return 'slept (wrong)';
      } catch (e) {
        return (e as Error & { cause: Error }).cause.name;
      }
    });
    expect(outcome).toBe('TimeoutError');
  });

  it('removes its listener after each call: many calls on one long-lived signal leave none', async () => {
    const c = new AbortController();
    const counts = await runAsync(() => {
      const during: number[] = [];
      spawn(() => during.push(getEventListeners(c.signal, 'abort').length));
      sleep(1, { signal: c.signal });
      for (let i = 0; i < 200; i++) sleep(i % 2, { signal: c.signal });
      for (let i = 0; i < 50; i++) idle({ signal: c.signal });
      return { during, after: getEventListeners(c.signal, 'abort').length };
    });
    expect(counts).toEqual({ during: [1], after: 0 });
  });

  it('an abort while the greenlet runs is raised at its next park inside the call, and dropped after it', async () => {
    const c = new AbortController();
    const outcome = await runAsync(() => {
      sleep(1, { signal: c.signal });
      c.abort(); // nobody is inside a call with it now
      sleep(1); // so this sleep is not interrupted
      return 'fine';
    });
    expect(outcome).toBe('fine');
  });

  it('rejects a signal that is not one, naming it', async () => {
    await expect(runAsync(() => sleep(1, { signal: 'stop' as any }))).rejects.toThrow(
      'options.signal must be an AbortSignal or undefined, got string "stop"',
    );
    await expect(runAsync(() => sleep(1, 5 as any))).rejects.toThrow('options must be an object, got number 5');
  });
});

interface SignalCase {
  /** Sets up a primitive; park(signal) blocks on it until aborted; after() checks it still works. */
  make(): { park(signal: AbortSignal): unknown; after(): void };
}

const never = new Promise(() => {});

const signalCases: Record<string, SignalCase> = {
  'sleep()': { make: () => ({ park: (signal) => sleep(60_000, { signal }), after: () => sleep(1) }) },
  'idle()': {
    make: () => ({
      park: (signal) => {
        for (;;) idle({ signal });
      },
      after: () => idle(),
    }),
  },
  'wait(promise)': {
    make: () => ({ park: (signal) => wait(never, { signal }), after: () => expect(wait(Promise.resolve(3))).toBe(3) }),
  },
  'wait(objects)': {
    make: () => {
      const e = new Event();
      return { park: (signal) => wait([e], { signal }), after: () => (e.set(), expect(wait([e])).toEqual([e])) };
    },
  },
  'iwait()': {
    make: () => {
      const e = new Event();
      return {
        park: (signal) => [...iwait([e], { signal })],
        after: () => (e.set(), expect([...iwait([e])]).toEqual([e])),
      };
    },
  },
  'Event.wait()': {
    make: () => {
      const e = new Event();
      return {
        park: (signal) => e.wait({ signal }),
        after: () => {
          expect(e.waiting).toBe(0);
          e.set();
          expect(e.wait()).toBe(true);
        },
      };
    },
  },
  'AsyncResult.get()': {
    make: () => {
      const r = new AsyncResult<number>();
      return { park: (signal) => r.get({ signal }), after: () => (r.set(5), expect(r.get()).toBe(5)) };
    },
  },
  'AsyncResult.wait()': {
    make: () => {
      const r = new AsyncResult<number>();
      return {
        park: (signal) => r.wait({ signal, timeout: 60_000 }),
        after: () => (r.set(5), expect(r.wait(0)).toBe(true)),
      };
    },
  },
  'Semaphore.acquire()': {
    make: () => {
      const s = new Semaphore(0);
      return {
        park: (signal) => s.acquire({ signal }),
        after: () => {
          s.release(); // not handed to the aborted greenlet
          expect(s.acquire({ blocking: false })).toBe(true);
        },
      };
    },
  },
  'BoundedSemaphore.acquire()': {
    make: () => {
      const s = new BoundedSemaphore(1);
      s.acquire();
      return { park: (signal) => s.acquire({ signal }), after: () => (s.release(), expect(s.acquire()).toBe(true)) };
    },
  },
  'Lock.acquire()': {
    make: () => {
      const l = new Lock();
      l.acquire();
      return { park: (signal) => l.acquire({ signal }), after: () => (l.release(), expect(l.acquire()).toBe(true)) };
    },
  },
  'RLock.acquire()': {
    make: () => {
      const l = new RLock();
      const holder = spawn(() => l.withLock(() => sleep(60_000)));
      return {
        park: (signal) => l.acquire({ signal }),
        after: () => {
          holder.kill();
          expect(l.acquire()).toBe(true);
        },
      };
    },
  },
  'Queue.get()': {
    make: () => {
      const q = new Queue<number>();
      return {
        park: (signal) => q.get({ signal }),
        after: () => (expect(q.getters).toBe(0), q.put(1), expect(q.get()).toBe(1)),
      };
    },
  },
  'Queue.put() (full)': {
    make: () => {
      const q = new Queue<number>(1);
      q.put(0);
      return {
        park: (signal) => q.put(1, { signal }),
        after: () => {
          expect(q.putters).toBe(0);
          expect(q.get()).toBe(0);
          expect(q.qsize()).toBe(0); // the aborted put did not land
        },
      };
    },
  },
  'Queue.peek({ block })': {
    make: () => {
      const q = new Queue<number>();
      return {
        park: (signal) => q.peek({ block: true, signal }),
        after: () => (q.put(7), expect(q.peek({ block: true })).toBe(7)),
      };
    },
  },
  'PriorityQueue.get()': {
    make: () => {
      const q = new PriorityQueue<number>();
      return { park: (signal) => q.get({ signal }), after: () => expect(q.getters).toBe(0) };
    },
  },
  'JoinableQueue.join()': {
    make: () => {
      const q = new JoinableQueue<number>();
      q.put(1);
      return {
        park: (signal) => q.join({ signal }),
        after: () => (q.get(), q.taskDone(), expect(q.join()).toBe(true)),
      };
    },
  },
  'Channel.get()': {
    make: () => {
      const c = new Channel<number>();
      return { park: (signal) => c.get({ signal }), after: () => expect(c.getters).toBe(0) };
    },
  },
  'Greenlet.join()': {
    make: () => {
      const target = spawn(() => sleep(60_000));
      return {
        park: (signal) => target.join({ signal }),
        after: () => (expect(target.dead).toBe(false), target.kill()),
      };
    },
  },
  'Greenlet.get()': {
    make: () => {
      const target = spawn(() => sleep(60_000));
      return { park: (signal) => target.get({ signal }), after: () => target.kill() };
    },
  },
  'joinall()': {
    make: () => {
      const target = spawn(() => sleep(60_000));
      return { park: (signal) => joinall([target], { signal }), after: () => target.kill() };
    },
  },
  'Group.join()': {
    make: () => {
      const group = new Group();
      group.spawn(() => sleep(60_000));
      return { park: (signal) => group.join({ signal }), after: () => group.kill() };
    },
  },
  'Pool.add() (full)': {
    make: () => {
      const pool = new Pool(1);
      pool.spawn(() => sleep(60_000));
      return {
        park: (signal) => pool.add(new Greenlet(() => 0), { signal }),
        after: () => {
          expect(pool.size).toBe(1);
          pool.kill();
          expect(pool.freeCount()).toBe(1);
        },
      };
    },
  },
  'Pool.waitAvailable()': {
    make: () => {
      const pool = new Pool(1);
      pool.spawn(() => sleep(60_000));
      return {
        park: (signal) => pool.waitAvailable({ signal }),
        after: () => (pool.kill(), expect(pool.waitAvailable()).toBe(1)),
      };
    },
  },
  'withTimeout()': {
    make: () => ({ park: (signal) => withTimeout(60_000, () => sleep(60_000, { signal })), after: () => sleep(1) }),
  },
  'Timeout (signal option)': {
    make: () => ({
      park: (signal) => new Timeout(60_000, undefined, { signal }).run(() => sleep(60_000)),
      after: () => sleep(1),
    }),
  },
};

describe('every blocking call takes a signal', () => {
  for (const [name, c] of Object.entries(signalCases)) {
    it(`${name}: an abort while parked throws AbortError with the reason as cause, leaves no listener, and the primitive works after`, async () => {
      const outcome = await runAsync(() => {
        const { park, after } = c.make();
        const controller = new AbortController();
        const reason = new Error(`stop ${name}`);
        const parked = spawn(() => {
          try {
            park(controller.signal);
            return 'returned (wrong)';
          } catch (e) {
            return e;
          }
        });
        sleep(5);
        const listenersWhileParked = getEventListeners(controller.signal, 'abort').length;
        controller.abort(reason);
        const error = parked.get() as AbortError;
        after();
        return {
          listenersWhileParked,
          listenersAfter: getEventListeners(controller.signal, 'abort').length,
          name: error.name,
          code: error.code,
          causeIsReason: error.cause === reason,
        };
      });
      expect(outcome).toEqual({
        listenersWhileParked: 1,
        listenersAfter: 0,
        name: 'AbortError',
        code: 'ABORT_ERR',
        causeIsReason: true,
      });
    });

    it(`${name}: an already aborted signal throws before parking`, async () => {
      const outcome = await runAsync(() => {
        const { park } = c.make();
        const started = Date.now();
        try {
          park(AbortSignal.abort('early'));
          return 'returned (wrong)';
        } catch (e) {
          return { name: (e as Error).name, cause: (e as Error).cause, waitedLong: Date.now() - started > 30_000 };
        }
      });
      expect(outcome).toEqual({ name: 'AbortError', cause: 'early', waitedLong: false });
    });
  }

  it('one long-lived signal serves many calls of every kind without leaking listeners', async () => {
    const controller = new AbortController();
    const signal = controller.signal;
    const left = await runAsync(() => {
      const e = new Event();
      const q = new Queue<number>();
      const lock = new Lock();
      for (let i = 0; i < 100; i++) {
        spawn(() => (q.put(i), e.set()));
        q.get({ signal });
        e.wait({ signal });
        e.clear();
        lock.acquire({ signal });
        lock.release();
        wait(Promise.resolve(i), { signal });
        spawn(() => i).join({ signal });
        sleep(0, { signal });
      }
      return getEventListeners(signal, 'abort').length;
    });
    expect(left).toBe(0);
  });
});

describe('lib/hub/abort.ts, the helper green IO shares', () => {
  it('getWithSignal() returns the value, TIMED_OUT after ms, or throws AbortError; checkSignal() names bad values', async () => {
    const { getWithSignal, checkSignal, withSignal } = await import('../lib/hub/abort.js');
    const { TIMED_OUT, Waiter } = await import('../lib/hub/waiter.js');
    const out = await runAsync(() => {
      const delivered = new Waiter<number>();
      spawn(() => delivered.switch(7));
      const value = getWithSignal(delivered, null, new AbortController().signal);
      const timedOut = getWithSignal(new Waiter<number>(), 5, new AbortController().signal) === TIMED_OUT;
      const c = new AbortController();
      spawn(() => c.abort('io cancelled'));
      let aborted: unknown;
      try {
        getWithSignal(new Waiter<number>(), null, c.signal);
      } catch (e) {
        aborted = (e as Error).cause;
      }
      const plain = withSignal(undefined, () => 'no signal');
      return { value, timedOut, aborted, plain, listeners: getEventListeners(c.signal, 'abort').length };
    });
    expect(out).toEqual({ value: 7, timedOut: true, aborted: 'io cancelled', plain: 'no signal', listeners: 0 });
    expect(checkSignal('signal', undefined)).toBe(undefined);
    expect(() => checkSignal('options.signal', {})).toThrow(
      'options.signal must be an AbortSignal or undefined, got an instance of Object',
    );
  });
});
