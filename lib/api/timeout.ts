/**
 * {@link Timeout} and {@link withTimeout}: limits on how long a greenlet waits.
 * @module
 */
import { GreenletError, TimeoutError } from '../errors.js';
import { getcurrent } from '../greenlet.js';
import { getHub, taskOf, type Task } from '../hub/hub.js';
import { clearTimer, setTimer, type Timer } from '../hub/timer.js';
import { checkFunction, checkOptions, checkTimeout } from '../hub/validate.js';

/**
 * A time limit on the greenlet that starts it (gevent's `Timeout`). When it
 * expires, its error — a {@link TimeoutError}, or the `error` given — is
 * raised in that greenlet at the point where it is parked (a `sleep()`, a
 * queue's `get()`, a green socket read, ...). If the greenlet is running
 * rather than parked then, the error is raised at its next park, unless the
 * Timeout is cancelled first.
 *
 * Always `cancel()` it (or use `using`, or {@link withTimeout}) once the
 * guarded code is done, or it will interrupt some later wait. Timeouts nest:
 * each raises its own error.
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

  /**
   * @param ms - the limit in ms; `null`, `undefined` or `Infinity` make a
   *   Timeout that never expires (handy to make a limit optional).
   * @param error - raised when it expires. @default a new TimeoutError
   */
  constructor(ms?: number | null, error?: unknown) {
    this.ms = checkTimeout('ms', ms);
    this.#hasError = arguments.length >= 2;
    this.#error = error;
  }

  /**
   * `new Timeout(ms, error).start()`.
   * @example
   * ```ts
   * using t = Timeout.startNew(100);
   * ```
   */
  static startNew(ms?: number | null, error?: unknown): Timeout {
    return (arguments.length >= 2 ? new Timeout(ms, error) : new Timeout(ms)).start();
  }

  /**
   * The error this Timeout raises (created on first use): compare a caught
   * error with it to know whether this Timeout was the cause.
   */
  get error(): unknown {
    if (!this.#hasError) {
      const error = new TimeoutError(`timed out after ${this.ms} ms`);
      error.ms = this.ms ?? undefined;
      this.#error = error;
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

  /**
   * Starts the clock for the current greenlet.
   * @returns this Timeout.
   * @throws GreenletError on the hub (there is no park point a Timeout could
   *   interrupt there), or if it is already pending.
   */
  start(): this {
    if (this.#timer !== null) throw new GreenletError('this Timeout is already pending; cancel() it before starting it again');
    const g = getcurrent();
    if (g.isRoot) {
      throw new GreenletError(
        "Timeout.start() on the event loop's own greenlet (the hub) could never interrupt anything; start it inside a greenlet started with spawn()",
      );
    }
    this.#task = taskOf(g);
    this.#fired = false;
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

  #expire(): void {
    this.#timer = null;
    this.#fired = true;
    const task = this.#task;
    if (task !== null) getHub().throwInto(task, this.error, this);
  }
}

/** Options of {@link withTimeout}. */
export interface WithTimeoutOptions<F> {
  /** Returned instead of throwing when the time runs out. */
  fallback?: F;
}

/**
 * Runs `fn()` in the current greenlet with a {@link Timeout} of `ms`; returns
 * its value, or `fallback` if the time runs out (when a `fallback` key is
 * given), else throws the {@link TimeoutError}. The Timeout is cancelled when
 * `fn` ends either way.
 * @throws TimeoutError when `ms` pass and no `fallback` was given.
 * @throws GreenletError on the hub.
 * @example
 * ```ts
 * const body = withTimeout(2000, () => wait(fetch(url)).text(), { fallback: null });
 * ```
 */
export function withTimeout<T, F = never>(ms: number | null | undefined, fn: () => T, options?: WithTimeoutOptions<F>): T | F {
  checkFunction('fn', fn);
  checkOptions('options', options);
  const timeout = new Timeout(ms).start();
  try {
    return fn();
  } catch (error) {
    if (timeout.expired && error === timeout.error && options !== undefined && 'fallback' in options) {
      return options.fallback as F;
    }
    throw error;
  } finally {
    timeout.cancel();
  }
}
