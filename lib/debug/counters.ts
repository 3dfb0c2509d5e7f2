/**
 * Per-greenlet switch counts and on-CPU time, and the event loop's delay,
 * while {@link trackTime} is on.
 * @module
 */
import { type IntervalHistogram, monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { type Greenlet as RawGreenlet, getcurrent, setSwitchObserver } from '../greenlet.js';

/** One greenlet's counters. */
export interface GreenletCounters {
  /** Times control switched into it since tracking began. */
  switches: number;
  /** Milliseconds it held control (ran JS, or native code it called) since tracking began. */
  cpuMs: number;
}

/** The event loop's delay while tracking, in ms (Node's `monitorEventLoopDelay`). */
export interface LoopDelay {
  min: number;
  max: number;
  mean: number;
  p50: number;
  p99: number;
}

const byGreenlet = new WeakMap<RawGreenlet, GreenletCounters>();
let tracking = false;
let since = 0;
let histogram: IntervalHistogram | null = null;

function countersOf(g: RawGreenlet): GreenletCounters {
  let c = byGreenlet.get(g);
  if (c === undefined) byGreenlet.set(g, (c = { switches: 0, cpuMs: 0 }));
  return c;
}

function onSwitch(_event: 'switch' | 'throw', origin: RawGreenlet, target: RawGreenlet): void {
  const now = performance.now();
  countersOf(origin).cpuMs += now - since;
  countersOf(target).switches++;
  since = now;
}

/**
 * Turns the counters on or off: while on, every switch is counted and timed
 * (beside `settrace`, not through it: a tracer set before or after, or
 * removed, leaves the counters running, and `gettrace()` does not show
 * them), and the event loop's delay is sampled every 10 ms. Costs about
 * 0.3-0.5 µs per switch (bench/debug.js).
 * @param on - true to start, false to stop (the counts are kept).
 * @returns whether they were on before.
 * @throws TypeError unless `on` is a boolean.
 * @example
 * ```ts
 * import { trackTime, counters } from 'greenloop/debug';
 * trackTime(true);
 * const g = spawn(work);
 * g.join();
 * console.log(counters(g)); // { switches: 3, cpuMs: 12.5 }
 * ```
 */
export function trackTime(on: boolean): boolean {
  if (typeof on !== 'boolean') throw new TypeError(`trackTime() expects a boolean, got ${typeof on}`);
  const was = tracking;
  if (on && !was) {
    since = performance.now();
    setSwitchObserver(onSwitch);
    tracking = true;
    histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
  } else if (!on && was) {
    setSwitchObserver(null);
    tracking = false;
    histogram?.disable();
  }
  return was;
}

/**
 * The counters of `g` (switches into it and its on-CPU time since
 * {@link trackTime} was turned on); zeros if it never ran meanwhile. The
 * running greenlet's time includes its current run up to now.
 * @example
 * ```ts
 * console.log(counters(getcurrent()).cpuMs);
 * ```
 */
export function counters(g: RawGreenlet): GreenletCounters {
  const c = counters_(g);
  return { switches: c.switches, cpuMs: c.cpuMs };
}

function counters_(g: RawGreenlet): GreenletCounters {
  const c = byGreenlet.get(g) ?? { switches: 0, cpuMs: 0 };
  if (tracking && g === getcurrent()) return { switches: c.switches, cpuMs: c.cpuMs + performance.now() - since };
  return c;
}

/** The counters of `g` if time is tracked, else null. @internal */
export function countersIfTracked(g: RawGreenlet): GreenletCounters | null {
  return tracking ? counters_(g) : null;
}

/**
 * The event loop's delay (how late its timers ran: time greenlets and
 * callbacks held the thread) since {@link trackTime} was last turned on, in
 * ms; null if it never was.
 * @example
 * ```ts
 * const d = loopDelay(); if (d && d.p99 > 50) console.warn('loop lagging', d);
 * ```
 */
export function loopDelay(): LoopDelay | null {
  const h = histogram;
  if (h === null || h.count === 0) return h === null ? null : { min: 0, max: 0, mean: 0, p50: 0, p99: 0 };
  const ms = (ns: number): number => ns / 1e6;
  return { min: ms(h.min), max: ms(h.max), mean: ms(h.mean), p50: ms(h.percentile(50)), p99: ms(h.percentile(99)) };
}
