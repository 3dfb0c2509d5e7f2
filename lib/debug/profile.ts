/**
 * {@link profile}: a sampling CPU profiler that sees every greenlet (V8's
 * own profilers sample only the thread they started on, so time inside
 * greenlets goes missing), producing Chrome's `.cpuprofile` shape.
 * @module
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { GreenletError } from '../errors.js';
import { getcurrent, type Greenlet as RawGreenlet } from '../greenlet.js';
import { taskOf } from '../hub/hub.js';
import { greenletName } from './name.js';
import { checkOptions, describe } from '../hub/validate.js';
import { setSampleListener, urlOf } from './watchdog.js';

/**
 * A call frame of a {@link CpuProfile} node (0-based line and column, as
 * Chrome's). The watchdog sees where each function was, not where it begins:
 * the line and column are those of the first sample in it (DevTools opens the
 * source there), and {@link CpuProfileNode.positionTicks} has every line.
 */
export interface CpuProfileCallFrame {
  functionName: string;
  scriptId: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

/** A node of a {@link CpuProfile}'s call tree. */
export interface CpuProfileNode {
  id: number;
  callFrame: CpuProfileCallFrame;
  /** Samples whose innermost frame is this node. */
  hitCount: number;
  children: number[];
  /** Samples per source line (1-based) where this node was the innermost frame. */
  positionTicks?: Array<{ line: number; ticks: number }>;
}

/**
 * What {@link ProfileHandle.stop} returns: the `.cpuprofile` JSON that Chrome
 * DevTools (Performance panel, "Load profile") and speedscope open. Under
 * `(root)` each greenlet is a node of its own, named `greenlet "<name>" #<id>`
 * (the hub is `greenlet "hub" #<id>`), with its JS frames below; time the loop
 * spent waiting is `(idle)`.
 */
export interface CpuProfile {
  nodes: CpuProfileNode[];
  /** µs, `performance.now()` timeline. */
  startTime: number;
  endTime: number;
  /** The node id of each sample. */
  samples: number[];
  /** µs since the previous sample (the first: since startTime). */
  timeDeltas: number[];
}

/** Options of {@link profile}. */
export interface ProfileOptions {
  /** Sampling interval in µs (at least 100). @default 1000 */
  interval?: number;
  /** Also write the profile as JSON to this file at stop() (name it `*.cpuprofile` for DevTools). */
  file?: string;
}

/** A running profile. */
export interface ProfileHandle {
  /**
   * Stops sampling and returns the profile (writing it to `file` if given).
   * @throws GreenletError if it was already stopped.
   */
  stop(): CpuProfile;
}

interface Sample {
  /** µs. */
  at: number;
  /** Index into the profile's list of greenlets seen. */
  greenlet: number;
  frames: Array<string | number>;
}

let running: Sample[] | null = null;

/**
 * Starts a sampling CPU profiler of this thread that records every
 * greenlet's JS stack: a native watchdog thread asks V8 for an interrupt
 * every `interval` µs, and the stack is taken inside whichever greenlet is
 * running, tagged with it. Each greenlet becomes a root of its own in the
 * profile, under the name it has at `stop()` (the profile holds each sampled
 * greenlet until then). Costs one interrupt and a stack capture per sample (see
 * bench/debug.js). One profile per thread at a time.
 * Samples land when JS runs: time in a long native call shows as the JS frame
 * that made it, once the call returns.
 * @param options - {@link ProfileOptions}.
 * @returns a handle; its `stop()` returns the {@link CpuProfile}.
 * @throws TypeError for a bad option, naming the value received.
 * @throws GreenletError if a profile is already running on this thread.
 * @example
 * ```ts
 * import { profile } from 'greenloop/debug';
 * const p = profile({ file: 'app.cpuprofile' });
 * // ... run the workload
 * const result = p.stop(); // and app.cpuprofile opens in DevTools or speedscope
 * ```
 */
export function profile(options?: ProfileOptions): ProfileHandle {
  checkOptions('options', options);
  const interval = options?.interval ?? 1000;
  if (typeof interval !== 'number' || !Number.isFinite(interval) || interval < 100) {
    throw new TypeError(`interval must be a number of µs >= 100, got ${describe(interval)}`);
  }
  const file = options?.file;
  if (file !== undefined && typeof file !== 'string')
    throw new TypeError(`file must be a string, got ${describe(file)}`);
  if (running !== null) throw new GreenletError('a profile is already running on this thread: stop() it first');
  const samples: Sample[] = (running = []);
  // The listener runs inside an interrupt, possibly in the middle of the hub
  // giving this greenlet its Task: it only records the greenlet, and stop()
  // reads ids and (latest) names.
  const seen = new Map<RawGreenlet, number>();
  const startTime = performance.now() * 1000;
  setSampleListener((frames) => {
    const g = getcurrent();
    let index = seen.get(g);
    if (index === undefined) seen.set(g, (index = seen.size));
    samples.push({ at: performance.now() * 1000, greenlet: index, frames });
  }, interval);
  let stopped = false;
  return {
    stop(): CpuProfile {
      if (stopped) throw new GreenletError('this profile was already stopped');
      stopped = true;
      setSampleListener(null);
      running = null;
      const greenlets = [...seen.keys()].map((g) => ({ id: taskOf(g).id, name: greenletName(g) }));
      seen.clear();
      const result = buildProfile(samples, greenlets, startTime, performance.now() * 1000, interval);
      if (file !== undefined) writeFileSync(file, JSON.stringify(result));
      return result;
    },
  };
}

function tickLine(node: CpuProfileNode, line: number): void {
  const ticks = (node.positionTicks ??= []);
  const entry = ticks.find((t) => t.line === line);
  if (entry === undefined) ticks.push({ line, ticks: 1 });
  else entry.ticks++;
}

function buildProfile(
  samples: Sample[],
  greenlets: Array<{ id: number; name: string }>,
  startTime: number,
  endTime: number,
  interval: number,
): CpuProfile {
  const nodes: CpuProfileNode[] = [];
  const childIndex: Array<Map<string, number>> = [];
  const node = (callFrame: CpuProfileCallFrame): number => {
    const id = nodes.length + 1;
    nodes.push({ id, callFrame, hitCount: 0, children: [] });
    childIndex.push(new Map());
    return id;
  };
  const child = (parent: number, key: string, callFrame: () => CpuProfileCallFrame): number => {
    const index = childIndex[parent - 1]!;
    let id = index.get(key);
    if (id === undefined) {
      id = node(callFrame());
      index.set(key, id);
      nodes[parent - 1]!.children.push(id);
    }
    return id;
  };
  const synthetic = (functionName: string): CpuProfileCallFrame => ({
    functionName,
    scriptId: '0',
    url: '',
    lineNumber: -1,
    columnNumber: -1,
  });
  const root = node(synthetic('(root)'));
  const idle = child(root, '(idle)', () => synthetic('(idle)'));
  const out: number[] = [];
  const deltas: number[] = [];
  let last = startTime;
  const hit = (id: number, at: number): void => {
    nodes[id - 1]!.hitCount++;
    out.push(id);
    deltas.push(Math.max(0, Math.round(at - last)));
    last = at;
  };
  for (const [index, sample] of samples.entries()) {
    // Two requests served back to back (one had waited while its greenlet was
    // switched out) give two samples of one moment: the earlier is dropped, as
    // DevTools nests whatever follows a zero-length sample inside it.
    const next = samples[index + 1];
    if (next !== undefined && next.at - sample.at < interval / 4) continue;
    // A gap of several intervals is time the loop waited with no JS to run.
    if (sample.at - last > 3 * interval) hit(idle, last + interval);
    const { id: greenletId, name } = greenlets[sample.greenlet]!;
    let id = child(root, `g${greenletId}`, () => synthetic(`greenlet "${name}" #${greenletId}`));
    const f = sample.frames;
    for (let i = f.length - 5; i >= 0; i -= 5) {
      // One node per function (by script and name; an anonymous one by where it was seen).
      const key = f[i] === '' ? `${f[i + 4]}::${f[i + 2]}` : `${f[i + 4]}:${f[i]}`;
      id = child(id, key, () => ({
        functionName: f[i] as string,
        scriptId: String(f[i + 4]),
        url: urlOf(f[i + 1] as string),
        lineNumber: (f[i + 2] as number) - 1,
        columnNumber: (f[i + 3] as number) - 1,
      }));
    }
    hit(id, sample.at);
    if (f.length >= 5) tickLine(nodes[id - 1]!, f[2] as number);
  }
  if (endTime - last > 3 * interval) hit(idle, last + interval);
  return { nodes, startTime: Math.round(startTime), endTime: Math.round(endTime), samples: out, timeDeltas: deltas };
}
