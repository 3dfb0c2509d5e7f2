/**
 * node-fibers' `Future`, on greenloop's {@link Fiber}. Loaded as
 * `greenloop/fibers/future` (whose whole export is {@link Future}, like
 * `require('fibers/future')`); loading it also defines
 * `Function.prototype.future()`, as node-fibers did.
 *
 * A future is a value that arrives later: `wait()` parks the running fiber
 * (only that fiber; the event loop and other fibers go on) until someone
 * calls `return(value)` or `throw(error)` on it, typically a node-style
 * callback made by `resolver()` or `Future.wrap()`.
 * @example
 * ```js
 * const Future = require('greenloop/fibers/future');
 * const fs = Future.wrap(require('fs'));
 * Future.task(() => {
 *   const names = fs.readdirFuture('.').wait();
 *   console.log(names.length, 'files');
 * }).detach();
 * ```
 * @module greenloop/fibers/future
 */
import { getcurrent } from '../greenlet.js';
import { checkFunction, describe } from '../hub/validate.js';
import { Waiter } from '../hub/waiter.js';
import { Fiber } from './fiber.js';

/** A node-style callback: `(error, value)`. */
export type Errback<T = any> = (error: any, value?: T) => void;

type Callback = [errbackOrFuture: Errback | Future, onSuccess: ((value: any) => void) | undefined];

