/**
 * The hub's half of `prewarm()` (lib/greenlet.ts makes the threads): it runs
 * the spawn → park → wake → finish path a couple of thousand times, once per
 * thread, so that V8 has optimised it before a burst of greenlets needs it;
 * then, once the threads are made, it runs one greenlet on each of them, so
 * that their first run does not land in the burst either.
 *
 * Why a burst needs the first step: V8 counts a function's calls toward
 * optimising it when a call returns or loops back, and a greenlet's park path
 * (`Event.wait()` → the hub's hand-off → the native switch) does neither
 * until the greenlet is woken. 10,000 greenlets that start and park before
 * any of them is woken all ran that path unoptimised, each inline-cache miss
 * a runtime call on the new greenlet's cold thread state. 48 rounds of 2
 * greenlets (96 runs) got the path only as far as V8's baseline tier; 1,000
 * runs left it there too, 2,000 had it optimised (`--trace-opt`).
 *
 * Why the second: the first greenlet on a thread identity pays for V8's
 * per-thread set-up (its thread data, stack guard and handle block) and
 * glibc's (the malloc arena's first pages), and faults in the thread's stack
 * pages. The threads are made by a background thread, but all of that must
 * run on the isolate's thread, under each thread's identity: a greenlet on it.
 *
 * Measured in fresh processes (Node 20, 10,000 spawned and parked after
 * `prewarm(10_000)`, medians of 3, loaded VM): threads only 26 µs per
 * greenlet and 1.0-1.1 page faults; with the first step 19.6 µs and 0.8; with
 * both 13.8 µs and 0.4.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { getBackend, holdSpares, preparedThreads, setPrewarmHook, threadsMade } from '../greenlet.js';
import { Event } from './event.js';
import { Greenlet, joinall, kObserve, startNow } from './greenlet.js';
import { sleep } from './sleep.js';
import { wait } from './wait.js';

/**
 * Rounds of greenlets that park on an Event and are woken, and how many in
 * each: 2,000 runs in all (see above), about 50-100 ms once per thread.
 * Rounds of 50 cost less per run than rounds of 2 (one hub pass per round).
 */
const WARM_ROUNDS = 40;
const WARM_ROUND_SIZE = 50;

let parkPathWarmed = false;

/** The warm-up that runs now or last ran: the next one starts after it. */
let lastWarmUp: Greenlet<void> | null = null;

/** Named, so that they do not take numbers from the user's greenlets' names. */
const WARM_OPTIONS = { name: 'greenloop.prewarm' };

function waitFor(event: Event): void {
  event.wait();
}

/** Starts `count` greenlets that all park on one Event, wakes them, and joins them. */
function parkAndWake(count: number, stackSize: number | undefined): void {
  const event = new Event();
  const options = stackSize === undefined ? WARM_OPTIONS : { ...WARM_OPTIONS, stackSize };
  const greenlets: Greenlet<void>[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const greenlet = new Greenlet(waitFor, options);
      // One the hub cannot start (no thread) is not the user's error to see.
      greenlet[kObserve]();
      greenlets.push(greenlet.start(event));
    }
    sleep(0); // behind all of them: each has started and parked
  } finally {
    event.set();
    joinall(greenlets);
  }
}

/** Step one (see above). */
function warmParkPath(): void {
  for (let round = 0; round < WARM_ROUNDS; round++) parkAndWake(WARM_ROUND_SIZE, undefined);
}

/**
 * Step two: a greenlet on each of the threads prewarm() asked for, all at
 * once, so that each gets one; they come back as spares (holdSpares).
 */
function runOnEveryThread(count: number, stackSize: number | undefined): void {
  const threads = Math.min(count, preparedThreads(stackSize).ready);
  holdSpares(stackSize, true);
  try {
    parkAndWake(threads, stackSize);
  } finally {
    holdSpares(stackSize, false);
  }
}

/**
 * Runs both steps in a greenlet, once the background thread has made the
 * threads: it starts at once when called on the hub outside a pass (top-level
 * code, a callback), else from the hub's next pass; after any warm-up still
 * running. A failure (no thread could be made) ends the warm-up
 * quietly: the greenlets that need a thread next report it themselves.
 */
function warmUp(count: number, stackSize: number | undefined): Promise<void> {
  const previous = lastWarmUp;
  const warmer = new Greenlet(() => {
    try {
      previous?.join();
      // First the threads: step one's greenlets then run on some of them
      // rather than on threads they would make beyond `count`.
      wait(threadsMade(stackSize));
      if (!parkPathWarmed) {
        parkPathWarmed = true;
        warmParkPath();
      }
      // Under the threads backend a greenlet's first run on its thread is a
      // small part of its start (kernel wake-ups are the rest): 2,000 after
      // prewarm(2_000) took 234 against 271 µs each for 0.85 ms of the loop's
      // time per thread in the warm-up.
      if (getBackend() === 'user-space') runOnEveryThread(count, stackSize);
    } catch {
      // See above: nothing of the caller's depends on the warm-up.
    } finally {
      if (lastWarmUp === warmer) lastWarmUp = null;
    }
  }, WARM_OPTIONS);
  lastWarmUp = warmer;
  startNow(warmer);
  return warmer.promise();
}

setPrewarmHook(warmUp);
