import { describe, expect, it } from 'vitest';
import { HEAVY_CHILD_TIMEOUT_MS, fixtureSummary } from './helpers.js';

describe('owner thread stacks', () => {
  it('greenlets that fill their stack to the limit leave their owner able to serve the next one and to end', () => {
    const summary = fixtureSummary('owner-stack-reuse.js', { timeoutMs: HEAVY_CHILD_TIMEOUT_MS });
    expect(summary).toEqual({ rounds: 60, ok: true, reused: 1, idle: 0, live: 0 });
  });

  it("a switch runs V8's restore of the resumed greenlet off that greenlet's stack: nothing below its park point is touched", () => {
    // V8's ~Unlocker (the thread-state restore, whose debugger walk of the
    // resumed stack is a dozen C++ frames) used to run on the resumed
    // greenlet's stack below its park point: each first resume faulted in a
    // page there, and every resume wrote cache lines that were cold (1.0 page
    // fault per resume here after the pages were given back, 2.2 per
    // greenlet woken in bench/spawn.js). JIT tiers are held still, so that
    // the park point itself does not move between passes.
    const r = fixtureSummary<{ backend: string; released: number; faultsPerResume: number[] }>('resume-stack-use.js', {
      flags: ['--no-opt', '--no-sparkplug'],
      args: ['500', '4'],
    });
    if (r.backend !== 'user-space') {
      // Under the threads backend a parked stack is its own thread's, which
      // the core does not give back (docs/greenlet.md).
      expect(r.released).toBe(0);
      return;
    }
    expect(r.released).toBeGreaterThan(0);
    for (const perResume of r.faultsPerResume.slice(1)) expect(perResume).toBeLessThan(0.25);
  });
});
