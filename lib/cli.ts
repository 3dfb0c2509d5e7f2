#!/usr/bin/env node
/**
 * The `greenloop` command: runs an unmodified script with Node's blocking
 * APIs patched (see {@link patchAll}) and its top level in the main greenlet,
 * so sync-style code in greenlets it spawns runs concurrently.
 *
 * ```console
 * $ npx greenloop [--no-patch] [--workers N] script.js [args...]
 * ```
 * The script sees what `node script.js [args...]` would show it
 * (`process.argv`, `require.main`, exit codes); docs/cli.md has the details.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dumpOnSignal, profile } from './debug/index.js';
import { checkTimeout } from './hub/validate.js';
import {
  checkCount,
  DEFAULT_STOP_TIMEOUT,
  forkWorkersWith,
  installWorkerStop,
  superviseWorkers,
} from './io/workers.js';
import { patchAll } from './monkey/index.js';
import { runMainInGreenlet } from './run/main.js';

const USAGE = `Usage: greenloop [options] script.(js|cjs|mjs) [args...]

Runs the script with its top level in a greenlet and Node's blocking calls
(fs, child_process, crypto, zlib *Sync functions) patched to park only the
greenlet that makes them, so greenlets it spawns run concurrently.

Options:
  --no-patch     do not patch Node's modules (the top level still runs in a greenlet)
  --dump-on-signal[=SIG]
                 print a dump of every greenlet to stderr on signal SIG (default SIGUSR2)
  --cpu-profile[=FILE]
                 profile every greenlet's JS (greenloop/debug's profile()) and write
                 the .cpuprofile to FILE at exit (default greenloop-<pid>.cpuprofile)
  --workers N    run the script in N worker processes (node:cluster; they share
                 the ports they listen on); this process supervises them: SIGTERM or
                 SIGINT stops them gracefully, SIGHUP replaces them one at a time,
                 one that dies is replaced (docs/workers.md)
  --stop-timeout MS
                 with --workers: what a stopping worker gives its in-flight
                 handlers, in milliseconds (default 1000)
  -h, --help     print this help and exit
  -v, --version  print greenloop's version and exit
  --             end of options (the next argument is the script)

Node's own options go to node: node [node options] $(npm root)/greenloop/dist/cjs/cli.js ...
or use the preload: node [node options] -r greenloop/run script.js
`;

/** Exit status for a bad command line, as `node` uses for a bad option. */
const BAD_USAGE = 9;

/** What the command line asks for. */
type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | {
      kind: 'run';
      patch: boolean;
      dumpSignal: NodeJS.Signals | null;
      cpuProfile: string | null;
      script: string;
      args: string[];
    }
  | { kind: 'supervise'; workers: number; stopTimeout: number | null; workerArgs: string[] }
  | { kind: 'error'; message: string };

/** Reads `greenloop`'s arguments (after `node cli.js`): `--workers` first, then the rest. */
function parseArgs(argv: readonly string[]): Command {
  const supervised = takeWorkerOptions(argv);
  if (supervised === null) return parseRunArgs(argv);
  if ('message' in supervised) return { kind: 'error', message: supervised.message };
  const rest = parseRunArgs(supervised.workerArgs);
  if (rest.kind !== 'run') return rest;
  return { kind: 'supervise', ...supervised };
}

/**
 * Takes `--workers N` and `--stop-timeout MS` (or `=N`) out of greenloop's
 * options (those before the script); null when `--workers` is not given.
 * What is left is each worker's command line.
 */
function takeWorkerOptions(
  argv: readonly string[],
): { workers: number; stopTimeout: number | null; workerArgs: string[] } | { message: string } | null {
  const workerArgs: string[] = [];
  let workers: string | undefined;
  let stopTimeout: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const name = arg.includes('=') ? arg.slice(0, arg.indexOf('=')) : arg;
    if (name === '--workers' || name === '--stop-timeout') {
      const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[++i];
      if (value === undefined) return { message: `${name} needs a value` };
      if (name === '--workers') workers = value;
      else stopTimeout = value;
      continue;
    }
    workerArgs.push(arg);
    // The script and its arguments are the script's, even if they look like ours.
    if (arg === '--') {
      workerArgs.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      workerArgs.push(...argv.slice(i + 1));
      break;
    }
  }
  if (workers === undefined) {
    return stopTimeout === undefined ? null : { message: '--stop-timeout needs --workers' };
  }
  // Digits are a number; anything else is shown as the string it is ('two', '1.5e3').
  const numeric = (text: string) => (/^\d+$/.test(text) ? Number(text) : text);
  try {
    const count = checkCount('--workers', numeric(workers));
    const timeout =
      stopTimeout === undefined ? DEFAULT_STOP_TIMEOUT : checkTimeout('--stop-timeout', numeric(stopTimeout));
    return { workers: count, stopTimeout: timeout, workerArgs };
  } catch (error) {
    return { message: (error as Error).message };
  }
}

