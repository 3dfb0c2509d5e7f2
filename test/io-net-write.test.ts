import * as nodeNet from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listen, type Socket } from '../lib/io/net.js';
import { green, greenError, tempDir, until } from './io-helpers.js';

// Plain TCP and Unix sockets write a small chunk with nothing queued straight
// to their libuv handle (lib/io/net/write.ts); everything else goes through
// net.Socket's Writable. These cases check that the two paths never reorder
// or lose bytes, that Node's accounting and errors stay Node's, and that the
// direct path is really taken.

/** Opens a plain node:net client and resolves with it once connected. */
function plainConnect(port: number): Promise<nodeNet.Socket> {
  return new Promise((resolve, reject) => {
    const sock = nodeNet.connect(port, '127.0.0.1', () => resolve(sock));
    sock.on('error', reject);
  });
}

/** Resolves with everything `sock` receives until the peer ends its side. */
function readToEnd(sock: nodeNet.Socket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  sock.on('data', (chunk: Buffer) => chunks.push(chunk));
  return new Promise((resolve) => sock.on('end', () => resolve(Buffer.concat(chunks))));
}

/** Counts the calls of `raw.write()` from now on. */
function countStreamWrites(raw: nodeNet.Socket): { readonly count: number } {
  const counter = { count: 0 };
  const write = raw.write;
  raw.write = function (this: nodeNet.Socket, ...args: Parameters<typeof write>) {
    counter.count++;
    return write.apply(this, args);
  } as typeof write;
  return counter;
}

/** A chunk whose every 4-byte word is its offset in the whole stream, so a reordered or lost byte shows. */
function numbered(from: number, length: number): Buffer {
  const chunk = Buffer.alloc(length);
  for (let i = 0; i + 4 <= length; i += 4) chunk.writeUInt32LE(from + i, i);
  return chunk;
}

