/**
 * Parking on a promise: the core of `wait(promise)`, below the gevent-level
 * Greenlet (which waits for a promise its function returns).
 * Not public API. (No internal tag here: `stripInternal` would drop the
 * first statement's declaration with it.)
 * @module
 */
import { TimeoutError } from '../errors.js';
import { withSignal } from '../hub/abort.js';
import { assertMayBlock } from '../hub/hub.js';
import { clearTimer, setTimer } from '../hub/timer.js';
import { Waiter } from '../hub/waiter.js';

function expire(w: Waiter<unknown>, ms: number): void {
  w.throw(TimeoutError.after(ms, 'wait()'));
}

/**
 * Parks until `promise` settles, at most `ms` ms (a {@link TimeoutError}
 * then), cancelled by `signal` (an `AbortError`).
 * @internal
 */
export function parkOnThenable<T>(
  promise: PromiseLike<T>,
  ms: number | null,
  signal: AbortSignal | undefined,
): Awaited<T> {
  assertMayBlock('wait()');
  const w = new Waiter<Awaited<T>>('wait(promise)');
  promise.then(
    (value) => w.switch(value as Awaited<T>),
    (error) => w.throw(error),
  );
  return withSignal(signal, () => {
    if (ms === null) return w.get();
    const timer = setTimer(expire, ms, w, ms);
    try {
      return w.get();
    } finally {
      clearTimer(timer);
    }
  });
}
