/**
 * {@link Timeout} and {@link withTimeout}: limits on how long a greenlet waits.
 * @module
 */
import { GreenletError, TimeoutError } from '../errors.js';
import { getcurrent } from '../greenlet.js';
import { getHub, taskOf, type Task } from '../hub/hub.js';
import { clearTimer, setTimer, type Timer } from '../hub/timer.js';
import { abortError, checkSignal, throwIfAborted } from '../hub/abort.js';
import { checkFunction, checkOptions, checkTimeout } from '../hub/validate.js';
import type { SignalOptions } from './options.js';

/** Options of the {@link Timeout} constructor. */
export type TimeoutConstructorOptions = SignalOptions;

/**
 * A time limit on the greenlet that starts it (gevent's `Timeout`). When it
 * expires, its error — a {@link TimeoutError}, or the `error` given — is
 * raised in that greenlet at the point where it is parked (a `sleep()`, a
 * queue's `get()`, a green socket read, ...). If the greenlet is running
 * rather than parked then, the error is raised at its next park, unless the
 * Timeout is cancelled first.
 *
 * Always `cancel()` it (or use `using`, {@link Timeout.run} or
 * {@link withTimeout}) once the guarded code is done, or it will interrupt
 * some later wait. Timeouts nest: each raises its own error.
 *
 * `new Timeout(ms, false)` is gevent's silent timeout: {@link Timeout.run}
 * then returns `undefined` when it fires instead of throwing. Its
 * {@link Timeout.signal} aborts when it fires, for handing to `fetch()` and
 * other signal-taking APIs; its `signal` option cancels the guarded code with
 * an `AbortError`.
 * @example
 * ```ts
 * import { Timeout, TimeoutError, spawn } from 'greenloop';
 * spawn(() => {
 *   const t = new Timeout(500).start();
 *   try {
 *     const line = socket.readLine();
 *   } catch (e) {
 *     if (e !== t.error) throw e; // someone else's timeout or a real error
 *     console.log('no line within 500 ms');
 *   } finally {
 *     t.cancel();
 *   }
 * });
 * ```
 */
export class Timeout {
  /** The limit in ms; `null` for a Timeout that never expires. */
  readonly ms: number | null;
  #error: unknown;
  #hasError: boolean;
  #timer: Timer | null = null;
  #task: Task | null = null;
  #fired = false;
  readonly #silent: boolean;
  readonly #cancelSignal: AbortSignal | undefined;
  #onCancelSignal: (() => void) | null = null;
  #controller: AbortController | null = null;

  /**
   * @param ms - the limit in ms; `null`, `undefined` or `Infinity` make a
   *   Timeout that never expires (handy to make a limit optional).
   * @param error - raised when it expires; `false` makes it silent (it raises
   *   its own TimeoutError, which {@link Timeout.run} swallows, as gevent's
   *   `Timeout(seconds, False)`). With `options`, `undefined` means the default.
   *   @default a new TimeoutError
   * @param options - `signal`: aborting it while the Timeout is pending raises
   *   an `AbortError` in the greenlet, as an early expiry would.
   * @example
   * ```ts
   * import { Timeout, sleep, spawn } from 'greenloop';
   * spawn(() => {
   *   const controller = new AbortController();
   *   setTimeout(() => controller.abort(), 10);
   *   using t = new Timeout(60_000, undefined, { signal: controller.signal }).start();
   *   try { sleep(60_000); } catch (e) { console.log((e as Error).name); } // 'AbortError'
   * });
   * ```
   */
  constructor(ms?: number | null, error?: unknown, options?: TimeoutConstructorOptions) {
    this.ms = checkTimeout('ms', ms);
    checkOptions('options', options);
    this.#cancelSignal = checkSignal('options.signal', options?.signal);
    this.#silent = error === false;
    this.#hasError = arguments.length >= 2 && !this.#silent && !(arguments.length >= 3 && error === undefined);
    this.#error = error;
  }

