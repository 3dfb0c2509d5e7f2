import { describe, expect, it } from 'vitest';
import { fixtureSummary } from './helpers.js';

// prewarm() with the hub loaded also runs greenlets (lib/api/prewarm.ts): the
// spawn -> park -> wake -> finish path 2,000 times once per thread, so that V8
// has optimised it before a burst of greenlets that all park needs it, and then
// one greenlet on each thread the call prepared (the speed-up is
// bench/spawn.js's "cold, prewarmed" row; its page faults are
// test/prewarm-burst.test.ts). Each case runs in a fresh process.
interface Seen {
  inCall: number;
  switches: number;
  liveAtFirst: number;
  again: number;
  liveAtSecond: number;
  names: string[];
  backend: string;
}

// 40 rounds of 50 greenlets that each switch in at least twice (start, wake).
const PARK_PATH_SWITCHES = 40 * 50 * 2;

/** A second call runs a greenlet on each of its 4 threads (not under the threads backend), and no park-path rounds. */
function expectOnlyThreadsRun(r: Seen): void {
  expect(r.again).toBeGreaterThanOrEqual(r.backend === 'user-space' ? 4 * 2 : 1);
  expect(r.again).toBeLessThan(100);
}

describe('prewarm warms the park path and every thread', () => {
  it('on the hub (top-level code) it starts in the call, settles when done, warms the path once, and leaves no name behind', () => {
    const r = fixtureSummary<Seen>('prewarm-warmup.js', { args: ['root'] });
    expect(r.inCall).toBeGreaterThan(0);
    expect(r.switches).toBeGreaterThanOrEqual(PARK_PATH_SWITCHES);
    // Settled: none of its greenlets is left.
    expect(r.liveAtFirst).toBe(0);
    expect(r.liveAtSecond).toBe(0);
    expectOnlyThreadsRun(r);
    // Its greenlets are named: the user's keep their numbers.
    expect(r.names).toEqual(['Greenlet-1', 'Greenlet-2']);
  });

  it('called from a greenlet, at the next pass, without blocking the caller; wait() on its promise blocks until done', () => {
    const r = fixtureSummary<Seen>('prewarm-warmup.js', { args: ['greenlet'] });
    expect(r.inCall).toBe(0);
    expect(r.switches).toBeGreaterThanOrEqual(PARK_PATH_SWITCHES);
    expect(r.liveAtFirst).toBe(0);
    expect(r.liveAtSecond).toBe(0);
    expectOnlyThreadsRun(r);
    expect(r.names).toEqual(['Greenlet-1', 'Greenlet-3']); // Greenlet-2 is the one that called it
  });

  it('calls that overlap run one after another, and the last settles once all threads are ready', () => {
    const r = fixtureSummary<{ order: string[]; stats: { ready: number; live: number }[] }>('prewarm-warmup.js', {
      args: ['overlap'],
    });
    expect(r.order).toEqual(['first', 'second']);
    // (When the first settles, the second may already hold its threads.)
    expect(r.stats[1].ready).toBeGreaterThanOrEqual(300);
    expect(r.stats[1].live).toBe(0);
  });
});
