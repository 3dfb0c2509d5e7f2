// The runner's debug flags: --dump-on-signal[=SIG] and --cpu-profile[=FILE].
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeProject, runCli } from './cli-helpers.js';

// Each step follows the one before, not a timer (a late signal raced a timed exit): a greenlet
// that runs once 'stuck' has parked sends the signal, and a listener added after the dump's (when
// the flag made one) exits once the dump is written. The timer only keeps the loop alive.
const stuck = `
const { spawn, Event } = require('greenloop');
const never = new Event();
spawn(function waitsForTheSignal() { never.wait(); }).name = 'stuck';
const signal = process.argv[2];
if (process.listenerCount(signal) > 0) process.on(signal, () => process.exit(0));
setTimeout(() => { console.error('the signal never came'); process.exit(1); }, 50_000);
spawn(() => process.kill(process.pid, signal));
`;

describe('greenloop --dump-on-signal', () => {
  it('prints a dump of every greenlet to stderr on SIGUSR2 by default, or on the signal named', () => {
    const dir = makeProject({ 'stuck.js': stuck });
    const byDefault = runCli(dir, ['--dump-on-signal', 'stuck.js', 'SIGUSR2']);
    expect(byDefault.status, byDefault.stderr).toBe(0);
    expect(byDefault.stderr).toMatch(/greenloop dump of thread 0 .*\n[\s\S]*"stuck" parked in Event\.wait\(\) for/);
    expect(byDefault.stderr).toContain('waitsForTheSignal');
    const named = runCli(dir, ['--dump-on-signal=SIGUSR1', 'stuck.js', 'SIGUSR1']);
    expect(named.status, named.stderr).toBe(0);
    expect(named.stderr).toMatch(/"stuck" parked in Event\.wait\(\)/);
  });

  it("without the flag a SIGUSR2 is not caught (Node's default: the process ends)", () => {
    const dir = makeProject({ 'stuck.js': stuck });
    const run = runCli(dir, ['stuck.js', 'SIGUSR2']);
    expect(run.signal).toBe('SIGUSR2');
    expect(run.stderr).not.toContain('greenloop dump');
  });

  it('refuses a signal it cannot listen for, naming it', () => {
    const dir = makeProject({ 'stuck.js': stuck });
    const run = runCli(dir, ['--dump-on-signal=SIGNOPE', 'stuck.js']);
    expect(run.status).toBe(9);
    expect(run.stderr).toContain(
      'greenloop: --dump-on-signal: signal must be a signal name Node can listen for, got string "SIGNOPE"',
    );
  });
});

// It spins for CPU time, not wall time: a busy machine gives a wall-clock spin little CPU, and
// the profile few samples (under load one had none in the greenlet at all).
const hot = `
const { Greenlet, sleep } = require('greenloop');
function spinFor(ms) {
  const until = process.cpuUsage().user + ms * 1000;
  let x = 0;
  while (process.cpuUsage().user < until) for (let i = 0; i < 100000; i++) x++;
  return x;
}
function burnInAGreenlet() { for (let i = 0; i < 5; i++) { spinFor(40); sleep(1); } }
new Greenlet(burnInAGreenlet, { name: 'burner' }).start();
`;

describe('greenloop --cpu-profile', () => {
  it('writes a .cpuprofile at exit in which the function inside the greenlet has samples', () => {
    const dir = makeProject({ 'hot.js': hot });
    const run = runCli(dir, ['--cpu-profile=out.cpuprofile', 'hot.js']);
    expect(run.status, run.stderr).toBe(0);
    const p = JSON.parse(readFileSync(join(dir, 'out.cpuprofile'), 'utf8'));
    const names = p.nodes.map((n: any) => n.callFrame.functionName);
    expect(names.some((x: string) => /^greenlet "burner" #\d+$/.test(x))).toBe(true);
    const burn = p.nodes.find((n: any) => n.callFrame.functionName === 'spinFor');
    expect(burn.hitCount).toBeGreaterThan(10);
  });

  it('names the file after the process by default', () => {
    const dir = makeProject({ 'hot.js': hot });
    const run = runCli(dir, ['--cpu-profile', 'hot.js']);
    expect(run.status, run.stderr).toBe(0);
    const written = readdirSync(dir).filter((f) => /^greenloop-\d+\.cpuprofile$/.test(f));
    expect(written.length).toBe(1);
    expect(existsSync(join(dir, written[0]!))).toBe(true);
  });
});
