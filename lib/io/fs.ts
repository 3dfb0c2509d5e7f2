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
import { parkOnCallback, type Callback } from './_park.js';
import { type ReadLineOptions, StreamReader } from './_stream.js';

type PathLike = fs.PathLike;
type Encoding = BufferEncoding;

/** Calls the callback form of `fn` and parks until it completes. */
function call<T>(operation: string, fn: (...args: any[]) => void, ...args: unknown[]): T {
  return parkOnCallback<T>(operation, (callback: Callback<T>) => fn(...args, callback));
}

/** Drops trailing `undefined` arguments, so Node applies its own defaults. */
function defined(...args: unknown[]): unknown[] {
  let n = args.length;
  while (n > 0 && args[n - 1] === undefined) n--;
  return args.slice(0, n);
}

/**
 * Reads a whole file (`fs.readFileSync`): a string with an `encoding`, else a Buffer.
 * @example
 * ```js
 * const config = JSON.parse(fs.readFile('config.json', 'utf8'));
 * ```
 */
export function readFile(path: PathLike | number, options?: { encoding?: null; flag?: string } | null): Buffer;
export function readFile(path: PathLike | number, options: Encoding | { encoding: Encoding; flag?: string }): string;
export function readFile(path: PathLike | number, options?: unknown): string | Buffer {
  return call('fs.readFile', fs.readFile, ...defined(path, options));
}

/** Writes a whole file, replacing it (`fs.writeFileSync`). */
export function writeFile(path: PathLike | number, data: string | NodeJS.ArrayBufferView, options?: fs.WriteFileOptions): void {
  call<void>('fs.writeFile', fs.writeFile, ...defined(path, data, options));
}

/** Appends to a file, creating it if needed (`fs.appendFileSync`). */
export function appendFile(path: PathLike | number, data: string | Uint8Array, options?: fs.WriteFileOptions): void {
  call<void>('fs.appendFile', fs.appendFile, ...defined(path, data, options));
}

/** Lists a directory (`fs.readdirSync`): names, or `fs.Dirent`s with `{ withFileTypes: true }`. */
export function readdir(path: PathLike, options?: { encoding?: Encoding | null; withFileTypes?: false; recursive?: boolean } | Encoding | null): string[];
export function readdir(path: PathLike, options: { withFileTypes: true; recursive?: boolean }): fs.Dirent[];
export function readdir(path: PathLike, options?: unknown): string[] | fs.Dirent[] {
  return call('fs.readdir', fs.readdir, ...defined(path, options));
}

/** File status, following symbolic links (`fs.statSync`). */
export function stat(path: PathLike, options?: fs.StatOptions): fs.Stats {
  return call('fs.stat', fs.stat, ...defined(path, options));
}

/** File status of a link itself (`fs.lstatSync`). */
export function lstat(path: PathLike, options?: fs.StatOptions): fs.Stats {
  return call('fs.lstat', fs.lstat, ...defined(path, options));
}

/** File status of an open file (`fs.fstatSync`). */
export function fstat(fd: number, options?: fs.StatOptions): fs.Stats {
  return call('fs.fstat', fs.fstat, ...defined(fd, options));
}

/**
 * Creates a directory (`fs.mkdirSync`); with `{ recursive: true }` returns
 * the first directory created (or `undefined`), and an existing one is fine.
 */
export function mkdir(path: PathLike, options?: fs.MakeDirectoryOptions | fs.Mode | null): string | undefined {
  return call('fs.mkdir', fs.mkdir, ...defined(path, options));
}

/** Creates a unique temporary directory under `prefix` and returns its path (`fs.mkdtempSync`). */
export function mkdtemp(prefix: string, options?: Encoding | { encoding?: Encoding } | null): string {
  return call('fs.mkdtemp', fs.mkdtemp, ...defined(prefix, options));
}

/** Removes files and directories (`fs.rmSync`; `{ recursive, force }` as there). */
export function rm(path: PathLike, options?: fs.RmOptions): void {
  call<void>('fs.rm', fs.rm, ...defined(path, options));
}

/** Removes a file or link (`fs.unlinkSync`). */
export function unlink(path: PathLike): void {
  call<void>('fs.unlink', fs.unlink, path);
}

