/**
 * The gevent-level API, gathered (lib/index.ts re-exports it).
 * @internal
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
export { wait, type WaitOptions, type Thenable } from './wait.js';
export { Timeout, withTimeout, type WithTimeoutOptions } from './timeout.js';
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
export { Group, Pool, type GroupJoinOptions, type GroupKillOptions, type PoolAddOptions } from './pool.js';
export { local } from './local.js';
