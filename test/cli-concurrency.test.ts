// Unmodified sync code run by greenloop: Node's blocking calls (patched by
// greenloop/monkey) park only the greenlet that makes them, so copies of a
// script spawned as greenlets, and real npm packages built on sync APIs
// (shelljs, fs-extra), run concurrently; with --no-patch they run one after
// another. Overlap is shown by each job's start and end times, not by speed.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { describeRun, makeProject, packageRoot, runCli, runCommand, runNode, summary } from './cli-helpers.js';

/** A plain sync script, as a user would have it: no greenloop in it. */
const job = `
const fs = require('fs');
const { execSync } = require('child_process');
const self = fs.readFileSync(__filename, 'utf8');
if (!self.includes('execSync')) throw new Error('read the wrong file');
execSync('sleep 0.3');
`;

/** Spawns one greenlet per copy of the job and reports when each ran. */
const runCopies = `
const { spawn, joinall } = require('greenloop');
const t0 = Date.now();
const spans = [];
const gs = [1, 2, 3, 4].map((n) => spawn(() => {
  const start = Date.now() - t0;
  require('./job' + n + '.js');
  spans.push({ n, start, end: Date.now() - t0 });
}));
joinall(gs, { raiseError: true });
console.log(JSON.stringify({ spans, elapsed: Date.now() - t0 }));
`;

interface Span {
  n: number;
  start: number;
  end: number;
}

/** Whether every job started before any job ended (all were in flight at once). */
function allOverlap(spans: Span[]): boolean {
  return Math.max(...spans.map((s) => s.start)) < Math.min(...spans.map((s) => s.end));
}

/** Whether each job started only after the one before it had ended. */
function oneAfterAnother(spans: Span[]): boolean {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  return sorted.every((s, i) => i === 0 || s.start >= sorted[i - 1]!.end);
}

describe('four copies of an unmodified sync script spawned as greenlets', () => {
  const dir = makeProject({
    'main.js': runCopies,
    'job1.js': job,
    'job2.js': job,
    'job3.js': job,
    'job4.js': job,
  });

  it('run concurrently under greenloop: all four are in flight at once', () => {
    const { spans, elapsed } = summary<{ spans: Span[]; elapsed: number }>(runCli(dir, ['main.js']));
    expect(spans).toHaveLength(4);
    // The proof is the overlap, not the total time: on a busy machine four shells can take
    // longer to start than the 900 ms margin a bound on `elapsed` had.
    expect(allOverlap(spans), JSON.stringify(spans)).toBe(true);
    console.log(`4 x (readFileSync + execSync('sleep 0.3')) under greenloop: ${elapsed} ms`);
  });

  it('under node -r greenloop/run too', () => {
    const { spans } = summary<{ spans: Span[] }>(runNode(dir, ['-r', 'greenloop/run', 'main.js']));
    expect(allOverlap(spans), JSON.stringify(spans)).toBe(true);
  });

  it('run one after another with --no-patch (the top level still runs in a greenlet)', () => {
    const { spans, elapsed } = summary<{ spans: Span[]; elapsed: number }>(runCli(dir, ['--no-patch', 'main.js']));
    expect(oneAfterAnother(spans), JSON.stringify(spans)).toBe(true);
    expect(elapsed).toBeGreaterThanOrEqual(1200);
    console.log(`the same with --no-patch: ${elapsed} ms`);
  });
});

/** A top level that blocks in sync calls while an interval should keep ticking. */
const blockingTopLevel = `
const fs = require('fs');
const { execSync } = require('child_process');
let ticks = 0;
const interval = setInterval(() => ticks++, 10);
const text = fs.readFileSync(__filename, 'utf8');
const out = execSync('sleep 0.3; echo done sleeping', { encoding: 'utf8' });
const ticksDuringSleep = ticks;
clearInterval(interval);
console.log(JSON.stringify({ readSelf: text.includes('ticksDuringSleep'), out, ticksDuringSleep }));
`;

describe('a top level blocking in readFileSync and execSync', () => {
  const dir = makeProject({
    'top.js': blockingTopLevel,
    'top.mjs': blockingTopLevel.replace(
      "const fs = require('fs');\nconst { execSync } = require('child_process');",
      "import fs from 'node:fs';\nimport { execSync } from 'node:child_process';\nconst __filename = import.meta.filename;",
    ),
  });

  it("parks the main greenlet: the event loop keeps running (timers fire) and the results are the originals'", () => {
    for (const file of ['top.js', 'top.mjs']) {
      const got = summary(runCli(dir, [file]));
      expect(got, file).toMatchObject({ readSelf: true, out: 'done sleeping\n' });
      expect(got.ticksDuringSleep, file).toBeGreaterThan(0);
    }
  });

  it('blocks the whole process under plain node and with --no-patch (no timer fires)', () => {
    expect(summary(runNode(dir, ['top.js']))).toEqual({ readSelf: true, out: 'done sleeping\n', ticksDuringSleep: 0 });
    expect(summary(runCli(dir, ['--no-patch', 'top.js'])).ticksDuringSleep).toBe(0);
  });
});

