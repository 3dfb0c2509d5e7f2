/**
 * Patched sync APIs: `fs.readFileSync`, `child_process.execSync`,
 * `crypto.scryptSync`, `zlib.gzipSync` and the rest park only the calling
 * greenlet while their work runs, so unchanged sync-style code and npm
 * packages run concurrently in greenlets (gevent's `monkey.patch_all()`).
 *
 * **The rule.** A patched call parks only when it runs in a greenlet the hub
 * schedules (spawned, or the runner's main greenlet), outside a nested async
 * scope, not inside another patched call and not called by Node's own code
 * (its module loaders read files through `fs` too). Everywhere else (the
 * root, timer and promise callbacks, finalizers, `'exit'` handlers, raw
 * greenlets) it runs the original, exactly; it never throws `GreenletError`
 * because of where it was called. Results and errors are the originals'
 * (class, message, `code`, `errno`, `syscall`, `path`, `status`, `signal`,
 * `stdout`/`stderr`, argument validation), with the caller's frames in their
 * stacks.
 *
 * **What changes on purpose:** a patched call is a switch point, so other
 * greenlets run during it (a read-modify-write of a file is no longer
 * atomic); and **patch early**: a reference taken before patching
 * (`const { readFileSync } = require('fs')`, a package that copies `fs` when
 * it loads) keeps the original. See docs/monkey.md.
 * @example
 * ```js
 * const { patchAll } = require('greenloop/monkey');
 * patchAll(); // first, before requiring the code to make cooperative
 * const { execSync } = require('node:child_process');
 * const { spawn, joinall } = require('greenloop');
 *
 * const started = Date.now();
 * joinall([1, 2, 3, 4].map(() => spawn(() => execSync('sleep 0.3'))));
 * console.log(Date.now() - started); // ~300, not ~1200
 * ```
 * @module greenloop/monkey
 */
import childProcess from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import Module, { syncBuiltinESMExports } from 'node:module';
import { dirname, sep } from 'node:path';
import zlib from 'node:zlib';
import { childProcessReplacements } from './child_process.js';
import { cryptoReplacements } from './crypto.js';
import { fsReplacements } from './fs.js';
import { installModuleLock, removeModuleLock } from './loader.js';
import { setActive } from './rule.js';
import { zlibReplacements } from './zlib.js';
import { describe } from '../hub/validate.js';

/** The builtin modules `greenloop/monkey` can patch. */
export type PatchableModule = 'fs' | 'child_process' | 'crypto' | 'zlib';

/** Options of {@link patchAll}: each module defaults to `true`. */
export interface PatchAllOptions {
  /** Patch `node:fs`'s sync functions. @default true */
  fs?: boolean;
  /** Patch `spawnSync`, `execSync`, `execFileSync`. @default true */
  child_process?: boolean;
  /** Patch `pbkdf2Sync`, `scryptSync`, `generateKeyPairSync`, `randomFillSync`. @default true */
  crypto?: boolean;
  /** Patch zlib's `*Sync` functions. @default true */
  zlib?: boolean;
}

type AnyFunction = (...args: any[]) => any;

interface Patchable {
  readonly target: Record<string, unknown>;
  readonly make: () => Record<string, AnyFunction>;
  /** Replacements by name, made on first patch and reused (so a re-patch installs the same functions). */
  replacements: Record<string, AnyFunction> | null;
  /** Originals by name while patched. */
  readonly originals: Map<string, unknown>;
}

const modules: Record<PatchableModule, Patchable> = {
  fs: { target: fs as never, make: fsReplacements, replacements: null, originals: new Map() },
  child_process: {
    target: childProcess as never,
    make: childProcessReplacements,
    replacements: null,
    originals: new Map(),
  },
  crypto: { target: crypto as never, make: cryptoReplacements, replacements: null, originals: new Map() },
  zlib: { target: zlib as never, make: zlibReplacements, replacements: null, originals: new Map() },
};
const names = Object.keys(modules) as PatchableModule[];

function checkModule(name: unknown, where: string): PatchableModule {
  if (typeof name === 'string' && Object.prototype.hasOwnProperty.call(modules, name.replace(/^node:/, ''))) {
    return name.replace(/^node:/, '') as PatchableModule;
  }
  throw new TypeError(
    `${where}: module must be one of ${names.map((n) => `'${n}'`).join(', ')}, got ${describe(name)}`,
  );
}

/** greenloop's own folder, whose modules may hold originals on purpose. */
const ownDir = `${dirname(__dirname)}${sep}`;
const warned = new Set<PatchableModule>();
/**
 * Node's own functions of each module, as found at the first patch (a
 * re-patch may find a wrapper someone put around ours since: holding that is
 * not holding an original).
 */
const builtinFunctions = Object.fromEntries(names.map((n) => [n, new Set<unknown>()])) as Record<
  PatchableModule,
  Set<unknown>
>;

/**
 * Warns once per builtin when a module loaded before patching holds one of
 * its originals among its exports (a package that copied `fs`, as
 * graceful-fs does for fs-extra): calls through that copy stay blocking.
 */
