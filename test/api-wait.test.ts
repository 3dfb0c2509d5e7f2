import { describe, expect, it } from 'vitest';
import { GreenletError, TimeoutError, idle, runAsync, sleep, spawn, wait, withTimeout } from '../lib/index.js';

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

  it('sleep(ms) parks for about ms while others run', async () => {
    const log: string[] = [];
    const a = spawn(() => {
      sleep(10);
      log.push('a');
    });
    const b = spawn(() => {
      sleep(1);
      log.push('b');
    });
    await Promise.all([a.promise(), b.promise()]);
    expect(log).toEqual(['b', 'a']);
  });

  it('idle() lets pending event-loop callbacks run first; sleep(0) does not', async () => {
    const log: string[] = [];
    await runAsync(() => {
      setImmediate(() => log.push('immediate'));
      sleep(0);
      log.push('after sleep(0)');
      idle();
      log.push('after idle()');
    });
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
