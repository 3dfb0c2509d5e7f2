/**
 * {@link Event} and {@link AsyncResult}: waiting for something to happen.
 * @module
 */
import { TimeoutError } from '../errors.js';
import { getWithSignal } from '../hub/abort.js';
import { TIMED_OUT, Waiter } from '../hub/waiter.js';
import { readLimits, readTimeoutArg, type SignalOptions, type TimeoutOptions } from './options.js';

/**
 * Internal: `obj[kOnReady](fn)` calls `fn()` synchronously the next time the
 * Event is set (the AsyncResult gets an outcome) and returns a function that
 * cancels it; `iwait()` watches many objects this way.
 * @internal
 */
export const kOnReady: unique symbol = Symbol('greenloop.onReady');

/** Wakes every waiter in `waiters` (FIFO) with `value` and empties the set. */
function wakeAll<T>(waiters: Set<Waiter<T>>, value: T): void {
  if (waiters.size === 0) return;
  const list = [...waiters];
  waiters.clear();
  for (const w of list) w.switch(value);
}

/** Calls and forgets every watcher in `watchers`. */
function notifyAll(watchers: Set<() => void>): void {
  if (watchers.size === 0) return;
  const list = [...watchers];
  watchers.clear();
  for (const fn of list) fn();
}

function watch(watchers: Set<() => void>, fn: () => void): () => void {
  const entry = (): void => fn();
  watchers.add(entry);
  return () => watchers.delete(entry);
}

/**
 * A flag that greenlets wait for (gevent's `Event`): `wait()` parks until
 * someone calls `set()`; `set()` wakes all waiters, in the order they came,
 * at the hub's next pass (never by switching into them directly).
 * @example
 * ```ts
 * import { Event, spawn } from 'greenloop';
 * const ready = new Event();
 * spawn(() => { ready.wait(); console.log('go'); });
 * spawn(() => ready.set());
 * ```
 */
export class Event {
  #flag = false;
  readonly #waiters = new Set<Waiter<boolean>>();
  readonly #watchers = new Set<() => void>();

