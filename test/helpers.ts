import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

/** The outcome of running a fixture script in a fresh Node process. */
export interface FixtureRun {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs test/fixtures/<name> with this Node binary (and this process's
 * environment, so GREENLOOP_SWITCH carries over). Crash cases run here so a
 * crash fails one test instead of killing the runner.
 */
export function runFixture(name: string, nodeArgs: string[] = [], scriptArgs: string[] = [], timeoutMs = 120_000): FixtureRun {
  const result = spawnSync(process.execPath, [...nodeArgs, join(__dirname, 'fixtures', name), ...scriptArgs], {
    encoding: 'utf8',
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
    throw new Error(`fixture printed no JSON summary (status ${run.status}, signal ${run.signal})\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
  }
}
