// Faults the hub must survive without losing a greenlet: a greenlet whose
// start is refused (its thread or stack cannot be created), and raw
// switch()/throw()/kill() across greenlets the hub runs.
import { describe, expect, it } from 'vitest';
import {
  Event,
  Greenlet,
  GreenletError,
  GreenletExit,
  RawGreenlet,
  getHub,
  getcurrent,
  runAsync,
  sleep,
  spawn,
} from '../lib/index.js';

/** A stack no mmap grants: the start of a greenlet with it is refused (user-independent, unlike ulimit -u). */
const HUGE_STACK = 2 ** 40;

/** Collects what reaches unjoinedErrorHandler while `fn` runs. */
async function collectingReports(fn: () => Promise<void>): Promise<unknown[]> {
  const reported: unknown[] = [];
  const hub = getHub();
  hub.unjoinedErrorHandler = (error) => reported.push(error);
  try {
    await fn();
  } finally {
    hub.unjoinedErrorHandler = null;
  }
  return reported;
}

describe('a greenlet whose start is refused', () => {
  it('when a parking greenlet hands off to it: it ends with the GreenletError and the parker goes on', async () => {
    const out = await runAsync(() => {
      const refused = new Greenlet(() => 'ran', { name: 'refused', stackSize: HUGE_STACK }).start();
      sleep(0); // hands control to `refused` first: its start fails here
      const joined = refused.join(1000);
      return {
        joined,
        dead: refused.dead,
        ready: refused.ready(),
        successful: refused.successful(),
        exception: refused.exception,
      };
    });
    expect(out.joined).toBe(true);
    expect(out.dead).toBe(true);
    expect(out.ready).toBe(true);
    expect(out.successful).toBe(false);
    expect(out.exception).toBeInstanceOf(GreenletError);
    expect((out.exception as GreenletError).errno).toBeTypeOf('number');
  });

  it('when the hub starts it: it ends with the error, its joiners wake, and it is reported if nobody joined it', async () => {
    let joinerSaw: unknown;
    const reported = await collectingReports(async () => {
      const refused = new Greenlet(() => 'ran', { stackSize: HUGE_STACK }).start();
      const unjoined = new Greenlet(() => 'ran', { stackSize: HUGE_STACK }).start();
      const joiner = spawn(() => {
        refused.join();
        joinerSaw = refused.exception;
      });
      await joiner.promise();
      await runAsync(() => sleep(1));
      expect(unjoined.dead).toBe(true);
    });
    expect(joinerSaw).toBeInstanceOf(GreenletError);
    expect(reported).toHaveLength(1);
    expect(reported[0]).toBeInstanceOf(GreenletError);
  });

  it('a greenlet whose start is refused does not stop the ones behind it', async () => {
    const order: string[] = [];
    const reported = await collectingReports(async () => {
      await runAsync(() => {
        new Greenlet(() => order.push('refused ran'), { stackSize: HUGE_STACK }).start();
        const after = spawn(() => order.push('after ran'));
        sleep(0);
        after.join();
        sleep(1);
      });
    });
    expect(order).toEqual(['after ran']);
    expect(reported).toHaveLength(1);
  });
});

