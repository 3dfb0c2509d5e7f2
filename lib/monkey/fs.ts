/**
 * Patched `node:fs` sync functions: each parks on its callback twin
 * (`statSync` on `fs.stat`, ...), run on libuv's thread pool, and maps the
 * result back, so results and errors are the originals'.
 *
 * Reads from pipes, FIFOs, character devices and TTYs do not hold a pool
 * thread while they wait for data: they poll a non-blocking descriptor of
 * the same file (opened through `/proc/self/fd`), so a reader waiting on
 * stdin cannot starve the 4 pool threads. Writes to fds 1 and 2 always run
 * the original, keeping `console.log` and `process.stdout` in order.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import fs from 'node:fs';
import { type Done, parkOn, replacement, viaCallback } from './_emulate.js';
import { callOriginal } from './rule.js';

type AnyFunction = (...args: any[]) => any;
const F = fs as unknown as Record<string, AnyFunction>;

/** Sync functions patched by parking on their callback twin with the same arguments. */
const PLAIN = [
  'accessSync',
  'chmodSync',
  'chownSync',
  'closeSync',
  'copyFileSync',
  'fchmodSync',
  'fchownSync',
  'fdatasyncSync',
  'fsyncSync',
  'ftruncateSync',
  'futimesSync',
  'lchownSync',
  'linkSync',
  'lutimesSync',
  'mkdirSync',
  'readdirSync',
  'readlinkSync',
  'readvSync',
  'renameSync',
  'rmdirSync',
  'rmSync',
  'statfsSync',
  'symlinkSync',
  'truncateSync',
  'unlinkSync',
  'utimesSync',
  'writevSync',
] as const;

const label = (name: string): string => `fs.${name}()`;

/** Whether `statSync(..., { throwIfNoEntry: false })` returns undefined for ENOTDIR on this Node (22+). */
let enotdirIsNoEntry: boolean | undefined;
function noEntryCodes(original: AnyFunction): readonly string[] {
  if (enotdirIsNoEntry === undefined) {
    try {
      enotdirIsNoEntry =
        callOriginal(original, fs, ['/dev/null/greenloop-probe', { throwIfNoEntry: false }]) === undefined;
    } catch {
      enotdirIsNoEntry = false;
    }
  }
  return enotdirIsNoEntry ? ['ENOENT', 'ENOTDIR'] : ['ENOENT'];
}

/** statSync / lstatSync: `throwIfNoEntry: false` is sync-only, so it is applied here. */
function stat(name: 'statSync' | 'lstatSync'): AnyFunction {
  const original = F[name]!;
  const async = F[name.slice(0, -4)]!;
  return replacement('fs', original, (patched, self, args) => {
    const options = args[1] as { throwIfNoEntry?: boolean } | undefined;
    const quiet = options !== null && typeof options === 'object' && options.throwIfNoEntry === false;
    return parkOn(patched, original, self, args, label(name), (done) =>
      Reflect.apply(async, self, [
        ...args,
        quiet
          ? (error: NodeJS.ErrnoException | null, stats: fs.Stats) =>
              error && noEntryCodes(original).includes(error.code!) ? done(null, undefined) : done(error, stats)
          : done,
      ]),
    );
  });
}

/** existsSync: true/false from `fs.access`; invalid paths go to the original (false). */
function exists(): AnyFunction {
  const original = F.existsSync!;
  return replacement('fs', original, (patched, self, args) =>
    parkOn(patched, original, self, args, label('existsSync'), (done) =>
      fs.access(args[0] as fs.PathLike, fs.constants.F_OK, (error) => done(null, !error)),
    ),
  );
}

function closeLate(fd: unknown): void {
  if (typeof fd === 'number') fs.close(fd, () => {});
}

/** True for fds whose writes must keep process.stdout/stderr's order. */
const isStdio = (fd: unknown): boolean => fd === 1 || fd === 2;

/**
 * Puts `error`'s own properties in `order` first (the rest after), as the
 * sync original has them: Node 20-26's writeSync errors come as `errno,
 * syscall, code`, fs.write's as `errno, code, syscall`.
 */
function reorder(error: unknown, order: readonly string[]): unknown {
  if (!(error instanceof Error)) return error;
  const e = error as unknown as Record<string, unknown>;
  const rest = Object.keys(e).filter((key) => !order.includes(key));
  for (const key of [...order, ...rest]) {
    if (!Object.prototype.hasOwnProperty.call(e, key)) continue;
    const value = e[key];
    delete e[key];
    e[key] = value;
  }
  return error;
}

const WRITE_ERROR_ORDER = ['errno', 'syscall', 'code'] as const;

