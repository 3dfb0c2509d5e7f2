/**
 * All the cores: N worker processes on `node:cluster`, supervised by the
 * primary as gunicorn's arbiter supervises its workers. Behind a server's
 * `workers` option (`StreamServer`, `greenloop/http`) and `greenloop --workers N`.
 *
 * The primary owns the listening socket (cluster's default on Linux: it
 * accepts and hands each connection to a worker in turn), so a worker can
 * stop, die or be replaced without a connection being refused, on every Node
 * line (`reusePort` exists from Node 22.12 only, and each socket of a
 * `SO_REUSEPORT` group drops its own queue when it closes).
 *
 * Signals: SIGTERM or SIGINT to the primary stops every worker gracefully
 * (each gets SIGTERM: its servers stop accepting, in-flight handlers get
 * `stopTimeout` ms, then the worker exits) and the primary exits 0 if every
 * worker exited 0 in time, else 1; a second one kills the workers at once.
 * SIGHUP replaces the workers one at a time, each new one serving before
 * the old one stops. A worker that dies otherwise is replaced, at once the
 * first time and after a doubling delay while replacements keep dying young.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import type { Cluster, Worker } from 'node:cluster';
import { isMainThread } from 'node:worker_threads';
import { spawn } from '../api/greenlet.js';
import { assertMayBlock, checkTimeout, describe, Waiter } from './_park.js';

/**
 * `node:cluster`, loaded when first needed: every user of greenloop/net and
 * greenloop/http imports this module, and most never fork (loading it costs
 * ~3 ms of start-up).
 */
function cluster(): Cluster {
  return require('node:cluster') as Cluster;
}

/** A checked `workers` option. */
export interface WorkersPlan {
  count: number;
  /** Milliseconds a stopping worker gives its in-flight handlers (`null`: as long as they take). */
  stopTimeout: number | null;
}

/** A server as a worker's graceful stop sees it. */
export interface GracefulServer {
  /** Stops accepting and finishes in-flight handlers, up to `timeout` ms; parks. */
  stop(timeout: number | null): void;
  /** Whether it listens now (false while it binds, and once stopped by the worker's stop or by the program). */
  isServing(): boolean;
}

/** What the primary's stopping workers get, as the servers' own `stop()`/`close()` default. */
export const DEFAULT_STOP_TIMEOUT = 1000;
/** Set in each worker's environment: marks a worker this module supervises, and carries `stopTimeout`. */
const STOP_TIMEOUT_ENV = 'GREENLOOP_WORKER_STOP_TIMEOUT';
/** Beyond its servers' `2 x stopTimeout` (drain, then kill and wait again), what a stopping worker gets to exit. */
const EXIT_GRACE_MS = 2000;
/** First delay before replacing a worker that died young; doubled per death in a row, up to the maximum. */
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 10_000;
/** A worker that served this long before dying resets the back-off. */
const BACKOFF_RESET_MS = 10_000;
/** How long a SIGHUP's new worker may take to listen where the old one did. */
const BOOT_TIMEOUT_MS = 30_000;

/**
 * Checks a `workers` option.
 * @throws TypeError naming the value: a count that is not an integer >= 1,
 *   a bad `stopTimeout`, an unknown key.
 */
export function checkWorkers(value: unknown, name = 'workers'): WorkersPlan | null {
  if (value === undefined) return null;
  if (typeof value === 'object' && value !== null) {
    for (const key of Object.keys(value)) {
      if (key !== 'count' && key !== 'stopTimeout') throw new TypeError(`${name} has no option ${JSON.stringify(key)}`);
    }
    const { count, stopTimeout } = value as { count?: unknown; stopTimeout?: unknown };
    return {
      count: checkCount(`${name}.count`, count),
      stopTimeout: stopTimeout === undefined ? DEFAULT_STOP_TIMEOUT : checkTimeout(`${name}.stopTimeout`, stopTimeout),
    };
  }
  return { count: checkCount(name, value), stopTimeout: DEFAULT_STOP_TIMEOUT };
}

/** A number of workers: an integer >= 1. @throws TypeError naming the value. */
export function checkCount(name: string, count: unknown): number {
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
    throw new TypeError(`${name} must be an integer >= 1, got ${describe(count)}`);
  }
  return count;
}

/** True in a worker this module forked (a cluster worker of someone else's primary is not one). */
export function isSupervisedWorker(): boolean {
  return process.env[STOP_TIMEOUT_ENV] !== undefined && cluster().isWorker;
}