function define(target: object, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** A callback that throws must not stop the others: its error goes to the event loop. */
function reportCallbackError(error: unknown): void {
  process.nextTick(() => {
    throw error;
  });
}

/**
 * A value (or error) that arrives later. See the module page for an example.
 * @example
 * ```js
 * const Fiber = require('greenloop/fibers');
 * const Future = require('greenloop/fibers/future');
 * const sleep = (ms) => { const f = new Future(); setTimeout(() => f.return(ms), ms); return f; };
 * Fiber(() => console.log(sleep(50).wait())).run(); // 50
 * ```
 */
export class Future<T = any> {
  /** What `Future.wrap()`'s wrapped function returned synchronously (node-fibers' `future._`). */
  _?: unknown;
  #resolved = false;
  #value: T | undefined = undefined;
  #error: unknown = undefined;
  #callbacks: Callback[] | null = null;

  /**
   * Wraps a node-style async function (its last parameter a callback) into
   * one that returns a Future instead. Given an object (a module), returns an
   * object inheriting from it where each function `name` also has a wrapped
   * `name + suffix`. The function's synchronous result is kept in the
   * future's `_` property.
   * @param multi - the callback gets several values after the error (e.g.
   *   `child_process.exec`): the future's value is their array.
   * @param suffix - @default 'Future'
   * @throws TypeError unless `fnOrObject` is a function or an object.
   * @example
   * ```js
   * const readFile = Future.wrap(require('fs').readFile);
   * Future.task(() => readFile('/etc/hostname', 'utf8').wait()).resolve(console.log);
   * const fs = Future.wrap(require('fs'));
   * Future.task(() => fs.statFuture('.').wait().isDirectory()); // true
   * ```
   */
  static wrap(fnOrObject: any, multi?: boolean, suffix?: string, stop?: boolean): any {
    if (typeof fnOrObject === 'object' && fnOrObject !== null) {
      const wrapped = Object.create(fnOrObject);
      for (const key in fnOrObject) {
        if (typeof wrapped[key] === 'function') {
          // Defined, not assigned: assignment would go through the prototype's
          // [[Set]], which a module namespace object (import * as fs) refuses.
          define(
            wrapped,
            suffix === undefined ? `${key}Future` : key + suffix,
            Future.wrap(wrapped[key], multi, suffix, stop),
          );
        }
      }
      return wrapped;
    }
    if (typeof fnOrObject !== 'function') {
      throw new TypeError(`Future.wrap expects a function or an object, got ${describe(fnOrObject)}`);
    }
    const fn = function (this: unknown, ...args: unknown[]): Future {
      const future = new Future();
      if (multi) {
        const resolve = future.resolver();
        args.push((error: unknown, ...values: unknown[]) => resolve(error, values));
      } else {
        args.push(future.resolver());
      }
      future._ = fnOrObject.apply(this, args);
      return future;
    };
    // Functions that carry more functions as properties (like `request`) get those wrapped too.
    if (!stop) {
      const proto = Object.create(fnOrObject);
      for (const key in fnOrObject) {
        if (Object.prototype.hasOwnProperty.call(fnOrObject, key) && typeof fnOrObject[key] === 'function') {
          define(proto, key, fnOrObject[key]);
        }
      }
      Object.setPrototypeOf(fn, Future.wrap(proto, multi, suffix, true));
    }
    return fn;
  }

  /**
   * Runs `fn` in a new fiber (from the next tick on, or at once in a fiber
   * that waits for it) and returns a future of its result. Given several
   * functions, runs each in its own fiber and returns a future of the array
   * of their results (the error of any that throws).
   * @throws TypeError unless every argument is a function.
   * @example
   * ```js
   * Future.task(() => {
   *   const [a, b] = Future.task(() => 1, () => 2).wait();
   *   return a + b;
   * }).resolve((err, sum) => console.log(sum)); // 3
   * ```
   */
  static task<R>(fn: () => R, ...more: Array<() => unknown>): Future<any> {
    checkFunction("Future.task()'s argument", fn);
    more.forEach((f) => checkFunction("Future.task()'s argument", f));
    if (more.length === 0) return fn.future()();
    const all = [fn, ...more];
    const future = new Future<unknown[]>();
    const values = new Array<unknown>(all.length);
    let pending = all.length;
    let failure: unknown;
    all.forEach((f, i) => {
      f.future()().resolve((error: unknown, value: unknown) => {
        if (error) failure = error;
        values[i] = value;
        if (--pending === 0) {
          if (failure) future.throw(failure);
          else future.return(values);
        }
      });
    });
    return future;
  }

  /**
   * Parks the running fiber until every given future (arrays are flattened)
   * has resolved. Does not throw their errors: call `get()` on each. A
   * function future not started yet runs right here, in this fiber. In a
   * greenlet of greenloop's hub (`spawn()`), parks that greenlet instead.
   * @throws Error "Can't wait without a fiber" outside a fiber and any
   *   spawned greenlet (on the event loop's own stack).
   * @throws Error "`x` is not a future" for anything else.
   * @example
   * ```js
   * const a = sleepFuture(10), b = sleepFuture(20);
   * Future.wait(a, b); // or Future.wait([a, b])
   * ```
   */
  static wait(...futures: Array<Future | Future[]>): void {
    const pendingFutures: Future[] = [];
    let inline: FunctionFuture | undefined;
    const take = (item: unknown): void => {
      if (!(item instanceof Future)) throw new Error(`${String(item)} is not a future`);
      if (item.isResolved()) return;
      if (inline === undefined && item instanceof FunctionFuture && !item.started) inline = item;
      else pendingFutures.push(item);
    };
    for (const arg of futures) {
      if (Array.isArray(arg)) arg.forEach(take);
      else take(arg);
    }
    const fiber = Fiber.current;
    // A greenlet of greenloop's hub (spawn()) may wait too: it parks on the hub instead of yielding.
    const waiter = fiber === undefined && !getcurrent().isRoot ? new Waiter<undefined>('Future.wait()') : null;
    if (!fiber && !waiter) throw new Error("Can't wait without a fiber");
    let pending = pendingFutures.length + (inline ? 1 : 0);
    const onResolved = (): void => {
      if (--pending !== 0) return;
      if (waiter) waiter.switch(undefined);
      else fiber!.run();
    };
    for (const f of pendingFutures) f.resolve(onResolved);
    if (inline) {
      inline.started = true;
      try {
        inline.return(inline.fn.apply(inline.context, inline.args));
      } catch (error) {
        inline.throw(error);
      }
      --pending;
    }
    if (!pending) return;
    if (waiter) waiter.get();
    else Fiber.yield();
  }

  /**
   * A future settled by `promise`: its value, or its rejection reason.
   * @example
   * ```js
   * Future.task(() => Future.fromPromise(fetch(url)).wait().status);
   * ```
   */
  static fromPromise<T>(promise: PromiseLike<T>): Future<T> {
    if (promise === null || typeof (promise as { then?: unknown })?.then !== 'function') {
      throw new TypeError(`Future.fromPromise expects a promise (a thenable), got ${describe(promise)}`);
    }
    const future = new Future<T>();
    promise.then(
      (value) => future.return(value),
      (error) => future.throw(error),
    );
    return future;
  }

  /**
   * The value, or throws the error (its stack then shows where `get()` was
   * called, then `- - - - -`, then where it was made; the original stack
   * stays in `error.futureStack`).
   * @throws Error "Future must resolve before value is ready" when unresolved.
   */
  get(): T {
    if (!this.#resolved) throw new Error('Future must resolve before value is ready');
    if (this.#error) {
      linkStacks(this.#error, Future.prototype.get);
      throw this.#error;
    }
    return this.#value as T;
  }

  /**
   * Resolves the future with `value`; pending callbacks run now, and a fiber
   * waiting on it resumes.
   * @throws Error "Future resolved more than once".
   */
  return(value?: T): void {
    if (this.#resolved) throw new Error('Future resolved more than once');
    this.#value = value;
    this.#resolved = true;
    this.#runCallbacks();
  }

  /**
   * Resolves the future with `error`, which `get()` and `wait()` throw.
   * Execution goes on after this call.
   * @throws Error "Future resolved more than once", or "Must throw non-empty
   *   error" for a falsy `error`.
   */
  throw(error: unknown): void {
    if (this.#resolved) throw new Error('Future resolved more than once');
    if (!error) throw new Error('Must throw non-empty error');
    this.#error = error;
    this.#resolved = true;
    this.#runCallbacks();
  }

  /**
   * Ends interest in the result but not in failure: an error the future
   * resolves with becomes an uncaught exception of the event loop.
   */
  detach(): void {
    this.resolve((error) => {
      if (error) throw error;
    });
  }

  /** Whether `return()` or `throw()` has been called. */
  isResolved(): boolean {
    return this.#resolved;
  }

  /**
   * A node-style callback `(error, value)` that resolves this future.
   * @example
   * ```js
   * const future = new Future();
   * fs.readFile(path, future.resolver());
   * const data = future.wait();
   * ```
   */
  resolver(): Errback<T> {
    return (error: unknown, value?: T) => {
      if (error) this.throw(error);
      else this.return(value);
    };
  }

  /**
   * Calls `callback(error, value)` once the future resolves (at once if it
   * has). With two arguments, `resolve(future, onSuccess)`: an error is
   * thrown into `future`, a value goes to `onSuccess(value)`.
   * @throws TypeError for a callback that is not a function.
   */
  resolve(callback: Errback<T>): this;
  resolve(errorTarget: Future, onSuccess: (value: T) => void): this;
  resolve(first: Errback<T> | Future, onSuccess?: (value: T) => void): this {
    if (onSuccess !== undefined) {
      checkFunction("resolve()'s success callback", onSuccess);
      if (!(first instanceof Future))
        throw new TypeError(`resolve(future, callback) expects a Future first, got ${describe(first)}`);
    } else {
      checkFunction("resolve()'s callback", first);
    }
    if (this.#resolved) {
      if (onSuccess) {
        if (this.#error) (first as Future).throw(this.#error);
        else onSuccess(this.#value as T);
      } else {
        (first as Errback<T>)(this.#error, this.#value);
      }
    } else {
      (this.#callbacks ??= []).push([first, onSuccess]);
    }
    return this;
  }

  /** Calls `callback(value)` once the future resolves with a value (never for an error). */
  resolveSuccess(callback: (value: T) => void): this {
    checkFunction("resolveSuccess()'s callback", callback);
    this.resolve((error, value) => {
      if (!error) callback(value as T);
    });
    return this;
  }

  /** Resolves `future` the same way once this one resolves. */
  proxy(future: Future<T>): void {
    if (!(future instanceof Future)) throw new TypeError(`proxy() expects a Future, got ${describe(future)}`);
    this.resolve((error, value) => {
      if (error) future.throw(error);
      else future.return(value);
    });
  }

  /** Throws this future's error, if it fails, into `futures` (one or an array). */
  proxyErrors(futures: Future | Future[]): this {
    const targets = Array.isArray(futures) ? futures : [futures];
    for (const f of targets) {
      if (!(f instanceof Future)) throw new TypeError(`proxyErrors() expects Futures, got ${describe(f)}`);
    }
    this.resolve((error) => {
      if (error) for (const f of targets) f.throw(error);
    });
    return this;
  }

  /** A promise settled by this future. */
  promise(): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.resolve((error, value) => (error ? reject(error) : resolve(value as T)));
    });
  }

  /**
   * Parks the running fiber (or spawned greenlet) until the future resolves,
   * then returns its value or throws its error (at once if it has resolved,
   * also outside a fiber).
   * @throws Error "Can't wait without a fiber" when unresolved on the event
   *   loop's own stack (outside any fiber or spawned greenlet).
   */
  wait(): T {
    if (this.isResolved()) return this.get();
    Future.wait(this);
    return this.get();
  }

  #runCallbacks(): void {
    const callbacks = this.#callbacks;
    if (callbacks === null) return;
    this.#callbacks = null;
    for (const [first, onSuccess] of callbacks) {
      try {
        if (onSuccess) {
          if (this.#error) (first as Future).throw(this.#error);
          else onSuccess(this.#value);
        } else {
          (first as Errback)(this.#error, this.#value);
        }
      } catch (error) {
        reportCallbackError(error);
      }
    }
  }
}

/** The future of a function call that runs in a fiber of its own (`fn.future()(...)`). */
class FunctionFuture extends Future {
  started = false;

  constructor(
    readonly fn: (...args: any[]) => unknown,
    readonly context: unknown,
    readonly args: unknown[],
  ) {
    super();
    process.nextTick(() => {
      if (this.started) return;
      this.started = true;
      Fiber(() => {
        try {
          this.return(fn.apply(context, args));
        } catch (error) {
          this.throw(error);
        }
      }).run();
    });
  }
}

/** Makes `error.stack` show the `get()` call site above the stack it was made with. */
function linkStacks(error: unknown, above: Function): void {
  if (error === null || typeof error !== 'object') return;
  const local: { stack?: string } = {};
  Error.captureStackTrace(local, above);
  let original = Object.getOwnPropertyDescriptor(error, 'futureStack');
  if (!original) {
    original = Object.getOwnPropertyDescriptor(error, 'stack');
    if (!original) return;
    Object.defineProperty(error, 'futureStack', original);
  }
  const read = (): string | undefined => (original!.get ? original!.get.call(error) : original!.value);
  Object.defineProperty(error, 'stack', {
    get() {
      const stack = read();
      if (typeof stack !== 'string') return local.stack;
      const lines = stack.split('\n');
      return [lines[0], ...(local.stack ?? '').split('\n').slice(1), '    - - - - -', ...lines.slice(1)].join('\n');
    },
    set(stack: unknown) {
      Object.defineProperty(error, 'stack', { value: stack, configurable: true, enumerable: false, writable: true });
    },
    configurable: true,
    enumerable: false,
  });
}

declare global {
  interface Function {
    /**
     * Defined by `greenloop/fibers/future`: a function that calls this one
     * in a fiber of its own and returns a {@link Future} of its result (so
     * it may `wait()` inside). `detach`: detach each returned future.
     */
    future(detach?: boolean): (...args: any[]) => Future;
  }
}

Object.defineProperty(Function.prototype, 'future', {
  value: function future(this: (...args: any[]) => unknown, detach?: boolean) {
    const fn = this;
    const wrapped = function (this: unknown, ...args: unknown[]): Future {
      const f = new FunctionFuture(fn, this, args);
      if (detach) f.detach();
      return f;
    };
    wrapped.toString = () => `<<Future ${fn}.future()>>`;
    return wrapped;
  },
  writable: true,
  configurable: true,
  enumerable: false,
});
