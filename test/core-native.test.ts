import { describe, expect, it } from 'vitest';
import { Greenlet, configure, coreStats, getBackend, getcurrent } from '../lib/greenlet.js';
import { HEAVY_CHILD_TIMEOUT_MS, HEAVY_TEST_TIMEOUT_MS, lastJson, runFixture } from './helpers.js';

describe('owner thread pool', () => {
  it('greenlets started one after another reuse one pooled thread', () => {
    new Greenlet(() => 0).switch(); // warm the pool
    const before = coreStats();
    for (let i = 0; i < 1000; i++) expect(new Greenlet((x: number) => x + 1).switch(i)).toBe(i + 1);
    const after = coreStats();
    expect(after.threadsCreated).toBe(before.threadsCreated);
    expect(after.live).toBe(0);
    expect(after.switches - before.switches).toBe(2000);
  });

  it('the pool keeps at most poolSize idle threads', () => {
    const root = getcurrent();
    configure({ poolSize: 3 });
    try {
      const many = Array.from({ length: 10 }, () => new Greenlet(() => root.switch()));
      for (const g of many) g.switch();
      expect(coreStats().live).toBe(10);
      for (const g of many) g.switch();
      expect(coreStats().live).toBe(0);
      // Surplus threads end at the next switch made on a safe stack.
      new Greenlet(() => 0).switch();
      expect(coreStats().idleThreads).toBeLessThanOrEqual(3);
      configure({ poolSize: 0 });
      new Greenlet(() => 0).switch();
      expect(coreStats().idleThreads).toBe(0);
    } finally {
      configure({ poolSize: 256 });
    }
  });

  it('poolSize rejects what is not a count', () => {
    expect(() => configure({ poolSize: -1 })).toThrow(TypeError);
    expect(() => configure({ poolSize: 1.5 })).toThrow(/poolSize must be an integer >= 0, got number 1.5/);
  });
});

describe('stack size', () => {
  function depthIn(stackSize?: number): number {
    const g = new Greenlet(
      () => {
        let depth = 0;
        const recurse = (): void => {
          depth++;
          recurse();
        };
        try {
          recurse();
        } catch (error) {
          if (!(error instanceof RangeError)) throw error;
        }
        return depth;
      },
      null,
      stackSize === undefined ? undefined : { stackSize },
    );
    return g.switch() as number;
  }

  it('the global default applies to greenlets created after configure()', () => {
    const defaultDepth = depthIn();
    configure({ stackSize: 256 * 1024 });
    try {
      const smaller = depthIn();
      expect(smaller).toBeLessThan(defaultDepth / 2);
      expect(smaller).toBeGreaterThan(100);
    } finally {
      configure({ stackSize: 984 * 1024 });
    }
    expect(depthIn()).toBeGreaterThan(defaultDepth / 2);
  });

  it('rejects a stack size below 64 KiB with the value received', () => {
    expect(() => configure({ stackSize: 1000 })).toThrow(
      /stackSize must be a number of bytes from 65536 up, got number 1000/,
    );
  });
});

describe('backends', () => {
  it('reports the backend in use, settable by GREENLOOP_SWITCH or configure() before the first start', () => {
    expect(['user-space', 'threads']).toContain(getBackend());
    const plain = lastJson(runFixture('backend.js'));
    expect(plain.value).toBe(42);
    expect(plain.changeAfterStart).toBe('GREENLOOP_ERR_GREENLET');
    expect(plain.sameAfterStart).toBe('allowed');
    expect(plain.unknown).toBe('TypeError');
    const threads = lastJson(runFixture('backend.js', [], ['threads']));
    expect(threads.configured).toBe('threads');
    expect(threads.value).toBe(42);
  });
});

describe('signals', { timeout: HEAVY_TEST_TIMEOUT_MS }, () => {
  it('owner threads block all signals, and a signal storm during switches is handled', () => {
    const run = runFixture('signals.js', [], [], HEAVY_CHILD_TIMEOUT_MS);
    expect(run.signal, run.stderr).toBeNull();
    const s = lastJson(run);
    // 20 parked greenlets, plus any spare threads made in the same batches.
    expect(s.owners).toBeGreaterThanOrEqual(20);
    expect(s.ownersBlockingAll).toBe(s.owners);
    expect(s.switches).toBe(40000);
    expect(s.handledSome).toBe(true);
  });
});

describe('async hooks', () => {
  it('switching away inside runInAsyncScope keeps the scope with the greenlet, resumed from a timer', () => {
    const run = runFixture('park-in-async-scope.js', ['--force-async-hooks-checks']);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.stderr).not.toMatch(/async hook stack has become corrupted/);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^back on root\nlater done\n/);
    const seen = lastJson(run);
    expect(seen.idAfterResume).toBe(seen.resourceId);
    expect(seen.triggerAfterResume).toBe(seen.resourceTrigger);
    expect(seen.resourceAfterResume).toBe(true);
    expect(seen.timerIdKept).toBe(true);
    expect(seen.scopeEndedInTimer).toBe(true);
  });

  it('where the stack cannot be saved, the switch is a catchable GreenletError, not an abort', () => {
    const run = runFixture('park-in-async-scope.js', [], [], 60_000, {
      ...process.env,
      GREENLOOP_ASYNC_STACK: 'refuse',
    });
    expect(run.signal, run.stderr).toBeNull();
    expect(run.stderr).not.toMatch(/async hook stack has become corrupted/);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^caught GREENLOOP_ERR_GREENLET cannot switch away from a greenlet inside a nested async scope/,
    );
    expect(run.stdout).toMatch(/back on root\nlater undefined/);
  });
});