/** writeSync: fds 1 and 2 run the original, others park on `fs.write`. */
function write(): AnyFunction {
  const original = F.writeSync!;
  return replacement('fs', original, (patched, self, args) => {
    if (isStdio(args[0])) return callOriginal(original, self, args);
    return parkOn(patched, original, self, args, label('writeSync'), (done) =>
      Reflect.apply(fs.write, self, [
        ...args,
        (error: unknown, written: number) => done(reorder(error, WRITE_ERROR_ORDER), written),
      ]),
    );
  });
}

/** writeFileSync / appendFileSync: the original for fds 1 and 2. */
function writeWhole(name: 'writeFileSync' | 'appendFileSync'): AnyFunction {
  const original = F[name]!;
  const async = F[name.slice(0, -4)]!;
  return replacement('fs', original, (patched, self, args) => {
    if (isStdio(args[0])) return callOriginal(original, self, args);
    return parkOn(patched, original, self, args, label(name), (done) => Reflect.apply(async, self, [...args, done]));
  });
}

const S_IFMT = fs.constants.S_IFMT;
const S_IFREG = fs.constants.S_IFREG;
const S_IFBLK = fs.constants.S_IFBLK;
const S_IFDIR = fs.constants.S_IFDIR;

const originalFstat = fs.fstatSync;

/** The file type bits of `fd`, or -1 if it cannot be stat'ed (the caller then lets Node report it). */
function fileType(fd: number): number {
  try {
    return (callOriginal(originalFstat, fs, [fd]) as fs.Stats).mode & S_IFMT;
  } catch {
    return -1;
  }
}

/** Whether reads from a file of this type may wait indefinitely (pipes, sockets, TTYs, char devices). */
const mayWait = (type: number): boolean => type !== -1 && type !== S_IFREG && type !== S_IFBLK && type !== S_IFDIR;

const POLL_FIRST_MS = 1;
const POLL_MAX_MS = 25;

/** Stops a wait for data started by {@link readWaiting} (the park was interrupted). */
type Cancel = () => void;

/**
 * Reads at most `length` bytes from `fd` (a pipe, FIFO, TTY or character
 * device) without holding a pool thread while no data is there: through a
 * second, non-blocking open file description of the same file, polled with a
 * backoff while it says EAGAIN. Resolves `done(error, bytesRead)`; falls back
 * to a plain `fs.read` where `/proc/self/fd/<fd>` cannot be opened (sockets).
 * The returned function stops the polling (no data is consumed after it).
 */
function readWaiting(fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, done: Done): Cancel {
  let cancelled = false;
  let timer: NodeJS.Timeout | undefined;
  let dup = -1;
  const plain = (): void => fs.read(fd, buffer, offset, length, null, (error, n) => done(error, n));
  const closeDup = (): void => {
    if (dup >= 0) fs.close(dup, () => {});
    dup = -1;
  };
  fs.open(`/proc/self/fd/${fd}`, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK, (openError, opened) => {
    if (openError) return cancelled ? undefined : plain();
    dup = opened;
    if (cancelled) return closeDup();
    let delay = POLL_FIRST_MS;
    const attempt = (): void => {
      timer = undefined;
      fs.read(dup, buffer, offset, length, null, (error, n) => {
        if ((error as NodeJS.ErrnoException | null)?.code === 'EAGAIN' && !cancelled) {
          timer = setTimeout(attempt, delay);
          delay = Math.min(delay * 2, POLL_MAX_MS);
          return;
        }
        closeDup();
        if (cancelled) return;
        if (error) return plain(); // let the original descriptor report it as Node would
        done(null, n);
      });
    };
    attempt();
  });
  return () => {
    cancelled = true;
    if (timer !== undefined) {
      clearTimeout(timer);
      closeDup();
    }
  };
}

/** The `(offset, length)` of a `readSync(fd, buffer, ...)` call with plain arguments, else null. */
function plainRead(args: IArguments): { buffer: NodeJS.ArrayBufferView; offset: number; length: number } | null {
  const buffer = args[1] as NodeJS.ArrayBufferView;
  if (!ArrayBuffer.isView(buffer)) return null;
  let offset: unknown = args[2];
  let length: unknown = args[3];
  let position: unknown = args[4];
  if (offset !== null && typeof offset === 'object') {
    ({ offset, length, position } = offset as { offset?: number; length?: number; position?: unknown });
  }
  offset ??= 0;
  length ??= buffer.byteLength - (offset as number);
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length)) return null;
  const o = offset as number;
  const n = length as number;
  if (o < 0 || n < 0 || o + n > buffer.byteLength) return null;
  if (position !== undefined && position !== null && position !== -1 && position !== -1n) return null;
  return { buffer, offset: o, length: n };
}