describe('kill() and raw switches', () => {
  it('kill() reaches a greenlet whose code runs inside a raw child greenlet it switched to', async () => {
    const events: string[] = [];
    const g = spawn(() => {
      const child = new RawGreenlet(() => {
        sleep(60_000); // the child parks in the hub; g waits in its raw switch
        events.push('child woke');
      });
      try {
        child.switch();
        events.push('switch returned');
      } finally {
        events.push('g unwound');
      }
    });
    const killer = spawn(() => {
      sleep(5);
      g.kill(undefined, { timeout: 5000 });
      return g.dead;
    });
    expect(await killer.promise()).toBe(true);
    expect(g.value).toBeInstanceOf(GreenletExit);
    expect(events).toEqual(['g unwound']);
  });

  it('a Timeout reaches a greenlet waiting in a raw switch into a child', async () => {
    const { Timeout } = await import('../lib/index.js');
    const caught = await runAsync(() => {
      const timeout = new Timeout(5).start();
      const child = new RawGreenlet(() => sleep(60_000));
      try {
        child.switch();
        return 'no timeout';
      } catch (error) {
        return error === timeout.error ? 'timed out' : error;
      } finally {
        timeout.cancel();
      }
    });
    expect(caught).toBe('timed out');
  });

  it('switch() or throw() into a greenlet parked in the hub is a GreenletError in the caller; the parked one is untouched', async () => {
    // Ordered by an Event, not by timers: the sleeper is parked for as long as the caller tries.
    const ev = new Event();
    const sleeper = spawn(() => {
      ev.wait();
      return 'slept';
    });
    const out = await runAsync(() => {
      sleep(0); // the sleeper, spawned first, has parked by now
      const errors: unknown[] = [];
      try {
        sleeper.switch('x');
      } catch (error) {
        errors.push(error);
      }
      try {
        sleeper.throw(new Error('x'));
      } catch (error) {
        errors.push(error);
      }
      ev.set();
      return errors;
    });
    expect(out).toHaveLength(2);
    for (const error of out) {
      expect(error).toBeInstanceOf(GreenletError);
      expect((error as Error).message).toMatch(/parked in the hub in Event\.wait\(\).*kill\(\)/);
    }
    expect(await sleeper.promise()).toBe('slept');
  });

  it('switch() into a raw greenlet parked in the hub is refused too, also from the hub', async () => {
    const raw = new RawGreenlet(() => sleep(10));
    raw.switch(); // starts it; it parks in sleep(10) and control comes back here
    expect(() => raw.switch()).toThrow(/a raw greenlet, which is parked in the hub in sleep\(10\)/);
    await runAsync(() => sleep(20));
    expect(raw.dead).toBe(true);
  });

  it('switch() or throw() into a gevent-level Greenlet that has not started is refused: start() runs it', async () => {
    const g = new Greenlet(() => 'ran', { name: 'waiting' });
    expect(() => g.switch()).toThrow(/greenlet "waiting", which the hub runs: start it with start\(\)/);
    expect(() => g.throw()).toThrow(GreenletError);
    expect(g.started).toBe(false);
    expect(await g.start().promise()).toBe('ran');
  });

  it('a raw child may still switch back into the gevent-level greenlet that switched to it', async () => {
    const value = await runAsync(() => {
      const parent = getcurrent();
      const child = new RawGreenlet(() => parent.switch('from child'));
      return child.switch();
    });
    expect(value).toBe('from child');
  });
});

describe('a tracer that throws on a switch the hub makes', () => {
  it("on the hub's switch into a greenlet: reported, and the greenlet runs at the next pass", async () => {
    const { settrace } = await import('../lib/greenlet.js');
    const error = new Error('tracer failed');
    const g = spawn(() => 'ran');
    let thrown = 0;
    settrace((_event, _origin, target) => {
      if (target === g && thrown++ === 0) throw error;
    });
    try {
      const reported = await collectingReports(async () => {
        expect(await g.promise()).toBe('ran');
      });
      expect(reported).toEqual([error]);
    } finally {
      settrace(null);
    }
  });

  it("on a parking greenlet's hand-off: the parker gets the error, the next greenlet still runs", async () => {
    const { settrace } = await import('../lib/greenlet.js');
    const error = new Error('tracer failed');
    const { Event } = await import('../lib/index.js');
    const out = await runAsync(() => {
      const go = new Event();
      const next = spawn(() => {
        go.wait();
        return 'next ran';
      });
      sleep(0); // `next` starts and parks
      go.set(); // `next` is first in the ready queue now
      const me = getcurrent();
      let thrown = 0;
      settrace((_event, origin, target) => {
        if (origin === me && target === next && thrown++ === 0) throw error;
      });
      let caught: unknown;
      try {
        sleep(0);
      } catch (e) {
        caught = e;
      } finally {
        settrace(null);
      }
      return { caught, value: next.get({ timeout: 1000 }) };
    });
    expect(out.caught).toBe(error);
    expect(out.value).toBe('next ran');
  });
});
