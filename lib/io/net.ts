/**
 * Blocking-style TCP, TLS and Unix-socket IO for greenlets: `connect()`,
 * `listen()` + `accept()`, and gevent's `StreamServer`.
 *
 * Every call parks only the calling greenlet while libuv does the work; all
 * other greenlets and callbacks keep running. Called outside a spawned
 * greenlet, a blocking call throws the hub's `GreenletError`. Errors are
 * Node's own (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, ...), thrown in the
 * greenlet that made the call.
 *
 * @example
 * ```js
 * const { spawn } = require('greenloop');
 * const { StreamServer, connect } = require('greenloop/net');
 *
 * const server = new StreamServer((sock) => {
 *   for (const line of sock) sock.sendall(`${line.toUpperCase()}\n`);
 * }, { port: 0, host: '127.0.0.1' });
 *
 * spawn(() => {
 *   server.start();
 *   const sock = connect(server.port, '127.0.0.1');
 *   sock.sendall('hello\n');
 *   console.log(sock.readLine()); // HELLO
 *   sock.close();
 *   server.stop();
 * });
 * ```
 * @module greenloop/net
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { GreenletExit } from '../errors.js';
import { kRawlink, spawn } from '../api/greenlet.js';
import { wait } from '../api/wait.js';
import { assertMayBlock, checkOptions, checkTimeout, clearTimer, describe, isThenable, parkOnCallback, setTimer, systemError, type Timer, Waiter } from './_park.js';
import { type ReadLineOptions, ReadingEnd, StreamReader, StreamWriter } from './_stream.js';

export type { ReadLineOptions } from './_stream.js';
export { LineTooLongError, IncompleteReadError, ConcurrentIOError } from '../errors.js';

/** A peer's or a local address. For Unix sockets `family` is `'unix'` and `address` the path. */
export interface SocketAddress {
  address: string;
  port: number;
  family: string;
}

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** TCP port (with `host`), or use `path`. */
  port?: number;
  /** @default 'localhost' */
  host?: string;
  /** A Unix socket path instead of a TCP port. */
  path?: string;
  /**
   * Milliseconds for the connection to be made; it also becomes the
   * socket's per-operation timeout (see {@link Socket.setTimeout}), as in
   * gevent's `create_connection`. Exceeding it throws `ETIMEDOUT`.
   * @default no timeout
   */
  timeout?: number | null;
  /**
   * Disable Nagle's algorithm, so small writes leave at once.
   * @default true
   */
  noDelay?: boolean;
  /**
   * Connect with TLS: `true`, or Node's `tls.connect` options (`ca`,
   * `servername`, `rejectUnauthorized`, ...). Returns once the handshake is done.
   * @default false
   */
  tls?: boolean | tls.ConnectionOptions;
}

/** Options of {@link listen}. */
export interface ListenOptions {
  /** @default 0 (the kernel picks a free port; see `Listener.port`) */
  port?: number;
  /** @default all interfaces */
  host?: string;
  /** A Unix socket path instead of a TCP port. */
  path?: string;
  /** Length of the kernel's queue of unaccepted connections. @default 511 */
  backlog?: number;
  /** Serve TLS with Node's `tls.createServer` options (`key`, `cert`, ...). */
  tls?: tls.TlsOptions;
  /** Disable Nagle's algorithm on accepted sockets. @default true */
  noDelay?: boolean;
}

const kSocket = Symbol('greenloop.socket');
/** Internal: connect() tells its socket that the connection is made, so it learns its addresses. */
const kConnected = Symbol('greenloop.connected');

/** Options of the {@link Socket} constructor (internal). */
interface SocketOptions {
  onFirstActivity?: () => void;
  timeout?: number | null;
  /**
   * The socket path of a Unix socket (Node reports no addresses for those):
   * the peer's on a connecting end, the own end's on an accepted one.
   */
  unixPath?: { path: string; accepted: boolean };
}

const UNKNOWN_ADDRESS: SocketAddress = Object.freeze({ address: '', port: 0, family: '' });

// The read methods are ReadingEnd's (lib/io/_stream.ts), shared with
// child_process.ProcessOutput; this interface, merged into the class Socket
// below, gives them the socket's own docs.
export interface Socket {
  /**
   * Returns up to `max` bytes as soon as any have arrived (parking until
   * then); an empty Buffer once the peer has ended its side.
   * @param max - @default 65536
   * @throws the socket's error (`ECONNRESET`, ...), `ETIMEDOUT` past the
   *   socket's timeout, `ERR_SOCKET_CLOSED` after {@link close}.
   */
  recv(max?: number): Buffer;

