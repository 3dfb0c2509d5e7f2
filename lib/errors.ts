/**
 * Error classes. Every error greenloop throws on purpose is a {@link GreenloopError}
 * with a stable `code`; `instanceof` also recognises errors made by another copy
 * of the package (the classes carry a `Symbol.for` brand).
 * @module
 */

const kBrand = Symbol.for('greenloop.error.codes');

/**
 * Describes a received value for an error message: `null`, `undefined`,
 * `function name`, `string "..."`, `an instance of Class`, `number 5`.
 * @internal
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'object') return `an instance of ${(value as object).constructor?.name ?? 'Object'}`;
  if (typeof value === 'string')
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}

/**
 * Base class of greenloop's errors. `code` is stable across releases.
 * @example
 * ```js
 * const { spawn, Queue, GreenloopError } = require('greenloop');
 * spawn(() => {
 *   try { new Queue().getNowait(); } catch (e) { if (e instanceof GreenloopError) console.log(e.code); } // GREENLOOP_ERR_QUEUE_EMPTY
 * });
 * ```
 */
export class GreenloopError extends Error {
  /** Stable machine-readable code, e.g. `GREENLOOP_ERR_GREENLET`. */
  static readonly code: string = 'GREENLOOP_ERR';
  /** Stable machine-readable code of this error. */
  readonly code: string;
  declare readonly [kBrand]: readonly string[];

  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    const ctor = new.target as unknown as { code: string; name: string };
    this.name = ctor.name;
    this.code = ctor.code;
    const codes: string[] = [];
    for (let c: unknown = new.target; c && (c as { code?: string }).code; c = Object.getPrototypeOf(c)) {
      const code = (c as { code: string }).code;
      if (!codes.includes(code)) codes.push(code);
    }
    Object.defineProperty(this, kBrand, { value: Object.freeze(codes) });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const codes = (value as { [kBrand]?: readonly string[] } | null)?.[kBrand];
    return Array.isArray(codes) && codes.includes((this as unknown as { code: string }).code);
  }
}

/**
 * Misuse of a greenlet: switching to a greenlet of another thread, a parent
 * cycle, blocking where nothing can wake the caller, or a greenlet that could
 * not be started (its thread could not be created; `errno` tells why).
 * @example
 * ```js
 * const { sleep, GreenletError } = require('greenloop');
 * try { sleep(10); } catch (e) { console.log(e instanceof GreenletError); } // true: the top level runs on the hub
 * ```
 */
export class GreenletError extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_ERR_GREENLET';
  /** Set when the kernel refused a thread or stack: the negative errno. */
  declare errno?: number;
}

/**
 * A blocking call was made on the event loop's own greenlet (the hub: top-level
 * code, an event-loop callback, a promise callback), where nothing could wake
 * it. The message names the call and says what to do instead.
 * @example
 * ```ts
 * import { BlockingOnHubError, sleep } from 'greenloop';
 * try { sleep(10); } catch (e) { console.log(e instanceof BlockingOnHubError, (e as BlockingOnHubError).operation); } // true 'sleep()'
 * ```
 */
export class BlockingOnHubError extends GreenletError {
  static override readonly code: string = 'GREENLOOP_ERR_BLOCKING_ON_HUB';
  /** The call that would have blocked, e.g. `'socket.recv()'`. */
  readonly operation: string;
  /**
   * @param operation - the call, e.g. `'Event.wait()'`.
   * @param alternative - a way out other than spawning, e.g. `'pass { block: false }'`.
   */
  constructor(operation: string, alternative?: string, options?: ErrorOptions) {
    super(
      `${operation} would block the event loop's own greenlet (the hub); call it inside a greenlet started with spawn()` +
        (alternative === undefined ? '' : `, or ${alternative}`),
      options,
    );
    this.operation = operation;
  }
}

/**
 * Raised inside a greenlet to ask it to end (the default of
 * {@link Greenlet.throw}). A greenlet that lets it escape does not fail: its
 * parent receives the `GreenletExit` object as the greenlet's return value.
 * @example
 * ```js
 * const { spawn, sleep, GreenletExit } = require('greenloop');
 * const g = spawn(() => { try { sleep(1000); } finally { console.log('cleaning up'); } });
 * spawn(() => { g.kill(); console.log(g.value instanceof GreenletExit); }); // cleaning up, true
 * ```
 */
export class GreenletExit extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_GREENLET_EXIT';
  constructor(message = 'greenlet exit', options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * A green read (`readLine()`, or a line iteration) found no line end within
 * its `maxLength` bytes. The bytes stay buffered; the peer is usually hostile
 * or speaking another protocol, so the usual reaction is to close.
 * @example
 * ```js
 * const { LineTooLongError } = require('greenloop/net');
 * try { sock.readLine({ maxLength: 1024 }); } catch (e) { if (e instanceof LineTooLongError) sock.close(); else throw e; }
 * ```
 */
export class LineTooLongError extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_ERR_LINE_TOO_LONG';
  /** The limit that was exceeded, in bytes. */
  readonly maxLength: number;
  constructor(maxLength: number, options?: ErrorOptions) {
    super(`no line end within ${maxLength} bytes`, options);
    this.maxLength = maxLength;
  }
}

/**
 * A green `recvExactly(n)` reached the end of the stream first. `partial`
 * holds the bytes that did arrive.
 * @example
 * ```js
 * const { IncompleteReadError } = require('greenloop/net');
 * try { header = sock.recvExactly(16); } catch (e) { if (e instanceof IncompleteReadError) console.log(`got ${e.partial.length} of ${e.expected}`); else throw e; }
 * ```
 */
