/**
 * {@link sleep} and {@link idle}: giving up control for a while.
 * @module
 */
import { assertStackHeadroom } from '../hub/headroom.js';
import { clearTimer, setTimer } from '../hub/timer.js';
import { checkSignal, throwIfAborted, withSignal } from '../hub/abort.js';
import { checkDelay, checkOptions } from '../hub/validate.js';
import { Waiter } from '../hub/waiter.js';

/** Options of {@link sleep} and {@link idle}. */
export interface SleepOptions {
  /** Cancels the wait: it throws an `AbortError` (`code: 'ABORT_ERR'`, `cause: signal.reason`). */
  signal?: AbortSignal;
}

function checkSleepOptions(options: SleepOptions | undefined): AbortSignal | undefined {
  checkOptions('options', options);
  return checkSignal('options.signal', options?.signal);
}

function wakeUp(w: Waiter<undefined>): void {
  w.switch(undefined);
}

/**
 * Parks the current greenlet for `ms` milliseconds while other greenlets and
 * callbacks run. `sleep(0)` (the default) lets every other greenlet that is
 * ready now run once, then resumes, without waiting for timers or IO (call
 * {@link idle} for that).
 * @param ms - @default 0
 * @param options - `signal` cancels the sleep.
 * @throws GreenletError on the hub (outside a spawned greenlet).
 * @throws AbortError when `options.signal` is or gets aborted (an already
 *   aborted signal throws before parking, also for `sleep(0)`).
 * @throws a kill's {@link GreenletExit} or a {@link Timeout}'s error that
 *   interrupts it.
 * @example
 * ```ts
 * import { spawn, sleep } from 'greenloop';
 * spawn(() => { for (let i = 0; i < 3; i++) { console.log('tick', i); sleep(100); } });
 * spawn(() => {
 *   try { sleep(60_000, { signal: AbortSignal.timeout(50) }); }
 *   catch (e) { console.log((e as Error).name); } // 'AbortError'
 * });
 * ```
 */
export function sleep(ms = 0, options?: SleepOptions): void {
  checkDelay('ms', ms);
  const signal = checkSleepOptions(options);
  if (ms === 0) {
    throwIfAborted(signal);
    new Waiter<undefined>('sleep(0)').yield();
    return;
  }
  withSignal(signal, () => {
    const w = new Waiter<undefined>(`sleep(${ms})`);
    const timer = setTimer(wakeUp, ms, w);
    try {
      w.get();
    } finally {
      clearTimer(timer);
    }
  });
}

/**
 * Parks the current greenlet until the event loop's next turn has polled for
 * IO (a `setImmediate` from here), so pending socket and timer callbacks run
 * first. Unlike `sleep(0)`, which only lets ready greenlets run.
 * @param options - `signal` cancels the wait.
 * @throws GreenletError on the hub (outside a spawned greenlet).
 * @throws AbortError when `options.signal` is or gets aborted.
 * @example
 * ```ts
 * import { idle, spawn } from 'greenloop';
 * spawn(() => { process.stdout.write('flushed first\n'); idle(); });
 * ```
 */
export function idle(options?: SleepOptions): void {
  withSignal(checkSleepOptions(options), idleOnce);
}

function idleOnce(): void {
  const w = new Waiter<undefined>('idle()');
  assertStackHeadroom();
  const immediate = setImmediate(wakeUp, w);
  try {
    w.get();
  } finally {
    assertStackHeadroom();
    clearImmediate(immediate);
  }
}
