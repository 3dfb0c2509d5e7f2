import { describe, expect, it } from 'vitest';
import { BoundedSemaphore, Lock, LockReleaseError, RLock, Semaphore, runAsync, sleep, spawn } from '../lib/index.js';

describe('Semaphore', () => {
  it('acquire() takes permits and parks when none is free; release() wakes a waiter', async () => {
    const s = new Semaphore(2);
    const log: string[] = [];
    const gs = ['a', 'b', 'c'].map((n) =>
      spawn(() => {
        s.acquire();
        log.push(`${n} in`);
        sleep(2);
        log.push(`${n} out`);
        s.release();
      }),
    );
    await Promise.all(gs.map((g) => g.promise()));
    expect(log.slice(0, 2)).toEqual(['a in', 'b in']);
    expect(log.indexOf('c in')).toBeGreaterThan(log.indexOf('a out'));
    expect(s.counter).toBe(2);
  });

  it('is fair: waiters get the permit in arrival order, and a later acquire() cannot overtake them', async () => {
    const s = new Semaphore(1);
    s.acquire(); // the hub holds it (non-blocking)
    const order: string[] = [];
    const gs = ['b', 'c', 'd'].map((n) =>
      spawn(() => {
        s.acquire();
        order.push(n);
        s.release();
      }),
    );
    const barged = await runAsync(() => {
      sleep(0); // b, c, d wait now
      s.release(); // handed to b
      return s.acquire({ blocking: false }); // must not take it from b
    });
    expect(barged).toBe(false);
    await Promise.all(gs.map((g) => g.promise()));
    expect(order).toEqual(['b', 'c', 'd']);
  });

  it('acquire({ blocking: false }) and acquire({ timeout }) return false when none is free', async () => {
    const s = new Semaphore(0);
    expect(s.acquire({ blocking: false })).toBe(false);
    expect(s.locked()).toBe(true);
    expect(await runAsync(() => s.acquire({ timeout: 5 }))).toBe(false);
    s.release();
    expect(s.acquire({ blocking: false })).toBe(true);
  });

  it('withLock() releases even when fn throws; `using` releases at the end of the block', async () => {
    const s = new Semaphore(1);
    expect(() =>
      s.withLock(() => {
        throw new Error('inside');
      }),
    ).toThrow('inside');
    expect(s.counter).toBe(1);
    expect(s.withLock(() => 5)).toBe(5);
    {
      s.acquire();
      using _held = s;
      expect(s.counter).toBe(0);
    }
    expect(s.counter).toBe(1);
    expect(() => new Semaphore(-1)).toThrow(TypeError);
  });
});

describe('BoundedSemaphore / Lock', () => {
  it('BoundedSemaphore refuses to be released more often than acquired', () => {
    const s = new BoundedSemaphore(2);
    s.acquire();
    s.release();
    expect(() => s.release()).toThrow(LockReleaseError);
    expect(s.counter).toBe(2);
  });

  it('Lock serialises greenlets and rejects an extra release', async () => {
    const lock = new Lock();
    let inside = 0;
    let overlap = false;
    const gs = Array.from({ length: 4 }, () =>
      spawn(() =>
        lock.withLock(() => {
          inside++;
          if (inside > 1) overlap = true;
          sleep(1);
          inside--;
        }),
      ),
    );
    await Promise.all(gs.map((g) => g.promise()));
    expect(overlap).toBe(false);
    expect(lock.locked()).toBe(false);
    expect(() => lock.release()).toThrow(LockReleaseError);
    expect(new LockReleaseError().code).toBe('GREENLOOP_ERR_LOCK_RELEASE');
  });
});

describe('RLock', () => {
  it('the holder may acquire it again and must release it as often', async () => {
    const l = new RLock();
    const r = await runAsync(() => {
      l.acquire();
      l.acquire();
      l.release();
      const stillHeld = l.locked();
      l.release();
      return { stillHeld, after: l.locked() };
    });
    expect(r).toEqual({ stillHeld: true, after: false });
  });

  it('another greenlet waits for it and may not release it', async () => {
    const l = new RLock();
    const log: string[] = [];
    const holder = spawn(() => {
      l.acquire();
      sleep(5);
      log.push('holder releases');
      l.release();
    });
    const other = spawn(() => {
      sleep(0);
      let err: unknown;
      try {
        l.release();
      } catch (e) {
        err = e;
      }
      l.acquire();
      log.push('other acquired');
      l.release();
      return err;
    });
    await holder.promise();
    expect(await other.promise()).toBeInstanceOf(LockReleaseError);
    expect(log).toEqual(['holder releases', 'other acquired']);
  });
});
