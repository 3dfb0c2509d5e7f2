/**
 * node-fibers' `Fiber`, built on greenloop's greenlet primitive. Loaded as
 * `greenloop/fibers` (whose whole export is {@link Fiber}, like
 * `require('fibers')`); see docs/fibers.md for migrating.
 *
 * A fiber is a function with its own stack. `run()` starts it, or resumes it
 * where it last called `Fiber.yield()`, and returns what it yields next (or
 * what it returns). Control always comes back to whoever called `run()`.
 * @example
 * ```js
 * const Fiber = require('greenloop/fibers');
 * const inc = Fiber((start) => {
 *   let total = start;
 *   for (;;) total += Fiber.yield(total);
 * });
 * inc.run(1); // 1
 * inc.run(2); // 3
 * ```
 * @module greenloop/fibers
 */
import { AsyncResource } from 'node:async_hooks';
import { asyncScopesFollowGreenlets } from '../async-stack.js';
import { Greenlet, GreenletExit, configure, coreStats, getcurrent, resumeThrowing } from '../greenlet.js';

/** The greenlet that runs one fiber; `Fiber.current` is found through it. */
class FiberGreenlet extends Greenlet {
  constructor(
    run: (value: unknown) => unknown,
    parent: Greenlet,
    readonly fiber: FiberObject,
    readonly state: FiberState,
  ) {
    super(run, parent);
  }
}

/**
 * The running fiber's state, or null outside a fiber. A helper so that no
 * frame parked in `Fiber.yield()` holds the fiber's greenlet: a fiber that
 * nothing else refers to can then be collected and unwound.
 */
function currentFiberState(): FiberState | null {
  const g = getcurrent();
  return g instanceof FiberGreenlet ? g.state : null;
}

/** Where the running fiber's yield goes: whoever last resumed it (see {@link currentFiberState}). */
function currentParent(): Greenlet {
  return getcurrent().parent!;
}

/** The bookkeeping of one fiber, shared by its Fiber object and the function running on its stack. */
class FiberState {
  /** From the first `run()` until the function returns or throws. */
  started = false;
  /** Parked in `Fiber.yield()` (so `run()`, `throwInto()` and `reset()` may resume it). */
  yielding = false;
  /** Inside a `run()` that waits for it: false while it is parked on greenloop's hub. */
  awaited = false;
  /** Set by `reset()`: every `Fiber.yield()` throws it until the fiber ends. */
  zombie: Error | null = null;

  constructor(readonly fn: (value?: any) => unknown) {}
}

let fibersStarted = 0;

/**
 * Runs the fiber's function with `value` inside `scope` and ends it. The
 * scope is the fiber's own async context: it was made where the fiber
 * started (so AsyncLocalStorage stores carry over), and it follows the fiber
 * across every switch (async-stack.ts), so the fiber sees the same context
 * whoever resumes it.
 */
function fiberBody(state: FiberState, scope: AsyncResource | null, value: unknown): unknown {
  try {
    return scope === null ? state.fn.call(globalThis, value) : scope.runInAsyncScope(state.fn, globalThis, value);
  } catch (error) {
    if (state.awaited || state.zombie !== null) throw error;
    // Unwound because nothing refers to the fiber any more: it simply ends.
    if (error instanceof GreenletExit) return undefined;
    // Resumed by greenloop's hub (the fiber waited in sleep() or green IO),
    // not by a run(): nobody is there to catch it, so it is the event loop's,
    // as it would be for an exception thrown from a run() in a callback.
    process.nextTick(rethrow, error);
    return undefined;
  } finally {
    state.started = false;
    state.yielding = false;
  }
}

/**
 * The greenlet's run function. Made out here: a closure made in a method
 * could share a context with one that captures the Fiber object, and the
 * fiber's own stack would then keep the fiber alive.
 */
function bodyOf(state: FiberState, scope: AsyncResource | null): (value: unknown) => unknown {
  return (value) => fiberBody(state, scope, value);
}

function rethrow(error: unknown): never {
  throw error;
}

function illegalInvocation(method: string, self: unknown): TypeError {
  const got =
    self === null
      ? 'null'
      : typeof self === 'object'
        ? `an instance of ${self.constructor?.name ?? 'Object'}`
        : typeof self;
  return new TypeError(`Illegal invocation: Fiber.prototype.${method} called on ${got}, not a Fiber`);
}

/**
 * One fiber (the instance type of {@link Fiber}).
 * @example
 * ```js
 * const Fiber = require('greenloop/fibers');
 * const fiber = Fiber((x) => Fiber.yield(x + 1) * 2);
 * console.log(fiber.run(1)); // 2
 * console.log(fiber.run(5)); // 10
 * ```
 */
export class FiberObject {
  readonly #state: FiberState;
  #greenlet: FiberGreenlet | null = null;

