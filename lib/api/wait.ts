/**
 * `wait()`: blocking-style use of promises.
 * @module
 */
import { TimeoutError } from '../errors.js';
import { assertMayBlock } from '../hub/hub.js';
import { clearTimer, setTimer } from '../hub/timer.js';
import { checkOptions, checkTimeout, describe, isThenable } from '../hub/validate.js';
import { Waiter } from '../hub/waiter.js';

/** Options of {@link wait}. */
/** Anything with a Promises/A+ `then`, however minimal (see {@link wait}). */
export interface Thenable<T> {
  then(onFulfilled: (value: T) => unknown, onRejected?: (reason: unknown) => unknown): unknown;
}

export interface WaitOptions {
  /**
   * Give up after this many ms with a {@link TimeoutError} (the promise goes
   * on; its outcome is then ignored).
   * @default null (wait as long as it takes)
   */
  timeout?: number | null;
}

function expire(w: Waiter<unknown>, ms: number): void {
  const error = new TimeoutError(`wait() timed out after ${ms} ms`);
  error.ms = ms;
  w.throw(error);
}

/**
 * Parks the current greenlet until `promise` settles, then returns its value
 * or throws its rejection, so any promise-based library can be called in
 * blocking style. Other greenlets and callbacks run meanwhile.
 * @param promise - a Promise or any thenable.
 * @throws GreenletError on the hub (outside a spawned greenlet), even if the
 *   promise has already settled: the hub cannot wait for the loop it runs.
 * @throws TimeoutError when `timeout` ms pass first.
 * @throws the rejection reason, or a kill / {@link Timeout} interrupting the wait.
 * @example
 * ```ts
 * import { spawn, wait } from 'greenloop';
 * spawn(() => {
 *   const res = wait(fetch('http://127.0.0.1:8080/'));
 *   console.log(wait(res.text()));
 * });
 * ```
 */
export function wait<T>(promise: PromiseLike<T> | Thenable<T>, options?: WaitOptions): Awaited<T> {
  if (!isThenable(promise)) {
    throw new TypeError(`wait() expects a promise or thenable, got ${describe(promise)}`);
  }
  checkOptions('options', options);
  const ms = checkTimeout('timeout', options?.timeout);
  assertMayBlock('wait()');
  const w = new Waiter<Awaited<T>>('wait(promise)');
  (promise as PromiseLike<Awaited<T>>).then(
    (value) => w.switch(value),
    (error) => w.throw(error),
  );
  if (ms === null) return w.get();
  const timer = setTimer(expire, ms, w, ms);
  try {
    return w.get();
  } finally {
    clearTimer(timer);
  }
}
