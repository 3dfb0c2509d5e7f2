/**
 * The gevent-level {@link Greenlet} and the functions that start, join and
 * kill greenlets: {@link spawn}, {@link spawnLater}, {@link joinall},
 * {@link killall}, {@link runAsync}.
 * @module
 */
import { AsyncResource } from 'node:async_hooks';
import { BlockingOnHubError, GreenletError, GreenletExit, TimeoutError } from '../errors.js';
import {
  Greenlet as RawGreenlet,
  NO_ARGS,
  getcurrent,
  type GreenletOptions as RawGreenletOptions,
} from '../greenlet.js';
import { errorChannel, finishChannel, spawnChannel } from '../hub/channels.js';
import { getHub, kStartRefused, kTask, Task } from '../hub/hub.js';
import { clearTimer, setTimer, type Timer } from '../hub/timer.js';
import { getWithSignal } from '../hub/abort.js';
import { checkDelay, checkFunction, checkOptions, checkTimeout, describe, isThenable } from '../hub/validate.js';
import { Waiter } from '../hub/waiter.js';
import { readLimits, readTimeoutArg, type SignalOptions, type TimeoutOptions } from './options.js';
import { parkOnThenable } from './promise.js';

/** Options of the {@link Greenlet} constructor. */
export interface GreenletOptions extends RawGreenletOptions {
  /**
   * Shown in error reports and the exit report of parked greenlets.
   * @default `'Greenlet-<n>'`, numbered in order of creation
   */
  name?: string;
}

/** Options of {@link Greenlet.get}. */
export interface GetOptions extends SignalOptions {
  /**
   * Wait for the greenlet to finish; with `false`, a greenlet that has not
   * finished makes `get()` throw {@link TimeoutError} at once.
   * @default true
   */
  block?: boolean;
  /**
   * Give up waiting after this many ms with a {@link TimeoutError}.
   * @default null (no limit)
   */
  timeout?: number | null;
}

/** Options of {@link Greenlet.kill}. */
export interface KillOptions {
  /**
   * Wait until the greenlet has died.
   * @default true
   */
  block?: boolean;
  /**
   * With `block`, wait at most this many ms (the kill still goes through later).
   * @default null (no limit)
   */
  timeout?: number | null;
}

/** A link callback: called with the greenlet once it has finished. */
export type LinkCallback<G extends Greenlet<any> = Greenlet<any>> = (greenlet: G) => void;

type LinkKind = 'any' | 'value' | 'exception';

interface Link {
  /** What the user passed (for unlink). */
  readonly key: unknown;
  readonly kind: LinkKind;
  /** Internal links run synchronously where the greenlet finishes and must not block. */
  readonly internal: boolean;
  readonly fn: (g: Greenlet<any>) => void;
}

/** Internal: links that run synchronously at death (waking waiters, bookkeeping). @internal */
export const kRawlink: unique symbol = Symbol('greenloop.rawlink');
/** See {@link startNow}. @internal */
const kStartNow: unique symbol = Symbol('greenloop.startNow');
/**
 * Internal: a method a subclass may define, called synchronously where the
 * greenlet finishes, before its links (a {@link kRawlink} link the class
 * itself has, for what every instance does at death, without allocating one
 * per instance). It must not block; an error it throws is reported.
 * @internal
 */
export const kOnFinish: unique symbol = Symbol('greenloop.onFinish');
/** Internal: removes a link added with {@link kRawlink}. @internal */
export const kUnlink: unique symbol = Symbol('greenloop.unlink');
/** Internal: marks a greenlet's outcome as handled (no unjoined-error report). @internal */
export const kObserve: unique symbol = Symbol('greenloop.observe');

let counter = 0;

const enum Phase {
  New,
  Scheduled,
  Running,
  Done,
}

