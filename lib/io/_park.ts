/**
 * Parking the current greenlet on one callback, promise or timer: the one
 * pattern every green IO call is built from.
 *
 * Each helper checks {@link assertMayBlock} first, parks on a fresh
 * {@link Waiter} and disarms its wake-up if the park is interrupted (a
 * `Timeout`, `kill()`), so a late callback can never resume the greenlet at
 * some other park point. Internal to `lib/io/`.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { resolve, sep } from 'node:path';
import { withSignal } from '../hub/abort.js';
import { assertMayBlock } from '../hub/hub.js';
import { Waiter } from '../hub/waiter.js';

export { assertMayBlock, Waiter };
export { socketClosedError, systemError } from './errors.js';
export { abortError, checkSignal, throwIfAborted, withSignal } from '../hub/abort.js';

/** A Node-style completion callback. */
export type Callback<T> = (error: Error | null | undefined, value?: T) => void;

/** What the park helpers take besides the operation itself. */
export interface ParkOptions {
  /** Runs if the park is interrupted (a `Timeout`, `kill()`, the signal): e.g. aborts the operation. */
  onCancel?: () => void;
  /** Aborting it interrupts the park with Node's `AbortError` (then `onCancel` runs). */
  signal?: AbortSignal;
}

/**
 * Calls `start(callback)` and parks until the callback runs; returns its
 * value or throws its error, whose stack then shows the caller's frames
 * (see {@link atCaller}). If the park is interrupted, `onCancel` runs
 * (e.g. to abort the operation) and the interruption propagates. An
 * already-aborted `signal` throws before `start` is called.
 */
export function parkOnCallback<T>(
  operation: string,
  start: (callback: Callback<T>) => void,
  options?: ParkOptions | (() => void),
): T {
  assertMayBlock(operation);
  const { onCancel, signal } =
    typeof options === 'function' ? { onCancel: options, signal: undefined } : (options ?? {});
  if (signal === undefined) return park(operation, start, onCancel);
  return withSignal(signal, () => park(operation, start, onCancel));
}

function park<T>(operation: string, start: (callback: Callback<T>) => void, onCancel: (() => void) | undefined): T {
  const waiter = new Waiter<T>(operation);
  let armed = true;
  let delivered: unknown;
  start((error, value) => {
    if (!armed) return;
    armed = false;
    if (error) {
      delivered = error;
      waiter.throw(error);
    } else waiter.switch(value as T);
  });
  try {
    return waiter.get();
  } catch (error) {
    if (armed) {
      armed = false;
      onCancel?.();
    } else if (error === delivered) {
      atCaller(error);
    }
    throw error;
  }
}

/** The directory of greenloop's own modules (`lib/` or `dist/cjs/`): its frames are left out of caller stacks. */
const OWN_ROOT = resolve(__dirname, '..') + sep;
const kOriginalStack = Symbol('greenloop.originalStack');
/** Separates the caller's frames from those the error was made with. */
const ORIGIN_MARKER = '    --- the error was made in:';

/**
 * Gives an error that an IO callback delivered the stack a synchronous call
 * would have had: the current greenlet's frames (the caller's, still intact
 * while it was parked), without greenloop's own. The error's message, `code`,
 * `errno` and `syscall` are kept; the frames it was made with (Node's
 * internals, e.g. `TCPConnectWrap.afterConnect`) follow a marker line.
 * Captured only when an error arrives: free on success; an error costs
 * about twice the formatting of an ordinary `new Error().stack` (~50 µs in
 * a greenlet on a 2-CPU VM, where `new Error().stack` alone takes ~28 µs). Called again with
 * the same error (a stored socket error thrown to each reader), it replaces
 * the caller's frames.
 */
export function atCaller<E>(error: E): E {
  if (!(error instanceof Error)) return error;
  const record = error as Error & { [kOriginalStack]?: string };
  const original = record[kOriginalStack] ?? String(error.stack ?? '');
  const holder: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = limit + 20;
  try {
    Error.captureStackTrace(holder, atCaller);
  } finally {
    Error.stackTraceLimit = limit;
  }
  const frames = String(holder.stack ?? '')
    .split('\n')
    .slice(1)
    .filter((line) => !line.includes(OWN_ROOT))
    .slice(0, limit);
  if (frames.length === 0) return error;
  const lines = original.split('\n');
  const firstFrame = lines.findIndex((line) => /^\s+at /.test(line));
  const header = firstFrame < 0 ? lines : lines.slice(0, firstFrame);
  const made = firstFrame < 0 ? [] : lines.slice(firstFrame);
  try {
    Object.defineProperty(record, kOriginalStack, { value: original, configurable: true });
    error.stack = [...header, ...frames, ...(made.length > 0 ? [ORIGIN_MARKER, ...made] : [])].join('\n');
  } catch {
    // A frozen error keeps its own stack.
  }
  return error;
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
    { onCancel },
  );
}

/** Argument checks shared with the hub and the API (`describe` names a received value). */
export { checkOptions, checkTimeout, describe, isThenable } from '../hub/validate.js';
/** Timers that honour delays past 2^31 - 1 ms: every timer in lib/io is armed with these. */
export { clearTimer, setTimer, type Timer } from '../hub/timer.js';
