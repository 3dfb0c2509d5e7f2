import * as dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GreenletError } from '../lib/index.js';
import * as dns from '../lib/io/dns.js';
import { green, greenError } from './io-helpers.js';

/**
 * A tiny authoritative DNS server on 127.0.0.1 (UDP): `A` for
 * `green.test` -> 127.0.0.42, `TXT` for `green.test`, NXDOMAIN otherwise,
 * and never answers `silent.test` (to test interruption).
 */
function startDnsServer(): Promise<{ port: number; queries: string[]; close(): void }> {
  const socket = dgram.createSocket('udp4');
  const queries: string[] = [];
  socket.on('message', (msg, rinfo) => {
    // Header (12 bytes), then one question: labels, type, class.
    let offset = 12;
    const labels: string[] = [];
    while (msg[offset] !== 0) {
      const length = msg[offset]!;
      labels.push(msg.toString('latin1', offset + 1, offset + 1 + length));
      offset += length + 1;
    }
    const name = labels.join('.').toLowerCase();
    const type = msg.readUInt16BE(offset + 1);
    const questionEnd = offset + 5;
    queries.push(`${name}/${type}`);
    if (name === 'silent.test') return;
    const answers: Buffer[] = [];
    if (name === 'green.test' && type === 1) answers.push(Buffer.from([127, 0, 0, 42]));
    if (name === 'green.test' && type === 16) {
      const text = Buffer.from('hello from greenloop');
      answers.push(Buffer.concat([Buffer.from([text.length]), text]));
    }
    const header = Buffer.alloc(12);
    msg.copy(header, 0, 0, 2); // id
    const known = name === 'green.test';
    header.writeUInt16BE(0x8400 | (known ? 0 : 3), 2); // response, authoritative, NOERROR/NXDOMAIN
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    const records = answers.map((rdata) => {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      rr.writeUInt16BE(type, 2);
      rr.writeUInt16BE(1, 4);
      rr.writeUInt32BE(60, 6);
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    socket.send(Buffer.concat([header, msg.subarray(12, questionEnd), ...records]), rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => {
    socket.bind(0, '127.0.0.1', () => resolve({ port: socket.address().port, queries, close: () => socket.close() }));
  });
}

describe('green dns', () => {
  let server: Awaited<ReturnType<typeof startDnsServer>>;
  beforeAll(async () => {
    server = await startDnsServer();
  });
  afterAll(() => server.close());

  /**
   * A resolver asking `server`. Queries it answers get a long timeout: the answer comes from this
   * process's own loop, and after a stall longer than a short one c-ares's timer runs before the
   * answer is read (ETIMEOUT on a busy machine). Only the never-answered query needs a short one.
   */
  function resolver(timeout = 30_000): dns.Resolver {
    const r = new dns.Resolver({ timeout, tries: 1 });
    r.setServers([`127.0.0.1:${server.port}`]);
    return r;
  }

  it('outside a spawned greenlet lookup() throws GreenletError', () => {
    expect(() => dns.lookup('localhost')).toThrow(GreenletError);
  });

  it('lookup() resolves localhost through the OS resolver, one or all addresses', async () => {
    const out = await green(() => ({
      one: dns.lookup('localhost', { family: 4 }),
      all: dns.lookup('localhost', { all: true }),
    }));
    expect(out.one).toEqual({ address: '127.0.0.1', family: 4 });
    expect(out.all.some((a) => a.address === '127.0.0.1' || a.address === '::1')).toBe(true);
  });

  it('resolve4 / resolve / resolveTxt ask the configured DNS server', async () => {
    const out = await green(() => {
      const r = resolver();
      return {
        a: r.resolve4('green.test'),
        any: r.resolve('green.test', 'A'),
        txt: r.resolveTxt('green.test'),
        ttl: r.resolve4('green.test', { ttl: true }),
      };
    });
    expect(out).toEqual({
      a: ['127.0.0.42'],
      any: ['127.0.0.42'],
      txt: [['hello from greenloop']],
      ttl: [{ address: '127.0.0.42', ttl: 60 }],
    });
    expect(server.queries).toContain('green.test/16');
  });

  it("an unknown name throws Node's ENOTFOUND in the greenlet", async () => {
    const error = await greenError(() => resolver().resolve4('nothing.test'));
    expect(error.code).toBe('ENOTFOUND');
    expect(error.hostname).toBe('nothing.test');
  });

  it('a server that never answers gives ETIMEOUT while other greenlets resolve', async () => {
    const silent = greenError(() => resolver(200).resolve4('silent.test'));
    const answered = await green(() => resolver().resolve4('green.test'));
    expect(answered).toEqual(['127.0.0.42']);
    expect((await silent).code).toBe('ETIMEOUT');
  });

  it('lookupService maps an address and port to a host and service', async () => {
    const out = await green(() => dns.lookupService('127.0.0.1', 22));
    expect(typeof out.hostname).toBe('string');
    expect(['ssh', '22']).toContain(out.service);
  });
});
