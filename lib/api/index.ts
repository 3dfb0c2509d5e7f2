/**
 * The gevent-level API, gathered (lib/index.ts re-exports it).
 * Not public API. (No internal tag here: `stripInternal` would drop the
 * first statement's declaration with it.)
 * @module
 */
export {
  Greenlet,
  spawn,
  spawnLater,
  joinall,
  killall,
  runAsync,
  type GreenletOptions,
  type GetOptions,
  type KillOptions,
  type KillallOptions,
  type JoinallOptions,
  type LinkCallback,
} from './greenlet.js';
export { sleep, idle, type SleepOptions } from './sleep.js';
export { wait, iwait, type WaitOptions, type IwaitOptions, type Waitable, type Thenable } from './wait.js';
export type { SignalOptions, TimeoutOptions } from './options.js';
export { Timeout, withTimeout, type WithTimeoutOptions, type TimeoutConstructorOptions } from './timeout.js';
export { Event, AsyncResult, type AsyncResultGetOptions } from './event.js';
export { Semaphore, BoundedSemaphore, Lock, RLock, type AcquireOptions } from './lock.js';
export {
  Queue,
  LifoQueue,
  PriorityQueue,
  JoinableQueue,
  Channel,
  StopIteration,
  type QueueOptions,
  type Comparator,
} from './queue.js';
export {
  Group,
  Pool,
  type GroupOptions,
  type GroupJoinOptions,
  type GroupKillOptions,
  type PoolAddOptions,
  type Iterables,
} from './pool.js';
export { local } from './local.js';
// Installs prewarm()'s warm-up of the park path (lib/greenlet.ts calls it).
import './prewarm.js';
