/**
 * Queues between greenlets: {@link Queue} (FIFO), {@link LifoQueue},
 * {@link PriorityQueue}, {@link JoinableQueue} and {@link Channel}.
 *
 * Waiting getters and putters are served in the order they came; an item put
 * while a greenlet waits in `get()` goes straight to that greenlet.
 * @module
 */
import { Empty, Full } from '../errors.js';
import { Deque } from '../hub/deque.js';
import { getWithSignal } from '../hub/abort.js';
import { checkFunction, describe } from '../hub/validate.js';
import { TIMED_OUT, Waiter } from '../hub/waiter.js';
import { readLimits, readTimeoutArg, type SignalOptions, type TimeoutOptions } from './options.js';

/**
 * Put into a queue to end iteration over it: `for (const item of queue)`
 * stops when it takes this marker (gevent's `StopIteration` convention).
 * `get()` returns it like any item. One marker ends one iteration.
 *
 * In TypeScript a queue that carries it says so in its item type,
 * `Queue<string | typeof StopIteration>`: `get()` is then typed honestly
 * (it may return the marker) and iteration yields only `string`s.
 * @example
 * ```ts
 * import { Queue, StopIteration, spawn } from 'greenloop';
 * const lines = new Queue<string | typeof StopIteration>();
 * spawn(() => { for (const line of lines) console.log(line); console.log('no more lines'); });
 * lines.put('a'); lines.put(StopIteration);
 * ```
 */
export const StopIteration: unique symbol = Symbol.for('greenloop.StopIteration');

/** Options of `put()`, `get()` and `peek()`. */
export interface QueueOptions extends SignalOptions {
  /** Wait while the queue is full (put) or empty (get). @default true */
  block?: boolean;
  /** Give up after this many ms with {@link Full} / {@link Empty}. @default null (no limit) */
  timeout?: number | null;
}

interface Putter<T> {
  readonly item: T;
  readonly waiter: Waiter<boolean>;
}

/**
 * A FIFO queue between greenlets (gevent's `Queue`). `get()` parks while it
 * is empty; `put()` parks while it holds `maxsize` items.
 * @typeParam T - the items' type.
 * @example
 * ```ts
 * import { Queue, StopIteration, spawn } from 'greenloop';
 * const jobs = new Queue<string | typeof StopIteration>(100);
 * spawn(() => { for (const job of jobs) console.log('doing', job); });
 * spawn(() => { jobs.put('a'); jobs.put('b'); jobs.put(StopIteration); });
 * ```
 */
export class Queue<T = unknown> implements Iterable<Exclude<T, typeof StopIteration>> {
  /** The most items it holds; `Infinity` for no limit, `0` for a rendezvous (see {@link Channel}). */
  readonly maxsize: number;
  readonly #getters = new Set<Waiter<T>>();
  readonly #putters = new Set<Putter<T>>();
  readonly #peekers = new Set<Waiter<boolean>>();

  /**
   * @param maxsize - an integer >= 0 or `Infinity`. @default Infinity
   */
  constructor(maxsize = Infinity) {
    if (maxsize !== Infinity && (!Number.isInteger(maxsize) || maxsize < 0)) {
      throw new TypeError(`maxsize must be an integer >= 0 or Infinity, got ${describe(maxsize)}`);
    }
    this.maxsize = maxsize;
  }

  /** How many items it holds now. */
  qsize(): number {
    return this._size();
  }

  /** True when it holds no item. */
  empty(): boolean {
    return this._size() === 0;
  }

  /** True when a `put()` would wait. */
  full(): boolean {
    return this._size() >= this.maxsize;
  }

  /** How many greenlets wait in `get()` now. */
  get getters(): number {
    return this.#getters.size;
  }

  /** How many greenlets wait in `put()` now. */
  get putters(): number {
    return this.#putters.size;
  }

