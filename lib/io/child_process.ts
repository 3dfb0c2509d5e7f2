/**
 * Blocking-style child processes for greenlets: `run()` a command and get
 * its exit status and output, `exec`/`execFile` like their `*Sync` twins,
 * or `spawn()` a process whose pipes read and write like green sockets and
 * whose `wait()` parks.
 *
 * While a greenlet waits for a child, everything else keeps running. Errors
 * are Node's own (`ENOENT` for a missing program, `ETIMEDOUT` past a
 * timeout), thrown in the calling greenlet. Outside a spawned greenlet each
 * blocking call throws the hub's `GreenletError`.
 *
 * @example
 * ```js
 * const { spawn } = require('greenloop');
 * const cp = require('greenloop/child_process');
 *
 * spawn(() => {
 *   const { status, stdout } = cp.run('sort', [], { input: 'b\na\n' });
 *   console.log(status, stdout); // 0 'a\nb\n'
 * });
 * ```
 * @module greenloop/child_process
 */
import * as cp from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import {
  assertMayBlock,
  checkOptions,
  checkSignal as checkAbortSignal,
  checkTimeout,
  clearTimer,
  describe,
  parkOnCallback,
  setTimer,
  throwIfAborted,
  type Timer,
  Waiter,
  withSignal,
} from './_park.js';
import { ReadingEnd, StreamReader, StreamWriter } from './_stream.js';
import { systemError } from './errors.js';

export type { ReadLineOptions } from './_stream.js';

/** Options of {@link run}, {@link exec} and {@link execFile}. */
export interface RunOptions {
  /** Written to the child's stdin, which is then closed. @default nothing (stdin closed at once) */
  input?: string | Uint8Array;
  /**
   * Milliseconds the child may run; then it gets `killSignal` and the call
   * throws `ETIMEDOUT` (with `status`, `signal`, `stdout`, `stderr` attached).
   * @default no limit
   */
  timeout?: number | null;
  /**
   * The signal sent at `timeout`, past `maxBuffer`, or when the waiting
   * greenlet is interrupted: a name (`'SIGINT'`, any case) or number from
   * `os.constants.signals`. Checked before the child is spawned.
   * @default 'SIGTERM'
   */
  killSignal?: NodeJS.Signals | number;
  /** The child's environment. @default process.env */
  env?: NodeJS.ProcessEnv;
  /** The child's working directory. @default process.cwd() */
  cwd?: string;
  /** Run through a shell (`true`: `/bin/sh`). @default false (true for {@link exec}) */
  shell?: boolean | string;
  /**
   * How to decode stdout and stderr; `'buffer'` returns Buffers.
   * @default 'utf8'
   */
  encoding?: BufferEncoding | 'buffer';
  /**
   * Bytes of stdout or stderr kept; past it the child is killed and the
   * call throws `ENOBUFS`, as `spawnSync` does.
   * @default 64 MiB
   */
  maxBuffer?: number;
  /**
   * Aborting it kills the child, as Node's `execFile({ signal })` does: it
   * gets `killSignal` (and `SIGKILL` if it still runs 2 s later) and the
   * call throws Node's `AbortError` (`code: 'ABORT_ERR'`). An aborted signal
   * throws before anything is spawned.
   */
  signal?: AbortSignal;
}

/** What {@link run} returns. */
export interface RunResult<T = string> {
  pid: number;
  /** The exit code, or `null` if a signal ended the child. */
  status: number | null;
  /** The signal that ended the child, or `null`. */
  signal: NodeJS.Signals | null;
  stdout: T;
  stderr: T;
}

/** Options of {@link spawn}. */
export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  shell?: boolean | string;
  /**
   * Node's `stdio` option. Streams set to `'pipe'` (the default) appear as
   * `stdin`/`stdout`/`stderr` on the {@link Process}; others are `null`.
   * @default 'pipe'
   */
  stdio?: cp.StdioOptions;
  /**
   * Aborting it kills the child with `SIGTERM`, as Node's `spawn({ signal })`
   * does (a parked {@link Process.wait} then returns its exit status). An
   * aborted signal throws Node's `AbortError` before anything is spawned.
   */
  signal?: AbortSignal;
}

