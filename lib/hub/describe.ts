/**
 * Recording a parked greenlet's stack: the hub switches into it with
 * {@link DESCRIBE}; its park loop calls {@link parkStack} and switches back.
 * Used by the LoopExit report and greenloop/debug's dump().
 * @internal
 * @module
 */
import { dirname, sep } from 'node:path';

/** Switched into a parked greenlet to make it record its stack. */
export const DESCRIBE: unique symbol = Symbol('greenloop.describe');

/** greenloop's own folder (lib/ or dist/cjs/), whose frames reports leave out. */
const ownDir = `${dirname(__dirname)}${sep}`;

/** The user's frames of the calling greenlet's stack (greenloop's own left out). */
export function parkStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  return stack
    .split('\n')
    .slice(1)
    .filter((line) => !line.includes(ownDir))
    .join('\n');
}