  /**
   * Returns exactly `n` bytes.
   * @throws IncompleteReadError if the peer ends its side first (its
   *   `partial` holds what came).
   */
  recvExactly(n: number): Buffer;

  /**
   * Returns the next line, without its `\n` or `\r\n`; a last line without
   * a line end as it is; `null` once the peer has ended its side.
   * @throws LineTooLongError when no line end comes within `maxLength` bytes
   *   (default 65536), so an endless line costs bounded memory.
   * @example
   * ```js
   * let line;
   * while ((line = sock.readLine()) !== null) sock.sendall(`${line}\n`);
   * ```
   */
  readLine(options?: ReadLineOptions): string | null;

  /** Iterates over the lines until the peer ends its side (see {@link readLine}). */
  lines(options?: ReadLineOptions): Generator<string, void, undefined>;

  /** Reads until the peer ends its side and returns all of it. */
  readAll(): Buffer;
}

/**
 * A connected socket with blocking-style methods. Reads and writes park only
 * the calling greenlet. One greenlet may read while another writes; two
 * greenlets reading at once throw {@link ConcurrentIOError}.
 *
 * Iterating a socket yields its lines (see {@link Socket.readLine}).
 * @example
 * ```js
 * const { spawn } = require('greenloop');
 * const { connect } = require('greenloop/net');
 * spawn(() => {
 *   const sock = connect(6379, '127.0.0.1');
 *   sock.sendall('PING\r\n');
 *   console.log(sock.readLine()); // +PONG
 *   sock.close();
 * });
 * ```
 */
export class Socket extends ReadingEnd implements Iterable<string> {
  /** The underlying `net.Socket` (a `tls.TLSSocket` with TLS). */
  readonly raw: net.Socket;
  readonly #reader: StreamReader;
  readonly #writer: StreamWriter;
  #remote: SocketAddress | null = null;
  #local: SocketAddress | null = null;
  #closed = false;

  /** @internal Use {@link connect}, {@link Listener.accept} or a {@link StreamServer} handler. */
  constructor(raw: net.Socket, options: SocketOptions = {}) {
    const reader = new StreamReader(raw, { onFirstActivity: options.onFirstActivity, syscall: 'read' });
    super(reader);
    this.raw = raw;
    this.#reader = reader;
    this.#writer = new StreamWriter(raw, { syscall: 'write' });
    const unix = options.unixPath;
    if (unix !== undefined) {
      const named = { address: unix.path, port: 0, family: 'unix' };
      const unnamed = { address: '', port: 0, family: 'unix' };
      this.#remote = unix.accepted ? unnamed : named;
      this.#local = unix.accepted ? named : unnamed;
    } else if (!raw.connecting) {
      this[kConnected]();
    }
    (raw as unknown as Record<symbol, Socket>)[kSocket] = this;
    if (options.timeout != null) this.setTimeout(options.timeout);
  }

  /**
   * Sends all of `data`. Returns as soon as the data is queued while the
   * socket's write buffer is under its high-water mark, and parks while it
   * is over it (a slow reader slows the writer; memory stays bounded).
   * @throws the socket's error (`EPIPE`, `ECONNRESET`, ...), `ETIMEDOUT`
   *   past the socket's timeout, `ERR_SOCKET_CLOSED` after {@link close}.
   */
  sendall(data: string | Uint8Array): void {
    this.#writer.sendall(data, 'sendall');
  }

  /**
   * Ends the sending side (a TCP FIN after the queued data) while reading
   * goes on; the peer's reads then reach the end of the stream. Never parks.
   */
  shutdown(): void {
    this.#writer.end();
  }

  /**
   * Closes the socket: queued data is still sent, then the connection ends.
   * Later calls on this object throw `ERR_SOCKET_CLOSED`; a greenlet parked
   * on it wakes with that error. Never parks; closing twice is a no-op.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#reader.closeLocally();
    this.#writer.closeLocally();
    this.raw.destroySoon();
  }

  /** Closes at once, dropping queued data (the peer may see a reset). */
  destroy(): void {
    this.#closed = true;
    this.#reader.closeLocally();
    this.#writer.closeLocally();
    this.raw.destroy();
  }

