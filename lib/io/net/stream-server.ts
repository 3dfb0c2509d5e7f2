/**
 * gevent's `StreamServer`: one handler greenlet per connection.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import type * as net from 'node:net';
import { GreenletExit } from '../../errors.js';
import { kRawlink, spawn } from '../../api/greenlet.js';
import { wait } from '../../api/wait.js';
import {
  assertMayBlock,
  checkOptions,
  checkSignal,
  checkTimeout,
  clearTimer,
  describe,
  isThenable,
  setTimer,
  Waiter,
} from '../_park.js';
import { addressOf, inGreenlet, isPeerGoneError, type SocketAddress } from '../_server.js';
import { serverClosedError } from '../errors.js';
import { accepted, type ListenOptions, startServer } from './listener.js';
import { checkPort, Socket } from './socket.js';
import { checkWorkers, superviseInstead, type WorkersPlan } from '../workers.js';

/**
 * A {@link StreamServer}'s handler: runs in its own greenlet, once per
 * connection. An `async` handler (one that returns a promise) is waited for:
 * the socket stays open until the promise settles, and a rejection is that
 * connection's error (see {@link StreamServerOptions.onError}). Code after an
 * `await` runs outside the greenlet, where blocking-style calls throw
 * `GreenletError`.
 */
export type StreamHandler = (socket: Socket, address: SocketAddress) => void | PromiseLike<void>;

/** Options of {@link StreamServer}. */
export interface StreamServerOptions extends ListenOptions {
  /**
   * At most this many connections at once; more are closed as they arrive
   * (Node's `server.maxConnections`).
   * @default Infinity
   */
  maxConnections?: number;
  /**
   * Start a connection's handler greenlet only when its first byte (or its
   * end) arrives, rather than at accept as gevent does. An idle connection
   * then holds no parked greenlet: about 6 KiB of server RSS per idle
   * connection instead of 31 KiB (3,000 silent connections, Node 20, x86-64;
   * `node bench/idle.js`), and no ~3 µs more per V8 scavenge for each
   * parked greenlet. For servers
   * with many silent connections; a server that speaks first (a greeting,
   * a banner) or must know its clients before they send (a chat's
   * broadcast list) needs the default.
   * @default false (handlers start at accept)
   */
  lazy?: boolean;
  /**
   * Per-operation timeout of each connection's socket (see
   * {@link Socket.setTimeout}).
   * @default no timeout
   */
  timeout?: number | null;
  /**
   * Called with an error a handler threw, or its promise rejected with
   * (the socket is closed right after). Default: print it to stderr, except a peer's reset or broken
   * pipe (`ECONNRESET`, `EPIPE`), which end only that connection.
   */
  onError?: (error: unknown, socket: Socket) => void;
  /**
   * Serve from this many processes on `node:cluster`, as `gunicorn -w N`
   * does (docs/workers.md). In the primary, `start()` (and so
   * `serveForever()`) forks the workers and supervises them instead of
   * listening, and never returns: the primary exits once SIGTERM or SIGINT
   * has stopped them (status 0 if all stopped cleanly). Each worker runs the
   * script from the top, where the same call listens (the port is shared)
   * and serves; SIGHUP to the primary replaces the workers one at a time.
   * `stopTimeout` is what a stopping worker gives its in-flight handlers
   * (as {@link StreamServer.stop}'s `timeout`).
   * @default no workers: this process serves
   * @example
   * ```js
   * const server = new StreamServer(handler, { port: 7000, workers: 2 });
   * spawn(() => server.serveForever()); // the primary supervises, 2 workers serve
   * ```
   */
  workers?: number | { count: number; stopTimeout?: number | null };
}

function defaultOnError(error: unknown, socket: Socket): void {
  if (isPeerGoneError(error)) return;
  const peer = socket.remoteAddress;
  console.error(`greenloop StreamServer: handler for ${peer.address}:${peer.port} failed:`, error);
}

type Handle = { kill(...args: unknown[]): unknown };

/** Where an accepted `net.Socket` keeps its green socket, for the server's one 'close' listener. */
const kGreenSocket = Symbol('greenloop.greenSocket');
type RawWithSocket = net.Socket & { [kGreenSocket]?: Socket };

function forgetUnhandledOnClose(connections: Map<Socket, Handle | null>): (this: net.Socket) => void {
  return function (this: net.Socket) {
    const socket = (this as RawWithSocket)[kGreenSocket]!;
    if (connections.get(socket) === null) connections.delete(socket);
  };
}

