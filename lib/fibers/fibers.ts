/**
 * `greenloop/fibers`: a drop-in for `require('fibers')`. The module's export
 * is the {@link Fiber} function itself.
 * @module
 */
import { Fiber } from './fiber.js';

export = Fiber;
