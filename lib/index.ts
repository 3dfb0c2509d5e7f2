/**
 * greenloop: greenlets and a gevent-style hub for Node.js.
 *
 * This entry point gathers the public API; each module's page documents its part.
 * @module greenloop
 */
export { GreenloopError, GreenletError, GreenletExit } from './errors.js';
export {
  Greenlet,
  getcurrent,
  settrace,
  gettrace,
  configure,
  getBackend,
  coreStats,
  type RunFunction,
  type TraceFunction,
  type GreenletOptions,
  type CoreOptions,
  type CoreStats,
} from './greenlet.js';
