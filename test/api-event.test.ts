import { describe, expect, it } from 'vitest';
import { AsyncResult, Event, GreenletError, TimeoutError, runAsync, sleep, spawn } from '../lib/index.js';

describe('Event', () => {
  it('wait() parks until set(), which wakes every waiter in the order they came', async () => {
    const ev = new Event();
    const log: string[] = [];
    const gs = ['a', 'b', 'c'].map((n) =>
      spawn(() => {
        log.push(`${n} waits`);
        ev.wait();
        log.push(`${n} woke`);
      }),
    );
    await runAsync(() => {
      sleep(0);
      expect(ev.waiting).toBe(3);
      ev.set();
      log.push('set returned');
    });
    await Promise.all(gs.map((g) => g.promise()));
    expect(log).toEqual(['a waits', 'b waits', 'c waits', 'set returned', 'a woke', 'b woke', 'c woke']);
  });

  it('set() in one greenlet never switches straight into a waiter', async () => {
    const ev = new Event();
    const log: string[] = [];
    spawn(() => {
      ev.wait();
      log.push('waiter');
    });
    await runAsync(() => {
      sleep(0);
      ev.set();
      log.push('setter continues');
      sleep(0);
    });
    expect(log).toEqual(['setter continues', 'waiter']);
  });

  it('wait() returns at once when set, false on timeout, and clear() re-arms it', async () => {
    const ev = new Event();
    const r = await runAsync(() => {
      const timedOut = ev.wait(5);
      const zero = ev.wait(0);
      ev.set();
      const now = ev.wait();
      ev.clear();
      return { timedOut, zero, now, isSet: ev.isSet(), again: ev.wait(1) };
    });
    expect(r).toEqual({ timedOut: false, zero: false, now: true, isSet: false, again: false });
  });

  it('wait() on the hub returns when set and throws GreenletError when it would block', () => {
    const ev = new Event();
    expect(() => ev.wait()).toThrow(GreenletError);
    expect(ev.wait(0)).toBe(false);
    ev.set();
    expect(ev.wait()).toBe(true);
  });

  it('set() from a timer callback wakes the waiter', async () => {
    const ev = new Event();
    setTimeout(() => ev.set(), 5);
    expect(await runAsync(() => ev.wait())).toBe(true);
  });
});

describe('AsyncResult', () => {
  it('get() parks until set(value) and returns the value to every waiter', async () => {
    const r = new AsyncResult<number>();
    const gs = [spawn(() => r.get()), spawn(() => r.get())];
    setTimeout(() => r.set(42), 2);
    expect(await Promise.all(gs.map((g) => g.promise()))).toEqual([42, 42]);
    expect(r.ready()).toBe(true);
    expect(r.successful()).toBe(true);
    expect(r.value).toBe(42);
    expect(r.get()).toBe(42); // ready: fine on the hub
  });

  it('setException makes get() throw and wait() return true', async () => {
    const r = new AsyncResult();
    const err = new Error('nope');
    const g = spawn(() => {
      const waited = r.wait();
      try {
        r.get();
      } catch (e) {
        return { waited, e };
      }
      return null;
    });
    r.setException(err);
    expect(await g.promise()).toEqual({ waited: true, e: err });
    expect(r.successful()).toBe(false);
    expect(r.exception).toBe(err);
  });

  it('get() with block false or a timeout throws TimeoutError; wait(timeout) returns false', async () => {
    const r = new AsyncResult();
    expect(() => r.get({ block: false })).toThrow(TimeoutError);
    expect(() => r.get()).toThrow(GreenletError);
    const out = await runAsync(() => {
      let e: unknown;
      try {
        r.get({ timeout: 5 });
      } catch (x) {
        e = x;
      }
      return { e, w: r.wait(5) };
    });
    expect(out.e).toBeInstanceOf(TimeoutError);
    expect(out.w).toBe(false);
  });

  it('can be set again; the last outcome counts', () => {
    const r = new AsyncResult<number>();
    r.set(1);
    r.setException(new Error('x'));
    expect(() => r.get()).toThrow('x');
    r.set(2);
    expect(r.get()).toBe(2);
  });
});
