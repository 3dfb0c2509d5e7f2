/**
 * Building blocks of the patched functions: one replacement per builtin
 * function, which runs the original where the rule says so and otherwise
 * parks on the operation's callback.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { Waiter } from '../hub/waiter.js';
import { callOriginal, isActive, mayPark, withCallerStack } from './rule.js';

/** An error delivered by the operation itself (as opposed to a kill or Timeout ending the park). */
class Failure {
  constructor(readonly error: unknown) {}
}

/** What {@link parkOn} does when the park ends early or the operation ends late. */
export interface ParkHooks {
  late?: (...values: unknown[]) => void;
  interrupted?: () => void;
}

/** A Node-style completion callback with any number of results. */
export type Done = (error: unknown, ...values: unknown[]) => void;

/**
 * Starts an operation with `start(done)` and parks until `done` runs;
 * returns `done`'s first value (all of them with `allValues`), or throws its
 * error with the stack of `fn`'s caller. If `start` throws synchronously
 * (Node's argument validation), the original runs instead and throws (or
 * returns) exactly what it would have. `hooks.late` gets the values of an
 * operation that completes after the park was interrupted (to close an fd);
 * `hooks.interrupted` runs when a kill or Timeout ends the park (to kill a child).
 */
export function parkOn(
  fn: Function,
  original: (...args: any[]) => unknown,
  self: unknown,
  args: ArrayLike<unknown>,
  label: string,
  start: (done: Done) => void,
  hooks?: ParkHooks,
): any {
  const waiter = new Waiter<unknown>(label);
  let armed = true;
  const done: Done = (error, ...values) => {
    if (!armed) {
      if (!error) hooks?.late?.(...values);
      return;
    }
    armed = false;
    waiter.switch(error ? new Failure(error) : values[0]);
  };
  try {
    start(done);
  } catch {
    if (armed) {
      armed = false;
      return callOriginal(original, self, args);
    }
  }
  let result: unknown;
  try {
    result = waiter.get();
  } catch (interruption) {
    if (armed) {
      armed = false;
      hooks?.interrupted?.();
    }
    throw interruption;
  }
  if (result instanceof Failure) throw withCallerStack(result.error, fn);
  return result;
}

/**
 * Makes `patched` look like `original`: same `name` and `length`, and the
 * original's own properties (`realpathSync.native`, `util.promisify.custom`).
 */
export function dressAs<F extends Function>(patched: F, original: Function): F {
  for (const key of Reflect.ownKeys(original)) {
    if (key === 'prototype' || key === 'arguments' || key === 'caller') continue;
    const descriptor = Reflect.getOwnPropertyDescriptor(original, key)!;
    if (key === 'name' || key === 'length') descriptor.configurable = true;
    Reflect.defineProperty(patched, key, descriptor);
  }
  return patched;
}

/**
 * A replacement for the sync function `original` of builtin `module` that,
 * where it may park, runs `emulate` (which parks through {@link parkOn}), and
 * the original everywhere else, and always once `module` is unpatched (a
 * copy taken while it was patched then behaves as the original).
 */
export function replacement(
  module: string,
  original: (...args: any[]) => any,
  emulate: (patched: Function, self: unknown, args: IArguments) => unknown,
): (...args: any[]) => any {
  const patched = function (this: unknown): unknown {
    if (!isActive(module) || !mayPark(patched)) return callOriginal(original, this, arguments);
    return emulate(patched, this, arguments);
  };
  return dressAs(patched, original);
}

/**
 * A replacement for `original` (a `*Sync` function) that parks on `async`,
 * its callback twin called with the same arguments.
 */
export function viaCallback(
  module: string,
  original: (...args: any[]) => any,
  async: (...args: any[]) => void,
  label: string,
  late?: (...values: unknown[]) => void,
): (...args: any[]) => any {
  return replacement(module, original, (patched, self, args) =>
    parkOn(patched, original, self, args, label, (done) => Reflect.apply(async, self, [...args, done]), { late }),
  );
}
