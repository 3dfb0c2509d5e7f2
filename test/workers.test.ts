// Servers with the `workers` option and `greenloop --workers N`: real primaries and cluster
// workers as child processes, real sockets on 127.0.0.1, real signals. No timing assertions:
// every wait is for an event (a line printed, an answer, an exit), bounded by the test timeout.
import { type ChildProcess, spawn } from 'node:child_process';
import * as net from 'node:net';
import * as http from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { StreamServer } from '../lib/io/net.js';
import { createServer } from '../lib/io/http.js';
import { cliPath, makeProject, runCli } from './cli-helpers.js';

const fixture = join(__dirname, 'fixtures', 'workers-server.js');

/** A running primary: its output so far, and promises of lines to come and of its exit. */
interface Primary {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
  /** Resolves with the first line (past or future) matching `pattern` that `accept` takes. */
  line(pattern: RegExp, accept?: (m: RegExpExecArray) => boolean): Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running: ChildProcess[] = [];
afterEach(() => {
  // A failed test must not leave a primary (and its workers) behind.
  for (const child of running.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

function startPrimary(args: string[], cwd = __dirname): Primary {
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  const stdout: string[] = [];
  let stderr = '';
  let partial = '';
  const watchers: {
    pattern: RegExp;
    accept: (m: RegExpExecArray) => boolean;
    resolve: (m: RegExpExecArray) => void;
  }[] = [];
  const offer = (line: string) => {
    for (const w of [...watchers]) {
      const m = w.pattern.exec(line);
      if (m && w.accept(m)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    partial += chunk;
    for (let at = partial.indexOf('\n'); at >= 0; at = partial.indexOf('\n')) {
      const line = partial.slice(0, at);
      partial = partial.slice(at + 1);
      stdout.push(line);
      offer(line);
    }
  });
  let partialErr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    partialErr += chunk;
    for (let at = partialErr.indexOf('\n'); at >= 0; at = partialErr.indexOf('\n')) {
      offer(partialErr.slice(0, at));
      partialErr = partialErr.slice(at + 1);
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': the workers' last lines (they share the pipes) are read by then.
    child.once('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    stdout,
    stderr: () => stderr,
    exited,
    line(pattern, accept = () => true) {
      for (const line of [...stdout, ...stderr.split('\n')]) {
        const m = pattern.exec(line);
        if (m && accept(m)) return Promise.resolve(m);
      }
      return new Promise((resolve, reject) => {
        watchers.push({ pattern, accept, resolve });
        void exited.then(() =>
          reject(new Error(`exited before printing ${pattern}\nstdout:\n${stdout.join('\n')}\nstderr:\n${stderr}`)),
        );
      });
    },
  };
}

/** Waits until `count` distinct workers printed LISTENING (besides `exclude`); returns their pids and the port. */
async function listening(primary: Primary, count: number, exclude: ReadonlySet<number> = new Set()) {
  const pids = new Set<number>();
  let port = 0;
  while (pids.size < count) {
    const m = await primary.line(
      /^LISTENING (\d+) (\d+)\b/,
      (m) => !pids.has(Number(m[1])) && !exclude.has(Number(m[1])),
    );
    pids.add(Number(m[1]));
    port = Number(m[2]);
  }
  return { pids, port };
}

/** One stream request: sends `line`, returns every line the server answers until it closes. */
function streamAsk(port: number, line: string, onLine: (text: string) => void = () => {}): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const lines: string[] = [];
    let buffer = '';
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${line}\n`));
    sock.on('data', (chunk: string) => {
      buffer += chunk;
      for (let at = buffer.indexOf('\n'); at >= 0; at = buffer.indexOf('\n')) {
        lines.push(buffer.slice(0, at));
        onLine(buffer.slice(0, at));
        buffer = buffer.slice(at + 1);
      }
    });
    sock.on('error', reject);
    sock.on('close', () => resolve(lines));
  });
}

/** One HTTP GET on a fresh connection: status and body. */
function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

/** The pid answering one request of `kind`. */
async function whoAnswers(kind: 'stream' | 'http', port: number): Promise<number> {
  if (kind === 'stream') return Number((await streamAsk(port, 'pid'))[0]);
  const res = await httpGet(port, '/');
  expect(res.status).toBe(200);
  return Number(res.body);
}

/** Asks until every pid of `expected` has answered (cluster hands connections out in turn). */
async function answeringPids(
  kind: 'stream' | 'http',
  port: number,
  expected: ReadonlySet<number>,
): Promise<Set<number>> {
  const seen = new Set<number>();
  for (let i = 0; i < 50 && [...expected].some((pid) => !seen.has(pid)); i++) seen.add(await whoAnswers(kind, port));
  return seen;
}

async function stopWith(primary: Primary, signal: NodeJS.Signals) {
  primary.child.kill(signal);
  return primary.exited;
}

describe('http server with workers: 2, listen(port, host, callback)', () => {
  it('returns the server at once in the primary, which never calls back; the workers do', async () => {
    const primary = startPrimary([fixture, 'http-callback', '2']);
    const { pids, port } = await listening(primary, 2);
    expect(primary.stdout).toContain(`PRIMARY ${primary.child.pid} true`);
    expect(await answeringPids('http', port, pids)).toEqual(pids);
    const exit = await stopWith(primary, 'SIGTERM');
    expect(exit, primary.stderr()).toEqual({ code: 0, signal: null });
    expect(primary.stdout.filter((line) => line.startsWith('LISTENING '))).toHaveLength(2);
  });
});

describe.each(['stream', 'http'] as const)('%s server with workers: 2', (kind) => {
  it('two worker processes answer, neither of them the primary', async () => {
    const primary = startPrimary([fixture, kind, '2']);
    const { pids, port } = await listening(primary, 2);
    expect(pids.has(primary.child.pid!)).toBe(false);
    expect(await answeringPids(kind, port, pids)).toEqual(pids);
    const exit = await stopWith(primary, 'SIGTERM');
    expect(exit, primary.stderr()).toEqual({ code: 0, signal: null });
    // Each worker's serveForever() / close returned: the script went on after it.
    for (const pid of pids) expect(primary.stdout).toContain(`STOPPED ${pid}`);
  });

  it('SIGTERM lets an in-flight handler finish, then the primary exits 0', async () => {
    const primary = startPrimary([fixture, kind, '2']);
    const { pids, port } = await listening(primary, 2);
    let answer: Promise<number>;
    if (kind === 'stream') {
      let started!: () => void;
      const inFlight = new Promise<void>((resolve) => (started = resolve));
      const lines = streamAsk(port, 'slow 1500', (text) => text === 'started' && started());
      await inFlight;
      answer = lines.then((all) => Number(all[1]));
    } else {
      const res = httpGet(port, '/slow?1500');
      await primary.line(/^HANDLING \d+$/);
      answer = res.then((r) => {
        expect(r.status).toBe(200);
        return Number(r.body);
      });
    }
    const exit = stopWith(primary, 'SIGTERM');
    expect(pids.has(await answer)).toBe(true);
    expect(await exit, primary.stderr()).toEqual({ code: 0, signal: null });
  });

  it('a killed worker is replaced by a new one that serves', async () => {
    const primary = startPrimary([fixture, kind, '2']);
    const { pids, port } = await listening(primary, 2);
    const [victim, survivor] = [...pids] as [number, number];
    process.kill(victim, 'SIGKILL');
    const { pids: fresh } = await listening(primary, 1, pids);
    const newcomer = [...fresh][0]!;
    // stderr and stdout are two pipes: the primary's line may be read after the new worker's.
    await primary.line(new RegExp(`worker ${victim} exited with signal SIGKILL; starting another$`));
    const now = new Set([survivor, newcomer]);
    const seen = await answeringPids(kind, port, now);
    expect(seen).toEqual(now);
    const exit = await stopWith(primary, 'SIGINT');
    expect(exit, primary.stderr()).toEqual({ code: 0, signal: null });
  });
});

describe('a worker that keeps dying young', () => {
  it('is replaced after a doubling delay, not at once', async () => {
    const primary = startPrimary([fixture, 'stream', '2']);
    const { pids } = await listening(primary, 2);
    const first = [...pids][0]!;
    process.kill(first, 'SIGKILL');
    const { pids: second } = await listening(primary, 1, pids);
    const young = [...second][0]!;
    process.kill(young, 'SIGKILL');
    await listening(primary, 1, new Set([...pids, young]));
    await primary.line(new RegExp(`worker ${first} exited with signal SIGKILL; starting another$`));
    await primary.line(new RegExp(`worker ${young} exited with signal SIGKILL; starting another in 100 ms$`));
    const exit = await stopWith(primary, 'SIGTERM');
    expect(exit, primary.stderr()).toEqual({ code: 0, signal: null });
  });
});

describe('SIGHUP', () => {
  it('replaces every worker, one at a time, and no connection is refused meanwhile', async () => {
    const primary = startPrimary([fixture, 'stream', '2']);
    const { pids: old, port } = await listening(primary, 2);
    let done = false;
    const answeredBy: number[] = [];
    const failures: unknown[] = [];
    const client = async () => {
      while (!done) {
        try {
          answeredBy.push(await whoAnswers('stream', port));
        } catch (error) {
          failures.push(error);
        }
      }
    };
    const clients = [client(), client(), client()];
    primary.child.kill('SIGHUP');
    await primary.line(/SIGHUP: every worker replaced/);
    const { pids: replacements } = await listening(primary, 2, old);
    const served = answeredBy.length;
    // A few more requests after the restart: only the new workers answer.
    while (answeredBy.length < served + 10) await new Promise((resolve) => setTimeout(resolve, 20));
    done = true;
    await Promise.all(clients);
    expect(failures).toEqual([]);
    for (const pid of answeredBy.slice(served)) expect(replacements.has(pid)).toBe(true);
    for (const pid of old) expect(primary.stdout).toContain(`STOPPED ${pid}`);
    const exit = await stopWith(primary, 'SIGTERM');
    expect(exit, primary.stderr()).toEqual({ code: 0, signal: null });
  });
});

describe('greenloop --workers N', () => {
  it('runs the script in N workers that share its port; SIGTERM stops them and exits 0', async () => {
    const primary = startPrimary([cliPath, '--workers', '2', fixture, 'http', 'plain']);
    const { pids, port } = await listening(primary, 2);
    expect(pids.has(primary.child.pid!)).toBe(false);
    expect(await answeringPids('http', port, pids)).toEqual(pids);
    const slow = httpGet(port, '/slow?1000');
    await primary.line(/^HANDLING \d+$/);
    const exit = stopWith(primary, 'SIGTERM');
    const res = await slow;
    expect(res.status).toBe(200);
    expect(pids.has(Number(res.body))).toBe(true);
    expect(await exit, primary.stderr()).toEqual({ code: 0, signal: null });
  });

  it("a server's workers run the script as the CLI does: --no-patch, top level in a greenlet", async () => {
    const dir = makeProject({
      'top.js': [
        "const { StreamServer } = require('greenloop/net');",
        "const server = new StreamServer((sock) => sock.sendall(`${process.pid}\\n`), { port: 0, host: '127.0.0.1', workers: 2 });",
        '// Blocking calls at the top level: only in the main greenlet of a greenloop run.',
        'const { port } = server.start();',
        'console.log(`LISTENING ${process.pid} ${port} ${JSON.stringify(process.argv.slice(2))}`);',
        'server.serveForever();',
        '',
      ].join('\n'),
    });
    const primary = startPrimary([cliPath, '--no-patch', 'top.js', 'a1'], dir);
    const first = await primary.line(/^LISTENING (\d+) (\d+) (.*)$/);
    expect(first[3]).toBe('["a1"]');
    const { pids, port } = await listening(primary, 2);
    expect(await answeringPids('stream', port, pids)).toEqual(pids);
    const exit = await stopWith(primary, 'SIGTERM');
    expect(exit, primary.stderr()).toEqual({ code: 0, signal: null });
  });

  it('a worker that fails before any worker listened stops the primary with status 1 (no restart loop)', () => {
    const dir = makeProject({ 'broken.js': "throw new Error('bad config');\n" });
    const run = runCli(dir, ['--workers', '2', 'broken.js']);
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toContain('bad config');
    expect(run.stderr).toMatch(/exited with code 1 before any worker listened; stopping/);
    expect(run.stderr).not.toContain('starting another');
  });

  it('passes each worker the script arguments, options after the script included', () => {
    // A worker that exits 0 before any worker listened is not replaced; the primary exits with it.
    const dir = makeProject({ 'args.js': 'console.log(JSON.stringify(process.argv.slice(2)));\nprocess.exit(0);\n' });
    const run = runCli(dir, ['--workers=2', 'args.js', '--workers', '3', 'x']);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual(['["--workers","3","x"]', '["--workers","3","x"]']);
  });

  it.each([
    [['--workers', '0', 'x.js'], '--workers must be an integer >= 1, got number 0'],
    [['--workers', 'two', 'x.js'], '--workers must be an integer >= 1, got string "two"'],
    [['--workers=1.5', 'x.js'], '--workers must be an integer >= 1, got string "1.5"'],
    [['--workers'], '--workers needs a value'],
    [['--workers', '2', '--stop-timeout', 'soon', 'x.js'], '--stop-timeout must be a number of milliseconds >= 0'],
    [['--stop-timeout', '100', 'x.js'], '--stop-timeout needs --workers'],
  ])('greenloop %j is refused, naming the value', (args, message) => {
    const run = runCli(makeProject({}), args);
    expect(run.status).toBe(9);
    expect(run.stderr).toContain(message);
  });
});

describe('the workers option', () => {
  const handler = () => {};
  it.each([
    [0, 'workers must be an integer >= 1, got number 0'],
    [-2, 'workers must be an integer >= 1, got number -2'],
    [1.5, 'workers must be an integer >= 1, got number 1.5'],
    ['two', 'workers must be an integer >= 1, got string "two"'],
    [null, 'workers must be an integer >= 1, got null'],
    [{ count: 0 }, 'workers.count must be an integer >= 1, got number 0'],
    [{ count: 2, stopTimeout: -1 }, 'workers.stopTimeout must be a number of milliseconds >= 0'],
    [{ count: 2, restart: true }, 'workers has no option "restart"'],
  ])('workers: %j throws a TypeError naming the value', (workers, message) => {
    expect(() => new StreamServer(handler, { workers: workers as never })).toThrow(TypeError);
    expect(() => new StreamServer(handler, { workers: workers as never })).toThrow(message);
    expect(() => createServer(handler, { workers: workers as never })).toThrow(message);
  });
});
