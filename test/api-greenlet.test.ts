import { describe, expect, it } from 'vitest';
import {
  Event,
  Greenlet,
  GreenletError,
  GreenletExit,
  RawGreenlet,
  TimeoutError,
  getcurrent,
  joinall,
  killall,
  runAsync,
  sleep,
  spawn,
  spawnLater,
} from '../lib/index.js';

describe('Greenlet life cycle', () => {
  it('is a RawGreenlet whose parent is the hub, started by start(...args)', async () => {
    const g = new Greenlet((a: number, b: number) => a + b, { name: 'adder' });
    expect(g).toBeInstanceOf(RawGreenlet);
    expect(g.parent).toBe(getcurrent());
    expect(g.name).toBe('adder');
    expect(g.ready()).toBe(false);
    expect(g.start(2, 3)).toBe(g);
    g.start(100, 100); // a second start does nothing
    expect(await g.promise()).toBe(5);
    expect(g.ready()).toBe(true);
    expect(g.dead).toBe(true);
    expect(g.successful()).toBe(true);
    expect(g.value).toBe(5);
    expect(g.exception).toBeUndefined();
  });

  it('gets a default name Greenlet-<n>', () => {
    const a = new Greenlet(() => 0);
    const b = new Greenlet(() => 0);
    expect(a.name).toMatch(/^Greenlet-\d+$/);
    expect(Number(b.name.slice(9))).toBe(Number(a.name.slice(9)) + 1);
    a.name = 'renamed';
    expect(String(a)).toBe('<Greenlet "renamed">');
  });

  it('spawn() does not run the function synchronously', async () => {
    const log: string[] = [];
    const g = spawn(() => log.push('ran'));
    log.push('after spawn');
    await g.promise();
    expect(log).toEqual(['after spawn', 'ran']);
  });

  it('a subclass may define run()', async () => {
    class Doubler extends Greenlet<number> {
      run(x: number): number {
        return x * 2;
      }
    }
    expect(await new Doubler().start(21).promise()).toBe(42);
    expect(() => new Greenlet().start()).toThrow(GreenletError);
  });

  it('startLater and spawnLater start after the delay; kill before then cancels', async () => {
    const log: string[] = [];
    const later = spawnLater(20, () => log.push('later'));
    const soon = spawn(() => log.push('soon'));
    const cancelled = new Greenlet(() => log.push('never')).startLater(5);
    cancelled.kill();
    await Promise.all([later.promise(), soon.promise()]);
    await runAsync(() => sleep(10));
    expect(log).toEqual(['soon', 'later']);
    expect(cancelled.dead).toBe(true);
    expect(cancelled.value).toBeInstanceOf(GreenletExit);
  });

  it('a function returning a promise makes the greenlet wait for it', async () => {
    const g = spawn(async () => {
      await new Promise((r) => setTimeout(r, 5));
      return 'async value';
    });
    expect(await g.promise()).toBe('async value');
    const bad = spawn(() => Promise.reject(new Error('rejected')));
    await expect(bad.promise()).rejects.toThrow('rejected');
  });

  it('an error is kept as exception; get() rethrows it; join() does not', async () => {
    const boom = new Error('boom');
    const g = spawn(() => {
      throw boom;
    });
    const outcome = await runAsync(() => {
      const joined = g.join();
      let thrown: unknown;
      try {
        g.get();
      } catch (e) {
        thrown = e;
      }
      return { joined, thrown };
    });
    expect(outcome).toEqual({ joined: true, thrown: boom });
    expect(g.exception).toBe(boom);
    expect(g.successful()).toBe(false);
    expect(g.value).toBeUndefined();
  });

  it('join(timeout) returns false when it has not finished; get() throws TimeoutError', async () => {
    const ev = new Event();
    const g = spawn(() => ev.wait());
    const r = await runAsync(() => {
      const joined = g.join(10);
      let error: unknown;
      try {
        g.get({ timeout: 5 });
      } catch (e) {
        error = e;
      }
      let nonBlocking: unknown;
      try {
        g.get({ block: false });
      } catch (e) {
        nonBlocking = e;
      }
      return { joined, error, nonBlocking, zero: g.join(0) };
    });
    expect(r.joined).toBe(false);
    expect(r.error).toBeInstanceOf(TimeoutError);
    expect(r.nonBlocking).toBeInstanceOf(TimeoutError);
    expect(r.zero).toBe(false);
    ev.set();
    expect(await g.promise()).toBe(true);
  });

  it('join() and get() on the hub throw GreenletError unless it has finished', async () => {
    const ev = new Event();
    const g = spawn(() => ev.wait());
    expect(() => g.join()).toThrow(GreenletError);
    expect(() => g.get()).toThrow(GreenletError);
    ev.set();
    await g.promise();
    expect(g.join()).toBe(true);
    expect(g.get()).toBe(true);
  });

  it('a greenlet cannot join itself', async () => {
    const g: Greenlet<unknown> = spawn(() => g.join());
    await expect(g.promise()).rejects.toThrow(GreenletError);
  });
});