function warnLateReferences(name: PatchableModule, originals: Map<string, unknown>): void {
  if (warned.has(name)) return;
  const byValue = new Map<unknown, string>();
  const builtin = builtinFunctions[name];
  for (const [key, value] of originals) if (builtin.has(value)) byValue.set(value, key);
  const cache = (Module as unknown as { _cache: Record<string, { exports?: unknown } | undefined> })._cache;
  for (const file of Object.keys(cache)) {
    if (file.startsWith(ownDir)) continue;
    const exports = cache[file]?.exports;
    if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) continue;
    for (const key of Object.keys(exports)) {
      // Data properties only: a getter may load or compute something.
      const descriptor = Object.getOwnPropertyDescriptor(exports, key);
      if (descriptor === undefined || !('value' in descriptor)) continue;
      const original = byValue.get(descriptor.value);
      if (original === undefined) continue;
      warned.add(name);
      process.emitWarning(
        `${file} was loaded before greenloop/monkey patched '${name}' and holds the original ${name}.${original}: ` +
          'calls through it still block every greenlet. Patch first (node -r greenloop/run, or patchAll() before other requires).',
        { code: 'GREENLOOP_PATCHED_LATE' },
      );
      return;
    }
  }
}

function patchOne(name: PatchableModule): void {
  const m = modules[name];
  if (m.originals.size !== 0) return;
  if (m.replacements === null) {
    m.replacements = m.make();
    for (const key of Object.keys(m.replacements)) builtinFunctions[name].add(m.target[key]);
  }
  for (const [key, fn] of Object.entries(m.replacements)) {
    m.originals.set(key, m.target[key]);
    m.target[key] = fn;
  }
  setActive(name, true);
  warnLateReferences(name, m.originals);
}

function unpatchOne(name: PatchableModule): void {
  const m = modules[name];
  for (const [key, original] of m.originals) {
    // A wrapper someone installed over ours since (graceful-fs wraps fs.closeSync) stays: it
    // calls our replacement, which acts as the original once the module is not active.
    if (m.target[key] === m.replacements![key]) m.target[key] = original;
  }
  m.originals.clear();
  setActive(name, false);
}

function afterChange(): void {
  if (names.some((n) => modules[n].originals.size !== 0)) installModuleLock();
  else removeModuleLock();
  syncBuiltinESMExports();
}

/**
 * Patches the given builtin modules' sync functions (see the module comment
 * for the rule). Idempotent: patching a patched module does nothing.
 * ES modules' named imports (`import { readFileSync } from 'node:fs'`) see
 * the patch too; references taken before it keep the original (a warning
 * `GREENLOOP_PATCHED_LATE` names a module that holds one among its exports).
 * @param modules - any of `'fs'`, `'child_process'`, `'crypto'`, `'zlib'`
 *   (a `node:` prefix is accepted).
 * @throws TypeError naming the value received for an unknown module.
 * @example
 * ```js
 * const { patch } = require('greenloop/monkey');
 * patch('fs', 'child_process');
 * ```
 */
export function patch(...modules: PatchableModule[]): void {
  const chosen = modules.map((m) => checkModule(m, 'patch()'));
  for (const name of chosen) patchOne(name);
  afterChange();
}

/**
 * Patches every module, or those `options` does not turn off.
 * @param options - {@link PatchAllOptions}; e.g. `{ crypto: false }`.
 * @throws TypeError if `options` is not an object, or one of its values not a boolean.
 * @example
 * ```js
 * require('greenloop/monkey').patchAll({ zlib: false });
 * ```
 */
export function patchAll(options: PatchAllOptions = {}): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`patchAll(): options must be an object, got ${describe(options)}`);
  }
  for (const [key, value] of Object.entries(options)) {
    checkModule(key, 'patchAll()');
    if (value !== undefined && typeof value !== 'boolean') {
      throw new TypeError(`patchAll(): options.${key} must be a boolean, got ${describe(value)}`);
    }
  }
  patch(...names.filter((n) => options[n] !== false));
}

/**
 * Restores the originals of the given modules (all of them without
 * arguments), so that `fs.readFileSync === getOriginal('fs', 'readFileSync')`
 * again. Idempotent. A function someone else replaced after patching (a
 * wrapper around the patched one) is left in place; the patched function it
 * wraps then behaves as the original.
 * @throws TypeError naming the value received for an unknown module.
 * @example
 * ```js
 * const monkey = require('greenloop/monkey');
 * monkey.patchAll();
 * // ...
 * monkey.unpatch(); // everything back
 * ```
 */
export function unpatch(...modules: PatchableModule[]): void {
  const chosen = modules.length === 0 ? names : modules.map((m) => checkModule(m, 'unpatch()'));
  for (const name of chosen) unpatchOne(name);
  afterChange();
}

/**
 * The original (unpatched) function `name` of builtin `module`, whether or
 * not it is patched now (gevent's `get_original`).
 * @throws TypeError for an unknown module, or a name that is not a function of it.
 * @example
 * ```js
 * const readFileSync = getOriginal('fs', 'readFileSync'); // always blocks, never parks
 * ```
 */
export function getOriginal(module: string, name: string): Function {
  const m = modules[checkModule(module, 'getOriginal()')];
  const value = m.originals.has(name) ? m.originals.get(name) : m.target[name];
  if (typeof value !== 'function') {
    throw new TypeError(`getOriginal(): '${module}' has no function named ${describe(name)}`);
  }
  return value;
}

/**
 * Whether `module` is patched now, or (with `name`) whether its function
 * `name` is the patched one.
 * @throws TypeError for an unknown module.
 * @example
 * ```js
 * isPatched('fs');                 // true after patchAll()
 * isPatched('fs', 'readFileSync'); // true
 * isPatched('fs', 'watch');        // false: not a sync call
 * ```
 */
export function isPatched(module: string, name?: string): boolean {
  const m = modules[checkModule(module, 'isPatched()')];
  if (m.originals.size === 0) return false;
  if (name === undefined) return true;
  return m.originals.has(name) && m.target[name] === m.replacements?.[name];
}
