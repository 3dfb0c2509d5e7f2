/**
 * The rule: when a patched sync call may park its greenlet, and when it must
 * run the original exactly.
 *
 * A patched call parks only in a greenlet the hub schedules (one made with
 * `spawn()` / `new Greenlet()`, or one the runner marked with
 * {@link allowParking}), not inside another patched call that runs its
 * original, and not called by Node's module loaders (the CommonJS and ES module loaders call `fs.readFileSync`,
 * `fs.realpathSync` and friends through the module object: they are
 * recognised by their caller's file name while a `Module._load` or
 * `Module._resolveFilename` runs; sync functions that build on each other,
 * `readFileSync` -> `openSync`, run under {@link callOriginal}).
 * Everywhere else (the root, timer and promise callbacks, finalizers,
 * `'exit'` handlers, raw greenlets) the original runs, with nothing changed.
 * Inside a nested async scope it parks where the greenlet's scopes can
 * follow it across the switch (async-stack.ts), else runs the original.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { GreenletError } from '../errors.js';
import { type Greenlet as RawGreenlet, getcurrent } from '../greenlet.js';
import { getHub, kTask } from '../hub/hub.js';

/** Greenlets not run by the hub that may still park in patched calls (the runner's main greenlet). */
const parkable = new WeakSet<RawGreenlet>();
/** Builtin modules patched now: a replacement kept after unpatch() behaves as the original. */
const active = new Set<string>();

/** Marks builtin `module` as patched (or not). */
export function setActive(module: string, on: boolean): void {
  if (on) active.add(module);
  else active.delete(module);
}

/** Whether builtin `module` is patched now. */
export function isActive(module: string): boolean {
  return active.has(module);
}

/** > 0 while `Module._load` runs (a require, the entry's top level), in any greenlet. */
let loaderDepth = 0;

/** Called around every `Module._load` while patched (see loader.ts). */
export function enterLoader(): void {
  loaderDepth++;
}
export function leaveLoader(): void {
  loaderDepth--;
}

/** > 0 while an original runs on behalf of a patched call: everything it calls runs its original too. */
let originalDepth = 0;

/**
 * Lets patched calls park in `greenlet` although the hub did not spawn it
 * (the runner's main greenlet, which it switches into itself).
 * @internal
 */
export function allowParking(greenlet: RawGreenlet): void {
  parkable.add(greenlet);
}

/** Whether `greenlet` is one patched calls may park (the hub's, or marked with {@link allowParking}). */
export function isParkable(greenlet: RawGreenlet): boolean {
  return !greenlet.isRoot && (kTask in greenlet || parkable.has(greenlet));
}

/** Call-site objects of V8's structured stack traces (only what the rule reads). */
interface CallSite {
  getFileName(): string | null | undefined;
}

function structured(_error: Error, sites: CallSite[]): CallSite[] {
  return sites;
}

/**
 * Whether the caller of `fn` is Node's own code (`node:internal/modules/...`,
 * `node:fs`, ...): one V8 call site, read with a structured stack trace
 * (about a microsecond: see bench/monkey.js).
 */
function calledByNode(fn: Function): boolean {
  const prepare = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  Error.prepareStackTrace = structured as typeof Error.prepareStackTrace;
  Error.stackTraceLimit = 1;
  try {
    const holder: { stack?: CallSite[] } = {};
    Error.captureStackTrace(holder, fn);
    const site = holder.stack?.[0];
    const file = site?.getFileName();
    return typeof file === 'string' && file.startsWith('node:');
  } finally {
    Error.prepareStackTrace = prepare;
    Error.stackTraceLimit = limit;
  }
}

/**
 * Whether the patched function `fn`, called now, may park the current
 * greenlet. False means: run the original. Never throws GreenletError
 * because of where it was called; a kill or Timeout already pending on the
 * greenlet is raised here, since a patched call is a switch point.
 */
export function mayPark(fn: Function): boolean {
  if (originalDepth !== 0) return false;
  const g = getcurrent();
  if (!isParkable(g)) return false;
  // Node's own code calls patched functions through the module object from
  // its loaders (under Module._load; the ES module loader's sync path for
  // require(esm) too); elsewhere its sync internals run under callOriginal.
  // So the stack check (~1-3 µs) is only needed while a require is running.
  if (loaderDepth !== 0 && calledByNode(fn)) return false;
  try {
    // The hub's own checks: a pending kill or timeout is raised; a nested
    // async scope (AsyncResource#runInAsyncScope) is refused only where the
    // greenlet's async scopes cannot follow it (see async-stack.ts).
    getHub().enterPark('a patched call');
  } catch (error) {
    // The nested-scope refusal (a pending error that happens to be a GreenletError is raised).
    if (error instanceof GreenletError && error.message.includes('nested async scope')) return false;
    throw error;
  }
  return true;
}

/** Runs `original` with nothing changed, marking that patched calls inside it must not park. */
export function callOriginal<R>(original: (...args: any[]) => R, self: unknown, args: ArrayLike<unknown>): R {
  originalDepth++;
  try {
    return Reflect.apply(original, self, args);
  } finally {
    originalDepth--;
  }
}

/** Whether a patched call is running its original now (for the module lock). */
export function inOriginal(): boolean {
  return originalDepth !== 0;
}

/**
 * Gives `error`, made in a callback, the stack of the patched call `fn`'s
 * caller, as the sync original's errors have.
 */
export function withCallerStack<E>(error: E, fn: Function): E {
  if (error instanceof Error) {
    // Own `stack` first: captureStackTrace rewrites it from the message and name.
    Error.captureStackTrace(error, fn);
  }
  return error;
}
