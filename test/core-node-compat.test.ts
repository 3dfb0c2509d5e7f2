import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Greenlet, getcurrent, runOnRoot } from '../lib/greenlet.js';
import { lastJson, runFixture } from './helpers.js';
import { makeCert, tempDir } from './io-helpers.js';

describe('runOnRoot', () => {
  it('runs a function on the root from inside a greenlet and returns its value', () => {
    const root = getcurrent();
    const g = new Greenlet(() => {
      const where = runOnRoot(() => getcurrent());
      return [where === root, getcurrent() === g];
    });
    expect(g.switch()).toEqual([true, true]);
  });

  it("rethrows the function's error in the calling greenlet, which keeps running", () => {
    const g = new Greenlet(() => {
      try {
        runOnRoot(() => {
          throw new RangeError('from the root');
        });
      } catch (error) {
        return (error as Error).message;
      }
      return 'not thrown';
    });
    expect(g.switch()).toBe('from the root');
  });

  it('on the root, simply calls the function', () => {
    expect(runOnRoot(() => 42)).toBe(42);
  });
});

describe('Node internals with per-thread state', () => {
  it('TLS contexts and connections made in many greenlets and on the root do not abort (Node 24)', () => {
    const { key, cert } = makeCert();
    const dir = tempDir('greenloop-tls-');
    const keyPath = join(dir.path, 'key.pem');
    const certPath = join(dir.path, 'cert.pem');
    writeFileSync(keyPath, key);
    writeFileSync(certPath, cert);
    let run: ReturnType<typeof runFixture>;
    try {
      run = runFixture('tls-contexts.js', [], [keyPath, certPath]);
    } finally {
      dir.cleanup();
    }
    expect(run.stderr).not.toMatch(/CleanupQueue|Assertion failed/);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(lastJson(run)).toEqual({ made: 9, replies: 3, parkedFinished: true });
  });
});

describe('stack limits across greenlets of different stack sizes', () => {
  // Node 26 (V8 14) keeps one "central stack" size per isolate; a throw outside
  // it aborted the process ("Check failed: IsOnCentralStack()").
  const expected = {
    rootThrowAfterSmall: 'plain',
    rootOverflowAfterSmall: 'RangeError@deep',
    bigAfterSmall: 'RangeError@deep',
    smallAfterBig: 'RangeError@deep',
    greenletToGreenlet: 'RangeError@deep',
    bigResumedBySmall: 'RangeError@deep',
    smallResumedByRoot: 'RangeError@deep',
    smallResumedByBig: 'RangeError@deep',
    rootOverflowAfterAll: 'RangeError@deep',
    rootThrowAfterAll: 'plain',
  };

  it('deep throws and overflows on the root and in greenlets stay catchable, on the main thread and in a Worker', () => {
    const run = runFixture('central-stack.js');
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    const s = lastJson(run);
    expect(s.main).toEqual(expected);
    expect(s.worker).toEqual(expected);
    expect(s.workerExit).toBe(0);
  });
});
