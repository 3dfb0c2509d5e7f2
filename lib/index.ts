/**
 * greenloop: greenlets and a gevent-style hub for Node.js.
 *
 * This entry point gathers the public API; each module's page documents its part.
 * `Greenlet` here is the gevent-level greenlet run by the hub (`spawn`, `join`,
 * `kill`, ...); the raw primitive with python-greenlet's semantics is
 * `RawGreenlet` (also the `Greenlet` of `greenloop/greenlet`).
 * @module greenloop
 */
export {
  GreenloopError,
  GreenletError,
  BlockingOnHubError,
  GreenletExit,
  TimeoutError,
  Empty,
  Full,
  PoolFull,
  LoopExit,
  LockReleaseError,
  LineTooLongError,
  IncompleteReadError,
  ConcurrentIOError,
  PayloadTooLargeError,
  AbortError,
} from './errors.js';
export {
  Greenlet as RawGreenlet,
  getcurrent,
  settrace,
  gettrace,
  configure,
  prewarm,
  getBackend,
  coreStats,
  type RunFunction,
  type TraceFunction,
  type GreenletOptions as RawGreenletOptions,
  type CoreOptions,
  type CoreStats,
} from './greenlet.js';
export { Hub, getHub, assertMayBlock, type UnjoinedErrorHandler } from './hub/hub.js';
export { Waiter } from './hub/waiter.js';
export * from './api/index.js';
