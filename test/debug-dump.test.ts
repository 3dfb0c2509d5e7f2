// greenloop/debug's dump(): greenlets parked in each kind of wait (Event,
// Queue, sleep, a real socket recv, an http request to a server that never
// answers, a patched execSync), as JSON and text, from the hub and from
// inside a greenlet (test/fixtures/debug-dump.js); and dumpOnSignal.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Event, Group, Pool, runAsync, sleep, spawn } from '../lib/index.js';
import { dump, dumpOnSignal, trackSpawnSites, type ThreadDump } from '../lib/debug/index.js';
import { lastJson, runFixture } from './helpers.js';

/**
 * Resolves once every greenlet spawned so far has run to its first park: this one is queued
 * after them (a 20 ms timer could fire first when the test resumed late in a loop turn).
 */
const allParked = () => runAsync(() => undefined);

describe('dump()', () => {
  const run = runFixture('debug-dump.js');
  const summary = () =>
    lastJson<{
      json: ThreadDump;
      insideState: string;
      parkedSeenFromInside: number;
      finishedDead: boolean;
      ports: { silent: number; stalled: number };
    }>(run);
  const byName = (name: string) => summary().json.greenlets.find((g) => g.name === name)!;

  it('lists every greenlet with what it is parked in, for how long, and its stack at the park point', () => {
    expect(run.status, run.stderr).toBe(0);
    const expected: Record<string, [string, string]> = {
      'event-waiter': ['Event.wait()', 'waitForTheSignal'],
      consumer: ['Queue.get()', 'consumeForever'],
      sleeper: ['sleep(60000)', 'napLong'],
      reader: [`socket.recv() from 127.0.0.1:${summary().ports.silent}`, 'readTheSilence'],
      writer: [`socket.sendall() to 127.0.0.1:${summary().ports.silent}`, 'floodTheSilence'],
      fetcher: [`http.request(GET http://127.0.0.1:${summary().ports.stalled}/slow)`, 'fetchStalled'],
      shell: ['execSync("sleep 2")', 'runShell'],
      'child-a': ['sleep(50000)', 'childA'],
    };
    for (const [name, [label, frame]] of Object.entries(expected)) {
      const g = byName(name);
      expect(g.state, name).toBe('parked');
      expect(g.waitingIn, name).toBe(label);
      expect(g.stack, name).toContain(frame);
      expect(g.stack, name).not.toContain('/lib/hub/'); // greenloop's own frames are left out
      expect(g.parkedMs!, name).toBeGreaterThan(100);
    }
    expect(byName('sleeper').sleepLeftMs!).toBeGreaterThan(50_000);
    expect(byName('sleeper').sleepLeftMs!).toBeLessThan(60_000);
    expect(summary().json.counts).toMatchObject({ running: 1, parked: 10, dead: 1 });
  });

  it('shows spawn sites and the spawner tree while trackSpawnSites is on, and finished greenlets as dead', () => {
    const boss = byName('boss');
    const children = boss.children.map((id) => summary().json.greenlets.find((g) => g.id === id)!.name);
    expect(children.sort()).toEqual(['child-a', 'child-b']);
    expect(byName('child-a').parent).toBe(boss.id);
    expect(byName('child-a').spawnedAt).toMatch(/at (Greenlet\.)?boss /);
    expect(byName('quick').state).toBe('dead');
    expect(summary().finishedDead).toBe(true);
    expect(byName('sleeper').counters!.switches).toBeGreaterThan(0);
  });

  it('prints the same as text, children indented under their spawner', () => {
    expect(run.stdout).toMatch(
      /greenloop dump of thread 0 at .*: 12 greenlets \(1 running, 0 ready, 10 parked, 0 switched out, 1 dead\)/,
    );
    // "for 812.5 ms", or "for 1.02 s" once a busy machine has kept it parked for a second.
    expect(run.stdout).toMatch(/\n {2}#\d+ "sleeper" parked in sleep\(60000\) for [\d.]+ m?s \([\d.]+ s left\)/);
    expect(run.stdout).toMatch(/\n {4}#\d+ "child-a" parked in sleep\(50000\)/);
    expect(run.stdout).toMatch(/\n {6}at (Greenlet\.)?waitForTheSignal .*debug-dump\.js/);
  });

  it("taken inside a greenlet, shows that one running and still records the parked ones' stacks", () => {
    expect(summary().insideState).toBe('running');
    expect(summary().parkedSeenFromInside).toBe(10);
  });

  it('in this process: a greenlet parked now, a ready one and the caller', async () => {
    const was = trackSpawnSites(true);
    const gate = new Event();
    const parked = spawn(function holdOn() {
      gate.wait();
    });
    parked.name = 'holder';
    await allParked();
    const ready = spawn(() => sleep(0));
    ready.name = 'starter';
    const d = dump({ format: 'json' });
    const holder = d.greenlets.find((g) => g.name === 'holder')!;
    expect(holder).toMatchObject({ state: 'parked', waitingIn: 'Event.wait()' });
    expect(holder.stack).toContain('holdOn');
    expect(holder.spawnedAt).toContain('debug-dump.test.ts');
    expect(d.greenlets.find((g) => g.name === 'starter')!.state).toBe('ready');
    expect(d.greenlets.find((g) => g.state === 'running')!.name).toBe('hub');
    expect(dump({ stacks: false })).toMatch(/"holder" parked in Event\.wait\(\) for [\d.]+ m?s\n/);
    gate.set();
    trackSpawnSites(was);
    // Both still run to the end after the dump switched into the parked one.
    await Promise.all([parked.promise(), ready.promise()]);
    expect(parked.dead && ready.dead).toBe(true);
  });

  it('shows the Group or Pool each member is in, and lists the members under their group', async () => {
    const gate = new Event();
    const pool = new Pool(4);
    const group = new Group();
    const parkInPool = () => gate.wait();
    pool.spawn(parkInPool).name = 'pool-a';
    pool.spawn(parkInPool).name = 'pool-b';
    group.spawn(() => gate.wait()).name = 'grouped';
    const loner = spawn(() => gate.wait());
    loner.name = 'loner';
    await allParked();
    const d = dump({ format: 'json' });
    const groupOf = (name: string) => d.greenlets.find((g) => g.name === name)!.group;
    expect(groupOf('pool-a')).toMatch(/^Pool\(size=4\)#\d+$/);
    expect(groupOf('pool-b')).toBe(groupOf('pool-a'));
    expect(groupOf('grouped')).toMatch(/^Group#\d+$/);
    expect(groupOf('loner')).toBeNull();
    expect(dump({ format: 'json' }).greenlets.find((g) => g.name === 'grouped')!.group).toBe(groupOf('grouped'));
    const text = dump({ stacks: false });
    const poolLabel = groupOf('pool-a')!.replace(/[()]/g, '\\$&');
    expect(text).toMatch(
      new RegExp(
        `\\n {2}groups\\n(.*\\n)* {4}${poolLabel}: 2 members\\n {6}#\\d+ "pool-a" parked\\n {6}#\\d+ "pool-b" parked`,
      ),
    );
    expect(text).toMatch(new RegExp(` {4}${groupOf('grouped')}: 1 members\\n {6}#\\d+ "grouped" parked`));
    gate.set();
    await Promise.all([...pool, ...group, loner].map((g) => g.promise()));
    expect(pool.size + group.size).toBe(0);
    // Finished members leave their group, and the dump says so.
    expect(dump({ format: 'json' }).greenlets.filter((g) => g.group !== null)).toEqual([]);
  });

  it('shows the name of a named Group or Pool in its label, in groupName and in the groups list', async () => {
    const gate = new Event();
    const pool = new Pool(2, { name: 'fetchers' });
    const group = new Group({ name: 'say "hi"' });
    const listed = new Group([spawn(() => gate.wait())], { name: 'from-a-list' });
    pool.spawn(() => gate.wait()).name = 'fetch-1';
    group.spawn(() => gate.wait()).name = 'greeter';
    const unnamed = new Pool(3);
    unnamed.spawn(() => gate.wait()).name = 'anonymous';
    await allParked();
    const d = dump({ format: 'json', stacks: false });
    const info = (name: string) => d.greenlets.find((g) => g.name === name)!;
    expect(info('fetch-1').group).toMatch(/^Pool\(size=2\)#\d+ "fetchers"$/);
    expect(info('fetch-1').groupName).toBe('fetchers');
    expect(info('greeter').group).toMatch(/^Group#\d+ "say \\"hi\\""$/);
    expect(info('greeter').groupName).toBe('say "hi"');
    expect(d.greenlets.find((g) => g.groupName === 'from-a-list')!.group).toMatch(/^Group#\d+ "from-a-list"$/);
    expect(info('anonymous').group).toMatch(/^Pool\(size=3\)#\d+$/);
    expect(info('anonymous').groupName).toBeNull();
    expect(d.greenlets.filter((g) => g.group === null).every((g) => g.groupName === null)).toBe(true);
    const text = dump({ stacks: false });
    expect(text).toMatch(/\n {4}Pool\(size=2\)#\d+ "fetchers": 1 members\n {6}#\d+ "fetch-1" parked/);
    expect(text).toMatch(/\n {4}Group#\d+ "say \\"hi\\"": 1 members\n {6}#\d+ "greeter" parked/);
    expect([pool.name, group.name, listed.name, unnamed.name]).toEqual(['fetchers', 'say "hi"', 'from-a-list', null]);
    gate.set();
    await Promise.all([...pool, ...group, ...listed, ...unnamed].map((g) => g.promise()));
  });

  it('refuses a Group or Pool name that is not a string, naming the value', () => {
    expect(() => new Pool(2, { name: 42 as never })).toThrow(new TypeError('name must be a string, got number 42'));
    expect(() => new Group({ name: null as never })).toThrow(new TypeError('name must be a string, got null'));
    expect(() => new Group([], { name: Symbol.for('x') as never })).toThrow(/^name must be a string, got symbol/);
    expect(() => new Pool(2, 'fetchers' as never)).toThrow(
      new TypeError('options must be an object, got string "fetchers"'),
    );
    expect(() => new Group('fetchers' as never)).toThrow(
      new TypeError('a Group takes an iterable of Greenlets and/or options ({ name }), got string "fetchers"'),
    );
    expect(() => new Group(7 as never)).toThrow(
      new TypeError('a Group takes an iterable of Greenlets and/or options ({ name }), got number 7'),
    );
    expect(() => new Group([], 'x' as never)).toThrow(new TypeError('options must be an object, got string "x"'));
  });

  it('refuses bad options, naming the value', () => {
    expect(() => dump({ format: 'xml' as 'json' })).toThrow("format must be 'text' or 'json', got string \"xml\"");
    expect(() => dump(5 as never)).toThrow('options must be an object, got number 5');
    expect(() => dump({ stacks: 'yes' as never })).toThrow(/stacks must be a boolean, got/);
    expect(() => trackSpawnSites(1 as never)).toThrow('trackSpawnSites() expects a boolean, got number');
  });
});

describe('dumpOnSignal()', () => {
  it('writes a dump to a file when the process gets the signal (and to stderr without a file)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'greenloop-dump-'));
    try {
      const file = join(dir, 'dump.txt');
      const script = `
        const { spawn, Event: GreenEvent, debug } = require(${JSON.stringify(join(__dirname, 'fixtures', 'debug-lib.js'))});
        const never = new GreenEvent();
        spawn(function waitsForever() { never.wait(); }).name = 'stuck';
        debug.dumpOnSignal('SIGUSR2', { file: process.argv[1] });
        const toStderr = debug.dumpOnSignal('SIGUSR1');
        // Each step follows the one before, not a timer (a late signal raced the exit): these
        // listeners come after the dumps' and so run after them, and the first signal is sent by
        // a greenlet that runs once 'stuck' has parked. The timer only keeps the loop alive.
        process.on('SIGUSR2', () => process.kill(process.pid, 'SIGUSR1'));
        process.on('SIGUSR1', () => { toStderr.stop(); process.exit(0); });
        setTimeout(() => { console.error('a signal never came'); process.exit(1); }, 50_000);
        spawn(() => process.kill(process.pid, 'SIGUSR2'));`;
      const child = spawnSync(process.execPath, ['-e', script, file], { encoding: 'utf8', timeout: 60_000 });
      expect(child.status, child.stderr).toBe(0);
      const written = readFileSync(file, 'utf8');
      expect(written).toMatch(/"stuck" parked in Event\.wait\(\)/);
      expect(written).toContain('waitsForever');
      expect(child.stderr).toMatch(/"stuck" parked in Event\.wait\(\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a bad signal or option', () => {
    expect(() => dumpOnSignal('USR2' as never)).toThrow(
      `signal must be a signal name such as 'SIGUSR2', got string "USR2"`,
    );
    expect(() => dumpOnSignal('SIGNOPE' as never)).toThrow(
      'signal must be a signal name Node can listen for, got string "SIGNOPE"',
    );
    expect(() => dumpOnSignal('SIGKILL')).toThrow(
      'signal must be a signal name Node can listen for, got string "SIGKILL"',
    );
    expect(() => dumpOnSignal('SIGUSR2', { file: 3 as never })).toThrow(/file must be a string, got/);
  });
});
