// Cancellation while parked: a kill and a Timeout interrupt every blocking
// primitive at its park point, and leave the primitive usable (no stale
// waiter that would swallow a later wake-up).
import { describe, expect, it } from 'vitest';
import {
  AsyncResult,
  BoundedSemaphore,
  Channel,
  Event,
  GreenletExit,
  Group,
  JoinableQueue,
  LifoQueue,
  Lock,
  Pool,
  PriorityQueue,
  Queue,
  RLock,
  Semaphore,
  Timeout,
  TimeoutError,
  Waiter,
  getHub,
  idle,
  joinall,
  runAsync,
  sleep,
  spawn,
  wait,
} from '../lib/index.js';

interface Case {
  /** Sets up a primitive; park() blocks forever on it; after() checks it still works. */
  make(): { park(): unknown; after(): void };
}

const never = new Promise(() => {});

function busy(ms: number): void {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    // keep the thread busy: no callback can run meanwhile
  }
}

const cases: Record<string, Case> = {
  'sleep()': { make: () => ({ park: () => sleep(60_000), after: () => sleep(1) }) },
  'Waiter.get()': {
    make: () => {
      const w = new Waiter();
      return { park: () => w.get(), after: () => expect(w.ready).toBe(true) };
    },
  },
  'wait(promise)': { make: () => ({ park: () => wait(never), after: () => expect(wait(Promise.resolve(3))).toBe(3) }) },
  'Event.wait()': {
    make: () => {
      const e = new Event();
      return {
        park: () => e.wait(),
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
      return {
        park: () => r.get(),
        after: () => {
          spawn(() => r.set(5));
          expect(r.get()).toBe(5);
        },
      };
    },
  },
  'Semaphore.acquire()': {
    make: () => {
      const s = new Semaphore(0);
      return {
        park: () => s.acquire(),
        after: () => {
          s.release(); // must not be handed to the interrupted greenlet
          expect(s.counter).toBe(1);
          expect(s.acquire({ blocking: false })).toBe(true);
        },
      };
    },
  },
  'BoundedSemaphore.acquire()': {
    make: () => {
      const s = new BoundedSemaphore(1);
      s.acquire();
      return {
        park: () => s.acquire(),
        after: () => {
          s.release();
          expect(s.counter).toBe(1);
        },
      };
    },
  },
  'Lock.acquire()': {
    make: () => {
      const l = new Lock();
      l.acquire();
      return {
        park: () => l.acquire(),
        after: () => {
          l.release();
          expect(l.locked()).toBe(false);
          expect(l.acquire({ blocking: false })).toBe(true);
        },
      };
    },
  },
  'RLock.acquire()': {
    make: () => {
      const l = new RLock();
      const holder = spawn(() => {
        l.acquire();
        sleep(60_000);
      });
      return {
        park: () => l.acquire(),
        after: () => {
          holder.kill();
          expect(l.locked()).toBe(true); // the holder never released it
        },
      };
    },
  },
  'Queue.get()': {
    make: () => {
      const q = new Queue<number>();
      return {
        park: () => q.get(),
        after: () => {
          expect(q.getters).toBe(0);
          q.put(1); // must stay in the queue, not go to the interrupted getter
          expect(q.qsize()).toBe(1);
          expect(q.get()).toBe(1);
        },
      };
    },
  },
  'Queue.put() (full)': {
    make: () => {
      const q = new Queue<number>(1);
      q.put(0);
      return {
        park: () => q.put(1),
        after: () => {
          expect(q.putters).toBe(0);
          expect(q.get()).toBe(0);
          expect(q.qsize()).toBe(0); // the interrupted put did not land
        },
      };
    },
  },
  'LifoQueue.get()': {
    make: () => {
      const q = new LifoQueue<number>();
      return { park: () => q.get(), after: () => expect(q.getters).toBe(0) };
    },
  },
  'PriorityQueue.get()': {
    make: () => {
      const q = new PriorityQueue<number>();
      return { park: () => q.get(), after: () => expect(q.getters).toBe(0) };
    },
  },
  'JoinableQueue.join()': {
    make: () => {
      const q = new JoinableQueue<number>();
      q.put(1);
      return {
        park: () => q.join(),
        after: () => {
          q.get();
          q.taskDone();
          expect(q.join()).toBe(true);
        },
      };
    },
  },
  'Channel.put()': {
    make: () => {
      const c = new Channel<number>();
      return {
        park: () => c.put(1),
        after: () => {
          expect(c.putters).toBe(0);
          expect(() => c.getNowait()).toThrow();
        },
      };
    },
  },
  'Channel.get()': {
    make: () => {
      const c = new Channel<number>();
      return { park: () => c.get(), after: () => expect(c.getters).toBe(0) };
    },
  },
  'Greenlet.join()': {
    make: () => {
      const target = spawn(() => sleep(60_000));
      return {
        park: () => target.join(),
        after: () => {
          target.kill();
          expect(target.dead).toBe(true);
        },
      };
    },
  },
  'joinall()': {
    make: () => {
      const target = spawn(() => sleep(60_000));
      return { park: () => joinall([target]), after: () => target.kill() };
    },
  },
  'Group.join()': {
    make: () => {
      const group = new Group();
      group.spawn(() => sleep(60_000));
      return { park: () => group.join(), after: () => group.kill() };
    },
  },
  'Pool.spawn() (full)': {
    make: () => {
      const pool = new Pool(1);
      pool.spawn(() => sleep(60_000));
      return {
        park: () => pool.spawn(() => 0),
        after: () => {
          expect(pool.size).toBe(1);
          pool.kill();
          expect(pool.freeCount()).toBe(1);
        },
      };
    },
  },
};

/** Runs a greenlet parked in `park`, interrupts it with `interrupt`, then checks `after` in a greenlet. */
async function interruptCase(c: Case, interrupt: 'kill' | 'timeout'): Promise<unknown> {
  const outcome = await runAsync(() => {
    const { park, after } = c.make();
    let reachedFinally = false;
    const g = spawn(() => {
      const t = interrupt === 'timeout' ? new Timeout(5).start() : null;
      try {
        park();
        return 'returned (wrong)';
      } catch (e) {
        if (interrupt === 'timeout' && e === t!.error) return 'timeout';
        throw e;
      } finally {
        t?.cancel();
        reachedFinally = true;
      }
    });
    sleep(0); // g parks
    sleep(0);
    if (interrupt === 'kill') g.kill();
    else g.join();
    after();
    return {
      value: (g.value as unknown) instanceof GreenletExit ? 'GreenletExit' : g.value,
      reachedFinally,
      exception: g.exception,
    };
  });
  return outcome;
}

describe('interrupting a parked greenlet', () => {
  for (const [name, c] of Object.entries(cases)) {
    it(`kill() interrupts ${name}`, async () => {
      expect(await interruptCase(c, 'kill')).toEqual({
        value: 'GreenletExit',
        reachedFinally: true,
        exception: undefined,
      });
    });
    it(`a Timeout interrupts ${name}`, async () => {
      expect(await interruptCase(c, 'timeout')).toEqual({
        value: 'timeout',
        reachedFinally: true,
        exception: undefined,
      });
    });
  }

  it('idle() is interrupted too', async () => {
    // idle() wakes on the next loop turn by itself, so only a kill that lands first can interrupt it:
    // all in one pass, with a budget no stall uses up (a pass out of time ends at sleep(0), and the
    // next loop turn woke g before the kill; seen under load, threads backend).
    const hub = getHub();
    const interval = hub.switchInterval;
    hub.switchInterval = 60_000;
    try {
      const g = spawn(() => idle());
      await runAsync(() => {
        sleep(0);
        g.kill();
      });
      expect(g.value).toBeInstanceOf(GreenletExit);
    } finally {
      hub.switchInterval = interval;
    }
  });
});

describe('Timeout', () => {
  it('raises TimeoutError by default, or the given error, in the greenlet that started it', async () => {
    const r = await runAsync(() => {
      const t = new Timeout(5).start();
      let caught: unknown;
      try {
        sleep(1000);
      } catch (e) {
        caught = e;
      }
      const custom = new Error('custom');
      const t2 = new Timeout(5, custom).start();
      let caught2: unknown;
      try {
        sleep(1000);
      } catch (e) {
        caught2 = e;
      }
      return { caught, same: caught === t.error, expired: t.expired, pending: t.pending, caught2, t2: t2.error };
    });
    expect(r.caught).toBeInstanceOf(TimeoutError);
    expect((r.caught as TimeoutError).code).toBe('GREENLOOP_ERR_TIMEOUT');
    expect((r.caught as TimeoutError).ms).toBe(5);
    expect(r.same).toBe(true);
    expect(r.expired).toBe(true);
    expect(r.pending).toBe(false);
    expect((r.caught2 as Error).message).toBe('custom');
    expect(r.caught2).toBe(r.t2);
  });

  it('a Timeout that expires while the greenlet is not parked takes effect at its next park', async () => {
    getHub().switchInterval = 5;
    const log: string[] = [];
    const r = await runAsync(() => {
      const t = new Timeout(1).start();
      try {
        busy(15);
        // The pass is out of time: we resume at the next one, and the timer
        // fires in between, while we are ready to run rather than parked.
        sleep(0);
        log.push('resumed from sleep(0)');
        sleep(0);
        log.push('not reached');
      } catch (e) {
        return e === t.error;
      }
      return false;
    });
    expect(r).toBe(true);
    expect(log).toEqual(['resumed from sleep(0)']);
  });

  it('expiring while ready (woken but not yet resumed) defers to the next park, and cancel() takes it back', async () => {
    // The order is forced rather than timed: a long switch interval keeps our
    // park's hand-off to the child inside one hub pass, so no timer can fire
    // before ev.set() however slow the machine is; the child then keeps the
    // thread past the pass's end, so the pass ends with us ready and the loop
    // runs the expired timer before resuming us.
    const hub = getHub();
    const interval = hub.switchInterval;
    hub.switchInterval = 200;
    try {
      const r = await runAsync(() => {
        const passEnd = Date.now() + 200; // the pass began before this line
        const ev = new Event();
        const t = new Timeout(5).start();
        spawn(() => {
          ev.set(); // wakes us: we are ready, no longer parked
          busy(passEnd + 5 - Date.now()); // past the Timeout's deadline and the pass's
        });
        const woke = ev.wait();
        expect(t.expired).toBe(true); // it fired while we were ready: its error is pending
        t.cancel(); // takes the pending error back
        sleep(1); // must not raise
        return woke;
      });
      expect(r).toBe(true);
    } finally {
      hub.switchInterval = interval;
    }
  });

  it('cancel() stops it; a cancelled Timeout never raises', async () => {
    const r = await runAsync(() => {
      const t = new Timeout(5).start();
      expect(t.pending).toBe(true);
      t.cancel();
      expect(t.pending).toBe(false);
      sleep(15);
      return 'ok';
    });
    expect(r).toBe('ok');
  });

  it('a Timeout of null never expires', async () => {
    const r = await runAsync(() => {
      const t = new Timeout(null).start();
      sleep(5);
      expect(t.pending).toBe(false);
      t.cancel();
      return t.ms;
    });
    expect(r).toBeNull();
  });

  it('nested timeouts raise their own errors', async () => {
    const r = await runAsync(() => {
      const outer = new Timeout(10).start();
      try {
        const inner = new Timeout(100).start();
        try {
          sleep(1000);
        } finally {
          inner.cancel();
        }
      } catch (e) {
        return e === outer.error ? 'outer' : 'other';
      } finally {
        outer.cancel();
      }
      return 'none';
    });
    expect(r).toBe('outer');
  });

  it('start() on the hub and a second start() throw GreenletError; `using` cancels it', async () => {
    expect(() => new Timeout(5).start()).toThrow(/hub/);
    const r = await runAsync(() => {
      const t = new Timeout(5).start();
      let second: unknown;
      try {
        t.start();
      } catch (e) {
        second = e;
      }
      t.cancel();
      {
        using u = Timeout.startNew(5);
        expect(u.pending).toBe(true);
      }
      sleep(15); // the disposed timeout must not fire
      return (second as Error).name;
    });
    expect(r).toBe('GreenletError');
  });
});