/**
 * Called where a server would bind. In a primary whose server has `plan`,
 * it forks and supervises the workers instead and returns true: when `park`
 * (the blocking `start()`/`serveForever()`/`listen()`), it first parks for
 * good, as the primary exits once its workers are stopped. Everywhere else
 * it returns false (bind here); in a supervised worker the server joins the
 * worker's graceful stop.
 * @throws TypeError for a plan whose count differs from the running
 *   supervisor's; `GreenletError` for a parking call outside a greenlet.
 */
export function superviseInstead(
  plan: WorkersPlan | null,
  server: GracefulServer,
  operation: string,
  park: boolean,
): boolean {
  if (plan === null && process.env[STOP_TIMEOUT_ENV] === undefined) return false; // neither supervises nor is supervised
  if (cluster().isWorker) {
    if (isSupervisedWorker()) enrol(server);
    return false;
  }
  if (plan === null) return false;
  if (park) assertMayBlock(operation);
  const supervisor = superviseWorkers(plan);
  if (park) supervisor.parkForever(operation);
  return true;
}

let supervisor: Supervisor | null = null;

/** How to start a worker: a script, its arguments and Node's options (as `cluster.setupPrimary` takes them). */
export interface WorkerCommand {
  exec: string;
  args: string[];
  execArgv: string[];
}

let runnerCommand: WorkerCommand | null = null;

/**
 * Makes workers of a server's `workers` option start as `command` rather than
 * as `node:cluster` would (this process's script, arguments and Node
 * options): the `greenloop` CLI passes itself with its own options, so its
 * workers run the script as it does (`--no-patch` included).
 */
export function forkWorkersWith(command: WorkerCommand): void {
  runnerCommand = command;
}

/**
 * Starts the supervisor of `plan.count` workers (once per primary; a second
 * server with the same count shares it). Workers run `command` if given
 * (or set by {@link forkWorkersWith}), else what `node:cluster` runs by
 * default: this process's script, arguments and Node options.
 * @throws TypeError if one with another count runs already, or off the main thread.
 */
export function superviseWorkers(plan: WorkersPlan, command: WorkerCommand | null = runnerCommand): Supervisor {
  if (!isMainThread) throw new TypeError('workers: only the main thread of a process can fork and supervise workers');
  if (supervisor !== null) {
    if (supervisor.count !== plan.count) {
      throw new TypeError(
        `workers: ${plan.count} differs from the ${supervisor.count} workers this primary runs already`,
      );
    }
    return supervisor;
  }
  if (command !== null) cluster().setupPrimary({ ...command });
  supervisor = new Supervisor(plan.count, plan.stopTimeout);
  return supervisor;
}

/** One worker process as the primary tracks it. */
interface Slot {
  readonly worker: Worker;
  readonly bornAt: number;
  /** Where it listens (`type:address:port`), from cluster's `'listening'`. */
  readonly listened: Set<string>;
  /** Asked to stop: its exit is expected. */
  retiring: boolean;
  /** Killed with SIGKILL by the primary: its exit is a failure whatever its code. */
  killed: boolean;
  killTimer: NodeJS.Timeout | undefined;
  /** A SIGHUP's new worker until it serves: told of its listening and of its exit. */
  candidate: { needs: ReadonlySet<string>; ready(): void; failed(how: string): void } | null;
  /** A SIGHUP's old worker: told of its exit. */
  onRetired: (() => void) | null;
  /** A SIGHUP's old worker: the new one starting in its place (so its death needs no other). */
  replacement: Slot | null;
}

/** gunicorn's arbiter on `node:cluster`: keeps `count` workers up and stops or replaces them on signals. */
export class Supervisor {
  readonly count: number;
  readonly #stopTimeout: number | null;
  readonly #slots = new Map<number, Slot>();
  #stopping = false;
  #rolling = false;
  #everListened = false;
  #crashStreak = 0;
  #failures = 0;
  readonly #restartTimers = new Set<NodeJS.Timeout>();
  /** Greenlets parked for good in `start()`/`listen()`: held so that their parked state is never collected. */
  readonly #parked: Waiter<never>[] = [];
  readonly #onStopSignal = (signal: NodeJS.Signals) => this.#stop(signal);
  readonly #onHangup = () => this.#rollingRestart();

