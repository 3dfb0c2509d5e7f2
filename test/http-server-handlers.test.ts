// The green HTTP server's handler greenlets: counted while they live, and
// keeping nothing of their requests once finished.
import * as nodeHttp from 'node:http';
import { describe, expect, it } from 'vitest';
import { Event, getcurrent, local, type Greenlet } from '../lib/index.js';
import * as http from '../lib/io/http.js';
import { fixtureSummary } from './helpers.js';
import { green, httpServerPerTest, until } from './io-helpers.js';

const servers = httpServerPerTest(http.createServer, { timeout: 100 });
const serve = servers.serve;

describe('green HTTP server: handler greenlets', () => {
  it('each request on one keep-alive connection runs in a greenlet of its own, with its own local()', async () => {
    const seen: Greenlet[] = [];
    const perRequest = local<{ url?: string }>();
    const before: (string | undefined)[] = [];
    const base = await serve((req, res) => {
      seen.push(getcurrent() as Greenlet);
      before.push(perRequest.url);
      perRequest.url = req.url;
      res.send(req.url!);
    });
    const agent = new nodeHttp.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    try {
      for (const path of ['/a', '/b', '/c']) {
        const body = await new Promise<string>((resolve, reject) => {
          nodeHttp
            .get(base + path, { agent }, (res) => {
              sockets.add(res.socket);
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => (text += chunk));
              res.on('end', () => resolve(text));
            })
            .on('error', reject);
        });
        expect(body).toBe(path);
      }
    } finally {
      agent.destroy();
    }
    expect(sockets.size).toBe(1);
    expect(new Set(seen).size).toBe(3);
    expect(seen.every((g) => g.dead)).toBe(true);
    expect(before).toEqual([undefined, undefined, undefined]);
  });

  it('pending counts live handlers whichever order they finish in; close() kills the last one', async () => {
    const release = new Map(['/a', '/b', '/c'].map((path) => [path, new Event()]));
    const finished: string[] = [];
    const base = await serve((req, res) => {
      try {
        release.get(req.url!)!.wait();
        res.send(req.url!);
      } finally {
        finished.push(req.url!);
      }
    });
    const answers = ['/a', '/b', '/c'].map((path) =>
      fetch(base + path).then(
        (r) => r.text(),
        () => 'failed',
      ),
    );
    await until(() => servers.current.pending === 3, 'three handlers parked');
    release.get('/b')!.set(); // the one in the middle first
    expect(await answers[1]).toBe('/b');
    expect(servers.current.pending).toBe(2);
    release.get('/a')!.set();
    expect(await answers[0]).toBe('/a');
    expect(servers.current.pending).toBe(1);
    const s = servers.take();
    await green(() => s.close({ timeout: 50 }));
    expect(await answers[2]).toBe('failed');
    expect(finished).toEqual(['/b', '/a', '/c']);
    expect(s.pending).toBe(0);
  });

  it('a finished handler greenlet that user code keeps holds neither its req nor its res', () => {
    const r = fixtureSummary<{ requests: number; greenlets: number; kept: number }>('http-handler-retention.js', {
      flags: ['--expose-gc'],
    });
    expect(r).toEqual({ requests: 20, greenlets: 20, kept: 0 });
  });
});
