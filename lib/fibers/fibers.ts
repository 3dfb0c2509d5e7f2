/**
 * `greenloop/fibers`: a drop-in for `require('fibers')`. The module's export
 * is the {@link Fiber} function itself.
 * @module
 */
import { Fiber } from './fiber.js';

// The build is CommonJS, where this is `module.exports =`; only the type check runs as ESM.
// @ts-ignore TS1203
export = Fiber;
