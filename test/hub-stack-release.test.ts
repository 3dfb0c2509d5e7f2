// Parked greenlets give the kernel back the stack pages below their park point
// once they have waited Hub#releaseStacksAfter ms: a greenlet that went deep
// once and then waits would otherwise keep every page it touched. Each case
// runs test/fixtures/hub-stack-release.js in a child process (with
// --expose-gc), so that its RSS is its own.
import { describe, expect, it } from 'vitest';
import { Event, getBackend, getHub, spawn } from '../lib/index.js';
import { until } from './io-helpers.js';
import { fixtureSummary } from './helpers.js';

interface Summary {
  backend: string;
  releases: number;
  releasedAgain: number;
  freedKiBPerGreenlet: number;
  shallowOk: boolean;
  deepOk: boolean;
}

function run(env: NodeJS.ProcessEnv = {}): Summary {
  return fixtureSummary<Summary>('hub-stack-release.js', {
    flags: ['--expose-gc'],
    args: ['100'],
    env: { ...process.env, ...env },
  });
}

describe('parked stacks give their pages back', () => {
  it('greenlets that went ~190 KiB deep and parked near the top give back most of it; all of them run on correctly', () => {
    const r = run({ GREENLOOP_SWITCH: 'user-space' });
    expect(r.backend).toBe('user-space');
    expect(r.releases).toBe(110); // 100 parked near the top, 10 at the bottom of their recursion
    // The 100 shallow ones held ~190 KiB each; the 10 deep ones keep theirs (their frames are live).
    expect(r.freedKiBPerGreenlet).toBeGreaterThan(100);
    expect(r.shallowOk).toBe(true); // each went deep again afterwards: released pages come back as zeros
    expect(r.deepOk).toBe(true); // frames above a park point are untouched
    expect(r.releasedAgain).toBeGreaterThanOrEqual(1); // a greenlet that parks again is released again
  });

  it('the threads backend keeps its pages and its greenlets run as before', () => {
    const r = run({ GREENLOOP_SWITCH: 'threads' });
    expect(r.backend).toBe('threads');
    expect(r.releases).toBe(0);
    expect(r.shallowOk).toBe(true);
    expect(r.deepOk).toBe(true);
  });

  it('each park past the delay is released once, also when the last one released wakes and parks again', async () => {
    const hub = getHub();
    const saved = hub.releaseStacksAfter;
    const releasing = getBackend() === 'user-space';
    const settle = () => new Promise((resolve) => setTimeout(resolve, 120));
    const events = Array.from({ length: 8 }, () => new Event());
    const parkOn = (i: number) => spawn(() => events[i].wait());
    try {
      hub.releaseStacksAfter = 20;
      const before = hub.stackReleases;
      const released = (n: number) => until(() => hub.stackReleases - before >= n, `${n} releases`);
      const first = [0, 1, 2, 3, 4].map(parkOn);
      if (releasing) await released(5);
      await settle();
      expect(hub.stackReleases - before).toBe(releasing ? 5 : 0);
      const again = spawn(() => {
        events[4].wait();
        events[5].wait();
      });
      if (releasing) await released(6);
      await settle();
      expect(hub.stackReleases - before).toBe(releasing ? 6 : 0);
      // The newest released parks end (`again`'s is where the sweeps go on
      // from) and `again` parks once more; two more greenlets park.
      events[4].set();
      [6, 7].map(parkOn);
      if (releasing) await released(9);
      await settle();
      expect(hub.stackReleases - before).toBe(releasing ? 9 : 0);
      for (const e of events) e.set();
      await until(() => first.every((g) => g.dead) && again.dead, 'every greenlet done');
    } finally {
      for (const e of events) e.set();
      hub.releaseStacksAfter = saved;
    }
  });

  it('releaseStacksAfter takes ms >= 0, Infinity or null, and names a wrong value', () => {
    const hub = getHub();
    const saved = hub.releaseStacksAfter;
    try {
      expect(saved).toBe(1000);
      hub.releaseStacksAfter = 0;
      expect(hub.releaseStacksAfter).toBe(0);
      hub.releaseStacksAfter = Infinity;
      expect(hub.releaseStacksAfter).toBeNull();
      const wrong: Array<[unknown, string]> = [
        [-1, 'got number -1'],
        [Number.NaN, 'got number NaN'],
        ['100', 'got string "100"'],
        [{}, 'got an instance of Object'],
      ];
      for (const [bad, named] of wrong) {
        expect(() => {
          hub.releaseStacksAfter = bad as number;
        }).toThrow(TypeError);
        expect(() => {
          hub.releaseStacksAfter = bad as number;
        }).toThrow(`releaseStacksAfter must be a number of milliseconds >= 0, null or undefined, ${named}`);
      }
      expect(hub.releaseStacksAfter).toBeNull(); // unchanged by the refused values
    } finally {
      hub.releaseStacksAfter = saved;
    }
  });
});
