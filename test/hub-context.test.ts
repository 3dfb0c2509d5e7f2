// Node's async context per greenlet: AsyncLocalStorage stores, promise and
// tick callbacks, and parking inside nested async scopes. These must
// hold on Node 20 and 22 (stores on async resources) and 24 (stores in
// AsyncContextFrame, V8's continuation-preserved embedder data).
import {
  AsyncLocalStorage,
  AsyncResource,
  executionAsyncId,
  executionAsyncResource,
  triggerAsyncId,
} from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { Event, Queue, getHub, runAsync, sleep, spawn, wait } from '../lib/index.js';
import { lastJson, runFixture } from './helpers.js';

const als = new AsyncLocalStorage<string>();

describe('AsyncLocalStorage in greenlets', () => {
  it('a spawned greenlet keeps the store current at spawn, across parks', async () => {
    const seen: Array<string | undefined> = [];
    const gs = ['a', 'b', 'c'].map((name) =>
      als.run(name, () =>
        spawn(() => {
          seen.push(als.getStore());
          sleep(1);
          seen.push(als.getStore());
          sleep(0);
          return als.getStore();
        }),
      ),
    );
    expect(als.getStore()).toBeUndefined();
    expect(await Promise.all(gs.map((g) => g.promise()))).toEqual(['a', 'b', 'c']);
    expect(seen.slice(0, 3)).toEqual(['a', 'b', 'c']);
    expect(seen.slice(3).sort()).toEqual(['a', 'b', 'c']);
  });

  it('als.run() inside a greenlet is invisible to others while it parks, and ends with its scope', async () => {
    const ev = new Event();
    const log: string[] = [];
    const a = als.run('outer', () =>
      spawn(() => {
        als.run('inner', () => {
          ev.wait(); // parked with 'inner' active
          log.push(`a in run: ${als.getStore()}`);
        });
        log.push(`a after run: ${als.getStore()}`);
      }),
    );
    const b = spawn(() => {
      sleep(0); // a is parked now
      log.push(`b: ${als.getStore()}`);
      ev.set();
      sleep(0);
      log.push(`b later: ${als.getStore()}`);
    });
    await Promise.all([a.promise(), b.promise()]);
    expect(log).toEqual(['b: undefined', 'a in run: inner', 'a after run: outer', 'b later: undefined']);
    expect(als.getStore()).toBeUndefined();
  });

  it('enterWith() inside a greenlet stays in that greenlet', async () => {
    const q = new Queue<string | undefined>();
    const a = spawn(() => {
      als.enterWith('entered');
      sleep(0);
      q.put(als.getStore());
      sleep(1);
      return als.getStore();
    });
    const b = spawn(() => {
      sleep(0);
      q.put(als.getStore());
    });
    expect(await a.promise()).toBe('entered');
    await b.promise();
    const got = await runAsync(() => [q.get(), q.get()]);
    expect(got.sort()).toEqual(['entered', undefined].sort());
    expect(als.getStore()).toBeUndefined();
    expect(await runAsync(() => als.getStore())).toBeUndefined(); // not leaked into a later greenlet
  });

  it('a greenlet spawned by a greenlet inherits its current store', async () => {
    const outer = als.run('parent', () =>
      spawn(() => {
        const child = als.run('inside run', () => spawn(() => als.getStore()));
        als.enterWith('entered');
        const child2 = spawn(() => {
          sleep(1);
          return als.getStore();
        });
        return [child.get(), child2.get()];
      }),
    );
    expect(await outer.promise()).toEqual(['inside run', 'entered']);
  });

  it('promise callbacks, nextTick, queueMicrotask and timers scheduled in a greenlet run with its store', async () => {
    const results = await als.run('g', () =>
      spawn(() => {
        const seen: Record<string, string | undefined> = {};
        const done = new Promise<void>((resolve) => {
          let n = 0;
          const one = (key: string) => () => {
            seen[key] = als.getStore();
            if (++n === 4) resolve();
          };
          void Promise.resolve().then(one('then'));
          process.nextTick(one('nextTick'));
          queueMicrotask(one('microtask'));
          setTimeout(one('timeout'), 1);
        });
        sleep(0);
        wait(done);
        seen.afterWait = als.getStore();
        return seen;
      }).promise(),
    );
    expect(results).toEqual({ then: 'g', nextTick: 'g', microtask: 'g', timeout: 'g', afterWait: 'g' });
  });

  it('link callbacks run with the store current when link() was called', async () => {
    const g = spawn(() => sleep(1));
    const seen = new Promise<string | undefined>((resolve) =>
      als.run('linker', () => g.link(() => resolve(als.getStore()))),
    );
    expect(await seen).toBe('linker');
  });

  it("hub callbacks and later greenlets do not see a finished greenlet's stores", async () => {
    await als.run('x', () => spawn(() => als.enterWith('y')).promise());
    const seen = await new Promise<string | undefined>((resolve) =>
      getHub().runCallback(() => resolve(als.getStore())),
    );
    expect(seen).toBeUndefined();
    expect(await runAsync(() => als.getStore())).toBeUndefined();
  });

  it('a store a hub callback enters ends with its pass: the next pass starts without it', async () => {
    const seen: unknown[] = [];
    await new Promise<void>((resolve) => {
      getHub().runCallback(() => {
        als.enterWith('entered on the hub');
        seen.push(als.getStore());
        setTimeout(() =>
          getHub().runCallback(() => {
            seen.push(als.getStore());
            resolve();
          }),
        );
      });
    });
    expect(seen).toEqual(['entered on the hub', undefined]);
  });
});

