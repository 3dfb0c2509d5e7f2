/**
 * `greenloop/fibers/future`: a drop-in for `require('fibers/future')`. The
 * module's export is the {@link Future} class itself; loading it defines
 * `Function.prototype.future()`.
 * @module
 */
import { Future } from './future.js';

// The build is CommonJS, where this is `module.exports =`; only the type check runs as ESM.
// @ts-ignore TS1203
export = Future;
