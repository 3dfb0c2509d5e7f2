// Greenlets and the garbage collector: an unreachable parked greenlet is
// unwound with GreenletExit (its finally blocks run) and its native resources
// go back; unstarted and finished greenlets are simply collected; reachable
// parked greenlets are left alone.
//
// Each case runs test/fixtures/greenlet-unwind.js (on dist/) in a child
// process started with --expose-gc, so that it can force collections.
import { describe, expect, it } from 'vitest';
import { fixtureSummary } from './helpers.js';

function unwindScenario(scenario: string, count = 1): any {
  return fixtureSummary('greenlet-unwind.js', { flags: ['--expose-gc'], args: [scenario, String(count)] });
}

describe('unreachable parked greenlets', () => {
  it('an unreachable parked greenlet is unwound with GreenletExit and its finally block runs', () => {
    const r = unwindScenario('parked', 1);
    expect(r.parkedValues).toBe(1);
    expect(r.liveWhileParked).toBe(r.liveBefore + 1);
    expect(r.exits).toBe(1);
    expect(r.finallies).toBe(1);
    expect(r.others).toBe(0);
    expect(r.currentIsRoot).toBe(true);
    expect(r.warnings).toEqual([]);
  });

  it('coreStats().live drops back once an unreachable greenlet is unwound', () => {
    const r = unwindScenario('parked', 1);
    expect(r.liveWhileParked).toBe(1);
    expect(r.liveAfter).toBe(0);
  });

  it('100 unreachable parked greenlets are all unwound and their threads go back to the pool', () => {
    const r = unwindScenario('parked', 100);
    expect(r.parkedValues).toBe(100);
    expect(r.liveWhileParked).toBe(100);
    expect(r.exits).toBe(100);
    expect(r.finallies).toBe(100);
    expect(r.liveAfter).toBe(0);
    // The pool keeps up to 256 idle threads: every unwound greenlet's is there.
    expect(r.idleThreadsAfter).toBe(r.threadsCreated);
    expect(r.afterwards).toBe(42);
  });

  it('a parked greenlet whose parent is parked too (not referring to it) is unwound, then the parent is', () => {
    const r = unwindScenario('parked-child');
    expect(r.parkedValues).toEqual(['inner parked', 'outer parked']);
    expect(r.liveWhileParked).toBe(2);
    expect(r.finallies).toEqual(['finally inner', 'finally outer']);
    expect(r.liveAfter).toBe(0);
    expect(r.currentIsRoot).toBe(true);
  });

  it('an error thrown while unwinding becomes a GREENLOOP_UNWIND_ERROR warning and the process goes on', () => {
    const r = unwindScenario('finally-throws', 2);
    expect(r.finallies).toBe(2);
    expect(r.unwindWarnings).toBe(2);
    expect(r.warningMentionsError).toBe(true);
    expect(r.liveAfter).toBe(0);
    expect(r.currentIsRoot).toBe(true);
    expect(r.afterwards).toBe('ok');
  });
});

describe('greenlets the collector must leave alone or simply free', () => {
  it('reachable parked greenlets are not unwound by GC and later finish normally', () => {
    const r = unwindScenario('reachable', 10);
    expect(r.finalliesWhileReachable).toBe(0);
    expect(r.liveWhileReachable).toBe(10);
    expect(r.results).toBe(10);
    expect(r.finalliesAfterResume).toBe(10);
    expect(r.liveAfter).toBe(0);
  });

  it('unstarted greenlets are collected without their run being called', () => {
    const r = unwindScenario('unstarted', 10);
    expect(r.collected).toBe(10);
    expect(r.ran).toBe(0);
    expect(r.liveAfter).toBe(0);
  });

  it('finished greenlets are collected', () => {
    const r = unwindScenario('finished', 10);
    expect(r.collected).toBe(10);
    expect(r.liveAfter).toBe(0);
  });
});