  /**
   * Adds `item`, parking while the queue is full (behind earlier putters). If
   * a greenlet waits in `get()`, the item goes straight to it.
   * @throws Full if it is full and `block` is false, or `timeout` ms pass.
   * @throws AbortError when `signal` is or gets aborted (the item is not added).
   * @throws GreenletError on the hub if it would have to wait.
   */
  put(item: T, options?: QueueOptions): void {
    const { ms, signal } = readLimits(options);
    const block = options?.block ?? true;
    if (this.#handToGetter(item)) return;
    if (this._size() < this.maxsize && this.#putters.size === 0) {
      this.#store(item as T);
      return;
    }
    if (!block || ms === 0) throw new Full(`the queue is full (maxsize ${this.maxsize})`);
    const putter: Putter<T> = { item, waiter: new Waiter<boolean>(`${this.constructor.name}.put()`) };
    this.#putters.add(putter);
    try {
      if (getWithSignal(putter.waiter, ms, signal) === TIMED_OUT) {
        throw new Full(`the queue stayed full for ${ms} ms (maxsize ${this.maxsize})`);
      }
    } finally {
      this.#putters.delete(putter);
    }
  }

  /** `put(item, { block: false })`: adds `item` or throws {@link Full}. Callable anywhere. */
  putNowait(item: T): void {
    this.put(item, { block: false });
  }

  /**
   * Removes and returns the next item, parking while the queue is empty
   * (behind earlier getters). For a queue typed to carry
   * {@link StopIteration}, that may be the marker (iterating stops there instead).
   * @throws Empty if it is empty and `block` is false, or `timeout` ms pass.
   * @throws AbortError when `signal` is or gets aborted (no item is taken).
   * @throws GreenletError on the hub if it would have to wait.
   * @example
   * ```ts
   * import { Queue, spawn } from 'greenloop';
   * const q = new Queue<number>();
   * spawn(() => {
   *   try { q.get({ signal: AbortSignal.timeout(10) }); } catch (e) { console.log((e as Error).name); } // 'AbortError'
   * });
   * ```
   */
  get(options?: QueueOptions): T {
    const { ms, signal } = readLimits(options);
    const block = options?.block ?? true;
    if (this._size() > 0 && this.#getters.size === 0) {
      const item = this._shift();
      this.#admitPutter();
      return item;
    }
    const direct = this.#takeFromPutter();
    if (direct.taken) return direct.item!;
    if (!block || ms === 0) throw new Empty('the queue is empty');
    const w = new Waiter<T>(`${this.constructor.name}.get()`);
    this.#getters.add(w);
    try {
      const item = getWithSignal(w, ms, signal);
      if (item === TIMED_OUT) throw new Empty(`the queue stayed empty for ${ms} ms`);
      return item;
    } finally {
      this.#getters.delete(w);
    }
  }

  /** `get({ block: false })`: the next item, or throws {@link Empty}. Callable anywhere. */
  getNowait(): T {
    return this.get({ block: false });
  }

  /**
   * The next item without removing it. By default it does not wait and
   * returns `undefined` when the queue is empty; with `block: true` it waits
   * for an item as gevent's `peek()` does (an item handed straight to a
   * waiting `get()` never sits in the queue, so it is not seen).
   * @throws Empty with `block` when `timeout` ms pass first.
   * @throws AbortError when `signal` is or gets aborted.
   * @throws GreenletError on the hub with `block` if it would have to wait.
   * @example
   * ```ts
   * import { Queue, spawn } from 'greenloop';
   * const q = new Queue<string>();
   * spawn(() => console.log(q.peek({ block: true }), q.qsize())); // 'a' 1
   * spawn(() => q.put('a'));
   * ```
   */
  peek(options?: QueueOptions): T | undefined {
    const { ms, signal } = readLimits(options);
    if (this._size() > 0) return this._peek();
    if (!(options?.block ?? false)) return undefined;
    if (ms === 0) throw new Empty('the queue is empty');
    const w = new Waiter<boolean>(`${this.constructor.name}.peek()`);
    this.#peekers.add(w);
    try {
      if (getWithSignal(w, ms, signal) === TIMED_OUT) throw new Empty(`the queue stayed empty for ${ms} ms`);
    } finally {
      this.#peekers.delete(w);
    }
    return this._peek();
  }

  /** Stores an accepted item and wakes the greenlets peeking. */
  #store(item: T): void {
    this._push(item);
    this._onPut();
    if (this.#peekers.size === 0) return;
    const peekers = [...this.#peekers];
    this.#peekers.clear();
    for (const w of peekers) w.switch(true);
  }

  /**
   * Yields items with `get()` until it takes {@link StopIteration}.
   * @throws GreenletError on the hub if it would have to wait.
   */
  *[Symbol.iterator](): Iterator<Exclude<T, typeof StopIteration>> {
    for (;;) {
      const item = this.get();
      if (item === StopIteration) return;
      yield item as Exclude<T, typeof StopIteration>;
    }
  }

  /** Gives `item` to the longest-waiting getter, if any. */
  #handToGetter(item: T): boolean {
    for (const w of this.#getters) {
      this.#getters.delete(w);
      if (w.deliver(item as T)) {
        this._onPut();
        return true;
      }
    }
    return false;
  }

  /** After a get made room: moves the longest-waiting putter's item in. */
  #admitPutter(): void {
    for (const p of this.#putters) {
      this.#putters.delete(p);
      if (p.waiter.deliver(true)) {
        this.#store(p.item as T);
        return;
      }
    }
  }

  /** Takes an item straight from a waiting putter (a full queue of maxsize 0). */
  #takeFromPutter(): { taken: boolean; item?: T } {
    if (this._size() > 0) {
      // Getters are waiting ahead of us: we queue behind them.
      return { taken: false };
    }
    for (const p of this.#putters) {
      this.#putters.delete(p);
      if (p.waiter.deliver(true)) {
        this._onPut();
        return { taken: true, item: p.item };
      }
    }
    return { taken: false };
  }

  // Storage, overridden by LifoQueue and PriorityQueue.
  readonly #items = new Deque<T>();
  /** @internal */
  protected _size(): number {
    return this.#items.length;
  }
  /** @internal */
  protected _push(item: T): void {
    this.#items.push(item);
  }
  /** @internal */
  protected _shift(): T {
    return this.#items.shift() as T;
  }
  /** @internal */
  protected _peek(): T {
    return this.#items.peek() as T;
  }
  /** @internal Called once per item accepted (JoinableQueue counts them). */
  protected _onPut(): void {}
}

