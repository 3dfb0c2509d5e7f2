/**
 * Patched `node:child_process` sync functions: `spawnSync`, `execSync` and
 * `execFileSync` rebuilt on the async `spawn()`, giving the result object and
 * errors the originals give.
 *
 * Rebuilt rather than run elsewhere because an interrupted call (`kill()`,
 * a `Timeout`, `process.exit()`) must be able to kill its child: the child
 * is killed with SIGKILL when the park is interrupted, and every child still
 * running when the process exits is killed at `'exit'`.
 *
 * Whatever the rebuild does not cover with certainty runs the original
 * (blocking, exact): invalid options (so Node throws its own validation
 * error), `stdio` entries other than `'pipe'`/`'inherit'`/`'ignore'`/an fd,
 * and a spawn that fails (ENOENT, EACCES), whose result the original gives
 * at once.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import cp from 'node:child_process';
import { constants as osConstants } from 'node:os';
import { parkOn, replacement } from './_emulate.js';
import { callOriginal, withCallerStack } from './rule.js';

type AnyFunction = (...args: any[]) => any;
type Output = Buffer | string | null;

/** spawnSync's own default for maxBuffer. */
const MAX_BUFFER = 1024 * 1024;
/** Returned by {@link runChild} when the original must run instead. */
const ORIGINAL: unique symbol = Symbol('greenloop.original');

/** What spawnSync returns. */
interface SpawnSyncResult {
  error?: NodeJS.ErrnoException;
  status: number | null;
  signal: NodeJS.Signals | null;
  output: Output[] | null;
  pid: number;
  stdout?: Output;
  stderr?: Output;
}

/** A spawnSync call the rebuild handles: checked arguments. */
interface Plan {
  file: string;
  args: string[];
  spawnOptions: cp.SpawnOptions;
  stdio: Array<'pipe' | 'inherit' | 'ignore' | number>;
  input: string | NodeJS.ArrayBufferView | undefined;
  timeout: number;
  maxBuffer: number;
  killSignal: NodeJS.Signals | number;
  encoding: BufferEncoding | null;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

function normalStdio(stdio: unknown): Plan['stdio'] | null {
  const one = (v: unknown): 'pipe' | 'inherit' | 'ignore' | number | null => {
    if (v === undefined || v === null || v === 'pipe') return 'pipe';
    if (v === 'inherit' || v === 'ignore') return v;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
    return null;
  };
  if (stdio === undefined || typeof stdio === 'string') {
    const kind = one(stdio);
    return kind === null ? null : [kind, kind, kind];
  }
  if (!Array.isArray(stdio)) return null;
  const out: Plan['stdio'] = [];
  for (let i = 0; i < Math.max(3, stdio.length); i++) {
    const kind = one(stdio[i]);
    if (kind === null) return null;
    out.push(kind);
  }
  return out;
}

/**
 * The checked form of `spawnSync(file, args?, options?)`, or null when the
 * original must run (invalid or unusual arguments).
 */
function plan(file: unknown, args: unknown, options: unknown, defaultShell?: boolean | string): Plan | null {
  if (typeof file !== 'string') return null;
  let argv: unknown[];
  if (Array.isArray(args)) argv = args;
  else if (args === undefined || args === null) argv = [];
  else if (isPlainObject(args)) {
    options = args;
    argv = [];
  } else return null;
  if (!argv.every((a) => typeof a === 'string')) return null;
  if (options === undefined) options = {};
  if (!isPlainObject(options)) return null;
  const o: Record<string, unknown> = { ...options };
  const stdio = normalStdio(o.stdio);
  if (stdio === null) return null;
  const input = o.input;
  if (input) {
    if (typeof input !== 'string' && !ArrayBuffer.isView(input)) return null;
    if (stdio[0] !== 'pipe') return null;
  }
  const timeout = o.timeout;
  if (timeout !== undefined && timeout !== null && !(Number.isInteger(timeout) && (timeout as number) >= 0))
    return null;
  // As spawnSync's `{ maxBuffer: MAX_BUFFER, ...options }`: an explicit undefined means no limit.
  const maxBuffer = 'maxBuffer' in o ? o.maxBuffer : MAX_BUFFER;
  if (maxBuffer !== null && maxBuffer !== undefined && !(typeof maxBuffer === 'number' && maxBuffer >= 0)) return null;
  const killSignal = o.killSignal ?? 'SIGTERM';
  if (typeof killSignal === 'string') {
    if (!(killSignal in osConstants.signals)) return null;
  } else if (!(typeof killSignal === 'number' && Number.isInteger(killSignal))) return null;
  const encoding = o.encoding;
  if (encoding !== undefined && encoding !== null && encoding !== 'buffer') {
    if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) return null;
  }
  if (o.signal !== undefined) return null; // spawnSync takes no AbortSignal: let Node say what it does
  const spawnOptions: cp.SpawnOptions = {};
  for (const key of Object.keys(o)) {
    if (!['input', 'timeout', 'maxBuffer', 'killSignal', 'encoding', 'stdio', 'signal'].includes(key)) {
      (spawnOptions as Record<string, unknown>)[key] = o[key];
    }
  }
  if (defaultShell !== undefined) spawnOptions.shell = defaultShell;
  spawnOptions.stdio = stdio;
  return {
    file,
    args: argv as string[],
    spawnOptions,
    stdio,
    input: input ? (input as string | NodeJS.ArrayBufferView) : undefined,
    timeout: (timeout as number | null | undefined) ?? 0,
    maxBuffer: (maxBuffer as number | null | undefined) ?? 0,
    killSignal: killSignal as NodeJS.Signals | number,
    encoding: encoding && encoding !== 'buffer' ? (encoding as BufferEncoding) : null,
  };
}

