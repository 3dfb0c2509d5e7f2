/**
 * {@link wait} and {@link iwait}: blocking-style waits for promises, and
 * gevent's `wait(objects)` / `iwait(objects)` over greenlets, events and results.
 *
 * How gevent's names map: `gevent.wait(objects, timeout, count)` is
 * `wait(objects, { timeout, count })` with an array; `gevent.iwait(objects,
 * timeout, count)` is `iwait(objects, { timeout, count })`. `wait(promise)`
 * (not an array) is greenloop's own: it returns the promise's value.
 * @module
 */
import { getWithSignal } from '../hub/abort.js';
import { assertMayBlock } from '../hub/hub.js';
import { describe, isThenable } from '../hub/validate.js';
import { TIMED_OUT, Waiter } from '../hub/waiter.js';
import { AsyncResult, Event, kOnReady } from './event.js';
import { Greenlet, kObserve, kRawlink, kUnlink } from './greenlet.js';
import { readLimits, type SignalOptions } from './options.js';
import { parkOnThenable } from './promise.js';

/** Anything with a Promises/A+ `then`, however minimal (see {@link wait}). */
export interface Thenable<T> {
  then(onFulfilled: (value: T) => unknown, onRejected?: (reason: unknown) => unknown): unknown;
}

/** Options of {@link wait} for a promise. */
export interface WaitOptions extends SignalOptions {
  /**
   * Give up after this many ms with a {@link TimeoutError} (the promise goes
   * on; its outcome is then ignored).
   * @default null (wait as long as it takes)
   */
  timeout?: number | null;
}

/**
 * What {@link iwait} and `wait(objects)` watch: a {@link Greenlet} (ready when
 * it has finished), an {@link Event} (when set), an {@link AsyncResult} (when
 * it has a value or an error) or a promise (when it has settled).
 */
export type Waitable = Greenlet<any, any> | Event | AsyncResult<any> | PromiseLike<unknown>;

/** Options of {@link iwait} and of `wait(objects)`. */
export interface IwaitOptions extends SignalOptions {
  /**
   * Stop after this many ms in all (quietly: `iwait` ends, `wait` returns
   * what was ready by then). @default null (no limit)
   */
  timeout?: number | null;
  /** Stop after this many objects are ready. @default all of them */
  count?: number | null;
}

function isReady(o: Waitable, settled: Set<Waitable>): boolean {
  if (o instanceof Greenlet) return o.ready();
  if (o instanceof Event) return o.isSet();
  if (o instanceof AsyncResult) return o.ready();
  return settled.has(o);
}

/** Calls `fn()` once `o` is ready; returns what cancels that. */
function whenReady(o: Waitable, fn: () => void): () => void {
  if (o instanceof Greenlet) {
    const link = o[kRawlink](fn);
    return () => o[kUnlink](link);
  }
  if (o instanceof Event || o instanceof AsyncResult) return o[kOnReady](fn);
  let live = true;
  const settle = (): void => {
    if (live) fn();
  };
  (o as PromiseLike<unknown>).then(settle, settle);
  return () => {
    live = false;
  };
}

