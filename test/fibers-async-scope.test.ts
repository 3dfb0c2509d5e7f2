// node-fibers #357: a fiber may yield inside AsyncResource#runInAsyncScope
// and be resumed from a timer. Node keeps one async-hooks stack per thread;
// greenloop moves each greenlet's own scopes off it and back at every switch
// (lib/async-stack.ts), so ids, resources and AsyncLocalStorage stores are the
// fiber's own whoever resumes it, with async_hooks checks on.
import {
  AsyncLocalStorage,
  AsyncResource,
  executionAsyncId,
  executionAsyncResource,
  triggerAsyncId,
} from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { Greenlet, getcurrent } from '../lib/greenlet.js';
import { Fiber } from '../lib/fibers/fiber.js';
import { lastJson, runFixture } from './helpers.js';

const als = new AsyncLocalStorage<string>();

describe('fibers in nested async scopes', () => {
  it('a fiber yields inside runInAsyncScope and resumes there from a timer', async () => {
    const resource = new AsyncResource('test');
    const seen = await new Promise<Record<string, unknown>>((resolve) => {
      Fiber(() => {
        const fiber = Fiber.current!;
        resource.runInAsyncScope(() => {
          let timerId = -1;
          setTimeout(() => {
            timerId = executionAsyncId();
            fiber.run();
          }, 2);
          Fiber.yield();
          const inside = {
            id: executionAsyncId(),
            trigger: triggerAsyncId(),
            same: executionAsyncResource() === resource,
          };
          resolve({ ...inside, timerId });
        });
      }).run();
    });
    expect(seen.id).toBe(resource.asyncId());
    expect(seen.trigger).toBe(resource.triggerAsyncId());
    expect(seen.same).toBe(true);
    expect(seen.timerId).not.toBe(resource.asyncId());
  });

  it("AsyncLocalStorage: the store a fiber set stays its own across a yield, and the starter's store carries in", async () => {
    const seen = await new Promise<unknown[]>((resolve) => {
      als.run('starter', () =>
        Fiber(() => {
          const fiber = Fiber.current!;
          const atStart = als.getStore();
          als.run('mine', () => {
            setTimeout(() => als.run('timer', () => fiber.run(als.getStore())), 1);
            const passed = Fiber.yield();
            resolve([atStart, passed, als.getStore()]);
          });
        }).run(),
      );
    });
    expect(seen).toEqual(['starter', 'timer', 'mine']);
  });

  it('each fiber has its own async id, triggered by where it started', () => {
    const outside = executionAsyncId();
    const [a, b] = [0, 1].map(() => Fiber(() => [executionAsyncId(), triggerAsyncId()]).run() as number[]);
    expect(a![0]).not.toBe(b![0]);
    expect(a![1]).toBe(outside);
  });

  const frameFlag = process.allowedNodeEnvironmentFlags.has('--no-async-context-frame')
    ? '--no-async-context-frame'
    : process.allowedNodeEnvironmentFlags.has('--experimental-async-context-frame')
      ? '--experimental-async-context-frame'
      : null;
  const modes: [string, string[]][] = [['default', ['--force-async-hooks-checks']]];
  if (frameFlag) modes.push([frameFlag, ['--force-async-hooks-checks', frameFlag]]);
  for (const [mode, flags] of modes) {
    it(`six fibers, three yields each inside their scopes, resumed in another order, hooks on (${mode})`, () => {
      const run = runFixture('fibers-async-scope.js', flags);
      expect(run.signal, run.stderr).toBeNull();
      expect(run.stderr).not.toMatch(/corrupted/);
      expect(run.status, run.stderr).toBe(0);
      expect(lastJson(run)).toMatchObject({ finished: 6, problems: [], hooksRan: true });
    });
  }

  it('inside a worker_threads Worker too', () => {
    const run = runFixture('fibers-async-scope-worker.js', ['--force-async-hooks-checks']);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(lastJson(run)).toMatchObject({ finished: 6, problems: [], hooksRan: true });
  });
});

describe('every greenlet owns its scopes', () => {
  it('two raw greenlets switch straight to each other, each inside its own scope', () => {
    const root = getcurrent();
    const ra = new AsyncResource('a');
    const rb = new AsyncResource('b');
    const seen: string[] = [];
    const label = () => (executionAsyncResource() === ra ? 'a' : executionAsyncResource() === rb ? 'b' : 'other');
    let b: Greenlet;
    const a = new Greenlet(() =>
      ra.runInAsyncScope(() => {
        b.switch();
        seen.push(`a:${label()}`);
        b.switch();
        seen.push(`a:${label()}`);
        root.switch();
        seen.push(`a:${label()}`);
      }),
    );
    b = new Greenlet(() =>
      rb.runInAsyncScope(() => {
        seen.push(`b:${label()}`);
        a.switch();
        seen.push(`b:${label()}`);
        a.switch();
      }),
    );
    const before = executionAsyncId();
    a.switch();
    seen.push(`root:${label()}`);
    expect(executionAsyncId()).toBe(before);
    a.switch();
    expect(seen).toEqual(['b:b', 'a:a', 'b:b', 'a:a', 'root:other', 'a:a']);
    expect(executionAsyncId()).toBe(before);
  });

  it("a fiber started inside another fiber's scope is triggered by it and inherits its store", () => {
    let scopeId = -1;
    const r = als.run('outer store', () =>
      Fiber(() => {
        const outerScope = new AsyncResource('outer'); // made here, it holds the store
        scopeId = outerScope.asyncId();
        return outerScope.runInAsyncScope(() => Fiber(() => [triggerAsyncId(), als.getStore()]).run());
      }).run(),
    );
    expect(r).toEqual([scopeId, 'outer store']);
  });
});