/** An exit status, as {@link Process.wait} returns it. */
export interface ExitStatus {
  status: number | null;
  signal: NodeJS.Signals | null;
}

function checkArgs(command: unknown, args: unknown): string[] {
  if (typeof command !== 'string' || command.length === 0) {
    throw new TypeError(`command must be a non-empty string, got ${describe(command)}`);
  }
  if (args === undefined) return [];
  if (!Array.isArray(args)) throw new TypeError(`args must be an array of strings, got ${describe(args)}`);
  return args.map(String);
}

/**
 * A signal as Node's `child.kill()` accepts it: a name from
 * `os.constants.signals` (any case) or one of their numbers.
 * @throws TypeError with code `ERR_UNKNOWN_SIGNAL`, naming `name` and the value.
 */
function checkSignal(name: string, signal: unknown): NodeJS.Signals | number {
  const signals = osConstants.signals as Record<string, number>;
  if (typeof signal === 'string' && Object.hasOwn(signals, signal.toUpperCase()))
    return signal.toUpperCase() as NodeJS.Signals;
  if (typeof signal === 'number' && Object.values(signals).includes(signal)) return signal;
  throw Object.assign(
    new TypeError(
      `${name} must be a signal name or number of os.constants.signals (e.g. 'SIGTERM', 9), got ${describe(signal)}`,
    ),
    {
      code: 'ERR_UNKNOWN_SIGNAL',
    },
  );
}

function checkEncoding(encoding: unknown): BufferEncoding | 'buffer' {
  if (encoding === undefined) return 'utf8';
  if (encoding === 'buffer' || (typeof encoding === 'string' && Buffer.isEncoding(encoding)))
    return encoding as BufferEncoding | 'buffer';
  throw new TypeError(`encoding must be a Buffer encoding or 'buffer', got ${describe(encoding)}`);
}

/** How long an interrupted run() waits for its child to obey `killSignal` before sending SIGKILL. */
const KILL_GRACE_MS = 2000;

function decode(parts: Buffer[], encoding: BufferEncoding | 'buffer'): string | Buffer {
  const all = Buffer.concat(parts);
  return encoding === 'buffer' ? all : all.toString(encoding);
}

/**
 * Runs `command` with `args`, feeds it `input`, and parks until it exits
 * and its output is read. Never throws for a non-zero exit status: check
 * `status` (or use {@link execFile}).
 * @throws `ENOENT`/`EACCES` if it cannot start, `ETIMEDOUT` past `timeout`,
 *   `ENOBUFS` past `maxBuffer`, `AbortError` when `signal` aborts (the
 *   child is killed); `GreenletError` outside a spawned greenlet;
 *   before anything is spawned, `TypeError` for bad options (code
 *   `ERR_UNKNOWN_SIGNAL` for an unknown `killSignal`), naming the value.
 *   If the waiting greenlet is interrupted (a `Timeout`, `kill()`), the child
 *   is sent `killSignal`, and `SIGKILL` if it still runs 2 s later.
 * @example
 * ```js
 * const r = cp.run('git', ['rev-parse', 'HEAD'], { cwd: repo, timeout: 5000 });
 * if (r.status === 0) console.log(r.stdout.trim());
 * ```
 */
