/**
 * {@link dumpOnSignal}: writes a {@link dump} when the process gets a signal.
 * @module
 */
import { appendFileSync } from 'node:fs';
import { constants } from 'node:os';
import { checkOptions, describe } from '../hub/validate.js';
import { dump } from './dump.js';

/** Options of {@link dumpOnSignal}. */
export interface DumpOnSignalOptions {
  /** Append each dump to this file instead of writing it to stderr. */
  file?: string;
  /** `'text'` (the default) or `'json'` (one line of JSON per dump). */
  format?: 'text' | 'json';
}

/** A handle that stops {@link dumpOnSignal}. */
export interface SignalDumpHandle {
  /** Removes the signal handler (the signal's default action comes back if nothing else listens). */
  stop(): void;
}

/**
 * Writes a {@link dump} of this thread to stderr (or appends it to `file`)
 * each time the process receives `signal`; off until called. The dump is
 * taken on the hub, from the loop turn after the signal arrives, so a loop
 * blocked by a busy greenlet delays it (use monitor() for that case).
 * @param signal - a signal name, e.g. `'SIGUSR2'` (the default).
 * @throws TypeError for a signal name Node does not know or a bad option.
 * @example
 * ```ts
 * import { dumpOnSignal } from 'greenloop/debug';
 * dumpOnSignal('SIGUSR2', { file: '/tmp/greenlets.txt' }); // then: kill -USR2 <pid>
 * ```
 */
export function dumpOnSignal(signal: NodeJS.Signals = 'SIGUSR2', options?: DumpOnSignalOptions): SignalDumpHandle {
  if (typeof signal !== 'string' || !/^SIG[A-Z0-9]+$/.test(signal)) {
    throw new TypeError(`signal must be a signal name such as 'SIGUSR2', got ${describe(signal)}`);
  }
  if (!(signal in constants.signals) || signal === 'SIGKILL' || signal === 'SIGSTOP') {
    throw new TypeError(`signal must be a signal name Node can listen for, got ${describe(signal)}`);
  }
  checkOptions('options', options);
  const file = options?.file;
  if (file !== undefined && typeof file !== 'string')
    throw new TypeError(`file must be a string, got ${describe(file)}`);
  const format = options?.format ?? 'text';
  if (format !== 'text' && format !== 'json')
    throw new TypeError(`format must be 'text' or 'json', got ${describe(format)}`);
  const onSignal = (): void => {
    const text = format === 'json' ? JSON.stringify(dump({ format: 'json' })) : dump();
    if (file === undefined) process.stderr.write(`${text}\n`);
    else appendFileSync(file, `${text}\n`);
  };
  process.on(signal, onSignal);
  return { stop: () => void process.off(signal, onSignal) };
}