/** Children started by patched calls and not yet exited: killed if the process exits first. */
const running = new Set<cp.ChildProcess>();
let exitHookInstalled = false;
function killRunning(): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** Node's `ErrnoException` for a spawnSync failure (`spawnSync sh ETIMEDOUT`). */
function spawnSyncError(code: 'ETIMEDOUT' | 'ENOBUFS', child: cp.ChildProcess): NodeJS.ErrnoException {
  const syscall = `spawnSync ${child.spawnfile}`;
  const error = new Error(`${syscall} ${code}`) as NodeJS.ErrnoException & { spawnargs?: string[] };
  error.errno = -osConstants.errno[code];
  error.code = code;
  error.syscall = syscall;
  error.path = child.spawnfile;
  error.spawnargs = child.spawnargs.slice(1);
  return error;
}

/**
 * Runs the planned child and parks until it has exited and its pipes are
 * closed; returns spawnSync's result, or {@link ORIGINAL} if it could not
 * start (the original then gives its exact failure).
 */
function runChild(
  patched: Function,
  original: AnyFunction,
  self: unknown,
  args: IArguments,
  p: Plan,
  label: string,
): SpawnSyncResult | typeof ORIGINAL {
  let child: cp.ChildProcess | undefined;
  const stop = (): void => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  return parkOn(
    patched,
    original,
    self,
    args,
    label,
    (done) => {
      const c = (child = cp.spawn(p.file, p.args, p.spawnOptions));
      const output: Array<Buffer[] | null> = p.stdio.map((kind, i) => (i > 0 && kind === 'pipe' ? [] : null));
      let buffered = 0;
      let failure: NodeJS.ErrnoException | undefined;
      let timer: NodeJS.Timeout | undefined;
      const fail = (code: 'ETIMEDOUT' | 'ENOBUFS'): void => {
        failure ??= spawnSyncError(code, c);
        if (c.exitCode === null && c.signalCode === null) c.kill(p.killSignal);
        for (let i = 1; i < c.stdio.length; i++) c.stdio[i]?.destroy();
        if (timer !== undefined) clearTimeout(timer);
      };
      c.once('error', (error) => {
        if (c.pid === undefined) {
          done(null, ORIGINAL);
          return;
        }
        failure ??= error as NodeJS.ErrnoException;
      });
      c.once('spawn', () => {
        running.add(c);
        if (!exitHookInstalled) {
          exitHookInstalled = true;
          process.on('exit', killRunning);
        }
        if (p.timeout > 0) timer = setTimeout(fail, p.timeout, 'ETIMEDOUT');
      });
      for (let i = 1; i < c.stdio.length; i++) {
        const stream = c.stdio[i];
        const chunks = output[i];
        if (!stream || !chunks) continue;
        stream.on('data', (chunk: Buffer) => {
          chunks.push(chunk);
          buffered += chunk.length;
          if (p.maxBuffer > 0 && buffered > p.maxBuffer) fail('ENOBUFS');
        });
        stream.on('error', () => {}); // destroyed on purpose by fail()
      }
      const stdin = c.stdio[0];
      if (stdin) {
        stdin.on('error', () => {}); // EPIPE from a child that exits without reading: spawnSync ignores it too
        const input = p.input;
        if (input === undefined) stdin.end();
        else
          stdin.end(typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength));
      }
      c.once('close', (status: number | null, signal: NodeJS.Signals | null) => {
        running.delete(c);
        if (timer !== undefined) clearTimeout(timer);
        if (c.pid === undefined) return;
        const out: Output[] = output.map((chunks) => {
          if (chunks === null) return null;
          const all = Buffer.concat(chunks);
          return p.encoding === null ? all : all.toString(p.encoding);
        });
        const result = (failure ? { error: failure } : {}) as SpawnSyncResult;
        result.status = status;
        result.signal = signal;
        result.output = out;
        result.pid = c.pid;
        result.stdout = out[1];
        result.stderr = out[2];
        done(null, result);
      });
    },
    { interrupted: stop },
  );
}

