/**
 * Spawn-site tracking for dump(): while on, every gevent-level greenlet that
 * starts is remembered (weakly) with the greenlet that spawned it and the
 * stack of its start() call.
 * @module
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { dirname, sep } from 'node:path';
import { type Greenlet as RawGreenlet } from '../greenlet.js';
import { taskOf } from '../hub/hub.js';

/** What tracking knows about one greenlet. @internal */
export interface SpawnRecord {
  /** The id of the greenlet that started it. */
  readonly spawner: number;
  /** Holds the stack of the start() call, formatted on first read. */
  readonly site: { stack?: string } | null;
}

const records = new WeakMap<RawGreenlet, SpawnRecord>();
/** Every tracked greenlet, also dead ones, until collected. */
const seen = new Set<WeakRef<RawGreenlet>>();
let added = 0;
let tracking = false;
const ownDir = `${dirname(__dirname)}${sep}`;

function onSpawn(message: unknown): void {
  const { greenlet, spawner } = message as { greenlet: RawGreenlet; spawner: RawGreenlet };
  const site: { stack?: string } = {};
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 16;
  Error.captureStackTrace(site, onSpawn);
  Error.stackTraceLimit = limit;
  records.set(greenlet, { spawner: taskOf(spawner).id, site });
  seen.add(new WeakRef(greenlet));
  if (++added % 1024 === 0) prune();
}

function prune(): void {
  for (const ref of seen) if (ref.deref() === undefined) seen.delete(ref);
}

/**
 * Turns spawn tracking on or off. While on, each greenlet started with
 * `spawn()`/`start()`/`startLater()` is remembered, weakly (it can still be
 * collected), with the greenlet that started it and the stack of that call
 * (about 6-8 µs per spawn, bench/debug.js: leave it off in production unless you need it), so that {@link dump}
 * shows where it was spawned, arranges greenlets as a tree by spawner, and
 * lists finished ones as `dead` until they are collected. Greenlets started
 * before tracking was turned on show no spawn site.
 * @param on - true to start tracking, false to stop (what is known is kept).
 * @returns whether tracking was on before.
 * @throws TypeError unless `on` is a boolean.
 * @example
 * ```ts
 * import { spawn } from 'greenloop';
 * import { dump, trackSpawnSites } from 'greenloop/debug';
 * trackSpawnSites(true);
 * spawn(function worker() { sleep(1000); });
 * setTimeout(() => console.log(dump()), 10); // shows "spawned at ..."
 * ```
 */
export function trackSpawnSites(on: boolean): boolean {
  if (typeof on !== 'boolean') throw new TypeError(`trackSpawnSites() expects a boolean, got ${typeof on}`);
  const was = tracking;
  if (on && !was) subscribe('greenloop:greenlet:spawn', onSpawn);
  if (!on && was) unsubscribe('greenloop:greenlet:spawn', onSpawn);
  tracking = on;
  return was;
}

/** What tracking recorded about `g`, if anything. @internal */
export function spawnRecord(g: RawGreenlet): SpawnRecord | undefined {
  return records.get(g);
}

/** The user's frames of a recorded spawn site, greenloop's own left out. @internal */
export function spawnSite(record: SpawnRecord | undefined): string | null {
  const stack = record?.site?.stack;
  if (stack === undefined) return null;
  return stack
    .split('\n')
    .slice(1)
    .filter((line) => !line.includes(ownDir) && !line.includes('node:diagnostics_channel'))
    .join('\n');
}

/** Every tracked greenlet still reachable. @internal */
export function trackedGreenlets(): RawGreenlet[] {
  const out: RawGreenlet[] = [];
  for (const ref of seen) {
    const g = ref.deref();
    if (g === undefined) seen.delete(ref);
    else out.push(g);
  }
  return out;
}
