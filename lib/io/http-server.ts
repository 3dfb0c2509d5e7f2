/**
 * A blocking-style HTTP server for greenlets, on `node:http`: each request's
 * handler runs in a greenlet and may call any blocking-style function.
 *
 * Handler greenlets exist per request in progress, not per connection: an
 * idle keep-alive connection holds no parked greenlet. Requests a loop turn
 * reads are queued and served, after the turn's reads, by one greenlet in
 * turn; a handler that parks hands the rest of the queue to a fresh greenlet,
 * so no request waits behind another's IO, and at most `maxConcurrency`
 * handler greenlets live at once.
 * @module
 */
import * as http from 'node:http';
import { GreenletError, GreenletExit, PayloadTooLargeError } from '../errors.js';
import { Greenlet, kOnFinish } from '../api/greenlet.js';
import { kLocalScope } from '../api/local.js';
import { getHub, kTask, type WorkContext } from '../hub/hub.js';
import { wait } from '../api/wait.js';
import {
  assertMayBlock,
  checkOptions,
  checkTimeout,
  clearTimer,
  describe,
  isThenable,
  parkOnCallback,
  setTimer,
  Waiter,
} from './_park.js';
import {
  addressOf,
  inGreenlet,
  isPeerGoneError,
  listenOptionsOf,
  type ServerListenOptions,
  type SocketAddress,
} from './_server.js';
import { requestAbortedError, serverClosedError } from './errors.js';
import { StreamReader, StreamWriter } from './_stream.js';
import { checkWorkers, superviseInstead, type WorkersPlan } from './workers.js';

export { PayloadTooLargeError } from '../errors.js';

/**
 * The default `maxBodyLength`: 1 MiB.
 * @example
 * ```js
 * const http = require('greenloop/http');
 * const server = http.createServer(handler, { maxBodyLength: 4 * http.DEFAULT_MAX_BODY }); // 4 MiB
 * ```
 */
export const DEFAULT_MAX_BODY = 1024 * 1024;

/** Options of the body readers {@link IncomingRequest.body}, `text()` and `json()`. */
export interface BodyOptions {
  /**
   * The largest body accepted, in bytes; a larger one throws
   * {@link PayloadTooLargeError} (the server answers 413 if the handler lets it escape).
   * @default the server's `maxBodyLength` (1 MiB)
   */
  maxLength?: number;
}

const kMaxBody = Symbol('greenloop.maxBody');

/**
 * The request object handlers get: Node's `http.IncomingMessage` with
 * blocking-style body readers.
 * @example
 * ```js
 * const http = require('greenloop/http');
 * http.createServer((req, res) => {
 *   const order = req.json({ maxLength: 10_000 }); // parks while the body arrives
 *   res.json({ received: order.items.length });
 * });
 * ```
 */
export class IncomingRequest extends http.IncomingMessage {
  #reader: StreamReader | null = null;
  #body: Buffer | null = null;

