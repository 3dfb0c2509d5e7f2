import { describe, expect, it } from 'vitest';
import {
  GreenletError,
  GreenletExit,
  Hub,
  RawGreenlet,
  Waiter,
  assertMayBlock,
  getHub,
  getcurrent,
  runAsync,
  sleep,
  spawn,
} from '../lib/index.js';

describe('Waiter', () => {
  it('get() parks until switch() and returns the value', async () => {
    const w = new Waiter<string>();
    const log: string[] = [];
    const g = spawn(() => {
      log.push('parked');
      const v = w.get();
      log.push(`got ${v}`);
      return v;
    });
    setTimeout(() => w.switch('hello'), 5);
    expect(await g.promise()).toBe('hello');
    expect(log).toEqual(['parked', 'got hello']);
  });

  it('get() throws what throw() delivers', async () => {
    const w = new Waiter<number>();
    const boom = new Error('boom');
    const g = spawn(() => w.get());
    setTimeout(() => w.throw(boom), 1);
    await expect(g.promise()).rejects.toBe(boom);
  });

  it('a value that arrives before get() is kept and returned at once, even on the hub', () => {
    const w = new Waiter<number>();
    w.switch(7);
    expect(w.ready).toBe(true);
    expect(w.get()).toBe(7);
    expect(w.get()).toBe(7);
    const e = new Waiter<number>();
    const err = new Error('early');
    e.throw(err);
    expect(() => e.get()).toThrow(err);
  });

  it('only the first switch()/throw() counts', async () => {
    const w = new Waiter<number>();
    const g = spawn(() => w.get());
    w.switch(1);
    w.switch(2);
    w.throw(new Error('late'));
    expect(await g.promise()).toBe(1);
  });

  it('switch() from another greenlet does not switch into the waiter synchronously', async () => {
    const w = new Waiter<string>();
    const log: string[] = [];
    spawn(() => {
      log.push(`waiter got ${w.get()}`);
    });
    await runAsync(() => {
      sleep(0); // let the waiter park
      w.switch('x');
      log.push('after switch()');
      sleep(0);
      log.push('after sleep(0)');
    });
    expect(log).toEqual(['after switch()', 'waiter got x', 'after sleep(0)']);
  });

  it('switch() from an event-loop callback resumes the greenlet later, not inside the callback', async () => {
    const w = new Waiter<number>();
    const log: string[] = [];
    const g = spawn(() => {
      log.push(`resumed with ${w.get()}`);
    });
    await runAsync(() => sleep(1));
    setImmediate(() => {
      w.switch(3);
      log.push('callback done');
    });
    await g.promise();
    expect(log).toEqual(['callback done', 'resumed with 3']);
  });

  it('get() on the hub throws a GreenletError naming the operation', () => {
    const w = new Waiter('socket.recv()');
    expect(getcurrent().isRoot).toBe(true);
    expect(() => w.get()).toThrow(GreenletError);
    expect(() => w.get()).toThrow(
      "socket.recv() would block the event loop's own greenlet (the hub); call it inside a greenlet started with spawn()",
    );
    expect(w.ready).toBe(false);
  });

  it('clear() makes it reusable; clearing while a greenlet waits throws', async () => {
    const w = new Waiter<number>();
    w.switch(1);
    w.clear();
    expect(w.ready).toBe(false);
    const g = spawn(() => w.get());
    await runAsync(() => sleep(0));
    expect(() => w.clear()).toThrow(GreenletError);
    w.switch(2);
    expect(await g.promise()).toBe(2);
  });

  it('a kill interrupts get() and a later switch() is ignored', async () => {
    const w = new Waiter<number>();
    let finallyRan = false;
    const g = spawn(() => {
      try {
        return w.get();
      } finally {
        finallyRan = true;
      }
    });
    await runAsync(() => {
      sleep(0);
      g.kill();
    });
    expect(g.dead).toBe(true);
    expect(g.value).toBeInstanceOf(GreenletExit);
    expect(finallyRan).toBe(true);
    expect(w.ready).toBe(true); // settled by the kill
    w.switch(5); // ignored
  });

  it('a greenlet made with the raw primitive can park on a Waiter too', async () => {
    const w = new Waiter<number>();
    let got: number | undefined;
    const raw = new RawGreenlet(() => {
      got = w.get();
    });
    raw.switch(); // runs until it parks, then control is back here
    expect(got).toBeUndefined();
    w.switch(9);
    await runAsync(() => sleep(1));
    expect(got).toBe(9);
    expect(raw.dead).toBe(true);
  });
});

describe('getHub / assertMayBlock', () => {
  it('getHub() returns one Hub per thread whose greenlet is the root', async () => {
    const hub = getHub();
    expect(hub).toBeInstanceOf(Hub);
    expect(getHub()).toBe(hub);
    expect(hub.greenlet.isRoot).toBe(true);
    expect(hub.greenlet).toBe(getcurrent());
    expect(await runAsync(() => getHub())).toBe(hub);
  });

  it('assertMayBlock throws on the hub and passes inside a greenlet', async () => {
    expect(() => assertMayBlock('thing()')).toThrow(/^thing\(\) would block the event loop's own greenlet \(the hub\)/);
    await expect(runAsync(() => assertMayBlock('thing()'))).resolves.toBeUndefined();
  });

  it('runCallback runs callbacks in FIFO order with the ready greenlets', async () => {
    const log: string[] = [];
    getHub().runCallback(() => log.push('cb1'));
    spawn(() => log.push('g'));
    getHub().runCallback((x: string) => log.push(x), 'cb2');
    await runAsync(() => sleep(1));
    expect(log).toEqual(['cb1', 'g', 'cb2']);
    expect(() => getHub().runCallback(42 as never)).toThrow(TypeError);
  });

  it('unjoinedErrorHandler rejects non-functions', () => {
    expect(() => {
      getHub().unjoinedErrorHandler = 'x' as never;
    }).toThrow(TypeError);
  });
});