export function run(
  command: string,
  args?: readonly string[],
  options?: RunOptions & { encoding?: BufferEncoding },
): RunResult<string>;
export function run(
  command: string,
  args: readonly string[] | undefined,
  options: RunOptions & { encoding: 'buffer' },
): RunResult<Buffer>;
export function run(command: string, args?: readonly string[], options: RunOptions = {}): RunResult<string | Buffer> {
  assertMayBlock('child_process.run');
  const argv = checkArgs(command, args);
  checkOptions('options', options);
  const timeout = checkTimeout('timeout', options.timeout);
  const encoding = checkEncoding(options.encoding);
  const maxBuffer = options.maxBuffer ?? 64 * 1024 * 1024;
  if (typeof maxBuffer !== 'number' || Number.isNaN(maxBuffer) || maxBuffer < 0) {
    throw new TypeError(`maxBuffer must be a number of bytes >= 0, got ${describe(maxBuffer)}`);
  }
  const killSignal = checkSignal('killSignal', options.killSignal ?? 'SIGTERM');
  if (options.input !== undefined && typeof options.input !== 'string' && !(options.input instanceof Uint8Array)) {
    throw new TypeError(`input must be a string, Buffer or Uint8Array, got ${describe(options.input)}`);
  }
  const signal = checkAbortSignal('signal', options.signal);
  throwIfAborted(signal);
  const child = cp.spawn(command, argv, { env: options.env, cwd: options.cwd, shell: options.shell, stdio: 'pipe' });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  let outLength = 0;
  let errLength = 0;
  let failure: NodeJS.ErrnoException | null = null;
  const running = () => child.exitCode === null && child.signalCode === null;
  const kill = () => {
    if (running()) child.kill(killSignal);
  };
  // Interrupted (a Timeout, kill()): nobody waits for the child any more, so
  // make sure it ends even if it ignores killSignal.
  const abandon = () => {
    kill();
    if (!running()) return;
    const escalation = setTimer(() => {
      if (running()) child.kill('SIGKILL');
    }, KILL_GRACE_MS);
    child.once('exit', () => clearTimer(escalation));
  };
  child.stdout!.on('data', (chunk: Buffer) => {
    outLength += chunk.length;
    if (outLength > maxBuffer) overflow('stdout');
    else out.push(chunk);
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    errLength += chunk.length;
    if (errLength > maxBuffer) overflow('stderr');
    else err.push(chunk);
  });
  function overflow(name: string): void {
    if (failure === null) {
      failure = systemError('ENOBUFS', `spawnSync ${command}`, `(${name} over maxBuffer ${maxBuffer})`);
    }
    kill();
  }
  // A child that exits without reading its input makes the write fail with EPIPE: not our error.
  child.stdin!.on('error', () => {});
  child.stdin!.end(options.input);
  let timer: Timer | undefined;
  let exit: ExitStatus;
  try {
    exit = parkOnCallback<ExitStatus>(
      'child_process.run',
      (callback) => {
        child.once('error', (error) => callback(error));
        child.once('close', (status: number | null, signal: NodeJS.Signals | null) =>
          callback(null, { status, signal }),
        );
        if (timeout !== null) {
          timer = setTimer(() => {
            if (failure === null) {
              failure = systemError('ETIMEDOUT', `spawnSync ${command}`);
            }
            kill();
          }, timeout);
        }
      },
      { onCancel: abandon, signal },
    );
  } finally {
    clearTimer(timer);
  }
  const result: RunResult<string | Buffer> = {
    pid: child.pid ?? 0,
    status: exit.status,
    signal: exit.signal,
    stdout: decode(out, encoding),
    stderr: decode(err, encoding),
  };
  if (failure !== null) throw Object.assign(failure as NodeJS.ErrnoException, result);
  return result;
}

/** The error {@link execFile} and {@link exec} throw for a failed command. */
function commandFailed(display: string, result: RunResult<string | Buffer>): Error {
  const why = result.signal !== null ? `killed by ${result.signal}` : `exit status ${result.status}`;
  const stderr = result.stderr.toString();
  return Object.assign(new Error(`Command failed (${why}): ${display}${stderr ? `\n${stderr}` : ''}`), result);
}

/**
 * Runs a program (no shell) and returns its stdout, as `execFileSync` does.
 * @throws an Error with `status`, `signal`, `stdout` and `stderr` if the
 *   program exits non-zero or is killed; otherwise as {@link run}.
 * @example
 * ```js
 * const cp = require('greenloop/child_process');
 * // in a greenlet:
 * const version = cp.execFile('node', ['--version']).trim(); // e.g. 'v20.20.2'
 * ```
 */
