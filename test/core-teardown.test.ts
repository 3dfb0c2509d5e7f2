import { describe, expect, it } from 'vitest';
import { HEAVY_CHILD_TIMEOUT_MS, HEAVY_TEST_TIMEOUT_MS, lastJson, runFixture } from './helpers.js';

describe('Workers', { timeout: HEAVY_TEST_TIMEOUT_MS }, () => {
  it('each Worker has its own root and greenlets, and ending one with 1,000 parked greenlets leaks no thread', () => {
    const run = runFixture('worker-teardown.js', [], ['1000'], HEAVY_CHILD_TIMEOUT_MS);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const summary = lastJson(run);
    expect(summary.results.map((r: any) => r.mode)).toEqual([
      'natural',
      'exit-in-greenlet',
      'terminate-idle',
      'terminate-busy',
    ]);
    for (const r of summary.results) {
      expect(r.pingPong, r.mode).toBe(1000);
      expect(r.live, r.mode).toBe(1000);
      // Every owner thread of the Worker's parked greenlets has ended.
      expect(r.threadsAfter, JSON.stringify(r)).toBe(summary.baseline);
    }
    expect(summary.results.map((r: any) => r.code)).toEqual([0, 0, 1, 1]);
    expect(summary.both.map((r: any) => r.pingPong)).toEqual([1000, 1000]);
    expect(summary.threadsAtEnd).toBe(summary.baseline);
  });
});

describe('memory of Workers that end with parked greenlets', { timeout: HEAVY_TEST_TIMEOUT_MS }, () => {
  // A parked greenlet's V8 thread state (handle blocks) used to stay behind:
  // ~5.9 KiB per parked greenlet (user-space backend), ~7.5 KiB (threads).
  const rounds = 16;
  const parked = 1000;
  for (const mode of ['terminate', 'natural']) {
    it(`${rounds} Workers, each ending with ${parked} parked greenlets (${mode}), leave resident memory flat`, () => {
      const run = runFixture(
        'worker-memory.js',
        ['--expose-gc'],
        [String(rounds), String(parked), mode],
        HEAVY_CHILD_TIMEOUT_MS,
      );
      expect(run.signal, run.stderr).toBeNull();
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).not.toMatch(/block ran/);
      const { samples, threads } = lastJson(run);
      expect(samples).toHaveLength(rounds);
      // The first rounds warm up allocator arenas and V8's caches; after them
      // each round must add far less than one parked greenlet's thread state.
      const warm = 4;
      const perRoundKiB = (samples[rounds - 1] - samples[warm]) / (rounds - 1 - warm);
      expect(perRoundKiB / parked, `KiB per parked greenlet per Worker; RSS KiB ${samples.join(' ')}`).toBeLessThan(
        1.5,
      );
      expect(threads).toBeLessThan(20);
    });
  }
});

describe('process exit with parked greenlets', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['natural', 0, /timer ran\nexit handler ran with 0/],
    ['exit-in-greenlet', 3, /exit handler ran with 3/],
    ['exit-in-nested-greenlet', 4, /exit handler ran with 4/],
    ['exit-on-root', 5, /exit handler ran with 5/],
    ['throw-in-greenlet', 1, /exit handler ran with 1/],
  ];
  for (const [mode, code, output] of cases) {
    it(`ends cleanly with 1,000 parked greenlets: ${mode}`, () => {
      const run = runFixture('process-exit.js', [], [mode]);
      expect(run.signal, run.stderr).toBeNull();
      expect(run.status, run.stderr).toBe(code);
      expect(run.stdout).toMatch(/^parked 1000\n/);
      expect(run.stdout).toMatch(output);
      expect(run.stdout).not.toMatch(/not reached/);
    });
  }

  it('an error thrown in a greenlet reaches the root with its original stack', () => {
    const run = runFixture('process-exit.js', [], ['throw-in-greenlet']);
    expect(run.stderr).toMatch(/Error: boom from a greenlet\n\s+at .*process-exit\.js/);
  });
});