  /**
   * Reads the whole body (once; later calls return the same Buffer).
   * @throws PayloadTooLargeError over `maxLength`; `ECONNRESET` if the
   *   client goes away mid-body.
   */
  body(options: BodyOptions = {}): Buffer {
    assertMayBlock('IncomingRequest.body');
    if (this.#body !== null) return this.#body;
    const server = (this.socket as unknown as { server?: Record<symbol, number> } | null)?.server;
    const limit = options.maxLength ?? server?.[kMaxBody] ?? DEFAULT_MAX_BODY;
    if (typeof limit !== 'number' || !(limit >= 0)) {
      throw new TypeError(`maxLength must be a number of bytes >= 0, got ${describe(limit)}`);
    }
    const declared = Number(this.headers['content-length']);
    if (declared > limit) throw new PayloadTooLargeError(limit);
    if (this.#reader === null) this.#reader = new StreamReader(this, { syscall: 'read' });
    const parts: Buffer[] = [];
    let length = 0;
    for (;;) {
      const chunk = this.#reader.recv(undefined, 'IncomingRequest.body');
      if (chunk.length === 0) break;
      length += chunk.length;
      if (length > limit) throw new PayloadTooLargeError(limit);
      parts.push(chunk);
    }
    if (!this.complete) {
      throw requestAbortedError();
    }
    this.#body = parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
    return this.#body;
  }

  /** Reads the whole body as UTF-8 text. */
  text(options?: BodyOptions): string {
    return this.body(options).toString('utf8');
  }

  /**
   * Reads the whole body and parses it as JSON.
   * @throws SyntaxError for a body that is not JSON (the server answers 400
   *   if the handler lets it escape).
   */
  json<T = unknown>(options?: BodyOptions): T {
    const text = this.text(options);
    try {
      return JSON.parse(text) as T;
    } catch (error) {
      throw Object.assign(error as Error, { statusCode: 400 });
    }
  }
}

/**
 * The response object handlers get: Node's `http.ServerResponse` with
 * blocking-style writing and small helpers.
 * @example
 * ```js
 * const http = require('greenloop/http');
 * http.createServer((req, res) => {
 *   res.writeHead(200, { 'content-type': 'text/plain' });
 *   for (let i = 0; i < 1000; i++) res.sendall(`line ${i}\n`); // parks while the client is slow
 *   res.end();
 * });
 * ```
 */
export class OutgoingResponse extends http.ServerResponse<IncomingRequest> {
  #writer: StreamWriter | null = null;

  /**
   * Writes a chunk of the body, parking while the connection's write buffer
   * is over its high-water mark (a slow client slows its handler only).
   * @throws `EPIPE` / `ERR_SOCKET_CLOSED`-style errors if the client is gone.
   */
  sendall(chunk: string | Uint8Array): void {
    if (this.#writer === null) this.#writer = new StreamWriter(this, { syscall: 'write' });
    this.#writer.sendall(chunk, 'OutgoingResponse.sendall');
  }

  /** Sends `value` as JSON with `status` and ends the response. */
  json(value: unknown, status = 200): void {
    const body = JSON.stringify(value);
    this.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    this.end(body);
  }

  /** Sends `body` with `status` (text/plain for a string unless a content-type is set) and ends the response. */
  send(body: string | Uint8Array = '', status = 200): void {
    if (!this.hasHeader('content-type')) {
      this.setHeader(
        'content-type',
        typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream',
      );
    }
    this.setHeader('content-length', typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    this.statusCode = status;
    this.end(body);
  }
}

/**
 * A request handler: runs in a greenlet; the response is ended when it
 * returns if it did not end it. An `async` handler (one that returns a
 * promise) is waited for: its rejection is the request's error, and the
 * response is ended once the promise settles. Code after an `await` runs
 * outside the greenlet, where blocking-style calls throw `GreenletError`.
 */
export type RequestHandler = (req: IncomingRequest, res: OutgoingResponse) => void | PromiseLike<void>;

/** Options of {@link createServer}. */
export interface ServerOptions {
  /**
   * Handler greenlets alive at once; further requests wait in FIFO order
   * and are taken by the greenlets as they finish.
   * @default Infinity
   */
  maxConcurrency?: number;
  /** The default `maxLength` of request body reads. @default 1048576 */
  maxBodyLength?: number;
  /**
   * Called with an error a handler threw (or its promise rejected with).
   * The client gets a 500 (413 for
   * {@link PayloadTooLargeError}, the error's `statusCode` if it has one)
   * if no response was started, else the connection is closed.
   * @default print it to stderr (except client disconnects)
   */
  onError?: (error: unknown, req: IncomingRequest) => void;
  /** Options passed to `http.createServer` (`keepAliveTimeout`, `requestTimeout`, ...). */
  http?: Omit<http.ServerOptions, 'IncomingMessage' | 'ServerResponse'>;
  /**
   * Serve from this many processes on `node:cluster`, as `gunicorn -w N`
   * does (docs/workers.md). In the primary, `listen()` forks the workers and
   * supervises them instead of listening: the parking form never returns,
   * the callback form returns at once and never calls back there; the
   * primary exits once SIGTERM or SIGINT has stopped them (status 0 if all
   * stopped cleanly). Each worker runs the script from the top, where the
   * same call listens (the port is shared) and serves; SIGHUP to the primary
   * replaces the workers one at a time. `stopTimeout` is what a stopping
   * worker gives its in-flight requests (as {@link Server.close}'s `timeout`).
   * @default no workers: this process serves
   * @example
   * ```js
   * const server = http.createServer(handler, { workers: 2 });
   * server.listen(8080, () => console.log(`worker ${process.pid} listening`));
   * ```
   */
  workers?: number | { count: number; stopTimeout?: number | null };
}

/** Options of {@link Server.close}. */
export interface CloseOptions {
  /**
   * Milliseconds given to in-flight requests, and then again to killed
   * handlers to end; `null` waits as long as it takes.
   * @default 1000
   */
  timeout?: number | null;
}

/** An address the server is bound to: the same type as `greenloop/net`'s `SocketAddress`. */
export type ServerAddress = SocketAddress;
export type { ServerListenOptions } from './_server.js';

/** What a server's handler greenlets call back into: one object per server. */
interface HandlerHooks {
  /** Serves queued requests until none is left. */
  work(g: HandlerGreenlet): void;
  /** The greenlet is about to park (in a handler). */
  parked(g: HandlerGreenlet): void;
  /** The greenlet finished (or was killed before it started). */
  died(g: HandlerGreenlet): void;
}

/** A request the parser's callback queued, with that callback's async context. */
class QueuedRequest {
  constructor(
    readonly req: IncomingRequest,
    readonly res: OutgoingResponse,
    readonly context: WorkContext,
  ) {}
}

/**
 * A handler greenlet: a Greenlet that is also its own node in its server's
 * {@link HandlerList}. It serves queued requests until none is left; its
 * Task's `onPark` tells the server when a handler parks in it.
 */
class HandlerGreenlet extends Greenlet<void, []> {
  #prev: HandlerGreenlet | null = null;
  #next: HandlerGreenlet | null = null;
  readonly #hooks: HandlerHooks;
  /** Renewed after each request, so that each sees fresh `local()` views. */
  [kLocalScope]: object = {};

  constructor(hooks: HandlerHooks) {
    super();
    this.#hooks = hooks;
    this[kTask].onPark = () => hooks.parked(this);
  }

  run(): void {
    this.#hooks.work(this);
  }

  [kOnFinish](): void {
    this.#hooks.died(this);
  }

  static link(list: HandlerList, g: HandlerGreenlet): void {
    g.#next = list.first;
    if (list.first !== null) list.first.#prev = g;
    list.first = g;
    list.size++;
  }

  static unlink(list: HandlerList, g: HandlerGreenlet): void {
    if (g.#prev !== null) g.#prev.#next = g.#next;
    else if (list.first === g) list.first = g.#next;
    else return; // not in the list
    if (g.#next !== null) g.#next.#prev = g.#prev;
    g.#prev = g.#next = null;
    list.size--;
  }

  static toArray(list: HandlerList): HandlerGreenlet[] {
    const all: HandlerGreenlet[] = [];
    for (let g = list.first; g !== null; g = g.#next) all.push(g);
    return all;
  }
}

/**
 * A server's live handler greenlets, threaded through them. A `Set` would
 * reallocate its table each time it empties and fills again, which a server
 * that keeps up with its load does at every request.
 */
interface HandlerList {
  first: HandlerGreenlet | null;
  size: number;
}

function defaultOnError(error: unknown, req: IncomingRequest): void {
  if (isPeerGoneError(error)) return;
  console.error(`greenloop http: handler for ${req.method} ${req.url} failed:`, error);
}

/**
 * A green HTTP server (see {@link createServer}). `listen()` and `close()`
 * park; requests run in greenlets.
 * @example
 * ```js
 * const { spawn } = require('greenloop');
 * const http = require('greenloop/http');
 * const server = http.createServer((req, res) => res.send('ok'));
 * spawn(() => {
 *   const { port } = server.listen(0, '127.0.0.1');
 *   console.log(http.request(`http://127.0.0.1:${port}/`).text()); // ok
 *   server.close();
 * });
 * ```
 */
export class Server {
  /** The underlying `http.Server`. */
  readonly raw: http.Server<typeof IncomingRequest, typeof OutgoingResponse>;
  readonly #handler: RequestHandler;
  readonly #maxConcurrency: number;
  readonly #onError: (error: unknown, req: IncomingRequest) => void;
  /** Requests read and not yet taken by a handler greenlet, oldest first. */
  readonly #queue: QueuedRequest[] = [];
  /** Requests a handler greenlet has taken and not finished. */
  #serving = 0;
  /** Live handler greenlets (each one leaves the list when it dies, started or not). */
  readonly #greenlets: HandlerList = { first: null, size: 0 };
  /**
   * The handler greenlet that takes the next queued request without being
   * woken: started and not yet run, or running and not parked. Null when
   * none is, and then the next request (or a park) starts one.
   */
  #taker: HandlerGreenlet | null = null;
  readonly #hooks: HandlerHooks = {
    work: (g) => this.#work(g),
    parked: (g) => {
      if (this.#taker === g) this.#taker = null;
      // Started now, it is the next ready greenlet: the park hands off to it.
      if (this.#queue.length !== 0) this.#startTaker();
    },
    died: (g) => {
      HandlerGreenlet.unlink(this.#greenlets, g);
      if (this.#taker === g) this.#taker = null;
      const error = g.exception;
      if (!g.started && error instanceof GreenletError && error.errno !== undefined) {
        // Its start was refused (no thread or stack to be had, reported as
        // the greenlet's error): a fresh one would be refused as well.
        for (const { res } of this.#queue.splice(0)) refuse(res, 503);
      } else if (this.#queue.length !== 0 && !this.#aborting) {
        // Killed with requests still queued: a fresh greenlet takes them.
        this.#startTaker();
      }
      this.#wakeClose();
    },
  };
  /** Set once `close()` gave up waiting: queued requests are dropped, not served. */
  #aborting = false;
  /** Woken by `close()`'s progress: a handler greenlet died, or the server closed. */
  #progress: Waiter<void> | null = null;
  readonly #workers: WorkersPlan | null;

  /** @internal Use {@link createServer}. */
  constructor(handler: RequestHandler, options: ServerOptions = {}) {
    if (typeof handler !== 'function') throw new TypeError(`handler must be a function, got ${describe(handler)}`);
    checkOptions('options', options);
    const max = options.maxConcurrency ?? Infinity;
    if (typeof max !== 'number' || !(max >= 1)) {
      throw new TypeError(`maxConcurrency must be a number >= 1, got ${describe(max)}`);
    }
    this.#handler = handler;
    this.#maxConcurrency = max;
    this.#onError = options.onError ?? defaultOnError;
    this.#workers = checkWorkers(options.workers);
    this.raw = http.createServer<typeof IncomingRequest, typeof OutgoingResponse>({
      ...options.http,
      IncomingMessage: IncomingRequest,
      ServerResponse: OutgoingResponse,
    });
    (this.raw as unknown as Record<symbol, number>)[kMaxBody] = options.maxBodyLength ?? DEFAULT_MAX_BODY;
    this.raw.on('request', (req, res) => this.#onRequest(req, res));
    this.raw.on('error', () => {});
  }

  #onRequest(req: IncomingRequest, res: OutgoingResponse): void {
    if (this.#aborting) {
      res.destroy();
      return;
    }
    // Served in this loop turn, after its reads: one greenlet serves all
    // the turn's requests that do not park, so their responses leave
    // together and the turn pays one greenlet start, not one per request.
    this.#queue.push(new QueuedRequest(req, res, getHub().captureWorkContext()));
    this.#startTaker();
  }

  /** Starts a handler greenlet to take the queue, if `maxConcurrency` leaves room for one. */
  #startTaker(): void {
    if (this.#taker !== null || this.#greenlets.size >= this.#maxConcurrency) return;
    const g = new HandlerGreenlet(this.#hooks);
    HandlerGreenlet.link(this.#greenlets, g);
    this.#taker = g;
    g.start();
  }

  #wakeClose(): void {
    const waiter = this.#progress;
    if (waiter !== null) {
      this.#progress = null;
      waiter.switch(undefined);
    }
  }

  /** A handler greenlet's life: serves queued requests, each in its callback's async context, then ends. */
  #work(g: HandlerGreenlet): void {
    const hub = getHub();
    for (;;) {
      const next = this.#queue.shift();
      if (next === undefined) break;
      hub.adoptWorkContext(g[kTask], next.context);
      this.#serving++;
      try {
        this.#serve(next.req, next.res);
      } finally {
        this.#serving--;
        g[kLocalScope] = {};
      }
    }
    if (this.#taker === g) this.#taker = null;
  }

  #serve(req: IncomingRequest, res: OutgoingResponse): void {
    try {
      const result = this.#handler(req, res);
      if (isThenable(result)) wait(result);
      if (!res.writableEnded) res.end();
    } catch (error) {
      if (error instanceof GreenletExit) {
        res.destroy();
        throw error;
      }
      try {
        this.#onError(error, req);
      } catch (hookError) {
        console.error('greenloop http: onError threw:', hookError);
      }
      refuse(res, error instanceof PayloadTooLargeError ? 413 : statusOf(error));
    }
  }

  /**
   * Binds the server, with `node:http`'s signatures: `listen(port, host,
   * backlog)`, `listen(port, cb)`, `listen(port, host, cb)`,
   * `listen({ port, host, backlog, path }, cb)`, `listen(path, cb)`.
   *
   * Without a callback it parks until the server listens and returns the
   * address (a greenlet's blocking style). With one it returns the server at
   * once, as Node's does, and calls `cb()` once listening; a listen error
   * then goes to the underlying server's `'error'` listeners if you added
   * any (`server.raw.on('error', ...)`), else it is thrown as an uncaught
   * exception, as an unhandled `'error'` is in Node.
   * @param port - @default 0 (a free port)
   * @param host - @default all interfaces
   * @throws `EADDRINUSE`, ... as Node reports them (parking form);
   *   TypeError for a port that is not an integer from 0 to 65535 or a
   *   callback that is not a function; `GreenletError` outside a spawned
   *   greenlet without a callback.
   * @example
   * ```js
   * const { port } = server.listen(0, '127.0.0.1'); // in a greenlet: parks until bound
   * server.listen(8080, () => console.log('listening')); // anywhere, as node:http
   * ```
   */
  listen(port?: number, host?: string, backlog?: number): ServerAddress;
  listen(options: ServerListenOptions): ServerAddress;
  listen(path: string): ServerAddress;
  listen(port: number, callback: () => void): this;
  listen(port: number, host: string, callback: () => void): this;
  listen(port: number, host: string, backlog: number, callback: () => void): this;
  listen(options: ServerListenOptions, callback: () => void): this;
  listen(path: string, callback: () => void): this;
  listen(...args: unknown[]): ServerAddress | this {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as () => void) : undefined;
    const options = listenOptionsOf(args);
    const graceful = { stop: (timeout: number | null) => this.close({ timeout }), isServing: () => this.raw.listening };
    if (superviseInstead(this.#workers, graceful, 'http.Server.listen', callback === undefined)) return this;
    if (callback !== undefined) {
      const onError = (error: Error) => {
        this.raw.off('listening', onListening);
        // Node's own behaviour for an 'error' nobody listens to (ours is the no-op below).
        if (this.raw.listenerCount('error') > 1) this.raw.emit('error', error);
        else
          process.nextTick(() => {
            throw error;
          });
      };
      const onListening = () => {
        this.raw.off('error', onError);
        callback();
      };
      this.raw.prependOnceListener('error', onError);
      this.raw.listen(options, onListening);
      return this;
    }
    parkOnCallback<void>('http.Server.listen', (done) => {
      const onError = (error: Error) => done(error);
      this.raw.once('error', onError);
      this.raw.listen(options, () => {
        this.raw.off('error', onError);
        done(null);
      });
    });
    return this.address()!;
  }

  /**
   * The bound address as `node:http`'s `server.address()` gives it
   * (`{ address, family, port }`; for a Unix socket `family` is `'unix'`
   * and `address` the path, where Node returns the bare path), or `null`
   * when not listening.
   */
  address(): ServerAddress | null {
    return addressOf(this.raw);
  }

  /** The bound port (0 when not listening). */
  get port(): number {
    return this.address()?.port ?? 0;
  }

  /** Requests being handled plus those queued. */
  get pending(): number {
    return this.#serving + this.#queue.length;
  }

  /**
   * Stops accepting, closes idle keep-alive connections, and parks until
   * every connection is closed and every handler greenlet has finished, or
   * `timeout` ms pass. Then it closes the remaining connections, drops
   * queued requests and kills the remaining handler greenlets (a
   * `GreenletExit` where each is parked, so their `finally` blocks run), and
   * parks up to `timeout` ms more for them to end. Returns at once if the
   * server is not listening.
   *
   * With a callback (`close(cb)`, `close(options, cb)`) it does not park, as
   * `node:http`'s does: the same graceful close runs in a greenlet of its
   * own and `cb(err)` is called when it is done, `err` being
   * `ERR_SERVER_NOT_RUNNING` if the server was not listening.
   * @throws TypeError for a bad `timeout` (see {@link CloseOptions}); `GreenletError` outside a spawned greenlet.
   * @example
   * ```js
   * server.close({ timeout: 5000 }); // in-flight requests get 5 s to finish
   * server.close((err) => console.log('closed', err)); // anywhere, as node:http
   * ```
   */
  close(callback: (error?: Error) => void): this;
  close(options: CloseOptions, callback: (error?: Error) => void): this;
  close(options?: CloseOptions): void;
  close(...args: unknown[]): void | this {
    const callback = typeof args[args.length - 1] === 'function' ? (args.pop() as (error?: Error) => void) : undefined;
    const options = (args[0] ?? {}) as CloseOptions;
    checkOptions('options', options);
    const timeout = checkTimeout('timeout', options.timeout === undefined ? 1000 : options.timeout);
    if (callback !== undefined) {
      if (!this.raw.listening) {
        process.nextTick(callback, serverClosedError());
        return this;
      }
      inGreenlet(() => this.#close(timeout)).then(() => callback(), callback);
      return this;
    }
    assertMayBlock('http.Server.close');
    this.#close(timeout);
  }

  /** `Symbol.dispose`: {@link close} (parks), so `using server = createServer(...)` closes it. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** `Symbol.asyncDispose`: closes in a greenlet of its own; the promise settles when it is closed. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.raw.listening ? inGreenlet(() => this.#close(1000)) : Promise.resolve();
  }

  #close(timeout: number | null): void {
    if (!this.raw.listening) return;
    let closed = false;
    this.raw.close(() => {
      closed = true;
      this.#wakeClose();
    });
    this.raw.closeIdleConnections();
    const done = () => closed && this.#greenlets.size === 0;
    if (this.#waitFor(done, timeout)) return;
    this.#aborting = true;
    try {
      for (const { res } of this.#queue.splice(0)) res.destroy();
      this.raw.closeAllConnections();
      for (const g of HandlerGreenlet.toArray(this.#greenlets)) {
        g.kill(new GreenletExit('http.Server closed'), { block: false });
      }
      this.#waitFor(done, timeout);
    } finally {
      this.#aborting = false;
    }
  }

  /** Parks until `done()` holds (checked at each handler's death and at the close), or `timeout` ms pass. */
  #waitFor(done: () => boolean, timeout: number | null): boolean {
    let expired = false;
    const timer =
      timeout === null
        ? undefined
        : setTimer(() => {
            expired = true;
            this.#wakeClose();
          }, timeout);
    try {
      while (!done() && !expired) {
        const waiter = new Waiter<void>('http.Server.close()');
        this.#progress = waiter;
        try {
          waiter.get();
        } finally {
          if (this.#progress === waiter) this.#progress = null;
        }
      }
    } finally {
      clearTimer(timer);
    }
    return done();
  }
}

/** Answers `status` and closes the connection, or destroys the response if its head is already out. */
function refuse(res: OutgoingResponse, status: number): void {
  if (!res.headersSent && !res.destroyed) {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
    res.end(`${http.STATUS_CODES[status] ?? 'Error'}\n`);
  } else {
    res.destroy();
  }
}

function statusOf(error: unknown): number {
  const status =
    (error as { statusCode?: unknown; status?: unknown } | null)?.statusCode ??
    (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' && status >= 400 && status < 600 ? status : 500;
}

/**
 * Creates a green HTTP server: `handler(req, res)` runs in a greenlet, with
 * `req.body()`/`text()`/`json()` and `res.sendall()` in blocking style. The
 * requests a loop turn reads are served after its reads, in that turn, by
 * one greenlet in turn; a handler that parks hands the rest to another
 * greenlet, so none waits behind another's IO. Each runs in its request
 * callback's async context. An error a handler throws becomes a 500
 * response (see `onError`), never a crash.
 * @example
 * ```js
 * const { spawn, sleep } = require('greenloop');
 * const http = require('greenloop/http');
 *
 * const server = http.createServer((req, res) => {
 *   sleep(10); // any blocking-style call
 *   res.json({ path: req.url });
 * });
 * spawn(() => console.log('listening on', server.listen(8080, '127.0.0.1').port));
 * ```
 */
export function createServer(handler: RequestHandler, options?: ServerOptions): Server {
  return new Server(handler, options);
}
