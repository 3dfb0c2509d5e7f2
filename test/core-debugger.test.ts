import { describe, expect, it } from 'vitest';
import { lastJson, runFixture } from './helpers.js';

describe('debugger support', () => {
  it('a breakpoint set while greenlets are parked pauses inside them, and the process exits cleanly', () => {
    const run = runFixture('debugger-breakpoint.js');
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const summary = lastJson(run);
    // 20 parked greenlets resumed past the breakpoint, plus one started after it.
    expect(summary.results).toEqual([...Array.from({ length: 20 }, (_, i) => i + 101), 1002]);
    expect(summary.pauses).toBe(21);
    // A pause inside a greenlet shows that greenlet's own frames.
    expect(summary.firstPause[0]).toBe('work');
  });
});
