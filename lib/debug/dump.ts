/**
 * {@link dump}: every greenlet of this thread, what it waits in, for how
 * long, where it was spawned and its stack, as text or a stable JSON shape.
 * @module
 */
import { threadId } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { getBackend, type Greenlet as RawGreenlet, getcurrent } from '../greenlet.js';
import { getHub, type Task, taskOf } from '../hub/hub.js';
import { type Group, groupOfMember, Pool } from '../api/pool.js';
import type { Greenlet } from '../api/greenlet.js';
import { checkOptions, describe } from '../hub/validate.js';
import { greenletName } from './name.js';
import { countersIfTracked, type GreenletCounters } from './counters.js';
import { spawnRecord, spawnSite, trackedGreenlets } from './track.js';
import { inWatchdogInterrupt } from './watchdog.js';

/** What a greenlet is doing when the dump is taken. */
export type GreenletStateName = 'running' | 'ready' | 'parked' | 'dead' | 'switched-out';

/** One greenlet in a {@link ThreadDump} (shape version 1). */
export interface GreenletInfo {
  /** Numbers the greenlets of this thread in order of creation; the hub is the lowest. */
  id: number;
  /** Its name (`Greenlet-<n>` unless given), `'hub'` for the thread's root, `'raw greenlet'` for the primitive's. */
  name: string;
  /**
   * `running`: it called dump(); `ready`: in the hub's ready queue; `parked`:
   * waiting in the hub; `dead`: finished (only tracked greenlets, see
   * trackSpawnSites); `switched-out`: started, not parked, not ready (it made
   * a raw switch into another greenlet).
   */
  state: GreenletStateName;
  /** The label of what it is parked in, e.g. `'Event.wait()'`, `'sleep(500)'`; null unless parked. */
  waitingIn: string | null;
  /** How long it has been parked, in ms; null unless parked. */
  parkedMs: number | null;
  /** For `sleep(ms)`: the ms left before it wakes; else null. */
  sleepLeftMs: number | null;
  /** Its stack at the park point (greenloop's frames left out); null unless parked or when `stacks: false`. */
  stack: string | null;
  /** The stack of the call that started it, if spawn sites were tracked then; else null. */
  spawnedAt: string | null;
  /** The id of the greenlet that started it, if tracked; else null. */
  parent: number | null;
  /** The ids of the greenlets in this dump that it started. */
  children: number[];
  /**
   * The Group or Pool it is a member of (the latest one it was added to), as
   * `'Pool(size=4)#1'` or `'Group#2'` (numbered per thread in order of first
   * dump), followed by its name if it has one (`'Pool(size=4)#1 "fetchers"'`);
   * null if none. Members leave when they finish.
   */
  group: string | null;
  /** The name of that Group or Pool (`new Pool(4, { name })`); null if it has none or there is no group. */
  groupName: string | null;
  /** Switches into it and its on-CPU ms, if trackTime is on; else null. */
  counters: GreenletCounters | null;
}

/** What {@link dump} returns with `{ format: 'json' }`. */
export interface ThreadDump {
  /** The version of this shape; it changes only when a field changes meaning or goes away. */
  version: 1;
  /** When the dump was taken (ISO 8601). */
  takenAt: string;
  /** `worker_threads.threadId` of the thread (0: the main thread). */
  threadId: number;
  /** The switch backend, `'user-space'` or `'threads'`. */
  backend: 'user-space' | 'threads';
  /** How many greenlets are in each state. */
  counts: Record<GreenletStateName, number>;
  /** Every greenlet, parents before their children, oldest first. */
  greenlets: GreenletInfo[];
  /** The ids of the greenlets whose parent is not in the dump (the tree's roots). */
  roots: number[];
}

/** Options of {@link dump}. */
export interface DumpOptions {
  /** `'text'` (the default, like the exit report) or `'json'` (a {@link ThreadDump}). */
  format?: 'text' | 'json';
  /**
   * Record each parked greenlet's stack at its park point (switches into
   * each, about 5-10 µs apiece). Always off inside a monitor's `onBlock`,
   * which may run in the middle of a switch. @default true
   */
  stacks?: boolean;
}

