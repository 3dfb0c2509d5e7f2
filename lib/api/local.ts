/**
 * {@link local}: greenlet-local storage.
 * @module
 */
import { getcurrent } from '../greenlet.js';
import { checkFunction } from '../hub/validate.js';

/**
 * Where a greenlet's {@link local} views are kept, when not under the
 * greenlet itself: a greenlet that does one piece of work after another for
 * different callers (the HTTP server's handler greenlet, one request after
 * another) starts each with a fresh object here, so each sees fresh views.
 * @internal
 */
export const kLocalScope: unique symbol = Symbol('greenloop.localScope');

/**
 * An object whose properties are kept per greenlet (gevent's `local`): each
 * greenlet that touches it sees a view of its own, made by `init()` on its
 * first access (an empty object by default). The hub (top-level code and
 * callbacks) has a view of its own too. A view goes away with its greenlet.
 * Each request a `greenloop/http` handler serves sees fresh views, also when
 * one greenlet serves several requests in turn.
 *
 * For values that should follow async callbacks and promises too, use
 * Node's `AsyncLocalStorage`, which greenloop keeps per greenlet as well.
 * @param init - makes a greenlet's initial view. @default `() => ({})`
 * @example
 * ```ts
 * import { local, spawn } from 'greenloop';
 * const ctx = local<{ user?: string }>();
 * spawn(() => { ctx.user = 'ann'; sleep(10); console.log(ctx.user); }); // ann
 * spawn(() => { ctx.user = 'bob'; sleep(10); console.log(ctx.user); }); // bob
 * ```
 */
export function local<T extends object = Record<string, unknown>>(init?: () => T): T {
  if (init !== undefined) checkFunction('init', init);
  const make = init ?? ((): T => ({}) as T);
  const views = new WeakMap<object, T>();
  const view = (): T => {
    const g = getcurrent();
    const key = (g as { [kLocalScope]?: object })[kLocalScope] ?? g;
    let v = views.get(key);
    if (v === undefined) {
      v = make();
      if (v === null || typeof v !== 'object') throw new TypeError('local(): init() must return an object');
      views.set(key, v);
    }
    return v;
  };
  return new Proxy({} as T, {
    get: (_t, key) => Reflect.get(view(), key),
    set: (_t, key, value) => Reflect.set(view(), key, value),
    has: (_t, key) => Reflect.has(view(), key),
    deleteProperty: (_t, key) => Reflect.deleteProperty(view(), key),
    ownKeys: () => Reflect.ownKeys(view()),
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Reflect.getOwnPropertyDescriptor(view(), key);
      // The proxy's target is an empty extensible object, so every property
      // must be reported configurable.
      if (d) d.configurable = true;
      return d;
    },
    defineProperty: (_t, key, d) => Reflect.defineProperty(view(), key, d),
    getPrototypeOf: () => Reflect.getPrototypeOf(view()),
  });
}
