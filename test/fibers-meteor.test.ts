// A Meteor-style program: a node:http server whose request handlers each run
// in a Fiber and call Future.wrap-ed callback APIs (fs.readFile, a
// setTimeout-based function, dns.lookup of localhost) in blocking style,
// served to concurrent clients over real sockets on 127.0.0.1.
import * as dns from 'node:dns';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Fiber } from '../lib/fibers/fiber.js';
import { Future } from '../lib/fibers/future.js';

const dir = mkdtempSync(join(tmpdir(), 'greenloop-meteor-'));
const readFile = Future.wrap(fs.readFile);
const lookup = Future.wrap(dns.lookup, true);
/** A callback API built on setTimeout, as application code has them. */
const delay = Future.wrap((ms: number, value: unknown, cb: (err: unknown, v?: unknown) => void) => {
  setTimeout(() => cb(null, value), ms);
});

let server: http.Server;
let base: string;
let inFlight = 0;
let maxInFlight = 0;
let fibersUsed = new Set<unknown>();

beforeAll(async () => {
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, `doc${i}.txt`), `document ${i}`);
  server = http.createServer((req, res) => {
    Fiber(() => {
      const me = Fiber.current;
      fibersUsed.add(me);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        const url = new URL(req.url!, 'http://x');
        const id = url.searchParams.get('id');
        if (url.pathname === '/fail') {
          readFile(join(dir, 'missing.txt')).wait();
        }
        const doc = readFile(join(dir, `doc${Number(id) % 5}.txt`), 'utf8').wait();
        const echoed = delay(1 + (Number(id) % 7), id).wait();
        const [address, family] = lookup('localhost').wait() as [string, number];
        const sameFiber = Fiber.current === me;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ id, doc, echoed, address, family, sameFiber }));
      } catch (error) {
        res.statusCode = 500;
        res.end(String((error as Error).message));
      } finally {
        inFlight--;
      }
    }).run();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

/** One GET on a fresh connection (real client sockets, no keep-alive). */
function get(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(`${base}${path}`, { agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      })
      .on('error', reject);
  });
}

describe('a Meteor-style server: a Fiber per request, Future.wrap-ed callback APIs', () => {
  it('serves 40 concurrent clients x 5 requests, each handler parked only in its own fiber', async () => {
    inFlight = maxInFlight = 0;
    fibersUsed = new Set();
    const clients = Array.from({ length: 40 }, async (_, c) => {
      const results = [];
      for (let r = 0; r < 5; r++) {
        const id = String(c * 5 + r);
        const { status, body } = await get(`/doc?id=${id}`);
        expect(status, body).toBe(200);
        results.push(JSON.parse(body));
      }
      return results;
    });
    const all = (await Promise.all(clients)).flat();
    expect(all).toHaveLength(200);
    for (const r of all) {
      expect(r.doc).toBe(`document ${Number(r.id) % 5}`);
      expect(r.echoed).toBe(r.id);
      expect(['127.0.0.1', '::1']).toContain(r.address);
      expect([4, 6]).toContain(r.family);
      expect(r.sameFiber).toBe(true);
    }
    expect(fibersUsed.size).toBe(200);
    // Handlers overlapped: while one fiber waited, others ran.
    expect(maxInFlight).toBeGreaterThan(1);
    expect(inFlight).toBe(0);
  });

  it('an error from a wrapped callback API is thrown by wait() in the handler', async () => {
    const { status, body } = await get('/fail?id=1');
    expect(status).toBe(500);
    expect(body).toMatch(/ENOENT/);
  });
});
