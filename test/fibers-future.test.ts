// greenloop/fibers/future: node-fibers' Future on greenloop's Fiber. Every
// entry of its API, against real timers, files and child processes.
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Fiber } from '../lib/fibers/fiber.js';
import { Future } from '../lib/fibers/future.js';
import { lastJson, runFixture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'greenloop-future-'));
writeFileSync(join(dir, 'a.txt'), 'alpha');
writeFileSync(join(dir, 'b.txt'), 'beta');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A future that resolves with `value` after `ms` (the README's sleep). */
function later<T>(ms: number, value?: T): Future<T> {
  const f = new Future<T>();
  setTimeout(() => f.return(value), ms);
  return f;
}

function failLater(ms: number, message: string): Future {
  const f = new Future();
  setTimeout(() => f.throw(new Error(message)), ms);
  return f;
}

/** Runs `fn` in a fiber (Future.task) and gives its outcome as a promise. */
function inFiber<T>(fn: () => T): Promise<T> {
  return Future.task(fn).promise();
}

describe('Future: resolving', () => {
  it('return() then get(); wait() on a resolved future works outside a fiber', () => {
    const f = new Future<number>();
    expect(f.isResolved()).toBe(false);
    f.return(5);
    expect(f.isResolved()).toBe(true);
    expect(f.get()).toBe(5);
    expect(f.wait()).toBe(5);
  });

  it('throw() makes get() and wait() throw, with the get() call site linked above the original stack', () => {
    const f = new Future();
    const error = new Error('borked');
    f.throw(error);
    let caught: Error | undefined;
    try {
      f.get();
    } catch (e) {
      caught = e as Error;
    }
    expect(caught).toBe(error);
    expect(caught!.stack).toMatch(/^Error: borked\n[\s\S]*fibers-future\.test\.ts[\s\S]*\n {4}- - - - -\n/);
    expect((caught as any).futureStack).toBeDefined();
  });

  it('misuse: get() before resolving, resolving twice, throwing nothing', () => {
    const f = new Future();
    expect(() => f.get()).toThrow('Future must resolve before value is ready');
    f.return(1);
    expect(() => f.return(2)).toThrow('Future resolved more than once');
    expect(() => f.throw(new Error('x'))).toThrow('Future resolved more than once');
    expect(() => new Future().throw(undefined)).toThrow('Must throw non-empty error');
  });

  it('resolver() is a node-style callback', () => {
    const ok = new Future();
    ok.resolver()(null, 'value');
    expect(ok.get()).toBe('value');
    const bad = new Future();
    bad.resolver()(new Error('no'));
    expect(() => bad.get()).toThrow('no');
  });

  it('resolve(cb) calls back once resolved, or at once; resolve(future, onSuccess) routes errors to the future', () => {
    const calls: unknown[] = [];
    const f = new Future<number>();
    expect(f.resolve((err, v) => calls.push(['cb', err, v]))).toBe(f);
    f.return(3);
    f.resolve((err, v) => calls.push(['late', err, v]));
    expect(calls).toEqual([
      ['cb', undefined, 3],
      ['late', undefined, 3],
    ]);
    const sink = new Future();
    const failing = new Future();
    failing.resolve(sink, () => calls.push('never'));
    failing.throw(new Error('routed'));
    expect(() => sink.get()).toThrow('routed');
    const succeeding = new Future<string>();
    succeeding.resolve(new Future(), (v) => calls.push(v));
    succeeding.return('ok');
    expect(calls.at(-1)).toBe('ok');
    expect(() => f.resolve('nope' as any)).toThrow(`resolve()'s callback must be a function, got string "nope"`);
  });

  it('resolveSuccess(cb) only hears values', () => {
    const heard: unknown[] = [];
    const a = new Future();
    a.resolveSuccess((v) => heard.push(v));
    a.throw(new Error('ignored'));
    const b = new Future();
    b.resolveSuccess((v) => heard.push(v));
    b.return('b');
    expect(heard).toEqual(['b']);
  });

  it('proxy() and proxyErrors() forward outcomes', () => {
    const src = new Future();
    const dst = new Future();
    src.proxy(dst);
    src.return('through');
    expect(dst.get()).toBe('through');
    const failing = new Future();
    const targets = [new Future(), new Future()];
    expect(failing.proxyErrors(targets)).toBe(failing);
    const single = new Future();
    failing.proxyErrors(single);
    failing.throw(new Error('spread'));
    for (const t of [...targets, single]) expect(() => t.get()).toThrow('spread');
    const fine = new Future();
    const untouched = new Future();
    fine.proxyErrors(untouched);
    fine.return(1);
    expect(untouched.isResolved()).toBe(false);
    expect(() => fine.proxy({} as any)).toThrow(/proxy\(\) expects a Future, got an instance of Object/);
  });

  it('promise() and Future.fromPromise() convert both ways', async () => {
    const f = new Future<string>();
    const p = f.promise();
    f.return('p');
    expect(await p).toBe('p');
    const g = new Future();
    const rejected = g.promise();
    g.throw(new Error('rejected'));
    await expect(rejected).rejects.toThrow('rejected');
    expect(await inFiber(() => Future.fromPromise(Promise.resolve(9)).wait())).toBe(9);
    await expect(inFiber(() => Future.fromPromise(Promise.reject(new Error('rej'))).wait())).rejects.toThrow('rej');
    expect(() => Future.fromPromise(3 as any)).toThrow(/expects a promise \(a thenable\), got number 3/);
  });

  it('a callback that throws does not stop the others; its error reaches the event loop', async () => {
    const uncaught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    const heard: string[] = [];
    const f = new Future();
    f.resolve(() => {
      throw new Error('callback threw');
    });
    f.resolve(() => heard.push('second'));
    f.return(1);
    expect(heard).toEqual(['second']);
    expect(((await uncaught) as Error).message).toBe('callback threw');
  });
});

describe('Future: waiting in fibers', () => {
  it('wait() parks the fiber until the future resolves, while the event loop runs', async () => {
    const future = new Future<string>();
    let ticks = 0;
    // Only the event loop can resolve it: three interval callbacks must run while the fiber waits.
    const interval = setInterval(() => {
      if (++ticks === 3) future.return('late');
    }, 1);
    try {
      expect(await inFiber(() => [future.wait(), ticks])).toEqual(['late', 3]);
    } finally {
      clearInterval(interval);
    }
  });

  it("wait() throws the future's error", async () => {
    await expect(inFiber(() => failLater(2, 'failed later').wait())).rejects.toThrow('failed later');
  });

  it('Future.wait(...) waits for all (arrays flattened), does not throw their errors', async () => {
    const r = await inFiber(() => {
      const a = later(10, 'a');
      const b = failLater(5, 'b failed');
      const c = later(1, 'c');
      Future.wait(a, [b, c]);
      return [a.isResolved(), b.isResolved(), c.get(), a.get()];
    });
    expect(r).toEqual([true, true, 'c', 'a']);
  });

  it('Future.wait misuse: outside a fiber, and things that are not futures', () => {
    expect(() => Future.wait(later(1))).toThrow("Can't wait without a fiber");
    expect(() => new Future().wait()).toThrow("Can't wait without a fiber");
    expect(() => Future.wait(5 as any)).toThrow('5 is not a future');
    expect(() => Future.wait([new Future(), 'x' as any])).toThrow('x is not a future');
  });

  it('waiting fibers are independent: each resumes when its own future resolves', async () => {
    const order: string[] = [];
    // The futures' timers start here, the shorter first, so it fires first however late the
    // fibers start (the slow fiber starts first: started in it, a stall could reorder them).
    const fastFuture = later(5);
    const slowFuture = later(25);
    const slow = inFiber(() => {
      slowFuture.wait();
      order.push('slow');
    });
    const fast = inFiber(() => {
      fastFuture.wait();
      order.push('fast');
    });
    await Promise.all([slow, fast]);
    expect(order).toEqual(['fast', 'slow']);
  });

  it('a future resolved from another fiber wakes the waiting one', async () => {
    const shared = new Future<string>();
    const waiter = inFiber(() => shared.wait());
    await inFiber(() => {
      later(2).wait();
      shared.return('from another fiber');
    });
    expect(await waiter).toBe('from another fiber');
  });
});

describe('Future: functions', () => {
  it('fn.future() runs fn in its own fiber (next tick) and returns a future of its result', async () => {
    const add = function (this: { base: number }, x: number) {
      later(2).wait();
      return this.base + x;
    }.future();
    const f = add.call({ base: 40 }, 2);
    expect(f.isResolved()).toBe(false);
    expect(await f.promise()).toBe(42);
    expect(String(add)).toMatch(/^<<Future function[\s\S]*\.future\(\)>>$/);
  });

  it('a function future waited on before it started runs inline in the waiting fiber', async () => {
    const r = await inFiber(() => {
      const outer = Fiber.current;
      const f = (() => Fiber.current === outer).future()();
      return f.wait();
    });
    expect(r).toBe(true);
  });

  it('fn.future(true) detaches each future', async () => {
    const uncaught = new Promise<unknown>((resolve) => process.once('uncaughtException', resolve));
    (() => {
      throw new Error('detached failure');
    }).future(true)();
    expect(((await uncaught) as Error).message).toBe('detached failure');
  });

  it('Future.task(fn) and Future.task(f1, f2, ...)', async () => {
    expect(await Future.task(() => 'one').promise()).toBe('one');
    expect(
      await Future.task(
        () => later(5, 1).wait(),
        () => 2,
      ).promise(),
    ).toEqual([1, 2]);
    await expect(
      Future.task(
        () => 1,
        () => {
          throw new Error('task failed');
        },
      ).promise(),
    ).rejects.toThrow('task failed');
    expect(() => Future.task('x' as any)).toThrow(`Future.task()'s argument must be a function, got string "x"`);
    // Described as everywhere else in greenloop (this used to say "undefined undefined").
    expect(() => Future.task(undefined as any)).toThrow("Future.task()'s argument must be a function, got undefined");
    expect(() => Future.fromPromise(undefined as any)).toThrow('got undefined');
    expect(() => Future.fromPromise(function notAPromise() {} as any)).toThrow('got function notAPromise');
  });

  it('Future.wrap(fn) wraps a callback API; the sync result is kept in `_`', async () => {
    const readFile = Future.wrap(fs.readFile);
    expect(await inFiber(() => readFile(join(dir, 'a.txt'), 'utf8').wait())).toBe('alpha');
    await expect(inFiber(() => readFile(join(dir, 'missing.txt')).wait())).rejects.toThrow(/ENOENT/);
    const withResult = Future.wrap((a: number, cb: (e: unknown, v: number) => void) => {
      setTimeout(() => cb(null, a * 2), 1);
      return 'sync result';
    });
    const f = withResult(21);
    expect(f._).toBe('sync result');
    expect(await f.promise()).toBe(42);
  });

  it('Future.wrap(fn, true) collects several callback values; execFile gives [stdout, stderr]', async () => {
    const exec = Future.wrap(execFile, true);
    const out = await inFiber(() =>
      exec(process.execPath, ['-e', 'process.stdout.write("out"); process.stderr.write("err")']).wait(),
    );
    expect(out).toEqual(['out', 'err']);
  });

  it('Future.wrap(object[, multi[, suffix]]) adds wrapped methods next to the originals', async () => {
    const wrappedFs = Future.wrap(fs);
    expect(wrappedFs.readFile).toBe(fs.readFile);
    const names = await inFiber(() => (wrappedFs.readdirFuture(dir).wait() as string[]).sort());
    expect(names).toEqual(['a.txt', 'b.txt']);
    const suffixed = Future.wrap(
      { twice: (x: number, cb: (e: unknown, v: number) => void) => cb(null, x * 2) },
      false,
      'F',
    );
    expect(suffixed.twiceF(4).get()).toBe(8);
    expect(() => Future.wrap(7)).toThrow(/Future\.wrap expects a function or an object, got number 7/);
  });

  it('Future.wrap of a function with function properties wraps those too', () => {
    const api = Object.assign((cb: (e: unknown, v: string) => void) => cb(null, 'main'), {
      get: (cb: (e: unknown, v: string) => void) => cb(null, 'get'),
    });
    const wrapped = Future.wrap(api);
    expect(wrapped().get()).toBe('main');
    expect(wrapped.getFuture().get()).toBe('get');
  });

  it('Function.prototype.future is not enumerable', () => {
    expect(Object.getOwnPropertyDescriptor(Function.prototype, 'future')!.enumerable).toBe(false);
  });
});

describe('Future: detach', () => {
  it("a detached future's error becomes an uncaught exception (child process)", () => {
    const run = runFixture('fibers-behaviour.js', [], ['detach']);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(3);
    expect(lastJson(run)).toEqual({ uncaught: 'escaped from detach', inFiber: false });
  });

  it('a detached future that succeeds says nothing', async () => {
    const f = later(1, 'fine');
    f.detach();
    expect(await f.promise()).toBe('fine');
  });
});
