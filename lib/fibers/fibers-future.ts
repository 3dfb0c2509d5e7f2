/**
 * `greenloop/fibers/future`: a drop-in for `require('fibers/future')`. The
 * module's export is the {@link Future} class itself; loading it defines
 * `Function.prototype.future()`.
 * @module
 */
import { Future } from './future.js';

export = Future;
