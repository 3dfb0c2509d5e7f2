/**
 * Blocking-style file system calls for greenlets: the `fs` functions people
 * call synchronously today, done on libuv's thread pool while only the
 * calling greenlet parks.
 *
 * Each function takes the arguments of its `fs.*Sync` twin and returns what
 * that returns; errors are Node's own (`ENOENT`, `EACCES`, ...), thrown in
 * the calling greenlet. Outside a spawned greenlet each throws the hub's
 * `GreenletError` (use `fs.*Sync` there).
 *
 * A file operation cannot be cancelled once libuv has started it: a
 * `Timeout` or `kill()` interrupts the waiting greenlet at once, while the
 * operation itself finishes in the background.
 *
 * @example
 * ```js
 * const { spawn } = require('greenloop');
 * const fs = require('greenloop/fs');
 *
 * spawn(() => {
 *   fs.writeFile('/tmp/greeting.txt', 'hello\nworld\n');
 *   for (const line of fs.readLines('/tmp/greeting.txt')) console.log(line);
 *   console.log(fs.stat('/tmp/greeting.txt').size); // 12
 * });
 * ```
 * @module greenloop/fs
 */
import * as fs from 'node:fs';
import { types } from 'node:util';
import { checkOptions, describe, parkOnCallback, type Callback } from './_park.js';
import { type ReadLineOptions, StreamReader } from './_stream.js';

type PathLike = fs.PathLike;
type Encoding = BufferEncoding;

/**
 * Calls the callback form of `fn` with the `required` arguments as given and
 * the `optional` ones up to the last defined one (so Node applies its own
 * defaults, and a missing required argument is named in Node's error rather
 * than the callback), and parks until it completes. Node validates its
 * arguments synchronously: a bad one throws here, in the caller, as the
 * `*Sync` twin would.
 */
function call<T>(operation: string, fn: (...args: any[]) => void, required: unknown[], optional: unknown[] = []): T {
  const args = [...required, ...withoutTrailingUndefined(optional)];
  return parkOnCallback<T>(operation, (callback: Callback<T>) => fn(...args, callback));
}

/** Drops trailing `undefined` arguments, so Node applies its own defaults. */
function withoutTrailingUndefined(args: unknown[]): unknown[] {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  return args.slice(0, n);
}

/**
 * Reads a whole file (`fs.readFileSync`): a string with an `encoding`, else a Buffer.
 * `options.signal` is Node's own (`fs.readFile`'s): aborting it stops the
 * read with Node's `AbortError` (`code: 'ABORT_ERR'`).
 * @throws Node's errors (`ENOENT`, `EISDIR`, ...), with the caller's frames in their stack.
 * @example
 * ```js
 * const config = JSON.parse(fs.readFile('config.json', 'utf8'));
 * ```
 */
export function readFile(
  path: PathLike | number,
  options?: { encoding?: null; flag?: string; signal?: AbortSignal } | null,
): Buffer;
export function readFile(
  path: PathLike | number,
  options: Encoding | { encoding: Encoding; flag?: string; signal?: AbortSignal },
): string;
export function readFile(path: PathLike | number, options?: unknown): string | Buffer {
  // Node's callback readFile checks a descriptor only later, on its own
  // callback path, where a bad one throws uncaught (-1) or reports a wrong
  // error (a closed one); read descriptors here instead, as readFileSync does.
  if (typeof path === 'number') return readDescriptor(path, options);
  return call('fs.readFile', fs.readFile, [path], [options]);
}

const READ_CHUNK = 64 * 1024;

/** `readFileSync(fd, options)`: reads from the descriptor's current position to its end. */
function readDescriptor(fd: number, options: unknown): string | Buffer {
  const encoding = readFileEncoding(options);
  fstat(fd); // Node's own check of the descriptor (RangeError, EBADF), before anything is read
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const chunk = Buffer.allocUnsafe(READ_CHUNK);
    const n = read(fd, chunk, 0, READ_CHUNK, null);
    if (n === 0) break;
    chunks.push(n === READ_CHUNK ? chunk : chunk.subarray(0, n));
    total += n;
  }
  const data = Buffer.concat(chunks, total);
  return encoding === null ? data : data.toString(encoding);
}

