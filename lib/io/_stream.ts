/**
 * Blocking-style reading and writing over Node streams: the buffer under
 * green sockets, child process pipes, HTTP bodies and file line readers.
 *
 * A {@link StreamReader} keeps the stream flowing into its own bounded
 * buffer (pausing the stream above the high-water mark, so a fast peer
 * cannot grow memory) and wakes the one greenlet parked on it only when
 * what that greenlet waits for has arrived: a line end for `readLine()`,
 * `n` bytes for `recvExactly(n)`. A {@link StreamWriter} hands data to the
 * stream and parks while the stream's write buffer is over its high-water
 * mark. Internal to `lib/io/` (no internal tag here: `stripInternal` would
 * drop the first statement's declaration with it).
 * @module
 */
import type { Readable, Writable } from 'node:stream';
import { ConcurrentIOError, IncompleteReadError, LineTooLongError } from '../errors.js';
import { assertMayBlock, checkTimeout, clearTimer, describe, setTimer, type Timer, Waiter } from './_park.js';
import { socketClosedError, systemError } from './errors.js';
import { getHub } from '../hub/hub.js';

/** Options of a line read. */
export interface ReadLineOptions {
  /**
   * The longest line accepted, in bytes, line end included. A longer line
   * throws {@link LineTooLongError}, so an endless line costs bounded memory.
   * `Infinity` removes the limit.
   * @default 65536
   */
  maxLength?: number;
  /**
   * How to decode the line.
   * @default 'utf8'
   */
  encoding?: BufferEncoding;
}

/** The default `maxLength` of line reads (as asyncio's stream limit). */
export const DEFAULT_MAX_LINE = 65536;
/** The default `max` of `recv()`. */
export const DEFAULT_RECV = 65536;

const NEWLINE = 10;
const EMPTY = Buffer.alloc(0);

function checkMaxLength(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_LINE;
  if (typeof value !== 'number' || !(value >= 1)) {
    throw new TypeError(`maxLength must be a number of bytes >= 1 (or Infinity), got ${describe(value)}`);
  }
  return value;
}

function checkSize(name: string, value: unknown, fallback: number | undefined): number {
  if (value === undefined && fallback !== undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new TypeError(`${name} must be an integer number of bytes >= 0, got ${describe(value)}`);
  }
  return value;
}

/** What the parked reader waits for; the data handler wakes it only then. */
const enum Want {
  Any = 0,
  Bytes = 1,
  Line = 2,
}

/**
 * What a greenlet parked in `operation` on `stream` waits for, for dumps:
 * `socket.recv() from 127.0.0.1:5432` on a connected socket, else `recv()`.
 */
function parkLabel(stream: Readable | Writable, operation: string, direction: 'from' | 'to'): string {
  const { remoteAddress, remotePort } = stream as { remoteAddress?: string; remotePort?: number };
  if (remoteAddress === undefined) return `${operation}()`;
  const host = remoteAddress.includes(':') ? `[${remoteAddress}]` : remoteAddress;
  return `socket.${operation}() ${direction} ${host}:${remotePort}`;
}

/**
 * The one greenlet parked on a {@link StreamReader} or {@link StreamWriter}:
 * woken by the stream's events through `wake()`, or thrown `ETIMEDOUT` at
 * its deadline.
 *
 * A busy connection parks once per message, so the slot keeps what a park
 * needs from one park to the next: the label dumps show (built once per
 * operation, not per park: the peer's address does not change) and the
 * {@link Waiter} itself, cleared and reused while the operation stays the same.
 */
class WaitSlot {
  readonly #stream: Readable | Writable;
  readonly #direction: 'from' | 'to';
  #waiter: Waiter<void> | null = null;
  /** The waiter of the last park, free for the next park in the same operation. */
  #spare: Waiter<void> | null = null;
  #spareOperation = '';

  constructor(stream: Readable | Writable, direction: 'from' | 'to') {
    this.#stream = stream;
    this.#direction = direction;
  }