/** Reads the options of one run of the script. */
function parseRunArgs(argv: readonly string[]): Command {
  let patch = true;
  let dumpSignal: NodeJS.Signals | null = null;
  let cpuProfile: string | null = null;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      const script = argv[i + 1];
      if (script === undefined) return { kind: 'error', message: 'no script given after --' };
      return { kind: 'run', patch, dumpSignal, cpuProfile, script, args: argv.slice(i + 2) };
    }
    if (arg === '-h' || arg === '--help') return { kind: 'help' };
    if (arg === '-v' || arg === '--version') return { kind: 'version' };
    if (arg === '--no-patch') {
      patch = false;
      continue;
    }
    if (arg === '--dump-on-signal' || arg.startsWith('--dump-on-signal=')) {
      dumpSignal = (arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : 'SIGUSR2') as NodeJS.Signals;
      continue;
    }
    if (arg === '--cpu-profile' || arg.startsWith('--cpu-profile=')) {
      cpuProfile = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : `greenloop-${process.pid}.cpuprofile`;
      if (cpuProfile === '') return { kind: 'error', message: '--cpu-profile= needs a file name' };
      continue;
    }
    if (arg === '-') return { kind: 'error', message: 'a script from stdin ("-") is not supported: give a file' };
    if (arg.startsWith('-')) return { kind: 'error', message: `unknown option ${JSON.stringify(arg)}` };
    return { kind: 'run', patch, dumpSignal, cpuProfile, script: arg, args: argv.slice(i + 1) };
  }
  return { kind: 'error', message: 'no script given' };
}

function version(): string {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
  return manifest.version;
}

function main(): void {
  const command = parseArgs(process.argv.slice(2));
  switch (command.kind) {
    case 'help':
      process.stdout.write(USAGE);
      return;
    case 'version':
      process.stdout.write(`${version()}\n`);
      return;
    case 'error':
      process.stderr.write(`greenloop: ${command.message}\n\n${USAGE}`);
      process.exitCode = BAD_USAGE;
      return;
    case 'supervise':
      // This process only supervises: each worker runs this command without --workers.
      superviseWorkers(
        { count: command.workers, stopTimeout: command.stopTimeout },
        { exec: __filename, args: command.workerArgs, execArgv: process.execArgv },
      );
      return;
    case 'run': {
      if (command.dumpSignal !== null) {
        try {
          dumpOnSignal(command.dumpSignal);
        } catch (error) {
          process.stderr.write(`greenloop: --dump-on-signal: ${(error as Error).message}\n`);
          process.exitCode = BAD_USAGE;
          return;
        }
      }
      if (command.cpuProfile !== null) {
        // Written at exit, however the script ends (process.exit() too).
        const profiling = profile({ file: resolve(command.cpuProfile) });
        process.on('exit', () => profiling.stop());
      }
      installWorkerStop();
      // A server's `workers` option forks this command line, so its workers run as this process does.
      forkWorkersWith({ exec: __filename, args: process.argv.slice(2), execArgv: process.execArgv });
      if (command.patch) patchAll();
      // As `node script.js args` shows them: [node, /abs/script.js, ...args].
      const script = resolve(command.script);
      process.argv = [process.argv[0]!, script, ...command.args];
      // Workers and fork()ed children start with process.execArgv: they run
      // under greenloop too, as with `node -r greenloop/run script.js`.
      if (command.patch) process.execArgv = [...process.execArgv, '--require', join(__dirname, 'run.js')];
      runMainInGreenlet(script);
    }
  }
}

if (require.main === module) main();