export function execFile(
  file: string,
  args?: readonly string[],
  options?: RunOptions & { encoding?: BufferEncoding },
): string;
export function execFile(
  file: string,
  args: readonly string[] | undefined,
  options: RunOptions & { encoding: 'buffer' },
): Buffer;
export function execFile(file: string, args?: readonly string[], options: RunOptions = {}): string | Buffer {
  const result = run(file, args, options as RunOptions & { encoding: 'buffer' }) as RunResult<string | Buffer>;
  if (result.status !== 0) throw commandFailed([file, ...(args ?? [])].join(' '), result);
  return result.stdout;
}

/**
 * Runs a shell command line and returns its stdout, as `execSync` does.
 * @throws as {@link execFile}.
 * @example
 * ```js
 * const count = Number(cp.exec('ls | wc -l').trim());
 * ```
 */
export function exec(command: string, options?: RunOptions & { encoding?: BufferEncoding }): string;
export function exec(command: string, options: RunOptions & { encoding: 'buffer' }): Buffer;
export function exec(command: string, options: RunOptions = {}): string | Buffer {
  checkOptions('options', options);
  const result = run(command, [], { ...options, shell: options.shell ?? true } as RunOptions & {
    encoding: 'buffer';
  }) as RunResult<string | Buffer>;
  if (result.status !== 0) throw commandFailed(command, result);
  return result.stdout;
}

/**
 * A child's stdout or stderr, read in blocking style like a green socket.
 * @example
 * ```js
 * const cp = require('greenloop/child_process');
 * // in a greenlet:
 * const child = cp.spawn('ls', ['/']);
 * for (const line of child.stdout) console.log(line); // line by line, parking between chunks
 * child.wait();
 * ```
 */
export class ProcessOutput extends ReadingEnd implements Iterable<string> {
  // recv(), recvExactly(), readLine(), lines(), iteration and readAll(), with
  // their docs, come from ReadingEnd (lib/io/_stream.ts), shared with net.Socket.

  /** The underlying stream. */
  readonly raw: Readable;
  readonly #reader: StreamReader;

  /** @internal */
  constructor(raw: Readable) {
    const reader = new StreamReader(raw);
    super(reader);
    this.raw = raw;
    this.#reader = reader;
  }

  /** Per-operation timeout in ms (`null`: none); past it a read throws `ETIMEDOUT`. */
  setTimeout(ms: number | null): void {
    this.#reader.timeout = ms;
  }
}

/**
 * A child's stdin, written in blocking style.
 * @example
 * ```js
 * const cp = require('greenloop/child_process');
 * // in a greenlet:
 * const child = cp.spawn('wc', ['-l']);
 * for (let i = 0; i < 3; i++) child.stdin.sendall(`line ${i}\n`); // parks while the pipe is full
 * child.stdin.close();
 * console.log(child.stdout.readAll().toString().trim()); // 3
 * ```
 */
export class ProcessInput {
  /** The underlying stream. */
  readonly raw: Writable;
  readonly #writer: StreamWriter;

  /** @internal */
  constructor(raw: Writable) {
    this.raw = raw;
    this.#writer = new StreamWriter(raw);
  }

  /** Writes all of `data`, parking while the pipe's buffer is full. */
  sendall(data: string | Uint8Array): void {
    this.#writer.sendall(data, 'sendall');
  }

  /** Closes stdin after the queued data, so the child sees the end of its input. */
  close(): void {
    this.#writer.end();
  }
}

/**
 * A running child process from {@link spawn}.
 * @example
 * ```js
 * const p = cp.spawn('cat');
 * p.stdin.sendall('ping\n');
 * p.stdout.readLine(); // 'ping'
 * p.stdin.close();
 * p.wait();            // { status: 0, signal: null }
 * ```
 */
export class Process {
  /** The underlying `ChildProcess`. */
  readonly raw: cp.ChildProcess;
  /** The process id. */
  readonly pid: number;
  /** The child's stdin, or `null` if not piped. */
  readonly stdin: ProcessInput | null;
  /** The child's stdout, or `null` if not piped. */
  readonly stdout: ProcessOutput | null;
  /** The child's stderr, or `null` if not piped. */
  readonly stderr: ProcessOutput | null;
  #exit: ExitStatus | null = null;
  #waiters: Waiter<ExitStatus>[] = [];

