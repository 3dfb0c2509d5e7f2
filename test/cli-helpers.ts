import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll } from 'vitest';

/** The package root (what `require('greenloop')` resolves to in a project made here). */
export const packageRoot = join(__dirname, '..');
/** The built `greenloop` bin. */
export const cliPath = join(packageRoot, 'dist', 'cjs', 'cli.js');

/** The outcome of one child process. */
export interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const made: string[] = [];
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/**
 * A temp directory holding `files` (path -> content) and node_modules/greenloop
 * linked to this package, so scripts there `require('greenloop')` and
 * `node -r greenloop/run` resolves. Removed after the test file.
 */
export function makeProject(files: Record<string, string>): string {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'greenloop-cli-')));
  made.push(dir);
  mkdirSync(join(dir, 'node_modules'));
  symlinkSync(packageRoot, join(dir, 'node_modules', 'greenloop'), 'dir');
  // What npm links for the package's bin, so `npx greenloop` finds it here.
  mkdirSync(join(dir, 'node_modules', '.bin'));
  symlinkSync(cliPath, join(dir, 'node_modules', '.bin', 'greenloop'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

/** Options of {@link runNode}. */
export interface RunOptions {
  /** Added to this process's environment (so GREENLOOP_SWITCH carries over). */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

/**
 * Runs `command ...args` in `dir`, with this process's environment plus
 * `options.env`, minus the test runner's NODE_OPTIONS, and this Node first on
 * PATH (for shebangs and npx).
 */
export function runCommand(dir: string, command: string, args: string[], options: RunOptions = {}): Run {
  const env = { ...process.env, ...options.env };
  // The test runner's own preloads and options are not the script's.
  if (options.env?.NODE_OPTIONS === undefined) delete env.NODE_OPTIONS;
  env.PATH = `${dirname(process.execPath)}:${env.PATH ?? ''}`;
  const result = spawnSync(command, args, { cwd: dir, encoding: 'utf8', env, timeout: options.timeoutMs ?? 60_000 });
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout ?? '',
    stderr: result.stderr ?? String(result.error ?? ''),
  };
}

/** Runs this Node binary with `args` in `dir` (see {@link runCommand}). */
export function runNode(dir: string, args: string[], options: RunOptions = {}): Run {
  return runCommand(dir, process.execPath, args, options);
}

/** Runs `greenloop ...args` (the built bin, with this Node) in `dir`. */
export function runCli(dir: string, args: string[], options: RunOptions = {}): Run {
  return runNode(dir, [cliPath, ...args], options);
}

/** Shows a run in an assertion message. */
export function describeRun(run: Run): string {
  return `exit status ${run.status}, signal ${run.signal}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
}

/** The last stdout line of a run that exited 0, parsed as JSON. */
export function summary<T = any>(run: Run): T {
  if (run.status !== 0 || run.signal !== null) throw new Error(`expected exit status 0\n${describeRun(run)}`);
  const lines = run.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]!) as T;
  } catch {
    throw new Error(`no JSON summary printed last\n${describeRun(run)}`);
  }
}
