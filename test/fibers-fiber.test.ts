// greenloop/fibers: node-fibers' Fiber API on the greenlet primitive. Values
// through run()/yield(), errors both ways, reset(), misuse errors as
// node-fibers threw them, resumption from event-loop callbacks, and the
// behaviours that end or crash a process (in child processes).
import { readFile } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { coreStats } from '../lib/greenlet.js';
import { Fiber, type FiberObject } from '../lib/fibers/fiber.js';
import { lastJson, runFixture } from './helpers.js';

describe('Fiber: creating and running', () => {
  it('works with and without new, and nothing runs before run()', () => {
    let ran = 0;
    const a = Fiber(() => ran++);
    const b = new Fiber(() => ran++);
    expect(a).toBeInstanceOf(Fiber);
    expect(b).toBeInstanceOf(Fiber);
    expect(a.constructor).toBe(Fiber);
    expect(ran).toBe(0);
    expect(a.started).toBe(false);
    a.run();
    b.run();
    expect(ran).toBe(2);
  });

  it('run(value) starts the function with value and returns its result', () => {
    expect(Fiber((x: number) => x + 1).run(41)).toBe(42);
  });

  it('run() returns what the fiber yields; yield() returns what the next run() passes (the README generator)', () => {
    const inc = Fiber((start: number) => {
      let total = start;
      for (;;) total += Fiber.yield(total);
    });
    const seen: number[] = [];
    for (let ii = inc.run(1); ii <= 5; ii = inc.run(1)) seen.push(ii);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    expect(inc.started).toBe(true);
  });

  it('a fiber that has returned is not started and can be run again from the start', () => {
    let runs = 0;
    const f = Fiber(() => {
      runs++;
      Fiber.yield('first');
      return 'end';
    });
    expect(f.run()).toBe('first');
    expect(f.run()).toBe('end');
    expect(f.started).toBe(false);
    expect(f.run()).toBe('first');
    expect(runs).toBe(2);
  });

  it('an exception escaping the function comes out of run(), with its stack, and ends the fiber', () => {
    const f = Fiber(() => {
      Fiber.yield();
      throw new Error('oh crap!');
    });
    f.run();
    let caught: Error | undefined;
    try {
      f.run();
    } catch (e) {
      caught = e as Error;
    }
    expect(caught?.message).toBe('oh crap!');
    expect(caught?.stack).toMatch(/fibers-fiber\.test\.ts/);
    expect(f.started).toBe(false);
  });

  it('Fiber.current is the running fiber, undefined outside, and nested fibers return to their runner', () => {
    expect(Fiber.current).toBeUndefined();
    const order: string[] = [];
    const outer = Fiber(() => {
      const self = Fiber.current;
      const inner = Fiber(() => {
        order.push(`inner sees inner: ${Fiber.current === inner}`);
        Fiber.yield('from inner');
        order.push('inner resumed');
      });
      order.push(`run inner: ${inner.run()}`);
      order.push(`outer still current: ${Fiber.current === self}`);
      inner.run();
      return Fiber.current === self;
    });
    expect(outer.run()).toBe(true);
    expect(order).toEqual([
      'inner sees inner: true',
      'run inner: from inner',
      'outer still current: true',
      'inner resumed',
    ]);
    expect(Fiber.current).toBeUndefined();
  });

  it('the function is called with the global object as this, as node-fibers did', () => {
    expect(
      Fiber(function (this: unknown) {
        return this;
      }).run(),
    ).toBe(globalThis);
  });
});