  /** True while a greenlet is parked here. */
  get occupied(): boolean {
    return this.#waiter !== null;
  }

  /**
   * Makes a waiter for the calling greenlet the parked one (before anything
   * that may wake it); dumps show it as `socket.recv() from host:port`.
   * @throws ConcurrentIOError if another greenlet is parked here; `doing`
   *   completes its message ('reading from', 'writing to').
   */
  occupy(operation: string, doing: string): Waiter<void> {
    if (this.#waiter !== null) {
      throw new ConcurrentIOError(`${operation}: another greenlet is already ${doing} this stream`);
    }
    let waiter = this.#spare;
    if (waiter !== null && this.#spareOperation === operation) {
      waiter.clear();
    } else {
      waiter = new Waiter<void>(parkLabel(this.#stream, operation, this.#direction));
      this.#spare = waiter;
      this.#spareOperation = operation;
    }
    this.#waiter = waiter;
    return waiter;
  }

  /**
   * Parks on `waiter` (from `occupy()`) until `wake()`, or until `deadline`
   * (ms since the epoch; `null`: none) passes: then throws `ETIMEDOUT`
   * naming `syscall`.
   */
  wait(waiter: Waiter<void>, deadline: number | null, syscall: string): void {
    let timer: Timer | undefined;
    if (deadline !== null) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.#waiter = null;
        throw systemError('ETIMEDOUT', syscall);
      }
      timer = this.#armTimeout(waiter, remaining, syscall);
    }
    try {
      waiter.get();
    } finally {
      this.release(waiter);
      clearTimer(timer);
    }
  }

  /** Ends the park on `waiter` (from `occupy()`) once `get()` has returned or thrown. */
  release(waiter: Waiter<void>): void {
    if (this.#waiter === waiter) this.#waiter = null;
  }

  /**
   * The timer of a park with a deadline. Its closure lives here, not in
   * `wait()`: a closure there would make every park allocate its context,
   * also the parks without a deadline (more young objects per message: more
   * scavenges, each of which walks every parked stack).
   */
  #armTimeout(waiter: Waiter<void>, remaining: number, syscall: string): Timer {
    return setTimer(() => {
      if (this.#waiter !== waiter) return;
      this.#waiter = null;
      waiter.throw(systemError('ETIMEDOUT', syscall));
    }, remaining);
  }

  /** Schedules the parked greenlet, if any, to resume. */
  wake(): void {
    const waiter = this.#waiter;
    if (waiter !== null) {
      this.#waiter = null;
      waiter.switch(undefined);
    }
  }
}

/**
 * How many greenlets a socket's reads may wake before the read's callback
 * runs them (see `Hub#runReadyBatch`). A loop turn that finds hundreds of
 * sockets readable otherwise reads them all before any handler replies, so
 * each socket's kernel state is cold again by its write: at 1,000 echo
 * clients, batches of 32-64 gave 5-7% more round trips (bench/echo.js), and
 * at 100 clients, where a turn rarely holds that many, the same.
 */
const READ_BATCH = 32;

/** Options of {@link StreamReader}. */
export interface StreamReaderOptions {
  /** Bytes buffered before the stream is paused. Default: the stream's own. */
  highWaterMark?: number;
  /** Called once, at the first data, end or error (used to spawn handlers lazily). */
  onFirstActivity?: () => void;
  /** The `syscall` named by timeout errors. @default 'read' */
  syscall?: string;
  /**
   * The data comes through {@link StreamReader.feed} (a socket's `onread`
   * callback) instead of 'data' events; end, errors and close still come as
   * the stream's events. Pausing and resuming work as on any stream.
   * @default false
   */
  fed?: boolean;
  /**
   * The stream is a socket whose data (its 'data' events, or what its
   * `onread` callback feeds) comes straight from its handle's read callback:
   * after each chunk, the ready queue runs if reads have made
   * {@link READ_BATCH} greenlets ready. Not for streams whose events come
   * from inside a parser (an HTTP body): greenlets would run within it.
   * @default false
   */
  batchReads?: boolean;
}

/**
 * Reads a Readable in blocking style. One greenlet at a time may read;
 * reading never blocks other greenlets.
 * @internal
 */
export class StreamReader {
  readonly #stream: Readable;
  readonly #highWaterMark: number;
  readonly #syscall: string;
  readonly #batchReads: boolean;
  #chunks: Buffer[] = [];
  #length = 0;
  /** Bytes at the start of the buffer known to hold no line end. */
  #scanned = 0;
  #ended = false;
  #error: Error | null = null;
  #closedLocally = false;
  #paused = false;
  readonly #parked: WaitSlot;
  #want = Want.Any;
  #wantBytes = 0;
  #timeout: number | null = null;
  #onFirstActivity: (() => void) | null;

