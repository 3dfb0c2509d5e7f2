/**
 * How greenloop/debug names a greenlet.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { type Greenlet as RawGreenlet } from '../greenlet.js';

/** Its name (gevent-level greenlets), `'hub'` for the thread's root, else `'raw greenlet'`. */
export function greenletName(g: RawGreenlet): string {
  const name = (g as { name?: unknown }).name;
  if (typeof name === 'string') return name;
  return g.isRoot ? 'hub' : 'raw greenlet';
}
