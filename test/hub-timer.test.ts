// Timeouts of 2^31 ms and more (past what one Node setTimeout honours, which
// fires them after 1 ms with only a TimeoutOverflowWarning) are honoured:
// armed in steps by lib/hub/timer.ts, used by every timer of the hub and API.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Event, Queue, Timeout, runAsync, sleep, spawn, spawnLater, wait } from '../lib/index.js';
import { MAX_TIMER_DELAY, clearTimer, setTimer, setTimerInSteps } from '../lib/hub/timer.js';

describe('setTimer re-arms a long delay in steps', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires once, exactly after the whole delay, with its arguments (fake clock: the arithmetic only)', () => {
    vi.useFakeTimers();
    const calls: unknown[][] = [];
    setTimerInSteps(1000, (...args: unknown[]) => calls.push(args), 2500, ['a', 1]);
    vi.advanceTimersByTime(999);
    vi.advanceTimersByTime(1000); // 1999: two steps done
    vi.advanceTimersByTime(500); // 2499
    expect(calls).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(calls).toEqual([['a', 1]]);
    vi.advanceTimersByTime(10_000);
    expect(calls).toHaveLength(1);
  });

  it('a delay of exactly one or two steps and a cancel between steps (fake clock)', () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    setTimerInSteps(1000, () => fired.push('one step'), 1000, []);
    setTimerInSteps(1000, () => fired.push('two steps'), 2000, []);
    const cancelled = setTimerInSteps(1000, () => fired.push('cancelled'), 3000, []);
    vi.advanceTimersByTime(1000);
    expect(fired).toEqual(['one step']);
    vi.advanceTimersByTime(500);
    clearTimer(cancelled);
    vi.advanceTimersByTime(500);
    expect(fired).toEqual(['one step', 'two steps']);
    vi.advanceTimersByTime(10_000);
    expect(fired).toEqual(['one step', 'two steps']);
  });

  it('with real timers, a delay of several steps never fires before the whole delay', async () => {
    const start = performance.now();
    const firedAfter = await new Promise<number>((resolve) => {
      setTimerInSteps(15, () => resolve(performance.now() - start), 50, []);
    });
    expect(firedAfter).toBeGreaterThanOrEqual(49);
  });

  it('2^31 and 2^40 ms are still pending after 50 ms, and clearTimer cancels them', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.name);
    process.on('warning', onWarning);
    const fired: number[] = [];
    const timers = [MAX_TIMER_DELAY + 1, 2 ** 40].map((ms) => setTimer(() => fired.push(ms), ms));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(fired).toEqual([]);
    for (const t of timers) clearTimer(t);
    process.off('warning', onWarning);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });
});

describe('API timeouts of 2^31 ms and more do not fire early', () => {
  for (const ms of [2 ** 31, 2 ** 40]) {
    it(`sleep, Event.wait, Queue.get, wait, Timeout and spawnLater with ${ms} ms are still waiting after 50 ms`, async () => {
      const ended: string[] = [];
      const guarded = (name: string, fn: () => unknown) =>
        spawn(() => {
          try {
            fn();
            ended.push(`${name} returned`);
          } catch (error) {
            ended.push(`${name} threw ${(error as Error).name}`);
          }
        });
      const waiting = [
        guarded('sleep', () => sleep(ms)),
        guarded('Event.wait', () => new Event().wait(ms)),
        guarded('Queue.get', () => new Queue().get({ timeout: ms })),
        guarded('wait', () => wait(new Promise(() => {}), { timeout: ms })),
        guarded('Timeout', () => {
          const t = new Timeout(ms).start();
          try {
            sleep(60_000);
          } finally {
            t.cancel();
          }
        }),
      ];
      const later = spawnLater(ms, () => ended.push('spawnLater ran'));
      await runAsync(() => sleep(50));
      expect(ended).toEqual([]);
      for (const g of waiting) g.kill(undefined, { block: false });
      later.kill(undefined, { block: false });
      await runAsync(() => sleep(1));
      expect(ended.sort()).toEqual(
        ['Event.wait', 'Queue.get', 'Timeout', 'sleep', 'wait'].map((name) => `${name} threw GreenletExit`),
      );
      expect(later.dead).toBe(true);
    });
  }
});
