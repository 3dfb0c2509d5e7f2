// greenloop/debug's profile(): a CPU-bound function inside a greenlet gets
// most of the samples, while V8's own `node --cpu-prof` gives it about none
// (its sampler follows the thread it started on; a greenlet runs under its
// own thread identity). Both run test/fixtures/debug-profile.js in a child.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { profile, type CpuProfile } from '../lib/debug/index.js';
import { runFixture } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'greenloop-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Time (µs) of the samples whose stack includes a frame named `name`, and the total. */
function inclusiveTime(p: CpuProfile, name: string): { hot: number; total: number; hotSamples: number } {
  const parents = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parents.set(c, n.id);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  let hot = 0;
  let total = 0;
  let hotSamples = 0;
  p.samples.forEach((id, i) => {
    total += p.timeDeltas[i]!;
    for (let x: number | undefined = id; x !== undefined; x = parents.get(x)) {
      if (byId.get(x)!.callFrame.functionName === name) {
        hot += p.timeDeltas[i]!;
        hotSamples++;
        break;
      }
    }
  });
  return { hot, total, hotSamples };
}

describe('profile()', () => {
  it('gives a CPU-bound function inside a greenlet most of the samples, under a root named after the greenlet', () => {
    const file = join(dir, 'greenloop.cpuprofile');
    const run = runFixture('debug-profile.js', [], ['greenloop', file]);
    expect(run.status, run.stderr).toBe(0);
    const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    expect(p.samples.length).toBe(p.timeDeltas.length);
    expect(p.endTime).toBeGreaterThan(p.startTime);
    expect(p.nodes[0]!.callFrame.functionName).toBe('(root)');
    const greenletRoot = p.nodes.find((n) => /^greenlet "hot" #\d+$/.test(n.callFrame.functionName))!;
    expect(p.nodes[0]!.children).toContain(greenletRoot.id);
    const { hotSamples } = inclusiveTime(p, 'hotLoopInGreenlet');
    expect(hotSamples / p.samples.length).toBeGreaterThan(0.5);
    const spin = p.nodes.find((n) => n.callFrame.functionName === 'spinFor')!;
    expect(spin.hitCount).toBeGreaterThan(0);
    expect(spin.callFrame.url).toMatch(/^file:\/\/.*debug-profile\.js$/);
    // 0-based, inside spinFor (lines 7-12 of the fixture), and the lines it spun on.
    expect(spin.callFrame.lineNumber).toBeGreaterThanOrEqual(6);
    expect(spin.callFrame.lineNumber).toBeLessThanOrEqual(11);
    expect(spin.positionTicks!.every((t) => t.line >= 7 && t.line <= 12)).toBe(true);
    expect(p.nodes.filter((n) => n.callFrame.functionName === 'spinFor').length).toBe(1); // one node, not one per line
  });

  it('while node --cpu-prof gives that function about none of its time', () => {
    const cpuDir = join(dir, 'v8');
    const run = runFixture('debug-profile.js', ['--cpu-prof', `--cpu-prof-dir=${cpuDir}`], ['plain']);
    expect(run.status, run.stderr).toBe(0);
    const [name] = readdirSync(cpuDir);
    const p = JSON.parse(readFileSync(join(cpuDir, name!), 'utf8')) as CpuProfile;
    const { hotSamples } = inclusiveTime(p, 'hotLoopInGreenlet');
    // The function spins for 400 ms of CPU, ~400 samples at --cpu-prof's 1 ms
    // interval; V8's sampler takes none or one there (that one then carries
    // the whole gap before it as its time delta).
    expect(p.samples.length).toBeGreaterThan(100);
    expect(hotSamples).toBeLessThan(20);
  });

  it('never samples its own listener and gives each greenlet one root, even at the finest interval', () => {
    // At 100 µs, samples keep landing while the listener of the one before
    // still runs, and while greenlets get their first id.
    const file = join(dir, 'busy.cpuprofile');
    const run = runFixture('debug-profile-busy.js', [], [file]);
    expect(run.status, run.stderr).toBe(0);
    const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    // The listener's entry point (a sample inside stop() may show its callees).
    const own = p.nodes.filter(
      (n) => n.callFrame.functionName === 'dispatch' && /debug[/\\]watchdog\.[jt]s$/.test(n.callFrame.url),
    );
    expect(own).toEqual([]);
    const roots = p.nodes[0]!.children.map((id) => p.nodes[id - 1]!.callFrame.functionName);
    expect(roots.filter((name) => name.startsWith('greenlet "hub"'))).toHaveLength(1);
    const ids = roots.filter((name) => name !== '(idle)').map((name) => /#(\d+)$/.exec(name)![1]);
    expect(new Set(ids).size).toBe(ids.length);
    expect(roots.length).toBeGreaterThan(5); // many greenlets were sampled (fewest on the threads backend)
    // No two samples of one moment (DevTools would nest the next stack inside a zero-length one).
    expect(p.timeDeltas.slice(1).filter((us) => us < 100 / 4 - 1)).toEqual([]);
  });

  it('names a greenlet as it is called at stop(), also one renamed after its first sample', () => {
    const run = runFixture('debug-profile-rename.js', [], []);
    expect(run.status, run.stderr).toBe(0);
    const roots = JSON.parse(run.stdout.trim().split('\n').pop()!) as string[];
    expect(roots.some((name) => /^greenlet "renamed" #\d+$/.test(name))).toBe(true);
    expect(roots.some((name) => name.includes('"before"'))).toBe(false);
  });

  it('refuses bad options and a second profile; stop() twice throws', () => {
    expect(() => profile({ interval: 10 })).toThrow('interval must be a number of µs >= 100, got number 10');
    expect(() => profile({ file: 7 as never })).toThrow(/file must be a string, got/);
    const p = profile();
    try {
      expect(() => profile()).toThrow('a profile is already running on this thread: stop() it first');
    } finally {
      p.stop();
    }
    expect(() => p.stop()).toThrow('this profile was already stopped');
  });
});
