/**
 * Makes an error that escaped the main greenlet an uncaught exception, printed
 * the way plain `node` prints one.
 *
 * The error crossed from the greenlet's stack to the root's, so V8 would place
 * the "source line and caret" Node prints above an uncaught error at the line
 * that rethrows it here. Node leaves that part out when the throwing line
 * carries its marker comment `node-do-not-add-exception-line`, so this module
 * rethrows from such a line and prints the user's line itself, found from the
 * error's stack.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A frame of Node's ES module evaluation: an error thrown while an ES module
 * body runs gets its source line attached by Node as it leaves the module,
 * and Node prints that one itself.
 */
const ESM_EVALUATION = '(node:internal/modules/esm/module_job:';
/** `    at fn (file:line:col)` or `    at file:line:col`: the file, line and column. */
const FRAME = /^\s+at (?:.*? \()?(.+?):(\d+):(\d+)\)?$/;

/**
 * What Node prints above an uncaught error: `file:line`, the source line and
 * a caret under the throw, each ending with a newline; null when the error's
 * first frame is not in a readable source file (Node's internals, eval code)
 * or it is not an error with a stack.
 *
 * V8 marks the `throw` statement; the stack knows only where the error was
 * made, so a caret right after `throw ` moves back onto the `throw`, as Node
 * shows it for CommonJS. ES modules keep the caret where the error was made,
 * as Node shows them too (their errors arrive through a promise).
 */
export function errorSource(error: unknown): string | null {
  if (error === null || typeof error !== 'object') return null;
  let stack: unknown;
  try {
    stack = (error as { stack?: unknown }).stack;
  } catch {
    return null;
  }
  if (typeof stack !== 'string' || stack.includes(ESM_EVALUATION)) return null;
  const frame = stack
    .split('\n')
    .map((line) => FRAME.exec(line))
    .find((m) => m !== null);
  if (!frame) return null;
  const [, file, lineText, columnText] = frame as unknown as [string, string, string, string];
  const isUrl = file.startsWith('file://');
  if (!isUrl && !file.startsWith('/')) return null;
  let source: string;
  try {
    source = readFileSync(isUrl ? fileURLToPath(file) : file, 'utf8');
  } catch {
    return null;
  }
  const line = source.split(/\r?\n/)[Number(lineText) - 1];
  if (line === undefined) return null;
  let column = Number(columnText) - 1;
  if (column < 0 || column > line.length) return null;
  if (!isUrl) {
    const thrown = /\bthrow\s+$/.exec(line.slice(0, column));
    if (thrown) column = thrown.index;
  }
  const indent = line.slice(0, column).replace(/[^\t]/g, ' ');
  return `${file}:${lineText}\n${line}\n${indent}^\n`;
}

/**
 * Throws `error` as an uncaught exception would be thrown from the user's
 * code: `'uncaughtException'` listeners see it unchanged; without one, Node
 * prints it (after the source line printed here) and exits with status 1.
 * @param addSource - print the source line; false where Node has it (errors
 *   of an ES module entry: see {@link ESM_EVALUATION}).
 */
export function rethrowUncaught(error: unknown, addSource = true): never {
  if (addSource && process.listenerCount('uncaughtException') === 0 && !process.hasUncaughtExceptionCaptureCallback()) {
    const source = errorSource(error);
    if (source !== null) process.stderr.write(`${source}\n`);
  }
  throw error; // node-do-not-add-exception-line
}
