/**
 * Loads the native core (csrc/, built by node-gyp) and describes its surface.
 * Only greenlet.ts talks to it (and lib/debug/watchdog.ts, to the watchdog thread).
 * @internal
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
  stats(): CoreStats;
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

function findAddon(): string {
  const relative = join('build', 'Release', 'greenloop_core.node');
  for (let dir = __dirname; ; dir = dirname(dir)) {
    const candidate = join(dir, relative);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) {
      throw new Error(
        `greenloop: the native core (${relative}) was not found above ${__dirname}; ` +
          'run `npm install` (or `npx node-gyp rebuild`) in the package folder',
      );
    }
  }
}

export const native: NativeCore = createRequire(__filename)(findAddon()) as NativeCore;
