import { describe, expect, it } from 'vitest';
import { HEAVY_CHILD_TIMEOUT_MS, fixtureSummary } from './helpers.js';

describe('owner thread stacks', () => {
  it('greenlets that fill their stack to the limit leave their owner able to serve the next one and to end', () => {
    const summary = fixtureSummary('owner-stack-reuse.js', { timeoutMs: HEAVY_CHILD_TIMEOUT_MS });
    expect(summary).toEqual({ rounds: 60, ok: true, reused: 1, idle: 0, live: 0 });
  });
});