  /** @internal Use {@link Fiber}. */
  constructor(fn: (value?: any) => unknown) {
    this.#state = new FiberState(fn);
  }

  /**
   * Starts the fiber (calling its function with `value`), or resumes it
   * where it yielded (`Fiber.yield()` returns `value` there). Returns the
   * value passed to the fiber's next `Fiber.yield()`, or its function's
   * result; throws what escapes the function. A fiber that has returned can
   * be run again from the start. When the fiber waits inside greenloop's hub
   * (`sleep()`, green IO), a `run()` on the event loop's own stack returns
   * `undefined` meanwhile (as if it had yielded; the hub resumes it), and one
   * from a hub greenlet or another fiber waits until it yields or ends.
   * @throws Error "This Fiber is already running" when the fiber is running
   *   (it called this, or is between `run()` and `yield()`), or waits in the hub.
   * @throws TypeError for more than one argument, or a `this` that is not a Fiber.
   * @example
   * ```js
   * const f = Fiber((x) => Fiber.yield(x * 2) + 1);
   * f.run(5);  // 10
   * f.run(41); // 42
   * ```
   */
  run(value?: unknown): any {
    if (!FiberObject.isFiber(this)) throw illegalInvocation('run', this);
    if (arguments.length > 1) throw new TypeError(`run() expects 1 or no arguments, got ${arguments.length}`);
    const state = this.#state;
    if (state.started && !state.yielding) {
      throw new Error(
        state.awaited
          ? 'This Fiber is already running'
          : "This Fiber is already running (it waits inside greenloop's hub, e.g. in sleep() or green IO, and resumes by itself)",
      );
    }
    if (!state.started) return this.#start(value);
    return this.#resume(() => this.#greenlet!.switch(value));
  }

  /**
   * Throws `error` inside the fiber where it yielded, as if `Fiber.yield()`
   * had thrown it. Returns what the fiber yields next (or returns); an error
   * the fiber does not catch comes back out of this call.
   * @throws Error "This Fiber is not yielding" unless parked in `Fiber.yield()`.
   * @throws TypeError for more than one argument or a foreign `this`.
   * @example
   * ```js
   * const f = Fiber(() => { try { Fiber.yield(); } catch (e) { return 'caught ' + e.message; } });
   * f.run();
   * f.throwInto(new Error('stop')); // 'caught stop'
   * ```
   */
  throwInto(error?: unknown): any {
    if (!FiberObject.isFiber(this)) throw illegalInvocation('throwInto', this);
    if (arguments.length > 1) throw new TypeError(`throwInto() expects 1 or no arguments, got ${arguments.length}`);
    if (!this.#state.yielding) throw new Error('This Fiber is not yielding');
    return this.#resume(() => this.#greenlet!.throw(error));
  }

  /**
   * Unwinds a started fiber: its pending `Fiber.yield()`, and every later
   * one, throws `Error('This Fiber is a zombie')` until its function ends, so
   * `finally` blocks run. Returns the function's result; an error other than
   * the zombie error that escapes it is thrown from here. Does nothing (and
   * returns `undefined`) for a fiber that has not started or has returned.
   * @throws Error "This Fiber is not yielding" for a fiber that is running.
   * @throws TypeError for arguments or a foreign `this`.
   * @example
   * ```js
   * const f = Fiber(() => { try { Fiber.yield(); } finally { console.log('cleaned up'); } });
   * f.run();
   * f.reset(); // prints 'cleaned up'
   * ```
   */
  reset(): any {
    if (!FiberObject.isFiber(this)) throw illegalInvocation('reset', this);
    if (arguments.length > 0) throw new TypeError('reset() expects no arguments');
    const state = this.#state;
    if (!state.started) return undefined;
    if (!state.yielding) throw new Error('This Fiber is not yielding');
    const zombie = new Error('This Fiber is a zombie');
    state.zombie = zombie;
    try {
      let result: unknown;
      // A fiber that catches the error and waits elsewhere (the hub) is thrown
      // into again, where it waits: reset() ends it now, as node-fibers did,
      // so this is the one throw into a hub-parked greenlet the hub allows.
      while (state.started) {
        try {
          result = this.#resume(() => resumeThrowing(this.#greenlet!, zombie));
        } catch (error) {
          if (error !== zombie) throw error;
          result = undefined;
        }
      }
      return result;
    } finally {
      state.zombie = null;
    }
  }

  /**
   * True from the first `run()` until the fiber's function returns or throws
   * (`undefined` when read on something that is not a Fiber, as in node-fibers).
   */
  get started(): boolean {
    // node-fibers answered undefined for a foreign `this` instead of throwing.
    if (!FiberObject.isFiber(this)) return undefined as unknown as boolean;
    return this.#state.started;
  }

  #start(value: unknown): unknown {
    const state = this.#state;
    fibersStarted++;
    // Where scopes cannot follow a greenlet, a scope of its own would make every yield fail.
    const scope = asyncScopesFollowGreenlets() ? new AsyncResource('Fiber') : null;
    this.#greenlet = new FiberGreenlet(bodyOf(state, scope), getcurrent(), this, state);
    state.started = true;
    return this.#resume(() => this.#greenlet!.switch(value));
  }