function checkWaitables<O extends Waitable>(objects: Iterable<O>): O[] {
  if (objects == null || typeof (objects as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function') {
    throw new TypeError(
      `objects must be an iterable of greenlets, events, results or promises, got ${describe(objects)}`,
    );
  }
  const list = [...objects];
  for (const o of list) {
    if (!(o instanceof Greenlet || o instanceof Event || o instanceof AsyncResult || isThenable(o))) {
      throw new TypeError(`objects must hold greenlets, events, results or promises, got ${describe(o)}`);
    }
  }
  return list;
}

function checkCount(count: unknown, length: number): number {
  if (count === undefined || count === null) return length;
  if (typeof count !== 'number' || !(Number.isInteger(count) || count === Infinity) || count < 0) {
    throw new TypeError(`count must be an integer >= 0, null or undefined, got ${describe(count)}`);
  }
  return Math.min(count, length);
}

/**
 * Yields each of `objects` as it becomes ready, in the order they do (those
 * ready already first, in the given order), until `count` have been yielded,
 * all have, or `timeout` ms have passed (gevent's `iwait`). Each object is
 * yielded once. Watching a greenlet counts as joining it (its error is not
 * reported as unjoined). Arguments are checked at the call, before iterating.
 * @param options - `timeout` (for the whole iteration, ending it quietly),
 *   `count`, `signal`.
 * @throws TypeError for an object that is none of the {@link Waitable}s.
 * @throws AbortError from the iteration when `signal` is or gets aborted.
 * @throws GreenletError on the hub when it would have to wait.
 * @example
 * ```ts
 * import { iwait, sleep, spawn } from 'greenloop';
 * spawn(() => {
 *   const gs = [30, 10, 20].map((ms) => spawn(() => { sleep(ms); return ms; }));
 *   for (const g of iwait(gs)) console.log(g.value); // 10, 20, 30
 * });
 * ```
 */
export function iwait<O extends Waitable>(objects: Iterable<O>, options?: IwaitOptions): Generator<O, void, undefined> {
  const list = checkWaitables(objects);
  const { ms, signal } = readLimits(options);
  const count = checkCount(options?.count, list.length);
  return iterateReady(list, ms, signal, count);
}

function* iterateReady<O extends Waitable>(
  list: O[],
  ms: number | null,
  signal: AbortSignal | undefined,
  count: number,
): Generator<O, void, undefined> {
  for (const o of list) if (o instanceof Greenlet) o[kObserve]();
  const deadline = ms === null ? null : Date.now() + ms;
  const settled = new Set<Waitable>();
  const arrived: O[] = [];
  let wake: Waiter<boolean> | null = null;
  const cancels: (() => void)[] = [];
  let yielded = 0;
  let timedOut = false;
  try {
    const pending: O[] = [];
    for (const o of list) (isReady(o, settled) ? arrived : pending).push(o);
    for (const o of pending) {
      cancels.push(
        whenReady(o, () => {
          settled.add(o);
          arrived.push(o);
          wake?.switch(true);
        }),
      );
    }
    while (yielded < count) {
      if (arrived.length === 0) {
        const left = deadline === null ? null : deadline - Date.now();
        if (timedOut || (left !== null && left <= 0)) return;
        assertMayBlock('iwait()');
        wake = new Waiter<boolean>('iwait()');
        // Objects that became ready in the same turn as the timeout are still yielded.
        timedOut = getWithSignal(wake, left, signal) === TIMED_OUT;
        wake = null;
        continue;
      }
      yielded++;
      yield arrived.shift()!;
    }
  } finally {
    wake = null;
    for (const cancel of cancels) cancel();
  }
}

/**
 * Parks the current greenlet until `promise` settles, then returns its value
 * or throws its rejection, so any promise-based library can be called in
 * blocking style. Other greenlets and callbacks run meanwhile.
 *
 * Given an array instead, it is gevent's `wait(objects, timeout, count)`:
 * see the other overload.
 * @param promise - a Promise or any thenable.
 * @throws GreenletError on the hub (outside a spawned greenlet), even if the
 *   promise has already settled: the hub cannot wait for the loop it runs.
 * @throws TimeoutError when `timeout` ms pass first.
 * @throws AbortError when `signal` is or gets aborted (the promise goes on).
 * @throws the rejection reason, or a kill / {@link Timeout} interrupting the wait.
 * @example
 * ```ts
 * import { spawn, wait } from 'greenloop';
 * import { setTimeout as later } from 'node:timers/promises';
 * spawn(() => console.log(wait(later(10, 'done')))); // done
 * ```
 */
export function wait<T>(promise: PromiseLike<T> | Thenable<T>, options?: WaitOptions): Awaited<T>;
/**
 * gevent's `wait(objects, timeout, count)`: parks until every object in the
 * array is ready, or `count` of them are, or `timeout` ms pass, and returns
 * those that are ready, in the order they became so (see {@link iwait}).
 * A timeout is not an error here: it returns what was ready by then.
 * Promises in the array are returned as they are, not their values (use
 * `wait(Promise.all(...))` for values).
 * @throws TypeError for an object that is none of the {@link Waitable}s.
 * @throws AbortError when `signal` is or gets aborted.
 * @throws GreenletError on the hub when it would have to wait.
 * @example
 * ```ts
 * import { Event, sleep, spawn, wait } from 'greenloop';
 * spawn(() => {
 *   const fast = spawn(() => sleep(5));
 *   const never = new Event();
 *   const ready = wait([fast, never], { timeout: 50 });
 *   console.log(ready.length, ready[0] === fast); // 1 true
 * });
 * ```
 */
export function wait<O extends Waitable>(objects: readonly O[], options?: IwaitOptions): O[];
export function wait(target: unknown, options?: WaitOptions & IwaitOptions): unknown {
  if (Array.isArray(target)) return [...iwait(target as Waitable[], options)];
  if (!isThenable(target)) {
    throw new TypeError(
      `wait() expects a promise or thenable (or an array of objects to wait for), got ${describe(target)}`,
    );
  }
  const { ms, signal } = readLimits(options);
  return parkOnThenable(target, ms, signal);
}
