/**
 * Parking the current greenlet on one callback, promise or timer: the one
 * pattern every green IO call is built from.
 *
 * Each helper checks {@link assertMayBlock} first, parks on a fresh
 * {@link Waiter} and disarms its wake-up if the park is interrupted (a
 * `Timeout`, `kill()`), so a late callback can never resume the greenlet at
 * some other park point. Internal to `lib/io/`.
 * @internal
 * @module
 */
import { assertMayBlock } from '../hub/hub.js';
import { Waiter } from '../hub/waiter.js';

export { assertMayBlock, Waiter };
export { socketClosedError, systemError } from './errors.js';

/** A Node-style completion callback. */
export type Callback<T> = (error: Error | null | undefined, value?: T) => void;

/**
 * Calls `start(callback)` and parks until the callback runs; returns its
 * value or throws its error. If the park is interrupted, `onCancel` runs
 * (e.g. to abort the operation) and the interruption propagates.
 */
export function parkOnCallback<T>(operation: string, start: (callback: Callback<T>) => void, onCancel?: () => void): T {
  assertMayBlock(operation);
  const waiter = new Waiter<T>(operation);
  let armed = true;
  start((error, value) => {
    if (!armed) return;
    armed = false;
    if (error) waiter.throw(error);
    else waiter.switch(value as T);
  });
  try {
    return waiter.get();
  } catch (error) {
    if (armed) {
      armed = false;
      onCancel?.();
    }
    throw error;
  }
}

/**
 * Parks until `promise` settles; returns its value or throws its rejection.
 * `onCancel` runs if the park is interrupted first.
 */
export function parkOnPromise<T>(operation: string, promise: PromiseLike<T>, onCancel?: () => void): T {
  return parkOnCallback<T>(
    operation,
    (callback) => {
      promise.then(
        (value) => callback(null, value),
        (error) => callback(error ?? new Error(`${operation} was rejected with ${String(error)}`)),
      );
    },
    onCancel,
  );
}

/** True for a promise or any object with a `then` method (an `async` handler's result). */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function';
}

/** Argument checks shared with the hub and the API (`describe` names a received value). */
export { checkOptions, checkTimeout, describe } from '../hub/validate.js';
/** Timers that honour delays past 2^31 - 1 ms: every timer in lib/io is armed with these. */
export { clearTimer, setTimer, type Timer } from '../hub/timer.js';
