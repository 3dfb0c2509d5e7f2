// greenloop/debug's diagnostics channels: a subscriber sees a greenlet's
// life cycle (spawn, park, resume, finish, error) with real waits; and the
// per-greenlet counters of trackTime().
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { describe, expect, it } from 'vitest';
import { Event, getcurrent, getHub, Greenlet, runAsync, sleep, spawn } from '../lib/index.js';
import { gettrace, settrace, type TraceFunction } from '../lib/greenlet.js';
import { channels, counters, loopDelay, trackTime } from '../lib/debug/index.js';

function listen(events: string[], name: string): () => void {
  const subscribers = Object.entries(channels).map(([kind, channel]) => {
    const fn = (message: any) => {
      const g = message.greenlet as Greenlet;
      if (g.name !== name) return;
      let line = kind;
      if (message.label !== undefined) line += ` ${message.label}`;
      if (message.spawner !== undefined)
        line += ` by ${message.spawner.isRoot ? 'hub' : (message.spawner as Greenlet).name}`;
      if (message.parkedMs !== undefined) line += message.parkedMs >= 0 ? ' (timed)' : ' (bad time)';
      if (kind === 'finish') line += ` = ${String(message.value)}`;
      if (kind === 'error') line += ` ${(message.error as Error).message}`;
      // Published in the greenlet itself, except spawn (in its spawner).
      if (kind !== 'spawn' && getcurrent() !== g) line += ' (elsewhere!)';
      events.push(line);
    };
    subscribe(channel, fn);
    return () => unsubscribe(channel, fn);
  });
  return () => subscribers.forEach((off) => off());
}

describe('diagnostics channels', () => {
  it('a subscriber sees spawn, park, resume and finish of a greenlet that waits on an Event and sleeps', async () => {
    const events: string[] = [];
    const stop = listen(events, 'watched');
    try {
      const go = new Event();
      const g = new Greenlet(
        () => {
          go.wait();
          sleep(5);
          return 'done';
        },
        { name: 'watched' },
      ).start();
      await runAsync(() => undefined); // queued after it: it is parked in go.wait() now (a 10 ms timer could fire first)
      go.set();
      await g.promise();
    } finally {
      stop();
    }
    expect(events).toEqual([
      'spawn by hub',
      'park Event.wait()',
      'resume Event.wait() (timed)',
      'park sleep(5)',
      'resume sleep(5) (timed)',
      'finish = done',
    ]);
  });

  it('a greenlet that fails publishes error; one spawned by a greenlet names it as spawner', async () => {
    const events: string[] = [];
    const stopChild = listen(events, 'child');
    try {
      const parent = new Greenlet(
        () => {
          const child = new Greenlet(
            () => {
              throw new Error('child broke');
            },
            { name: 'child' },
          ).start();
          child.join();
        },
        { name: 'parent' },
      ).start();
      await parent.promise();
    } finally {
      stopChild();
    }
    expect(events).toEqual(['spawn by parent', 'error child broke']);
  });

  it('nothing is published once unsubscribed', async () => {
    const events: string[] = [];
    listen(events, 'quiet')();
    const g = new Greenlet(() => sleep(1), { name: 'quiet' }).start();
    await g.promise();
    expect(events).toEqual([]);
  });
});

describe('trackTime() counters', () => {
  it('count switches into a greenlet and its time on CPU, and the loop delay', async () => {
    const was = trackTime(true);
    try {
      let spent = 0;
      const g = spawn(function burn() {
        for (let i = 0; i < 3; i++) {
          const until = performance.now() + 20;
          while (performance.now() < until);
          sleep(0);
        }
        spent = counters(getcurrent()).cpuMs; // the running one includes its current run
      });
      const idle = spawn(() => sleep(30));
      await Promise.all([g.promise(), idle.promise()]);
      const busy = counters(g);
      expect(busy.switches).toBeGreaterThanOrEqual(4); // its start and three returns from sleep(0)
      expect(busy.cpuMs).toBeGreaterThanOrEqual(60);
      expect(spent).toBeGreaterThanOrEqual(60);
      expect(counters(idle).cpuMs).toBeLessThan(busy.cpuMs);
      expect(counters(getHub().greenlet).switches).toBeGreaterThan(0);
      const delay = loopDelay()!;
      expect(delay.max).toBeGreaterThan(0);
    } finally {
      trackTime(was);
    }
    expect(() => trackTime('on' as never)).toThrow('trackTime() expects a boolean, got string');
  });

  it('keep counting beside a settrace() tracer set before or after, or removed, and leave it alone', async () => {
    // settrace() after trackTime(true) used to replace the counters, which then stopped.
    const seen: string[] = [];
    const tracer: TraceFunction = (event, _origin, target) => {
      if ((target as Greenlet).name === 'traced') seen.push(event);
    };
    const before = settrace(null);
    const was = trackTime(true);
    try {
      settrace(tracer);
      expect(gettrace()).toBe(tracer); // the counters are not a tracer
      const g = new Greenlet(
        () => {
          for (let i = 0; i < 4; i++) sleep(1);
        },
        { name: 'traced' },
      ).start();
      await g.promise();
      expect(seen.length).toBeGreaterThanOrEqual(5); // its start and four returns from sleep(1)
      expect(counters(g).switches).toBe(seen.length); // both saw every switch into it
      settrace(null);
      const h = spawn(() => sleep(1));
      await h.promise();
      expect(counters(h).switches).toBeGreaterThanOrEqual(2); // still counting without any tracer
      settrace(tracer);
    } finally {
      trackTime(was);
    }
    expect(gettrace()).toBe(tracer); // turning the counters off left the tracer in place
    settrace(before);
  });
});
