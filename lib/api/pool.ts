/**
 * {@link Group} and {@link Pool}: managing many greenlets as one.
 * @module
 */
import { GreenletExit, PoolFull } from '../errors.js';
import { getcurrent } from '../greenlet.js';
import { checkFunction, checkOptions, checkTimeout, describe } from '../hub/validate.js';
import { getWithTimeout, Waiter } from '../hub/waiter.js';
import { Greenlet, kObserve, kRawlink, kUnlink, killall, spawn } from './greenlet.js';
import { Semaphore } from './lock.js';
import { Queue } from './queue.js';

/** Options of {@link Group.join}. */
export interface GroupJoinOptions {
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
export interface PoolAddOptions {
  /** Wait for a free slot; with `false`, throw {@link PoolFull} at once. @default true */
  blocking?: boolean;
  /** Give up after this many ms with {@link PoolFull}. @default null (no limit) */
  timeout?: number | null;
}

/**
 * A set of greenlets handled together (gevent's `Group`): members leave it
 * when they finish; `join()` waits for all, `kill()` kills all, and `map()` /
 * `imap()` / `imapUnordered()` run a function over many inputs concurrently.
 * A Group does not handle its members' errors: an error nobody joins is
 * reported as usual (or use `join({ raiseError: true })`, or `map()`).
 * @example
 * ```ts
 * import { Group, spawn } from 'greenloop';
 * spawn(() => {
 *   const group = new Group();
 *   const pages = group.map((url: string) => fetchText(url), urls); // in input order
 * });
 * ```
 */
export class Group implements Iterable<Greenlet<any>> {
  readonly #members = new Set<Greenlet<any>>();
  readonly #links = new Map<Greenlet<any>, unknown>();
  readonly #emptyWaiters = new Set<Waiter<boolean>>();
  /** Members that failed and whose error `join({ raiseError })` has not thrown yet. */
  readonly #failures: Greenlet<any>[] = [];

