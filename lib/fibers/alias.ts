/**
 * A preload that makes `require('fibers')` and `require('fibers/future')`
 * load greenloop's `Fiber` and `Future` (greenloop/fibers), so that code written for
 * node-fibers runs unmodified:
 *
 * ```console
 * node -r greenloop/fibers/alias app.js
 * ```
 *
 * It hooks CommonJS resolution only (`Module._resolveFilename`): the names
 * `fibers`, `fibers/fibers(.js)` and `fibers/future(.js)` resolve to
 * greenloop's modules from any file, whether or not a `fibers` package is
 * installed. `import 'fibers'` in an ES module is not affected (use
 * `createRequire`, or the package alias described in docs/fibers.md).
 * Requiring it twice installs the hook once.
 * @example
 * ```js
 * require('greenloop/fibers/alias');
 * const Fiber = require('fibers'); // greenloop's Fiber
 * ```
 * @module greenloop/fibers/alias
 */
import Module from 'node:module';
import { join } from 'node:path';

const targets: Record<string, string> = {
  fibers: join(__dirname, 'fibers.js'),
  'fibers/fibers': join(__dirname, 'fibers.js'),
  'fibers/fibers.js': join(__dirname, 'fibers.js'),
  'fibers/future': join(__dirname, 'fibers-future.js'),
  'fibers/future.js': join(__dirname, 'fibers-future.js'),
};

const kInstalled = Symbol.for('greenloop.fibers.alias');
type ModuleInternals = typeof Module & {
  _resolveFilename(request: string, parent: unknown, isMain: boolean, options?: unknown): string;
  [kInstalled]?: boolean;
};
const internals = Module as ModuleInternals;

if (!internals[kInstalled]) {
  internals[kInstalled] = true;
  const resolve = internals._resolveFilename;
  internals._resolveFilename = function (this: unknown, request: string, ...rest: [unknown, boolean, unknown?]) {
    const target = typeof request === 'string' ? targets[request] : undefined;
    return resolve.call(this, target ?? request, ...rest);
  };
}
