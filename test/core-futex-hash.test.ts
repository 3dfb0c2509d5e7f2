import { describe, expect, it } from 'vitest';
import { fixtureSummary } from './helpers.js';

// The core grows the process's futex hash with its owner threads (Linux 6.16+
// sizes it for the CPUs, and one FUTEX_WAKE walked 10,000 sleeping owners'
// futexes in 66 µs). Each growth is a prctl that sleeps until the kernel is
// done with the old hash, 13-33 ms on this VM, which the event loop's thread
// must not wait for: the first greenlet of a process paid 22-26 ms for it,
// and each doubling on the way to 10,000 owners stalled the loop again.
// A fresh process: the hash is the process's, and so are its counts.
interface FutexHash {
  owners: number;
  supported: boolean;
  slots: number;
  growths: number;
  growthsOnMainThread: number;
}

describe('the futex hash', () => {
  it("grows with greenlets that start on demand, on the core's background thread, never on the event loop's", () => {
    const r = fixtureSummary<FutexHash>('futex-hash.js');
    expect(r.owners).toBeGreaterThanOrEqual(1100);
    // Past 1,024 owners: 1,024 slots (the first owners), then 2,048 and 4,096.
    if (r.supported) {
      expect(r.slots).toBeGreaterThanOrEqual(2 * r.owners);
      expect(r.growths).toBeGreaterThanOrEqual(3);
    }
    expect(r.growthsOnMainThread).toBe(0);
  });
});
