/**
 * What the two servers (`net.StreamServer`, `http.Server`) share: one
 * address type, read one way from a Node server, and one policy for which
 * handler errors are a peer going away (quiet) rather than a bug (printed).
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import type * as net from 'node:net';
import { spawn } from '../api/greenlet.js';
import { describe } from './_park.js';

/**
 * A bound, peer's or local address, in the shape of Node's
 * `server.address()`. For a Unix socket `family` is `'unix'`, `address` the
 * path and `port` 0.
 */
export interface SocketAddress {
  address: string;
  port: number;
  family: string;
}

/** `server.address()` in the {@link SocketAddress} shape; `null` when not listening. */
export function addressOf(server: net.Server): SocketAddress | null {
  const address = server.address();
  if (address === null) return null;
  if (typeof address === 'string') return { address, port: 0, family: 'unix' };
  return { address: address.address, port: address.port, family: address.family };
}

/** Codes of a peer that went away mid-exchange: they end that connection only and are not printed. */
const PEER_GONE_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'ERR_SOCKET_CLOSED',
  'ERR_STREAM_DESTROYED',
]);

/** True for an error that only says the peer went away (see {@link PEER_GONE_CODES}). */
export function isPeerGoneError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && PEER_GONE_CODES.has(code);
}

/** Where `http.Server.listen()` binds: the options of node's `server.listen(options)`. */
export interface ServerListenOptions {
  /** @default 0 (a free port) */
  port?: number;
  /** @default all interfaces */
  host?: string;
  /** A Unix socket path instead of a TCP port. */
  path?: string;
  /** @default 511 */
  backlog?: number;
}

/**
 * The listen options of node's `server.listen(port, host, backlog)`,
 * `listen(options)` and `listen(path)` (callback already removed).
 * @throws TypeError naming the value, for a bad port or first argument.
 */
export function listenOptionsOf(args: readonly unknown[]): ServerListenOptions {
  const [first, host, backlog] = args;
  if (first === undefined || first === null)
    return { port: 0, host: host as string | undefined, backlog: backlog as number | undefined };
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first, backlog: host as number | undefined };
  if (typeof first === 'object') {
    const options = first as ServerListenOptions;
    if (options.path === undefined) checkPort(options.port ?? 0);
    return { port: options.port ?? 0, host: options.host, path: options.path, backlog: options.backlog };
  }
  const port = typeof first === 'string' ? Number(first) : first;
  if (host !== undefined && typeof host !== 'string')
    throw new TypeError(`host must be a string, got ${describe(host)}`);
  return { port: checkPort(port), host, backlog: backlog as number | undefined };
}

/** A TCP port as Node accepts it: an integer from 0 to 65535. */
export function checkPort(port: unknown): number {
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new TypeError(`port must be an integer from 0 to 65535, got ${describe(port)}`);
  }
  return port;
}

/**
 * Runs `fn` in a greenlet of its own and returns a promise of its outcome:
 * how a server's callback-style `close(cb)` and `Symbol.asyncDispose` run
 * their parking close from anywhere (plain callbacks, `async` code).
 */
export function inGreenlet(fn: () => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    spawn(() => {
      try {
        fn();
        resolve();
      } catch (error) {
        reject(error);
      }
    });
  });
}
