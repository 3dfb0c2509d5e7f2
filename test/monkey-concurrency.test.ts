import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureSummary, runFixture } from './helpers.js';

interface Timed {
  ms: number;
  results: unknown[];
  /** Each call's [start, end], in ms. */
  spans: [number, number][];
}

interface Comparison {
  n: number;
  patched: Timed;
  unpatched: Timed;
}

// Each workload waits 0.3 s per call; N = 4 greenlets. Patched they overlap,
// unpatched they queue (the unpatched run is measured in the same process as
// the baseline). Overlap is shown by every call starting before any ends, not by
// a bound on the total (children start slowly on a busy machine); queueing by a
// lower bound on the total, which no load can break.
const WAIT_MS = 300;

/** Whether every call started before any call ended (all were in flight at once). */
function allOverlap({ spans }: Timed): boolean {
  return Math.max(...spans.map(([start]) => start)) < Math.min(...spans.map(([, end]) => end));
}

describe('greenloop/monkey: unchanged sync code runs concurrently in greenlets', () => {
  it('N greenlets each execSync("sleep 0.3") run at once (unpatched, one after another)', () => {
    const r = fixtureSummary<Comparison>('monkey-concurrency.js', { args: ['execSync'] });
    expect(r.patched.results).toEqual(['', '', '', '']);
    expect(r.unpatched.ms).toBeGreaterThanOrEqual(r.n * WAIT_MS * 0.95);
    expect(allOverlap(r.patched), JSON.stringify(r.patched.spans)).toBe(true);
    expect(allOverlap(r.unpatched), JSON.stringify(r.unpatched.spans)).toBe(false);
  });

  it("shelljs's exec (execFileSync of a node child) runs concurrently", () => {
    const r = fixtureSummary<Comparison>('monkey-concurrency.js', { args: ['shelljs'] });
    expect(r.patched.results).toEqual(['done', 'done', 'done', 'done']);
    expect(r.unpatched.results).toEqual(r.patched.results);
    const wait = 1000; // shell.exec('sleep 1'): each call also starts a node process (CPU, not overlapped on 2 cores)
    expect(r.unpatched.ms).toBeGreaterThanOrEqual(r.n * wait * 0.95);
    expect(allOverlap(r.patched), JSON.stringify(r.patched.spans)).toBe(true);
  });

  it("fs-extra's readJsonSync of FIFOs whose writers answer after 0.3 s runs concurrently", () => {
    const r = fixtureSummary<Comparison>('monkey-concurrency.js', { args: ['fs-extra'] });
    expect(r.patched.results).toEqual([0, 1, 2, 3]);
    expect(r.unpatched.results).toEqual([0, 1, 2, 3]);
    expect(r.unpatched.ms).toBeGreaterThanOrEqual(r.n * WAIT_MS * 0.95);
    expect(allOverlap(r.patched), JSON.stringify(r.patched.spans)).toBe(true);
  });

  it('scryptSync, pbkdf2Sync, gzipSync and gunzipSync let other greenlets run while they work', () => {
    const r = fixtureSummary<{ patched: number; unpatched: number }>('monkey-concurrency.js', {
      args: ['crypto-zlib'],
    });
    expect(r.unpatched).toBe(0); // the originals block every greenlet
    expect(r.patched).toBeGreaterThanOrEqual(3);
  });

  it('a sync reader and a sync writer of one FIFO in two greenlets both complete', () => {
    expect(fixtureSummary('monkey-concurrency.js', { args: ['fifo'] })).toEqual({
      read: 'through the fifo',
      writerDone: true,
    });
  });

  it('unpatched, the same FIFO reader and writer deadlock (as plain Node does)', () => {
    const run = runFixture('monkey-concurrency.js', [], ['fifo', 'unpatched'], 3000);
    expect(run.signal).toBe('SIGTERM');
    expect(run.stdout).toBe('');
  });

  it("console.log to a file keeps each greenlet's lines in call order", () => {
    const dir = mkdtempSync(join(tmpdir(), 'greenloop-stdout-'));
    try {
      const file = join(dir, 'out.txt');
      const fd = openSync(file, 'w');
      const run = spawnSync(process.execPath, [join(__dirname, 'fixtures', 'monkey-concurrency.js'), 'stdout'], {
        stdio: ['ignore', fd, 'pipe'],
        encoding: 'utf8',
      });
      closeSync(fd);
      expect(run.status, run.stderr).toBe(0);
      const { order, stdoutIsFile } = JSON.parse(run.stderr.trim().split('\n').at(-1)!);
      expect(stdoutIsFile).toBe(true);
      expect(order).toHaveLength(100);
      expect(order.slice(0, 4)).toEqual(['a0', 'b0', 'a1', 'b1']); // the greenlets did interleave
      expect(readFileSync(file, 'utf8').trim().split('\n')).toEqual(order);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a readSync(0) on a pipe interrupted by a Timeout stops waiting (the process can exit)', async () => {
    const fixture = join(__dirname, 'fixtures', 'monkey-concurrency.js');
    const child = spawn('sh', ['-c', 'cat | "$0" "$1" stdin-timeout', process.execPath, fixture], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let stdout = '';
    const exited = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 20_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
        if (stdout.includes('"exited"')) {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
    child.stdin.end(); // stdin stayed open (no data, no EOF) until now
    await new Promise((resolve) => child.on('close', resolve));
    expect(exited, stdout).toBe(true);
    expect(stdout).toContain('{"interrupted":"TimeoutError"}');
  });

  it('greenlets waiting in readSync(0) on a pipe do not hold the thread pool', async () => {
    // `cat |` gives the fixture a real pipe as stdin (Node's own stdio pipes are socket pairs).
    const fixture = join(__dirname, 'fixtures', 'monkey-concurrency.js');
    const child = spawn('sh', ['-c', 'cat | "$0" "$1" stdin', process.execPath, fixture], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let stdout = '';
    const lines: string[] = [];
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no output in time: ${stdout}`)), 30_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk;
        lines.splice(0, lines.length, ...stdout.trim().split('\n'));
        if (stdout.includes('regularReadsDone')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // Only now does stdin get data: the regular reads finished while 4 readers waited.
    child.stdin.end('hello-stdin\n');
    expect(await done).toBe(0);
    expect(JSON.parse(lines.at(-1)!)).toEqual({ read: 'hello-stdin\n' });
  });
});