/** readSync: regular files park on `fs.read`; pipes and TTYs on {@link readWaiting}. */
function read(): AnyFunction {
  const original = F.readSync!;
  return replacement('fs', original, (patched, self, args) => {
    const fd = args[0];
    const plain = typeof fd === 'number' && mayWait(fileType(fd)) ? plainRead(args) : null;
    let cancel: Cancel | undefined;
    return parkOn(
      patched,
      original,
      self,
      args,
      label('readSync'),
      (done) => {
        if (plain !== null && plain.length !== 0) {
          cancel = readWaiting(fd as number, plain.buffer, plain.offset, plain.length, done);
        } else {
          Reflect.apply(fs.read, self, [...args, (error: unknown, n: number) => done(error, n)]);
        }
      },
      { interrupted: () => cancel?.() },
    );
  });
}

/** Reads `fd` (a pipe, TTY, ...) to its end with {@link readWaiting}; returns what stops it. */
function readAllWaiting(fd: number, done: Done): Cancel {
  const chunks: Buffer[] = [];
  let cancel: Cancel | undefined;
  let cancelled = false;
  const next = (): void => {
    const chunk = Buffer.allocUnsafe(65536);
    cancel = readWaiting(fd, chunk, 0, chunk.length, (error, n) => {
      if (error) return done(error);
      if (n === 0) return done(null, Buffer.concat(chunks));
      chunks.push(chunk.subarray(0, n as number));
      if (!cancelled) next();
    });
  };
  next();
  return () => {
    cancelled = true;
    cancel?.();
  };
}

function encodingOf(options: unknown): BufferEncoding | null {
  if (typeof options === 'string') return options as BufferEncoding;
  if (options !== null && typeof options === 'object')
    return (options as { encoding?: BufferEncoding }).encoding ?? null;
  return null;
}

/** Node's own read size for files whose size is unknown (procfs), and its largest file. */
const UNKNOWN_SIZE_CHUNK = 64 * 1024;
const MAX_FILE_SIZE = 2 ** 31 - 1;

/** Node's error for a file too large for one Buffer (readFileSync throws it too). */
function fileTooLarge(size: number): RangeError {
  const error = new RangeError(`File size (${size}) is greater than 2 GiB`) as RangeError & { code: string };
  error.code = 'ERR_FS_FILE_TOO_LARGE';
  return error;
}

/**
 * Reads an open regular file from its current position as readFileSync
 * does: `size` bytes at most (read until EOF when the size is unknown, 0).
 */
function readRegular(fd: number, size: number, done: Done): void {
  if (size > MAX_FILE_SIZE) return done(fileTooLarge(size));
  if (size === 0) {
    const chunks: Buffer[] = [];
    const next = (): void => {
      const chunk = Buffer.allocUnsafe(UNKNOWN_SIZE_CHUNK);
      fs.read(fd, chunk, 0, chunk.length, -1, (error, n) => {
        if (error) return done(error);
        if (n === 0) return done(null, Buffer.concat(chunks));
        chunks.push(chunk.subarray(0, n));
        next();
      });
    };
    return next();
  }
  const buffer = Buffer.allocUnsafe(size);
  let pos = 0;
  const next = (): void => {
    fs.read(fd, buffer, pos, size - pos, -1, (error, n) => {
      if (error) return done(error);
      pos += n;
      if (n !== 0 && pos < size) return next();
      done(null, pos < size ? buffer.subarray(0, pos) : buffer);
    });
  };
  next();
}

/** The size and type of an open fd (sync: fstat does not wait), or null if it cannot be stat'ed. */
function fdInfo(fd: number): { type: number; size: number } | null {
  try {
    const stats = callOriginal(originalFstat, fs, [fd]) as fs.Stats;
    const type = stats.mode & S_IFMT;
    return { type, size: type === S_IFREG ? stats.size : 0 };
  } catch {
    return null;
  }
}

/**
 * readFileSync. A path: open, read and close parked on the thread pool (3
 * round trips, where `fs.readFile` takes 4), or, for a pipe, FIFO or TTY,
 * read to its end without holding a pool thread while it waits for data
 * (opening a FIFO still waits for its writer on one). An fd: `fs.readFile`,
 * or the same pipe reader (`readFileSync(0)`).
 */
