import { describe, expect, it } from 'vitest';
import {
  Event,
  Greenlet,
  GreenletError,
  getHub,
  Group,
  Pool,
  PoolFull,
  Full,
  runAsync,
  sleep,
  spawn,
} from '../lib/index.js';

describe('Group', () => {
  it('tracks members until they finish; join() waits for all', async () => {
    const group = new Group();
    const a = group.spawn(() => {
      sleep(5);
      return 'a';
    });
    const b = group.spawn((x: string) => x, 'b');
    expect(group.size).toBe(2);
    expect(group.has(a)).toBe(true);
    expect([...group]).toEqual([a, b]);
    expect(await runAsync(() => group.join())).toBe(true);
    expect(group.size).toBe(0);
    expect([a.value, b.value]).toEqual(['a', 'b']);
  });

  it('add / discard; a finished greenlet leaves at once', async () => {
    const group = new Group();
    const g = new Greenlet(() => 1);
    group.add(g);
    group.discard(g);
    expect(group.size).toBe(0);
    const done = spawn(() => 2);
    await done.promise();
    group.add(done);
    expect(group.size).toBe(0);
    expect(() => group.add({} as never)).toThrow(TypeError);
  });

  it('join({ timeout }) returns false while members run', async () => {
    const group = new Group();
    const ev = new Event();
    group.spawn(() => ev.wait());
    expect(await runAsync(() => group.join({ timeout: 1 }))).toBe(false);
    ev.set();
    expect(await runAsync(() => group.join())).toBe(true);
  });

  it('join({ raiseError }) waits for all, then throws the first failure (membership alone does not handle it)', async () => {
    const reported: unknown[] = [];
    getHub().unjoinedErrorHandler = (e) => reported.push(e);
    try {
      const group = new Group();
      const err = new Error('member failed');
      const slow = group.spawn(() => sleep(5));
      group.spawn(() => {
        throw err;
      });
      const thrown = await runAsync(() => {
        try {
          group.join({ raiseError: true });
        } catch (e) {
          return e;
        }
        return null;
      });
      expect(thrown).toBe(err);
      expect(slow.dead).toBe(true);
      expect(reported).toEqual([err]); // it failed before anyone joined it: reported, as gevent does
    } finally {
      getHub().unjoinedErrorHandler = null;
    }
  });

  it('kill() kills every member', async () => {
    const group = new Group();
    const gs = [group.spawn(() => sleep(60_000)), group.spawn(() => sleep(60_000))];
    await runAsync(() => {
      sleep(0);
      group.kill();
    });
    expect(gs.every((g) => g.dead)).toBe(true);
    expect(group.size).toBe(0);
  });

  /** Calls that finish in the reverse of input order, each released by the one after it. */
  function reversed(): (n: number) => number {
    const done = [new Event(), new Event(), new Event(), new Event()];
    done[3]!.set();
    return (n: number) => {
      done[n]!.wait(); // n waits for n + 1: 3 finishes first, then 2, then 1
      done[n - 1]!.set();
      return n * 10;
    };
  }

  it('map() returns results in input order, running the calls concurrently', async () => {
    const group = new Group();
    const fn = reversed();
    const finished: number[] = [];
    const r = await runAsync(() =>
      group.map(
        (n: number) => {
          const v = fn(n);
          finished.push(n);
          return v;
        },
        [1, 2, 3],
      ),
    );
    expect(r).toEqual([10, 20, 30]);
    expect(finished).toEqual([3, 2, 1]); // only possible if all three ran at once
  });

  it('imapUnordered() yields in completion order; imap() rethrows a failure at its position', async () => {
    const group = new Group();
    const r = await runAsync(() => [...group.imapUnordered(reversed(), [1, 2, 3])]);
    expect(r).toEqual([30, 20, 10]);
    const seen: number[] = [];
    const err = await runAsync(() => {
      try {
        for (const x of group.imap(
          (n: number) => {
            if (n === 2) throw new Error('two');
            return n;
          },
          [1, 2, 3],
        )) {
          seen.push(x);
        }
      } catch (e) {
        return e;
      }
      return null;
    });
    expect((err as Error).message).toBe('two');
    expect(seen).toEqual([1]);
  });

  it('breaking out of imap() kills the calls still running', async () => {
    const group = new Group();
    const r = await runAsync(() => {
      for (const x of group.imap(
        (n: number) => {
          if (n > 1) sleep(60_000);
          return n;
        },
        [1, 2, 3],
      )) {
        if (x === 1) break;
      }
      sleep(1);
      return group.size;
    });
    expect(r).toBe(0);
  });
});

describe('Pool', () => {
  it('bounds concurrency: spawn() parks while the pool is full', async () => {
    const pool = new Pool(2);
    let running = 0;
    let peak = 0;
    const r = await runAsync(() => {
      for (let i = 0; i < 6; i++) {
        pool.spawn(() => {
          running++;
          peak = Math.max(peak, running);
          sleep(2);
          running--;
        });
      }
      pool.join();
      return pool.freeCount();
    });
    expect(peak).toBe(2);
    expect(r).toBe(2);
  });

  it('spawnNowait and add({ blocking: false }) throw PoolFull when full', async () => {
    const pool = new Pool(1);
    const g = pool.spawnNowait(() => sleep(10));
    expect(pool.full()).toBe(true);
    expect(() => pool.spawnNowait(() => 0)).toThrow(PoolFull);
    expect(() => pool.add(new Greenlet(() => 0), { blocking: false })).toThrow(PoolFull);
    expect(new PoolFull()).toBeInstanceOf(Full);
    expect(() => pool.spawn(() => 0)).toThrow(GreenletError); // would block on the hub
    await g.promise();
    await runAsync(() => sleep(1));
    expect(pool.freeCount()).toBe(1);
    expect(await runAsync(() => pool.waitAvailable(5))).toBe(1);
  });

  it('map() over a pool keeps at most size calls running', async () => {
    const pool = new Pool(3);
    let running = 0;
    let peak = 0;
    const r = await runAsync(() =>
      pool.map(
        (n: number) => {
          running++;
          peak = Math.max(peak, running);
          sleep(1);
          running--;
          return n + 1;
        },
        [0, 1, 2, 3, 4, 5, 6, 7],
      ),
    );
    expect(r).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(peak).toBe(3);
  });

  it('checks its size', () => {
    expect(() => new Pool(0)).toThrow(TypeError);
    expect(new Pool(Infinity).freeCount()).toBe(Infinity);
  });
});
