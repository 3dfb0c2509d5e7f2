// Memory kept by finished greenlets: none. Each case runs
// test/fixtures/hub-retention.js in a child process with --expose-gc and
// measures heapUsed after full collections at the end of each round.
// Before the fix every greenlet that had parked kept the next one alive
// through the finalization registry (~690 bytes each, growing without bound).
import { describe, expect, it } from 'vitest';
import { fixtureSummary, HEAVY_CHILD_TIMEOUT_MS, HEAVY_TEST_TIMEOUT_MS } from './helpers.js';

function bytesPerFinishedGreenlet(scenario: string): number {
  const r = fixtureSummary<{ heaps: number[]; bytesPerGreenlet: number }>('hub-retention.js', {
    flags: ['--expose-gc'],
    args: [scenario, '20000', '5'],
    timeoutMs: HEAVY_CHILD_TIMEOUT_MS,
  });
  return r.bytesPerGreenlet;
}

describe('finished greenlets keep no memory', { timeout: HEAVY_TEST_TIMEOUT_MS }, () => {
  it('80,000 greenlets that park once and are joined leave the heap flat', () => {
    expect(bytesPerFinishedGreenlet('join')).toBeLessThan(64);
  });

  it('a greenlet per callback that sleeps once and is never joined (an HTTP handler) leaves the heap flat', () => {
    expect(bytesPerFinishedGreenlet('callbacks')).toBeLessThan(64);
  });
});