  /**
   * @param greenlets - members to add at once.
   */
  constructor(greenlets?: Iterable<Greenlet<any>>) {
    if (greenlets !== undefined) for (const g of greenlets) this.add(g);
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
  [Symbol.iterator](): Iterator<Greenlet<any>> {
    return [...this.#members][Symbol.iterator]();
  }

  /**
   * Spawns `fn(...args)` (see {@link spawn}) and adds it.
   * @returns the new greenlet.
   */
  spawn<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Greenlet<Awaited<R>> {
    checkFunction('fn', fn);
    const g = new Greenlet<Awaited<R>>(fn as (...args: any[]) => Awaited<R>);
    this.add(g);
    g.start(...args);
    return g;
  }

  /** Adds `g` (which leaves when it finishes; at once if it has). */
  add(g: Greenlet<any>): void {
    if (!(g instanceof Greenlet)) throw new TypeError(`add() expects a Greenlet, got ${describe(g)}`);
    if (this.#members.has(g)) return;
    this.#members.add(g);
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
   * @throws GreenletError on the hub if it would have to wait.
   */
  join(options?: GroupJoinOptions): boolean {
    checkOptions('options', options);
    const ms = checkTimeout('timeout', options?.timeout);
    const raiseError = options?.raiseError ?? false;
    if (raiseError) for (const g of this.#members) g[kObserve]();
    if (this.#members.size !== 0 && ms !== 0) {
      const w = new Waiter<boolean>('Group.join()');
      this.#emptyWaiters.add(w);
      try {
        getWithTimeout(w, ms);
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
   * results in input order, once all have finished.
   * @throws the first error (in input order) that a call threw; the others are killed.
   */
  map<I, R>(fn: (item: I) => R, items: Iterable<I>): Awaited<R>[] {
    return [...this.imap(fn, items)];
  }

  /**
   * Like {@link Group.map}, but yields each result as soon as it and all
   * before it are ready. Stopping early (`break`) kills the calls still running.
   */
  imap<I, R>(fn: (item: I) => R, items: Iterable<I>): IterableIterator<Awaited<R>> {
    return this.#imap(fn, items, true);
  }

  /** Like {@link Group.imap}, but yields results in the order they finish. */
  imapUnordered<I, R>(fn: (item: I) => R, items: Iterable<I>): IterableIterator<Awaited<R>> {
    return this.#imap(fn, items, false);
  }

  *#imap<I, R>(fn: (item: I) => R, items: Iterable<I>, ordered: boolean): IterableIterator<Awaited<R>> {
    checkFunction('fn', fn);
    if (items == null || typeof (items as any)[Symbol.iterator] !== 'function') {
      throw new TypeError(`items must be iterable, got ${describe(items)}`);
    }
    type Outcome = { index: number; g: Greenlet<Awaited<R>> } | { feederError: unknown } | { total: number };
    const results = new Queue<Outcome>();
    const running = new Set<Greenlet<any>>();
    const feeder = spawn(() => {
      let index = 0;
      for (const item of items) {
        const i = index++;
        const g = this.spawn(fn as (item: I) => Awaited<R>, item);
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
        const r = results.get();
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
export class Pool extends Group {
  /** The most members at once. */
  readonly poolSize: number;
  readonly #slots: Semaphore;
  readonly #holding = new Set<Greenlet<any>>();

  /**
   * @param size - an integer >= 1, or `Infinity`.
   */
  constructor(size: number) {
    if (size !== Infinity && (!Number.isInteger(size) || size < 1)) {
      throw new TypeError(`size must be an integer >= 1 or Infinity, got ${describe(size)}`);
    }
    super();
    this.poolSize = size;
    this.#slots = new Semaphore(size === Infinity ? Number.MAX_SAFE_INTEGER : size);
  }

  /** How many more members it takes before it is full. */
  freeCount(): number {
    return this.poolSize === Infinity ? Infinity : this.#slots.counter;
  }

  /** True when `spawn()` would park. */
  full(): boolean {
    return this.#slots.locked();
  }

  /**
   * Parks until a slot is free or `timeout` ms pass; returns the free count.
   * @throws GreenletError on the hub if it would have to wait.
   */
  waitAvailable(timeout?: number | null): number {
    const ms = checkTimeout('timeout', timeout);
    if (this.#slots.acquire({ timeout: ms })) this.#slots.release();
    return this.freeCount();
  }

  /**
   * Spawns `fn(...args)` as a member, parking while the pool is full.
   * @throws GreenletError on the hub if it would have to wait.
   */
  override spawn<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Greenlet<Awaited<R>> {
    checkFunction('fn', fn);
    this.#takeSlot({}, 'Pool.spawn()');
    const g = new Greenlet<Awaited<R>>(fn as (...args: any[]) => Awaited<R>);
    this.#holding.add(g);
    super.add(g);
    g.start(...args);
    return g;
  }

  /**
   * Spawns `fn(...args)` if a slot is free.
   * @throws PoolFull when the pool is full. Callable anywhere.
   */
  spawnNowait<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): Greenlet<Awaited<R>> {
    checkFunction('fn', fn);
    this.#takeSlot({ blocking: false }, 'Pool.spawnNowait()');
    const g = new Greenlet<Awaited<R>>(fn as (...args: any[]) => Awaited<R>);
    this.#holding.add(g);
    super.add(g);
    g.start(...args);
    return g;
  }

  /**
   * Adds `g`, parking while the pool is full.
   * @throws PoolFull if full and `blocking` is false, or `timeout` ms pass.
   */
  override add(g: Greenlet<any>, options?: PoolAddOptions): void {
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
    const ms = checkTimeout('timeout', options.timeout);
    const blocking = options.blocking ?? true;
    if (!this.#slots.acquire({ blocking, timeout: ms })) {
      throw new PoolFull(`${operation}: the pool is full (${this.poolSize} members)`);
    }
  }
}

