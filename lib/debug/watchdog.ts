/**
 * The one JS owner of the native watchdog thread (csrc/watchdog.cc), shared
 * by {@link monitor} (block reports) and {@link profile} (samples).
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { pathToFileURL } from 'node:url';
import { isAbsolute } from 'node:path';
import { native } from '../native.js';

/** One JS frame as the watchdog captured it. */
export interface FrameInfo {
  /** The function's name; `''` for an anonymous function or top-level code. */
  functionName: string;
  /** The script's file name or URL; `''` if it has none. */
  url: string;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** V8's id of the script. */
  scriptId: number;
}

type Listener = (frames: Array<string | number>, blockedMs: number) => void;

let onBlock: Listener | null = null;
let onSample: Listener | null = null;
let threshold = 0;
let interval = 0;

let interrupting = false;

/** True while a watchdog interrupt runs JS: nothing may switch greenlets then (dump() skips stacks). */
export function inWatchdogInterrupt(): boolean {
  return interrupting;
}

function dispatch(reason: 0 | 1, frames: Array<string | number>, blockedMs: number): void {
  // Runs inside an interrupt, in whichever greenlet is running: nothing here
  // may park, and an error must not escape into the interrupted code.
  interrupting = true;
  try {
    if (reason === 0) onBlock?.(frames, blockedMs);
    else onSample?.(frames, blockedMs);
  } catch {
    // A listener's own failure is dropped (monitor() guards onBlock itself).
  } finally {
    interrupting = false;
  }
}

function apply(): void {
  native.watchdogConfigure(dispatch, onBlock === null ? 0 : threshold, onSample === null ? 0 : interval);
}

/** Starts (or, with null, stops) block reports after `ms` without a loop tick. */
export function setBlockListener(listener: Listener | null, ms = 0): void {
  onBlock = listener;
  threshold = ms;
  apply();
}

/** Starts (or, with null, stops) samples every `us` microseconds. */
export function setSampleListener(listener: Listener | null, us = 0): void {
  onSample = listener;
  interval = us;
  apply();
}

/** The frames of a flat watchdog array, innermost first. */
export function framesOf(flat: Array<string | number>): FrameInfo[] {
  const frames: FrameInfo[] = [];
  for (let i = 0; i + 4 < flat.length; i += 5) {
    frames.push({
      functionName: flat[i] as string,
      url: flat[i + 1] as string,
      line: flat[i + 2] as number,
      column: flat[i + 3] as number,
      scriptId: flat[i + 4] as number,
    });
  }
  return frames;
}

/** A stack in V8's text form (`    at fn (file:line:column)`), innermost first. */
export function formatFrames(frames: readonly FrameInfo[]): string {
  return frames
    .map((f) => {
      const where = f.url === '' ? '<anonymous>' : `${f.url}:${f.line}:${f.column}`;
      return f.functionName === '' ? `    at ${where}` : `    at ${f.functionName} (${where})`;
    })
    .join('\n');
}

/** A script name as a URL, as Chrome's profiles show them. */
export function urlOf(scriptName: string): string {
  return isAbsolute(scriptName) ? pathToFileURL(scriptName).href : scriptName;
}
