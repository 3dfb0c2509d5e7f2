import { describe, expect, it } from 'vitest';
import { fixtureSummary } from './helpers.js';

// After prewarm(n) has settled, a burst of n greenlets that all start and
// park finds every thread made and already run once (lib/api/prewarm.ts), so
// the event loop's thread takes few page faults for it: no first touch of
// their stacks, of their malloc arenas, of V8's per-thread state. Compared in
// the same fixture with threads made ahead of demand and never run
// (`spareThreads`). Each case is a fresh process.
interface Burst {
  backend: string;
  faultsPerGreenlet: number;
  made: number;
  after: { spareThreads: number; idleThreads: number; poolSize: number };
}

describe('a burst after prewarm() settles', () => {
  it('makes no thread and, under the user-space backend, takes under half the page faults of never-run spares', () => {
    const warmed = fixtureSummary<Burst>('prewarm-burst.js', { args: ['prewarm'] });
    const spares = fixtureSummary<Burst>('prewarm-burst.js', { args: ['spares'] });
    expect(warmed.made).toBe(0);
    expect(spares.made).toBe(0);
    if (warmed.backend === 'user-space') {
      // Measured: 0.39-0.40 after prewarm, 1.9-2.2 on spares (and 1.9 after
      // the previous prewarm, which only made the threads).
      expect(warmed.faultsPerGreenlet).toBeLessThan(1);
      expect(warmed.faultsPerGreenlet).toBeLessThan(spares.faultsPerGreenlet / 2);
    }
    // The warm-up held the threads as spares only while it ran: once the
    // burst has ended, the threads beyond the pool are ended, as without it;
    // a configured reserve keeps its spares.
    expect(warmed.after.idleThreads).toBe(warmed.after.poolSize);
    expect(warmed.after.spareThreads).toBeLessThan(10);
    expect(spares.after.spareThreads + spares.after.idleThreads).toBeGreaterThanOrEqual(1000);
  });
});