/** Node's checkExecSyncError: the error execSync/execFileSync throw for `ret`, if any. */
function execSyncError(ret: SpawnSyncResult, args: string[] | undefined, command?: string): Error | undefined {
  if (ret.error) return Object.assign(ret.error, ret);
  if (ret.status !== 0) {
    let message = `Command failed: ${command || args!.join(' ')}`;
    if (ret.stderr && ret.stderr.length > 0) message += `\n${ret.stderr.toString()}`;
    return Object.assign(new Error(message), ret);
  }
  return undefined;
}

function spawnSync(): AnyFunction {
  const original = cp.spawnSync as AnyFunction;
  return replacement('child_process', original, (patched, self, args) => {
    const p = plan(args[0], args[1], args[2]);
    if (p === null) return callOriginal(original, self, args);
    const result = runChild(patched, original, self, args, p, 'child_process.spawnSync()');
    if (result === ORIGINAL) return callOriginal(original, self, args);
    if (result.error) withCallerStack(result.error, patched);
    return result;
  });
}

/** `command` cut to about 60 characters, for the label dumps show. */
function shorten(command: string): string {
  return command.length <= 60 ? command : `${command.slice(0, 59)}…`;
}

function execSync(): AnyFunction {
  const original = cp.execSync as AnyFunction;
  return replacement('child_process', original, (patched, self, args) => {
    const command = args[0];
    let options = args[1];
    if (typeof command !== 'string' || command.includes('\0')) return callOriginal(original, self, args);
    if (typeof options === 'function') options = undefined;
    if (options !== undefined && options !== null && typeof options !== 'object')
      return callOriginal(original, self, args);
    const copy = { ...(options as object | null | undefined) } as Record<string, unknown>;
    const p = plan(command, copy, undefined, typeof copy.shell === 'string' ? copy.shell : true);
    if (p === null) return callOriginal(original, self, args);
    const ret = runChild(patched, original, self, args, p, `execSync(${JSON.stringify(shorten(command))})`);
    if (ret === ORIGINAL) return callOriginal(original, self, args);
    if (!copy.stdio && ret.stderr) process.stderr.write(ret.stderr);
    const error = execSyncError(ret, undefined, command);
    if (error) throw withCallerStack(error, patched);
    return ret.stdout;
  });
}

function execFileSync(): AnyFunction {
  const original = cp.execFileSync as AnyFunction;
  return replacement('child_process', original, (patched, self, args) => {
    const file = args[0];
    let list = args[1];
    let options = args[2];
    if (Array.isArray(list)) list = list.slice();
    else if (list !== undefined && list !== null && typeof list === 'object') {
      options = list;
      list = [];
    } else if (list === undefined || list === null) list = [];
    else return callOriginal(original, self, args);
    if (options === undefined || options === null) options = {};
    else if (!isPlainObject(options)) return callOriginal(original, self, args);
    const o = options as Record<string, unknown>;
    if (o.argv0 !== undefined && o.argv0 !== null && (typeof o.argv0 !== 'string' || o.argv0.includes('\0'))) {
      return callOriginal(original, self, args);
    }
    const p = plan(file, list, { ...o });
    if (p === null) return callOriginal(original, self, args);
    const ret = runChild(patched, original, self, args, p, 'child_process.execFileSync()');
    if (ret === ORIGINAL) return callOriginal(original, self, args);
    if (!o.stdio && ret.stderr) process.stderr.write(ret.stderr);
    const error = execSyncError(ret, [(o.argv0 as string) || (file as string), ...(list as string[])]);
    if (error) throw withCallerStack(error, patched);
    return ret.stdout;
  });
}

/** The replacements for `node:child_process`, by name. */
export function childProcessReplacements(): Record<string, AnyFunction> {
  return { spawnSync: spawnSync(), execSync: execSync(), execFileSync: execFileSync() };
}
