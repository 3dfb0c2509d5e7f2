import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixtureSummary, lastJson, runFixture } from './helpers.js';

type Probe = { value?: unknown; error?: string; parked: boolean };
type Calls = Record<'readFileSync' | 'statSync' | 'execSync', Probe>;

const expectOriginal = (calls: Calls | string) => {
  expect(calls).not.toBe('did not run');
  for (const probe of Object.values(calls as Calls)) {
    expect(probe.error).toBeUndefined(); // never a GreenletError because of where it was called
    expect(probe.parked).toBe(false);
  }
  expect((calls as Calls).execSync.value).toBe('ok\n');
};

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

describe('greenloop/monkey: the rule', () => {
  const out = fixtureSummary('monkey-rule.js', { flags: ['--expose-gc'] });

  it('a spawned greenlet parks in patched calls', () => {
    for (const probe of Object.values(out.spawned as Calls)) expect(probe).toMatchObject({ parked: true });
    expect(out.spawned.execSync.value).toBe('ok\n');
  });

  it.each(['root', 'timer', 'promise', 'rawGreenlet', 'finalizer', 'exitHandler'])(
    'in a %s the original runs, exactly',
    (where) => expectOriginal(out[where]),
  );

  it('inside a nested async scope a patched call parks, and the scope is still current after it', () => {
    for (const probe of Object.values(out.nestedScope as Calls)) expect(probe).toMatchObject({ parked: true });
    expect(out.nestedScope.execSync.value).toBe('ok\n');
    expect(out.nestedScopeKept).toBe(true);
  });

  it('where async scopes cannot follow greenlets (GREENLOOP_ASYNC_STACK=refuse), a nested scope runs the original, exactly', () => {
    const refused = fixtureSummary('monkey-rule.js', {
      flags: ['--expose-gc'],
      env: { ...process.env, GREENLOOP_ASYNC_STACK: 'refuse' },
    });
    expectOriginal(refused.nestedScope);
    expect(refused.nestedScopeKept).toBe(true);
  });

  it("Node's CommonJS loader does not park; the module's body does", () => {
    expect(out.loader).toEqual({ turnedBeforeBody: false, text: true, turnedInBody: true });
  });

  it('require(esm) from a greenlet: the ES module loader does not park; the top level does', () => {
    expect(out.esm).toMatchObject({ turnedBeforeBody: false, turnedInBody: true });
  });

  it('a second greenlet requiring a module whose body is parked waits and gets the complete exports', () => {
    expect(out.moduleLock).toEqual([
      'a requires',
      "b requires while a's body ran 1 time(s)",
      'a got complete=true',
      'b got complete=true',
    ]);
    expect(out.bodyRuns).toBe(1);
  });

  it('an execSync interrupted by an error thrown into it (as a Timeout does) or kill() leaves no child running', () => {
    expect(out.interrupted).toEqual({ error: 'Error: thrown in', childAlive: false });
    expect(out.killed).toEqual({ dead: true, childAlive: false });
  });

  it('process.exit() during a patched execSync kills the child', () => {
    const run = runFixture('monkey-rule.js', [], ['exit']);
    expect(run.status).toBe(0);
    const { pid } = lastJson<{ pid: number }>(run);
    expect(pid).toBeGreaterThan(0);
    // SIGKILL was sent at 'exit'; give a busy machine a moment to deliver it.
    const until = Date.now() + 5000;
    while (alive(pid) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    expect(alive(pid)).toBe(false);
  });

  it('patching is idempotent; isPatched and getOriginal report it; own properties are kept', () => {
    expect(out.idempotent).toBe(true);
    expect(out.isPatched).toEqual([true, true, false, true]);
    expect(out.getOriginal).toBe(true);
    expect(out.keepsOwnProperties).toBe(true);
    expect(out.badModule).toMatch(/^TypeError: patch\(\): module must be one of 'fs', .* got string "net"$/);
  });

  it("ES modules' named imports see the patch", () => {
    expect(out.esmNamedImportPatched).toBe(true);
  });

  it('unpatch() restores the originals, ESM named imports included', () => {
    expect(out.unpatched).toEqual({
      identity: true,
      isPatched: false,
      stillWorks: { value: true, parked: false },
      esmNamedImport: true,
    });
    expect(out.mainError).toBeUndefined();
  });

  it("unpatch() leaves a wrapper put over a patched function (graceful-fs's closeSync); copies act as originals", () => {
    expect(fixtureSummary('monkey-rule.js', { args: ['wrapped'] })).toEqual({
      wrapped: true,
      fseUsesPatched: true,
      wrapperKept: true,
      readFileSyncRestored: true,
      copyAfterUnpatch: { value: true, parked: false },
      warnings: [],
    });
  });

  it('warns once, naming the module, when a package loaded before patching holds an original', () => {
    const late = fixtureSummary('monkey-rule.js', { args: ['late'] });
    expect(late.warnings).toHaveLength(1);
    expect(late.warnings[0].code).toBe('GREENLOOP_PATCHED_LATE');
    expect(late.warnings[0].message).toMatch(/fs-extra.*before greenloop\/monkey patched 'fs'/);
    expect(late.fseStillOriginal).toBe(true);
  });
});
