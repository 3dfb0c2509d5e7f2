import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lastJson, runFixture } from './helpers.js';

const repo = join(__dirname, '..');

describe('stack limits', () => {
  for (const mode of ['huge-stack', 'huge-default-stack']) {
    it(`a stack the kernel cannot map is a GreenletError naming its size, and greenlets start again after: ${mode}`, () => {
      const run = runFixture('thread-limit.js', [], [mode]);
      expect(run.status, run.stderr).toBe(0);
      const s = lastJson(run);
      expect(s.isGreenletError).toBe(true);
      expect(s.code).toBe('GREENLOOP_ERR_GREENLET');
      expect(s.errno).toBe(-12); // ENOMEM
      expect(s.message).toMatch(
        /its stack of \d+ bytes \(stackSize 549755813888 plus 128 KiB for native code\) could not be reserved \(mmap/,
      );
      expect(s.message).not.toMatch(/ulimit -u/);
      expect(s.startsAgain).toBe('ok');
    });
  }

  it('a finishing greenlet whose unstarted parent cannot start resumes the root with a GreenletError', () => {
    const run = runFixture('greenlet-parent-start-refused.js');
    expect(run.status, run.stderr).toBe(0);
    const s = lastJson(run);
    expect(s.isGreenletError).toBe(true);
    expect(s.message).toBe('cannot start the parent greenlet of a finished greenlet: Cannot allocate memory');
    expect(s.returned).toBeUndefined();
    expect(s.childDead).toBe(true);
    expect(s.parentStarted).toBe(false);
    expect(s.currentIsRoot).toBe(true);
    expect(s.startsAgain).toBe('ok');
  });
});

/** Tasks (threads) whose real user id is `uid`: what RLIMIT_NPROC counts. */
function tasksOf(uid: number): number {
  let count = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let status: string;
    try {
      status = readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      continue; // ended meanwhile
    }
    const realUid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    if (realUid === uid) count += Number(/^Threads:\s+(\d+)/m.exec(status)?.[1] ?? 1);
  }
  return count;
}

function uidOf(user: string): number {
  return Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
}

function readableBy(user: string, path: string, test = '-r'): boolean {
  return spawnSync('runuser', ['-u', user, '--', 'test', test, path]).status === 0;
}

const copies: string[] = [];
afterAll(() => {
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

/**
 * RLIMIT_NPROC does not bind root, so root runs the fixture as `nobody`; a
 * checkout may sit where `nobody` cannot read (root's mode-700 home), so the
 * fixture, dist/ and the built addon (and Node itself if need be) are copied to
 * a fresh directory everyone can read. Returns [node, fixture].
 */
function copyForNobody(): [string, string] {
  const dir = mkdtempSync(join(tmpdir(), 'greenloop-limits-'));
  copies.push(dir);
  chmodSync(dir, 0o755);
  cpSync(join(repo, 'dist'), join(dir, 'dist'), { recursive: true });
  mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
  copyFileSync(
    join(repo, 'build', 'Release', 'greenloop_core.node'),
    join(dir, 'build', 'Release', 'greenloop_core.node'),
  );
  mkdirSync(join(dir, 'test', 'fixtures'), { recursive: true });
  copyFileSync(join(__dirname, 'fixtures', 'thread-limit.js'), join(dir, 'test', 'fixtures', 'thread-limit.js'));
  spawnSync('chmod', ['-R', 'a+rX', dir]);
  let node = process.execPath;
  if (!readableBy('nobody', node, '-x')) {
    node = join(dir, 'node');
    copyFileSync(process.execPath, node);
    chmodSync(node, 0o755);
  }
  if (!readableBy('nobody', join(dir, 'test', 'fixtures', 'thread-limit.js'))) {
    throw new Error(`${dir} is not readable by nobody (is ${tmpdir()} private?); set TMPDIR to a public directory`);
  }
  return [node, join(dir, 'test', 'fixtures', 'thread-limit.js')];
}

describe('thread limits', () => {
  const headroom = 40;

  /**
   * Runs the 'many' fixture under `ulimit -u` = the tasks its user already has
   * + 40. As root that user is `nobody` (RLIMIT_NPROC does not bind root); as
   * anyone else it is the user itself, who may lower its own limit. The count
   * includes every other process of the user, so one that starts threads
   * meanwhile (another test file's fixture) takes from the headroom: such a run
   * is recognised (fewer than 5 greenlets parked) and tried again.
   */
  function runUnderLowLimit() {
    const asRoot = process.getuid?.() === 0;
    const [node, fixture] = asRoot
      ? copyForNobody()
      : [process.execPath, join(__dirname, 'fixtures', 'thread-limit.js')];
    const uid = asRoot ? uidOf('nobody') : process.getuid!();
    let last: { limit: number; s: any; run: ReturnType<typeof spawnSync> } | undefined;
    for (let attempt = 0; attempt < 5; attempt++) {
      const limit = tasksOf(uid) + headroom;
      const script = `ulimit -u ${limit} && exec "$0" "$1" many`;
      const command = asRoot
        ? ['runuser', '-u', 'nobody', '--', 'bash', '-c', script, node, fixture]
        : ['bash', '-c', script, node, fixture];
      const run = spawnSync(command[0]!, command.slice(1), {
        encoding: 'utf8',
        timeout: 60_000,
        env: process.env,
        cwd: tmpdir(),
      });
      expect(run.status, `${run.stderr}`).toBe(0);
      const s = JSON.parse(String(run.stdout).trim().split('\n').pop()!);
      last = { limit, s, run };
      if (s.parkedBeforeRefusal >= 5) break;
    }
    return last!;
  }

  it('reaching the thread limit (ulimit -u) is a GreenletError, and finishing greenlets frees threads', () => {
    const { s } = runUnderLowLimit();
    expect(s.parkedBeforeRefusal).toBeGreaterThanOrEqual(5);
    expect(s.parkedBeforeRefusal).toBeLessThan(headroom);
    expect(s.isGreenletError).toBe(true);
    expect(s.errno).toBe(-11); // EAGAIN
    expect(s.message).toMatch(/creating its thread failed.*ulimit -u/);
    expect(s.resumedAfterRefusal).toEqual([2, 2, 2, 2, 2]);
    expect(s.startsAgain).toBe('ok');
    expect(s.cycleRefusal).toBeUndefined();
    expect(s.cycles).toBe(20);
    expect(s.startsAfterEachFinish).toBe(20);
    expect(s.allFinished).toBe(true);
  });
});
