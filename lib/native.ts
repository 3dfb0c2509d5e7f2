/**
 * Loads the native core (csrc/, built by node-gyp) and describes its surface.
 * Only greenlet.ts talks to it.
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