/**
 * A last-in first-out {@link Queue}: `get()` returns the newest item.
 * @example
 * ```ts
 * const stack = new LifoQueue<number>();
 * stack.put(1); stack.put(2);
 * stack.get(); // 2
 * ```
 */
export class LifoQueue<T = unknown> extends Queue<T> {
  readonly #items: T[] = [];
  protected override _size(): number {
    return this.#items.length;
  }
  protected override _push(item: T): void {
    this.#items.push(item);
  }
  protected override _shift(): T {
    return this.#items.pop() as T;
  }
  protected override _peek(): T {
    return this.#items[this.#items.length - 1] as T;
  }
}

/** Orders two items: negative if `a` comes first. */
export type Comparator<T> = (a: T, b: T) => number;

function defaultCompare(a: unknown, b: unknown): number {
  return (a as any) < (b as any) ? -1 : (a as any) > (b as any) ? 1 : 0;
}

/**
 * A {@link Queue} whose `get()` returns the smallest item by `compare`
 * (a binary heap; items that compare equal come out in no set order).
 * @example
 * ```ts
 * const q = new PriorityQueue<[number, string]>(Infinity, (a, b) => a[0] - b[0]);
 * q.put([2, 'later']); q.put([1, 'first']);
 * ```
 */
export class PriorityQueue<T = unknown> extends Queue<T> {
  readonly #heap: T[] = [];
  readonly #compare: Comparator<T>;

  /**
   * @param maxsize - see {@link Queue}. @default Infinity
   * @param compare - @default `<` / `>` on the items
   */
  constructor(maxsize = Infinity, compare: Comparator<T> = defaultCompare) {
    super(maxsize);
    checkFunction('compare', compare);
    this.#compare = compare;
  }

  protected override _size(): number {
    return this.#heap.length;
  }

  protected override _push(item: T): void {
    const heap = this.#heap;
    heap.push(item);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#compare(heap[i]!, heap[parent]!) >= 0) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  protected override _shift(): T {
    const heap = this.#heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && this.#compare(heap[l]!, heap[m]!) < 0) m = l;
        if (r < heap.length && this.#compare(heap[r]!, heap[m]!) < 0) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  }

  protected override _peek(): T {
    return this.#heap[0]!;
  }
}

/**
 * A {@link Queue} that counts unfinished tasks: each `put()` adds one, each
 * `taskDone()` removes one, and `join()` parks until none is left.
 * @example
 * ```ts
 * const q = new JoinableQueue<string>();
 * for (let i = 0; i < 4; i++) spawn(() => { for (;;) { handle(q.get()); q.taskDone(); } });
 * urls.forEach((u) => q.put(u));
 * q.join(); // every url handled
 * ```
 */
export class JoinableQueue<T = unknown> extends Queue<T> {
  #unfinished = 0;
  readonly #joiners = new Set<Waiter<boolean>>();

  /** How many items were put and not yet marked done. */
  get unfinishedTasks(): number {
    return this.#unfinished;
  }

  protected override _onPut(): void {
    this.#unfinished++;
  }

  /**
   * Marks one item as handled; when none is left, wakes `join()`.
   * @throws RangeError when called more often than items were put.
   */
  taskDone(): void {
    if (this.#unfinished <= 0) throw new RangeError('taskDone() called more times than there were items');
    if (--this.#unfinished === 0) {
      const joiners = [...this.#joiners];
      this.#joiners.clear();
      for (const w of joiners) w.switch(true);
    }
  }

  /**
   * Parks until every item put has been marked done, or `timeout` ms pass;
   * returns whether none is left.
   * @param timeout - ms (`0` only checks), or `{ timeout, signal }`. @default null (no limit)
   * @throws GreenletError on the hub if it would have to wait.
   * @throws AbortError when `signal` is or gets aborted.
   */
  join(timeout?: number | null | TimeoutOptions): boolean {
    const { ms, signal } = readTimeoutArg(timeout);
    if (this.#unfinished === 0) return true;
    if (ms === 0) return false;
    const w = new Waiter<boolean>('JoinableQueue.join()');
    this.#joiners.add(w);
    try {
      getWithSignal(w, ms, signal);
    } finally {
      this.#joiners.delete(w);
    }
    return this.#unfinished === 0;
  }
}

/**
 * A rendezvous between greenlets (gevent's `Channel`, a queue of size 0):
 * `put()` parks until a `get()` takes the item, and `get()` until a `put()`
 * brings one.
 * @example
 * ```ts
 * const ch = new Channel<number>();
 * spawn(() => { ch.put(1); console.log('taken'); });
 * spawn(() => console.log(ch.get())); // 1
 * ```
 */
export class Channel<T = unknown> extends Queue<T> {
  constructor() {
    super(0);
  }
}
