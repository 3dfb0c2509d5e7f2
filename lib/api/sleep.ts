/**
 * {@link sleep} and {@link idle}: giving up control for a while.
 * @module
 */
import { assertStackHeadroom } from '../hub/headroom.js';
import { clearTimer, setTimer } from '../hub/timer.js';
import { checkDelay } from '../hub/validate.js';
import { Waiter } from '../hub/waiter.js';

function wakeUp(w: Waiter<undefined>): void {
  w.switch(undefined);
}

/**
 * Parks the current greenlet for `ms` milliseconds while other greenlets and
 * callbacks run. `sleep(0)` (the default) lets every other greenlet that is
 * ready now run once, then resumes, without waiting for timers or IO (call
 * {@link idle} for that).
 * @param ms - @default 0
 * @throws GreenletError on the hub (outside a spawned greenlet).
 * @throws a kill's {@link GreenletExit} or a {@link Timeout}'s error that
 *   interrupts it.
 * @example
 * ```ts
 * import { spawn, sleep } from 'greenloop';
 * spawn(() => { for (let i = 0; i < 3; i++) { console.log('tick', i); sleep(100); } });
 * ```
 */
export function sleep(ms = 0): void {
  checkDelay('ms', ms);
  if (ms === 0) {
    new Waiter<undefined>('sleep(0)').yield();
    return;
  }
  const w = new Waiter<undefined>(`sleep(${ms})`);
  const timer = setTimer(wakeUp, ms, w);
  try {
    w.get();
  } finally {
    clearTimer(timer);
  }
}

/**
 * Parks the current greenlet until the event loop's next turn has polled for
 * IO (a `setImmediate` from here), so pending socket and timer callbacks run
 * first. Unlike `sleep(0)`, which only lets ready greenlets run.
 * @throws GreenletError on the hub (outside a spawned greenlet).
 * @example
 * ```ts
 * spawn(() => { socket.write(data); idle(); }); // let the loop flush first
 * ```
 */
export function idle(): void {
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