  /** Runs `enter` (a switch into the fiber) from the caller of run(), which gets control back when it yields or ends. */
  #resume(enter: () => unknown): unknown {
    const state = this.#state;
    const greenlet = this.#greenlet!;
    greenlet.parent = getcurrent();
    state.yielding = false;
    state.awaited = true;
    try {
      return enter();
    } finally {
      state.awaited = false;
      if (greenlet.dead) {
        state.started = false;
        state.yielding = false;
        if (this.#greenlet === greenlet) this.#greenlet = null;
      }
    }
  }

  /** @internal Whether `value` is a real fiber (not just an object inheriting from the prototype). */
  static isFiber(value: unknown): value is FiberObject {
    return typeof value === 'object' && value !== null && #state in value;
  }
}

/** Fiber.yield() for the running fiber (`state`); holds nothing that refers to the fiber itself. */
function yieldFiber(state: FiberState, value: unknown): unknown {
  if (state.zombie !== null) throw state.zombie;
  const parent = currentParent();
  state.yielding = true;
  try {
    return parent.switch(value);
  } finally {
    state.yielding = false;
  }
}

/** The type of {@link Fiber}: callable with or without `new`, with node-fibers' statics. */
export interface FiberConstructor {
  /** A new fiber that will run `fn` (not started yet). */
  (fn: (value?: any) => unknown): FiberObject;
  /** A new fiber that will run `fn` (not started yet). */
  new (fn: (value?: any) => unknown): FiberObject;
  readonly prototype: FiberObject;
  /**
   * Parks the running fiber and makes its `run()` return `value`; returns
   * what the next `run(value)` passes in (or throws what `throwInto()` does).
   * @throws Error "yield() called with no fiber running" outside a fiber.
   */
  yield(value?: unknown): any;
  /** The running fiber, or `undefined` outside any fiber. */
  readonly current: FiberObject | undefined;
  /**
   * How many finished fibers' threads are kept for reuse (greenloop's
   * `configure({ poolSize })`, shared by every greenlet of this thread).
   */
  poolSize: number;
  /** How many fibers have been started in this thread (each `run()` that starts one). */
  readonly fibersCreated: number;
}

/**
 * Makes a fiber that will run `fn`; `Fiber(fn)` and `new Fiber(fn)` are the
 * same. Nothing runs until {@link FiberObject.run}.
 * @throws TypeError unless given exactly one function.
 * @example
 * ```js
 * const Fiber = require('greenloop/fibers');
 * function sleep(ms) {
 *   const fiber = Fiber.current;
 *   setTimeout(() => fiber.run(), ms);
 *   Fiber.yield();
 * }
 * Fiber(() => {
 *   console.log('wait...');
 *   sleep(1000);
 *   console.log('ok');
 * }).run();
 * console.log('back in main');
 * ```
 */
export const Fiber: FiberConstructor = function Fiber(this: unknown, fn: (value?: any) => unknown): FiberObject {
  if (arguments.length !== 1) throw new TypeError(`Fiber expects 1 argument, got ${arguments.length}`);
  if (typeof fn !== 'function')
    throw new TypeError(`Fiber expects a function, got ${fn === null ? 'null' : typeof fn}`);
  return new FiberObject(fn);
} as unknown as FiberConstructor;

Object.defineProperty(Fiber, 'prototype', { value: FiberObject.prototype, writable: false });
Object.defineProperty(FiberObject.prototype, 'constructor', { value: Fiber, writable: true, configurable: true });
Object.defineProperties(Fiber, {
  yield: {
    value: function (value?: unknown): unknown {
      const state = currentFiberState();
      if (state === null) throw new Error('yield() called with no fiber running');
      if (arguments.length > 1) throw new TypeError(`yield() expects 1 or no arguments, got ${arguments.length}`);
      return yieldFiber(state, value);
    },
    writable: true,
    configurable: true,
  },
  current: {
    get: (): FiberObject | undefined => {
      const g = getcurrent();
      return g instanceof FiberGreenlet ? g.fiber : undefined;
    },
    configurable: true,
  },
  poolSize: {
    get: (): number => coreStats().poolSize,
    set: (n: number) => configure({ poolSize: n }),
    configurable: true,
  },
  fibersCreated: {
    get: (): number => fibersStarted,
    configurable: true,
  },
});
