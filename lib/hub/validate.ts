/**
 * Argument checks shared by the hub and the API: they throw `TypeError`s that
 * name the value received.
 * Not public API. (No internal tag here: `stripInternal` would drop the
 * first statement's declaration with it.)
 * @module
 */

import { describeValue } from '../errors.js';

/** Describes a received value for an error message. */
export const describe = describeValue;

/**
 * A timeout in milliseconds: `null` (wait forever) for `undefined`, `null`
 * or `Infinity`, else a number >= 0.
 */
export function checkTimeout(name: string, ms: unknown): number | null {
  if (ms === undefined || ms === null || ms === Infinity) return null;
  if (typeof ms !== 'number' || Number.isNaN(ms) || ms < 0) {
    throw new TypeError(`${name} must be a number of milliseconds >= 0, null or undefined, got ${describe(ms)}`);
  }
  return ms;
}

/** A delay in milliseconds: a finite number >= 0. */
export function checkDelay(name: string, ms: unknown): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new TypeError(`${name} must be a finite number of milliseconds >= 0, got ${describe(ms)}`);
  }
  return ms;
}

/** Anything with a callable `then`: a Promise or any Promises/A+ thenable. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

export function checkFunction(name: string, fn: unknown): asserts fn is (...args: any[]) => unknown {
  if (typeof fn !== 'function') throw new TypeError(`${name} must be a function, got ${describe(fn)}`);
}

/** Options objects: `undefined` or an object. */
export function checkOptions(name: string, options: unknown): asserts options is object | undefined {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new TypeError(`${name} must be an object, got ${describe(options)}`);
  }
}
