/**
 * {@link Waiter}: the one place where a greenlet parks.
 * @module
 */
import { getHub, type Task } from './hub.js';
import { GreenletError } from '../errors.js';
import { clearTimer, setTimer } from './timer.js';

const EMPTY = 0;
const VALUE = 1;
const ERROR = 2;

/**
 * A one-shot slot that a greenlet waits on: `get()` parks the current
 * greenlet until someone calls `switch(value)` or `throw(error)`, from any
 * event-loop callback or from another greenlet. As in gevent, a value that
 * arrives before `get()` is kept, so the order of the two does not matter.
 *
 * `switch()` and `throw()` never switch greenlets themselves: they schedule
 * the waiting greenlet on the hub's ready queue, which runs once per loop
 * turn. Only the first of them counts; later calls are ignored, and so is
 * one that comes after the waiting greenlet was interrupted by a kill or a
 * {@link Timeout} (wrap `get()` in `try`/`finally` to undo the operation then).
 *
 * Most code wants a higher-level primitive ({@link Event}, {@link AsyncResult},
 * {@link Queue}); a Waiter is what green IO is built from.
 * @typeParam T - the value `get()` returns.
 * @example
 * ```ts
 * import { Waiter } from 'greenloop';
 * function readFile(path: string): Buffer {
 *   const w = new Waiter<Buffer>('readFile()');
 *   fs.readFile(path, (err, data) => (err ? w.throw(err) : w.switch(data)));
 *   return w.get(); // parks this greenlet; other greenlets run meanwhile
 * }
 * ```
 */
export class Waiter<T = unknown> {
  /** What the greenlet waits for, shown by the exit report of parked greenlets. */
  readonly label: string;
  #state = EMPTY;
  #value: unknown = undefined;
  #task: Task | null = null;

  /**
   * @param label - what a greenlet parked here waits for, e.g. `'socket.recv()'`,
   *   for messages and the report of greenlets still parked at exit.
   * @default label `'Waiter.get()'`
   */
  constructor(label = 'Waiter.get()') {
    this.label = label;
  }

  /** True once `switch()` or `throw()` has been called (and until `clear()`). */
  get ready(): boolean {
    return this.#state !== EMPTY;
  }

  /**
   * Delivers `value`: the greenlet parked in `get()` is scheduled to resume
   * with it, or a later `get()` returns it at once. Ignored if the waiter
   * already has an outcome. Never switches; safe from any callback.
   */
  switch(value: T): void {
    this.#settle(VALUE, value);
  }

  /**
   * Delivers `error`, which `get()` throws. Otherwise as {@link Waiter.switch}.
   */
  throw(error: unknown): void {
    this.#settle(ERROR, error);
  }

  /** @internal The hub interrupts a parked greenlet through this. */
  settleThrow(error: unknown): boolean {
    return this.#settle(ERROR, error);
  }

  /** @internal Like switch(); says whether this value was taken. */
  deliver(value: T): boolean {
    return this.#settle(VALUE, value);
  }

  /**
   * Returns the delivered value or throws the delivered error, parking the
   * current greenlet until one arrives. If it has already arrived, returns or
   * throws at once, also on the hub.
   * @throws GreenletError when it would park the hub (outside any spawned
   *   greenlet), or inside a nested async scope (`AsyncResource#runInAsyncScope`)
   *   where Node's async stack cannot be saved (see async-stack.ts).
   * @throws the error given to {@link Waiter.throw}, or a kill's
   *   {@link GreenletExit} / a {@link Timeout}'s error that interrupts the wait.
   */
  get(): T {
    if (this.#state === EMPTY) {
      const hub = getHub();
      const task = hub.enterPark(this.label);
      this.#task = task;
      try {
        hub.park(task, this);
      } finally {
        this.#task = null;
      }
      if (this.#state === EMPTY) {
        throw new GreenletError(`${this.label} was resumed by a switch that did not come from the hub`);
      }
    }
    if (this.#state === ERROR) throw this.#value;
    return this.#value as T;
  }

  /**
   * Forgets the outcome, so the waiter can be used again.
   * @throws GreenletError while a greenlet is parked on it.
   */
  clear(): void {
    if (this.#task !== null) throw new GreenletError('cannot clear a Waiter while a greenlet waits on it');
    this.#state = EMPTY;
    this.#value = undefined;
  }

  /**
   * @internal Parks the current greenlet behind every greenlet that is ready
   * now, then returns: `sleep(0)`.
   */
  yield(): void {
    const hub = getHub();
    const task = hub.enterPark(this.label);
    // Settled before anyone waits on it; park() queues the greenlet itself.
    this.#state = VALUE;
    this.#task = task;
    try {
      hub.park(task, this, true);
    } finally {
      this.#task = null;
    }
  }

  #settle(state: number, value: unknown): boolean {
    if (this.#state !== EMPTY) return false;
    // Woken first: if that fails (a stack overflow), the waiter stays empty
    // and the caller gets the error, instead of an outcome nobody is woken for.
    if (this.#task !== null) getHub().wake(this.#task);
    this.#state = state;
    this.#value = value;
    return true;
  }
}

/** What {@link getWithTimeout} returns when the time ran out. @internal */
export const TIMED_OUT: unique symbol = Symbol('greenloop.timedOut');

function expire(w: Waiter<any>): void {
  w.switch(TIMED_OUT);
}

/**
 * `w.get()`, giving up after `ms` milliseconds (`null`: never) with
 * {@link TIMED_OUT}.
 * @internal
 */
export function getWithTimeout<T>(w: Waiter<T>, ms: number | null): T | typeof TIMED_OUT {
  if (ms === null || w.ready) return w.get();
  const timer = setTimer(expire, ms, w);
  try {
    return w.get();
  } finally {
    clearTimer(timer);
  }
}
