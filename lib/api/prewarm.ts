/**
 * The hub's half of `prewarm()` (lib/greenlet.ts makes the threads): it runs
 * the spawn → park → wake → finish path a few dozen times, once per thread,
 * so that V8 has compiled it before a burst of greenlets needs it.
 *
 * Why a burst needs it: V8 counts a function's calls toward compiling it when
 * a call returns or loops back, and a greenlet's park path (`Event.wait()` →
 * the hub's hand-off → the native switch) does neither until the greenlet is
 * woken. 10,000 greenlets that start and park before any of them is woken
 * all ran that path in V8's interpreter, each inline-cache miss a runtime call
 * on the new greenlet's cold thread state: 23-40 µs per spawn and park with
 * the threads made, against 15-18 µs after this warm-up (bench/spawn.js,
 * "cold, prewarmed", Node 20).
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { setPrewarmHook } from '../greenlet.js';
import { Event } from './event.js';
import { Greenlet, joinall, startNow } from './greenlet.js';
import { sleep } from './sleep.js';

/**
 * Rounds of two greenlets that park on an Event and are woken. 5 rounds left
 * the burst where it was (22 µs each), 20-50 brought it to 14-16 µs. The
 * whole warm-up takes about 20 ms (Node 20), nearly all of it the path's
 * first runs (compiling, the hub's start-up, three threads): what the first
 * greenlets would pay without it.
 */
const WARM_ROUNDS = 48;

let warmed = false;

/** Named, so that they do not take numbers from the user's greenlets' names. */
const WARM_OPTIONS = { name: 'greenloop.prewarm' };

function waitFor(event: Event): void {
  event.wait();
}

function warmRounds(): void {
  for (let round = 0; round < WARM_ROUNDS; round++) {
    const event = new Event();
    const pair = [new Greenlet(waitFor, WARM_OPTIONS).start(event), new Greenlet(waitFor, WARM_OPTIONS).start(event)];
    sleep(0); // both start and park in event.wait()
    event.set();
    joinall(pair);
  }
}

/**
 * Runs {@link warmRounds} once per thread: at once when called on the hub
 * outside a pass (top-level code, a callback), else from the hub's next pass.
 * A failure (no thread could be made) ends the warm-up quietly: the
 * greenlets that need a thread next report it themselves.
 */
function warmSwitchPath(): void {
  if (warmed) return;
  warmed = true;
  const warmer = new Greenlet(() => {
    try {
      warmRounds();
    } catch {
      // See above: nothing of the caller's depends on the warm-up.
    }
  }, WARM_OPTIONS);
  startNow(warmer);
}

setPrewarmHook(warmSwitchPath);
