// The runner's debug flags: --dump-on-signal[=SIG] (and --cpu-profile, when built).
import { describe, expect, it } from 'vitest';
import { makeProject, runCli } from './cli-helpers.js';

const stuck = `
const { spawn, Event } = require('greenloop');
const never = new Event();
spawn(function waitsForTheSignal() { never.wait(); }).name = 'stuck';
setTimeout(() => process.kill(process.pid, process.argv[2]), 100);
setTimeout(() => process.exit(0), 400);
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

  it('without the flag a SIGUSR2 is not caught (Node\'s default: the process ends)', () => {
    const dir = makeProject({ 'stuck.js': stuck });
    const run = runCli(dir, ['stuck.js', 'SIGUSR2']);
    expect(run.signal).toBe('SIGUSR2');
    expect(run.stderr).not.toContain('greenloop dump');
  });

  it('refuses a signal it cannot listen for, naming it', () => {
    const dir = makeProject({ 'stuck.js': stuck });
    const run = runCli(dir, ['--dump-on-signal=SIGNOPE', 'stuck.js']);
    expect(run.status).toBe(9);
    expect(run.stderr).toContain('greenloop: --dump-on-signal: signal must be a signal name Node can listen for, got string "SIGNOPE"');
  });
});
