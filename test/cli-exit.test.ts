// How a script run by greenloop ends, compared with the same script under
// plain node: exit statuses, how an uncaught error is printed (source line,
// caret, stack), and the order of callbacks its top level schedules.
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { describeRun, makeProject, runCli, runNode, type Run } from './cli-helpers.js';

/** The first `lines` lines of stderr: the part Node prints above the stack's frames. */
function head(run: Run, lines: number): string {
  return run.stderr.split('\n').slice(0, lines).join('\n');
}

describe('exit status and uncaught errors', () => {
  const dir = makeProject({
    'throws.js': "const x = 1;\n  throw new Error('boom at top level');\n",
    'typeerror.js': 'const o = null;\nconsole.log(o.field);\n',
    'made-elsewhere.js': "const e = new Error('made on line 1');\nif (e) throw e;\n",
    'throws.mjs': "export const x = 1;\nthrow new RangeError('from an ES module');\n",
    'throws-after-park.mjs':
      "import { sleep } from 'greenloop';\nsleep(20);\n  throw new Error('esm after parking');\n",
    'throwing-dep.mjs': "export const x = 1;\nthrow new Error('from a required ES module');\n",
    'requires-throwing-esm.js': "require('./throwing-dep.mjs');\n",
    'throws-after-park.js':
      "const { sleep } = require('greenloop');\nsleep(20);\nthrow new TypeError('after parking');\n",
    'exit-code.js': 'process.exitCode = 3;\nsetTimeout(() => {}, 10);\n',
    'exit-call.js':
      "const { sleep } = require('greenloop');\nsleep(10);\nprocess.exit(4);\nconsole.log('not reached');\n",
    'exit-call-top.js': "process.on('exit', (c) => console.log('exit event', c));\nprocess.exit(5);\n",
    'rejects.js': "Promise.reject(new Error('nobody handles this'));\n",
    'handled.js': [
      "process.on('uncaughtException', (e) => console.log('handler saw', e.message));",
      "setTimeout(() => console.log('still running'), 20);",
      "throw new Error('handled at top');",
      '',
    ].join('\n'),
    'syntax.js': 'const x = 1;\nx(;\n',
    'throws-string.js': "throw 'a string';\n",
    'stuck.js': "const { Event } = require('greenloop');\nnew Event().wait();\nconsole.log('not reached');\n",
    'stuck-then-exit.js': [
      "const { Event, spawn, sleep } = require('greenloop');",
      'spawn(() => { sleep(10); process.exit(0); });',
      'new Event().wait();',
      '',
    ].join('\n'),
    'stuck-exit-code.js': "const { Event } = require('greenloop');\nprocess.exitCode = 2;\nnew Event().wait();\n",
    'pending.js': [
      "const { spawn, sleep } = require('greenloop');",
      "spawn(() => { sleep(80); console.log('greenlet finished'); });",
      "console.log('top level done');",
      '',
    ].join('\n'),
  });

  it('an error thrown by the top level exits 1, printed as node prints it: file:line, source line, caret, stack', () => {
    const plain = runNode(dir, ['throws.js']);
    const run = runCli(dir, ['throws.js']);
    expect(run.status, describeRun(run)).toBe(1);
    expect(head(run, 6)).toBe(head(plain, 6));
    expect(head(run, 6)).toBe(
      `${join(dir, 'throws.js')}:2\n  throw new Error('boom at top level');\n  ^\n\nError: boom at top level\n` +
        `    at Object.<anonymous> (${join(dir, 'throws.js')}:2:9)`,
    );
    expect(run.stderr).toContain(`Node.js ${process.version}`);
  });

  it('a runtime TypeError gets its caret where node puts it', () => {
    const plain = runNode(dir, ['typeerror.js']);
    const run = runCli(dir, ['typeerror.js']);
    expect(run.status).toBe(1);
    expect(head(run, 6)).toBe(head(plain, 6));
  });

  it('an error made on another line shows the line it was made on (node shows the throw; documented)', () => {
    const run = runCli(dir, ['made-elsewhere.js']);
    expect(run.status).toBe(1);
    expect(head(run, 5)).toBe(
      `${join(dir, 'made-elsewhere.js')}:1\nconst e = new Error('made on line 1');\n          ^\n\nError: made on line 1`,
    );
  });

  it("an ES module entry's error is printed with its file URL, as node prints it", () => {
    const plain = runNode(dir, ['throws.mjs']);
    const run = runCli(dir, ['throws.mjs']);
    expect(run.status).toBe(1);
    expect(head(run, 6)).toBe(head(plain, 6));
  });

  it('an error after the top level parked exits 1 too, with its source line', () => {
    const run = runCli(dir, ['throws-after-park.js']);
    expect(run.status, describeRun(run)).toBe(1);
    expect(head(run, 5)).toBe(
      `${join(dir, 'throws-after-park.js')}:3\nthrow new TypeError('after parking');\n^\n\nTypeError: after parking`,
    );
    expect(run.stderr).not.toContain('nobody joined it');
  });

  it("an ES module entry's error after it parked, and an error of an ES module a CommonJS entry requires, print their source line once", () => {
    const run = runCli(dir, ['throws-after-park.mjs']);
    expect(run.status, describeRun(run)).toBe(1);
    expect(head(run, 5)).toBe(
      `${pathToFileURL(join(dir, 'throws-after-park.mjs')).href}:3\n  throw new Error('esm after parking');\n        ^\n\nError: esm after parking`,
    );
    const plain = runNode(dir, ['requires-throwing-esm.js']);
    const viaCjs = runCli(dir, ['requires-throwing-esm.js']);
    expect(viaCjs.status).toBe(1);
    expect(head(viaCjs, 6)).toBe(head(plain, 6));
  });

  it('process.exitCode and process.exit(n) are kept', () => {
    expect(runCli(dir, ['exit-code.js']).status).toBe(3);
    const run = runCli(dir, ['exit-call.js']);
    expect(run.status, describeRun(run)).toBe(4);
    expect(run.stdout).not.toContain('not reached');
    const top = runCli(dir, ['exit-call-top.js']);
    expect(top).toMatchObject({ status: 5, stdout: 'exit event 5\n' });
  });

  it('an unhandled rejection fails as under node', () => {
    const plain = runNode(dir, ['rejects.js']);
    const run = runCli(dir, ['rejects.js']);
    expect(run.status).toBe(plain.status);
    expect(run.status).toBe(1);
    expect(head(run, 6)).toBe(head(plain, 6));
  });

  it("an uncaughtException listener gets the top level's error and the process goes on", () => {
    const run = runCli(dir, ['handled.js']);
    expect(run).toMatchObject({ status: 0, stdout: 'handler saw handled at top\nstill running\n', stderr: '' });
  });

  it('a syntax error in the entry is reported as node reports it', () => {
    const plain = runNode(dir, ['syntax.js']);
    const run = runCli(dir, ['syntax.js']);
    expect(run.status).toBe(1);
    expect(head(run, 5)).toBe(head(plain, 5));
    expect(head(run, 5)).toContain('SyntaxError');
  });

  it('a thrown non-error exits 1 and shows the value, as under node', () => {
    const run = runCli(dir, ['throws-string.js']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('a string');
  });

  it("a top level still parked when the loop runs out of work exits 13 (node's status for unsettled top-level await), saying where it waits", () => {
    const run = runCli(dir, ['stuck.js']);
    expect(run.status, describeRun(run)).toBe(13);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(
      'greenloop: LoopExit: the event loop is about to exit, but 1 greenlet is still parked',
    );
    expect(run.stderr).toContain('greenlet "main" waits in Event.wait()');
    expect(run.stderr).toContain(`${join(dir, 'stuck.js')}:2`);
    // process.exit(0) and a process.exitCode set before keep their status.
    expect(runCli(dir, ['stuck-then-exit.js']).status).toBe(0);
    expect(runCli(dir, ['stuck-exit-code.js']).status).toBe(2);
  });

  it('the process stays alive while greenlets are pending, then exits 0', () => {
    const run = runCli(dir, ['pending.js']);
    expect(run).toMatchObject({ status: 0, stdout: 'top level done\ngreenlet finished\n' });
  });
});

/**
 * Logs `group:event`. Within a group the order is fixed by Node's rules; across
 * the loop-phase groups it depends on timing (a timer's delay counts from the
 * loop's start, so slow start-up may let it fire in the first turn), so the
 * tests compare each group's order, and that all of "now" comes first.
 */
const ordering = `
const fs = require('fs');
const log = [];
const say = (group, what) => log.push(group + ':' + what);
say('now', 'sync 1');
process.nextTick(() => { say('now', 'tick 1'); Promise.resolve().then(() => say('now', 'promise in tick')); });
Promise.resolve().then(() => { say('now', 'promise 1'); process.nextTick(() => say('now', 'tick in promise')); });
queueMicrotask(() => say('now', 'microtask'));
setImmediate(() => { say('check', 'immediate 1'); process.nextTick(() => say('check', 'tick in immediate')); });
setImmediate(() => say('check', 'immediate 2'));
setTimeout(() => say('timers', 'timeout 30'), 30);
setTimeout(() => say('timers', 'timeout 60'), 60);
setTimeout(() => say('timers', 'timeout 60 second'), 60);
fs.readFile(__filename, () => {
  say('io', 'readFile callback');
  setTimeout(() => say('io', 'timeout 0 in io'), 0);
  setImmediate(() => say('io', 'immediate in io'));
});
(async () => { say('now', 'async fn sync part'); await null; say('now', 'after await'); })();
process.nextTick(() => say('now', 'tick 2'));
say('now', 'sync 2');
process.on('exit', () => console.log(JSON.stringify(log)));
`;

/** Expects `got` to show the same order as `expected`: "now" first, then each group in its order. */
function expectSameOrder(got: string[], expected: string[], label: string): void {
  expect([...got].sort(), label).toEqual([...expected].sort());
  const now = expected.filter((e) => e.startsWith('now:'));
  expect(got.slice(0, now.length), label).toEqual(now);
  for (const group of ['check', 'timers', 'io']) {
    const ofGroup = (list: string[]): string[] => list.filter((e) => e.startsWith(`${group}:`));
    expect(ofGroup(got), `${label}, ${group}`).toEqual(ofGroup(expected));
  }
}

describe('callbacks scheduled by the top level', () => {
  const dir = makeProject({
    'order.js': ordering,
    'order.mjs': ordering.replace(
      "const fs = require('fs');",
      "import fs from 'node:fs';\nconst __filename = import.meta.filename;",
    ),
  });

  it('run in the same order as under plain node (nextTick, promises, immediates, timers, IO)', () => {
    const plain = runNode(dir, ['order.js']);
    expect(plain.status, describeRun(plain)).toBe(0);
    const expected = JSON.parse(plain.stdout) as string[];
    expect(expected.slice(0, 10)).toEqual(
      [
        'sync 1',
        'async fn sync part',
        'sync 2',
        'tick 1',
        'tick 2',
        'promise 1',
        'microtask',
        'after await',
        'promise in tick',
        'tick in promise',
      ].map((e) => `now:${e}`),
    );
    for (const args of [['--no-patch', 'order.js'], ['order.js']]) {
      const run = runCli(dir, args);
      expect(run.status, describeRun(run)).toBe(0);
      expectSameOrder(JSON.parse(run.stdout), expected, args.join(' '));
    }
    expectSameOrder(JSON.parse(runNode(dir, ['-r', 'greenloop/run', 'order.js']).stdout), expected, '-r greenloop/run');
  });

  it('in an ES module entry too (promise callbacks before nextTick callbacks, as node runs an ES module entry)', () => {
    const plain = runNode(dir, ['order.mjs']);
    expect(plain.status, describeRun(plain)).toBe(0);
    const expected = JSON.parse(plain.stdout) as string[];
    expect(expected.indexOf('now:promise 1')).toBeLessThan(expected.indexOf('now:tick 1'));
    const run = runCli(dir, ['order.mjs']);
    expect(run.status, describeRun(run)).toBe(0);
    expectSameOrder(JSON.parse(run.stdout), expected, 'order.mjs');
  });
});
