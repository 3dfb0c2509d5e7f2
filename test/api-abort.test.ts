// Cancellation with AbortSignal: every blocking call takes `signal` and throws
// Node's AbortError, like node:timers/promises; the listener lives only for the call.
import { getEventListeners } from 'node:events';
import { setTimeout as promiseSleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { AbortError, runAsync, sleep, idle, spawn } from '../lib/index.js';

/** What node:timers/promises throws for `signal`, to compare the shape with. */
async function nodeAbortError(reason?: unknown): Promise<any> {
  const c = new AbortController();
  const p = promiseSleep(60_000, undefined, { signal: c.signal }).catch((e: unknown) => e);
  c.abort(reason);
  return p;
}

describe('the AbortError', () => {
  it('has the shape of Node\'s own (name, code, message, cause)', async () => {
    const reason = new Error('user gave up');
    const node = await nodeAbortError(reason);
    const c = new AbortController();
    const ours = await runAsync(() => {
      spawn(() => c.abort(reason));
      try {
        sleep(60_000, { signal: c.signal });
        return 'slept (wrong)';
      } catch (e) {
        return e;
      }
    });
    expect(ours).toBeInstanceOf(AbortError);
    expect(ours).toBeInstanceOf(Error);
    for (const key of ['name', 'code', 'message', 'cause'] as const) expect((ours as any)[key]).toBe(node[key]);
    expect((ours as AbortError).code).toBe('ABORT_ERR');
  });
});

describe('sleep() and idle() with a signal', () => {
  it('an already aborted signal throws before parking, also sleep(0) and idle()', async () => {
    const signal = AbortSignal.abort('early');
    const results = await runAsync(() =>
      [() => sleep(10, { signal }), () => sleep(0, { signal }), () => idle({ signal })].map((f) => {
        try {
          f();
          return 'returned';
        } catch (e) {
          return [(e as Error).name, (e as Error).cause];
        }
      }),
    );
    expect(results).toEqual([
      ['AbortError', 'early'],
      ['AbortError', 'early'],
      ['AbortError', 'early'],
    ]);
  });

  it('AbortSignal.timeout() ends a long sleep, and an unaborted signal changes nothing', async () => {
    const outcome = await runAsync(() => {
      sleep(5, { signal: new AbortController().signal });
      try {
        sleep(60_000, { signal: AbortSignal.timeout(10) });
        return 'slept (wrong)';
      } catch (e) {
        return (e as Error & { cause: Error }).cause.name;
      }
    });
    expect(outcome).toBe('TimeoutError');
  });

  it('removes its listener after each call: many calls on one long-lived signal leave none', async () => {
    const c = new AbortController();
    const counts = await runAsync(() => {
      const during: number[] = [];
      spawn(() => during.push(getEventListeners(c.signal, 'abort').length));
      sleep(1, { signal: c.signal });
      for (let i = 0; i < 200; i++) sleep(i % 2, { signal: c.signal });
      for (let i = 0; i < 50; i++) idle({ signal: c.signal });
      return { during, after: getEventListeners(c.signal, 'abort').length };
    });
    expect(counts).toEqual({ during: [1], after: 0 });
  });

  it('an abort while the greenlet runs is raised at its next park inside the call, and dropped after it', async () => {
    const c = new AbortController();
    const outcome = await runAsync(() => {
      sleep(1, { signal: c.signal });
      c.abort(); // nobody is inside a call with it now
      sleep(1); // so this sleep is not interrupted
      return 'fine';
    });
    expect(outcome).toBe('fine');
  });

  it('rejects a signal that is not one, naming it', async () => {
    await expect(runAsync(() => sleep(1, { signal: 'stop' as any }))).rejects.toThrow(
      'options.signal must be an AbortSignal or undefined, got string "stop"',
    );
    await expect(runAsync(() => sleep(1, 5 as any))).rejects.toThrow('options must be an object, got number 5');
  });
});
