/**
 * Node's async context (AsyncLocalStorage, async_hooks) per greenlet.
 *
 * Greenlets share one isolate, so everything Node keeps per isolate about "the
 * current async context" must be switched with them. Node has two designs:
 *
 * - `'frame'` (Node 24, and Node 22 with `--experimental-async-context-frame`):
 *   AsyncLocalStorage keeps its stores in an AsyncContextFrame held in V8's
 *   continuation-preserved embedder data (CPED). The native core saves and
 *   restores CPED per greenlet on every switch; a new greenlet starts with the
 *   CPED current when it is first switched into, so the hub starts it inside
 *   an `AsyncResource` captured at `spawn()`.
 * - `'resource'` (Node 20, Node 22 by default): stores live as properties of
 *   the current async resource (`executionAsyncResource()`). Every greenlet
 *   the hub runs runs inside one resource, {@link hubScope}: a Proxy whose
 *   own properties (AsyncLocalStorage's stores, or anything code sets on
 *   `executionAsyncResource()`) are read from and written to the running
 *   greenlet's context object, so a switch only swaps one pointer.
 *
 * In both, the stack of async ids (`executionAsyncId()`, pushed and popped by
 * `AsyncResource#runInAsyncScope`) is one per isolate and strictly nested:
 * a greenlet may only park at the scope depth it was resumed at, which the hub
 * checks before every park (parking deeper would make Node abort with "async
 * hook stack has become corrupted" later).
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { AsyncLocalStorage, AsyncResource, executionAsyncResource } from 'node:async_hooks';
import { native } from '../native.js';

/** Which design this Node uses for AsyncLocalStorage; see the module comment. */
export const contextMode: 'frame' | 'resource' =
  'kResourceStore' in (new AsyncLocalStorage() as object) ? 'resource' : 'frame';

/**
 * Resource mode: descriptions of the symbols AsyncLocalStorage keeps stores
 * under on a resource: one per ALS instance (Node 20, 22), or one shared
 * mutable object holding them all (Node 24 with --no-async-context-frame).
 */
const STORE_KEY = 'kResourceStore';
const SHARED_STORE_KEY = 'kAsyncLocalStorageContext';

/** A copy of `value` if it is the shared, mutable store object of Node 24. */
function copyValue(key: PropertyKey, value: unknown): unknown {
  if (typeof key === 'symbol' && key.description === SHARED_STORE_KEY && value !== null && typeof value === 'object') {
    return Object.assign(Object.create(Object.getPrototypeOf(value)), value);
  }
  return value;
}

/**
 * A greenlet's async context in resource mode: the properties its code sees
 * on {@link hubScope} (null-prototype object, symbol keys for ALS stores).
 */
export type Context = Record<PropertyKey, unknown>;

export function newContext(): Context {
  return Object.create(null) as Context;
}

/** The context {@link hubScope} shows now: the running greenlet's (or the hub's). */
let current: Context = newContext();

/**
 * The context {@link emptyHubContext} hands out while nothing has been
 * written to it, and whether something has (each write through
 * {@link hubScope} checks).
 */
let spare: Context = newContext();
let spareWritten = false;

/**
 * Resource mode: an empty context for the hub's code in a pass. It is the
 * previous pass's when nothing wrote to that one (a hub pass runs at least
 * once a loop turn, and per request on a server: most leave theirs empty),
 * else a new one.
 */
export function emptyHubContext(): Context {
  if (spareWritten) {
    spare = newContext();
    spareWritten = false;
  }
  return spare;
}

function noteWrite(): void {
  if (current === spare) spareWritten = true;
}

/**
 * Resource mode: whether an AsyncLocalStorage has been enabled in this thread
 * (by its first `run()` or `enterWith()`, here or before greenloop loaded).
 * Until one has, no resource carries a store, and {@link captureStores} skips
 * `executionAsyncResource()` (whose first call also makes Node route every
 * native callback through its JS trampoline from then on) and the scan of the
 * resource's symbols, which a server pays for at every request.
 */
let storesInUse = false;

const resource = new AsyncResource('greenloop.Hub', { requireManualDestroy: true });
for (const key of Object.getOwnPropertySymbols(resource)) {
  // Stores inherited from whatever code loaded greenloop: not the hub's. An
  // enabled AsyncLocalStorage gives every new resource its key, even without
  // a store: one was enabled before greenloop loaded.
  if (key.description === STORE_KEY || key.description === SHARED_STORE_KEY) {
    storesInUse = true;
    delete (resource as any)[key];
  }
}