  constructor(count: number, stopTimeout: number | null) {
    this.count = count;
    this.#stopTimeout = stopTimeout;
    process.on('SIGTERM', this.#onStopSignal);
    process.on('SIGINT', this.#onStopSignal);
    process.on('SIGHUP', this.#onHangup);
    for (let i = 0; i < count; i++) this.#fork();
  }

  /** Parks the calling greenlet until the process exits. */
  parkForever(operation: string): never {
    const waiter = new Waiter<never>(`${operation} (primary of ${this.count} workers)`);
    this.#parked.push(waiter);
    return waiter.get();
  }

  #log(message: string): void {
    process.stderr.write(`greenloop: primary ${process.pid}: ${message}\n`);
  }

  #fork(): Slot {
    const worker = cluster().fork({ [STOP_TIMEOUT_ENV]: String(this.#stopTimeout) });
    const slot: Slot = {
      worker,
      bornAt: Date.now(),
      listened: new Set(),
      retiring: false,
      killed: false,
      killTimer: undefined,
      candidate: null,
      onRetired: null,
      replacement: null,
    };
    this.#slots.set(worker.id, slot);
    worker.on('online', () => this.#checkReady(slot));
    worker.on('listening', (address: { addressType: number | string; address: string | null; port?: number }) => {
      slot.listened.add(`${address.addressType}:${address.address}:${address.port}`);
      this.#everListened = true;
      this.#checkReady(slot);
    });
    worker.on('exit', (code: number | null, signal: string | null) => this.#onExit(slot, code, signal));
    // An IPC error (the worker gone mid-send) must not crash the primary; 'exit' follows.
    worker.on('error', () => {});
    return slot;
  }

  #checkReady(slot: Slot): void {
    const candidate = slot.candidate;
    if (candidate === null) return;
    for (const key of candidate.needs) if (!slot.listened.has(key)) return;
    slot.candidate = null;
    candidate.ready();
  }

  #onExit(slot: Slot, code: number | null, signal: string | null): void {
    this.#slots.delete(slot.worker.id);
    clearTimeout(slot.killTimer);
    const pid = slot.worker.process.pid;
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    const clean = code === 0 && !slot.killed;
    if (this.#stopping || slot.retiring) {
      if (!clean) {
        this.#failures++;
        this.#log(`worker ${pid} stopped with ${how}${slot.killed ? ' (killed)' : ''}`);
      }
      slot.onRetired?.();
      this.#exitIfDone();
      return;
    }
    if (slot.candidate !== null) {
      slot.candidate.failed(how);
      return;
    }
    if (slot.replacement !== null) {
      this.#log(`worker ${pid} exited with ${how}; the new worker of the SIGHUP restart takes its place`);
      return;
    }
    if (!this.#everListened) {
      // Failing before any worker listened is the script's or its setup's fault: restarting would loop.
      if (!clean) {
        this.#failures++;
        this.#log(`worker ${pid} exited with ${how} before any worker listened; stopping`);
        this.#stop(null);
      } else if (this.#slots.size === 0) this.#exit();
      return;
    }
    const lived = Date.now() - slot.bornAt;
    this.#crashStreak = lived >= BACKOFF_RESET_MS ? 1 : this.#crashStreak + 1;
    const delay = this.#crashStreak <= 1 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (this.#crashStreak - 2));
    this.#log(`worker ${pid} exited with ${how}; starting another${delay > 0 ? ` in ${delay} ms` : ''}`);
    this.#forkLater(delay);
  }

  #forkLater(delay: number): void {
    const timer = setTimeout(() => {
      this.#restartTimers.delete(timer);
      if (!this.#stopping) this.#fork();
    }, delay);
    this.#restartTimers.add(timer);
  }

  /** Asks a worker to stop (SIGTERM: its servers drain); kills it if it has not exited by the deadline. */
  #retire(slot: Slot): void {
    if (slot.retiring) return;
    slot.retiring = true;
    slot.worker.process.kill('SIGTERM');
    if (this.#stopTimeout !== null) {
      slot.killTimer = setTimeout(
        () => {
          this.#log(
            `worker ${slot.worker.process.pid} still running ${2 * this.#stopTimeout! + EXIT_GRACE_MS} ms after SIGTERM; killing it`,
          );
          this.#kill(slot);
        },
        2 * this.#stopTimeout + EXIT_GRACE_MS,
      );
    }
  }

  #kill(slot: Slot): void {
    slot.killed = true;
    slot.worker.process.kill('SIGKILL');
  }

  /** SIGTERM/SIGINT (or a failed start, `signal` null): stops every worker; a second signal kills them. */
  #stop(signal: NodeJS.Signals | null): void {
    if (this.#stopping) {
      if (signal === null) return;
      this.#log(`${signal} again: killing ${workersText(this.#slots.size)}`);
      for (const slot of this.#slots.values()) this.#kill(slot);
      return;
    }
    this.#stopping = true;
    if (signal !== null) this.#log(`${signal}: stopping ${workersText(this.#slots.size)}`);
    for (const timer of this.#restartTimers) clearTimeout(timer);
    this.#restartTimers.clear();
    for (const slot of this.#slots.values()) this.#retire(slot);
    this.#exitIfDone();
  }

  #exitIfDone(): void {
    if (this.#stopping && this.#slots.size === 0) this.#exit();
  }

  #exit(): void {
    process.off('SIGTERM', this.#onStopSignal);
    process.off('SIGINT', this.#onStopSignal);
    process.off('SIGHUP', this.#onHangup);
    process.exit(this.#failures === 0 ? 0 : 1);
  }

  /** SIGHUP: for each worker in turn, a new one starts and listens where it did, then it stops. */
  #rollingRestart(): void {
    if (this.#stopping) return;
    if (this.#rolling) {
      this.#log('SIGHUP: a restart is already running; ignored');
      return;
    }
    this.#rolling = true;
    const old = [...this.#slots.values()].filter((slot) => !slot.retiring && slot.candidate === null);
    this.#log(`SIGHUP: replacing ${workersText(old.length)} one at a time`);
    const next = (at: number): void => {
      if (this.#stopping) return;
      const previous = old[at];
      if (previous === undefined) {
        this.#rolling = false;
        this.#log('SIGHUP: every worker replaced');
        return;
      }
      // Died meanwhile: its crash replacement runs the new code already.
      if (!this.#slots.has(previous.worker.id)) return next(at + 1);
      const fresh = this.#fork();
      previous.replacement = fresh;
      const abandon = (message: string) => {
        clearTimeout(bootTimer);
        previous.replacement = null;
        this.#rolling = false;
        this.#log(
          `SIGHUP: new worker ${fresh.worker.process.pid} ${message}; restart abandoned, the old workers keep serving`,
        );
        // The old one died while the new one started: nobody stands in for it now.
        if (!this.#slots.has(previous.worker.id)) this.#forkLater(0);
      };
      const bootTimer = setTimeout(() => {
        fresh.candidate = null;
        fresh.retiring = true;
        this.#kill(fresh);
        abandon(`did not listen within ${BOOT_TIMEOUT_MS} ms`);
      }, BOOT_TIMEOUT_MS);

      fresh.candidate = {
        needs: new Set(previous.listened),
        ready: () => {
          clearTimeout(bootTimer);
          if (!this.#slots.has(previous.worker.id)) return next(at + 1);
          previous.onRetired = () => next(at + 1);
          this.#retire(previous);
        },
        failed: (how) => abandon(`exited with ${how} before it listened`),
      };
      this.#checkReady(fresh);
    };
    next(0);
  }
}

/** `1 worker`, `2 workers`. */
function workersText(count: number): string {
  return count === 1 ? '1 worker' : `${count} workers`;
}

/** A supervised worker's servers, each with whether it was seen listening (one still binding must stay). */
const enrolled = new Map<GracefulServer, { seenServing: boolean }>();
let workerStopping = false;

/** A supervised worker's server joins its graceful stop (and is stopped at once if the stop has begun). */
function enrol(server: GracefulServer): void {
  // Servers the program stopped itself leave the list here, not at their stop: neither server tells.
  for (const [known, state] of enrolled) {
    if (known.isServing()) state.seenServing = true;
    else if (state.seenServing) enrolled.delete(known);
  }
  enrolled.set(server, { seenServing: false });
  if (workerStopping) stopServer(server, () => {});
}

/**
 * In a supervised worker: SIGTERM (the primary's stop) or SIGINT (a Ctrl-C
 * reaching the whole process group) stops the worker's servers gracefully
 * and then lets the worker exit. Idempotent; a no-op elsewhere.
 */
export function installWorkerStop(): void {
  if (!isSupervisedWorker() || process.listeners('SIGTERM').includes(stopWorker)) return;
  process.on('SIGTERM', stopWorker);
  process.on('SIGINT', stopWorker);
}

function stopTimeoutOfWorker(): number | null {
  const text = process.env[STOP_TIMEOUT_ENV];
  return text === 'null' || text === undefined ? null : Number(text);
}

function stopServer(server: GracefulServer, done: () => void): void {
  spawn(() => {
    try {
      server.stop(stopTimeoutOfWorker());
    } catch (error) {
      console.error(`greenloop: worker ${process.pid}: a server's stop failed:`, error);
      process.exitCode = 1;
    } finally {
      done();
    }
  });
}

function stopWorker(): void {
  if (workerStopping) return;
  workerStopping = true;
  const servers = [...enrolled.keys()];
  enrolled.clear();
  let left = servers.length;
  // Closes what cluster still shares with the primary and the IPC channel: the worker then exits
  // when its own work is done (the primary kills it past the deadline).
  const disconnect = () => {
    const { worker } = cluster();
    if (worker?.isConnected()) worker.disconnect();
  };
  if (left === 0) disconnect();
  for (const server of servers) stopServer(server, () => --left === 0 && disconnect());
}

// As early as the servers load: a SIGTERM that reaches a worker still starting up must not kill it
// half-way (its exit would count as a failed stop).
installWorkerStop();