  /** @internal Use {@link spawn}. */
  constructor(raw: cp.ChildProcess) {
    this.raw = raw;
    this.pid = raw.pid!;
    this.stdin = raw.stdin ? new ProcessInput(raw.stdin) : null;
    this.stdout = raw.stdout ? new ProcessOutput(raw.stdout) : null;
    this.stderr = raw.stderr ? new ProcessOutput(raw.stderr) : null;
    if (raw.exitCode !== null || raw.signalCode !== null) {
      this.#exit = { status: raw.exitCode, signal: raw.signalCode };
    }
    // Errors after the start (a failed kill) are reported by the calls that cause them.
    raw.on('error', () => {});
    raw.on('exit', (status: number | null, signal: NodeJS.Signals | null) => {
      this.#exit = { status, signal };
      for (const waiter of this.#waiters.splice(0)) waiter.switch(this.#exit);
    });
  }

  /**
   * Parks until the child exits and returns how. Does not wait for its
   * output to be read: read `stdout` first (or concurrently) if the child
   * writes more than a pipe holds.
   * @param options.timeout - ms; past it throws `ETIMEDOUT` (the child keeps running).
   * @param options.signal - aborting it interrupts the wait with Node's
   *   `AbortError` (the child keeps running).
   */
  wait(options: { timeout?: number | null; signal?: AbortSignal } = {}): ExitStatus {
    assertMayBlock('Process.wait');
    checkOptions('options', options);
    const timeout = checkTimeout('timeout', options.timeout);
    const signal = checkAbortSignal('options.signal', options.signal);
    if (this.#exit !== null) return this.#exit;
    return withSignal(signal, () => this.#wait(timeout));
  }

  #wait(timeout: number | null): ExitStatus {
    if (this.#exit !== null) return this.#exit;
    const waiter = new Waiter<ExitStatus>('Process.wait()');
    this.#waiters.push(waiter);
    const timer =
      timeout === null
        ? undefined
        : setTimer(() => {
            const at = this.#waiters.indexOf(waiter);
            if (at < 0) return;
            this.#waiters.splice(at, 1);
            waiter.throw(systemError('ETIMEDOUT', 'wait', `(pid ${this.pid})`));
          }, timeout);
    try {
      return waiter.get();
    } finally {
      clearTimer(timer);
      const at = this.#waiters.indexOf(waiter);
      if (at >= 0) this.#waiters.splice(at, 1);
    }
  }

  /** Sends a signal (default `SIGTERM`); false if it could not be sent. */
  kill(signal: NodeJS.Signals | number = 'SIGTERM'): boolean {
    return this.raw.kill(checkSignal('signal', signal));
  }

  /** How the child exited, or `null` while it runs. */
  get exitStatus(): ExitStatus | null {
    return this.#exit;
  }
}

/**
 * Starts `command` and returns it once it is running (parking until the
 * operating system has started it).
 * @throws `ENOENT`/`EACCES` if it cannot start.
 * @example
 * ```js
 * const cp = require('greenloop/child_process');
 * // in a greenlet:
 * const child = cp.spawn('tr', ['a-z', 'A-Z']);
 * child.stdin.sendall('hello\n');
 * child.stdin.close();
 * console.log(child.stdout.readLine()); // HELLO
 * console.log(child.wait());           // { status: 0, signal: null }
 * ```
 */
export function spawn(command: string, args?: readonly string[], options: SpawnOptions = {}): Process {
  assertMayBlock('child_process.spawn');
  const argv = checkArgs(command, args);
  checkOptions('options', options);
  const signal = checkAbortSignal('signal', options.signal);
  throwIfAborted(signal);
  const child = cp.spawn(command, argv, {
    env: options.env,
    cwd: options.cwd,
    shell: options.shell,
    stdio: options.stdio ?? 'pipe',
    signal,
  });
  // Wrap the pipes before anything can arrive on them.
  const proc = child.pid === undefined ? null : new Process(child);
  parkOnCallback<void>('child_process.spawn', (callback) => {
    child.once('spawn', () => callback(null));
    child.once('error', (error) => callback(error));
  });
  return proc ?? new Process(child);
}