describe('sockets that write through their handle', () => {
  it('small writes with nothing queued skip socket.write(); the peer gets every byte and bytesWritten counts them', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const peer = await plainConnect(listener.port);
    const received = readToEnd(peer);
    const { streamWrites, bytesWritten } = await green(() => {
      const sock = listener.accept();
      sock.sendall('warm-up '); // a string goes through the stream until a Buffer write has been seen
      sock.sendall(Buffer.from('first '));
      const counter = countStreamWrites(sock.raw);
      for (let i = 0; i < 50; i++) sock.sendall(i % 2 === 0 ? Buffer.from(`b${i} `) : `s${i}é `);
      const counts = { streamWrites: counter.count, bytesWritten: sock.raw.bytesWritten };
      sock.close();
      return counts;
    });
    let expected = 'warm-up first ';
    for (let i = 0; i < 50; i++) expected += i % 2 === 0 ? `b${i} ` : `s${i}é `;
    expect((await received).toString()).toBe(expected);
    expect(streamWrites).toBe(0);
    expect(bytesWritten).toBe(Buffer.byteLength(expected));
    listener.close();
  });

  it('a peer that does not read: direct writes, partial writes libuv finishes later and queued stream writes keep their order', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const peer = await plainConnect(listener.port);
    peer.pause();
    const total = 24 * 1024 * 1024;
    // Sizes under and over the write high-water mark (16 KiB on Node 20, 64 KiB later), so both
    // paths take turns once the socket is full.
    const sizes = [4000, 12000, 16380, 40000, 1000, 15000, 70000, 65000];
    let sock: Socket | undefined;
    const sending = green(() => {
      sock = listener.accept();
      let offset = 0;
      for (let n = 0; offset < total; n++) {
        const size = Math.min(sizes[n % sizes.length]!, total - offset);
        sock.sendall(numbered(offset, size));
        offset += size;
      }
      sock.close();
      return offset;
    });
    // Parked with bytes queued both in libuv (a partial direct write) and in the stream.
    await until(() => sock !== undefined && sock.raw.writableNeedDrain, 'the writer to park on a full socket');
    const received = readToEnd(peer);
    peer.resume();
    expect(await sending).toBe(total);
    const bytes = await received;
    expect(bytes.length).toBe(total);
    expect(bytes.equals(numbered(0, total))).toBe(true);
    listener.close();
  });

  it('once libuv has finished a partial direct write, small writes skip socket.write() again', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const peer = await plainConnect(listener.port);
    peer.pause();
    const chunk = 8000; // under the high-water mark on every line: direct while nothing is queued
    let sock: Socket | undefined;
    let sent = 0;
    const heldByLibuv = () => (sock!.raw as unknown as { _handle: { writeQueueSize: number } })._handle.writeQueueSize;
    const sending = green(() => {
      sock = listener.accept();
      // Fill the socket until libuv holds the rest of a write: that one was direct.
      while (sock.raw.writableLength === 0 && heldByLibuv() === 0) {
        sock.sendall(numbered(sent, chunk));
        sent += chunk;
      }
    });
    await sending;
    const received = readToEnd(peer);
    peer.resume();
    await until(() => heldByLibuv() === 0 && sock!.raw.writableLength === 0, 'libuv to finish the held write');
    const streamWrites = await green(() => {
      const counter = countStreamWrites(sock!.raw);
      for (let i = 0; i < 20; i++) {
        sock!.sendall(numbered(sent, 400));
        sent += 400;
      }
      sock!.close();
      return counter.count;
    });
    expect(streamWrites).toBe(0);
    const bytes = await received;
    expect(bytes.length).toBe(sent);
    expect(bytes.equals(numbered(0, sent))).toBe(true);
    listener.close();
  });

  it('shutdown() after direct writes sends them all before the FIN, and reading goes on', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const peer = await new Promise<nodeNet.Socket>((resolve, reject) => {
      const s = nodeNet.connect({ port: listener.port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve(s));
      s.on('error', reject);
    });
    const received = readToEnd(peer);
    void received.then(() => peer.end('bye'));
    const reply = await green(() => {
      const sock = listener.accept();
      for (let i = 0; i < 100; i++) sock.sendall(numbered(i * 400, 400));
      sock.shutdown();
      const answer = sock.readAll().toString();
      sock.close();
      return answer;
    });
    expect(reply).toBe('bye');
    expect((await received).equals(numbered(0, 40000))).toBe(true);
    listener.close();
  });

  it('a socket with Node idle timeout set writes through socket.write(), which refreshes that timer', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const peer = await plainConnect(listener.port);
    const received = readToEnd(peer);
    const streamWrites = await green(() => {
      const sock = listener.accept();
      sock.sendall(Buffer.from('learn '));
      sock.raw.setTimeout(60000);
      const counter = countStreamWrites(sock.raw);
      sock.sendall(Buffer.from('timed'));
      sock.close();
      return counter.count;
    });
    expect(streamWrites).toBe(1);
    expect((await received).toString()).toBe('learn timed');
    listener.close();
  });

  it('writing to a peer that reset the connection throws Node-shaped write errors, never a crash', async () => {
    const listener = await green(() => listen(0, '127.0.0.1'));
    const peer = await plainConnect(listener.port);
    let sock: Socket | undefined;
    await green(() => {
      sock = listener.accept();
      sock.sendall(Buffer.from('hello'));
    });
    await new Promise((resolve) => peer.once('data', resolve));
    peer.resetAndDestroy();
    await until(
      () => sock!.raw.destroyed || sock!.raw.readableEnded || sock!.raw.errored !== null,
      'the reset to arrive',
    );
    const error = await greenError(() => {
      for (let i = 0; i < 1000; i++) sock!.sendall(Buffer.from('more'));
    });
    expect(error).toBeInstanceOf(Error);
    expect(['EPIPE', 'ECONNRESET']).toContain((error as NodeJS.ErrnoException).code);
    await green(() => sock!.close());
    listener.close();
  });

  it('a Unix socket writes through its handle too', async () => {
    const dir = tempDir();
    try {
      const path = join(dir.path, 'w.sock');
      const listener = await green(() => listen({ path }));
      const peer = await new Promise<nodeNet.Socket>((resolve, reject) => {
        const s = nodeNet.connect(path, () => resolve(s));
        s.on('error', reject);
      });
      const received = readToEnd(peer);
      const streamWrites = await green(() => {
        const sock = listener.accept();
        sock.sendall(Buffer.from('a'));
        const counter = countStreamWrites(sock.raw);
        for (let i = 0; i < 20; i++) sock.sendall(Buffer.from('b'));
        sock.close();
        return counter.count;
      });
      expect(streamWrites).toBe(0);
      expect((await received).toString()).toBe(`a${'b'.repeat(20)}`);
      listener.close();
    } finally {
      dir.cleanup();
    }
  });
});