/** Renames or moves (`fs.renameSync`). */
export function rename(oldPath: PathLike, newPath: PathLike): void {
  call<void>('fs.rename', fs.rename, oldPath, newPath);
}

/** Copies a file (`fs.copyFileSync`; `mode` e.g. `fs.constants.COPYFILE_EXCL`). */
export function copyFile(src: PathLike, dest: PathLike, mode?: number): void {
  call<void>('fs.copyFile', fs.copyFile, ...defined(src, dest, mode));
}

/**
 * Checks access (`fs.accessSync`): returns if allowed, throws (`ENOENT`,
 * `EACCES`) if not. `mode` is `fs.constants.F_OK` by default.
 */
export function access(path: PathLike, mode?: number): void {
  call<void>('fs.access', fs.access, ...defined(path, mode));
}

/** True if `path` exists (as `fs.existsSync`: never throws for a missing path). */
export function exists(path: PathLike): boolean {
  try {
    access(path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException)?.code === undefined) throw error;
    return false;
  }
}

/** Resolves `.`, `..` and links to an absolute path (`fs.realpathSync`). */
export function realpath(path: PathLike, options?: Encoding | { encoding?: Encoding | null } | null): string {
  return call('fs.realpath', fs.realpath, ...defined(path, options));
}

/** Truncates or extends a file to `len` bytes (`fs.truncateSync`). */
export function truncate(path: PathLike, len?: number): void {
  call<void>('fs.truncate', fs.truncate, ...defined(path, len));
}

/** Changes permissions (`fs.chmodSync`). */
export function chmod(path: PathLike, mode: fs.Mode): void {
  call<void>('fs.chmod', fs.chmod, path, mode);
}

/** Creates a symbolic link at `path` pointing to `target` (`fs.symlinkSync`). */
export function symlink(target: PathLike, path: PathLike, type?: fs.symlink.Type | null): void {
  call<void>('fs.symlink', fs.symlink, ...defined(target, path, type));
}

/** Reads a symbolic link's target (`fs.readlinkSync`). */
export function readlink(path: PathLike, options?: Encoding | { encoding?: Encoding | null } | null): string {
  return call('fs.readlink', fs.readlink, ...defined(path, options));
}

/**
 * Opens a file and returns its descriptor (`fs.openSync`). Close it with {@link close}.
 * @param flags - @default 'r'
 */
export function open(path: PathLike, flags?: fs.OpenMode, mode?: fs.Mode | null): number {
  return call('fs.open', fs.open, path, flags ?? 'r', ...defined(mode));
}

/** Closes a descriptor (`fs.closeSync`). */
export function close(fd: number): void {
  call<void>('fs.close', fs.close, fd);
}

/**
 * Reads into `buffer` from an open file and returns the number of bytes
 * read, 0 at the end of the file (`fs.readSync`).
 * @param offset - where in `buffer` to write. @default 0
 * @param length - how many bytes at most. @default buffer.byteLength - offset
 * @param position - where in the file; `null` reads from the current position. @default null
 */
export function read(fd: number, buffer: NodeJS.ArrayBufferView, offset = 0, length?: number, position: number | bigint | null = null): number {
  const size = length ?? buffer.byteLength - offset;
  return parkOnCallback<number>('fs.read', (callback) =>
    fs.read(fd, buffer, offset, size, position, (error, bytesRead) => callback(error, bytesRead)),
  );
}

/**
 * Writes a buffer or string to an open file and returns the number of bytes
 * written (`fs.writeSync`). For a buffer the arguments are `(fd, buffer,
 * offset?, length?, position?)`; for a string `(fd, string, position?, encoding?)`.
 */
export function write(fd: number, buffer: NodeJS.ArrayBufferView, offset?: number, length?: number, position?: number | null): number;
export function write(fd: number, text: string, position?: number | null, encoding?: Encoding): number;
export function write(fd: number, data: string | NodeJS.ArrayBufferView, ...rest: unknown[]): number {
  return parkOnCallback<number>('fs.write', (callback) =>
    (fs.write as (...args: unknown[]) => void)(fd, data, ...defined(...rest), (error: Error | null, written: number) =>
      callback(error, written),
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
