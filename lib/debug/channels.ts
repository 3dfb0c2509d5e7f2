/**
 * The names of the `node:diagnostics_channel` channels greenloop publishes
 * greenlet life-cycle events on.
 * @module
 */
import type { Greenlet } from '../api/greenlet.js';
import type { Greenlet as RawGreenlet } from '../greenlet.js';

/**
 * The channel names, for `diagnostics_channel.subscribe(name, fn)`. Each
 * event is published only while someone subscribes (unobserved, an event
 * costs one `hasSubscribers` read). Subscribers run synchronously where the
 * event happens and must not block (park).
 * - `spawn` ({@link SpawnMessage}): a gevent-level greenlet was started (`spawn()`, `start()`, `startLater()`).
 * - `park` ({@link ParkMessage}): a greenlet parked in the hub (any greenlet, raw ones too).
 * - `resume` ({@link ResumeMessage}): a parked greenlet got control back.
 * - `finish` ({@link FinishMessage}): a gevent-level greenlet finished without an error.
 * - `error` ({@link ErrorMessage}): a gevent-level greenlet finished with an error.
 * @example
 * ```ts
 * import { subscribe } from 'node:diagnostics_channel';
 * import { channels } from 'greenloop/debug';
 * subscribe(channels.park, (m) => console.log(m.greenlet.name, 'waits in', m.label));
 * ```
 */
export const channels = {
  spawn: 'greenloop:greenlet:spawn',
  park: 'greenloop:greenlet:park',
  resume: 'greenloop:greenlet:resume',
  finish: 'greenloop:greenlet:finish',
  error: 'greenloop:greenlet:error',
} as const;

/** Published on `greenloop:greenlet:spawn`. */
export interface SpawnMessage {
  greenlet: Greenlet<unknown>;
  /** The greenlet that called start() (the hub for top-level code and callbacks). */
  spawner: RawGreenlet;
}
/** Published on `greenloop:greenlet:park`, by the parking greenlet just before it switches out. */
export interface ParkMessage {
  greenlet: RawGreenlet;
  /** What it waits in, e.g. `'Event.wait()'`. */
  label: string;
}
/** Published on `greenloop:greenlet:resume`, in the greenlet, when it has control again. */
export interface ResumeMessage extends ParkMessage {
  /** How long it was parked, in ms. */
  parkedMs: number;
}
/** Published on `greenloop:greenlet:finish`, in the finishing greenlet. */
export interface FinishMessage {
  greenlet: Greenlet<unknown>;
  value: unknown;
}
/** Published on `greenloop:greenlet:error`, in the failing greenlet. */
export interface ErrorMessage {
  greenlet: Greenlet<unknown>;
  error: unknown;
}
