import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { Greenlet, configure, coreStats, getcurrent } from '../lib/greenlet.js';
import { pollUntil } from './helpers.js';

// Owner threads run on stacks the pool maps itself (csrc/owner_thread.cc,
// StartOwners): one mapping per batch, a guard page below each stack. These
// cases find those mappings in /proc/self/maps by their size, so each uses a
// stack size of its own that nothing else in the process maps.

const page = 4096;
const nativeHeadroom = 128 * 1024;
const ownerReserve = 0; // kOwnerReserve (csrc/owner_thread.h)
const roundToPage = (n: number) => Math.ceil(n / page) * page;
/** Bytes of one owner's share of a batch mapping: its guard page and its stack. */
const slotBytes = (stackSize: number) => page + roundToPage(stackSize + nativeHeadroom + ownerReserve);

interface Mapping {
  start: number;
  end: number;
  perms: string;
}

function mappings(): Mapping[] {
  return readFileSync('/proc/self/maps', 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [range, perms] = line.split(' ');
      const [start, end] = range!.split('-').map((hex) => parseInt(hex, 16));
      return { start: start!, end: end!, perms: perms! };
    });
}

/** The pages of [start, end) that /proc/self/pagemap marks as guard regions (bit 58, Linux 6.15+). */
function markedGuards(start: number, end: number): number[] {
  const pages = (end - start) / page;
  const entries = Buffer.alloc(pages * 8);
  const fd = openSync('/proc/self/pagemap', 'r');
  try {
    readSync(fd, entries, 0, entries.length, (start / page) * 8);
  } finally {
    closeSync(fd);
  }
  const marked: number[] = [];
  for (let i = 0; i < pages; i++) {
    if ((entries.readBigUInt64LE(i * 8) >> 58n) & 1n) marked.push(start + i * page);
  }
  return marked;
}

/**
 * The stacks of owners for `stackSize`, each as the address of its guard
 * page: a guard page (marked inside a mapping, Linux 6.13+, or a 4 KiB
 * inaccessible mapping where guards are mprotect'ed) with exactly a stack's
 * bytes of read-write memory above it before the next guard or the mapping's
 * end. Adjacent mappings may have merged, so positions are not assumed.
 */
function ownerGuards(stackSize: number): number[] {
  const slot = slotBytes(stackSize);
  const maps = mappings();
  const guards: number[] = [];
  maps.forEach((m, i) => {
    const bytes = m.end - m.start;
    if (m.perms === 'rw-p' && bytes >= slot) {
      const marked = markedGuards(m.start, m.end);
      marked.forEach((guard, k) => {
        if ((marked[k + 1] ?? m.end) - guard === slot) guards.push(guard);
      });
    }
    const above = maps[i + 1];
    if (m.perms === '---p' && bytes === page && above?.start === m.end && above.end - above.start === slot - page) {
      guards.push(m.start);
    }
  });
  return guards;
}

/** Whether one byte at `address` can be read through /proc/self/mem. */
function readable(address: number): boolean {
  const fd = openSync('/proc/self/mem', 'r');
  try {
    readSync(fd, Buffer.alloc(1), 0, 1, address);
    return true;
  } catch {
    return false;
  } finally {
    closeSync(fd);
  }
}

/** Whether the page at `address` is one the kernel refuses any access to. */
function isGuard(address: number): boolean {
  const m = mappings().find((x) => x.start <= address && address < x.end);
  if (m === undefined) return false;
  return m.perms === '---p' || !readable(address);
}

function parkMany(n: number, stackSize: number): Greenlet[] {
  const root = getcurrent();
  const parked = Array.from({ length: n }, () => new Greenlet(() => root.switch(), null, { stackSize }));
  for (const g of parked) g.switch();
  return parked;
}

const defaultPoolSize = coreStats().poolSize;
afterEach(() => configure({ poolSize: defaultPoolSize }));

describe('owner thread stacks', () => {
  it('every parked greenlet has a stack of its own with an inaccessible guard page below it', () => {
    const stackSize = 700 * 1024 + 3 * page;
    expect(ownerGuards(stackSize)).toEqual([]);
    const parked = parkMany(40, stackSize);
    const guards = ownerGuards(stackSize);
    // Batches may hold a few more than were taken (idle in the pool).
    expect(guards.length).toBeGreaterThanOrEqual(40);
    for (const guard of guards) {
      expect(isGuard(guard), `guard page at 0x${guard.toString(16)}`).toBe(true);
      // The page above it is the stack's lowest: mapped and readable.
      expect(readable(guard + page), `stack page at 0x${(guard + page).toString(16)}`).toBe(true);
    }
    for (const g of parked) g.switch();
    expect(parked.every((g) => g.dead)).toBe(true);
  });

  it('ending idle owners (poolSize 0) unmaps their stacks', async () => {
    const stackSize = 900 * 1024 + 5 * page;
    const parked = parkMany(40, stackSize);
    expect(ownerGuards(stackSize).length).toBeGreaterThanOrEqual(40);
    for (const g of parked) g.switch();
    configure({ poolSize: 0 });
    await pollUntil(() => ownerGuards(stackSize).length === 0, 'the stacks to be unmapped', 30_000, coreStats);
  });

  it("a Worker's owner stacks, idle and under parked greenlets, are unmapped when it exits", async () => {
    const stackSize = 1100 * 1024 + 7 * page;
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const { Greenlet, getcurrent } = require(workerData.lib);
      const root = getcurrent();
      const parked = [];
      for (let i = 0; i < 60; i++) {
        const g = new Greenlet(() => root.switch(), null, { stackSize: workerData.stackSize });
        g.switch();
        parked.push(g);
      }
      for (const g of parked.slice(0, 20)) g.switch(); // finished: their owners idle in the pool
      parentPort.postMessage('parked');
      setTimeout(() => {}, 60_000); // kept alive until terminate()
    `;
    const lib = join(__dirname, '..', 'dist', 'cjs', 'greenlet.js');
    const worker = new Worker(code, { eval: true, workerData: { lib, stackSize } });
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    expect(ownerGuards(stackSize).length).toBeGreaterThanOrEqual(60);
    await worker.terminate();
    expect(ownerGuards(stackSize)).toEqual([]);
  });
});
