import { describe, expect, it } from 'vitest';
import { local, runAsync, sleep, spawn } from '../lib/index.js';

describe('local()', () => {
  it('gives each greenlet its own view, kept across parks', async () => {
    const data = local<{ name?: string }>();
    const gs = ['ann', 'bob'].map((name) =>
      spawn(() => {
        data.name = name;
        sleep(1);
        return data.name;
      }),
    );
    expect(await Promise.all(gs.map((g) => g.promise()))).toEqual(['ann', 'bob']);
    expect(data.name).toBeUndefined(); // the hub's own view
  });

  it("init() makes each greenlet's first view; has/delete/keys see only the current view", async () => {
    let made = 0;
    const data = local(() => {
      made++;
      return { count: 0, list: [] as number[] };
    });
    const r = await runAsync(() => {
      data.count++;
      data.list.push(1);
      const inner = spawn(() => ({ count: data.count, keys: Object.keys(data) })).get();
      delete (data as { list?: unknown }).list;
      return { mine: data.count, inner, has: 'list' in data, keys: Object.keys(data) };
    });
    expect(r).toEqual({ mine: 1, inner: { count: 0, keys: ['count', 'list'] }, has: false, keys: ['count'] });
    expect(made).toBe(2);
    expect(() => local(5 as never)).toThrow(TypeError);
  });
});
