// Reports to stderr: errors nobody joined (gevent prints them with the
// greenlet's name) and greenlets still parked when the loop runs out of work
// (gevent's LoopExit). Each case runs in a child process.
import { describe, expect, it } from 'vitest';
import { GreenletError, RawGreenlet, getHub, runAsync, sleep, spawn } from '../lib/index.js';
import { lastJson, runFixture } from './helpers.js';

describe('unjoined errors', () => {
  it("are printed to stderr with the greenlet's name and the error's stack; handled ones are not", () => {
    const run = runFixture('hub-unjoined.js', [], ['print']);
    // The process goes on, and exits with status 1 at the end (as if uncaught).
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toMatch(
      /greenloop: greenlet "worker-7" failed and nobody joined it:\nError: kaboom from worker\n\s+at (Greenlet\.)?failingWorker /,
    );
    expect(run.stderr).toMatch(/greenlet "other" failed and nobody joined it:\nTypeError: second unjoined/);
    for (const handled of ['joined one', 'linked one', 'promised one', 'killed one']) {
      expect(run.stderr).not.toContain(handled);
    }
    expect(lastJson(run).done).toBe(true);
  });

  it('go to getHub().unjoinedErrorHandler when one is set', () => {
    const run = runFixture('hub-unjoined.js', [], ['handler']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).not.toContain('kaboom');
    expect(lastJson(run).routed.sort()).toEqual(['other: second unjoined', 'worker-7: kaboom from worker']);
  });

  it('an exit status set by the program stays', () => {
    const run = runFixture('hub-unjoined.js', [], ['exitcode']);
    expect(run.stderr).toContain('kaboom from worker');
    expect(run.status, run.stderr).toBe(3);
  });

  it('a handler that throws is called once per error; its own error becomes the uncaught exception', () => {
    const run = runFixture('hub-unjoined.js', [], ['rethrow']);
    expect(run.status, run.stderr).toBe(0);
    const s = lastJson(run);
    expect(s.routed.sort()).toEqual(['kaboom from worker', 'second unjoined']);
    expect(s.uncaught.sort()).toEqual(['rethrown: kaboom from worker', 'rethrown: second unjoined']);
  });

  it('a handler that throws makes them fatal', () => {
    const run = runFixture('hub-unjoined.js', [], ['fatal']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/kaboom from worker|second unjoined/);
    expect(run.stdout).not.toContain('"done":true');
  });

  it('an error stays available as exception after being reported', async () => {
    const seen: unknown[] = [];
    const hub = getHub();
    hub.unjoinedErrorHandler = (e) => seen.push(e);
    try {
      const err = new Error('kept');
      const g = spawn(() => {
        throw err;
      });
      await runAsync(() => sleep(5));
      expect(seen).toEqual([err]);
      expect(g.exception).toBe(err);
    } finally {
      hub.unjoinedErrorHandler = null;
    }
  });

  it('an error that escapes a raw greenlet the hub resumed is reported too', async () => {
    const seen: unknown[] = [];
    const hub = getHub();
    hub.unjoinedErrorHandler = (e, g) => seen.push([e, g instanceof RawGreenlet]);
    try {
      const err = new Error('raw');
      const raw = new RawGreenlet(() => {
        sleep(1);
        throw err;
      });
      raw.switch();
      await runAsync(() => sleep(5));
      expect(seen).toEqual([[err, true]]);
    } finally {
      hub.unjoinedErrorHandler = null;
    }
  });
});

describe('greenlets parked at exit (LoopExit)', () => {
  it('the exit report names each parked greenlet, what it waits in and where', () => {
    const run = runFixture('hub-loopexit.js');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /greenloop: LoopExit: the event loop is about to exit, but 2 greenlets are still parked/,
    );
    expect(run.stderr).toMatch(
      /greenlet "signal-waiter" waits in Event\.wait\(\)\n\s+at (Greenlet\.)?waitForTheSignal /,
    );
    expect(run.stderr).toMatch(/greenlet "consumer" waits in Queue\.get\(\)\n\s+at (Greenlet\.)?consumeForever /);
    expect(run.stderr).not.toMatch(/lib[/\\]/); // greenloop's own frames are left out
    expect(lastJson(run).code).toBe(0);
  });

  it('blocking calls made on the hub throw GreenletError instead of hanging', () => {
    expect(() => sleep(1)).toThrow(GreenletError);
  });
});