/**
 * Describes every greenlet of this thread: the running one, the ready ones,
 * the parked ones (with what they wait in, for how long, and their stack at
 * the park point), and, while {@link trackSpawnSites} is on, where each was
 * spawned, who spawned it (the text shows them as a tree) and finished ones
 * as `dead`. Callable on the hub and in a greenlet; it never parks.
 * @param options - {@link DumpOptions}.
 * @returns text (the default) or, with `{ format: 'json' }`, a {@link ThreadDump}.
 * @throws TypeError for a bad option, naming the value received.
 * @example
 * ```ts
 * import { spawn, Event } from 'greenloop';
 * import { dump } from 'greenloop/debug';
 * const ready = new Event();
 * spawn(function waiter() { ready.wait(); });
 * setTimeout(() => { console.log(dump()); ready.set(); }, 10);
 * ```
 */
export function dump(options: DumpOptions & { format: 'json' }): ThreadDump;
export function dump(options?: DumpOptions & { format?: 'text' }): string;
export function dump(options?: DumpOptions): string | ThreadDump;
export function dump(options?: DumpOptions): string | ThreadDump {
  checkOptions('options', options);
  const format = options?.format ?? 'text';
  if (format !== 'text' && format !== 'json') {
    throw new TypeError(`format must be 'text' or 'json', got ${describe(format)}`);
  }
  const stacks = options?.stacks ?? true;
  if (typeof stacks !== 'boolean') throw new TypeError(`stacks must be a boolean, got ${describe(stacks)}`);
  // Inside a monitor's onBlock the interrupted code may be mid-switch: no switching into others then.
  const result = takeDump(stacks && !inWatchdogInterrupt());
  return format === 'json' ? result : formatDump(result);
}

function takeDump(stacks: boolean): ThreadDump {
  const hub = getHub();
  const now = performance.now();
  const { parked, ready } = hub.snapshot();
  const current = getcurrent();
  const byGreenlet = new Map<RawGreenlet, GreenletInfo>();
  const add = (g: RawGreenlet, state: GreenletStateName, task: Task | null): void => {
    if (byGreenlet.has(g)) return;
    const record = spawnRecord(g);
    const group = groupOfMember.get(g as Greenlet<unknown>);
    const waitingIn = state === 'parked' ? (task?.site?.label ?? null) : null;
    const parkedMs = state === 'parked' && task !== null ? now - task.parkedAt : null;
    byGreenlet.set(g, {
      id: taskOf(g).id,
      name: greenletName(g),
      state,
      waitingIn,
      parkedMs,
      sleepLeftMs: sleepLeft(waitingIn, parkedMs),
      stack: null,
      spawnedAt: spawnSite(record),
      parent: record?.spawner ?? null,
      children: [],
      group: groupLabel(group),
      groupName: group?.name ?? null,
      counters: countersIfTracked(g),
    });
  };
  add(current, 'running', null);
  for (const task of ready) if (!task.cancelled && !task.greenlet.dead) add(task.greenlet, 'ready', task);
  for (const task of parked) add(task.greenlet, 'parked', task);
  for (const g of trackedGreenlets()) {
    const task = taskOf(g);
    add(
      g,
      g.dead ? 'dead' : task.site !== null ? 'parked' : task.scheduled ? 'ready' : g.started ? 'switched-out' : 'ready',
      task,
    );
  }
  if (stacks) {
    for (const task of parked) {
      const info = byGreenlet.get(task.greenlet);
      if (info !== undefined && info.state === 'parked') info.stack = hub.describeStack(task) || null;
    }
  }
  return assemble([...byGreenlet.values()], hub.greenlet);
}

