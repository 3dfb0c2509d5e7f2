import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { lastJson, runFixture } from './helpers.js';

const fixture = join(__dirname, 'fixtures', 'thread-limit.js');

describe('thread and stack limits', () => {
  it('a stack the kernel refuses is a GreenletError with the errno, and greenlets start again after', () => {
    const run = runFixture('thread-limit.js', [], ['huge-stack']);
    expect(run.status, run.stderr).toBe(0);
    const s = lastJson(run);
    expect(s.isGreenletError).toBe(true);
    expect(s.code).toBe('GREENLOOP_ERR_GREENLET');
    expect(s.errno).toBeLessThan(0);
    expect(s.message).toMatch(/cannot start a greenlet: creating its thread failed/);
    expect(s.startsAgain).toBe('ok');
  });

  it('reaching the thread limit (ulimit -u) is a GreenletError, and finishing greenlets frees threads', () => {
    // RLIMIT_NPROC does not bind root, so the fixture runs as `nobody`.
    expect(process.getuid?.(), 'this test drops privileges and needs root').toBe(0);
    const run = spawnSync(
      'runuser',
      ['-u', 'nobody', '--', 'bash', '-c', `ulimit -u 40 && exec "${process.execPath}" "${fixture}" many`],
      { encoding: 'utf8', timeout: 60_000, env: process.env },
    );
    expect(run.status, run.stderr).toBe(0);
    const s = JSON.parse(run.stdout.trim().split('\n').pop()!);
    expect(s.parkedBeforeRefusal).toBeGreaterThan(0);
    expect(s.parkedBeforeRefusal).toBeLessThan(40);
    expect(s.isGreenletError).toBe(true);
    expect(s.errno).toBe(-11); // EAGAIN
    expect(s.message).toMatch(/ulimit -u/);
    expect(s.resumedAfterRefusal).toEqual([2, 2, 2, 2, 2]);
    expect(s.startsAgain).toBe('ok');
    expect(s.allFinished).toBe(true);
  });
});
