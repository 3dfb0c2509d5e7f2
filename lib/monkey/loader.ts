/**
 * The module lock: while a greenlet runs a module's body (and so may park in
 * it), another greenlet that requires the same file waits for it to finish
 * and then gets its complete exports, instead of the partial `{}` Node hands
 * out for a require cycle.
 *
 * Keyed by the resolved filename, taken in `Module.prototype.load` (a module
 * being loaded for the first time) and waited for in `Module._load` (every
 * `require`). `Module._load` and `Module._resolveFilename` also mark, for the
 * rule, that Node's loader may be the caller of a patched call. A wait that would close a cycle across greenlets (A waits for
 * B's module while B waits for A's) does not wait: it gets the partial
 * exports, as a require cycle does under Node. The root cannot wait either
 * (it gets the partial exports, as it would have without greenlets).
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import Module from 'node:module';
import { GreenletError } from '../errors.js';
import { type Greenlet as RawGreenlet, getcurrent } from '../greenlet.js';
import { Waiter } from '../hub/waiter.js';
import { enterLoader, inOriginal, isParkable, leaveLoader } from './rule.js';

type AnyFunction = (...args: any[]) => any;
interface ModuleStatics {
  _load: AnyFunction;
  _resolveFilename: AnyFunction;
  prototype: { load: AnyFunction };
}
const M = Module as unknown as ModuleStatics;

interface Loading {
  readonly owner: RawGreenlet;
  readonly waiters: Waiter<void>[];
}

/** Modules whose body runs in a greenlet now, by filename. */
const loading = new Map<string, Loading>();
/** Greenlets waiting for a module, and which. */
const waitingFor = new Map<RawGreenlet, string>();

let originalLoad: AnyFunction | null = null;
let originalModuleLoad: AnyFunction | null = null;
let originalResolve: AnyFunction | null = null;

function lockedLoad(this: unknown, filename: string): unknown {
  const g = getcurrent();
  if (!isParkable(g) || typeof filename !== 'string' || loading.has(filename)) {
    return Reflect.apply(originalLoad!, this, arguments);
  }
  const entry: Loading = { owner: g, waiters: [] };
  loading.set(filename, entry);
  try {
    return Reflect.apply(originalLoad!, this, arguments);
  } finally {
    loading.delete(filename);
    for (const w of entry.waiters) w.switch();
  }
}

/** Whether `g` waiting for `entry` would wait for itself, through the chain of waits. */
function closesCycle(g: RawGreenlet, entry: Loading): boolean {
  let owner = entry.owner;
  for (let hops = 0; hops <= waitingFor.size; hops++) {
    if (owner === g) return true;
    const file = waitingFor.get(owner);
    const next = file === undefined ? undefined : loading.get(file);
    if (next === undefined) return false;
    owner = next.owner;
  }
  return true;
}

function waitForLoad(request: unknown, parent: unknown, isMain: unknown): void {
  const g = getcurrent();
  if (!isParkable(g) || inOriginal()) return;
  let filename: unknown;
  try {
    filename = Reflect.apply(trackedResolve, M, [request, parent, isMain]);
  } catch {
    return; // Module._load reports it
  }
  for (;;) {
    const entry = loading.get(filename as string);
    if (entry === undefined || entry.owner === g || closesCycle(g, entry)) return;
    const w = new Waiter<void>(`require(${JSON.stringify(request)})`);
    entry.waiters.push(w);
    waitingFor.set(g, filename as string);
    try {
      w.get();
    } catch (error) {
      if (error instanceof GreenletError) return; // cannot park here (a nested async scope): Node's partial exports
      throw error;
    } finally {
      waitingFor.delete(g);
    }
  }
}

function lockedModuleLoad(this: unknown, request: unknown, parent: unknown, isMain: unknown): unknown {
  if (loading.size !== 0) waitForLoad(request, parent, isMain);
  enterLoader();
  try {
    return Reflect.apply(originalModuleLoad!, this, arguments);
  } finally {
    leaveLoader();
  }
}

/** `Module._resolveFilename` (also `require.resolve()`) reads the file system through `fs` too. */
function trackedResolve(this: unknown): unknown {
  enterLoader();
  try {
    return Reflect.apply(originalResolve!, this, arguments);
  } finally {
    leaveLoader();
  }
}

let installed = false;

/** Installs the module lock (idempotent). */
export function installModuleLock(): void {
  if (installed) return;
  installed = true;
  if (M.prototype.load !== lockedLoad) {
    originalLoad = M.prototype.load;
    M.prototype.load = lockedLoad;
  }
  if (M._load !== lockedModuleLoad) {
    originalModuleLoad = M._load;
    M._load = lockedModuleLoad;
  }
  if (M._resolveFilename !== trackedResolve) {
    originalResolve = M._resolveFilename;
    M._resolveFilename = trackedResolve;
  }
}

/**
 * Removes the module lock. Where someone wrapped our functions since, theirs
 * stay (and keep calling ours, which keep working).
 */
export function removeModuleLock(): void {
  if (!installed) return;
  installed = false;
  if (M.prototype.load === lockedLoad) M.prototype.load = originalLoad!;
  if (M._load === lockedModuleLoad) M._load = originalModuleLoad!;
  if (M._resolveFilename === trackedResolve) M._resolveFilename = originalResolve!;
}