  /**
   * `new Timeout(ms, error).start()`.
   * @example
   * ```ts
   * using t = Timeout.startNew(100);
   * ```
   */
  static startNew(ms?: number | null, error?: unknown, options?: TimeoutConstructorOptions): Timeout {
    if (arguments.length >= 3) return new Timeout(ms, error, options).start();
    return (arguments.length >= 2 ? new Timeout(ms, error) : new Timeout(ms)).start();
  }

  /**
   * The error this Timeout raises (created on first use): compare a caught
   * error with it to know whether this Timeout was the cause.
   */
  get error(): unknown {
    if (!this.#hasError) {
      this.#error = TimeoutError.after(this.ms);
      this.#hasError = true;
    }
    return this.#error;
  }

  /** True while started and neither expired nor cancelled. */
  get pending(): boolean {
    return this.#timer !== null;
  }

  /** True once it has expired (its error was sent to the greenlet). */
  get expired(): boolean {
    return this.#fired;
  }

  /** Whether it was made silent with `new Timeout(ms, false)` (see {@link Timeout.run}). */
  get silent(): boolean {
    return this.#silent;
  }

  /**
   * An `AbortSignal` that aborts when this Timeout expires (its `reason` is
   * {@link Timeout.error}), for APIs that take a signal (`fetch`, undici,
   * `node:fs/promises`): they stop with it. It never aborts if the Timeout is
   * cancelled first; starting the Timeout again after it expired gives a new one.
   * @example
   * ```ts
   * import { Timeout, spawn, wait } from 'greenloop';
   * import { setTimeout as later } from 'node:timers/promises';
   * spawn(() => {
   *   using t = new Timeout(10).start();
   *   try { wait(later(60_000, 'late', { signal: t.signal })); }
   *   catch (e) { console.log(e === t.error || (e as Error).name === 'AbortError'); } // true
   * });
   * ```
   */
  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    return this.#controller.signal;
  }

  /**
   * Starts the clock for the current greenlet.
   * @returns this Timeout.
   * @throws GreenletError on the hub (there is no park point a Timeout could
   *   interrupt there), or if it is already pending.
   * @throws AbortError if its `signal` option is already aborted.
   */
  start(): this {
    if (this.#timer !== null)
      throw new GreenletError('this Timeout is already pending; cancel() it before starting it again');
    const g = getcurrent();
    if (g.isRoot) {
      throw new GreenletError(
        "Timeout.start() on the event loop's own greenlet (the hub) could never interrupt anything; start it inside a greenlet started with spawn()",
      );
    }
    throwIfAborted(this.#cancelSignal);
    this.#task = taskOf(g);
    if (this.#fired && this.#controller?.signal.aborted) this.#controller = null;
    this.#fired = false;
    const cancelSignal = this.#cancelSignal;
    if (cancelSignal !== undefined) {
      const task = this.#task;
      const onAbort = (): void => {
        if (this.#task === task) getHub().throwInto(task, abortError(cancelSignal), this);
      };
      cancelSignal.addEventListener('abort', onAbort, { once: true });
      this.#onCancelSignal = onAbort;
    }
    if (this.ms !== null) {
      // A timer that cancel() could not clear (at the edge of the stack) fires as a no-op.
      const timer = setTimer(() => {
        if (this.#timer === timer) this.#expire();
      }, this.ms);
      this.#timer = timer;
    }
    return this;
  }

  /**
   * Stops the clock. If it has expired but its error has not been raised yet
   * (the greenlet was not parked), the error is taken back. Idempotent.
   */
  cancel(): void {
    this.#dropCancelSignal();
    if (this.#timer !== null) {
      const timer = this.#timer;
      this.#timer = null;
      clearTimer(timer);
    }
    if (this.#task !== null) {
      getHub().retract(this.#task, this);
      this.#task = null;
    }
  }

  /** Same as {@link Timeout.cancel}: `using t = new Timeout(100).start()` cancels at the end of the block. */
  [Symbol.dispose](): void {
    this.cancel();
  }

  /**
   * Runs `fn(...args)` under this Timeout: starts it, runs, cancels it
   * (also if `fn` throws). The block form of gevent's `with Timeout(...)`:
   * for a silent Timeout (`new Timeout(ms, false)`) that fires, returns
   * `undefined` instead of throwing its error.
   * @throws this Timeout's error when it fires (unless silent), or what `fn` throws.
   * @throws GreenletError on the hub, or if it is already pending.
   * @example
   * ```ts
   * import { Timeout, sleep, spawn } from 'greenloop';
   * spawn(() => {
   *   const r = new Timeout(10, false).run(() => { sleep(60_000); return 'slept'; });
   *   console.log(r); // undefined: the block was cut short, quietly
   * });
   * ```
   */
  run<A extends unknown[], T>(fn: (...args: A) => T, ...args: A): T | undefined {
    checkFunction('fn', fn);
    this.start();
    try {
      return fn(...args);
    } catch (error) {
      if (this.#silent && this.#fired && error === this.error) return undefined;
      throw error;
    } finally {
      this.cancel();
    }
  }

  #dropCancelSignal(): void {
    if (this.#onCancelSignal !== null) {
      this.#cancelSignal!.removeEventListener('abort', this.#onCancelSignal);
      this.#onCancelSignal = null;
    }
  }

  #expire(): void {
    this.#timer = null;
    this.#fired = true;
    this.#dropCancelSignal();
    const task = this.#task;
    if (task !== null) getHub().throwInto(task, this.error, this);
    this.#controller?.abort(this.error);
  }
}

/** Options of {@link withTimeout}. */
export interface WithTimeoutOptions<F> {
  /** Returned instead of throwing when the time runs out (gevent's `timeout_value`). */
  fallback?: F;
}

/** The legacy form's third argument: an object whose only own key is `fallback`. */
function isFallbackOptions(fn: (...args: any[]) => unknown, rest: unknown[]): boolean {
  if (rest.length !== 1 || fn.length !== 0) return false;
  const options = rest[0];
  if (options === null || typeof options !== 'object' || Object.getPrototypeOf(options) !== Object.prototype)
    return false;
  const keys = Object.keys(options);
  return keys.length === 1 && keys[0] === 'fallback';
}

/**
 * Runs `fn(...args)` in the current greenlet with a {@link Timeout} of `ms`
 * (gevent's `with_timeout(seconds, function, *args)`) and returns its value;
 * throws the {@link TimeoutError} if the time runs out. The Timeout is
 * cancelled when `fn` ends either way.
 *
 * `withTimeout(ms, fn, { fallback })` (gevent's `timeout_value=`) returns
 * `fallback` instead of throwing. That form is recognised when `fn` declares
 * no parameters and the one argument after it is a plain object whose only
 * key is `fallback`; to pass such an object to `fn` as its argument, declare
 * the parameter.
 * @throws TimeoutError when `ms` pass and no `fallback` was given.
 * @throws GreenletError on the hub.
 * @example
 * ```ts
 * import { sleep, spawn, withTimeout } from 'greenloop';
 * spawn(() => {
 *   console.log(withTimeout(1000, (a: number, b: number) => a + b, 1, 2)); // 3
 *   console.log(withTimeout(10, () => { sleep(60_000); return 'slept'; }, { fallback: 'too slow' })); // too slow
 * });
 * ```
 */
export function withTimeout<T, F>(ms: number | null | undefined, fn: () => T, options: WithTimeoutOptions<F>): T | F;
export function withTimeout<A extends unknown[], T>(
  ms: number | null | undefined,
  fn: (...args: A) => T,
  ...args: A
): T;
export function withTimeout(
  ms: number | null | undefined,
  fn: (...args: any[]) => unknown,
  ...rest: unknown[]
): unknown {
  checkFunction('fn', fn);
  const withFallback = isFallbackOptions(fn, rest);
  const timeout = new Timeout(ms).start();
  try {
    return withFallback ? fn() : fn(...rest);
  } catch (error) {
    if (withFallback && timeout.expired && error === timeout.error)
      return (rest[0] as WithTimeoutOptions<unknown>).fallback;
    throw error;
  } finally {
    timeout.cancel();
  }
}
