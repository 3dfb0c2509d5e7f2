/**
 * The read path of plain TCP and Unix sockets: Node's `onread` socket option
 * (reads land in one buffer shared by every socket of the thread and go to
 * the socket's {@link StreamReader} at once), which skips `Readable`'s
 * buffering and 'data' events, and the per-read buffer Node allocates
 * otherwise. Connections a server accepts get it through
 * {@link takeOverAccept}, which builds their `net.Socket` itself; TLS keeps
 * Node's `tls.TLSSocket` and the stream events.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { channel } from 'node:diagnostics_channel';
import * as net from 'node:net';
import { StreamReader } from '../_stream.js';
import { uvError } from '../errors.js';

/** Where a socket made here keeps its reader (the green `Socket` takes it from there). */
const kReader = Symbol('greenloop.reader');

type FedSocket = net.Socket & { [kReader]?: StreamReader };

/**
 * Reads of every `onread` socket of this thread land here; the callback
 * copies them out before the next read can, so one buffer serves them all
 * and an idle connection holds no read buffer.
 */
const sharedReadBuffer = Buffer.allocUnsafe(65536);

/**
 * Views of the first `n` bytes of {@link sharedReadBuffer}, for the small
 * `n` a chatty protocol repeats: copying a read out then allocates only its
 * copy (fewer young objects per message: fewer scavenges, each of which
 * walks every parked greenlet's stack).
 */
const SMALL_READ = 4096;
const smallReadViews: Array<Uint8Array | undefined> = [];

/** Called by Node with the socket as `this`, so no socket needs a closure of its own. */
function onSocketRead(this: FedSocket, nread: number, buffer: Uint8Array): boolean {
  const chunk = Buffer.allocUnsafe(nread);
  let source: Uint8Array;
  if (nread === buffer.length) source = buffer;
  else if (nread <= SMALL_READ && buffer === sharedReadBuffer)
    source = smallReadViews[nread] ??= buffer.subarray(0, nread);
  else source = buffer.subarray(0, nread);
  chunk.set(source);
  this[kReader]!.feed(chunk);
  return true;
}

/** The `onread` option of a socket whose reader {@link attachReader} makes. */
export const fedReads: net.OnReadOpts = { buffer: sharedReadBuffer, callback: onSocketRead };

/** Makes the reader of `raw` (made with {@link fedReads}) before any read can arrive. */
export function attachReader(raw: net.Socket): StreamReader {
  const reader = new StreamReader(raw, { fed: true, syscall: 'read', batchReads: true });
  (raw as FedSocket)[kReader] = reader;
  return reader;
}

/** The reader {@link attachReader} made for `raw`, if any. */
export function readerOf(raw: net.Socket): StreamReader | undefined {
  return (raw as FedSocket)[kReader];
}

/** What Node's listening handle and its `net.Server` look like from here (fields that Node 20-26 share). */
interface ListeningHandle {
  onconnection: (error: number, client: ClientHandle | undefined) => void;
}
interface ClientHandle {
  close(): void;
  getsockname?(out: Record<string, unknown>): void;
  getpeername?(out: Record<string, unknown>): void;
}
type NodeServer = net.Server & {
  _handle: ListeningHandle | null;
  _connections: number;
  allowHalfOpen: boolean;
};

/** Node 22 made `maxConnections: 0` refuse every connection; Node 20 takes 0 as no limit. */
const zeroMaxRefusesAll = Number(process.versions.node.split('.')[0]) >= 22;
const serverSocketChannel = channel('net.server.socket');

/**
 * Makes `server` (listening, plain TCP or Unix socket) build the
 * `net.Socket` of each connection itself, with {@link fedReads} and its
 * reader attached, and otherwise do what Node's own `onconnection` does: the
 * server counts the socket (`getConnections()`, `close()` waiting for it,
 * `maxConnections` dropping the excess with a 'drop' event), emits
 * 'connection' and publishes `net.server.socket`. Returns false, leaving
 * Node's path, when the server has no listening handle of the known shape.
 */
export function takeOverAccept(server: net.Server): boolean {
  const node = server as NodeServer;
  const handle = node._handle;
  if (handle === null || typeof handle !== 'object' || typeof handle.onconnection !== 'function') return false;
  handle.onconnection = (status, client) => {
    if (status !== 0 || client === undefined) {
      server.emit('error', uvError(status, 'accept'));
      return;
    }
    const limit = server.maxConnections;
    if (limit != null && (limit !== 0 || zeroMaxRefusesAll) && node._connections >= limit) {
      server.emit('drop', dropInfo(client));
      client.close();
      return;
    }
    const raw = new net.Socket({
      handle: client,
      allowHalfOpen: node.allowHalfOpen,
      readable: true,
      writable: true,
      onread: fedReads,
    } as net.SocketConstructorOpts);
    attachReader(raw);
    node._connections++;
    Object.assign(raw, { server, _server: server });
    server.emit('connection', raw);
    if (serverSocketChannel.hasSubscribers) serverSocketChannel.publish({ socket: raw });
  };
  return true;
}

/** The 'drop' event's argument, as Node builds it. */
function dropInfo(client: ClientHandle): Record<string, unknown> | undefined {
  if (!client.getsockname && !client.getpeername) return undefined;
  const data: Record<string, unknown> = {};
  if (client.getsockname) {
    const local: Record<string, unknown> = {};
    client.getsockname(local);
    Object.assign(data, { localAddress: local.address, localPort: local.port, localFamily: local.family });
  }
  if (client.getpeername) {
    const remote: Record<string, unknown> = {};
    client.getpeername(remote);
    Object.assign(data, { remoteAddress: remote.address, remotePort: remote.port, remoteFamily: remote.family });
  }
  return data;
}
