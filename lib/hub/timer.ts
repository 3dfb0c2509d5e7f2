/**
 * Timers that honour any delay. Node's `setTimeout` takes at most 2^31 - 1 ms
 * (about 24.8 days) and fires a longer one after 1 ms with only a warning;
 * every timeout greenloop arms goes through {@link setTimer}, which re-arms
 * for the rest of a longer delay instead.
 * Not public API. (No internal tag here: `stripInternal` would drop the
 * first statement's declaration with it.)
 * @module
 */
import { assertStackHeadroom } from './headroom.js';

/** The longest delay Node's `setTimeout` honours. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** A timer armed in steps of at most `step` ms, for delays past what one `setTimeout` honours. */
class LongTimer {
  #timeout: NodeJS.Timeout;
  #remaining: number;
  readonly #step: number;
  readonly #fn: (...args: any[]) => void;
  readonly #args: unknown[];

  constructor(fn: (...args: any[]) => void, ms: number, args: unknown[], step: number) {
    this.#fn = fn;
    this.#args = args;
    this.#step = step;
    this.#remaining = ms - step;
    this.#timeout = setTimeout(() => this.#next(), step);
  }

  #next(): void {
    if (this.#remaining <= this.#step) {
      this.#timeout = setTimeout(this.#fn, this.#remaining, ...this.#args);
      return;
    }
    this.#remaining -= this.#step;
    this.#timeout = setTimeout(() => this.#next(), this.#step);
  }

  clear(): void {
    clearTimeout(this.#timeout);
  }
}

/** What {@link setTimer} returns; pass it to {@link clearTimer}. */
export type Timer = NodeJS.Timeout | LongTimer;

/**
 * `setTimeout(fn, ms, ...args)` for any finite `ms` >= 0, including delays
 * past 2^31 - 1 ms (which Node alone fires at once). Short delays cost exactly
 * a `setTimeout`.
 * @throws RangeError at the very edge of the stack, before anything is armed
 *   (see {@link assertStackHeadroom}).
 */
export function setTimer<A extends unknown[]>(fn: (...args: A) => void, ms: number, ...args: A): Timer {
  return setTimerInSteps(MAX_TIMER_DELAY, fn, ms, args);
}

/**
 * {@link setTimer} with steps of at most `step` ms instead of
 * {@link MAX_TIMER_DELAY}: lets a test watch the re-arming on a short delay.
 * @internal
 */
export function setTimerInSteps<A extends unknown[]>(
  step: number,
  fn: (...args: A) => void,
  ms: number,
  args: A,
): Timer {
  assertStackHeadroom();
  if (ms <= step) return setTimeout(fn, ms, ...args);
  return new LongTimer(fn as (...args: any[]) => void, ms, args, step);
}

/**
 * Cancels a timer made by {@link setTimer} (a no-op once it fired, or for
 * `undefined`/`null`).
 * @throws RangeError at the very edge of the stack, leaving the timer armed
 *   (its callback must then tolerate firing late).
 */
export function clearTimer(timer: Timer | undefined | null): void {
  if (timer == null) return;
  assertStackHeadroom();
  if (timer instanceof LongTimer) timer.clear();
  else clearTimeout(timer);
}