  /** `Symbol.dispose`: {@link close}, so `using sock = connect(...)` closes it. */
  [Symbol.dispose](): void {
    this.close();
  }

  /** True after {@link close} or {@link destroy}. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Sets the per-operation timeout: a `recv()`, `readLine()`, ... or a
   * `sendall()` that parks longer than `ms` in total throws `ETIMEDOUT`
   * (Node's error shape: `code`, `errno`, `syscall`). `null` removes it.
   */
  setTimeout(ms: number | null): void {
    const value = checkTimeout('timeout', ms);
    this.#reader.timeout = value;
    this.#writer.timeout = value;
  }

  /** The per-operation timeout in ms, or `null`. */
  get timeout(): number | null {
    return this.#reader.timeout;
  }

  /** Enables or disables Nagle's algorithm. */
  setNoDelay(noDelay = true): void {
    this.raw.setNoDelay(noDelay);
  }

  /**
   * The peer's address: IP, port and family (`'IPv4'`, `'IPv6'`) for TCP
   * and TLS; for a Unix socket `family` is `'unix'` and `address` the
   * socket path on the connecting end (`''` on an accepted one, whose peer
   * is unnamed). Kept after the socket closes.
   */
  get remoteAddress(): SocketAddress {
    return this.#remote ?? UNKNOWN_ADDRESS;
  }

  /**
   * This end's address (the same shape as {@link remoteAddress}; for an
   * accepted Unix socket the server's path). Kept after the socket closes.
   */
  get localAddress(): SocketAddress {
    return this.#local ?? UNKNOWN_ADDRESS;
  }

  /** @internal Records both ends' addresses once the connection is made. */
  [kConnected](): void {
    const raw = this.raw;
    if (raw.remoteAddress !== undefined) {
      this.#remote = { address: raw.remoteAddress, port: raw.remotePort ?? 0, family: raw.remoteFamily ?? '' };
    }
    if (raw.localAddress !== undefined) {
      this.#local = { address: raw.localAddress, port: raw.localPort ?? 0, family: raw.localFamily ?? '' };
    }
  }
}

function checkPort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`port must be an integer from 0 to 65535, got ${describe(port)}`);
  }
  return port;
}

/**
 * Connects to `host:port` (or a Unix socket `path`) and returns the green
 * socket once connected (for TLS, once the handshake is done).
 * @throws Node's connection errors (`ECONNREFUSED`, `ENOTFOUND`, TLS
 *   certificate errors, ...); `ETIMEDOUT` past `timeout`; `GreenletError`
 *   outside a spawned greenlet.
 * @example
 * ```js
 * const sock = connect(6379, '127.0.0.1', { timeout: 1000 });
 * sock.sendall('PING\r\n');
 * sock.readLine(); // '+PONG'
 * ```
 */
export function connect(port: number, host?: string, options?: ConnectOptions): Socket;
export function connect(options: ConnectOptions): Socket;
export function connect(portOrOptions: number | ConnectOptions, host?: string, options?: ConnectOptions): Socket {
  assertMayBlock('connect');
  checkOptions('options', options);
  const opts: ConnectOptions =
    typeof portOrOptions === 'object' && portOrOptions !== null
      ? portOrOptions
      : { ...options, port: portOrOptions, host: host ?? options?.host };
  if (opts.tls !== undefined && typeof opts.tls !== 'boolean' && (opts.tls === null || typeof opts.tls !== 'object')) {
    throw new TypeError(`tls must be true, false or tls.connect() options, got ${describe(opts.tls)}`);
  }
  if (opts.path === undefined) checkPort(opts.port);
  else if (typeof opts.path !== 'string') throw new TypeError(`path must be a string, got ${describe(opts.path)}`);
  const timeout = checkTimeout('timeout', opts.timeout);
  const target = opts.path ?? `${opts.host ?? 'localhost'}:${opts.port}`;
  const base = opts.path !== undefined ? { path: opts.path } : { port: opts.port!, host: opts.host ?? 'localhost' };
  let raw: net.Socket;
  let event: string;
  if (opts.tls) {
    const tlsOptions: tls.ConnectionOptions = opts.tls === true ? {} : opts.tls;
    const servername = tlsOptions.servername ?? (opts.host && !net.isIP(opts.host) ? opts.host : undefined);
    raw = tls.connect({ ...tlsOptions, ...base, servername, allowHalfOpen: true } as unknown as tls.ConnectionOptions);
    event = 'secureConnect';
  } else {
    raw = net.connect({ ...base, allowHalfOpen: true } as net.NetConnectOpts);
    event = 'connect';
  }
  if (opts.noDelay !== false) raw.setNoDelay(true);
  const socket = new Socket(raw, { timeout, unixPath: opts.path !== undefined ? { path: opts.path, accepted: false } : undefined });
  let timer: Timer | undefined;
  try {
    parkOnCallback<void>(
      'connect',
      (callback) => {
        const onError = (error: Error) => {
          raw.off(event, onConnect);
          callback(error);
        };
        const onConnect = () => {
          raw.off('error', onError);
          callback(null);
        };
        raw.once(event, onConnect);
        raw.once('error', onError);
        if (timeout !== null) timer = setTimer(() => callback(systemError('ETIMEDOUT', 'connect', target)), timeout);
      },
      () => raw.destroy(),
    );
  } catch (error) {
    raw.destroy();
    throw error;
  } finally {
    clearTimer(timer);
  }
  if (opts.path === undefined) socket[kConnected]();
  return socket;
}

