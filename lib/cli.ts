#!/usr/bin/env node
/**
 * The `greenloop` command: runs an unmodified script with Node's blocking
 * APIs patched (see {@link patchAll}) and its top level in the main greenlet,
 * so sync-style code in greenlets it spawns runs concurrently.
 *
 * ```console
 * $ npx greenloop [--no-patch] script.js [args...]
 * ```
 * The script sees what `node script.js [args...]` would show it
 * (`process.argv`, `require.main`, exit codes); docs/cli.md has the details.
 * @module
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { dumpOnSignal, profile } from './debug/index.js';
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
  | { kind: 'error'; message: string };

/** Reads `greenloop`'s arguments (after `node cli.js`). */
function parseArgs(argv: readonly string[]): Command {
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