/**
 * A greenlet run by the hub, with gevent's life cycle: create it with a
 * function, `start()` it (or use {@link spawn}), then `join()`, `get()`,
 * `kill()` or `link()` it. It is a subclass of the raw primitive
 * (`RawGreenlet`, python-greenlet's semantics), whose parent is the hub.
 *
 * An error thrown by its function is kept as {@link Greenlet.exception}; if
 * nobody joins it, calls `get()` or `promise()`, links to it or kills it by
 * the end of the loop turn in which it failed, the hub prints it to stderr
 * with the greenlet's name (see {@link Hub.unjoinedErrorHandler}). A
 * {@link GreenletExit} that escapes is not an error: it becomes the value.
 *
 * If the function returns a promise, the greenlet waits for it (see
 * {@link wait}) and its value is the promise's.
 *
 * A subclass may define a `run()` method instead of passing a function.
 * @typeParam T - the function's return value.
 * @typeParam A - the function's parameters, which `start()` and
 *   `startLater()` check.
 * @example
 * ```ts
 * import { Greenlet, sleep } from 'greenloop';
 * const g = new Greenlet((ms: number) => { sleep(ms); return ms * 2; }, { name: 'doubler' });
 * g.start(10);
 * g.link((done) => console.log(done.name, 'finished with', done.value));
 * ```
 */
export class Greenlet<T = unknown, A extends unknown[] = any[]> extends RawGreenlet {
  /** @internal */
  readonly [kTask]: Task;
  #fn: ((...args: any[]) => T) | null;
  #args: readonly unknown[] = NO_ARGS;
  /** Null until first read for a default name: spelling it out at every spawn cost more than the rest of the name's uses. */
  #name: string | null;
  /** The default name's number, taken at creation (0 with a given name). */
  #serial = 0;
  #phase = Phase.New;
  #value: T | undefined = undefined;
  #exception: unknown = undefined;
  #failed = false;
  #observed = false;
  #links: Link[] | null = null;
  #startTimer: Timer | null = null;
  #promise: Promise<T> | null = null;

