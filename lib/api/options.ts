/**
 * Option shapes shared by the blocking calls of the API.
 * @module
 */
import { checkSignal, throwIfAborted } from '../hub/abort.js';
import { checkOptions, checkTimeout } from '../hub/validate.js';

/** The `signal` option of every blocking call. */
export interface SignalOptions {
  /**
   * Cancels the wait: the call throws Node's `AbortError` (`name:
   * 'AbortError'`, `code: 'ABORT_ERR'`, `cause: signal.reason`), at once if
   * the signal is already aborted. The listener is removed when the call ends.
   */
  signal?: AbortSignal;
}

/**
 * The argument of the calls that take a timeout in ms or an options object:
 * `Event.wait()`, `AsyncResult.wait()`, `Greenlet.join()`,
 * `JoinableQueue.join()`, `Pool.waitAvailable()`.
 */
export interface TimeoutOptions extends SignalOptions {
  /** Wait at most this many ms. @default null (no limit) */
  timeout?: number | null;
}

/** What a blocking call was told: its limit and its signal. @internal */
export interface WaitLimits {
  ms: number | null;
  signal: AbortSignal | undefined;
}

/**
 * Reads an options object's `timeout` and `signal`; throws at once if the
 * signal is already aborted (before any other work, as Node's calls do).
 * @internal
 */
export function readLimits(options: (SignalOptions & { timeout?: number | null }) | undefined): WaitLimits {
  checkOptions('options', options);
  const ms = checkTimeout('timeout', options?.timeout);
  const signal = checkSignal('options.signal', options?.signal);
  throwIfAborted(signal);
  return { ms, signal };
}

/** Reads a timeout given as ms or as {@link TimeoutOptions}. @internal */
export function readTimeoutArg(arg: number | null | undefined | TimeoutOptions): WaitLimits {
  if (arg !== null && typeof arg === 'object') return readLimits(arg);
  return { ms: checkTimeout('timeout', arg), signal: undefined };
}