/** Builds a listening node server (plain or TLS) and parks until it listens. */
function startServer(
  options: ListenOptions,
  onSocket: (raw: net.Socket) => void,
  operation: string,
): net.Server {
  const noDelay = options.noDelay !== false;
  const handle = (raw: net.Socket) => {
    if (noDelay && options.path === undefined) raw.setNoDelay(true);
    onSocket(raw);
  };
  let server: net.Server;
  if (options.tls) {
    server = tls.createServer({ ...options.tls, allowHalfOpen: true } as tls.TlsOptions);
    server.on('secureConnection', handle);
    // A failed handshake ends that connection only.
    server.on('tlsClientError', () => {});
  } else {
    server = net.createServer({ allowHalfOpen: true });
    server.on('connection', handle);
  }
  const listenOptions: net.ListenOptions =
    options.path !== undefined
      ? { path: options.path, backlog: options.backlog }
      : { port: checkPort(options.port ?? 0), host: options.host, backlog: options.backlog };
  parkOnCallback<void>(
    operation,
    (callback) => {
      const onError = (error: Error) => callback(error);
      server.once('error', onError);
      server.listen(listenOptions, () => {
        server.off('error', onError);
        callback(null);
      });
    },
    () => server.close(),
  );
  // Errors after listening (e.g. EMFILE on accept) must not crash the process.
  server.on('error', () => {});
  return server;
}

function addressOf(server: net.Server): SocketAddress | null {
  const address = server.address();
  if (address === null) return null;
  if (typeof address === 'string') return { address, port: 0, family: 'unix' };
  return { address: address.address, port: address.port, family: address.family };
}

/**
 * A listening socket whose {@link accept} parks until a connection comes.
 * Several greenlets may accept at once; connections go to them in FIFO order.
 * @example
 * ```js
 * const { spawn } = require('greenloop');
 * const { listen } = require('greenloop/net');
 * spawn(() => {
 *   const listener = listen(0, '127.0.0.1');
 *   console.log(`listening on ${listener.port}`);
 *   const sock = listener.accept(); // parks until a client connects
 *   sock.sendall('hello\n');
 *   sock.close();
 *   listener.close();
 * });
 * ```
 */
export class Listener {
  /** The underlying `net.Server` (a `tls.Server` with TLS). */
  readonly raw: net.Server;
  readonly #pending: net.Socket[] = [];
  readonly #waiters: Waiter<net.Socket | null>[] = [];
  readonly #path: string | undefined;
  #closed = false;

  /** @internal Use {@link listen}. */
  constructor(options: ListenOptions) {
    this.raw = startServer(options, (raw) => this.#onSocket(raw), 'listen');
    this.#path = options.path;
  }

  #onSocket(raw: net.Socket): void {
    const waiter = this.#waiters.shift();
    if (waiter) {
      waiter.switch(raw);
      return;
    }
    // Until accepted, an error must not be unhandled; the reader sees it later.
    raw.on('error', noop);
    this.#pending.push(raw);
  }

