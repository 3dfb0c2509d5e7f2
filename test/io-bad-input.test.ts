// Misuse of the green IO calls gets a TypeError that names the argument and
// the value received, thrown before anything is sent or spawned. (The cases
// that used to crash the process run as fixtures in the area's own file:
// io-fs.test.ts, io-child_process.test.ts.)
import { describe, expect, it } from 'vitest';
import * as cp from '../lib/io/child_process.js';
import * as http from '../lib/io/http.js';
import { connect, listen, StreamServer } from '../lib/io/net.js';
import { green, greenError } from './io-helpers.js';

/** Nothing listens here: a request that got past the checks would fail with ECONNREFUSED instead. */
const NOWHERE = 'http://127.0.0.1:1/';

describe('http client options', () => {
  it.each([
    ['null options', null, 'options must be an object, got null'],
    ['method: 5', { method: 5 }, "method must be a non-empty string such as 'GET' or 'POST', got number 5"],
    ['signal: 5', { signal: 5 }, 'signal must be an AbortSignal, got number 5'],
    [
      'dispatcher: {}',
      { dispatcher: {} },
      'dispatcher must be an undici Dispatcher (Agent, Pool, Client, ...: an object with a dispatch() method), got an instance of Object',
    ],
    ['headers: 5', { headers: 5 }, 'headers must be an object or an array of [name, value] pairs, got number 5'],
    ['body: 5', { body: 5 }, 'body must be a string, Buffer, Uint8Array, Readable or iterable, got number 5'],
    ['query: "a=1"', { query: 'a=1' }, 'query must be an object of parameters, got string "a=1"'],
    ['timeout: -1', { timeout: -1 }, 'timeout must be a number of milliseconds >= 0, null or undefined, got number -1'],
  ])('request() with %s names it', async (_name, options, message) => {
    const error = await greenError(() => http.request(NOWHERE, options as any));
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(message);
  });

  it('get() and fetch() with null options name them', async () => {
    expect((await greenError(() => http.get(NOWHERE, null as any))).message).toBe(
      'options must be an object, got null',
    );
    expect((await greenError(() => http.fetch(NOWHERE, null as any))).message).toBe('init must be an object, got null');
  });

  it('good options still reach the network (the checks are not over-strict)', async () => {
    const error = await greenError(() =>
      http.request(NOWHERE, {
        method: 'post',
        headers: [['x-a', '1']],
        body: [Buffer.from('x')] as any,
        query: { a: 1 },
        signal: new AbortController().signal,
      }),
    );
    expect(error.code).toBe('ECONNREFUSED');
  });

  it('createServer() with null options names them', () => {
    expect(() => http.createServer(() => {}, null as any)).toThrow('options must be an object, got null');
  });
});

describe('child process options', () => {
  it.each([
    ['run(cmd, args, null)', () => cp.run('true', [], null as any), 'options must be an object, got null'],
    ['exec(cmd, null)', () => cp.exec('true', null as any), 'options must be an object, got null'],
    ['execFile(cmd, args, null)', () => cp.execFile('true', [], null as any), 'options must be an object, got null'],
    ['spawn(cmd, args, null)', () => cp.spawn('true', [], null as any), 'options must be an object, got null'],
    [
      'run() with encoding: "nope"',
      () => cp.run('true', [], { encoding: 'nope' as any }),
      `encoding must be a Buffer encoding or 'buffer', got string "nope"`,
    ],
    [
      'run() with maxBuffer: "1"',
      () => cp.run('true', [], { maxBuffer: '1' as any }),
      'maxBuffer must be a number of bytes >= 0, got string "1"',
    ],
    ['wait(null)', () => cp.spawn('true').wait(null as any), 'options must be an object, got null'],
  ])('%s names the bad value', async (_name, call, message) => {
    const error = await greenError(call);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(message);
  });

  it('run() with good options still runs', async () => {
    expect(
      await green(
        () => cp.run('true', [], { encoding: 'latin1', maxBuffer: 10, killSignal: 'sigint' as NodeJS.Signals }).status,
      ),
    ).toBe(0);
  });
});

describe('net options', () => {
  it.each([
    ['connect(port, host, null)', () => connect(1, '127.0.0.1', null as any), 'options must be an object, got null'],
    [
      'connect() with tls: 5',
      () => connect({ port: 1, host: '127.0.0.1', tls: 5 as any }),
      'tls must be true, false or tls.connect() options, got number 5',
    ],
    ['listen(port, host, null)', () => listen(0, '127.0.0.1', null as any), 'options must be an object, got null'],
    [
      'StreamServer.stop(null)',
      () => {
        const server = new StreamServer(() => {}, { port: 0, host: '127.0.0.1' });
        server.start();
        try {
          server.stop(null as any);
        } finally {
          server.stop();
        }
      },
      'options must be an object, got null',
    ],
  ])('%s names the bad value', async (_name, call, message) => {
    const error = await greenError(call);
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(message);
  });
});
