import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';

/** The outcome of running a fixture script in a fresh Node process. */
export interface FixtureRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs test/fixtures/<name> with this Node binary (and this process's
 * environment unless `env` is given, so GREENLOOP_SWITCH carries over). Crash
 * cases run here so a crash fails one test instead of killing the runner.
 */
export function runFixture(
  name: string,
  nodeArgs: string[] = [],
  scriptArgs: string[] = [],
  timeoutMs = 120_000,
  env: NodeJS.ProcessEnv = process.env,
): FixtureRun {
  const result = spawnSync(process.execPath, [...nodeArgs, join(__dirname, 'fixtures', name), ...scriptArgs], {
    encoding: 'utf8',
    env,
    timeout: timeoutMs,
  });
  return { status: result.status, signal: result.signal, stdout: result.stdout, stderr: result.stderr };
}

/** The last line of stdout parsed as JSON (fixtures print their summary last). */
export function lastJson<T = any>(run: FixtureRun): T {
  const lines = run.stdout.trim().split('\n');
  try {
    return JSON.parse(lines[lines.length - 1]!) as T;
  } catch {
    throw new Error(
      `fixture printed no JSON summary (status ${run.status}, signal ${run.signal})\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`,
    );
  }
}

/**
 * Runs test/fixtures/<name> (see {@link runFixture}), expects it to exit with
 * status 0 and no signal (a failure shows its output), and returns the JSON
 * summary it printed last.
 */
export function fixtureSummary<T = any>(
  name: string,
  options: { flags?: string[]; args?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): T {
  const run = runFixture(name, options.flags, options.args, options.timeoutMs ?? 60_000, options.env);
  const diagnosis = `exit status ${run.status}, signal ${run.signal}\nstderr:\n${run.stderr}\nstdout:\n${run.stdout}`;
  expect(run.signal, diagnosis).toBeNull();
  expect(run.status, diagnosis).toBe(0);
  return lastJson<T>(run);
}

/**
 * The vitest timeout of a test that does many seconds of real work (thousands of owner threads,
 * stress GCs, benchmark children): on CI's busy 2-core machine, threads backend, such tests took
 * 40-110 s, past vitest's 60 s. A test that hangs still fails, only later.
 */
export const HEAVY_TEST_TIMEOUT_MS = 300_000;

/** The child-process limit of such a test: below the test's, so that a hang fails with the child's output. */
export const HEAVY_CHILD_TIMEOUT_MS = 240_000;

/**
 * Resolves once `done()` holds, polling every 5 ms; rejects after `ms` with
 * `what` and, as JSON, what `state()` returns then (e.g. the core's stats).
 */
export async function pollUntil(done: () => boolean, what: string, ms: number, state: () => unknown): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(state())}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
