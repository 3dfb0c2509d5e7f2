/**
 * Semaphores and locks: {@link Semaphore}, {@link BoundedSemaphore},
 * {@link Lock}, {@link RLock}.
 *
 * All are fair: a release hands the permit straight to the greenlet that has
 * waited longest, so a greenlet that calls `acquire()` later cannot overtake
 * one that is already waiting.
 * @module
 */
import { LockReleaseError } from '../errors.js';
import { type Greenlet as RawGreenlet, getcurrent } from '../greenlet.js';
import { getWithSignal } from '../hub/abort.js';
import { checkFunction, describe } from '../hub/validate.js';
import { Waiter } from '../hub/waiter.js';
import { readLimits, type SignalOptions } from './options.js';

/** Options of `acquire()`. */
export interface AcquireOptions extends SignalOptions {
  /**
   * Wait for a permit; with `false`, return false at once if none is free.
   * @default true
   */
  blocking?: boolean;
  /** Give up after this many ms (returning false). @default null (no limit) */
  timeout?: number | null;
}

/**
 * Runs `fn()` between `lock.acquire()` and `lock.release()`, releasing also
 * if it throws: the body of every `withLock()`.
 */
function runHolding<T>(lock: { acquire(): boolean; release(): void }, fn: () => T): T {
  checkFunction('fn', fn);
  lock.acquire();
  try {
    return fn();
  } finally {
    lock.release();
  }
}

/**
 * A counter of permits (gevent's `Semaphore`): `acquire()` takes one, parking
 * while none is free; `release()` gives one back.
 * @example
 * ```ts
 * import { Semaphore, spawn } from 'greenloop';
 * const slots = new Semaphore(2); // at most 2 downloads at once
 * for (const url of urls) spawn(() => slots.withLock(() => download(url)));
 * ```
 */
export class Semaphore {
  #value: number;
  readonly #waiters = new Set<Waiter<boolean>>();

  /**
   * @param value - the permits free at first, an integer >= 0. @default 1
   */
  constructor(value = 1) {
    if (!Number.isInteger(value) || value < 0) {
      throw new TypeError(`value must be an integer >= 0, got ${describe(value)}`);
    }
    this.#value = value;
  }

  /** How many permits are free now. */
  get counter(): number {
    return this.#value;
  }

  /** True when no permit is free (an `acquire()` would wait). */
  locked(): boolean {
    return this.#value === 0;
  }

  /**
   * Takes a permit, parking while none is free (behind every greenlet that
   * already waits). Returns true once acquired, false if `blocking` is false
   * and none was free or `timeout` ms passed.
   * @throws GreenletError on the hub if it would have to wait.
   * @throws AbortError when `signal` is or gets aborted (no permit is taken).
   * @throws a kill's or {@link Timeout}'s error that interrupts the wait (no
   *   permit is taken then).
   */
  acquire(options?: AcquireOptions): boolean {
    const { ms, signal } = readLimits(options);
    const blocking = options?.blocking ?? true;
    if (this.#value > 0 && this.#waiters.size === 0) {
      this.#value--;
      return true;
    }
    if (!blocking || ms === 0) return false;
    const w = new Waiter<boolean>(`${this.constructor.name}.acquire()`);
    this.#waiters.add(w);
    try {
      return getWithSignal(w, ms, signal) === true;
    } finally {
      this.#waiters.delete(w);
    }
  }

  /**
   * Gives a permit back: to the longest-waiting greenlet if any (scheduled to
   * resume), else to the counter. Callable anywhere, also on the hub.
   */
  release(): void {
    for (const w of this.#waiters) {
      this.#waiters.delete(w);
      if (w.deliver(true)) return;
    }
    this.#value++;
  }

  /**
   * Runs `fn()` holding a permit: acquires, runs, releases (also if it throws).
   * @returns what `fn` returns.
   */
  withLock<T>(fn: () => T): T {
    return runHolding(this, fn);
  }

  /**
   * Releases (see {@link Semaphore.release}), so that `using` releases a
   * permit acquired just before.
   * @example
   * ```ts
   * lock.acquire();
   * using _held = lock; // released at the end of the block
   * ```
   */
  [Symbol.dispose](): void {
    this.release();
  }

  /** @internal For subclasses: permits free plus those handed out is checked there. */
  protected get waitingCount(): number {
    return this.#waiters.size;
  }
}

/**
 * A {@link Semaphore} that may not be released more often than acquired:
 * `release()` beyond the initial value throws {@link LockReleaseError}.
 * @example
 * ```ts
 * const s = new BoundedSemaphore(1);
 * s.acquire();
 * s.release();
 * s.release(); // throws LockReleaseError
 * ```
 */
export class BoundedSemaphore extends Semaphore {
  readonly #initial: number;

  constructor(value = 1) {
    super(value);
    this.#initial = value;
  }

  /**
   * @throws LockReleaseError when it would exceed the initial value.
   */
  override release(): void {
    if (this.counter >= this.#initial && this.waitingCount === 0) {
      throw new LockReleaseError(`${this.constructor.name} released too many times (initial value ${this.#initial})`);
    }
    super.release();
  }
}

/**
 * A mutual-exclusion lock (gevent's `Lock`: a bounded semaphore of 1). Any
 * greenlet may release it; releasing an unlocked Lock throws
 * {@link LockReleaseError}. See {@link RLock} for one its holder can re-enter.
 * @example
 * ```ts
 * const lock = new Lock();
 * spawn(() => lock.withLock(() => { account.balance -= 10; sleep(1); account.balance += 10; }));
 * ```
 */
export class Lock extends BoundedSemaphore {
  constructor() {
    super(1);
  }
}

/**
 * A re-entrant lock (gevent's `RLock`): the greenlet holding it may acquire it
 * again, and must release it as often. Only the holder may release it.
 * On the hub (top-level code, callbacks) the hub itself is the holder; a
 * greenlet that dies holding it leaves it locked.
 * @example
 * ```ts
 * const lock = new RLock();
 * function transfer() { lock.withLock(() => { audit(); move(); }); }
 * function audit() { lock.withLock(() => log()); } // re-entered by the same greenlet: no deadlock
 * ```
 */
export class RLock {
  readonly #lock = new Semaphore(1);
  #owner: RawGreenlet | null = null;
  #count = 0;

  /**
   * Acquires the lock, or counts one more hold if the current greenlet already
   * holds it. Returns whether it is held (see {@link Semaphore.acquire}).
   */
  acquire(options?: AcquireOptions): boolean {
    const me = getcurrent();
    if (this.#owner === me) {
      this.#count++;
      return true;
    }
    if (!this.#lock.acquire(options)) return false;
    this.#owner = me;
    this.#count = 1;
    return true;
  }

  /**
   * Drops one hold; the last one unlocks it.
   * @throws LockReleaseError when the current greenlet does not hold it.
   */
  release(): void {
    if (this.#owner !== getcurrent()) {
      throw new LockReleaseError('cannot release an RLock that the current greenlet does not hold');
    }
    if (--this.#count === 0) {
      this.#owner = null;
      this.#lock.release();
    }
  }

  /** True when some greenlet holds it. */
  locked(): boolean {
    return this.#owner !== null;
  }

  /** Runs `fn()` holding the lock (see {@link Semaphore.withLock}). */
  withLock<T>(fn: () => T): T {
    return runHolding(this, fn);
  }

  /** Releases one hold, for `using`. */
  [Symbol.dispose](): void {
    this.release();
  }
}
