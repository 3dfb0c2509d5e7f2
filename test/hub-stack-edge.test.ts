// A stack overflow (RangeError) thrown inside a blocking call near the edge of
// a greenlet's stack loses no other greenlet: the greenlet the hub was handing
// control to stays first in the ready queue, and only the greenlet that
// overflowed gets the error. Before the fix the hub took the next greenlet off
// the queue before the switch threw: it never ran again (a Queue deadlocked,
// a process with sleep(1) at the edge exited with work pending).
// Each case runs test/fixtures/hub-stack-edge.js in a child process.
import { describe, expect, it } from 'vitest';
import { HEAVY_CHILD_TIMEOUT_MS, HEAVY_TEST_TIMEOUT_MS, runFixture, lastJson } from './helpers.js';

interface EdgeSummary {
  finished: boolean;
  diverError: string | null;
  partnerValue: number | undefined;
  rangeErrors: number;
  blocked: number;
  produced: number;
  consumed: number;
  leftInQueue: number;
}

function edgeRun(mode: string): EdgeSummary {
  const run = runFixture('hub-stack-edge.js', [], [mode, '24'], HEAVY_CHILD_TIMEOUT_MS);
  const diagnosis = `status ${run.status}, signal ${run.signal}\nstderr:\n${run.stderr}\nstdout:\n${run.stdout}`;
  expect(run.signal, diagnosis).toBeNull();
  expect(run.status, diagnosis).toBe(0);
  expect(run.stderr, diagnosis).not.toContain('LoopExit');
  const s = lastJson<EdgeSummary>(run);
  // The overflow did happen inside blocking calls, many times, and the diver
  // did park near the edge in between.
  expect(s.rangeErrors, diagnosis).toBeGreaterThan(10);
  expect(s.blocked, diagnosis).toBeGreaterThan(0);
  expect(s.finished, diagnosis).toBe(true);
  expect(s.diverError, diagnosis).toBeNull();
  expect(s.partnerValue, diagnosis).toBeGreaterThan(0);
  return s;
}

describe('a stack overflow inside a blocking call', { timeout: HEAVY_TEST_TIMEOUT_MS }, () => {
  it('sleep(0) at the edge of the stack: the greenlet beside it keeps running and both finish', () => {
    edgeRun('sleep0');
  });

  it('sleep(1) at the edge of the stack: both finish, nothing is left parked at exit', () => {
    edgeRun('sleep1');
  });

  it('Queue.get() at the edge of the stack: producer and consumer both finish (no deadlock)', () => {
    const s = edgeRun('queue');
    expect(s.consumed).toBeGreaterThan(0);
    // An overflow inside Queue's own bookkeeping can still drop the item it was returning.
    expect(s.consumed + s.leftInQueue).toBeLessThanOrEqual(s.produced);
  });
});