describe('kill', () => {
  it('kills a parked greenlet: GreenletExit is raised where it waits, finally blocks run, it ends successfully', async () => {
    const log: string[] = [];
    const g = spawn(() => {
      try {
        sleep(60_000);
        log.push('not reached');
      } finally {
        log.push('finally');
      }
    });
    await runAsync(() => {
      sleep(0);
      g.kill();
      log.push(`killed, dead=${g.dead}`);
    });
    expect(log).toEqual(['finally', 'killed, dead=true']);
    expect(g.successful()).toBe(true);
    expect(g.value).toBeInstanceOf(GreenletExit);
  });

  it('kill(error) makes it fail with that error', async () => {
    const err = new Error('custom');
    const g = spawn(() => sleep(60_000));
    await runAsync(() => {
      sleep(0);
      g.kill(err);
    });
    expect(g.exception).toBe(err);
    expect(g.successful()).toBe(false);
  });

  it('a greenlet killed before it started never runs', async () => {
    let ran = false;
    const g = spawn(() => {
      ran = true;
    });
    g.kill();
    expect(g.dead).toBe(true);
    expect(g.started).toBe(false);
    await runAsync(() => sleep(1));
    expect(ran).toBe(false);
    expect(g.value).toBeInstanceOf(GreenletExit);
  });

  it('a greenlet that is running (not parked) when killed dies at its next park', async () => {
    const log: string[] = [];
    const victim = spawn(() => {
      sleep(0); // the killer runs here, while we are ready to run (not parked)
      log.push('still running');
      sleep(0);
      log.push('not reached');
    });
    const killer = spawn(() => victim.kill(undefined, { block: false }));
    await killer.promise();
    await victim.promise();
    expect(log).toEqual(['still running']);
    expect(victim.value).toBeInstanceOf(GreenletExit);
  });

  it('kill(block) on the hub throws GreenletError for a started greenlet and does nothing', async () => {
    // It parks on an Event set only after the kill, so it is still alive then however slow the
    // machine (a 30 ms sleep could end first and the kill of a finished greenlet throws nothing).
    const released = new Event();
    const g = spawn(() => {
      released.wait();
      return 'not killed';
    });
    await runAsync(() => sleep(0));
    expect(() => g.kill()).toThrow(GreenletError);
    released.set();
    expect(await g.promise()).toBe('not killed');
    const h = spawn(() => sleep(60_000));
    await runAsync(() => sleep(0));
    h.kill(undefined, { block: false });
    expect(((await h.promise()) as unknown) instanceof GreenletExit).toBe(true);
  });

  it('kill with a timeout returns even if the greenlet ignores the kill', async () => {
    // It waits for an Event the killer sets only after kill() has returned, so the kill's
    // timeout is what ends the wait, however slow the machine (a sleep raced the timeout).
    const released = new Event();
    const g = spawn(() => {
      for (;;) {
        try {
          released.wait();
          return 'finished';
        } catch (e) {
          if (!(e instanceof GreenletExit)) throw e;
        }
      }
    });
    const after = await runAsync(() => {
      sleep(0);
      g.kill(undefined, { timeout: 1 });
      const dead = g.dead;
      released.set();
      return dead;
    });
    expect(after).toBe(false);
    expect(await g.promise()).toBe('finished');
  });

  it('killing a finished greenlet does nothing', async () => {
    const g = spawn(() => 1);
    await g.promise();
    g.kill();
    expect(g.value).toBe(1);
  });

  it('a greenlet killing itself with block raises at once', async () => {
    const g: Greenlet<unknown> = spawn(() => {
      g.kill();
      return 'not reached';
    });
    expect(await g.promise()).toBeInstanceOf(GreenletExit);
  });
});