function assemble(all: GreenletInfo[], root: RawGreenlet): ThreadDump {
  all.sort((a, b) => a.id - b.id);
  const byId = new Map(all.map((info) => [info.id, info]));
  const rootId = taskOf(root).id;
  const roots: number[] = [];
  for (const info of all) {
    const parent = info.parent === null || info.parent === info.id ? undefined : byId.get(info.parent);
    if (parent !== undefined && info.parent !== rootId) parent.children.push(info.id);
    else roots.push(info.id);
  }
  // Parents before children: a depth-first walk from the roots.
  const ordered: GreenletInfo[] = [];
  const walk = (id: number): void => {
    const info = byId.get(id)!;
    ordered.push(info);
    for (const child of info.children) walk(child);
  };
  for (const id of roots) walk(id);
  const counts: Record<GreenletStateName, number> = { running: 0, ready: 0, parked: 0, dead: 0, 'switched-out': 0 };
  for (const info of all) counts[info.state]++;
  return {
    version: 1,
    takenAt: new Date().toISOString(),
    threadId,
    backend: getBackend(),
    counts,
    greenlets: ordered,
    roots,
  };
}

const groupNumbers = new WeakMap<Group<any>, number>();
let groupsNumbered = 0;

function groupLabel(group: Group<any> | undefined): string | null {
  if (group === undefined) return null;
  let n = groupNumbers.get(group);
  if (n === undefined) groupNumbers.set(group, (n = ++groupsNumbered));
  const label = group instanceof Pool ? `Pool(size=${group.poolSize})#${n}` : `Group#${n}`;
  return group.name === null ? label : `${label} ${JSON.stringify(group.name)}`;
}

function sleepLeft(label: string | null, parkedMs: number | null): number | null {
  const match = label === null || parkedMs === null ? null : /^sleep\(([\d.]+)\)$/.exec(label);
  return match ? Math.max(0, Number(match[1]) - parkedMs!) : null;
}

function ms(n: number): string {
  return n < 1000 ? `${n.toFixed(1)} ms` : `${(n / 1000).toFixed(2)} s`;
}

/** The text form of a dump: a header, then the greenlets as a tree. */
function formatDump(d: ThreadDump): string {
  const c = d.counts;
  const lines = [
    `greenloop dump of thread ${d.threadId} at ${d.takenAt}: ${d.greenlets.length} greenlets ` +
      `(${c.running} running, ${c.ready} ready, ${c.parked} parked, ${c['switched-out']} switched out, ${c.dead} dead)`,
  ];
  const byId = new Map(d.greenlets.map((info) => [info.id, info]));
  const show = (info: GreenletInfo, depth: number): void => {
    const pad = '  '.repeat(depth + 1);
    let line = `${pad}#${info.id} "${info.name}" ${info.state}`;
    if (info.waitingIn !== null) line += ` in ${info.waitingIn}`;
    if (info.parkedMs !== null) line += ` for ${ms(info.parkedMs)}`;
    if (info.sleepLeftMs !== null) line += ` (${ms(info.sleepLeftMs)} left)`;
    if (info.counters !== null) line += ` [${info.counters.switches} switches, ${ms(info.counters.cpuMs)} on CPU]`;
    lines.push(line);
    const indent = (text: string): string => text.replace(/^ */gm, `${pad}    `);
    if (info.stack) lines.push(indent(info.stack));
    if (info.spawnedAt) lines.push(`${pad}  spawned`, indent(info.spawnedAt));
    for (const child of info.children) show(byId.get(child)!, depth + 1);
  };
  for (const id of d.roots) show(byId.get(id)!, 0);
  const members = new Map<string, GreenletInfo[]>();
  for (const info of d.greenlets)
    if (info.group !== null) members.set(info.group, [...(members.get(info.group) ?? []), info]);
  if (members.size !== 0) lines.push('  groups');
  for (const [group, list] of members) {
    lines.push(`    ${group}: ${list.length} members`);
    for (const info of list) lines.push(`      #${info.id} "${info.name}" ${info.state}`);
  }
  return lines.join('\n');
}
