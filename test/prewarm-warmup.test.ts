import { describe, expect, it } from 'vitest';
import { fixtureSummary } from './helpers.js';

// prewarm() with the hub loaded also runs the spawn -> park -> wake -> finish
// path a few dozen times (lib/api/prewarm.ts), so that V8 has compiled it
// before a burst of greenlets that all park needs it (the speed-up is
// bench/spawn.js's "cold, prewarmed" row). Each case runs in a fresh process:
// the warm-up runs once per thread.
describe('prewarm warms the park path', () => {
  it('on the hub (top-level code) it starts in the call, ends in the next passes, once, and leaves no name behind', () => {
    const r = fixtureSummary<{ inCall: number; switches: number; again: number; names: string[] }>(
      'prewarm-warmup.js',
      { args: ['root'] },
    );
    expect(r.inCall).toBeGreaterThan(0);
    // 48 rounds of two greenlets that start, park, are woken and end.
    expect(r.switches).toBeGreaterThanOrEqual(48 * 4);
    expect(r.again).toBe(0);
    // Its greenlets are named: the user's keep their numbers.
    expect(r.names).toEqual(['Greenlet-1', 'Greenlet-2']);
  });

  it('called from a greenlet, at the next pass, without blocking the caller', () => {
    const r = fixtureSummary<{ inCall: number; switches: number; names: string[] }>('prewarm-warmup.js', {
      args: ['greenlet'],
    });
    expect(r.inCall).toBe(0);
    expect(r.switches).toBeGreaterThanOrEqual(48 * 4);
    expect(r.names).toEqual(['Greenlet-1', 'Greenlet-3']); // Greenlet-2 is the one that called it
  });
});