if (contextMode === 'resource') {
  // Node's AsyncLocalStorage enables itself through `_enable()` in every
  // `run()` and `enterWith()` (Node 20 to 26): noted here, once per thread.
  // A Node without it gets the scan at every capture.
  const prototype = AsyncLocalStorage.prototype as unknown as { _enable?: (this: unknown) => void };
  const enable = prototype._enable;
  if (typeof enable === 'function') {
    prototype._enable = function _enable(this: unknown): void {
      storesInUse = true;
      enable.call(this);
    };
  } else {
    storesInUse = true;
  }
}

/** Every key `in` the resource (own, or inherited from AsyncResource.prototype and up). */
const resourceKeys = new Set<PropertyKey>();
for (let o: object | null = resource; o !== null; o = Object.getPrototypeOf(o)) {
  for (const key of Reflect.ownKeys(o)) resourceKeys.add(key);
}

/**
 * The async resource every hub pass runs in. Its own properties (async ids,
 * frame) and its methods are the AsyncResource's; every other property is the
 * current context's.
 */
export const hubScope: AsyncResource = new Proxy(resource, {
  get: (target, key, receiver) => (resourceKeys.has(key) ? Reflect.get(target, key, receiver) : current[key]),
  set: (target, key, value) => {
    if (resourceKeys.has(key)) return Reflect.set(target, key, value);
    noteWrite();
    current[key] = value;
    return true;
  },
  has: (_target, key) => resourceKeys.has(key) || key in current,
  deleteProperty: (target, key) => {
    if (Object.prototype.hasOwnProperty.call(target, key)) return Reflect.deleteProperty(target, key);
    noteWrite();
    delete current[key];
    return true;
  },
  ownKeys: (target) => [...Reflect.ownKeys(target), ...Reflect.ownKeys(current)],
  getOwnPropertyDescriptor: (target, key) => {
    if (Object.prototype.hasOwnProperty.call(target, key)) return Reflect.getOwnPropertyDescriptor(target, key);
    const d = Reflect.getOwnPropertyDescriptor(current, key);
    if (d) d.configurable = true; // it is not on the target: must be reported configurable
    return d;
  },
  defineProperty: (target, key, d) => {
    if (resourceKeys.has(key)) return Reflect.defineProperty(target, key, d);
    noteWrite();
    return Reflect.defineProperty(current, key, { ...d, configurable: true });
  },
});

const runInAsyncScope = AsyncResource.prototype.runInAsyncScope;

/**
 * `hubScope.runInAsyncScope(body, thisArg, arg)`, without looking the method
 * up through the Proxy at every pass.
 */
export function runInHubScope<T, A>(body: (this: T, arg: A) => void, thisArg: T, arg: A): void {
  runInAsyncScope.call(hubScope, body as (this: unknown, arg: A) => void, thisArg, arg);
}

/** Resource mode: makes {@link hubScope} show `ctx`. */
export function enterContext(ctx: Context): void {
  current = ctx;
}

/** Resource mode: a copy of the context {@link hubScope} shows now. */
export function copyCurrentContext(): Context {
  const ctx = newContext();
  for (const key of Reflect.ownKeys(current)) ctx[key] = copyValue(key, current[key]);
  return ctx;
}

/**
 * Resource mode: the AsyncLocalStorage stores of the current async resource
 * when that is not {@link hubScope} (a spawn from a callback or top-level code).
 */
export function captureStores(): Context {
  const ctx = newContext();
  if (!storesInUse) return ctx;
  const res = executionAsyncResource() as any;
  for (const key of Object.getOwnPropertySymbols(res)) {
    if (key.description === STORE_KEY || key.description === SHARED_STORE_KEY) ctx[key] = copyValue(key, res[key]);
  }
  return ctx;
}

/** Frame mode: the current AsyncContextFrame, captured in a resource. */
export function captureFrame(): AsyncResource {
  return new AsyncResource('greenloop.Greenlet', { requireManualDestroy: true });
}

/** Frame mode: the current AsyncContextFrame itself (V8's continuation-preserved embedder data). */
export function currentFrame(): unknown {
  return native.contextFrame();
}

/** Frame mode: makes `frame` (from {@link currentFrame}) the running greenlet's. */
export function enterFrame(frame: unknown): void {
  native.setContextFrame(frame);
}