describe('Fiber: throwInto and reset', () => {
  it('throwInto(error) throws at the yield; the fiber may catch it and yield again', () => {
    const f = Fiber(() => {
      try {
        Fiber.yield('parked');
      } catch (e) {
        return Fiber.yield(`caught ${(e as Error).message}`);
      }
    });
    expect(f.run()).toBe('parked');
    expect(f.throwInto(new Error('stop'))).toBe('caught stop');
    expect(f.run('fine')).toBe('fine');
  });

  it('throwInto with an error the fiber does not catch throws it back at the caller', () => {
    const f = Fiber(() => Fiber.yield());
    f.run();
    const error = new Error('not caught');
    expect(() => f.throwInto(error)).toThrow(error);
    expect(f.started).toBe(false);
  });

  it('reset() unwinds a yielding fiber: finally blocks run, and it is no longer started', () => {
    const log: string[] = [];
    const f = Fiber(() => {
      try {
        try {
          Fiber.yield();
        } finally {
          log.push('inner finally');
        }
      } finally {
        log.push('outer finally');
      }
    });
    f.run();
    expect(f.reset()).toBeUndefined();
    expect(log).toEqual(['inner finally', 'outer finally']);
    expect(f.started).toBe(false);
  });

  it('a fiber that catches the unwinding error and yields again is unwound again until it ends', () => {
    let caught = 0;
    const f = Fiber(() => {
      for (let i = 0; i < 3; i++) {
        try {
          Fiber.yield();
        } catch (e) {
          caught++;
          expect((e as Error).message).toBe('This Fiber is a zombie');
        }
      }
      return 'unwound';
    });
    f.run();
    expect(f.reset()).toBe('unwound');
    expect(caught).toBe(3);
    expect(f.started).toBe(false);
  });

  it('reset() throws an error other than the unwinding one that escapes the fiber', () => {
    const f = Fiber(() => {
      try {
        Fiber.yield();
      } finally {
        // eslint-disable-next-line no-unsafe-finally
        throw new Error('from finally');
      }
    });
    f.run();
    expect(() => f.reset()).toThrow('from finally');
    expect(f.started).toBe(false);
  });

  it('reset() of a fiber never started, or finished, does nothing', () => {
    const f = Fiber(() => 1);
    expect(f.reset()).toBeUndefined();
    f.run();
    expect(f.reset()).toBeUndefined();
  });
});

describe('Fiber: misuse throws as node-fibers did', () => {
  it('Fiber() needs exactly one function', () => {
    expect(() => (Fiber as any)()).toThrow(new TypeError('Fiber expects 1 argument, got 0'));
    expect(() => (Fiber as any)(() => 1, 2)).toThrow(TypeError);
    expect(() => Fiber(42 as any)).toThrow(/Fiber expects a function, got number/);
  });

  it('Fiber.yield() outside a fiber', () => {
    expect(() => Fiber.yield()).toThrow('yield() called with no fiber running');
  });

  it('run() of a running fiber, from itself or from a fiber it runs', () => {
    const self: FiberObject = Fiber((): unknown => self.run());
    expect(() => self.run()).toThrow('This Fiber is already running');
    const outer: FiberObject = Fiber(() => Fiber(() => outer.run()).run());
    expect(() => outer.run()).toThrow('This Fiber is already running');
  });

  it('throwInto() and reset() of a fiber that is not yielding', () => {
    const idle = Fiber(() => 1);
    expect(() => idle.throwInto(new Error('x'))).toThrow('This Fiber is not yielding');
    const running: FiberObject = Fiber(() => running.reset());
    expect(() => running.run()).toThrow('This Fiber is not yielding');
  });

  it('too many arguments', () => {
    const f = Fiber(() => Fiber.yield());
    expect(() => (f.run as any)(1, 2)).toThrow(new TypeError('run() expects 1 or no arguments, got 2'));
    f.run();
    expect(() => (Fiber.yield as any)(1, 2)).toThrow('yield() called with no fiber running'); // checked first, as node-fibers did
    expect(() => Fiber(() => (Fiber.yield as any)(1, 2)).run()).toThrow(
      new TypeError('yield() expects 1 or no arguments, got 2'),
    );
    expect(() => (f.throwInto as any)(1, 2)).toThrow(TypeError);
    expect(() => (f.reset as any)(1)).toThrow(new TypeError('reset() expects no arguments'));
    f.reset();
  });

  it('methods called on something that is not a fiber: TypeError; started reads undefined', () => {
    const f = Fiber(() => 1);
    expect(() => f.run.call({})).toThrow(/Illegal invocation: Fiber\.prototype\.run called on an instance of Object/);
    expect(() => f.reset.call(Object.create(Fiber.prototype))).toThrow(/Illegal invocation/);
    expect(() => f.throwInto.call(7 as any, 1)).toThrow(/called on number/);
    expect(Object.getOwnPropertyDescriptor(Fiber.prototype, 'started')!.get!.call({})).toBeUndefined();
  });
});

describe('Fiber: statics', () => {
  it('fibersCreated counts every started fiber', () => {
    const before = Fiber.fibersCreated;
    for (let i = 0; i < 5; i++) Fiber(() => i).run();
    Fiber(() => 1); // never run: not counted
    expect(Fiber.fibersCreated).toBe(before + 5);
  });

  it("poolSize reads and sets the core pool of finished fibers' threads", () => {
    const saved = Fiber.poolSize;
    try {
      Fiber.poolSize = 12;
      expect(Fiber.poolSize).toBe(12);
      expect(coreStats().poolSize).toBe(12);
      expect(() => {
        Fiber.poolSize = -1;
      }).toThrow(TypeError);
    } finally {
      Fiber.poolSize = saved;
    }
  });
});

