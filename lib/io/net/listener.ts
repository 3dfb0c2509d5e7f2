/**
 * `listen()` and the {@link Listener} whose `accept()` parks; `startServer`
 * is the listening half shared with `StreamServer`.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { assertMayBlock, checkOptions, checkSignal, parkOnCallback, Waiter, withSignal } from '../_park.js';
import { addressOf, type SocketAddress } from '../_server.js';
import { serverClosedError } from '../errors.js';
import { takeOverAccept } from './onread.js';
import { checkPort, Socket, type SocketOptions } from './socket.js';

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
  /**
   * Closes the server when aborted, as `node:net`'s `server.listen({ signal })`
   * does: a {@link Listener} is closed (parked `accept()` calls throw
   * `ERR_SERVER_NOT_RUNNING`), a `StreamServer` is stopped. Aborted while the
   * socket is being bound, the call throws Node's `AbortError`.
   */
  signal?: AbortSignal;
}

/** Builds a listening node server (plain or TLS) and parks until it listens. */
export function startServer(
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
        // Plain sockets read through `onread`; TLS keeps Node's TLSSocket and its stream events.
        if (!options.tls) takeOverAccept(server);
        callback(null);
      });
    },
    { onCancel: () => server.close(), signal: options.signal },
  );
  // Errors after listening (e.g. EMFILE on accept) must not crash the process.
  server.on('error', () => {});
  return server;
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
 *   console.log(`listening on ${listener.address().port}`);
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
    const signal = checkSignal('signal', options.signal);
    this.raw = startServer(options, (raw) => this.#onSocket(raw), 'listen');
    this.#path = options.path;
    signal?.addEventListener('abort', () => this.close(), { once: true });
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
   * @param options.signal - aborting it interrupts this call with Node's
   *   `AbortError` (the listener stays open; a connection that arrives
   *   later goes to the next `accept()`).
   * @throws `ERR_SERVER_NOT_RUNNING` once the listener is closed;
   *   `AbortError` (`code: 'ABORT_ERR'`) when `signal` aborts first.
   */
  accept(options: { signal?: AbortSignal } = {}): Socket {
    assertMayBlock('accept');
    checkOptions('options', options);
    const signal = checkSignal('options.signal', options.signal);
    return withSignal(signal, () => this.#accept());
  }

  #accept(): Socket {
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

  /**
   * The bound address, as `node:net`'s `server.address()` (`port` is the
   * real one when listening on port 0; for a Unix socket `family` is
   * `'unix'` and `address` the path); `null` once closed.
   */
  address(): SocketAddress | null {
    return addressOf(this.raw);
  }

  /** The bound TCP port. */
  get port(): number {
    return this.address()?.port ?? 0;
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
export function accepted(path: string | undefined): SocketOptions['unixPath'] {
  return path === undefined ? undefined : { path, accepted: true };
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