  constructor(stream: Readable, options: StreamReaderOptions = {}) {
    this.#stream = stream;
    this.#highWaterMark = Math.max(options.highWaterMark ?? stream.readableHighWaterMark ?? 65536, 1024);
    this.#syscall = options.syscall ?? 'read';
    this.#onFirstActivity = options.onFirstActivity ?? null;
    this.#parked = new WaitSlot(stream, 'from');
    this.#batchReads = options.batchReads === true;
    if (options.fed !== true) stream.on('data', (chunk: Buffer | string) => this.#receive(chunk));
    const ended = () => this.#onEnd();
    stream.on('end', ended);
    stream.on('error', (error: Error) => this.#onError(error));
    stream.on('close', ended);
    // What happened before this reader was attached (e.g. while queued for accept()).
    if (stream.errored) this.#error = stream.errored;
    if (stream.readableEnded || stream.destroyed) this.#ended = true;
  }

  /** Per-operation timeout in ms (`null`: none); exceeding it throws `ETIMEDOUT`. */
  get timeout(): number | null {
    return this.#timeout;
  }

  set timeout(ms: number | null) {
    this.#timeout = checkTimeout('timeout', ms);
  }

  /** Sets the once-only callback of the first data, end or error (see {@link StreamReaderOptions.onFirstActivity}). */
  set onFirstActivity(callback: () => void) {
    this.#onFirstActivity = callback;
  }

  /**
   * Takes `chunk`, read by the stream's `onread` callback (a Buffer the
   * reader may keep). The reader pauses the stream itself above its
   * high-water mark.
   */
  feed(chunk: Buffer): void {
    this.#receive(chunk);
  }

  /** Bytes received and not yet read. */
  get bufferedLength(): number {
    return this.#length;
  }

  /** True once the end of the stream was reached and the buffer is empty. */
  get atEnd(): boolean {
    return this.#ended && this.#length === 0;
  }

  /** Marks the reader closed by its owner: later reads throw `ERR_SOCKET_CLOSED`. */
  closeLocally(): void {
    this.#closedLocally = true;
    this.#chunks = [];
    this.#length = 0;
    this.#scanned = 0;
    this.#parked.wake();
  }

  /**
   * Returns up to `max` bytes as soon as any are available; an empty Buffer
   * at the end of the stream.
   */
  recv(max?: number, operation = 'recv'): Buffer {
    assertMayBlock(operation);
    const limit = checkSize('max', max, DEFAULT_RECV);
    let deadline: number | null = null;
    for (;;) {
      this.#checkUsable();
      if (this.#length > 0) return this.#take(Math.min(limit, this.#length));
      if (this.#error) throw this.#error;
      if (this.#ended || limit === 0) return EMPTY;
      deadline = this.#park(Want.Any, 0, deadline, operation);
    }
  }

  /** Returns exactly `n` bytes; throws {@link IncompleteReadError} if the stream ends first. */
  recvExactly(n: number, operation = 'recvExactly'): Buffer {
    assertMayBlock(operation);
    checkSize('n', n, undefined);
    let deadline: number | null = null;
    for (;;) {
      this.#checkUsable();
      if (this.#length >= n) return this.#take(n);
      if (this.#error) throw this.#error;
      if (this.#ended) throw new IncompleteReadError(this.#take(this.#length), n);
      deadline = this.#park(Want.Bytes, n, deadline, operation);
    }
  }

  /**
   * Returns the next line without its `\n` or `\r\n`; a last line without a
   * line end as it is; `null` at the end of the stream.
   */
  readLine(options?: ReadLineOptions, operation = 'readLine'): string | null {
    assertMayBlock(operation);
    const maxLength = checkMaxLength(options?.maxLength);
    const encoding = options?.encoding ?? 'utf8';
    let deadline: number | null = null;
    for (;;) {
      this.#checkUsable();
      const end = this.#findNewline(maxLength);
      if (end >= 0) return this.#takeLine(end + 1, encoding);
      if (this.#length >= maxLength) throw new LineTooLongError(maxLength);
      if (this.#error) throw this.#error;
      if (this.#ended) return this.#length > 0 ? this.#takeLine(this.#length, encoding) : null;
      deadline = this.#park(Want.Line, maxLength, deadline, operation);
    }
  }

  /** Reads to the end of the stream and returns everything. */
  readAll(operation = 'readAll'): Buffer {
    assertMayBlock(operation);
    const parts: Buffer[] = [];
    let deadline: number | null = null;
    for (;;) {
      this.#checkUsable();
      if (this.#length > 0) parts.push(this.#take(this.#length));
      if (this.#error) throw this.#error;
      if (this.#ended) return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      deadline = this.#park(Want.Any, 0, deadline, operation);
    }
  }

  /** Iterates over lines (see {@link readLine}) until the end of the stream. */
  *lines(options?: ReadLineOptions): Generator<string, void, undefined> {
    for (;;) {
      const line = this.readLine(options, 'lines');
      if (line === null) return;
      yield line;
    }
  }

  #checkUsable(): void {
    if (this.#closedLocally) throw socketClosedError();
  }

  /** Parks until the wanted data, the end or an error arrives. Returns the deadline in force. */
  #park(want: Want, bytes: number, deadline: number | null, operation: string): number | null {
    const waiter = this.#parked.occupy(operation, 'reading from');
    if (this.#timeout !== null && deadline === null) deadline = Date.now() + this.#timeout;
    this.#want = want;
    this.#wantBytes = bytes;
    if (this.#paused && (want === Want.Any || this.#length < Math.max(bytes, 1))) this.#resume();
    const slot = this.#parked;
    if (deadline === null) {
      // slot.wait() written out for the common case (no timeout): one frame
      // fewer on every parked reader's stack, which every scavenge walks.
      try {
        waiter.get();
      } finally {
        slot.release(waiter);
      }
    } else {
      slot.wait(waiter, deadline, this.#syscall);
    }
    return deadline;
  }

  #first(): void {
    const first = this.#onFirstActivity;
    if (first !== null) {
      this.#onFirstActivity = null;
      first();
    }
  }

  /** Every chunk comes in here, whether fed or from a 'data' event. */
  #receive(data: Buffer | string): void {
    this.#onData(data);
    if (this.#batchReads) getHub().runReadyBatch(READ_BATCH);
  }

  #onData(data: Buffer | string): void {
    const chunk = typeof data === 'string' ? Buffer.from(data) : data;
    if (this.#closedLocally || chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
    if (this.#length >= this.#highWaterMark && !this.#paused) {
      const wanted = this.#parked.occupied && this.#want !== Want.Any ? this.#wantBytes : 0;
      if (this.#length >= wanted) {
        this.#paused = true;
        this.#stream.pause();
      }
    }
    if (this.#onFirstActivity !== null) this.#first();
    if (!this.#parked.occupied) return;
    switch (this.#want) {
      case Want.Any:
        break;
      case Want.Bytes:
        if (this.#length < this.#wantBytes) return;
        break;
      case Want.Line:
        if (chunk.indexOf(NEWLINE) < 0 && this.#length < this.#wantBytes) return;
        break;
    }
    this.#parked.wake();
  }

  #onEnd(): void {
    this.#ended = true;
    this.#first();
    this.#parked.wake();
  }

  #onError(error: Error): void {
    if (this.#error === null) this.#error = error;
    this.#first();
    this.#parked.wake();
  }

  #resume(): void {
    this.#paused = false;
    this.#stream.resume();
  }

  /** Removes and returns the first `n` bytes (n <= length). */
  #take(n: number): Buffer {
    if (n === 0) return EMPTY;
    const chunks = this.#chunks;
    let out: Buffer;
    const first = chunks[0]!;
    if (first.length === n) {
      chunks.shift();
      out = first;
    } else if (first.length > n) {
      out = first.subarray(0, n);
      chunks[0] = first.subarray(n);
    } else if (n === this.#length) {
      out = Buffer.concat(chunks, n);
      this.#chunks = [];
    } else {
      out = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = chunks[0]!;
        const need = n - filled;
        if (c.length <= need) {
          c.copy(out, filled);
          filled += c.length;
          chunks.shift();
        } else {
          c.copy(out, filled, 0, need);
          chunks[0] = c.subarray(need);
          filled = n;
        }
      }
    }
    this.#length -= n;
    this.#scanned = Math.max(0, this.#scanned - n);
    if (this.#paused && this.#length < this.#highWaterMark) this.#resume();
    return out;
  }

  /** Removes `n` bytes and decodes them without the line end. */
  #takeLine(n: number, encoding: BufferEncoding): string {
    const first = this.#chunks[0]!;
    let text: string;
    if (first.length >= n) {
      let end = n;
      if (end > 0 && first[end - 1] === NEWLINE) end -= end > 1 && first[end - 2] === 13 ? 2 : 1;
      text = first.toString(encoding, 0, end);
      this.#take(n);
    } else {
      const bytes = this.#take(n);
      let end = n;
      if (bytes[end - 1] === NEWLINE) end -= end > 1 && bytes[end - 2] === 13 ? 2 : 1;
      text = bytes.toString(encoding, 0, end);
    }
    return text;
  }

  /** Index of the first line end within `maxLength` bytes, or -1. */
  #findNewline(maxLength: number): number {
    let offset = 0;
    const start = this.#scanned;
    const limit = Math.min(this.#length, maxLength);
    for (const chunk of this.#chunks) {
      if (offset >= limit) break;
      const end = offset + chunk.length;
      if (end > start) {
        const from = Math.max(0, start - offset);
        const at = chunk.indexOf(NEWLINE, from);
        if (at >= 0 && offset + at < limit) return offset + at;
        if (at >= 0) break;
      }
      offset = end;
    }
    this.#scanned = limit;
    return -1;
  }
}

/**
 * The blocking-style read methods shared by the public reading ends, a green
 * socket (`net.Socket`) and a child's output pipe (`ProcessOutput`): each
 * hands the call to the end's {@link StreamReader}. The docs here are
 * `ProcessOutput`'s; `net.Socket` restates its own in a same-named interface.
 * Not exported by the package, but the base of public classes, so its
 * declaration stays in the .d.ts files.
 * @hidden
 */
export class ReadingEnd implements Iterable<string> {
  readonly #reader: StreamReader;

  /** @internal Made by the io classes around their reader. */
  constructor(reader: StreamReader) {
    this.#reader = reader;
  }

  /** Up to `max` bytes as soon as any arrive; an empty Buffer at the end. */
  recv(max?: number): Buffer {
    return this.#reader.recv(max, 'recv');
  }

  /** Exactly `n` bytes; `IncompleteReadError` if the output ends first. */
  recvExactly(n: number): Buffer {
    return this.#reader.recvExactly(n, 'recvExactly');
  }

  /** The next line without its line end, or `null` at the end. */
  readLine(options?: ReadLineOptions): string | null {
    return this.#reader.readLine(options, 'readLine');
  }

  /** Iterates over lines until the end. */
  lines(options?: ReadLineOptions): Generator<string, void, undefined> {
    return this.#reader.lines(options);
  }

  [Symbol.iterator](): Iterator<string> {
    return this.#reader.lines();
  }

  /** Everything until the end. */
  readAll(): Buffer {
    return this.#reader.readAll('readAll');
  }
}

/** Options of {@link StreamWriter}. */
export interface StreamWriterOptions {
  /** The `syscall` named by timeout errors. @default 'write' */
  syscall?: string;
  /**
   * Tries to hand a write to what is under the stream (a socket's handle)
   * and returns true, or false when it must go through `stream.write()`.
   * Called only with nothing known to be wrong with the stream.
   * @default none: every write goes through the stream
   */
  writeDirect?: (stream: Writable, data: string | Uint8Array) => boolean;
}

/**
 * Writes to a Writable in blocking style: `sendall()` returns once the data
 * is handed to the stream and the stream's buffer is under its high-water
 * mark (parking until then), so a slow peer bounds the writer's memory.
 * @internal
 */
export class StreamWriter {
  readonly #stream: Writable;
  readonly #syscall: string;
  #error: Error | null = null;
  #closed = false;
  #closedLocally = false;
  readonly #parked: WaitSlot;
  #timeout: number | null = null;
  readonly #writeDirect: ((stream: Writable, data: string | Uint8Array) => boolean) | null;

  constructor(stream: Writable, options: StreamWriterOptions = {}) {
    this.#stream = stream;
    this.#parked = new WaitSlot(stream, 'to');
    this.#syscall = options.syscall ?? 'write';
    this.#writeDirect = options.writeDirect ?? null;
    stream.on('drain', () => this.#parked.wake());
    stream.on('error', (error: Error) => {
      if (this.#error === null) this.#error = error;
      this.#parked.wake();
    });
    stream.on('close', () => {
      this.#closed = true;
      this.#parked.wake();
    });
  }

  /** Per-operation timeout in ms (`null`: none); exceeding it throws `ETIMEDOUT`. */
  get timeout(): number | null {
    return this.#timeout;
  }

  set timeout(ms: number | null) {
    this.#timeout = checkTimeout('timeout', ms);
  }

  /** Marks the writer closed by its owner: later writes throw `ERR_SOCKET_CLOSED`. */
  closeLocally(): void {
    this.#closedLocally = true;
    this.#parked.wake();
  }

  /** Writes all of `data`, parking while the stream's buffer is over its high-water mark. */
  sendall(data: string | Uint8Array, operation = 'sendall'): void {
    assertMayBlock(operation);
    if (typeof data !== 'string' && !(data instanceof Uint8Array)) {
      throw new TypeError(`data must be a string, Buffer or Uint8Array, got ${describe(data)}`);
    }
    this.#check();
    const stream = this.#stream;
    if (stream.writableEnded) throw systemError('EPIPE', this.#syscall);
    if (this.#writeDirect !== null && this.#writeDirect(stream, data)) return;
    if (stream.write(data)) return;
    let deadline: number | null = this.#timeout === null ? null : Date.now() + this.#timeout;
    while (stream.writableNeedDrain) {
      this.#check();
      if (this.#closed) throw systemError('EPIPE', this.#syscall);
      deadline = this.#park(deadline, operation);
    }
    this.#check();
  }

  /** Ends the stream after the buffered data (does not park). */
  end(): void {
    if (!this.#stream.writableEnded && !this.#stream.destroyed) this.#stream.end();
  }

  #check(): void {
    if (this.#closedLocally) throw socketClosedError();
    if (this.#error) throw this.#error;
    if (this.#stream.destroyed) throw systemError('EPIPE', this.#syscall);
  }

  #park(deadline: number | null, operation: string): number | null {
    this.#parked.wait(this.#parked.occupy(operation, 'writing to'), deadline, this.#syscall);
    return deadline;
  }
}
