/**
 * The write path of plain TCP and Unix sockets: a `sendall()` with nothing
 * queued goes straight to the socket's libuv handle, as `net.Socket`'s
 * `Writable` does underneath (`handle.writeBuffer`), without the stream's
 * per-write bookkeeping (a write callback, its `nextTick`, the buffered-write
 * state). Whatever the direct path cannot take goes through `socket.write()`:
 * while anything is queued (by the stream or by libuv), while connecting,
 * corked or with Node's own idle timeout set, and for chunks at or over the
 * high-water mark (so what libuv may queue from a partial direct write stays
 * under it, as the stream would keep it). Errors become the socket's error,
 * in Node's shape (`write EPIPE`), as Node's own write path reports them.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import type * as net from 'node:net';
import type { Writable } from 'node:stream';
import { uvError } from '../errors.js';

/**
 * The two calling conventions of Node's stream handles, told apart by the
 * first write (not by version). Older lines (20.20 and 22.23 here) pass a
 * `WriteWrap` they made (`handle.writeBuffer(req, data)` returns an errno);
 * newer ones (24.22 and 26.12 here) pass `null` and get back an errno when
 * the write finished at once, or the request object libuv still holds.
 */
const enum Convention {
  Unknown = 0,
  CallerMadeRequest = 1,
  HandleMadeRequest = 2,
}

/** What a stream handle's write request looks like from here. */
interface WriteRequest {
  handle: StreamHandle;
  oncomplete: (this: WriteRequest, status: number) => void;
  buffer: unknown;
  writeStatus?: number | null;
  /** The socket whose write it is (where its completion reports an error). */
  [kSocket]?: HandleSocket;
  /** An async request's id once the handle holds it for a write libuv has not finished; -1 while free. */
  getAsyncId(): number;
}

interface StreamHandle {
  writeBuffer(req: WriteRequest | null, data: Uint8Array): number | WriteRequest;
  writeUtf8String(req: WriteRequest | null, data: string): number | WriteRequest;
}

type HandleSocket = net.Socket & {
  _handle: StreamHandle | null;
  timeout?: number;
  /** How many direct writes libuv still holds the rest of (they complete in order). */
  [kHeldWrites]?: number;
};

const kSocket = Symbol('greenloop.writeSocket');
/**
 * Counted here rather than read from `handle.writeQueueSize`: that is a native
 * accessor, and its call (with the handle's memory, cold when a thousand
 * connections take turns) was 1-2% of an echo server's time. The stream's own
 * writes are in `writableLength` until libuv has finished them.
 */
const kHeldWrites = Symbol('greenloop.heldWrites');

let convention = Convention.Unknown;
let WriteWrap: (new () => WriteRequest) | null = null;
/**
 * The request the older convention's writes are made with. A write that
 * finishes at once never wraps it, so the next write takes it again: most
 * writes then allocate nothing (fewer scavenges, each of which walks every
 * parked greenlet's stack). A write libuv finishes later keeps it.
 */
let spareRequest: WriteRequest | null = null;

/**
 * Hands `data` to `stream`'s handle (a plain TCP or Unix `net.Socket`) and
 * returns true, or returns false, changing nothing, when it must go through
 * `stream.write()` instead (see the module comment). The first write of the
 * thread always goes through the stream: it shows which calling convention
 * this Node line's handles use.
 */
export function writeThroughHandle(stream: Writable, data: string | Uint8Array): boolean {
  const socket = stream as HandleSocket;
  const handle = socket._handle;
  if (
    handle == null ||
    socket.connecting ||
    socket.writableLength !== 0 ||
    socket.writableCorked !== 0 ||
    socket.timeout !== undefined ||
    (socket[kHeldWrites] ?? 0) !== 0
  ) {
    return false;
  }
  const isString = typeof data === 'string';
  // A string's UTF-8 form is at most three bytes per UTF-16 unit.
  if ((isString ? data.length * 3 : data.byteLength) >= socket.writableHighWaterMark) return false;
  if (convention === Convention.Unknown) {
    if (!isString) learnConvention(handle);
    return false;
  }
  let req: WriteRequest | null = null;
  if (convention === Convention.CallerMadeRequest) {
    req = spareRequest ?? newRequest();
    req.handle = handle;
  }
  const result = isString ? handle.writeUtf8String(req, data) : handle.writeBuffer(req, data);
  if (typeof result === 'number') {
    if (req !== null && req.getAsyncId() !== -1) {
      // libuv holds the rest of a partial write (and this request) until it completes.
      spareRequest = null;
      holdUntilComplete(req, socket, data);
    } else {
      spareRequest = req;
    }
    if (result !== 0) failWrite(socket, result);
  } else {
    // libuv holds the rest of a partial write: it completes later.
    result.handle = handle;
    result.oncomplete = onDirectWriteComplete;
    holdUntilComplete(result, socket, data);
    const status = result.writeStatus;
    if (status != null) {
      result.writeStatus = null;
      result.oncomplete(status);
    }
  }
  return true;
}

function newRequest(): WriteRequest {
  const req = new WriteWrap!();
  req.oncomplete = onDirectWriteComplete;
  req.buffer = null;
  req[kSocket] = undefined;
  return req;
}

/**
 * Wraps `handle.writeBuffer` for the one stream write that follows: the
 * request it is given tells the convention (and, for the older one, the
 * `WriteWrap` class to make requests with).
 */
function learnConvention(handle: StreamHandle): void {
  const own = handle as StreamHandle & { writeBuffer: StreamHandle['writeBuffer'] };
  if (Object.prototype.hasOwnProperty.call(own, 'writeBuffer')) return;
  const original = own.writeBuffer;
  own.writeBuffer = function (this: StreamHandle, req, data) {
    delete (own as Partial<StreamHandle>).writeBuffer;
    if (req === null) {
      convention = Convention.HandleMadeRequest;
    } else if (typeof req === 'object' && typeof req.constructor === 'function') {
      WriteWrap = req.constructor as new () => WriteRequest;
      convention = Convention.CallerMadeRequest;
    }
    return original.call(this, req, data);
  };
}

/** Keeps `data` and `socket` with `req`, whose rest libuv writes later, and counts it as held. */
function holdUntilComplete(req: WriteRequest, socket: HandleSocket, data: string | Uint8Array): void {
  req.buffer = data;
  req[kSocket] = socket;
  socket[kHeldWrites] = (socket[kHeldWrites] ?? 0) + 1;
}

/** Called by the handle with the request as `this` once libuv has written the rest. */
function onDirectWriteComplete(this: WriteRequest, status: number): void {
  const socket = this[kSocket];
  this.buffer = null;
  this[kSocket] = undefined;
  if (socket === undefined) return;
  socket[kHeldWrites]!--;
  if (status < 0) failWrite(socket, status);
}

/** Destroys `socket` with Node's write error for `errno` (what Node's own write path does). */
function failWrite(socket: net.Socket, errno: number): void {
  if (!socket.destroyed) socket.destroy(uvError(errno, 'write'));
}