  /** Sets the flag and wakes every waiting greenlet. Callable anywhere, also on the hub. */
  set(): void {
    this.#flag = true;
    wakeAll(this.#waiters, true);
    notifyAll(this.#watchers);
  }

  /** @internal See {@link kOnReady}. */
  [kOnReady](fn: () => void): () => void {
    return watch(this.#watchers, fn);
  }

  /** Clears the flag; later `wait()` calls park again. */
  clear(): void {
    this.#flag = false;
  }

  /** Whether the flag is set. */
  isSet(): boolean {
    return this.#flag;
  }

  /**
   * Returns at once if the flag is set, else parks until `set()` or until
   * `timeout` ms pass. Returns true if the flag was set, false on timeout.
   * @param timeout - ms (`0` only checks), or `{ timeout, signal }`. @default null (no limit)
   * @throws GreenletError on the hub if it would have to wait.
   * @throws AbortError when `signal` is or gets aborted.
   * @throws a kill's or {@link Timeout}'s error that interrupts the wait.
   * @example
   * ```ts
   * import { Event, spawn } from 'greenloop';
   * const never = new Event();
   * spawn(() => {
   *   try { never.wait({ signal: AbortSignal.timeout(10) }); } catch (e) { console.log((e as Error).name); } // 'AbortError'
   * });
   * ```
   */
  wait(timeout?: number | null | TimeoutOptions): boolean {
    const { ms, signal } = readTimeoutArg(timeout);
    if (this.#flag) return true;
    if (ms === 0) return false;
    const w = new Waiter<boolean>('Event.wait()');
    this.#waiters.add(w);
    try {
      return getWithSignal(w, ms, signal) === true;
    } finally {
      this.#waiters.delete(w);
    }
  }

  /** How many greenlets wait now. */
  get waiting(): number {
    return this.#waiters.size;
  }
}

/** Options of {@link AsyncResult.get}. */
export interface AsyncResultGetOptions extends SignalOptions {
  /** Wait for the result; with `false`, throw {@link TimeoutError} at once if it is not ready. @default true */
  block?: boolean;
  /** Give up after this many ms with a {@link TimeoutError}. @default null (no limit) */
  timeout?: number | null;
}

/**
 * A value or an error that will arrive later (gevent's `AsyncResult`, a
 * blocking-style promise): `set(value)` or `setException(error)` wakes every
 * greenlet parked in `get()` or `wait()`. It can be set again; the last
 * outcome counts.
 * @typeParam T - the value's type.
 * @example
 * ```ts
 * import { AsyncResult, spawn } from 'greenloop';
 * const result = new AsyncResult<number>();
 * spawn(() => console.log(result.get())); // 42
 * setTimeout(() => result.set(42), 10);
 * ```
 */
export class AsyncResult<T = unknown> {
  #state: 'pending' | 'value' | 'error' = 'pending';
  #value: T | undefined = undefined;
  #exception: unknown = undefined;
  readonly #waiters = new Set<Waiter<boolean>>();
  readonly #watchers = new Set<() => void>();

  /** Stores `value` and wakes the waiters. Callable anywhere. */
  set(value: T): void {
    this.#state = 'value';
    this.#value = value;
    this.#exception = undefined;
    wakeAll(this.#waiters, true);
    notifyAll(this.#watchers);
  }

  /** Stores `error` (thrown by `get()`) and wakes the waiters. Callable anywhere. */
  setException(error: unknown): void {
    this.#state = 'error';
    this.#value = undefined;
    this.#exception = error;
    wakeAll(this.#waiters, true);
    notifyAll(this.#watchers);
  }

  /** @internal See {@link kOnReady}. */
  [kOnReady](fn: () => void): () => void {
    return watch(this.#watchers, fn);
  }

  /** Whether a value or an error has been set. */
  ready(): boolean {
    return this.#state !== 'pending';
  }

  /** Whether a value (not an error) has been set. */
  successful(): boolean {
    return this.#state === 'value';
  }

  /** The value, if one has been set. */
  get value(): T | undefined {
    return this.#value;
  }

  /** The error, if one has been set. */
  get exception(): unknown {
    return this.#exception;
  }

  /**
   * Returns the value or throws the error, parking until one is set.
   * @throws TimeoutError if not ready and `block` is false, or `timeout` ms pass.
   * @throws AbortError when `signal` is or gets aborted.
   * @throws GreenletError on the hub if it would have to wait.
   * @throws the error given to `setException()`.
   */
  get(options?: AsyncResultGetOptions): T {
    const limits = readLimits(options);
    const block = options?.block ?? true;
    const ms = limits.ms;
    if (this.#state === 'pending') {
      if (!block) throw new TimeoutError('the AsyncResult is not ready');
      if (!this.wait({ timeout: ms, signal: limits.signal })) {
        throw TimeoutError.after(ms, 'AsyncResult.get()');
      }
    }
    if (this.#state === 'error') throw this.#exception;
    return this.#value as T;
  }

  /**
   * Parks until a value or error is set or `timeout` ms pass; returns whether
   * it is ready (like `Event.wait()`; use `get()` for the value).
   * @param timeout - ms (`0` only checks), or `{ timeout, signal }`. @default null (no limit)
   * @throws GreenletError on the hub if it would have to wait.
   * @throws AbortError when `signal` is or gets aborted.
   */
  wait(timeout?: number | null | TimeoutOptions): boolean {
    const { ms, signal } = readTimeoutArg(timeout);
    if (this.#state !== 'pending') return true;
    if (ms === 0) return false;
    const w = new Waiter<boolean>('AsyncResult.wait()');
    this.#waiters.add(w);
    try {
      return getWithSignal(w, ms, signal) !== TIMED_OUT || this.#state !== 'pending';
    } finally {
      this.#waiters.delete(w);
    }
  }
}
