/**
 * Cancellation with `AbortSignal`, shared by every blocking call of the API
 * and of green IO: one check of the option, one error, one way to interrupt.
 *
 * An abort interrupts the calling greenlet exactly as a {@link Timeout} or a
 * kill does (through the hub, at its park point), so every primitive that
 * already survives those (a queue's `get()`, a green socket read, a lock's
 * `acquire()`) needs nothing more. The listener lives only for the call.
 * Not public API. (No internal tag here: `stripInternal` would drop the
 * first statement's declaration with it.)
 * @module
 */
import { AbortError } from '../errors.js';
import { getcurrent } from '../greenlet.js';
import { getHub, taskOf } from './hub.js';
import { describe } from './validate.js';
import { getWithTimeout, type TIMED_OUT, type Waiter } from './waiter.js';

/** Node's `AbortError` for `signal`: `cause` is the signal's `reason`. */
export function abortError(signal: AbortSignal): AbortError {
  return new AbortError(undefined, { cause: signal.reason });
}

/**
 * Validates a `signal` option: `undefined` or an `AbortSignal` (anything with
 * a boolean `aborted` and `addEventListener`, as Node accepts).
 * @param name - names the option in the message, e.g. `'options.signal'`.
 * @throws TypeError naming the value received.
 */
export function checkSignal(name: string, signal: unknown): AbortSignal | undefined {
  if (signal === undefined) return undefined;
  if (
    signal instanceof AbortSignal ||
    (signal !== null &&
      typeof signal === 'object' &&
      typeof (signal as AbortSignal).aborted === 'boolean' &&
      typeof (signal as AbortSignal).addEventListener === 'function')
  ) {
    return signal as AbortSignal;
  }
  throw new TypeError(`${name} must be an AbortSignal or undefined, got ${describe(signal)}`);
}

/** Throws {@link abortError} if `signal` is already aborted (call it before parking). */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal !== undefined && signal.aborted) throw abortError(signal);
}

/**
 * Runs `fn()` (blocking code of the current greenlet) so that aborting
 * `signal` interrupts it where it is parked with an `AbortError`; an abort
 * that comes while it runs rather than waits is raised at its next park, and
 * taken back if `fn` returns first. Throws at once if `signal` is already
 * aborted. Without a signal it is just `fn()`. The listener is removed when
 * `fn` ends, so one long-lived signal can serve any number of calls.
 * @throws AbortError when `signal` is or gets aborted.
 */
export function withSignal<T>(signal: AbortSignal | undefined, fn: () => T): T {
  if (signal === undefined) return fn();
  throwIfAborted(signal);
  const g = getcurrent();
  // On the hub, fn either returns at once or throws the blocking error: nothing to interrupt.
  if (g.isRoot) return fn();
  const task = taskOf(g);
  const source = {}; // this call's identity, to take back its own pending abort
  const onAbort = (): void => getHub().throwInto(task, abortError(signal), source);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return fn();
  } finally {
    signal.removeEventListener('abort', onAbort);
    getHub().retract(task, source);
  }
}

/**
 * `w.get()` giving up after `ms` milliseconds (`null`: never) with
 * {@link TIMED_OUT}, and cancelled by `signal` with an `AbortError`.
 * @throws AbortError when `signal` is or gets aborted first.
 */
export function getWithSignal<T>(
  w: Waiter<T>,
  ms: number | null,
  signal: AbortSignal | undefined,
): T | typeof TIMED_OUT {
  // Without a signal or a timeout (the common case) it parks right here: the
  // three frames it would add stay on the parked stack, which every scavenge
  // walks and which holds a stack page more when it runs deep.
  if (signal === undefined) return ms === null ? w.get() : getWithTimeout(w, ms);
  return withSignal(signal, () => getWithTimeout(w, ms));
}