/**
 * gevent's `StreamServer`: accepts connections and runs `handler(socket,
 * address)` in one greenlet per connection. When the handler returns or
 * throws, the socket is closed; an error in a handler ends that connection
 * only (see `onError`).
 *
 * @example
 * ```js
 * const server = new StreamServer((sock) => {
 *   for (let data = sock.recv(); data.length > 0; data = sock.recv()) sock.sendall(data);
 * }, { port: 7000, host: '127.0.0.1' });
 * spawn(() => server.serveForever());
 * ```
 */
export class StreamServer {
  readonly #handler: StreamHandler;
  readonly #options: StreamServerOptions;
  #server: net.Server | null = null;
  /** Open connections, with their handler greenlet once it exists. */
  readonly #connections = new Map<Socket, Handle | null>();
  #handlers = 0;
  #drained: Waiter<void> | null = null;
  #stopped: Waiter<void>[] = [];
  #stopping = false;
  /**
   * The 'close' listener of every accepted socket (called with the socket
   * as `this`: no closure per connection): forgets a connection whose
   * handler never started (a handler's death forgets its own).
   */
  readonly #onRawClose = forgetUnhandledOnClose(this.#connections);
  readonly #workers: WorkersPlan | null;

  /**
   * @param handler - runs in a new greenlet for each connection.
   * @param options - where to listen and how; see {@link StreamServerOptions}.
   */
  constructor(handler: StreamHandler, options: StreamServerOptions = {}) {
    if (typeof handler !== 'function') throw new TypeError(`handler must be a function, got ${describe(handler)}`);
    if (options === null || typeof options !== 'object') {
      throw new TypeError(`options must be an object, got ${describe(options)}`);
    }
    if (options.path === undefined && options.port !== undefined) checkPort(options.port);
    if (options.onError !== undefined && typeof options.onError !== 'function') {
      throw new TypeError(`onError must be a function, got ${describe(options.onError)}`);
    }
    checkTimeout('timeout', options.timeout);
    this.#workers = checkWorkers(options.workers);
    const signal = checkSignal('signal', options.signal);
    this.#handler = handler;
    this.#options = { ...options, signal: undefined };
    if (signal?.aborted) this.#stopping = true;
    else signal?.addEventListener('abort', () => this.#onAbort(), { once: true });
  }

  /**
   * Binds and starts accepting; parks until the socket is bound and returns
   * the address. Starting twice is a no-op.
   * @throws `EADDRINUSE`, ... as Node reports them.
   */
  start(): SocketAddress {
    assertMayBlock('StreamServer.start');
    if (this.#server === null) {
      if (this.#stopping) throw serverClosedError();
      const graceful = {
        stop: (timeout: number | null) => this.stop({ timeout: timeout ?? Infinity }),
        isServing: () => this.started,
      };
      superviseInstead(this.#workers, graceful, 'StreamServer.start', true);
      const server = startServer(this.#options, (raw) => this.#onSocket(raw), 'StreamServer.start');
      if (this.#options.maxConnections !== undefined) server.maxConnections = this.#options.maxConnections;
      this.#server = server;
    }
    return addressOf(this.#server)!;
  }

  /** Starts (if needed) and parks until {@link stop} is called. */
  serveForever(): void {
    this.start();
    if (this.#stopping) return;
    const waiter = new Waiter<void>('StreamServer.serveForever()');
    this.#stopped.push(waiter);
    try {
      waiter.get();
    } finally {
      const at = this.#stopped.indexOf(waiter);
      if (at >= 0) this.#stopped.splice(at, 1);
    }
  }

  /**
   * Stops gracefully: stops accepting, closes idle connections whose
   * handler has not started, waits up to `timeout` ms for running handlers
   * to return, then kills the rest (a `GreenletExit` at their park point)
   * and closes their sockets. Parks until done.
   * @param options.timeout - @default 1000 (gevent's `stop_timeout`)
   */
  stop(options: { timeout?: number } = {}): void {
    assertMayBlock('StreamServer.stop');
    checkOptions('options', options);
    const timeout = checkTimeout('timeout', options.timeout ?? 1000);
    this.#stopping = true;
    const server = this.#server;
    if (server !== null) server.close();
    for (const [socket, handle] of this.#connections) if (handle === null) socket.destroy();
    if (this.#handlers > 0) {
      this.#waitDrained(timeout);
      if (this.#handlers > 0) {
        for (const [socket, handle] of this.#connections) {
          handle?.kill(new GreenletExit('StreamServer stopped'), { block: false });
          socket.destroy();
        }
        this.#waitDrained(timeout);
      }
    }
    for (const waiter of this.#stopped.splice(0)) waiter.switch(undefined);
  }

  /** The `signal` option: stops a started server (in a greenlet of its own); one not yet started never starts. */
  #onAbort(): void {
    if (this.#server === null) this.#stopping = true;
    else if (!this.#stopping)
      this[Symbol.asyncDispose]().catch((error: unknown) =>
        console.error('greenloop StreamServer: stop on abort failed:', error),
      );
  }

  #waitDrained(timeout: number | null): void {
    const waiter = new Waiter<void>('StreamServer.stop()');
    this.#drained = waiter;
    const timer = timeout === null ? undefined : setTimer(() => waiter.switch(undefined), timeout);
    try {
      waiter.get();
    } finally {
      if (this.#drained === waiter) this.#drained = null;
      clearTimer(timer);
    }
  }

  #onSocket(raw: net.Socket): void {
    if (this.#stopping) {
      raw.destroy();
      return;
    }
    const lazy = this.#options.lazy === true;
    const socket: Socket = new Socket(raw, {
      timeout: this.#options.timeout,
      unixPath: accepted(this.#options.path),
      onFirstActivity: lazy ? () => this.#startHandler(socket) : undefined,
    });
    this.#connections.set(socket, null);
    (raw as RawWithSocket)[kGreenSocket] = socket;
    raw.on('close', this.#onRawClose);
    if (!lazy) this.#startHandler(socket);
  }

  #startHandler(socket: Socket): void {
    if (this.#stopping || !this.#connections.has(socket)) return;
    this.#handlers++;
    const g = spawn(this.#runBound, socket);
    // Counted down at its death, also when killed before it started (its
    // finally block never runs then).
    g[kRawlink](() => {
      this.#connections.delete(socket);
      if (--this.#handlers === 0 && this.#drained !== null) {
        const waiter = this.#drained;
        this.#drained = null;
        waiter.switch(undefined);
      }
    });
    if (this.#connections.has(socket)) this.#connections.set(socket, g as unknown as Handle);
  }

  /**
   * {@link #run} bound once: calling a bound function adds no frame, where a
   * closure per handler would add one to every parked handler's stack (every
   * scavenge walks it, and a deeper park holds one more stack page).
   */
  readonly #runBound = this.#run.bind(this);

  #run(socket: Socket): void {
    try {
      const result = this.#handler(socket, socket.remoteAddress);
      if (isThenable(result)) wait(result);
    } catch (error) {
      if (!(error instanceof GreenletExit)) {
        try {
          (this.#options.onError ?? defaultOnError)(error, socket);
        } catch (hookError) {
          console.error('greenloop StreamServer: onError threw:', hookError);
        }
      }
    } finally {
      socket.close();
    }
  }

  /**
   * The bound address (`{ address, family, port }`, as `node:net`'s
   * `server.address()`; for a Unix socket `family` is `'unix'` and `address`
   * the path), or `null` before {@link start}.
   */
  address(): SocketAddress | null {
    return this.#server === null ? null : addressOf(this.#server);
  }

  /** The bound TCP port (0 before {@link start}). */
  get port(): number {
    return this.address()?.port ?? 0;
  }

  /** `Symbol.dispose`: {@link stop} (parks), so `using server = new StreamServer(...)` stops it. */
  [Symbol.dispose](): void {
    if (this.#server !== null && !this.#stopping) this.stop();
  }

  /** `Symbol.asyncDispose`: stops in a greenlet of its own; the promise settles when it has stopped. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.#server !== null && !this.#stopping ? inGreenlet(() => this.stop()) : Promise.resolve();
  }

  /** Open connections (with or without a running handler). */
  get connections(): number {
    return this.#connections.size;
  }

  /** Handler greenlets alive now (idle connections of a lazy server have none). */
  get handlers(): number {
    return this.#handlers;
  }

  /** True between {@link start} and {@link stop}. */
  get started(): boolean {
    return this.#server !== null && !this.#stopping;
  }
}
