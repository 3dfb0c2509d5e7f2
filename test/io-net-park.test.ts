import * as nodeNet from 'node:net';
import { describe, expect, it } from 'vitest';
import { GreenletExit, spawn } from '../lib/index.js';
import { dump } from '../lib/debug/index.js';
import { listen, type Socket } from '../lib/io/net.js';
import { green, until } from './io-helpers.js';

// A socket keeps what a park needs from one park to the next (its dump
// label, built once per operation, and its Waiter, cleared and reused:
// lib/io/_stream.ts, WaitSlot). These cases check that a reused waiter
// behaves as a fresh one: the right label in each operation, and a timeout
// or a kill that ended one park leaves nothing behind for the next.

/** A connected pair: a green socket accepted by a listener, and its plain node:net peer. */
async function pair(): Promise<{ sock: Socket; peer: nodeNet.Socket; close(): void }> {
  const listener = await green(() => listen(0, '127.0.0.1'));
  const peer = nodeNet.connect(listener.port, '127.0.0.1');
  const sock = await green(() => listener.accept());
  await new Promise((resolve) => (peer.readyState === 'open' ? resolve(null) : peer.once('connect', resolve)));
  return {
    sock,
    peer,
    close: () => {
      sock.destroy();
      peer.destroy();
      listener.close();
    },
  };
}

/** What a dump shows the greenlet named `name` parked in (undefined: not parked). */
function waitingIn(name: string): string | undefined {
  const g = dump({ format: 'json', stacks: false }).greenlets.find((x) => x.name === name);
  return g?.state === 'parked' ? (g.waitingIn ?? undefined) : undefined;
}

describe('a socket reuses its park state', () => {
  it('a dump names each operation a greenlet parks in on the same socket, with the peer', async () => {
    const { sock, peer, close } = await pair();
    const from = `from 127.0.0.1:${peer.localPort}`;
    const seen: string[] = [];
    const g = spawn(() => {
      seen.push(sock.recv().toString());
      seen.push(sock.readLine()!);
      seen.push(sock.recv().toString());
    });
    g.name = 'switcher';
    await until(() => waitingIn('switcher') !== undefined);
    expect(waitingIn('switcher')).toBe(`socket.recv() ${from}`);
    peer.write('one');
    await until(() => seen.length === 1 && waitingIn('switcher') !== undefined);
    expect(waitingIn('switcher')).toBe(`socket.readLine() ${from}`);
    peer.write('two\n');
    await until(() => seen.length === 2 && waitingIn('switcher') !== undefined);
    expect(waitingIn('switcher')).toBe(`socket.recv() ${from}`);
    peer.write('three');
    await g.promise();
    expect(seen).toEqual(['one', 'two', 'three']);
    close();
  });

  it('after a read timed out, the next read on the socket parks again and gets its data', async () => {
    const { sock, peer, close } = await pair();
    let timedOut = false;
    const outcome = green(() => {
      sock.setTimeout(30);
      let code: unknown;
      try {
        sock.recv();
      } catch (error) {
        code = (error as NodeJS.ErrnoException).code;
      }
      sock.setTimeout(null);
      timedOut = true;
      return { code, data: sock.recv().toString() };
    });
    // Written once the first read has timed out (a fixed pause lost to a greenlet started late).
    await until(() => timedOut);
    peer.write('after the timeout');
    expect(await outcome).toEqual({ code: 'ETIMEDOUT', data: 'after the timeout' });
    close();
  });

  it('after a reader parked on the socket was killed, another greenlet reads the socket', async () => {
    const { sock, peer, close } = await pair();
    const first = spawn(() => sock.recv());
    first.name = 'killed-reader';
    await until(() => waitingIn('killed-reader') !== undefined);
    first.kill(new GreenletExit('killed by the test'), { block: false });
    await until(() => first.dead);
    const second = green(() => sock.recv().toString());
    await new Promise((resolve) => setTimeout(resolve, 20));
    peer.write('for the second reader');
    expect(await second).toBe('for the second reader');
    close();
  });
});
