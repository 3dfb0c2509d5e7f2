/**
 * The `node:diagnostics_channel` channels on which the hub and the
 * gevent-level Greenlet publish life-cycle events (see greenloop/debug).
 * Publishers check `hasSubscribers` first, so an unobserved program pays one
 * property read per event.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { channel } from 'node:diagnostics_channel';

/** `{ greenlet, spawner }`: a gevent-level greenlet was started (or scheduled to start). */
export const spawnChannel = channel('greenloop:greenlet:spawn');
/** `{ greenlet, label }`: a greenlet parked in the hub on a Waiter. */
export const parkChannel = channel('greenloop:greenlet:park');
/** `{ greenlet, label, parkedMs }`: a parked greenlet got control back. */
export const resumeChannel = channel('greenloop:greenlet:resume');
/** `{ greenlet, value }`: a gevent-level greenlet finished without an error. */
export const finishChannel = channel('greenloop:greenlet:finish');
/** `{ greenlet, error }`: a gevent-level greenlet finished with an error. */
export const errorChannel = channel('greenloop:greenlet:error');
