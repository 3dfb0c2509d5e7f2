import { describe, expect, it } from 'vitest';
import { GreenletError, TimeoutError, getHub, idle, runAsync, sleep, spawn, wait, withTimeout } from '../lib/index.js';

describe('wait(promise)', () => {
  it('returns the value of a promise, or throws its rejection', async () => {
    const r = await runAsync(() => {
      const v = wait(new Promise<number>((resolve) => setTimeout(() => resolve(5), 2)));
      let e: unknown;
      try {
        wait(Promise.reject(new Error('rejected')));
      } catch (x) {
        e = x;
      }
      return { v, e: (e as Error).message };
    });
    expect(r).toEqual({ v: 5, e: 'rejected' });
  });

  it('accepts thenables, including ones that call back synchronously', async () => {
    const thenable = { then: (ok: (v: string) => void) => ok('sync') };
    expect(await runAsync(() => wait(thenable))).toBe('sync');
  });

  it('other greenlets run while one waits', async () => {
    const log: string[] = [];
    const a = spawn(() => {
      log.push('a waits');
      wait(new Promise((r) => setTimeout(r, 5)));
      log.push('a done');
    });
    const b = spawn(() => log.push('b runs'));
    await Promise.all([a.promise(), b.promise()]);
    expect(log).toEqual(['a waits', 'b runs', 'a done']);
  });

  it('throws TimeoutError after timeout ms; GreenletError on the hub; TypeError for a non-promise', async () => {
    const e = await runAsync(() => {
      try {
        wait(new Promise(() => {}), { timeout: 5 });
      } catch (x) {
        return x;
      }
      return null;
    });
    expect(e).toBeInstanceOf(TimeoutError);
    expect(() => wait(Promise.resolve(1))).toThrow(GreenletError);
    await expect(runAsync(() => wait(5 as never))).rejects.toThrow(TypeError);
  });
});

describe('withTimeout', () => {
  it('returns the value when in time, the fallback or a TimeoutError when not', async () => {
    const r = await runAsync(() => {
      const fast = withTimeout(50, () => {
        sleep(1);
        return 'fast';
      });
      const fallback = withTimeout(5, () => sleep(1000), { fallback: 'fell back' });
      let error: unknown;
      try {
        withTimeout(5, () => sleep(1000));
      } catch (e) {
        error = e;
      }
      sleep(10); // the finished timeouts must not fire later
      return { fast, fallback, error };
    });
    expect(r.fast).toBe('fast');
    expect(r.fallback).toBe('fell back');
    expect(r.error).toBeInstanceOf(TimeoutError);
  });

  it('does not swallow another error or an outer timeout', async () => {
    const r = await runAsync(() => {
      try {
        withTimeout(
          5,
          () => {
            throw new RangeError('inner');
          },
          { fallback: 0 },
        );
      } catch (e) {
        return (e as Error).name;
      }
      return 'none';
    });
    expect(r).toBe('RangeError');
    const outer = await runAsync(() =>
      withTimeout(5, () => withTimeout(1000, () => sleep(1000), { fallback: 'inner fallback (wrong)' }), {
        fallback: 'outer fallback',
      }),
    );
    expect(outer).toBe('outer fallback');
  });
});

describe('sleep / idle', () => {
  it('sleep(0) lets every other ready greenlet run once, then resumes', async () => {
    const log: string[] = [];
    const gs = ['a', 'b', 'c'].map((n) =>
      spawn(() => {
        log.push(`${n}1`);
        sleep(0);
        log.push(`${n}2`);
      }),
    );
    await Promise.all(gs.map((g) => g.promise()));
    expect(log).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'c2']);
  });

  it('sleep(ms) parks for at least ms while others run', async () => {
    // Measured, not raced against a shorter sleep in another greenlet: that one starts its timer
    // later, so a stall in between could let the longer sleep end first.
    const log: string[] = [];
    const a = spawn(() => {
      const start = performance.now();
      sleep(10);
      log.push('a');
      return performance.now() - start;
    });
    const b = spawn(() => {
      log.push('b runs while a sleeps');
      sleep(1);
    });
    const [slept] = await Promise.all([a.promise(), b.promise()]);
    expect(log).toEqual(['b runs while a sleeps', 'a']);
    expect(slept).toBeGreaterThanOrEqual(9); // Node may round a timer down by up to 1 ms
  });

  it('idle() lets pending event-loop callbacks run first; sleep(0) does not', async () => {
    // Within the pass's time budget, that is: a pass that has used it up ends at sleep(0) too, so
    // with the default 5 ms a stall (a descheduled process) put 'immediate' first. A budget no
    // stall uses up keeps the order what this test is about.
    const hub = getHub();
    const interval = hub.switchInterval;
    hub.switchInterval = 60_000;
    const log: string[] = [];
    try {
      await runAsync(() => {
        setImmediate(() => log.push('immediate'));
        sleep(0);
        log.push('after sleep(0)');
        idle();
        log.push('after idle()');
      });
    } finally {
      hub.switchInterval = interval;
    }
    expect(log).toEqual(['after sleep(0)', 'immediate', 'after idle()']);
  });

  it('throws on the hub and for bad arguments', () => {
    expect(() => sleep(0)).toThrow(GreenletError);
    expect(() => sleep(5)).toThrow(GreenletError);
    expect(() => idle()).toThrow(GreenletError);
    expect(() => sleep(-1)).toThrow(TypeError);
    expect(() => sleep(NaN)).toThrow(TypeError);
  });
});
