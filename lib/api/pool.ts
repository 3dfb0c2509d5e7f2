/**
 * {@link Group} and {@link Pool}: managing many greenlets as one.
 * @module
 */
import { GreenletExit, PoolFull } from '../errors.js';
import { getcurrent } from '../greenlet.js';
import { getWithSignal } from '../hub/abort.js';
import { assertMayBlock } from '../hub/hub.js';
import { checkFunction, checkOptions, checkTimeout, describe, isThenable } from '../hub/validate.js';
import { Waiter } from '../hub/waiter.js';
import { Greenlet, kObserve, kRawlink, kUnlink, killall, spawn } from './greenlet.js';
import { Semaphore } from './lock.js';
import { readLimits, readTimeoutArg, type SignalOptions, type TimeoutOptions } from './options.js';
import { Queue } from './queue.js';
import { wait } from './wait.js';

/** One iterable per parameter of `fn`: the arguments of `map()` and `imap()` after `fn`. */
export type Iterables<I extends unknown[]> = { [K in keyof I]: Iterable<I[K]> };

function isIterable(items: unknown): items is Iterable<unknown> {
  return items != null && typeof (items as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}

function checkIterable(name: string, items: unknown): asserts items is Iterable<unknown> {
  if (!isIterable(items)) throw new TypeError(`${name} must be iterable, got ${describe(items)}`);
}

/** An object that is not iterable: `new Group({ name })` rather than `new Group(greenlets)`. */
function isOptionsObject(value: unknown): value is GroupOptions {
  return typeof value === 'object' && value !== null && !isIterable(value);
}

function checkArgs<A extends unknown[]>(args: A | undefined): A {
  if (args === undefined) return [] as unknown as A;
  if (!Array.isArray(args)) throw new TypeError(`args must be an array, got ${describe(args)}`);
  return args;
}

/** The tuples `[a[i], b[i], ...]` of `iterables`, until the shortest ends (its iterators are closed). */
function* zip(iterables: Iterable<unknown>[]): Generator<unknown[]> {
  const iterators = iterables.map((items) => items[Symbol.iterator]());
  try {
    for (;;) {
      const args: unknown[] = [];
      for (const it of iterators) {
        const step = it.next();
        if (step.done) return;
        args.push(step.value);
      }
      yield args;
    }
  } finally {
    for (const it of iterators) it.return?.();
  }
}

/** Options of {@link Group.join}. */
export interface GroupJoinOptions extends SignalOptions {
  /** Wait at most this many ms. @default null (no limit) */
  timeout?: number | null;
  /**
   * After waiting, throw the error of the member that failed first (each
   * failure is thrown by one such join). @default false
   */
  raiseError?: boolean;
}

/** Options of {@link Group.kill}. */
export interface GroupKillOptions {
  /** What to raise in each member. @default a new GreenletExit per member */
  exception?: unknown;
  /** Wait until all have died. @default true */
  block?: boolean;
  /** With `block`, wait at most this many ms. @default null (no limit) */
  timeout?: number | null;
}

/** Options of {@link Pool.add}. */
export interface PoolAddOptions extends SignalOptions {
  /** Wait for a free slot; with `false`, throw {@link PoolFull} at once. @default true */
  blocking?: boolean;
  /** Give up after this many ms with {@link PoolFull}. @default null (no limit) */
  timeout?: number | null;
}

/** Options of {@link Group} and {@link Pool}. */
export interface GroupOptions {
  /**
   * A name for it, shown in greenloop/debug's dump (`Pool(size=4)#1 "fetchers"`).
   * @default none
   */
  name?: string;
}

/**
 * The group each member greenlet is in (the latest one added to), read by greenloop/debug's dump.
 * @internal
 */
export const groupOfMember = new WeakMap<Greenlet<any>, Group<any>>();

/**
 * A set of greenlets handled together (gevent's `Group`): members leave it
 * when they finish; `join()` waits for all, `kill()` kills all, and `map()` /
 * `imap()` / `imapUnordered()` run a function over many inputs concurrently.
 * A Group does not handle its members' errors: an error nobody joins is
 * reported as usual (or use `join({ raiseError: true })`, or `map()`).
 * @typeParam T - what its members return (`unknown`: anything).
 * @example
 * ```ts
 * import { Group, spawn } from 'greenloop';
 * spawn(() => {
 *   const group = new Group();
 *   const pages = group.map((url: string) => fetchText(url), urls); // in input order
 * });
 * ```
 */
export class Group<T = unknown> implements Iterable<Greenlet<T>> {
  /** The name it was given (see {@link GroupOptions}), or null. */
  readonly name: string | null;
  readonly #members = new Set<Greenlet<T>>();
  readonly #links = new Map<Greenlet<any>, unknown>();
  readonly #emptyWaiters = new Set<Waiter<boolean>>();
  /** Members that failed and whose error `join({ raiseError })` has not thrown yet. */
  readonly #failures: Greenlet<any>[] = [];

  /**
   * A group with no members yet: `new Group()` or `new Group({ name })`.
   * @param options - {@link GroupOptions}.
   * @throws TypeError when `options` is not an object or `name` is not a
   * string, naming the value received.
   * @example
   * ```ts
   * import { Group, spawn } from 'greenloop';
   * const workers = new Group({ name: 'workers' });
   * workers.spawn(() => 42);
   * ```
   */
  constructor(options?: GroupOptions);
  /**
   * A group whose first members are `greenlets`: `new Group(greenlets)` or
   * `new Group(greenlets, { name })`.
   * @param greenlets - members to add at once.
   * @param options - {@link GroupOptions}.
   * @throws TypeError when `greenlets` is neither iterable nor an options
   * object, or holds anything but Greenlets, or `name` is not a string,
   * naming the value received.
   * @example
   * ```ts
   * import { Greenlet, Group } from 'greenloop';
   * const group = new Group([new Greenlet(() => 1).start()], { name: 'ones' });
   * ```
   */
  constructor(greenlets?: Iterable<Greenlet<T>> | null, options?: GroupOptions);
  constructor(greenlets?: Iterable<Greenlet<T>> | GroupOptions | null, options?: GroupOptions) {
    if (isOptionsObject(greenlets) && options === undefined) {
      options = greenlets;
      greenlets = undefined;
    }
    checkOptions('options', options);
    const name = options?.name;
    if (name !== undefined && typeof name !== 'string')
      throw new TypeError(`name must be a string, got ${describe(name)}`);
    this.name = name ?? null;
    if (greenlets == null) return;
    if (typeof greenlets === 'string' || !isIterable(greenlets)) {
      throw new TypeError(
        `a Group takes an iterable of Greenlets and/or options ({ name }), got ${describe(greenlets)}`,
      );
    }
    for (const g of greenlets) this.add(g);
  }

  /** How many members it has (greenlets not finished yet). */
  get size(): number {
    return this.#members.size;
  }

  /** Whether `g` is a member. */
  has(g: Greenlet<any>): boolean {
    return this.#members.has(g);
  }

  /** The members, oldest first. */
  [Symbol.iterator](): Iterator<Greenlet<T>> {
    return [...this.#members][Symbol.iterator]();
  }

  /** False: a Group takes any number of members (a {@link Pool} overrides it). */
  full(): boolean {
    return false;
  }

  /**
   * Spawns `fn(...args)` (see {@link spawn}) and adds it.
   * @returns the new greenlet.
   */
  spawn<A extends unknown[], R extends T | PromiseLike<T>>(fn: (...args: A) => R, ...args: A): Greenlet<Awaited<R>> {
    checkFunction('fn', fn);
    const g = new Greenlet<Awaited<R>>(fn as (...args: any[]) => Awaited<R>);
    this.add(g as unknown as Greenlet<T>);
    g.start(...args);
    return g;
  }

  /** Adds `g` (which leaves when it finishes; at once if it has). */
  add(g: Greenlet<T>): void {
    if (!(g instanceof Greenlet)) throw new TypeError(`add() expects a Greenlet, got ${describe(g)}`);
    if (this.#members.has(g)) return;
    this.#members.add(g);
    groupOfMember.set(g, this);
    this.#links.set(
      g,
      g[kRawlink]((done) => {
        if (!done.successful()) this.#failures.push(done);
        this.discard(done);
      }),
    );
  }

  /** Removes `g` without touching it. */
  discard(g: Greenlet<any>): void {
    if (!this.#members.delete(g)) return;
    if (groupOfMember.get(g) === this) groupOfMember.delete(g);
    const link = this.#links.get(g);
    this.#links.delete(g);
    if (link !== undefined) g[kUnlink](link as never);
    this._onDiscard(g);
    if (this.#members.size === 0 && this.#emptyWaiters.size !== 0) {
      const waiters = [...this.#emptyWaiters];
      this.#emptyWaiters.clear();
      for (const w of waiters) w.switch(true);
    }
  }

  /**
   * Parks until every member has finished, or `timeout` ms pass; returns
   * whether none is left.
   * @throws with `raiseError`, the first failed member's error.
   * @throws AbortError when `signal` is or gets aborted.
   * @throws GreenletError on the hub if it would have to wait.
   */
  join(options?: GroupJoinOptions): boolean {
    const { ms, signal } = readLimits(options);
    const raiseError = options?.raiseError ?? false;
    if (raiseError) for (const g of this.#members) g[kObserve]();
    if (this.#members.size !== 0 && ms !== 0) {
      const w = new Waiter<boolean>('Group.join()');
      this.#emptyWaiters.add(w);
      try {
        getWithSignal(w, ms, signal);
      } finally {
        this.#emptyWaiters.delete(w);
      }
    }
    if (raiseError && this.#failures.length !== 0) throw this.#failures.shift()!.exception;
    return this.#members.size === 0;
  }

  /**
   * Kills every member (see {@link killall}), including any added while it
   * waits; with `block`, waits until all have died or `timeout` ms pass.
   * @throws GreenletError on the hub with `block` when a member has started.
   */
  kill(options?: GroupKillOptions): void {
    checkOptions('options', options);
    const block = options?.block ?? true;
    const ms = checkTimeout('timeout', options?.timeout);
    const current = getcurrent();
    const deadline = ms === null ? Infinity : Date.now() + ms;
    const exception = options !== undefined && 'exception' in options ? { exception: options.exception } : {};
    for (;;) {
      const members = [...this.#members].filter((g) => g !== current);
      if (members.length === 0) return;
      const left = deadline - Date.now();
      if (block && left <= 0) return;
      killall(members, { ...exception, block, timeout: block && left !== Infinity ? left : null });
      if (!block) return;
    }
  }

  /** Kills one member (see {@link Greenlet.kill}). */
  killone(g: Greenlet<any>, options?: GroupKillOptions): void {
    checkOptions('options', options);
    if (!this.#members.has(g)) return;
    const error = options !== undefined && 'exception' in options ? options.exception : new GreenletExit();
    g.kill(error, { block: options?.block ?? true, timeout: options?.timeout ?? null });
  }

  /**
   * Runs `fn(item)` for every item in its own member greenlet and returns the
   * results in input order, once all have finished. With several iterables,
   * calls `fn(a[i], b[i], ...)`, stopping at the shortest (gevent's and
   * Python's `map`).
   * @throws the first error (in input order) that a call threw; the others are killed.
   * @throws TypeError when `fn` is not a function or no iterable is given.
   * @example
   * ```ts
   * import { Group, spawn } from 'greenloop';
   * spawn(() => console.log(new Group().map((a: number, b: number) => a * b, [1, 2, 3], [10, 20]))); // [10, 40]
   * ```
   */
  map<I extends unknown[], R extends T | PromiseLike<T>>(
    fn: (...args: I) => R,
    ...iterables: Iterables<I>
  ): Awaited<R>[] {
    return [...this.imap(fn, ...iterables)];
  }

  /**
   * Like {@link Group.map}, but yields each result as soon as it and all
   * before it are ready. Stopping early (`break`) kills the calls still running.
   * @example
   * ```ts
   * import { Group, sleep, spawn } from 'greenloop';
   * spawn(() => {
   *   for (const r of new Group().imap((ms: number, tag: string) => { sleep(ms); return tag; }, [20, 5], ['a', 'b'])) console.log(r); // a, b
   * });
   * ```
   */
  imap<I extends unknown[], R extends T | PromiseLike<T>>(
    fn: (...args: I) => R,
    ...iterables: Iterables<I>
  ): IterableIterator<Awaited<R>> {
    return this.#imap(fn, iterables, true);
  }

  /**
   * Like {@link Group.imap}, but yields results in the order they finish.
   * @example
   * ```ts
   * import { Group, sleep, spawn } from 'greenloop';
   * spawn(() => {
   *   for (const r of new Group().imapUnordered((ms: number) => { sleep(ms); return ms; }, [20, 5])) console.log(r); // 5, 20
   * });
   * ```
   */
  imapUnordered<I extends unknown[], R extends T | PromiseLike<T>>(
    fn: (...args: I) => R,
    ...iterables: Iterables<I>
  ): IterableIterator<Awaited<R>> {
    return this.#imap(fn, iterables, false);
  }

  /**
   * Runs `fn(...args)` in a member greenlet and returns its result, waiting
   * for it (gevent's `apply`). Called from a greenlet that is itself a member,
   * it runs `fn` right there instead, so a full {@link Pool} cannot deadlock
   * on its own members.
   * @param args - @default []
   * @throws what `fn` throws.
   * @throws GreenletError on the hub (it would have to wait).
   * @example
   * ```ts
   * import { Pool, spawn } from 'greenloop';
   * spawn(() => console.log(new Pool(2).apply((a: number, b: number) => a + b, [1, 2]))); // 3
   * ```
   */
  apply<A extends unknown[], R extends T | PromiseLike<T>>(fn: (...args: A) => R, args?: A): Awaited<R> {
    checkFunction('fn', fn);
    const list = checkArgs(args);
    const current = getcurrent();
    if (current instanceof Greenlet && this.has(current)) {
      const value = fn(...list);
      return (isThenable(value) ? wait(value) : value) as Awaited<R>;
    }
    assertMayBlock('apply()');
    return this.spawn(fn, ...list).get();
  }

  /**
   * Starts `fn(...args)` in a member greenlet and returns that greenlet at
   * once, never waiting, even if a {@link Pool} is full (gevent's
   * `apply_async`: a greenlet outside the pool then waits for a slot). With
   * `callback`, calls `callback(value)` on the hub once it succeeds (it must
   * not block). Callable anywhere, also on the hub.
   * @param args - @default []
   * @example
   * ```ts
   * import { Pool, spawn } from 'greenloop';
   * const pool = new Pool(1);
   * pool.applyAsync((n: number) => n * 2, [21], (v) => console.log(v)); // 42
   * ```
   */
  applyAsync<A extends unknown[], R extends T | PromiseLike<T>>(
    fn: (...args: A) => R,
    args?: A,
    callback?: (value: Awaited<R>) => void,
  ): Greenlet<Awaited<R>> {
    checkFunction('fn', fn);
    const list = checkArgs(args);
    if (callback !== undefined) checkFunction('callback', callback);
    const g = this.full() ? spawn(() => this.apply(fn, list)) : this.spawn(fn, ...list);
    if (callback !== undefined) g.linkValue((done) => callback(done.value as Awaited<R>));
    return g;
  }

  /**
   * Runs {@link Group.map} in a new greenlet (outside the group) and returns
   * that greenlet at once (gevent's `map_async`); its value is the list of
   * results. With `callback`, calls `callback(results)` on the hub once it
   * succeeds. Callable anywhere, also on the hub.
   * @example
   * ```ts
   * import { Pool } from 'greenloop';
   * new Pool(4).mapAsync((n: number) => n * n, [1, 2, 3], (squares) => console.log(squares)); // [1, 4, 9]
   * ```
   */
  mapAsync<I, R extends T | PromiseLike<T>>(
    fn: (item: I) => R,
    items: Iterable<I>,
    callback?: (results: Awaited<R>[]) => void,
  ): Greenlet<Awaited<R>[]> {
    checkFunction('fn', fn);
    checkIterable('items', items);
    if (callback !== undefined) checkFunction('callback', callback);
    const g = spawn(() => this.map(fn, items));
    if (callback !== undefined) g.linkValue((done) => callback(done.value as Awaited<R>[]));
    return g;
  }

  *#imap<R>(fn: (...args: any[]) => R, iterables: Iterable<unknown>[], ordered: boolean): IterableIterator<Awaited<R>> {
    checkFunction('fn', fn);
    if (iterables.length === 0) throw new TypeError('imap() and map() need at least one iterable after fn');
    iterables.forEach((items, i) => checkIterable(iterables.length === 1 ? 'items' : `iterable ${i + 1}`, items));
    type Outcome = { index: number; g: Greenlet<Awaited<R>> } | { feederError: unknown } | { total: number };
    const results = new Queue<Outcome>();
    const running = new Set<Greenlet<any>>();
    const feeder = spawn(() => {
      let index = 0;
      for (const args of zip(iterables)) {
        const i = index++;
        const g = this.spawn(fn as (...args: unknown[]) => any, ...args) as Greenlet<Awaited<R>>;
        g[kObserve]();
        running.add(g);
        g[kRawlink]((done) => {
          running.delete(done);
          results.putNowait({ index: i, g: done as Greenlet<Awaited<R>> });
        });
      }
      results.putNowait({ total: index });
    });
    feeder[kObserve]();
    feeder[kRawlink]((f) => {
      if (!f.successful()) results.putNowait({ feederError: f.exception });
    });
    const done = new Map<number, Greenlet<Awaited<R>>>();
    let next = 0;
    let total = -1;
    try {
      for (;;) {
        if (ordered) {
          const g = done.get(next);
          if (g !== undefined) {
            done.delete(next++);
            if (!g.successful()) throw g.exception;
            yield g.value as Awaited<R>;
            continue;
          }
        }
        if (total >= 0 && next === total) return;
        // Only this generator's own outcomes go in: never a StopIteration.
        const r = results.get() as Outcome;
        if ('feederError' in r) throw r.feederError;
        if ('total' in r) {
          total = r.total;
          continue;
        }
        if (ordered) {
          done.set(r.index, r.g);
        } else {
          next++;
          if (!r.g.successful()) throw r.g.exception;
          yield r.g.value as Awaited<R>;
        }
      }
    } finally {
      if (!feeder.dead) feeder.kill(undefined, { block: false });
      for (const g of running) g.kill(undefined, { block: false });
    }
  }

  /** @internal Pool frees a slot here. */
  protected _onDiscard(_g: Greenlet<any>): void {}
}

/**
 * A {@link Group} with at most `size` members at once (gevent's `Pool`):
 * `spawn()` and `add()` park while it is full, which bounds concurrency.
 * `spawnNowait()` and `add(g, { blocking: false })` throw {@link PoolFull}
 * instead.
 * @example
 * ```ts
 * import { Pool, spawn } from 'greenloop';
 * spawn(() => {
 *   const pool = new Pool(10); // at most 10 requests in flight
 *   for (const url of urls) pool.spawn(() => fetchText(url));
 *   pool.join();
 * });
 * ```
 */
export class Pool<T = unknown> extends Group<T> {
  /** The most members at once. */
  readonly poolSize: number;
  readonly #slots: Semaphore;
  readonly #holding = new Set<Greenlet<any>>();

  /**
   * @param size - an integer >= 1, or `Infinity`.
   * @param options - {@link GroupOptions}.
   * @throws TypeError for a bad `size` or `name`, naming the value received.
   * @example
   * ```ts
   * import { Pool } from 'greenloop';
   * const fetchers = new Pool(4, { name: 'fetchers' }); // dump(): Pool(size=4)#1 "fetchers"
   * ```
   */
  constructor(size: number, options?: GroupOptions) {
    if (size !== Infinity && (!Number.isInteger(size) || size < 1)) {
      throw new TypeError(`size must be an integer >= 1 or Infinity, got ${describe(size)}`);
    }
    checkOptions('options', options);
    super(undefined, options);
    this.poolSize = size;
    this.#slots = new Semaphore(size === Infinity ? Number.MAX_SAFE_INTEGER : size);
  }

  /** How many more members it takes before it is full. */
  freeCount(): number {
    return this.poolSize === Infinity ? Infinity : this.#slots.counter;
  }

  /** True when `spawn()` would park. */
  override full(): boolean {
    return this.#slots.locked();
  }

  /**
   * Parks until a slot is free or `timeout` ms pass; returns the free count.
   * @param timeout - ms, or `{ timeout, signal }`. @default null (no limit)
   * @throws GreenletError on the hub if it would have to wait.
   * @throws AbortError when `signal` is or gets aborted.
   */
  waitAvailable(timeout?: number | null | TimeoutOptions): number {
    const { ms, signal } = readTimeoutArg(timeout);
    if (this.#slots.acquire({ timeout: ms, signal })) this.#slots.release();
    return this.freeCount();
  }

  /**
   * Spawns `fn(...args)` as a member, parking while the pool is full.
   * @throws GreenletError on the hub if it would have to wait.
   */
  override spawn<A extends unknown[], R extends T | PromiseLike<T>>(
    fn: (...args: A) => R,
    ...args: A
  ): Greenlet<Awaited<R>> {
    checkFunction('fn', fn);
    this.#takeSlot({}, 'Pool.spawn()');
    const g = new Greenlet<Awaited<R>>(fn as (...args: any[]) => Awaited<R>);
    this.#holding.add(g);
    super.add(g as unknown as Greenlet<T>);
    g.start(...args);
    return g;
  }

  /**
   * Spawns `fn(...args)` if a slot is free.
   * @throws PoolFull when the pool is full. Callable anywhere.
   */
  spawnNowait<A extends unknown[], R extends T | PromiseLike<T>>(
    fn: (...args: A) => R,
    ...args: A
  ): Greenlet<Awaited<R>> {
    checkFunction('fn', fn);
    this.#takeSlot({ blocking: false }, 'Pool.spawnNowait()');
    const g = new Greenlet<Awaited<R>>(fn as (...args: any[]) => Awaited<R>);
    this.#holding.add(g);
    super.add(g as unknown as Greenlet<T>);
    g.start(...args);
    return g;
  }

  /**
   * Adds `g`, parking while the pool is full.
   * @throws PoolFull if full and `blocking` is false, or `timeout` ms pass.
   * @throws AbortError when `signal` is or gets aborted.
   */
  override add(g: Greenlet<T>, options?: PoolAddOptions): void {
    if (!(g instanceof Greenlet)) throw new TypeError(`add() expects a Greenlet, got ${describe(g)}`);
    if (this.has(g)) return;
    checkOptions('options', options);
    this.#takeSlot(options ?? {}, 'Pool.add()');
    this.#holding.add(g);
    super.add(g);
  }

  protected override _onDiscard(g: Greenlet<any>): void {
    if (this.#holding.delete(g)) this.#slots.release();
  }

  #takeSlot(options: PoolAddOptions, operation: string): void {
    const { ms, signal } = readLimits(options);
    const blocking = options.blocking ?? true;
    if (!this.#slots.acquire({ blocking, timeout: ms, signal })) {
      throw new PoolFull(`${operation}: the pool is full (${this.poolSize} members)`);
    }
  }
}
