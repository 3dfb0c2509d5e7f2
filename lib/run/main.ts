/**
 * Runs a script's entry module in the main greenlet: the part the `greenloop`
 * CLI and the `-r greenloop/run` preload share.
 *
 * Node starts a script by calling `Module.runMain(path)` once its preloads
 * have run. The runner takes that call: it makes a gevent-level
 * {@link Greenlet} named `main` and switches into it itself instead of
 * `start()`ing it (the hub would run it only at its next pass), so a
 * CommonJS entry's top level runs synchronously inside `Module.runMain`,
 * exactly where plain `node` runs it, and everything it schedules
 * (`process.nextTick`, promises, timers) keeps its order; an ES module entry
 * starts from a microtask, as Node evaluates ES module entries from a promise
 * job. Because it is a greenlet the hub schedules, the top level may park
 * (`sleep()`, green IO, patched sync calls): the switch then comes back here,
 * `runMain` returns, and the hub resumes the greenlet from the event loop
 * like any other.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import Module from 'node:module';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { Script } from 'node:vm';
import { Greenlet, kObserve, kRawlink } from '../api/greenlet.js';
import { resume } from '../greenlet.js';
import { captureStores, contextMode, enterContext, hubScope } from '../hub/context.js';
import { kTask } from '../hub/hub.js';
import { rethrowUncaught } from './uncaught.js';

/** The parts of Node's CommonJS loader the runner uses (documented as monkey-patchable). */
interface Loader {
  runMain(main?: string): void;
  _load(request: string, parent: unknown, isMain: boolean): unknown;
  _findPath(request: string, paths: string[] | null, isMain: boolean): string | false;
}

const loader = Module as unknown as Loader;
/** Node's own `Module.runMain`, kept before the preload replaces it. */
const nodeRunMain: (main?: string) => void = loader.runMain;
/** Loads ES module entries (`require(esm)`), so the error names the runner as the requirer. */
const requireEntry = Module.createRequire(__filename);
const kInstalled = Symbol.for('greenloop.run.installed');
const ownCli = join(dirname(__dirname), 'cli.js');

/** Returned by the main greenlet when the entry must go through Node's ESM loader instead. */
const USE_ESM_LOADER: unique symbol = Symbol('greenloop.useEsmLoader');

type Format = 'commonjs' | 'module';

/** Node's exit status for an entry whose top-level await never settled. */
const UNFINISHED_TOP_LEVEL = 13;

/** The `type` of the package.json nearest to `file` (Node's package scope), or null. */
function packageType(file: string): string | null {
  for (let dir = dirname(file); ;) {
    if (dir.endsWith(`${sep}node_modules`)) return null;
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        const type = (JSON.parse(readFileSync(manifest, 'utf8')) as { type?: unknown }).type;
        return typeof type === 'string' ? type : null;
      } catch {
        return null; // the loader reports the broken package.json itself
      }
    }
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

/**
 * Messages V8 gives ES module syntax compiled as a CommonJS function body
 * (top-level await included: Node runs such a file as a module too, through
 * its ESM loader, which the runner falls back to).
 */
const ESM_SYNTAX = [
  'Cannot use import statement outside a module',
  "Unexpected token 'export'",
  "Cannot use 'import.meta' outside a module",
  'await is only valid in async functions and the top level bodies of modules',
];

/** Whether a file with no declared type holds ES module syntax (Node's module syntax detection). */
function hasModuleSyntax(file: string): boolean {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  if (source.startsWith('#!')) source = `//${source.slice(2)}`;
  try {
    new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, { filename: file });
    return false;
  } catch (error) {
    return error instanceof SyntaxError && ESM_SYNTAX.some((m) => error.message.includes(m));
  }
}

/** How Node would load `file` as the entry: by extension, package type, then syntax. */
function entryFormat(file: string): Format {
  const ext = extname(file);
  if (ext === '.mjs' || ext === '.mts') return 'module';
  if (ext === '.cjs' || ext === '.cts') return 'commonjs';
  const type = packageType(file);
  if (type === 'module') return 'module';
  if (type === 'commonjs' || (ext !== '.js' && ext !== '.ts' && ext !== '')) return 'commonjs';
  return hasModuleSyntax(file) ? 'module' : 'commonjs';
}

function preservesSymlinks(): boolean {
  const flag = '--preserve-symlinks-main';
  return process.execArgv.includes(flag) || (process.env.NODE_OPTIONS ?? '').split(/\s+/).includes(flag);
}

/** The entry's file, resolved as Node resolves `node <main>`; null if there is none. */
function resolveEntry(main: string): string | null {
  const found = loader._findPath(resolve(main), null, true);
  if (!found) return null;
  if (preservesSymlinks()) return found;
  try {
    return realpathSync(found);
  } catch {
    return found;
  }
}