describe('links', () => {
  it('link / linkValue / linkException run on the hub after it finishes, in order', async () => {
    const log: string[] = [];
    const ok = spawn(() => 'v');
    ok.link((g) => log.push(`link ${g.value}`));
    ok.linkValue(() => log.push('value'));
    ok.linkException(() => log.push('exception (wrong)'));
    const bad = spawn(() => {
      throw new Error('x');
    });
    bad.linkValue(() => log.push('value (wrong)'));
    bad.linkException((g) => {
      log.push(`exception ${(g.exception as Error).message}`);
      expect(getcurrent().isRoot).toBe(true);
    });
    await runAsync(() => sleep(1));
    expect(log).toEqual(['link v', 'value', 'exception x']);
  });

  it('unlink removes a callback; linking a finished greenlet calls back soon', async () => {
    const log: string[] = [];
    const g = spawn(() => 1);
    const cb = (): void => {
      log.push('removed');
    };
    g.link(cb);
    g.unlink(cb);
    await g.promise();
    g.link(() => log.push('late'));
    expect(log).toEqual([]);
    await runAsync(() => sleep(1));
    expect(log).toEqual(['late']);
  });
});

describe('joinall / killall / runAsync', () => {
  it('joinall returns the finished greenlets in order', async () => {
    const a = spawn(() => {
      sleep(10);
      return 'a';
    });
    const b = spawn(() => 'b');
    const slow = spawn(() => sleep(60_000));
    const done = await runAsync(() => joinall([a, b, slow], { timeout: 30 }));
    expect(done).toEqual([a, b]);
    slow.kill(undefined, { block: false });
    expect(await runAsync(() => joinall([a, b, slow]))).toEqual([a, b, slow]);
  });

  it('joinall({ raiseError }) throws the first failure as soon as it happens', async () => {
    const err = new Error('first');
    const slow = spawn(() => sleep(60_000));
    const bad = spawn(() => {
      sleep(5);
      throw err;
    });
    await expect(runAsync(() => joinall([slow, bad], { raiseError: true }))).rejects.toBe(err);
    expect(slow.dead).toBe(false);
    slow.kill(undefined, { block: false });
  });

  it('killall kills every greenlet and waits for them', async () => {
    const gs = [spawn(() => sleep(60_000)), spawn(() => sleep(60_000)), new Greenlet(() => 0)];
    await runAsync(() => {
      sleep(0);
      killall(gs);
    });
    expect(gs.every((g) => g.dead)).toBe(true);
    expect(gs.every((g) => (g.value as unknown) instanceof GreenletExit)).toBe(true);
    expect(() => killall([spawn(() => 0)])).not.toThrow(); // not started: nothing to wait for
  });

  it('runAsync settles with the outcome, so async code can call blocking code', async () => {
    expect(
      await runAsync((a: number) => {
        sleep(1);
        return a * 2;
      }, 4),
    ).toBe(8);
    await expect(
      runAsync(() => {
        throw new TypeError('t');
      }),
    ).rejects.toThrow(TypeError);
  });

  it('checks its arguments', () => {
    expect(() => spawn(5 as never)).toThrow(TypeError);
    expect(() => spawnLater(-1, () => 0)).toThrow(TypeError);
    expect(() => new Greenlet(() => 0, { name: 3 as never })).toThrow(TypeError);
    expect(() => joinall([1 as never])).toThrow(TypeError);
    expect(() => new Greenlet(() => 0).join(-5)).toThrow(TypeError);
  });
});