function readFile(): AnyFunction {
  const original = F.readFileSync!;
  return replacement('fs', original, (patched, self, args) => {
    const file = args[0];
    const options = args[1];
    if (options !== undefined && options !== null && typeof options !== 'string' && typeof options !== 'object') {
      return callOriginal(original, self, args); // Node's own ERR_INVALID_ARG_TYPE
    }
    const encoding = encodingOf(options);
    if (encoding !== null && !Buffer.isEncoding(encoding)) return callOriginal(original, self, args);
    const flag = options !== null && typeof options === 'object' ? ((options as { flag?: unknown }).flag ?? 'r') : 'r';
    const decoded =
      (done: Done): Done =>
      (error, data) =>
        error ? done(error) : done(null, encoding === null ? data : (data as Buffer).toString(encoding));
    // A wait for data on a pipe stops when the park is interrupted (a file being read finishes).
    let cancel: Cancel | undefined;
    let interrupted = false;
    const hooks = {
      interrupted: () => {
        interrupted = true;
        cancel?.();
      },
    };
    let begin: (done: Done) => void;
    if (typeof file === 'number') {
      // As the original: from the fd's current position, `size` bytes of a regular file.
      const info = fdInfo(file);
      if (info === null) return callOriginal(original, self, args); // EBADF, ERR_OUT_OF_RANGE: Node's own
      begin = (done) => {
        if (mayWait(info.type)) cancel = readAllWaiting(file, decoded(done));
        else readRegular(file, info.size, decoded(done));
      };
    } else {
      begin = (done) =>
        fs.open(file as fs.PathLike, flag as fs.OpenMode, 0o666, (openError, fd) => {
          if (openError) return done(openError);
          // Always closes, also when the park was interrupted meanwhile.
          const finish: Done = (error, data) =>
            fs.close(fd, (closeError) => (error || closeError ? done(error ?? closeError) : decoded(done)(null, data)));
          const info = fdInfo(fd);
          if (info === null) return readRegular(fd, 0, finish);
          if (!mayWait(info.type)) return readRegular(fd, info.size, finish);
          if (interrupted) return fs.close(fd, () => {});
          const stop = readAllWaiting(fd, finish);
          cancel = () => {
            stop();
            fs.close(fd, () => {});
          };
        });
    }
    return parkOn(patched, original, self, args, label('readFileSync'), begin, hooks);
  });
}

/**
 * Takes `path` off an error whose sync original names none (opendirSync's:
 * `ENOENT: no such file or directory, opendir`), message included.
 */
function withoutPath(error: unknown): unknown {
  const e = error as NodeJS.ErrnoException | null;
  if (e instanceof Error && typeof e.path === 'string') {
    const suffix = ` '${e.path}'`;
    if (e.message.endsWith(suffix)) e.message = e.message.slice(0, -suffix.length);
    delete e.path;
  }
  return error;
}

/** opendirSync: its errors name no path; `fs.opendir`'s do. */
function opendir(): AnyFunction {
  const original = F.opendirSync!;
  return replacement('fs', original, (patched, self, args) =>
    parkOn(
      patched,
      original,
      self,
      args,
      label('opendirSync'),
      (done) =>
        Reflect.apply(fs.opendir, self, [...args, (error: unknown, dir: unknown) => done(withoutPath(error), dir)]),
      { late: (dir) => (dir as fs.Dir).close(() => {}) },
    ),
  );
}

/** realpathSync and realpathSync.native, each on its own callback twin. */
function realpath(): AnyFunction {
  const original = F.realpathSync! as AnyFunction & { native: AnyFunction };
  const patched = viaCallback('fs', original, fs.realpath, label('realpathSync')) as AnyFunction & {
    native: AnyFunction;
  };
  patched.native = viaCallback('fs', original.native, fs.realpath.native, label('realpathSync.native'));
  return patched;
}

/** The replacements for `node:fs`, by name. */
export function fsReplacements(): Record<string, AnyFunction> {
  const out: Record<string, AnyFunction> = {};
  for (const name of PLAIN) {
    const original = F[name];
    const async = F[name.slice(0, -4)];
    if (typeof original === 'function' && typeof async === 'function')
      out[name] = viaCallback('fs', original, async, label(name));
  }
  out.statSync = stat('statSync');
  out.lstatSync = stat('lstatSync');
  out.fstatSync = viaCallback('fs', F.fstatSync!, fs.fstat, label('fstatSync'));
  out.existsSync = exists();
  out.openSync = viaCallback('fs', F.openSync!, fs.open, label('openSync'), closeLate);
  out.mkdtempSync = viaCallback('fs', F.mkdtempSync!, fs.mkdtemp, label('mkdtempSync'));
  out.opendirSync = opendir();
  out.readSync = read();
  out.writeSync = write();
  out.readFileSync = readFile();
  out.writeFileSync = writeWhole('writeFileSync');
  out.appendFileSync = writeWhole('appendFileSync');
  out.realpathSync = realpath();
  return out;
}