export class IncompleteReadError extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_ERR_INCOMPLETE_READ';
  /** The bytes read before the end of the stream. */
  readonly partial: Buffer;
  /** How many bytes were expected. */
  readonly expected: number;
  constructor(partial: Buffer, expected: number, options?: ErrorOptions) {
    super(`stream ended after ${partial.length} of ${expected} bytes`, options);
    this.partial = partial;
    this.expected = expected;
  }
}

/**
 * Two greenlets used one green stream the same way at once (both reading, or
 * both writing), as gevent's `ConcurrentObjectUseError`: the second call throws.
 * @example
 * ```js
 * const { spawn } = require('greenloop');
 * spawn(() => sock.readLine());
 * spawn(() => sock.readLine()); // throws ConcurrentIOError: the first greenlet is reading
 * ```
 */
export class ConcurrentIOError extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_ERR_CONCURRENT_IO';
}

/**
 * A green HTTP server's request body was larger than allowed (`maxLength`
 * of `req.body()`, or the server's `maxBodyLength`). Escaping a handler, it
 * becomes a 413 response.
 * @example
 * ```js
 * const http = require('greenloop/http');
 * const server = http.createServer((req, res) => res.json(req.json()), { maxBodyLength: 64 * 1024 });
 * // a larger body: req.json() throws PayloadTooLargeError, and the client gets a 413
 * ```
 */
export class PayloadTooLargeError extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_ERR_PAYLOAD_TOO_LARGE';
  /** The HTTP status this error maps to. */
  readonly statusCode = 413;
  /** The limit that was exceeded, in bytes. */
  readonly maxLength: number;
  constructor(maxLength: number, options?: ErrorOptions) {
    super(`request body over ${maxLength} bytes`, options);
    this.maxLength = maxLength;
  }
}

/**
 * A {@link Timeout} expired (or a blocking call's `timeout` option ran out)
 * while the greenlet waited. Raised in the waiting greenlet at its park point.
 * @example
 * ```ts
 * try { wait(fetch(url), { timeout: 1000 }); } catch (e) { if (e instanceof TimeoutError) retry(); else throw e; }
 * ```
 */
export class TimeoutError extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_ERR_TIMEOUT';
  /** The timeout that expired, in milliseconds (when known). */
  declare ms?: number;

  /**
   * The one wording of a time limit that ran out: `"<what> timed out after
   * <ms> ms"` (or `"timed out after <ms> ms"`), with `ms` set.
   * @internal
   */
  static after(ms: number | null, what?: string): TimeoutError {
    const error = new TimeoutError(`${what === undefined ? '' : `${what} `}timed out after ${ms} ms`);
    if (ms !== null) error.ms = ms;
    return error;
  }
}

/**
 * `getNowait()` (or `get()` past its timeout) found the queue empty.
 * @example
 * ```js
 * const { spawn, Queue, Empty } = require('greenloop');
 * spawn(() => {
 *   try { new Queue().get({ timeout: 10 }); } catch (e) { console.log(e instanceof Empty); } // true
 * });
 * ```
 */
export class Empty extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_ERR_QUEUE_EMPTY';
}

/**
 * `putNowait()` (or `put()` past its timeout) found the queue full.
 * @example
 * ```js
 * const { Queue, Full } = require('greenloop');
 * const q = new Queue(1);
 * q.putNowait('a');
 * try { q.putNowait('b'); } catch (e) { console.log(e instanceof Full); } // true
 * ```
 */
export class Full extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_ERR_QUEUE_FULL';
}

/**
 * A non-blocking `Pool` call found every slot taken (a {@link Full}, as in gevent).
 * @example
 * ```js
 * const { Pool, PoolFull, sleep } = require('greenloop');
 * const pool = new Pool(1);
 * pool.spawn(sleep, 100);
 * try { pool.spawnNowait(sleep, 100); } catch (e) { console.log(e instanceof PoolFull); } // true
 * ```
 */
export class PoolFull extends Full {
  static override readonly code: string = 'GREENLOOP_ERR_POOL_FULL';
}

/**
 * The event loop was about to exit while greenlets were still parked on
 * something nothing could complete (gevent's `LoopExit`). greenloop prints it
 * to stderr with each greenlet's name and where it waits.
 * @example
 * ```js
 * const { spawn, Event } = require('greenloop');
 * spawn(() => new Event().wait()).name = 'waiter';
 * // at exit, stderr: greenloop: LoopExit: ... greenlet "waiter" waits in Event.wait()
 * ```
 */
export class LoopExit extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_ERR_LOOP_EXIT';
}

/**
 * A lock or semaphore was released more often than acquired (a
 * `BoundedSemaphore` or `Lock`), or an `RLock` by a greenlet that does not hold it.
 * @example
 * ```js
 * const { Lock, LockReleaseError } = require('greenloop');
 * try { new Lock().release(); } catch (e) { console.log(e instanceof LockReleaseError); } // true
 * ```
 */
export class LockReleaseError extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_ERR_LOCK_RELEASE';
}

/**
 * A blocking call was cancelled through its `signal` option: Node's
 * `AbortError` convention (`name: 'AbortError'`, `code: 'ABORT_ERR'`, the
 * signal's `reason` as `cause`), as `require('node:timers/promises').setTimeout`
 * throws. Not a {@link GreenloopError}: code written for Node checks
 * `error.name === 'AbortError'`, and that is what it finds.
 * @example
 * ```ts
 * import { AbortError, sleep, spawn } from 'greenloop';
 * spawn(() => {
 *   try { sleep(60_000, { signal: AbortSignal.timeout(10) }); }
 *   catch (e) { console.log(e instanceof AbortError, (e as AbortError).code); } // true 'ABORT_ERR'
 * });
 * ```
 */
export class AbortError extends Error {
  /** Always `'ABORT_ERR'`, as Node's. */
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: ErrorOptions) {
    super(message, options);
    this.name = 'AbortError';
  }
}
