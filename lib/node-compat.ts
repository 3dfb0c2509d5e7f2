/**
 * Node internals that keep per-thread native state and assume one thread per
 * Node environment. Every greenlet is a thread to native code (its own
 * thread-locals), so such calls run on the root greenlet's identity instead.
 *
 * - `tls.createSecureContext` (Node 24): the root certificate store is cached
 *   in a C++ `thread_local` whose first use registers an environment cleanup
 *   hook; a second "thread" of the same environment registers it again and
 *   Node aborts (`CleanupQueue::Add ... insertion_info.second`). Node's own
 *   `tls.connect`, `tls.createServer`, `https` and undici all create their
 *   contexts through this export.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import tls from 'node:tls';

let installed = false;

/** Routes the calls above through `runOnRoot`. Idempotent. */
export function installNodeCompat(runOnRoot: <T>(fn: () => T) => T): void {
  if (installed) return;
  installed = true;
  const createSecureContext = tls.createSecureContext;
  tls.createSecureContext = function (this: unknown, ...args: Parameters<typeof tls.createSecureContext>) {
    return runOnRoot(() => createSecureContext.apply(this, args));
  } as typeof tls.createSecureContext;
}
