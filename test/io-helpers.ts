/**
 * Helpers of the green IO suites (test/io-*.test.ts): running blocking-style
 * code in a greenlet from an async test, temp dirs, and a throw-away TLS
 * certificate made with openssl.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { spawn } from '../lib/index.js';
import type * as http from '../lib/io/http.js';

/** Runs `fn` in a spawned greenlet; settles with its outcome. */
export function green<T>(fn: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    spawn(() => {
      try {
        resolve(fn());
      } catch (error) {
        reject(error);
      }
    });
  });
}

/** Runs `fn` in a greenlet and returns the error it throws (fails if it does not throw). */
export async function greenError(fn: () => unknown): Promise<any> {
  try {
    await green(fn);
  } catch (error) {
    return error;
  }
  throw new Error('expected the greenlet to throw');
}

/** A fresh temp dir; `cleanup()` removes it. */
export function tempDir(prefix = 'greenloop-io-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** A self-signed certificate for `localhost` / 127.0.0.1, made by openssl in a temp dir. */
export function makeCert(): { key: Buffer; cert: Buffer } {
  const dir = tempDir('greenloop-cert-');
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-keyout',
        join(dir.path, 'key.pem'),
        '-out',
        join(dir.path, 'cert.pem'),
      ],
      { stdio: 'pipe' },
    );
    return { key: readFileSync(join(dir.path, 'key.pem')), cert: readFileSync(join(dir.path, 'cert.pem')) };
  } finally {
    dir.cleanup();
  }
}

/** Resolves after the event loop has had `turns` chances to run callbacks. */
export async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Polls `predicate` on event-loop turns until true (no wall-clock assertion; the test timeout bounds it). */
export async function until(predicate: () => boolean, what = 'condition'): Promise<void> {
  for (let i = 0; !predicate(); i++) {
    if (i > 100_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, i < 50 ? 0 : 5));
  }
}

/**
 * One green HTTP server per test, closed (with `closeOptions`) after each test that
 * started one: `serve(handler)` creates it, listens on 127.0.0.1 and returns its base
 * URL; `current` is that server; `take()` returns it and leaves closing it to the test.
 * `createServer` is passed in so that this module does not load the HTTP server itself.
 */
export function httpServerPerTest(
  createServer: typeof http.createServer,
  closeOptions: http.CloseOptions = {},
): {
  serve(handler: http.RequestHandler, options?: http.ServerOptions): Promise<string>;
  readonly current: http.Server;
  take(): http.Server;
} {
  let server: http.Server | null = null;
  afterEach(async () => {
    const s = server;
    server = null;
    if (s !== null) await green(() => s.close(closeOptions));
  });
  return {
    async serve(handler, options) {
      const s = createServer(handler, options);
      server = s;
      const { port } = await green(() => s.listen(0, '127.0.0.1'));
      return `http://127.0.0.1:${port}`;
    },
    get current() {
      if (server === null) throw new Error('no server: serve() was not called in this test');
      return server;
    },
    take() {
      const s = this.current;
      server = null;
      return s;
    },
  };
}
