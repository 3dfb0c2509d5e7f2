import { describe, expect, it } from 'vitest';
import { HEAVY_CHILD_TIMEOUT_MS, HEAVY_TEST_TIMEOUT_MS, lastJson, runFixture } from './helpers.js';

// Objects referenced only from parked greenlets' stacks (plain objects, maps,
// typed arrays, closures, Buffers, nested greenlets) read back intact after
// moving and stress GCs.
describe('GC safety of parked stacks', { timeout: HEAVY_TEST_TIMEOUT_MS }, () => {
  for (const flag of ['--stress-compaction', '--stress-scavenge=50', '--gc-interval=500']) {
    it(`objects held by 100 parked greenlets survive ${flag}`, () => {
      const run = runFixture('gc-stress.js', ['--expose-gc', flag], ['100', '3'], HEAVY_CHILD_TIMEOUT_MS);
      expect(run.signal, run.stderr).toBeNull();
      expect(run.status, run.stderr).toBe(0);
      expect(lastJson(run)).toEqual({ finished: 100, failures: 0 });
    });
  }
});