describe('Fiber: resumed from the event loop', () => {
  const resumedBy = (schedule: (go: () => void) => void): Promise<unknown> =>
    new Promise((resolve) => {
      Fiber(() => {
        const fiber = Fiber.current!;
        schedule(() => fiber.run('resumed'));
        resolve([Fiber.yield(), Fiber.current === fiber]);
      }).run();
    });

  it('from a timer', async () => {
    expect(await resumedBy((go) => setTimeout(go, 2))).toEqual(['resumed', true]);
  });

  it('from process.nextTick', async () => {
    expect(await resumedBy((go) => process.nextTick(go))).toEqual(['resumed', true]);
  });

  it('from an fs callback', async () => {
    expect(await resumedBy((go) => readFile(__filename, () => go()))).toEqual(['resumed', true]);
  });

  it('from a promise callback, and from a setImmediate', async () => {
    expect(await resumedBy((go) => void Promise.resolve().then(go))).toEqual(['resumed', true]);
    expect(await resumedBy((go) => setImmediate(go))).toEqual(['resumed', true]);
  });

  it('the README sleep(): run() returns at the first yield, the fiber finishes later', async () => {
    const log: string[] = [];
    const done = new Promise<void>((resolve) => {
      Fiber(() => {
        log.push('wait');
        const fiber = Fiber.current!;
        setTimeout(() => fiber.run(), 5);
        Fiber.yield();
        log.push('ok');
        resolve();
      }).run();
    });
    log.push('back in main');
    await done;
    expect(log).toEqual(['wait', 'back in main', 'ok']);
  });
});

describe('Fiber: in child processes', () => {
  for (const [name, where] of [
    ['uncaught-timer', 'a timer'],
    ['uncaught-tick', 'process.nextTick'],
    ['uncaught-io', 'an fs callback'],
    ['uncaught-hub', "greenloop's hub (the fiber slept)"],
  ]) {
    it(`an exception escaping a fiber resumed from ${where} is an uncaught exception`, () => {
      const run = runFixture('fibers-behaviour.js', [], [name!]);
      expect(run.signal, run.stderr).toBeNull();
      expect(run.status, run.stderr).toBe(3);
      expect(lastJson(run)).toEqual({ uncaught: `escaped from ${name}`, inFiber: false });
    });
  }

  it('process.exit() inside a fiber exits with that code, other fibers parked', () => {
    const run = runFixture('fibers-behaviour.js', [], ['exit']);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(7);
    expect(run.stdout).toBe('exiting from a fiber\nexit event 7\n');
  });

  it('process.title can be set inside a fiber', () => {
    const run = runFixture('fibers-behaviour.js', [], ['title']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toBe('{"inFiber":"greenloop-fiber-title"}\n{"outside":"greenloop-fiber-title"}\n');
  });

  it('stack overflow inside a fiber is a RangeError, and fibers work afterwards', () => {
    const run = runFixture('fibers-behaviour.js', [], ['overflow']);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(lastJson(run)).toEqual({
      result: { name: 'RangeError', message: 'Maximum call stack size exceeded' },
      again: 42,
    });
  });
});

describe('Fiber: many fibers', () => {
  it('thousands created and finished leave nothing behind: no live greenlets, pooled threads bounded', () => {
    const before = coreStats();
    let sum = 0;
    for (let i = 0; i < 3000; i++) {
      const f = Fiber((x: number) => Fiber.yield(x) + 1);
      sum += f.run(i);
      sum += f.run(0);
    }
    expect(sum).toBe((2999 * 3000) / 2 + 3000);
    const after = coreStats();
    expect(after.live).toBe(before.live);
    expect(after.idleThreads).toBeLessThanOrEqual(after.poolSize);
    // Each start reused a pooled thread: far fewer threads than fibers were made.
    expect(after.threadsCreated - before.threadsCreated).toBeLessThan(100);
  });
});

describe('Fiber: garbage collection', () => {
  it('abandoned fibers parked in yield() are unwound when collected: finally blocks run, threads are freed', () => {
    const run = runFixture('fibers-gc.js', ['--expose-gc']);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(lastJson(run)).toEqual({ parked: 200, unwound: 200, escaped: 0, liveAfter: 0 });
  });
});
