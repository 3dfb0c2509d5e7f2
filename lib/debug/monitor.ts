/**
 * {@link monitor}: a watchdog thread that reports the greenlet that keeps
 * the event loop from coming back, with its stack, while it still blocks.
 * @module
 */
import { writeSync } from 'node:fs';
import { GreenletError } from '../errors.js';
import { getcurrent } from '../greenlet.js';
import { getHub, taskOf } from '../hub/hub.js';
import { checkFunction, checkOptions, describe } from '../hub/validate.js';
import { greenletName } from './name.js';
import { type FrameInfo, formatFrames, framesOf, setBlockListener } from './watchdog.js';

/** What {@link monitor} reports about a block. */
export interface BlockReport {
  /** The name of the greenlet that was running (`'hub'` for the thread's root). */
  greenlet: string;
  /** Its id (as {@link dump} shows it). */
  greenletId: number;
  /** How long the loop had not come back when the stack was taken, in ms. */
  blockedMs: number;
  /** Its JS stack at that moment, in V8's text form, innermost frame first. */
  stack: string;
  /** The same frames, structured. */
  frames: FrameInfo[];
}

/** Options of {@link monitor}. */
export interface MonitorOptions {
  /** Report when the loop has not come back for this many ms (at least 10). @default 100 */
  threshold?: number;
  /**
   * Called with each report, synchronously, inside the blocking greenlet at
   * the moment its stack is taken (from a V8 interrupt): it cannot park (a
   * blocking call there, a patched sync call included, throws a
   * GreenletError at once; spawn() a greenlet or use setImmediate for more,
   * and `kill()` with `{ block: false }`) and should be quick. A
   * {@link dump} taken there has no park-point stacks. An error it throws is
   * printed and dropped.
   * @default a report to stderr
   */
  onBlock?: (report: BlockReport) => void;
}

/** A running monitor. */
export interface MonitorHandle {
  /** Stops it (the watchdog thread ends if nothing else uses it). Idempotent. */
  stop(): void;
}

let active: MonitorHandle | null = null;

function refuseToPark(operation: string): never {
  throw new GreenletError(
    `${operation} cannot park inside monitor()'s onBlock: it runs inside the blocking code, from a V8 ` +
      'interrupt, and must return without waiting (spawn() a greenlet or use setImmediate() to do more)',
  );
}

/**
 * Runs `onBlock` with every park refused: a park would switch away from the
 * middle of the interrupted code (and a wait that never ends would leave it
 * there). Every wait, patched sync calls included, starts in the hub's
 * `enterPark`, shadowed meanwhile.
 */
function callRefusingParks(onBlock: (report: BlockReport) => void, report: BlockReport): void {
  const hub = getHub();
  Object.defineProperty(hub, 'enterPark', { value: refuseToPark, configurable: true, writable: true });
  try {
    onBlock(report);
  } finally {
    Reflect.deleteProperty(hub, 'enterPark');
  }
}

function printReport(report: BlockReport): void {
  writeSync(
    2,
    `greenloop: the event loop has not come back for ${Math.round(report.blockedMs)} ms: ` +
      `greenlet "${report.greenlet}" (#${report.greenletId}) is running\n${report.stack}\n`,
  );
}

/**
 * Starts a watchdog thread that notices when this thread's event loop has
 * not come back for `threshold` ms (a greenlet or callback running without
 * parking, a sync call) and reports, once per block and while it still
 * blocks, the greenlet that is running and its JS stack: V8 is asked for an
 * interrupt from the watchdog thread, and the stack is taken inside that
 * greenlet. The loop ticks a native heartbeat (a timer every `threshold`/4
 * ms, and each loop iteration) that costs nothing measurable in
 * bench/debug.js. One monitor per thread at a time.
 * Blocking native code (a sync syscall, a long regex) is reported once JS
 * runs again, if it still has not come back by then.
 * @param options - {@link MonitorOptions}.
 * @returns a handle; `stop()` ends it.
 * @throws TypeError for a bad option, naming the value received.
 * @throws GreenletError if a monitor is already running on this thread.
 * @example
 * ```ts
 * import { monitor } from 'greenloop/debug';
 * const m = monitor({ threshold: 100, onBlock: (r) => console.error(r.greenlet, r.blockedMs, r.stack) });
 * // ... later
 * m.stop();
 * ```
 */
export function monitor(options?: MonitorOptions): MonitorHandle {
  checkOptions('options', options);
  const threshold = options?.threshold ?? 100;
  if (typeof threshold !== 'number' || !Number.isFinite(threshold) || threshold < 10) {
    throw new TypeError(`threshold must be a number of ms >= 10, got ${describe(threshold)}`);
  }
  const onBlock = options?.onBlock ?? printReport;
  checkFunction('onBlock', onBlock);
  if (active !== null) throw new GreenletError('a monitor is already running on this thread: stop() it first');
  const listener = (flat: Array<string | number>, blockedMs: number): void => {
    const g = getcurrent();
    const frames = framesOf(flat);
    const report: BlockReport = {
      greenlet: greenletName(g),
      greenletId: taskOf(g).id,
      blockedMs,
      stack: formatFrames(frames),
      frames,
    };
    try {
      callRefusingParks(onBlock, report);
    } catch (error) {
      writeSync(2, `greenloop: monitor's onBlock threw: ${error instanceof Error ? error.stack : String(error)}\n`);
    }
  };
  setBlockListener(listener, threshold);
  const handle: MonitorHandle = {
    stop() {
      if (active !== handle) return;
      active = null;
      setBlockListener(null);
    },
  };
  active = handle;
  return handle;
}
