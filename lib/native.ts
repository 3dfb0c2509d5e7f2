/**
 * Loads the native core (csrc/, built by node-gyp) and describes its surface.
 * Only greenlet.ts talks to it (and lib/debug/watchdog.ts, to the watchdog thread).
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { CoreStats } from './greenlet.js';

/** An opaque object that stands for one native greenlet. */
export interface NativeHandle {
  /** The JS-side state, attached by greenlet.ts. */
  state?: unknown;
}

export interface NativeCore {
  init(
    entry: (handle: NativeHandle) => NativeHandle,
    errorClass: new (message: string) => Error,
  ): { root: NativeHandle; backend: 'user-space' | 'threads'; userSpaceAvailable: boolean };
  setBackend(name: string): void;
  create(stackSize?: number): NativeHandle;
  switchTo(handle: NativeHandle): void;
  setPoolSize(n: number): void;
  /**
   * Has a background thread make owner threads for greenlets of `stackSize`
   * until `total` (idle and spare together) are there, then keep `keep`
   * spares ready (csrc/owner_thread.h, OwnerFactory).
   */
  setSpareThreads(stackSize: number | undefined, total: number, keep: number): void;
  /**
   * Whether that background thread still makes the threads the last
   * `setSpareThreads` asked for, and how many for `stackSize` are there.
   */
  preparedThreads(stackSize: number | undefined): { making: boolean; ready: number };
  /**
   * The slots the process's futex hash was grown to for owner threads, how
   * often, and how often by the main thread (csrc/owner_thread.h; tests).
   */
  futexHash(): { slots: number; growths: number; growthsOnMainThread: number };
  stats(): CoreStats;
  /**
   * Gives back the stack pages below where the greenlet of `handle` is parked
   * and returns their bytes (0 unless it is parked under the user-space backend).
   */
  releaseStack(handle: NativeHandle): number;
  /**
   * Bytes the C allocator has handed out and not had back (glibc's
   * `mallinfo2()`, all arenas), or -1 where it cannot tell: for leak tests.
   */
  mallocInUse(): number;
  /**
   * The isolate's continuation-preserved embedder data: the AsyncContextFrame
   * that AsyncLocalStorage reads where Node keeps it there (Node 24+, Node 22
   * with `--experimental-async-context-frame`); undefined on older V8.
   */
  contextFrame(): unknown;
  /** Makes `frame` (from {@link contextFrame}) the running greenlet's; a no-op on older V8. */
  setContextFrame(frame: unknown): void;
  /**
   * The watchdog thread (csrc/watchdog.cc): with `thresholdMs` > 0, calls
   * `callback(0, frames, blockedMs)` from an interrupt when the event loop has
   * not ticked for that long (once per block); with `intervalUs` > 0, calls
   * `callback(1, frames, 0)` every interval (a sample); both 0 stop it.
   * `frames`: five entries per frame, innermost first: function name,
   * script name, line, column, script id.
   */
  watchdogConfigure(
    callback: (reason: 0 | 1, frames: Array<string | number>, blockedMs: number) => void,
    thresholdMs: number,
    intervalUs: number,
  ): void;
}

/** What to run when the addon is missing or was built for another Node. */
const rebuildAdvice = 'run `npm rebuild greenloop` (in a checkout of greenloop itself: `npm install`)';

/** An error that says why the native core cannot load and what to run. */
function loadError(message: string, cause?: unknown): Error {
  return Object.assign(new Error(`greenloop: ${message}; ${rebuildAdvice}`, { cause }), {
    code: 'GREENLOOP_ERR_NATIVE_LOAD',
  });
}

function findAddon(): string {
  const relative = join('build', 'Release', 'greenloop_core.node');
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) {
      throw loadError(
        `the native core (${relative}) was not found above ${__dirname}: its build did not run ` +
          '(npm install --ignore-scripts) or failed (see the install log)',
      );
    }
  }
}

function loadAddon(path: string): NativeCore {
  try {
    return createRequire(__filename)(path) as NativeCore;
  } catch (error) {
    const message = String((error as Error | undefined)?.message ?? error);
    // Node's words for an addon built against another ABI, e.g. after switching Node versions.
    const abi = /NODE_MODULE_VERSION (\d+)\. This version of Node\.js requires\s+NODE_MODULE_VERSION (\d+)/.exec(
      message,
    );
    if (abi) {
      throw loadError(
        `the native core (${path}) was compiled for another Node.js version ` +
          `(NODE_MODULE_VERSION ${abi[1]}; Node ${process.version} needs ${abi[2]})`,
        error,
      );
    }
    if ((error as NodeJS.ErrnoException | undefined)?.code === 'ERR_DLOPEN_FAILED') {
      throw loadError(`the native core (${path}) could not be loaded (${message.split('\n')[0]})`, error);
    }
    throw error;
  }
}

export const native: NativeCore = loadAddon(findAddon());
