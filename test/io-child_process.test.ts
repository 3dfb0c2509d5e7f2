import { describe, expect, it } from 'vitest';
import { GreenletError } from '../lib/index.js';
import * as cp from '../lib/io/child_process.js';
import { fixtureSummary } from './helpers.js';
import { green, greenError } from './io-helpers.js';

const node = process.execPath;

describe('green child processes', () => {
  it('outside a spawned greenlet run() throws GreenletError', () => {
    expect(() => cp.run('true')).toThrow(GreenletError);
  });

  it('run() feeds input and returns status, signal, stdout and stderr', async () => {
    const result = await green(() =>
      cp.run(
        node,
        [
          '-e',
          'let d="";process.stdin.on("data",c=>d+=c).on("end",()=>{process.stdout.write(d.toUpperCase());process.stderr.write("err");process.exit(3)})',
        ],
        {
          input: 'shout\n',
        },
      ),
    );
    expect(result).toMatchObject({ status: 3, signal: null, stdout: 'SHOUT\n', stderr: 'err' });
    expect(result.pid).toBeGreaterThan(0);
  });

  it("run() passes env and cwd and returns Buffers with encoding: 'buffer'", async () => {
    const result = await green(() =>
      cp.run('sh', ['-c', 'printf "%s:%s" "$GREETING" "$(pwd)"'], {
        env: { ...process.env, GREETING: 'hi' },
        cwd: '/',
        encoding: 'buffer',
      }),
    );
    expect(Buffer.isBuffer(result.stdout)).toBe(true);
    expect(result.stdout.toString()).toBe('hi:/');
  });

  it('a child killed by a signal reports it', async () => {
    const result = await green(() => cp.run('sh', ['-c', 'kill -KILL $$']));
    expect(result).toMatchObject({ status: null, signal: 'SIGKILL' });
  });

  it('a timeout kills the child and throws ETIMEDOUT with the partial output', async () => {
    const error = await greenError(() => cp.run('sh', ['-c', 'echo started; exec sleep 30'], { timeout: 1000 }));
    expect(error.code).toBe('ETIMEDOUT');
    expect(error.signal).toBe('SIGTERM');
    expect(error.stdout).toBe('started\n');
  });

  it('a missing program throws ENOENT in the greenlet', async () => {
    const error = await greenError(() => cp.run('/nonexistent/program-xyz'));
    expect(error.code).toBe('ENOENT');
    const error2 = await greenError(() => cp.spawn('/nonexistent/program-xyz'));
    expect(error2.code).toBe('ENOENT');
  });

  it('execFile returns stdout and throws with status and stderr on failure', async () => {
    expect(await green(() => cp.execFile('echo', ['a', 'b']))).toBe('a b\n');
    const error = await greenError(() => cp.execFile('sh', ['-c', 'echo bad >&2; exit 2']));
    expect(error).toMatchObject({ status: 2, stderr: 'bad\n' });
    expect(error.message).toContain('exit status 2');
  });

  it('exec runs a shell command line', async () => {
    expect(await green(() => cp.exec('echo one two | wc -w').trim())).toBe('2');
    const error = await greenError(() => cp.exec('exit 7'));
    expect(error.status).toBe(7);
  });

  it('spawn(): stdin and stdout read and write like green sockets, wait() parks until exit', async () => {
    const out = await green(() => {
      const p = cp.spawn('cat');
      const replies: (string | null)[] = [];
      for (const word of ['ping', 'pong', 'done']) {
        p.stdin!.sendall(`${word}\n`);
        replies.push(p.stdout!.readLine());
      }
      p.stdin!.close();
      replies.push(p.stdout!.readLine());
      return { replies, exit: p.wait() };
    });
    expect(out).toEqual({ replies: ['ping', 'pong', 'done', null], exit: { status: 0, signal: null } });
  });

  it('a greenlet waiting on a child does not block the others (the child waits for one of them)', async () => {
    const order: string[] = [];
    const out = await green(() => {
      const p = cp.spawn(node, [
        '-e',
        'process.stdin.once("data", (d) => { process.stdout.write("got " + d); process.exit(0); })',
      ]);
      const helper = green(() => {
        order.push('helper runs');
        p.stdin!.sendall('token');
      });
      const line = p.stdout!.readAll().toString();
      order.push('reader done');
      p.wait();
      return { line, helper };
    });
    await out.helper;
    expect(out.line).toBe('got token');
    expect(order).toEqual(['helper runs', 'reader done']);
  });

  it('wait() with a timeout throws ETIMEDOUT and the process can then be killed', async () => {
    const out = await green(() => {
      const p = cp.spawn('sleep', ['30']);
      let code: string | undefined;
      try {
        p.wait({ timeout: 50 });
      } catch (error) {
        code = (error as NodeJS.ErrnoException).code;
      }
      p.kill('SIGKILL');
      return { code, exit: p.wait() };
    });
    expect(out).toEqual({ code: 'ETIMEDOUT', exit: { status: null, signal: 'SIGKILL' } });
  });

  it('many children run concurrently from many greenlets', async () => {
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => green(() => cp.execFile('sh', ['-c', `echo ${i}`]).trim())),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));
  });
});

describe('child process kill signals', () => {
  let summary: any;
  /** The fixture's results, run once for the cases below (it takes a few seconds). */
  const killSignalRun = () => (summary ??= fixtureSummary('io-run-kill-signal.js', { timeoutMs: 60_000 }));

  it('an invalid killSignal is refused before spawning, with a timeout, a maxBuffer or under a Timeout', () => {
    // In a child process: before the fix ERR_UNKNOWN_SIGNAL came from a timer and ended the process.
    const out = killSignalRun();
    for (const name of ['timeout', 'maxBuffer', 'underTimeout']) {
      expect(out[name], name).toEqual({
        error: {
          name: 'TypeError',
          code: 'ERR_UNKNOWN_SIGNAL',
          message: `killSignal must be a signal name or number of os.constants.signals (e.g. 'SIGTERM', 9), got string "SIGNOPE"`,
        },
        spawned: false,
        childAlive: false,
      });
    }
    expect(out.number.error.message).toMatch(/killSignal .* got number 12345$/);
    expect(out.number.spawned).toBe(false);
    // A valid name in any case is Node's: the child is killed with it at the timeout (the error
    // says so; its pid file may not exist yet when a busy machine starts it slowly).
    expect(out.validName).toMatchObject({
      error: expect.objectContaining({ code: 'ETIMEDOUT', signal: 'SIGKILL' }),
      childAlive: false,
    });
  });

  it('an interrupted run() ends its child even if the child ignores killSignal', () => {
    const out = killSignalRun();
    expect(out.stubborn).toEqual({ interrupted: 'by the kill', childAlive: false });
  });

  it('Process.kill() with an unknown signal names it', async () => {
    const error = await greenError(() => {
      const p = cp.spawn(node, ['-e', 'setTimeout(() => {}, 10000)']);
      try {
        p.kill('SIGNOPE' as NodeJS.Signals);
      } finally {
        p.kill('SIGKILL');
        p.wait();
      }
    });
    expect(error).toBeInstanceOf(TypeError);
    expect(error.code).toBe('ERR_UNKNOWN_SIGNAL');
    expect(error.message).toBe(
      `signal must be a signal name or number of os.constants.signals (e.g. 'SIGTERM', 9), got string "SIGNOPE"`,
    );
  });
});
