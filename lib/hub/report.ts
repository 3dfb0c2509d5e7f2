/**
 * What the hub reports on stderr: errors nobody joined, and at exit the
 * greenlets still parked (gevent's LoopExit) with the user's frames of the
 * call each one waits in.
 *
 * `parkedTasks` and `describeParked` are the pieces any listing of parked
 * greenlets needs (the exit report here, a dump elsewhere). This module only
 * imports the hub's types: the hub imports it.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { dirname, sep } from 'node:path';
import { LoopExit } from '../errors.js';
import type { Greenlet as RawGreenlet } from '../greenlet.js';
import type { Hub, Task } from './hub.js';
import { describe } from './validate.js';

/** Switched into a parked greenlet to make it record its stack (see {@link Hub.park}). @internal */
export const DESCRIBE: unique symbol = Symbol('greenloop.describe');

/** The most greenlets the exit report lists one by one. */
const LISTED = 20;

/** Shows a greenlet in messages: `"name"` for named ones, else its class. @internal */
export function greenletLabel(g: RawGreenlet): string {
  const name = (g as { name?: unknown }).name;
  return typeof name === 'string' ? `greenlet "${name}"` : g.isRoot ? 'the hub' : 'a raw greenlet';
}

/** greenloop's own folder (lib/ or dist/cjs/), whose frames the reports leave out. */
const ownDir = `${dirname(__dirname)}${sep}`;
/** Drops greenloop's own frames (and the message line) from a stack. */
function userFrames(stack: string): string {
  return stack
    .split('\n')
    .slice(1)
    .filter((line) => !line.includes(ownDir))
    .join('\n');
}

/**
 * The user's frames of the current stack (up to 40 frames deep), one per
 * line, each indented by four spaces. A parked greenlet calls this when it is
 * resumed with {@link DESCRIBE}. @internal
 */
export function captureParkStack(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 40;
  const stack = userFrames(new Error().stack ?? '');
  Error.stackTraceLimit = limit;
  return stack;
}

/** What the reports show of one parked greenlet. @internal */
export interface ParkedDescription {
  /** The greenlet, as {@link greenletLabel} shows it: `greenlet "name"`, `a raw greenlet`. */
  readonly label: string;
  /** The call it waits in, e.g. `'Event.wait()'` (its park site's label). */
  readonly waitsIn: string;
  /** The user's frames of its park point (see {@link captureParkStack}); `''` if none could be read. */
  readonly stack: string;
}

/** The greenlets parked in `hub`, in the order they parked. @internal */
export function parkedTasks(hub: Hub): Task[] {
  return hub.parkedTasks();
}

/**
 * Describes parked `task`, resuming it for a moment to read its stack (it stays
 * parked). Call on the hub (the root greenlet) only, with no pass running. @internal
 */
export function describeParked(hub: Hub, task: Task): ParkedDescription {
  hub.recordParkStack(task);
  const stack = task.stack as string | null;
  return { label: greenletLabel(task.greenlet), waitsIn: task.site?.label ?? 'an unknown call', stack: stack ?? '' };
}

/** Prints the LoopExit report of the greenlets parked in `hub` to stderr. @internal */
export function reportParked(hub: Hub): void {
  const parked = parkedTasks(hub);
  const lines: string[] = [];
  for (const task of parked.slice(0, LISTED)) {
    const { label, waitsIn, stack } = describeParked(hub, task);
    lines.push(`  ${label} waits in ${waitsIn}`);
    if (stack) lines.push(stack.replace(/^ {4}/gm, '      '));
  }
  if (parked.length > LISTED) lines.push(`  ... and ${parked.length - LISTED} more`);
  const n = parked.length;
  const error = new LoopExit(
    `the event loop is about to exit, but ${n} greenlet${n === 1 ? ' is' : 's are'} still parked ` +
      `on something nothing can complete:\n${lines.join('\n')}`,
  );
  process.stderr.write(`greenloop: LoopExit: ${error.message}\n`);
}

/**
 * The default report of an error nobody joined: its stack and the greenlet's
 * label on stderr, and `process.exitCode` 1 unless the program set one.
 * @internal
 */
export function printUnjoinedError(error: unknown, greenlet: RawGreenlet, what: string): void {
  const stack = error instanceof Error && error.stack ? error.stack : `${describe(error)}: ${String(error)}`;
  process.stderr.write(`greenloop: ${greenletLabel(greenlet)} ${what} and nobody joined it:\n${stack}\n`);
  // An error nobody handled is a failure of the program, as an uncaught
  // exception is, but the process goes on; an exit status set already stays.
  if (!process.exitCode) process.exitCode = 1;
}