/** The `encoding` of readFile's `options` (a string or `{ encoding }`), checked as Node does. */
function readFileEncoding(options: unknown): BufferEncoding | null {
  let encoding: unknown;
  if (options === undefined || options === null) encoding = null;
  else if (typeof options === 'string') encoding = options;
  else if (typeof options === 'object') encoding = (options as { encoding?: unknown }).encoding ?? null;
  else throw invalidArgType('options', 'a string or an object', options);
  if (encoding === null || encoding === 'buffer') return null;
  if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) {
    throw Object.assign(new TypeError(`The "encoding" option must be a Buffer encoding, got ${describe(encoding)}`), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  return encoding;
}

/** A path argument: a string, Buffer or URL (Node's own check, where Node names it wrongly or not at all). */
function checkPath(path: unknown): void {
  if (typeof path !== 'string' && !Buffer.isBuffer(path) && !(path instanceof URL)) {
    throw invalidArgType('path', 'a string, Buffer or URL', path);
  }
}

/** Node's ERR_INVALID_ARG_TYPE, naming the argument and the value received. */
function invalidArgType(name: string, expected: string, value: unknown): TypeError {
  return Object.assign(new TypeError(`The "${name}" argument must be ${expected}, got ${describe(value)}`), {
    code: 'ERR_INVALID_ARG_TYPE',
  });
}

/**
 * Writes a whole file, replacing it (`fs.writeFileSync`). `options.signal`
 * is Node's own: aborting it stops the write between chunks with Node's
 * `AbortError` (`code: 'ABORT_ERR'`; what was written stays).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * fs.writeFile('/tmp/out.json', JSON.stringify({ ok: true }));
 * ```
 */
export function writeFile(
  path: PathLike | number,
  data: string | NodeJS.ArrayBufferView,
  options?: fs.WriteFileOptions,
): void {
  call<void>('fs.writeFile', fs.writeFile, [path, data], [options]);
}

/**
 * Appends to a file, creating it if needed (`fs.appendFileSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * fs.appendFile('/tmp/app.log', `${new Date().toISOString()} started\n`);
 * ```
 */
export function appendFile(path: PathLike | number, data: string | Uint8Array, options?: fs.WriteFileOptions): void {
  call<void>('fs.appendFile', fs.appendFile, [path, data], [options]);
}

/**
 * Lists a directory (`fs.readdirSync`): names, or `fs.Dirent`s with `{ withFileTypes: true }`.
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * for (const entry of fs.readdir('/tmp', { withFileTypes: true })) if (entry.isFile()) console.log(entry.name);
 * ```
 */
export function readdir(
  path: PathLike,
  options?: { encoding?: Encoding | null; withFileTypes?: false; recursive?: boolean } | Encoding | null,
): string[];
export function readdir(path: PathLike, options: { withFileTypes: true; recursive?: boolean }): fs.Dirent[];
export function readdir(path: PathLike, options?: unknown): string[] | fs.Dirent[] {
  return call('fs.readdir', fs.readdir, [path], [options]);
}

/**
 * File status, following symbolic links (`fs.statSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * console.log(fs.stat('/etc/hostname').size);
 * ```
 */
export function stat(path: PathLike, options?: fs.StatOptions): fs.Stats {
  return call('fs.stat', fs.stat, [path], [options]);
}

/**
 * File status of a link itself (`fs.lstatSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * console.log(fs.lstat('/tmp/link').isSymbolicLink());
 * ```
 */
export function lstat(path: PathLike, options?: fs.StatOptions): fs.Stats {
  return call('fs.lstat', fs.lstat, [path], [options]);
}

/**
 * File status of an open file (`fs.fstatSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * const fd = fs.open('/etc/hostname');
 * console.log(fs.fstat(fd).size);
 * fs.close(fd);
 * ```
 */
export function fstat(fd: number, options?: fs.StatOptions): fs.Stats {
  return call('fs.fstat', fs.fstat, [fd], [options]);
}

/**
 * Creates a directory (`fs.mkdirSync`); with `{ recursive: true }` returns
 * the first directory created (or `undefined`), and an existing one is fine.
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * fs.mkdir('/tmp/app/cache', { recursive: true });
 * ```
 */
export function mkdir(path: PathLike, options?: fs.MakeDirectoryOptions | fs.Mode | null): string | undefined {
  return call('fs.mkdir', fs.mkdir, [path], [options]);
}

/**
 * Creates a unique temporary directory under `prefix` and returns its path (`fs.mkdtempSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * const dir = fs.mkdtemp(require('node:path').join(require('node:os').tmpdir(), 'job-')); // e.g. /tmp/job-a1B2c3
 * ```
 */
export function mkdtemp(prefix: string, options?: Encoding | { encoding?: Encoding } | null): string {
  return call('fs.mkdtemp', fs.mkdtemp, [prefix], [options]);
}

/**
 * Removes files and directories (`fs.rmSync`; `{ recursive, force }` as there).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * fs.rm('/tmp/app/cache', { recursive: true, force: true });
 * ```
 */
export function rm(path: PathLike, options?: fs.RmOptions): void {
  call<void>('fs.rm', fs.rm, [path], [options]);
}

/**
 * Removes a file or link (`fs.unlinkSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * fs.unlink('/tmp/app.pid');
 * ```
 */
export function unlink(path: PathLike): void {
  call<void>('fs.unlink', fs.unlink, [path]);
}

/**
 * Renames or moves (`fs.renameSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * fs.writeFile('/tmp/data.json.tmp', '{}');
 * fs.rename('/tmp/data.json.tmp', '/tmp/data.json'); // atomic replace
 * ```
 */
export function rename(oldPath: PathLike, newPath: PathLike): void {
  call<void>('fs.rename', fs.rename, [oldPath, newPath]);
}

/**
 * Copies a file (`fs.copyFileSync`; `mode` e.g. `fs.constants.COPYFILE_EXCL`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * fs.copyFile('/tmp/data.json', '/tmp/data.json.bak');
 * ```
 */
export function copyFile(src: PathLike, dest: PathLike, mode?: number): void {
  call<void>('fs.copyFile', fs.copyFile, [src, dest], [mode]);
}

/**
 * Checks access (`fs.accessSync`): returns if allowed, throws (`ENOENT`,
 * `EACCES`) if not. `mode` is `fs.constants.F_OK` by default.
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * try { fs.access('/etc/shadow', require('node:fs').constants.R_OK); } catch (e) { console.log(e.code); } // EACCES unless root
 * ```
 */
export function access(path: PathLike, mode?: number): void {
  call<void>('fs.access', fs.access, [path], [mode]);
}

/**
 * True if `path` exists (as `fs.existsSync`: never throws for a missing path).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * if (!fs.exists('/tmp/app')) fs.mkdir('/tmp/app');
 * ```
 */
export function exists(path: PathLike): boolean {
  try {
    access(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code === undefined) throw error;
    return false;
  }
}

/**
 * Resolves `.`, `..` and links to an absolute path (`fs.realpathSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * console.log(fs.realpath('/tmp/../tmp')); // /tmp
 * ```
 */
export function realpath(path: PathLike, options?: Encoding | { encoding?: Encoding | null } | null): string {
  checkPath(path); // Node's realpath would resolve String(path): `undefined` became ./undefined
  return call('fs.realpath', fs.realpath, [path], [options]);
}

/**
 * Truncates or extends a file to `len` bytes (`fs.truncateSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * fs.truncate('/tmp/app.log', 0); // empty it
 * ```
 */
export function truncate(path: PathLike, len?: number): void {
  call<void>('fs.truncate', fs.truncate, [path], [len]);
}

/**
 * Changes permissions (`fs.chmodSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * fs.chmod('/tmp/run.sh', 0o755);
 * ```
 */
export function chmod(path: PathLike, mode: fs.Mode): void {
  call<void>('fs.chmod', fs.chmod, [path, mode]);
}

/**
 * Creates a symbolic link at `path` pointing to `target` (`fs.symlinkSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * fs.symlink('/tmp/data.json', '/tmp/current.json');
 * ```
 */
export function symlink(target: PathLike, path: PathLike, type?: fs.symlink.Type | null): void {
  call<void>('fs.symlink', fs.symlink, [target, path], [type]);
}

/**
 * Reads a symbolic link's target (`fs.readlinkSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * console.log(fs.readlink('/tmp/current.json')); // /tmp/data.json
 * ```
 */
export function readlink(path: PathLike, options?: Encoding | { encoding?: Encoding | null } | null): string {
  checkPath(path); // Node's readlink calls a bad path "oldPath"
  return call('fs.readlink', fs.readlink, [path], [options]);
}

/**
 * Opens a file and returns its descriptor (`fs.openSync`). Close it with {@link close}.
 * @param flags - @default 'r'
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * const fd = fs.open('/tmp/out.bin', 'w');
 * try { fs.write(fd, Buffer.from([1, 2, 3])); } finally { fs.close(fd); }
 * ```
 */
export function open(path: PathLike, flags?: fs.OpenMode, mode?: fs.Mode | null): number {
  return call('fs.open', fs.open, [path, flags ?? 'r'], [mode]);
}

/**
 * Closes a descriptor (`fs.closeSync`).
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * const fd = fs.open('/etc/hostname');
 * try { console.log(fs.fstat(fd).size); } finally { fs.close(fd); }
 * ```
 */
export function close(fd: number): void {
  call<void>('fs.close', fs.close, [fd]);
}

/**
 * Reads into `buffer` from an open file and returns the number of bytes
 * read, 0 at the end of the file (`fs.readSync`).
 * @param offset - where in `buffer` to write. @default 0
 * @param length - how many bytes at most. @default buffer.byteLength - offset
 * @param position - where in the file; `null` reads from the current position. @default null
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * const fd = fs.open('/etc/hostname');
 * const buffer = Buffer.alloc(64);
 * const n = fs.read(fd, buffer, 0, buffer.length, 0);
 * console.log(buffer.subarray(0, n).toString());
 * fs.close(fd);
 * ```
 */
export function read(
  fd: number,
  buffer: NodeJS.ArrayBufferView,
  offset = 0,
  length?: number,
  position: number | bigint | null = null,
): number {
  // Node names a missing or wrong buffer; only a real one has a length to default to.
  const size = length ?? (types.isArrayBufferView(buffer) ? buffer.byteLength - offset : 0);
  return parkOnCallback<number>('fs.read', (callback) =>
    fs.read(fd, buffer, offset, size, position, (error, bytesRead) => callback(error, bytesRead)),
  );
}

/**
 * Writes a buffer or string to an open file and returns the number of bytes
 * written (`fs.writeSync`). For a buffer the arguments are `(fd, buffer,
 * offset?, length?, position?)`; for a string `(fd, string, position?, encoding?)`.
 * @example
 * ```js
 * const fs = require('greenloop/fs');
 * // in a greenlet (spawn(() => ...)):
 * const fd = fs.open('/tmp/out.txt', 'w');
 * fs.write(fd, 'hello\n');
 * fs.close(fd);
 * ```
 */
export function write(
  fd: number,
  buffer: NodeJS.ArrayBufferView,
  offset?: number,
  length?: number,
  position?: number | null,
): number;
export function write(fd: number, text: string, position?: number | null, encoding?: Encoding): number;
export function write(fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]): number {
  return parkOnCallback<number>('fs.write', (callback) =>
    (fs.write as (...args: unknown[]) => void)(
      fd,
      data,
      ...withoutTrailingUndefined(rest),
      (error: Error | null, written: number) => callback(error, written),
    ),
  );
}

/** Options of {@link readLines}. */
export interface ReadLinesOptions extends ReadLineOptions {
  /** Bytes read from the file at a time. @default 65536 */
  highWaterMark?: number;
  /** First byte to read. @default 0 */
  start?: number;
}

/**
 * Iterates over a file's lines (without their `\n` / `\r\n`), reading it as
 * a stream so that memory stays bounded whatever the file's size. Leaving
 * the loop early (`break`, an error) closes the file.
 * @throws LineTooLongError for a line over `maxLength` bytes (default 65536).
 * @example
 * ```js
 * let errors = 0;
 * for (const line of fs.readLines('/var/log/app.log')) if (line.includes('ERROR')) errors++;
 * ```
 */
export function* readLines(path: PathLike, options: ReadLinesOptions = {}): Generator<string, void, undefined> {
  checkOptions('options', options);
  const stream = fs.createReadStream(path, { highWaterMark: options.highWaterMark ?? 65536, start: options.start });
  const reader = new StreamReader(stream, { syscall: 'read' });
  try {
    for (;;) {
      const line = reader.readLine(options, 'fs.readLines');
      if (line === null) return;
      yield line;
    }
  } finally {
    stream.destroy();
  }
}