describe('AsyncLocalStorage enabled early or late (in a child process: a fresh thread)', () => {
  it('a storage enabled before greenloop loaded reaches the greenlets spawned in its scope', () => {
    const run = runFixture('hub-context-stores.js', [], ['early']);
    expect(run.status, run.stderr).toBe(0);
    expect(lastJson(run).seen).toEqual(['entered before greenloop loaded']);
  });

  it('a storage first used after greenlets ran without any reaches the greenlets spawned in its run()', () => {
    const run = runFixture('hub-context-stores.js', [], ['late']);
    expect(run.status, run.stderr).toBe(0);
    expect(lastJson(run).seen).toEqual([null, 'first run after greenlets ran']); // JSON: undefined is null
  });
});

describe('nested async scopes', () => {
  it('a greenlet parks inside AsyncResource#runInAsyncScope and resumes in the same scope', async () => {
    const r = await runAsync(() => {
      const resource = new AsyncResource('test');
      const inside = resource.runInAsyncScope(() => {
        sleep(1);
        return { id: executionAsyncId(), trigger: triggerAsyncId(), same: executionAsyncResource() === resource };
      });
      const afterScope = executionAsyncId();
      sleep(1);
      return { inside, resourceId: resource.asyncId(), trigger: resource.triggerAsyncId(), afterScope };
    });
    expect(r.inside.id).toBe(r.resourceId);
    expect(r.inside.trigger).toBe(r.trigger);
    expect(r.inside.same).toBe(true);
    expect(r.afterScope).not.toBe(r.resourceId); // the scope ended where it was entered
  });

  it('a greenlet parks inside a function bound with AsyncResource.bind, with an AsyncLocalStorage store', async () => {
    const r = await runAsync(() => {
      const bound = AsyncResource.bind(() =>
        als.run('in-bound', () => {
          sleep(1);
          return als.getStore();
        }),
      );
      return [bound(), als.getStore()];
    });
    expect(r).toEqual(['in-bound', undefined]);
  });

  it('in a child process, with hooks enabled, checks forced and timers firing, every scope survives its parks', () => {
    const run = runFixture('hub-async-scope.js', ['--force-async-hooks-checks']);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.stderr).not.toMatch(/corrupted/);
    expect(run.status, run.stderr).toBe(0);
    const summary = lastJson(run);
    expect(summary.results).toEqual(['kept', 'kept', 'kept', 'kept']);
    expect(summary.stores).toEqual(['s0', 's1', 's2', 's3']);
    expect(summary.after).toBe('done');
  });
});
