// The hub's scheduling: one FIFO ready queue, run from one callback per loop
// turn, with parked greenlets handing control straight to the next ready one.
import { describe, expect, it } from 'vitest';
import {
  AsyncResult,
  BoundedSemaphore,
  Channel,
  Event,
  GreenletError,
  Group,
  JoinableQueue,
  Lock,
  Pool,
  Queue,
  RLock,
  Semaphore,
  Timeout,
  Waiter,
  coreStats,
  getHub,
  idle,
  joinall,
  killall,
  runAsync,
  sleep,
  spawn,
  wait,
} from '../lib/index.js';
import { lastJson, runFixture } from './helpers.js';

describe('the ready queue', () => {
  it('greenlets resume in the order their wake-ups came (FIFO), whatever order they parked in', async () => {
    const waiters = [new Waiter<number>(), new Waiter<number>(), new Waiter<number>()];
    const order: number[] = [];
    const gs = waiters.map((w, i) => spawn(() => order.push(i * 10 + w.get())));
    await runAsync(() => sleep(0));
    setTimeout(() => {
      waiters[2]!.switch(1);
      waiters[0]!.switch(2);
      waiters[1]!.switch(3);
    }, 1);
    await Promise.all(gs.map((g) => g.promise()));
    expect(order).toEqual([21, 2, 13]);
  });

  it('wake-ups from several callbacks of one loop turn are run together, after those callbacks', async () => {
    const w1 = new Waiter<string>();
    const w2 = new Waiter<string>();
    const log: string[] = [];
    const gs = [spawn(() => log.push(w1.get())), spawn(() => log.push(w2.get()))];
    await runAsync(() => sleep(0));
    setImmediate(() => {
      w1.switch('g1');
      log.push('cb1');
    });
    setImmediate(() => {
      w2.switch('g2');
      log.push('cb2');
    });
    await Promise.all(gs.map((g) => g.promise()));
    expect(log).toEqual(['cb1', 'cb2', 'g1', 'g2']);
  });

  it('a greenlet that parks hands control straight to the next ready one (about one switch per wake-up)', async () => {
    const hub = getHub();
    const saved = hub.switchInterval;
    hub.switchInterval = 10_000; // one pass, however loaded the machine
    try {
      const n = 20;
      const go = new Event();
      const again = new Event();
      const gs = Array.from({ length: n }, () =>
        spawn(() => {
          go.wait();
          again.wait(); // park again: hand off to the next woken greenlet
        }),
      );
      await runAsync(() => sleep(0));
      const before = coreStats().switches;
      await new Promise<void>((resolve) => {
        setImmediate(() => {
          go.set();
          setImmediate(resolve);
        });
      });
      const used = coreStats().switches - before;
      // hub -> g1 -> g2 -> ... -> g20 -> hub: n + 1 (bouncing through the hub would take 2n).
      expect(used).toBeLessThanOrEqual(n + 1);
      expect(used).toBeGreaterThanOrEqual(n);
      again.set();
      await Promise.all(gs.map((g) => g.promise()));
    } finally {
      hub.switchInterval = saved;
    }
  });

  it('a greenlet that keeps calling sleep(0) does not starve timers and IO', async () => {
    let stop = false;
    const spins = await runAsync(() => {
      // Set here, not before runAsync(): that timer could fire before this greenlet first ran.
      setTimeout(() => {
        stop = true;
      }, 5);
      let n = 0;
      while (!stop) {
        sleep(0);
        n++;
      }
      return n;
    });
    expect(spins).toBeGreaterThan(0);
    expect(stop).toBe(true);
  });

  it('readyCount and parkedCount describe the hub', async () => {
    const ev = new Event();
    const g = spawn(() => ev.wait());
    expect(getHub().readyCount).toBeGreaterThanOrEqual(1);
    await runAsync(() => sleep(0));
    expect(getHub().parkedCount).toBeGreaterThanOrEqual(1);
    ev.set();
    await g.promise();
  });
});

describe('blocking on the hub', () => {
  const lock = new Lock();
  lock.acquire();
  const rlock = new RLock();
  const fullQueue = new Queue(1);
  fullQueue.put(0);
  const joinable = new JoinableQueue();
  joinable.put(1);
  const parked = spawn(() => new Event().wait());
  const pool = new Pool(1);
  pool.spawnNowait(() => new Event().wait());
  const group = new Group([spawn(() => new Event().wait())]);
  const calls: Record<string, () => unknown> = {
    'sleep(0)': () => sleep(0),
    'sleep(10)': () => sleep(10),
    'idle()': () => idle(),
    'wait(promise)': () => wait(Promise.resolve(1)),
    'Waiter.get()': () => new Waiter().get(),
    'Event.wait()': () => new Event().wait(),
    'AsyncResult.get()': () => new AsyncResult().get(),
    'Semaphore.acquire()': () => new Semaphore(0).acquire(),
    'BoundedSemaphore.acquire()': () => new BoundedSemaphore(0).acquire(),
    'Lock.acquire()': () => lock.acquire(),
    'Queue.get()': () => new Queue().get(),
    'Queue.put() when full': () => fullQueue.put(1),
    'Channel.put()': () => new Channel().put(1),
    'JoinableQueue.join()': () => joinable.join(),
    'Greenlet.join()': () => parked.join(),
    'Greenlet.get()': () => parked.get(),
    'Greenlet.kill()': () => parked.kill(),
    'joinall()': () => joinall([parked]),
    'killall()': () => killall([parked]),
    'Pool.spawn() when full': () => pool.spawn(() => 0),
    'Group.join()': () => group.join(),
    'Timeout.start()': () => new Timeout(10).start(),
  };
  for (const [name, call] of Object.entries(calls)) {
    it(`${name} throws GreenletError on the hub`, async () => {
      await runAsync(() => sleep(0)); // the greenlets above have parked
      expect(call).toThrow(GreenletError);
    });
  }
  it('the error says to use spawn()', () => {
    expect(() => new Event().wait()).toThrow(
      "Event.wait() would block the event loop's own greenlet (the hub); call it inside a greenlet started with spawn()",
    );
    expect(rlock.acquire({ blocking: false })).toBe(true); // non-blocking calls are fine on the hub
    rlock.release();
  });
  it('nothing was left blocked by those calls', async () => {
    expect(parked.dead).toBe(false);
    parked.kill(undefined, { block: false });
    pool.kill({ block: false });
    group.kill({ block: false });
    await runAsync(() => sleep(1));
    expect(parked.dead).toBe(true);
  });
});

describe('Workers', () => {
  it('each Worker runs a hub of its own', () => {
    const run = runFixture('hub-worker.js');
    expect(run.status, run.stderr).toBe(0);
    expect(lastJson(run)).toEqual({
      worker: { got: ['w3', 'w2', 'w1'], hubIsRoot: true },
      workerExit: 0,
      main: ['m3', 'm2', 'm1'],
      sameHub: true,
    });
  });
});