describe('real npm packages built on sync APIs', () => {
  const shelljsDir = join(packageRoot, 'node_modules', 'shelljs');
  const fsExtraDir = join(packageRoot, 'node_modules', 'fs-extra');

  it("shelljs's exec: four greenlets each running exec('sleep 0.3') overlap", () => {
    const dir = makeProject({
      'main.js': `
const shell = require(${JSON.stringify(shelljsDir)});
const { spawn, joinall } = require('greenloop');
const t0 = Date.now();
const spans = [];
joinall([1, 2, 3, 4].map((n) => spawn(() => {
  const start = Date.now() - t0;
  const result = shell.exec('sleep 0.3; echo shell ' + n, { silent: true });
  if (result.code !== 0 || result.stdout !== 'shell ' + n + '\\n') throw new Error('bad result ' + JSON.stringify(result));
  spans.push({ n, start, end: Date.now() - t0 });
})), { raiseError: true });
console.log(JSON.stringify({ spans, elapsed: Date.now() - t0 }));
`,
    });
    const patched = summary<{ spans: Span[]; elapsed: number }>(runCli(dir, ['main.js']));
    expect(allOverlap(patched.spans), JSON.stringify(patched.spans)).toBe(true);
    const unpatched = summary<{ spans: Span[]; elapsed: number }>(runCli(dir, ['--no-patch', 'main.js']));
    expect(oneAfterAnother(unpatched.spans), JSON.stringify(unpatched.spans)).toBe(true);
    console.log(`shelljs exec x4: ${patched.elapsed} ms patched, ${unpatched.elapsed} ms with --no-patch`);
  });

  it("fs-extra's *Sync functions: a readJsonSync and a writeJsonSync of one FIFO in two greenlets complete (unpatched they deadlock)", () => {
    const dir = makeProject({
      'main.js': `
const fse = require(${JSON.stringify(fsExtraDir)});
const { spawn, joinall } = require('greenloop');
const path = require('path');
const fifo = path.join(__dirname, 'pipe');
fse.ensureDirSync(path.join(__dirname, 'out'));
const reader = spawn(() => fse.readJsonSync(fifo));
const writer = spawn(() => fse.writeJsonSync(fifo, { sent: [1, 2, 3] }));
joinall([reader, writer], { raiseError: true });
fse.outputJsonSync(path.join(__dirname, 'out', 'copy.json'), reader.value);
fse.copySync(path.join(__dirname, 'out'), path.join(__dirname, 'out2'));
console.log(JSON.stringify({ got: reader.value, copied: fse.readJsonSync(path.join(__dirname, 'out2', 'copy.json')) }));
`,
    });
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    expect(summary(runCli(dir, ['main.js']))).toEqual({ got: { sent: [1, 2, 3] }, copied: { sent: [1, 2, 3] } });
    const stuck = runCli(dir, ['--no-patch', 'main.js'], { timeoutMs: 2000 });
    expect(stuck.signal, describeRun(stuck)).toBe('SIGTERM');
  });
});

describe("the README's quick start", () => {
  const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');
  const example = /<!-- quick-start-script -->\s*```js\n([\s\S]*?)```/.exec(readme)?.[1];
  const shown = /<!-- quick-start-output -->\s*```console\n([\s\S]*?)```/.exec(readme)?.[1];

  it('runs as shown with npx greenloop', () => {
    expect(example, 'README has the marked quick-start script').toBeTypeOf('string');
    expect(shown, 'README has the marked quick-start output').toBeTypeOf('string');
    const file = /^\/\/ (\S+\.js)/.exec(example!)?.[1];
    expect(file, 'the script names its file in its first line').toBeTypeOf('string');
    const dir = makeProject({ [file!]: example! });
    const command = /^\$ (npx greenloop .*)$/m.exec(shown!)?.[1];
    expect(command).toBe(`npx greenloop ${file}`);
    // npx as a user runs it: through node_modules/.bin and the bin's shebang.
    const run = runCommand(dir, 'npx', ['--no', 'greenloop', file!]);
    expect(run.status, describeRun(run)).toBe(0);
    const expected = shown!.split('\n').filter((line) => line !== '' && !line.startsWith('$'));
    const got = run.stdout.trimEnd().split('\n');
    expect(got).toHaveLength(expected.length);
    for (let i = 0; i < expected.length; i++) {
      // Timings vary: "<n> ms" in the shown output stands for any number of ms.
      const pattern = expected[i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\d+ ms/g, '\\d+ ms');
      expect(got[i]).toMatch(new RegExp(`^${pattern}$`));
    }
    // The claim the example makes: three 0.5 s waits overlap (one after another: >= 1500 ms).
    const ms = Number(/(\d+) ms/.exec(got[got.length - 1]!)?.[1]);
    expect(ms).toBeLessThan(1500);
  });
});
