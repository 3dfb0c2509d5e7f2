/**
 * {@link assertStackHeadroom}: refuse to enter Node's own bookkeeping at the
 * very edge of a greenlet's stack.
 * Not public API. (No internal tag here: `stripInternal` would drop the
 * first statement's declaration with it.)
 * @module
 */

/** Arguments pushed on the stack by the probe: 512 slots, 4 KiB on x86-64. */
const probeArguments: undefined[] = new Array(512);

function probe(): void {}

/**
 * Throws `RangeError` (as a stack overflow would) unless about 4 KiB of stack
 * are free here. Node's timer and immediate lists are not safe against a
 * stack overflow thrown half-way through an update: a `setTimeout` whose list
 * was put in the map but not yet in the priority queue leaves every later
 * timer of that duration unfired, and the process exits with them pending.
 * Called before greenloop arms or cancels a timer or schedules an immediate
 * for a greenlet, so that an overflow, if any, happens before Node's code
 * runs. Pushing arguments is checked against the stack limit whether or not
 * the call is optimised, which a deep call chain is not.
 */
export function assertStackHeadroom(): void {
  Reflect.apply(probe, undefined, probeArguments);
}

// V8 compiles a function lazily on its first call, and refuses to (a stack
// overflow) with less than 40 KiB of stack left, far more than the probe
// checks: run the paths of Node's timer and immediate lists once now, at
// load, so that their code is compiled before any greenlet needs it.
clearTimeout(setTimeout(probe, 1));
clearImmediate(setImmediate(probe));