  /**
   * @param fn - the function to run; `start(...args)` supplies its arguments.
   *   Omit it in a subclass that defines `run()`.
   * @param options - {@link GreenletOptions}: `name`, `stackSize`.
   */
  constructor(fn?: ((...args: A) => T) | null, options?: GreenletOptions) {
    if (fn != null) checkFunction('fn', fn);
    checkOptions('options', options);
    if (options?.name !== undefined && typeof options.name !== 'string') {
      throw new TypeError(`name must be a string, got ${describe(options.name)}`);
    }
    let self: Greenlet<T> | undefined;
    const hub = getHub();
    // The greenlet's whole body, not a call of a method: every frame under a
    // park point stays on the parked stack, which every scavenge walks and
    // whose pages the greenlet holds (greenlet.md, what a parked greenlet costs).
    const main = function greenletMain(): void {
      const g = self!;
      getHub().arrived(g[kTask]);
      g.#phase = Phase.Running;
      let value: T | undefined;
      let error: unknown;
      let failed = false;
      try {
        const fn = g.#fn ?? ((g as unknown as { run: (...args: unknown[]) => T }).run as (...args: unknown[]) => T);
        g.#fn = null;
        const args = g.#args;
        g.#args = NO_ARGS;
        value = fn.apply(g, args as unknown[]);
        if (isThenable(value)) value = parkOnThenable(value, null, undefined) as T;
      } catch (e) {
        if (e instanceof GreenletExit) value = e as T;
        else {
          error = e;
          failed = true;
        }
      }
      g.#finish(value, error, failed);
      getHub().handOffDeath(g[kTask]);
    };
    super(main, hub.greenlet, options?.stackSize === undefined ? undefined : { stackSize: options.stackSize });
    self = this;
    this[kTask] = new Task(this);
    this.#fn = (fn as ((...args: any[]) => T) | null | undefined) ?? null;
    this.#name = options?.name ?? null;
    if (this.#name === null) this.#serial = ++counter;
  }

  /**
   * `new Greenlet(fn).start(...args)`: see {@link spawn}.
   * @example
   * ```ts
   * const g = Greenlet.spawn((a: number, b: number) => a + b, 1, 2);
   * ```
   */
  static spawn<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Greenlet<Awaited<R>> {
    return spawn(fn, ...args);
  }

  /** `new Greenlet(fn).startLater(ms, ...args)`: see {@link spawnLater}. */
  static spawnLater<A extends unknown[], R>(ms: number, fn: (...args: A) => R, ...args: A): Greenlet<Awaited<R>> {
    return spawnLater(ms, fn, ...args);
  }

  /** Shown in error reports. Settable. */
  get name(): string {
    return (this.#name ??= `Greenlet-${this.#serial}`);
  }

  set name(name: string) {
    if (typeof name !== 'string') throw new TypeError(`name must be a string, got ${describe(name)}`);
    this.#name = name;
  }

  /**
   * The function's return value once it has finished successfully (the
   * {@link GreenletExit} if it was killed with one), else `undefined`.
   */
  get value(): T | undefined {
    return this.#value;
  }

  /** The error that ended the greenlet, or `undefined` (also while it runs). */
  get exception(): unknown {
    return this.#exception;
  }

  /**
   * True once it has finished: returned, thrown, or been killed (also before it
   * started, in which case it never runs).
   */
  override get dead(): boolean {
    return this.#phase === Phase.Done || super.dead;
  }

  /** True once it has finished (gevent's `ready()`); same as {@link Greenlet.dead}. */
  ready(): boolean {
    return this.#phase === Phase.Done;
  }

  /** True if it has finished without an error (a kill with GreenletExit counts as success). */
  successful(): boolean {
    return this.#phase === Phase.Done && !this.#failed;
  }

  /**
   * Schedules the greenlet to run with `args` at the hub's next pass (after the
   * greenlets already ready). A second call, or one after `kill()`, does
   * nothing. Callable anywhere, including on the hub.
   * It starts with the AsyncLocalStorage stores that are current here.
   * @returns this greenlet.
   * @throws GreenletError if no function was given and the class has no `run()`.
   */
  start(...args: A): this {
    return this.#schedule(args, false);
  }

  /** start() that runs it at once where the hub allows (see {@link startNow}). @internal */
  [kStartNow](): this {
    return this.#schedule(NO_ARGS as unknown as A, true);
  }

  /** start() and startNow(): `atOnce` runs it in this callback where the hub allows (Hub.runNow). */
  #schedule(args: A, atOnce: boolean): this {
    if (this.#phase !== Phase.New || this.#startTimer !== null) return this;
    this.#checkRunnable();
    if (spawnChannel.hasSubscribers) spawnChannel.publish({ greenlet: this, spawner: getcurrent() });
    this.#args = args;
    this.#phase = Phase.Scheduled;
    const hub = getHub();
    hub.captureContext(this[kTask]);
    if (!atOnce || !hub.runNow(this[kTask])) hub.wake(this[kTask]);
    return this;
  }

  /**
   * Like {@link Greenlet.start}, but schedules the greenlet after `ms` ms.
   * Killing it before then cancels the start.
   * @returns this greenlet.
   */
  startLater(ms: number, ...args: A): this {
    checkDelay('ms', ms);
    if (this.#phase !== Phase.New || this.#startTimer !== null) return this;
    this.#checkRunnable();
    if (spawnChannel.hasSubscribers) spawnChannel.publish({ greenlet: this, spawner: getcurrent() });
    this.#args = args;
    const hub = getHub();
    hub.captureContext(this[kTask]);
    this.#startTimer = setTimer(() => {
      this.#startTimer = null;
      if (this.#phase !== Phase.New) return;
      this.#phase = Phase.Scheduled;
      hub.wake(this[kTask]);
    }, ms);
    return this;
  }

  /**
   * Waits until the greenlet has finished, at most `timeout` ms. Returns
   * whether it has finished; never throws its error (see {@link Greenlet.get}).
   * @param timeout - ms (`0` only checks), or `{ timeout, signal }`. @default null (no limit)
   * @throws GreenletError on the hub if it would have to wait, or when a
   *   greenlet joins itself.
   * @throws AbortError when `signal` is or gets aborted (the greenlet runs on).
   * @example
   * ```ts
   * import { sleep, spawn } from 'greenloop';
   * const slow = spawn(() => sleep(1000));
   * spawn(() => {
   *   try { slow.join({ signal: AbortSignal.timeout(10) }); } catch (e) { console.log((e as Error).name); } // 'AbortError'
   *   slow.kill();
   * });
   * ```
   */
  join(timeout?: number | null | TimeoutOptions): boolean {
    const { ms, signal } = readTimeoutArg(timeout);
    this.#observed = true;
    if (this.#phase === Phase.Done || ms === 0) return this.#phase === Phase.Done;
    if (getcurrent() === this) throw new GreenletError(`${this.name} cannot join itself`);
    const w = new Waiter<boolean>('Greenlet.join()');
    const link = this[kRawlink](() => w.switch(true));
    try {
      getWithSignal(w, ms, signal);
    } finally {
      this[kUnlink](link);
    }
    return this.ready();
  }

  /**
   * The greenlet's return value, waiting for it to finish; rethrows its error
   * if it failed.
   * @throws TimeoutError if it has not finished and `block` is false, or
   *   `timeout` ms pass.
   * @throws AbortError when `signal` is or gets aborted.
   * @throws GreenletError on the hub if it would have to wait.
   * @throws the greenlet's own error.
   */
  get(options?: GetOptions): T {
    const { ms, signal } = readLimits(options);
    const block = options?.block ?? true;
    this.#observed = true;
    if (this.#phase !== Phase.Done) {
      if (!block) throw new TimeoutError(`${this.name} has not finished`);
      if (!this.join({ timeout: ms, signal })) {
        throw TimeoutError.after(ms, `${this.name}.get()`);
      }
    }
    if (this.#failed) throw this.#exception;
    return this.#value as T;
  }

  /**
   * Ends the greenlet by raising `error` in it where it is parked (at once if
   * it is parked, else at its next park; if its code is switched out by a raw
   * switch, e.g. into a raw child greenlet, where it stands, from the hub's
   * next pass). A greenlet that has not started yet dies at once without running. Killing a finished greenlet does nothing.
   * With `block` (the default) waits until it has died.
   * @param error - @default a new {@link GreenletExit}, which makes it end
   *   successfully with the GreenletExit as its value; any other error makes it fail.
   * @throws GreenletError on the hub with `block` when the greenlet has
   *   started (nothing is done then); pass `{ block: false }` there.
   * @example
   * ```ts
   * const g = spawn(() => { try { sleep(60_000); } finally { console.log('cleaned up'); } });
   * spawn(() => { sleep(10); g.kill(); console.log(g.dead); }); // cleaned up, true
   * ```
   */
  kill(error: unknown = new GreenletExit(), options?: KillOptions): void {
    checkOptions('options', options);
    const block = options?.block ?? true;
    const ms = checkTimeout('timeout', options?.timeout);
    this.#observed = true;
    if (this.#phase === Phase.Done) return;
    if (!super.started) {
      this[kTask].cancelled = true;
      if (this.#startTimer !== null) clearTimer(this.#startTimer);
      this.#startTimer = null;
      if (error instanceof GreenletExit) this.#finish(error as T, undefined, false);
      else this.#finish(undefined, error, true);
      return;
    }
    const current = getcurrent();
    if (block && current.isRoot) {
      throw new BlockingOnHubError('Greenlet.kill()', 'pass { block: false }');
    }
    if (current === this) {
      if (block) throw error;
      getHub().throwInto(this[kTask], error);
      return;
    }
    getHub().throwInto(this[kTask], error);
    if (block) this.join(ms);
  }

  /**
   * Calls `callback(this)` on the hub once the greenlet has finished (soon, if
   * it already has), in the async context current here. Counts as handling
   * its error. The callback must not block; spawn a greenlet from it to do so.
   * An error it throws goes to {@link Hub.unjoinedErrorHandler}.
   */
  link(callback: LinkCallback<this>): void {
    this.#addUserLink(callback, 'any');
  }

  /** Like {@link Greenlet.link}, but only if it finishes successfully (does not handle errors). */
  linkValue(callback: LinkCallback<this>): void {
    this.#addUserLink(callback, 'value');
  }

  /** Like {@link Greenlet.link}, but only if it fails. */
  linkException(callback: LinkCallback<this>): void {
    this.#addUserLink(callback, 'exception');
  }

  /** Removes every link to `callback` that has not run yet. */
  unlink(callback: LinkCallback<this>): void {
    if (this.#links === null) return;
    this.#links = this.#links.filter((l) => l.key !== callback);
  }

  /**
   * A Promise of the outcome: resolves with the value, rejects with the error
   * (so async code can await a greenlet). Counts as handling its error.
   * @example
   * ```ts
   * const value = await spawn(() => blockingWork()).promise();
   * ```
   */
  promise(): Promise<T> {
    this.#observed = true;
    if (this.#promise === null) {
      this.#promise = new Promise<T>((resolve, reject) => {
        this[kRawlink](() => (this.#failed ? reject(this.#exception) : resolve(this.#value as T)));
      });
    }
    return this.#promise;
  }

  override toString(): string {
    return `<Greenlet "${this.name}"${this.#phase === Phase.Done ? (this.#failed ? ' failed' : ' done') : ''}>`;
  }

  /** @internal The hub could not start it (no thread or stack): it ends, unstarted, with `error`. */
  [kStartRefused](error: unknown): void {
    if (this.#phase !== Phase.Done) this.#finish(undefined, error, true);
  }

  /** @internal */
  [kObserve](): void {
    this.#observed = true;
  }

  /** @internal Runs `fn(this)` synchronously where the greenlet finishes (at once if it has). */
  [kRawlink](fn: (g: Greenlet<any>) => void, kind: LinkKind = 'any'): Link {
    const link: Link = { key: fn, kind, internal: true, fn };
    if (this.#phase === Phase.Done) {
      this.#runLink(link);
    } else {
      (this.#links ??= []).push(link);
    }
    return link;
  }

  /** @internal */
  [kUnlink](link: Link): void {
    const links = this.#links;
    if (links === null) return;
    const i = links.indexOf(link);
    if (i >= 0) links.splice(i, 1);
  }

  #checkRunnable(): void {
    if (this.#fn === null && typeof (this as { run?: unknown }).run !== 'function') {
      throw new GreenletError(`${this.name} has no function to run (pass one, or define run() in a subclass)`);
    }
  }

  #addUserLink(callback: LinkCallback<any>, kind: LinkKind): void {
    checkFunction('callback', callback);
    if (kind !== 'value') this.#observed = true;
    const bound = AsyncResource.bind(callback);
    const link: Link = { key: callback, kind, internal: false, fn: bound };
    if (this.#phase === Phase.Done) this.#runLink(link);
    else (this.#links ??= []).push(link);
  }

  #runLink(link: Link): void {
    if (link.kind === 'value' && this.#failed) return;
    if (link.kind === 'exception' && !this.#failed) return;
    if (!link.internal) {
      getHub().runCallback(runUserLink, link.fn, this);
      return;
    }
    this.#callAtDeath(link.fn, link);
  }

  /**
   * Calls `fn` (on `receiver`) with this greenlet where it finishes, as
   * internal links and {@link kOnFinish} run: an error it throws is reported,
   * and the other links still run.
   */
  #callAtDeath(fn: (g: Greenlet<any>) => void, receiver: unknown): void {
    try {
      fn.call(receiver, this);
    } catch (error) {
      getHub().reportError(error, this, 'had a link that threw');
    }
  }

  #finish(value: T | undefined, error: unknown, failed: boolean): void {
    this.#phase = Phase.Done;
    this.#value = value;
    this.#exception = error;
    this.#failed = failed;
    const onFinish = (this as { [kOnFinish]?: () => void })[kOnFinish];
    if (onFinish !== undefined) this.#callAtDeath(onFinish, this);
    const links = this.#links;
    this.#links = null;
    if (links !== null) for (const link of links) this.#runLink(link);
    // Reported if still unhandled once the greenlets ready now have run.
    if (failed && !this.#observed) getHub().runCallback(reportIfUnobserved, this);
    if (failed ? errorChannel.hasSubscribers : finishChannel.hasSubscribers) publishEnd(this, value, error, failed);
  }

  /** @internal */
  get observed(): boolean {
    return this.#observed;
  }
}

function publishEnd(g: Greenlet<any>, value: unknown, error: unknown, failed: boolean): void {
  if (failed) errorChannel.publish({ greenlet: g, error });
  else finishChannel.publish({ greenlet: g, value });
}

function runUserLink(fn: (g: Greenlet<any>) => void, g: Greenlet<any>): void {
  try {
    fn(g);
  } catch (error) {
    getHub().reportError(error, g, 'had a link callback that threw');
  }
}

function reportIfUnobserved(g: Greenlet<any>): void {
  if (!g.observed) getHub().reportError(g.exception, g, 'failed');
}

/**
 * Creates a greenlet running `fn(...args)` and schedules it (gevent's
 * `spawn`). It starts at the hub's next pass, after the greenlets that are
 * ready now, with the AsyncLocalStorage stores current here. Callable anywhere,
 * also on the hub (top-level code, callbacks).
 * @returns the new {@link Greenlet}.
 * @example
 * ```ts
 * import { spawn, sleep, joinall } from 'greenloop';
 * const gs = [1, 2, 3].map((n) => spawn(() => { sleep(10 * n); return n; }));
 * spawn(() => { joinall(gs); console.log(gs.map((g) => g.value)); }); // [1, 2, 3]
 * ```
 */
export function spawn<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Greenlet<Awaited<R>> {
  checkFunction('fn', fn);
  return new Greenlet<Awaited<R>>(fn as (...args: any[]) => Awaited<R>).start(...args);
}

/**
 * Starts `g` (with no arguments) like {@link Greenlet.start}, but on the hub
 * outside the hub's own pass (in an IO callback) it runs at once, until it
 * first parks or ends, instead of at the hub's next pass.
 * @internal
 */
export function startNow(g: Greenlet<any, []>): void {
  g[kStartNow]();
}

/**
 * Like {@link spawn}, but the greenlet starts after `ms` ms. Killing it before
 * then cancels it.
 * @example
 * ```ts
 * const reminder = spawnLater(1000, () => console.log('a second later'));
 * ```
 */
export function spawnLater<A extends unknown[], R>(
  ms: number,
  fn: (...args: A) => R,
  ...args: A
): Greenlet<Awaited<R>> {
  checkFunction('fn', fn);
  return new Greenlet<Awaited<R>>(fn as (...args: any[]) => Awaited<R>).startLater(ms, ...args);
}

/** Options of {@link joinall}. */
export interface JoinallOptions extends SignalOptions {
  /** Wait at most this many ms. @default null (no limit) */
  timeout?: number | null;
  /**
   * Throw the error of the first greenlet that fails, as soon as one does.
   * @default false
   */
  raiseError?: boolean;
}

function checkGreenlets<G extends Greenlet<any>>(name: string, greenlets: Iterable<G>): G[] {
  if (greenlets == null || typeof (greenlets as any)[Symbol.iterator] !== 'function') {
    throw new TypeError(`${name} must be an iterable of Greenlets, got ${describe(greenlets)}`);
  }
  const list = [...greenlets];
  for (const g of list) {
    if (!(g instanceof Greenlet)) throw new TypeError(`${name} must hold Greenlets, got ${describe(g)}`);
  }
  return list;
}

/**
 * Waits until every greenlet in `greenlets` has finished (or `timeout` ms
 * pass) and returns those that have finished, in the given order, with their
 * element type. Counts as joining each of them.
 * @throws the first failure's error with `raiseError`.
 * @throws AbortError when `signal` is or gets aborted.
 * @throws GreenletError on the hub if it would have to wait.
 * @example
 * ```ts
 * const done = joinall([spawn(a), spawn(b)], { timeout: 1000 });
 * ```
 */
export function joinall<G extends Greenlet<any>>(greenlets: Iterable<G>, options?: JoinallOptions): G[] {
  const list = checkGreenlets('greenlets', greenlets);
  const { ms, signal } = readLimits(options);
  const raiseError = options?.raiseError ?? false;
  for (const g of list) g[kObserve]();
  const firstFailure = (): Greenlet<any> | undefined => list.find((g) => g.ready() && !g.successful());
  let pending = list.filter((g) => !g.ready()).length;
  if (pending !== 0 && ms !== 0 && !(raiseError && firstFailure())) {
    const w = new Waiter<boolean>('joinall()');
    const onDeath = (g: Greenlet<any>): void => {
      if (--pending === 0 || (raiseError && !g.successful())) w.switch(true);
    };
    const links = list.filter((g) => !g.ready()).map((g) => [g, g[kRawlink](onDeath)] as const);
    try {
      getWithSignal(w, ms, signal);
    } finally {
      for (const [g, link] of links) g[kUnlink](link);
    }
  }
  if (raiseError) {
    const failed = firstFailure();
    if (failed) throw failed.exception;
  }
  return list.filter((g) => g.ready());
}

/** Options of {@link killall}. */
export interface KillallOptions extends KillOptions {
  /** What to raise in each. @default a new {@link GreenletExit} per greenlet */
  exception?: unknown;
}

/**
 * Kills every greenlet in `greenlets` (see {@link Greenlet.kill}); with
 * `block` (the default) waits until all have died or `timeout` ms pass.
 * The current greenlet, if listed, is skipped.
 * @throws GreenletError on the hub with `block` when one has started (nothing
 *   is done then); pass `{ block: false }` there.
 * @example
 * ```ts
 * const workers = [1, 2, 3].map(() => spawn(serveForever));
 * spawn(() => { sleep(1000); killall(workers, { timeout: 500 }); });
 * ```
 */
export function killall(greenlets: Iterable<Greenlet<any>>, options?: KillallOptions): void {
  const list = checkGreenlets('greenlets', greenlets);
  checkOptions('options', options);
  const block = options?.block ?? true;
  const ms = checkTimeout('timeout', options?.timeout);
  const current = getcurrent();
  if (block && current.isRoot && list.some((g) => g.started && !g.dead)) {
    throw new BlockingOnHubError('killall()', 'pass { block: false }');
  }
  const hasException = options !== undefined && 'exception' in options;
  for (const g of list) {
    if (g === current) continue;
    g.kill(hasException ? options.exception : new GreenletExit(), { block: false });
  }
  if (block)
    joinall(
      list.filter((g) => g !== current),
      { timeout: ms },
    );
}

/**
 * Runs `fn(...args)` in a new greenlet and returns a Promise of its outcome,
 * so async code can call blocking-style code. Callable anywhere (it only
 * schedules the greenlet); the same as `spawn(fn, ...args).promise()`.
 * @example
 * ```ts
 * const text = await runAsync(() => fs.readFileSync(path, 'utf8')); // green fs: parks only this greenlet
 * ```
 */
export function runAsync<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Promise<Awaited<R>> {
  return spawn(fn, ...args).promise();
}