/** Whether `error` says that the entry itself (not a module its body requires) has top-level await. */
function isEntryAsync(error: unknown, entry: string): boolean {
  if ((error as { code?: unknown } | null)?.code !== 'ERR_REQUIRE_ASYNC_MODULE') return false;
  const message = String((error as { message?: unknown }).message);
  const required = /^(?:\s*Requiring|Required module:) (.+?)\s*$/m.exec(message);
  return required === null ? message.includes(entry) : required[1] === entry;
}

/** The main greenlet's body: loads the entry; says so if Node's ESM loader must do it. */
function loadEntry(main: string, entry: string | null, format: Format): typeof USE_ESM_LOADER | undefined {
  if (entry === null || format === 'commonjs') {
    // As `node` does: the loader makes it require.main, with module.id '.'.
    loader._load(main, null, true);
    return undefined;
  }
  try {
    requireEntry(entry);
  } catch (error) {
    // Raised before any module of its graph ran: Node's ESM loader runs it instead.
    if (isEntryAsync(error, entry)) return USE_ESM_LOADER;
    throw error;
  }
  return undefined;
}

/**
 * Runs the script `main` (as `node main` would load it) with its top level in
 * a new greenlet named `main`. A CommonJS entry starts at once and this
 * returns when its top level has finished or first parks; an ES module entry
 * starts from a microtask queued here, because Node evaluates ES module
 * entries from a promise job (so their promise callbacks run before their
 * `process.nextTick` callbacks). An error escaping the top level becomes an
 * uncaught exception: thrown where the greenlet was started if it escapes
 * before the first park, else from a `process.nextTick` after the hub's pass
 * it escaped in.
 */
export function runMainInGreenlet(main: string = process.argv[1] ?? ''): void {
  const entry = resolveEntry(main);
  const format: Format = entry === null ? 'commonjs' : entryFormat(entry);
  if (format === 'commonjs') {
    startMain(main, entry, format);
    return;
  }
  // An ES module entry is no process.mainModule under node either.
  (process as { mainModule?: unknown }).mainModule = undefined;
  queueMicrotask(() => startMain(main, entry, format));
}

function startMain(main: string, entry: string | null, format: Format): void {
  const greenlet = new Greenlet(
    function runEntry() {
      return loadEntry(main, entry, format);
    },
    { name: 'main' },
  );
  // The runner reports its error the way node does, not as an unjoined greenlet.
  greenlet[kObserve]();
  let parked = false;
  greenlet[kRawlink]((g) => {
    if (parked && !g.successful()) process.nextTick(rethrowUncaught, g.exception, format === 'commonjs');
  });
  switchIntoMain(greenlet);
  if (!greenlet.dead) {
    parked = true;
    // As node does for an ES module whose top-level await never settles: the
    // loop ran out of work with the top level unfinished (the hub's LoopExit
    // report says where it waits). An explicit process.exit(n) keeps n.
    process.on('exit', () => {
      if (!greenlet.dead) process.exitCode ??= UNFINISHED_TOP_LEVEL;
    });
    return;
  }
  if (!greenlet.successful()) rethrowUncaught(greenlet.exception, format === 'commonjs');
  if (greenlet.value === USE_ESM_LOADER) nodeRunMain.call(Module, main);
}

/**
 * Switches into the main greenlet now (start() would wait for the hub's next
 * pass), as the hub itself starts greenlets (a user's `switch()` into an
 * unstarted hub greenlet is refused). In resource mode (see hub/context.ts) it runs as the hub runs every
 * greenlet: inside the hub's async resource, showing a context of its own
 * (the stores current here, copied). Otherwise an AsyncLocalStorage store its
 * top level sets would be written to the top-level resource of the root and
 * stay there after a park: `als.run()` could not take it back, and the root
 * would see it.
 */
function switchIntoMain(greenlet: Greenlet<unknown>): void {
  if (contextMode === 'frame') {
    resume(greenlet); // the core switches AsyncLocalStorage's frame with the greenlet
    return;
  }
  const task = greenlet[kTask];
  task.ctx = captureStores();
  hubScope.runInAsyncScope(() => {
    enterContext(task.ctx!);
    resume(greenlet);
  });
}

/**
 * Makes Node's coming `Module.runMain()` call run the entry in the main
 * greenlet (once; later calls go to Node's own). Idempotent.
 */
export function installRunMain(): void {
  const state = globalThis as { [kInstalled]?: boolean };
  if (state[kInstalled]) return;
  state[kInstalled] = true;
  loader.runMain = function greenloopRunMain(main?: string): void {
    loader.runMain = nodeRunMain;
    // `greenloop` itself, preloaded too: it runs on the root and starts the script's greenlet.
    if (resolveEntry(main ?? process.argv[1] ?? '') === ownCli) nodeRunMain.call(Module, main);
    else runMainInGreenlet(main);
  };
}
