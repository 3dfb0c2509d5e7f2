import { describe, expect, it } from 'vitest';
import {
  Channel,
  Empty,
  Full,
  GreenletError,
  JoinableQueue,
  LifoQueue,
  PriorityQueue,
  Queue,
  StopIteration,
  runAsync,
  sleep,
  spawn,
} from '../lib/index.js';

describe('Queue', () => {
  it('get() parks until put(); items come out in FIFO order', async () => {
    const q = new Queue<number>();
    const g = spawn(() => [q.get(), q.get(), q.get()]);
    await runAsync(() => {
      sleep(0);
      q.put(1);
      q.put(2);
      q.put(3);
    });
    expect(await g.promise()).toEqual([1, 2, 3]);
  });

  it('waiting getters are served in the order they came', async () => {
    const q = new Queue<string>();
    const got: string[] = [];
    const gs = ['a', 'b', 'c'].map((n) => spawn(() => got.push(`${n}:${q.get()}`)));
    await runAsync(() => {
      sleep(0);
      expect(q.getters).toBe(3);
      for (const x of ['1', '2', '3']) q.put(x);
    });
    await Promise.all(gs.map((g) => g.promise()));
    expect(got).toEqual(['a:1', 'b:2', 'c:3']);
  });

  it('put() parks while full; waiting putters go in FIFO order', async () => {
    const q = new Queue<number>(1);
    q.put(0);
    expect(q.full()).toBe(true);
    const gs = [1, 2, 3].map((n) => spawn(() => q.put(n)));
    const got = await runAsync(() => {
      sleep(0);
      expect(q.putters).toBe(3);
      const out: number[] = [];
      for (let i = 0; i < 4; i++) out.push(q.get());
      return out;
    });
    expect(got).toEqual([0, 1, 2, 3]);
    await Promise.all(gs.map((g) => g.promise()));
    expect(q.empty()).toBe(true);
  });

  it('nowait variants and timeouts throw Empty / Full', async () => {
    const q = new Queue<number>(1);
    expect(() => q.getNowait()).toThrow(Empty);
    q.putNowait(1);
    expect(() => q.putNowait(2)).toThrow(Full);
    expect(() => q.put(2)).toThrow(GreenletError); // would block on the hub
    const r = await runAsync(() => {
      let full: unknown;
      try {
        q.put(2, { timeout: 5 });
      } catch (e) {
        full = e;
      }
      q.get();
      let empty: unknown;
      try {
        q.get({ timeout: 5 });
      } catch (e) {
        empty = e;
      }
      return { full, empty };
    });
    expect(r.full).toBeInstanceOf(Full);
    expect(r.empty).toBeInstanceOf(Empty);
    expect((r.empty as Empty).code).toBe('GREENLOOP_ERR_QUEUE_EMPTY');
  });

  it('iterating yields items until StopIteration', async () => {
    const q = new Queue<number | typeof StopIteration>();
    const g = spawn(() => [...q]);
    spawn(() => {
      q.put(1);
      sleep(1);
      q.put(2);
      q.put(StopIteration);
    });
    expect(await g.promise()).toEqual([1, 2]);
  });

  it('peek / qsize / empty; maxsize must be valid', () => {
    const q = new Queue<number>();
    expect(q.peek()).toBeUndefined();
    q.put(5);
    q.put(6);
    expect(q.peek()).toBe(5);
    expect(q.qsize()).toBe(2);
    expect(q.empty()).toBe(false);
    expect(() => new Queue(-1)).toThrow(TypeError);
    expect(() => new Queue(1.5)).toThrow(TypeError);
  });
});

describe('LifoQueue / PriorityQueue', () => {
  it('LifoQueue returns the newest item first', () => {
    const q = new LifoQueue<number>();
    [1, 2, 3].forEach((x) => q.put(x));
    expect([q.get(), q.get(), q.get()]).toEqual([3, 2, 1]);
  });

  it('PriorityQueue returns the smallest item first, by a comparator', () => {
    const q = new PriorityQueue<number>();
    [5, 1, 4, 2, 3, 0].forEach((x) => q.put(x));
    expect(Array.from({ length: 6 }, () => q.get())).toEqual([0, 1, 2, 3, 4, 5]);
    const byLen = new PriorityQueue<string>(Infinity, (a, b) => b.length - a.length);
    ['a', 'ccc', 'bb'].forEach((x) => byLen.put(x));
    expect([byLen.get(), byLen.get(), byLen.get()]).toEqual(['ccc', 'bb', 'a']);
    expect(() => new PriorityQueue(1, 'x' as never)).toThrow(TypeError);
  });
});

describe('JoinableQueue', () => {
  it('join() parks until every item was marked done', async () => {
    const q = new JoinableQueue<number>();
    const handled: number[] = [];
    spawn(() => {
      for (;;) {
        const x = q.get();
        sleep(1);
        handled.push(x);
        q.taskDone();
      }
    });
    const r = await runAsync(() => {
      [1, 2, 3].forEach((x) => q.put(x));
      expect(q.unfinishedTasks).toBe(3);
      return q.join();
    });
    expect(r).toBe(true);
    expect(handled).toEqual([1, 2, 3]);
    expect(() => q.taskDone()).toThrow(RangeError);
  });
});

describe('Channel', () => {
  it('put() parks until a get() takes the item, and the reverse', async () => {
    const ch = new Channel<number>();
    const log: string[] = [];
    const putter = spawn(() => {
      ch.put(1);
      log.push('put returned');
    });
    await runAsync(() => {
      sleep(0);
      expect(ch.putters).toBe(1);
      log.push(`got ${ch.get()}`);
    });
    await putter.promise();
    expect(log).toEqual(['got 1', 'put returned']);
    const getter = spawn(() => ch.get());
    await runAsync(() => {
      sleep(0);
      ch.put(2); // a getter waits: hands over and returns
    });
    expect(await getter.promise()).toBe(2);
    expect(ch.qsize()).toBe(0);
    expect(() => ch.putNowait(3)).toThrow(Full);
  });
});
