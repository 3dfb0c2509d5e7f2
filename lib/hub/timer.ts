/**
 * Timers that honour any delay. Node's `setTimeout` takes at most 2^31 - 1 ms
 * (about 24.8 days) and fires a longer one after 1 ms with only a warning;
 * every timeout greenloop arms goes through {@link setTimer}, which re-arms
 * for the rest of a longer delay instead.
 * @internal
 * @module
 */

/** The longest delay Node's `setTimeout` honours. */
export const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** A timer armed in several steps, for delays past {@link MAX_TIMER_DELAY}. */
class LongTimer {
  #timeout: NodeJS.Timeout;
  #remaining: number;

  constructor(
    readonly fn: (...args: any[]) => void,
    ms: number,
    readonly args: unknown[],
  ) {
    this.#remaining = ms - MAX_TIMER_DELAY;
    this.#timeout = setTimeout(() => this.#step(), MAX_TIMER_DELAY);
  }

  #step(): void {
    if (this.#remaining <= MAX_TIMER_DELAY) {
      this.#timeout = setTimeout(this.fn, this.#remaining, ...this.args);
      return;
    }
    this.#remaining -= MAX_TIMER_DELAY;
    this.#timeout = setTimeout(() => this.#step(), MAX_TIMER_DELAY);
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
 */
export function setTimer<A extends unknown[]>(fn: (...args: A) => void, ms: number, ...args: A): Timer {
  if (ms <= MAX_TIMER_DELAY) return setTimeout(fn, ms, ...args);
  return new LongTimer(fn as (...args: any[]) => void, ms, args);
}

/** Cancels a timer made by {@link setTimer} (a no-op once it fired, or for `undefined`). */
export function clearTimer(timer: Timer | undefined | null): void {
  if (timer == null) return;
  if (timer instanceof LongTimer) timer.clear();
  else clearTimeout(timer);
}
