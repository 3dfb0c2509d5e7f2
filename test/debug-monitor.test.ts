// greenloop/debug's monitor(): the native watchdog thread reports the
// greenlet that blocks the loop, with its stack, while it still blocks; an
// idle loop gives no report. Runs in child processes (native code), on the
// backend GREENLOOP_SWITCH selects (the suite runs both).
import { describe, expect, it } from 'vitest';
import { monitor } from '../lib/debug/index.js';
import { lastJson, runFixture } from './helpers.js';

describe('monitor()', () => {
  it('reports a greenlet busy-looping for 300 ms, naming it and the function, once; the hub too; an idle loop never', () => {
    const run = runFixture('debug-monitor.js');
    expect(run.status, run.stderr).toBe(0);
    const { reports, phases } = lastJson(run);
    // Every report was taken inside a block (an idle loop would show no spinFor frame).
    for (const report of reports) expect(report.stack).toMatch(/^ {4}at spinFor \(.*debug-monitor\.js:\d+:\d+\)\n/);
    const busy = reports.filter((r: any) => r.greenlet === 'cruncher');
    expect(busy.length).toBe(1); // once per block
    expect(busy[0].stack).toMatch(/\n {4}at crunchNumbersForAWhile /); // taken while it still blocked
    expect(busy[0].blockedMs).toBeGreaterThanOrEqual(100);
    expect(busy[0].frames).toBeGreaterThan(2);
    // A dump inside onBlock lists the parked bystander but switches into nothing.
    expect(busy[0].dumped).toEqual({ greenlets: 2, stacks: 0 });
    expect(phases.afterIdle).toBe(phases.afterGreenlet);
    expect(reports.slice(phases.afterIdle).map((r: any) => r.greenlet)).toEqual(['hub']);
    expect(phases.afterStop).toBe(phases.afterHub); // stopped: no report
  });

  it('by default prints the report to stderr', () => {
    const run = runFixture('debug-monitor.js', [], ['default']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toMatch(
      /greenloop: the event loop has not come back for \d+ ms: greenlet "cruncher" \(#\d+\) is running\n {4}at spinFor .*\n {4}at crunchNumbersForAWhile /,
    );
  });

  it('works in Workers (with profile() too), and a Worker terminated while it blocks ends cleanly', () => {
    const run = runFixture('debug-worker.js');
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const summary = lastJson(run);
    expect(summary.reports).toEqual([expect.stringMatching(/^worker-busy: at busyInWorker \(/)]);
    expect(summary.samples).toBeGreaterThan(0);
    expect(summary.reporterExit).toBe(0);
    expect(summary.terminated).toBe(1);
  });

  it('Workers terminated while they block under profile() or monitor(), on the root or in a greenlet, all end', () => {
    // A termination that arrived inside the watchdog's callback was swallowed (the Worker
    // spun on and terminate() never settled); a sample taken while terminating aborted.
    const run = runFixture('debug-worker-terminate.js', [], ['6'], 60_000);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const summary = lastJson(run);
    expect(summary.ended).toEqual({
      'profile root': 6,
      'profile greenlet': 6,
      'monitor root': 6,
      'monitor greenlet': 6,
    });
    expect(summary.codes).toEqual([1]);
  });

  it('refuses every park inside onBlock with a clear error, in a greenlet and on the hub, and all goes on', () => {
    // It used to park the interrupted greenlet from inside the interrupt: an
    // Event.wait() there left it parked for ever (LoopExit, then a crash).
    const run = runFixture('debug-monitor-parking.js', [], [], 30_000);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    type Attempt = { in: string; returned: boolean; name?: string; message?: string };
    const { value, afterValue, attempts } = lastJson<{ value: string; afterValue: string; attempts: Attempt[] }>(run);
    expect(value).toBe('finished'); // the busy greenlet ran on, and parked normally afterwards
    expect(afterValue).toBe('parked fine');
    const refusal =
      /^(sleep\(10\)|Event\.wait\(\)|sleep\(0\)|a patched call) cannot park inside monitor\(\)'s onBlock: /;
    // Four attempts per report, in order: sleep(10), Event.wait(), sleep(0), a patched readFileSync.
    const reports = (where: string) => {
      const mine = attempts.filter((a) => a.in === where);
      expect(mine.length % 4).toBe(0);
      return Array.from({ length: mine.length / 4 }, (_, i) => mine.slice(4 * i, 4 * i + 4));
    };
    const inGreenlet = reports('cruncher');
    expect(inGreenlet.length).toBeGreaterThanOrEqual(1);
    for (const tries of inGreenlet) {
      for (const a of tries) {
        expect([a.returned, a.name]).toEqual([false, 'GreenletError']); // the patched call would park too
        expect(a.message).toMatch(refusal);
      }
    }
    // On the hub: the same refusals; a patched sync call runs the original there, as always.
    const onHub = reports('hub');
    expect(onHub.length).toBeGreaterThanOrEqual(1);
    for (const tries of onHub) {
      for (const a of tries.slice(0, 3)) expect(a.message).toMatch(refusal);
      expect(tries[3]!.returned).toBe(true);
    }
    // A park that escapes onBlock is printed with the report's other errors.
    expect(run.stderr).toMatch(
      /monitor's onBlock threw: GreenletError: sleep\(5\) cannot park inside monitor\(\)'s onBlock/,
    );
  });

  it('refuses bad options and a second monitor', () => {
    expect(() => monitor({ threshold: 5 })).toThrow('threshold must be a number of ms >= 10, got number 5');
    expect(() => monitor({ onBlock: 'log' as never })).toThrow(/onBlock must be a function, got/);
    const m = monitor({ threshold: 1000, onBlock: () => {} });
    try {
      expect(() => monitor()).toThrow('a monitor is already running on this thread: stop() it first');
    } finally {
      m.stop();
    }
    monitor({ threshold: 1000, onBlock: () => {} }).stop(); // free again once stopped
  });
});
