/**
 * `connect()`: a TCP, TLS or Unix-socket connection, parking until it is made.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import {
  abortError,
  assertMayBlock,
  checkOptions,
  checkSignal,
  checkTimeout,
  clearTimer,
  describe,
  parkOnCallback,
  setTimer,
  systemError,
  throwIfAborted,
  type Timer,
} from '../_park.js';
import { attachReader, fedReads } from './onread.js';
import { checkPort, kConnected, Socket } from './socket.js';

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
  /**
   * Destroys the socket when aborted, as `node:net`'s `signal` does, for the
   * socket's whole life: a `connect()` still in progress, and then every
   * read or write parked on the socket, throw Node's `AbortError`
   * (`code: 'ABORT_ERR'`, `cause`: the signal's reason). An aborted one
   * throws before anything is opened. The listener goes when the socket closes.
   */
  signal?: AbortSignal;
}

/**
 * Connects to `host:port` (or a Unix socket `path`) and returns the green
 * socket once connected (for TLS, once the handshake is done).
 * @throws Node's connection errors (`ECONNREFUSED`, `ENOTFOUND`, TLS
 *   certificate errors, ...), with the caller's frames in their stack;
 *   `ETIMEDOUT` past `timeout`; `AbortError` (`code: 'ABORT_ERR'`) when
 *   `signal` aborts first; `GreenletError` outside a spawned greenlet.
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
  const signal = checkSignal('signal', opts.signal);
  throwIfAborted(signal);
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
    raw = net.connect({ ...base, allowHalfOpen: true, onread: fedReads } as net.NetConnectOpts);
    attachReader(raw);
    event = 'connect';
  }
  if (opts.noDelay !== false) raw.setNoDelay(true);
  const socket = new Socket(raw, {
    timeout,
    unixPath: opts.path !== undefined ? { path: opts.path, accepted: false } : undefined,
  });
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
      { onCancel: () => raw.destroy(), signal },
    );
  } catch (error) {
    raw.destroy();
    throw error;
  } finally {
    clearTimer(timer);
  }
  if (opts.path === undefined) socket[kConnected]();
  if (signal !== undefined) destroyOnAbort(raw, signal);
  return socket;
}

/** Node's `signal` of a socket: aborting destroys it with an `AbortError`, which its parked calls throw. */
function destroyOnAbort(raw: net.Socket, signal: AbortSignal): void {
  if (signal.aborted) {
    raw.destroy(abortError(signal));
    return;
  }
  const onAbort = (): void => {
    raw.destroy(abortError(signal));
  };
  signal.addEventListener('abort', onAbort, { once: true });
  raw.once('close', () => signal.removeEventListener('abort', onAbort));
}
