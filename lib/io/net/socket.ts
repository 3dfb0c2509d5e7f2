/**
 * The green socket: blocking-style reads and writes on a `net.Socket`.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import type * as net from 'node:net';
import { checkTimeout } from '../_park.js';
import type { SocketAddress } from '../_server.js';
import { type ReadLineOptions, ReadingEnd, StreamReader, StreamWriter } from '../_stream.js';
import { readerOf } from './onread.js';
import { writeThroughHandle } from './write.js';

export type { SocketAddress } from '../_server.js';

/** Internal: connect() tells its socket that the connection is made, so it learns its addresses. */
export const kConnected = Symbol('greenloop.connected');

/** Options of the {@link Socket} constructor (internal). */
export interface SocketOptions {
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
    // A socket made with `onread` (lib/io/net/onread.ts) already has its reader.
    let reader = readerOf(raw);
    // The same sockets (plain TCP and Unix, not TLS) write through their handle.
    const writeDirect = reader === undefined ? undefined : writeThroughHandle;
    if (reader === undefined) reader = new StreamReader(raw, { syscall: 'read', batchReads: true });
    if (options.onFirstActivity !== undefined) reader.onFirstActivity = options.onFirstActivity;
    super(reader);
    this.raw = raw;
    this.#reader = reader;
    this.#writer = new StreamWriter(raw, { syscall: 'write', writeDirect });
    const unix = options.unixPath;
    if (unix !== undefined) {
      const named = { address: unix.path, port: 0, family: 'unix' };
      const unnamed = { address: '', port: 0, family: 'unix' };
      this.#remote = unix.accepted ? unnamed : named;
      this.#local = unix.accepted ? named : unnamed;
    } else if (!raw.connecting) {
      this[kConnected]();
    }
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

export { checkPort } from '../_server.js';