  /**
   * Parks until a connection arrives and returns it as a green socket.
   * @throws `ERR_SERVER_NOT_RUNNING` once the listener is closed.
   */
  accept(): Socket {
    assertMayBlock('accept');
    for (;;) {
      if (this.#closed) throw serverClosedError();
      let raw = this.#pending.shift() ?? null;
      if (raw === null) {
        const waiter = new Waiter<net.Socket | null>('Listener.accept()');
        this.#waiters.push(waiter);
        try {
          raw = waiter.get();
        } finally {
          const at = this.#waiters.indexOf(waiter);
          if (at >= 0) this.#waiters.splice(at, 1);
        }
      }
      if (raw === null) continue;
      raw.off('error', noop);
      return new Socket(raw, { unixPath: accepted(this.#path) });
    }
  }

  /** The bound address (`port` is the real one when listening on port 0). */
  get address(): SocketAddress | null {
    return addressOf(this.raw);
  }

  /** The bound TCP port. */
  get port(): number {
    return this.address?.port ?? 0;
  }

  /**
   * Stops listening. Connections not yet accepted are closed; greenlets
   * parked in {@link accept} throw `ERR_SERVER_NOT_RUNNING`. Never parks.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.raw.close();
    for (const raw of this.#pending.splice(0)) raw.destroy();
    for (const waiter of this.#waiters.splice(0)) waiter.switch(null);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function noop(): void {}

/** The `unixPath` option of a socket accepted by a server listening on `path` (`undefined`: TCP). */
function accepted(path: string | undefined): SocketOptions['unixPath'] {
  return path === undefined ? undefined : { path, accepted: true };
}

function serverClosedError(): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error('Server is not running.');
  error.code = 'ERR_SERVER_NOT_RUNNING';
  return error;
}

/**
 * Binds and listens (parking until the socket is bound) and returns a
 * {@link Listener}.
 * @throws `EADDRINUSE`, `EACCES`, ... as Node reports them.
 * @example
 * ```js
 * const listener = listen(0, '127.0.0.1');
 * spawn(() => { const c = connect(listener.port, '127.0.0.1'); c.sendall('hi'); c.close(); });
 * const sock = listener.accept();
 * sock.readAll().toString(); // 'hi'
 * ```
 */
export function listen(port?: number, host?: string, options?: ListenOptions): Listener;
export function listen(options: ListenOptions): Listener;
export function listen(portOrOptions?: number | ListenOptions, host?: string, options?: ListenOptions): Listener {
  checkOptions('options', options);
  const opts: ListenOptions =
    typeof portOrOptions === 'object' && portOrOptions !== null
      ? portOrOptions
      : { ...options, port: portOrOptions ?? 0, host: host ?? options?.host };
  return new Listener(opts);
}

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
   * end) arrives, so idle connections hold no parked greenlet (each parked
   * greenlet slows every V8 scavenge by ~3 µs). Servers that speak first
   * (a greeting, a banner) must pass `false`.
   * @default true
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
}

const QUIET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ERR_SOCKET_CLOSED']);

function defaultOnError(error: unknown, socket: Socket): void {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && QUIET_CODES.has(code)) return;
  const peer = socket.remoteAddress;
  console.error(`greenloop StreamServer: handler for ${peer.address}:${peer.port} failed:`, error);
}

type Handle = { kill(...args: unknown[]): unknown };

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
    this.#handler = handler;
    this.#options = { ...options };
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
    const lazy = this.#options.lazy !== false;
    const socket: Socket = new Socket(raw, {
      timeout: this.#options.timeout,
      unixPath: accepted(this.#options.path),
      onFirstActivity: lazy ? () => this.#startHandler(socket) : undefined,
    });
    this.#connections.set(socket, null);
    raw.once('close', () => {
      if (this.#connections.get(socket) === null) this.#connections.delete(socket);
    });
    if (!lazy) this.#startHandler(socket);
  }

  #startHandler(socket: Socket): void {
    if (this.#stopping || !this.#connections.has(socket)) return;
    this.#handlers++;
    const g = spawn(() => this.#run(socket));
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

  /** The bound address, or `null` before {@link start}. */
  get address(): SocketAddress | null {
    return this.#server === null ? null : addressOf(this.#server);
  }

  /** The bound TCP port (0 before {@link start}). */
  get port(): number {
    return this.address?.port ?? 0;
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
