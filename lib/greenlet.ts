/**
 * The greenlet primitive, with python-greenlet's semantics.
 *
 * A greenlet is a function running on its own stack. `switch()` moves control
 * to another greenlet and parks the current one where it stands; switching
 * back resumes it there. Every thread (the main thread and each Worker) has a
 * root greenlet, which is where the event loop runs.
 *
 * @example
 * ```ts
 * import { Greenlet, getcurrent } from 'greenloop/greenlet';
 *
 * const root = getcurrent();
 * const g = new Greenlet((a: number) => {
 *   const b = root.switch(a + 1) as number; // park g, hand a + 1 to root
 *   return a + b;                           // finished: the value goes to the parent
 * });
 * console.log(g.switch(1));  // 2
 * console.log(g.switch(10)); // 11
 * console.log(g.dead);       // true
 * ```
 * @module greenloop/greenlet
 */
import {
  asyncMark,
  leaveScopes,
  prepareAsyncStack,
  reenterScopes,
  type AsyncMark,
  type SavedScopes,
} from './async-stack.js';
import { describeValue as describe, GreenletError, GreenletExit } from './errors.js';
import { installNodeCompat } from './node-compat.js';
import { native, type NativeHandle } from './native.js';

export { GreenletError, GreenletExit } from './errors.js';

/** The function a greenlet runs; its arguments come from the first `switch()`. */
export type RunFunction = (...args: any[]) => unknown;

/** Called on every switch: `event` is `'switch'` or `'throw'`. See {@link settrace}. */
export type TraceFunction = (event: 'switch' | 'throw', origin: Greenlet, target: Greenlet) => void;

/** Options of {@link Greenlet}'s constructor. */
export interface GreenletOptions {
  /**
   * Bytes of stack for JS code in this greenlet (recursion past it throws
   * `RangeError`). Memory is committed only as the stack grows.
   * @default the value set with {@link configure}, initially 984 KiB (V8's own default)
   */
  stackSize?: number;
}

/** Settings of the native core; see {@link configure}. */
export interface CoreOptions {
  /**
   * How control moves between greenlets: `'user-space'` switches stacks and
   * thread identity on the isolate's own thread (x86-64 Linux with FSGSBASE);
   * `'threads'` runs each greenlet on its own thread and hands over with a
   * futex. Can change only before the first greenlet starts.
   * @default `'user-space'` where available, else `'threads'`; the environment
   * variable `GREENLOOP_SWITCH=threads` selects `'threads'`.
   */
  backend?: 'user-space' | 'threads';
  /** Default stack size of new greenlets, in bytes (at least 65536). */
  stackSize?: number;
  /**
   * How many idle threads of finished greenlets are kept for reuse. The rest
   * of a burst's threads are ended by a background thread (started at the
   * first such burst), not on the event loop's thread (user-space backend;
   * see {@link CoreStats.threadsEndedOnLoop}).
   * @default 256
   */
  poolSize?: number;
  /**
   * A reserve of owner threads for bursts of new greenlets, beyond
   * {@link CoreOptions.poolSize}: a background thread makes them ahead of
   * demand, greenlets that start when the pool is empty take them instead of
   * creating a thread on the event loop's thread, and when the burst ends its
   * threads come back as spares (the pool's surplus beyond the reserve is
   * ended on that background thread, as it is without spares). A spare a
   * running greenlet holds is not replaced until it comes back, so a burst
   * within `poolSize + spareThreads` makes no thread at all. Each ready spare is a sleeping thread (about
   * 30 KiB of memory). See also {@link prewarm}.
   * @default 0 (threads are made on demand, on the event loop's thread, in batches)
   */
  spareThreads?: number;
}

/** What the native core reports about this thread's greenlets; see {@link coreStats}. */
export interface CoreStats {
  /** The backend in use (see {@link CoreOptions.backend}). */
  backend: 'user-space' | 'threads';
  /** Switches made so far, counting a finished greenlet's return to its parent. */
  switches: number;
  /** Greenlets started and not yet finished (each holds an owner thread). */
  live: number;
  /** Owner threads of finished greenlets waiting in the pool for reuse. */
  idleThreads: number;
  /** Owner threads made ahead of demand and ready (see {@link CoreOptions.spareThreads} and {@link prewarm}). */
  spareThreads: number;
  /** Owner threads created so far (in batches: some may be spares). */
  threadsCreated: number;
  /**
   * Surplus owner threads (beyond {@link CoreStats.poolSize}) that the event
   * loop's thread ended itself, 20-30 µs of its time each. Under the
   * user-space backend a background thread of the core ends them, and this
   * stays 0 unless that thread cannot be started or is 16,384 behind; the
   * threads backend ends them on the loop unless `spareThreads` or
   * {@link prewarm} started that thread.
   */
  threadsEndedOnLoop: number;
  /** The most idle threads the pool keeps (see {@link CoreOptions.poolSize}). */
  poolSize: number;
}

interface Transfer {
  throws: boolean;
  value: unknown;
  /** Set for the switch that starts a greenlet: the arguments of `run`. */
  args?: unknown[];
  /** Set by {@link runOnRoot}: the root runs it and switches back to `caller`. */
  call?: () => unknown;
  caller?: GreenletState;
}

/**
 * The JS-side state of a greenlet. It is what a greenlet's own stack refers to,
 * never the public {@link Greenlet} object, so that an unreachable parked
 * greenlet can be collected and unwound.
 */
class GreenletState {
  handle: NativeHandle | null = null;
  run: RunFunction | null;
  /**
   * The public object, held strongly until the greenlet first parks (and
   * forever for the root); from then on only weakly, through `ref`, so that
   * dropping every reference to a parked greenlet lets it be unwound.
   */
  self: Greenlet | null = null;
  ref: WeakRef<Greenlet> | null = null;
  isRoot = false;
  parent: Greenlet | null;
  /**
   * Where this greenlet's end goes instead of its parent, set by the hub just
   * before a greenlet it runs returns (see {@link handOffDeath}). Read once at
   * death and cleared, so no finished greenlet keeps another one alive.
   */
  deathTarget: GreenletState | null = null;
  started = false;
  dead = false;
  stackSize: number | undefined;
  /**
   * Where its own async scopes begin on Node's one async-hooks stack per
   * thread, taken when it last got control: the scopes it pushes above it
   * are popped when it switches away and pushed back when it resumes
   * (async-stack.ts).
   */
  asyncMark: AsyncMark | undefined = undefined;

  constructor(run: RunFunction | null, parent: Greenlet | null, stackSize: number | undefined) {
    this.run = run;
    this.parent = parent;
    this.stackSize = stackSize;
  }
}

let stateOf: (g: Greenlet) => GreenletState;
let isGreenlet: (value: unknown) => boolean;
let publicOf: (state: GreenletState) => Greenlet;
let tracer: TraceFunction | null = null;
/** greenloop/debug's switch counters (trackTime), beside the tracer; see {@link setSwitchObserver}. */
let switchObserver: TraceFunction | null = null;
let defaultStackSize: number | undefined;
/** What the switch in progress carries to its target. */
let pending: Transfer | undefined;
/** The hub's check of switch()/throw() calls made by user code; see {@link setSwitchCheck}. */
let switchCheck: ((target: Greenlet, operation: 'switch' | 'throw') => void) | null = null;

function liveAncestor(state: GreenletState): GreenletState {
  let s = state;
  while (s.dead) s = stateOf(s.parent!); // the root is never dead
  return s;
}

function deliver(t: Transfer): unknown {
  if (t.throws) throw t.value;
  return t.value;
}

function trace(event: 'switch' | 'throw', origin: GreenletState, target: GreenletState): void {
  if (switchObserver) switchObserver(event, publicOf(origin), publicOf(target));
  if (tracer) tracer(event, publicOf(origin), publicOf(target));
}

/** How a greenlet's end reads to its parent: an escaping GreenletExit is a value. */
function outcomeOf(error: unknown): Transfer {
  return error instanceof GreenletExit ? { throws: false, value: error } : { throws: true, value: error };
}

/**
 * Where the outcome of a greenlet that has ended goes: to its nearest live
 * ancestor. An ancestor that has not started is started by a value (it becomes
 * `run`'s argument) and killed by an error, which passes on up.
 */
function routeOutcome(
  ended: GreenletState,
  outcome: Transfer,
  deathTarget: GreenletState | null = null,
): [GreenletState, Transfer] {
  let target = deathTarget !== null && deathTarget.started && !deathTarget.dead ? deathTarget : liveAncestor(ended);
  while (!target.started) {
    if (!outcome.throws) return [target, { throws: false, value: undefined, args: [outcome.value] }];
    target.started = true;
    target.dead = true;
    target.run = null;
    target = liveAncestor(target);
  }
  return [target, outcome];
}

/** What {@link depart} returns for a switch to the greenlet that is running. */
const NO_SWITCH: unique symbol = Symbol('greenloop.noSwitch');

/*
 * A switch is split so that the function that calls native.switchTo stays
 * small: that frame (and every frame under it) sits on the parked greenlet's
 * stack, and every scavenge walks every parked stack frame by frame. So the
 * hot entry points (Greenlet#switch, resume) each make the native call
 * themselves, between depart() and arrive(), which are not on the stack while
 * the greenlet is parked:
 *
 *   const origin = current;
 *   const scopes = depart(origin, target, t, event);
 *   if (scopes === NO_SWITCH) return deliver(t);
 *   try {
 *     native.switchTo(target.handle!);
 *   } catch (error) {
 *     if (current === origin) arrivals.count++;
 *     throw switchFailed(origin, scopes, error);
 *   }
 *   arrivals.count++;
 *   return arrive(origin, scopes);
 *
 * arrivals.count is counted before any call, so that a stack overflow at the
 * very edge of the stack cannot make a switch that moved control look like
 * one that did not.
 */

/**
 * Everything a switch from `origin` to `target` carrying `t` does before
 * control leaves: traces it as `event` (unless null), takes `origin`'s async
 * scopes (returned) and marks `target` current. Returns {@link NO_SWITCH},
 * having changed nothing but the trace, when `target` is `origin`.
 */
function depart(
  origin: GreenletState,
  target: GreenletState,
  t: Transfer,
  event: 'switch' | 'throw' | null,
  targetFace: Greenlet | null = null,
): SavedScopes | null | typeof NO_SWITCH {
  if (origin.isRoot) prepareAsyncStack();
  if (event !== null) trace(event, origin, target);
  if (target === origin) return NO_SWITCH;
  const scopes = origin.isRoot ? null : leaveScopes(origin.asyncMark!);
  if (target.handle === null) target.handle = createHandle(target);
  if (origin.self !== null && !origin.isRoot) holdWeakly(origin, origin.self);
  pending = t;
  setCurrent(target, targetFace);
  return scopes;
}

/**
 * Called with what native.switchTo threw into `origin`: either the switch
 * itself failed (e.g. no thread could be created) and nothing ran, or control
 * came back with an error for it. Returns `error`, to be thrown.
 */
function switchFailed(origin: GreenletState, scopes: SavedScopes | null, error: unknown): unknown {
  if (current !== origin) {
    setCurrent(origin);
    pending = undefined;
  }
  reenterScopes(scopes);
  return error;
}

/** The rest of a switch once control is back in `origin` (arrivals.count already counts it). */
function arrive(origin: GreenletState, scopes: SavedScopes | null): unknown {
  let back = pending!;
  // Only the root is asked to run calls (runOnRoot): run each on its own
  // identity and hand the outcome back to the greenlet that asked.
  while (back.call !== undefined) {
    const caller = back.caller!;
    let outcome: Transfer;
    try {
      outcome = { throws: false, value: back.call() };
    } catch (error) {
      outcome = { throws: true, value: error };
    }
    pending = outcome;
    setCurrent(caller);
    native.switchTo(caller.handle!);
    arrivals.count++;
    back = pending!;
  }
  origin.asyncMark = asyncMark();
  reenterScopes(scopes);
  pending = undefined;
  return deliver(back);
}

/** Moves control to `target` carrying `t`, tracing it as `event` (unless null). */
function transferTo(target: GreenletState, t: Transfer, event: 'switch' | 'throw' | null): unknown {
  const origin = current;
  const scopes = depart(origin, target, t, event);
  if (scopes === NO_SWITCH) return deliver(t);
  try {
    native.switchTo(target.handle!);
  } catch (error) {
    if (current === origin) arrivals.count++; // control came back, with an error for `origin`
    throw switchFailed(origin, scopes, error);
  }
  arrivals.count++;
  return arrive(origin, scopes);
}

/**
 * Runs `fn` on the root greenlet's stack and thread identity and returns its
 * result (or throws its error), from any greenlet. For native code that keeps
 * per-thread state and assumes one thread per Node environment (see
 * node-compat.ts). `fn` must not switch. Not traced.
 * @internal
 */
export function runOnRoot<T>(fn: () => T): T {
  if (current.isRoot) return fn();
  const caller = current;
  pending = { throws: false, value: undefined, call: fn, caller };
  setCurrent(rootState);
  native.switchTo(rootState.handle!);
  arrivals.count++;
  const back = pending!;
  pending = undefined;
  return deliver(back) as T;
}

/**
 * `count`: how many times control has arrived in a greenlet of this thread by
 * a switch (a resume, a start, or the return to the parent of one that ended).
 * A `switch()` that throws without having changed it moved no control at all:
 * its target did not run (a stack overflow before the switch, a thread that
 * could not be created, a tracer that threw). A property, not a function, so
 * that reading it needs no stack at the stack's very edge.
 * @internal
 */
export const arrivals = { count: 0 };

/**
 * Installs greenloop/debug's switch observer (trackTime's counters): called
 * like the tracer, just before it, but independent of {@link settrace}, so a
 * tracer set before or after does not replace it. It must not throw.
 * @internal
 */
export function setSwitchObserver(fn: TraceFunction | null): void {
  switchObserver = fn;
}

/**
 * Installs the hub's check of `switch()`/`throw()` calls (it refuses those
 * into a greenlet the hub owns at that point). The hub itself switches with
 * {@link resume} and {@link resumeThrowing}, which skip it.
 * @internal
 */
export function setSwitchCheck(check: ((target: Greenlet, operation: 'switch' | 'throw') => void) | null): void {
  switchCheck = check;
}

/** `g.switch(value)` without the hub's check: how the hub resumes greenlets. @internal */
export function resume(g: Greenlet, value?: unknown): unknown {
  const own = stateOf(g);
  const target = liveAncestor(own);
  const t: Transfer = target.started ? { throws: false, value } : { throws: false, value: undefined, args: [] };
  // transferTo(target, t, 'switch') without its frame: see depart().
  const origin = current;
  const scopes = depart(origin, target, t, 'switch', target === own ? g : null);
  if (scopes === NO_SWITCH) return deliver(t);
  try {
    native.switchTo(target.handle!);
  } catch (error) {
    if (current === origin) arrivals.count++; // control came back, with an error for `origin`
    throw switchFailed(origin, scopes, error);
  }
  arrivals.count++;
  return arrive(origin, scopes);
}

/**
 * Gives the kernel back the pages of parked `g`'s stack below its park point
 * (they read as zeros if it goes that deep again) and returns their bytes:
 * what a greenlet touched while deep in calls stays resident otherwise, for as
 * long as it lives. 0 under the threads backend, and for a greenlet that is
 * running, not started or finished. @internal
 */
export function releaseParkedStack(g: Greenlet): number {
  const handle = stateOf(g).handle;
  return handle === null ? 0 : native.releaseStack(handle);
}

/** Raises `error` in the started, live greenlet `g` where it stands, without the hub's check. @internal */
export function resumeThrowing(g: Greenlet, error: unknown): unknown {
  return transferTo(stateOf(g), { throws: true, value: error }, 'throw');
}

/**
 * Makes the end of `g` (its `run` returning or throwing) go to `target`
 * instead of its parent, if `target` is started and alive by then; `null`
 * undoes it. The link is dropped when `g` ends, so it keeps nothing alive.
 * The hub uses it to hand a dying greenlet's control straight to the next
 * ready one without changing its `parent`.
 * @internal
 */
export function setDeathTarget(g: Greenlet, target: Greenlet | null): void {
  stateOf(g).deathTarget = target === null ? null : stateOf(target);
}

/** From its first park on, a greenlet's state refers to its public object weakly. */
function holdWeakly(state: GreenletState, self: Greenlet): void {
  state.ref = new WeakRef(self);
  state.self = null;
  unreachable.register(self, state, state);
}

function createHandle(state: GreenletState): NativeHandle {
  const handle = native.create(state.stackSize ?? defaultStackSize);
  handle.state = state;
  return handle;
}

/** No arguments: one frozen array for every call that has none. @internal */
export const NO_ARGS: readonly unknown[] = Object.freeze([]);
/** The arguments of `run` for the greenlet that {@link begin} is starting, read once by {@link entry}. */
let startArgs: readonly unknown[] = NO_ARGS;

/**
 * The first frame of every greenlet: the native core calls it on the new stack
 * and switches to the greenlet it returns once it returns.
 *
 * Its frame stays on the greenlet's stack for the greenlet's whole life, under
 * every frame of every park, so it does only the call of `run`: each byte
 * of it decides whether deeper park points still fit in two stack pages,
 * and every scavenge visits its slots (see "What a parked greenlet costs" in
 * docs/greenlet.md). What comes before and after the call is in
 * {@link begin} and {@link end}, which are not on the stack while it runs.
 */
function entry(handle: NativeHandle): NativeHandle {
  arrivals.count++;
  let outcome: Transfer;
  try {
    const run = begin(handle.state as GreenletState);
    const args = startArgs;
    startArgs = NO_ARGS;
    outcome = { throws: false, value: run(...args) };
  } catch (error) {
    outcome = outcomeOf(error);
  }
  return end(handle.state as GreenletState, outcome);
}

/** Takes the start's transfer for `state`; returns the function to run (its arguments in {@link startArgs}). */
function begin(state: GreenletState): RunFunction {
  const start = pending!;
  pending = undefined;
  state.started = true;
  state.asyncMark = asyncMark();
  let run = state.run;
  state.run = null;
  if (run === null) {
    const self = publicOf(state) as Greenlet & { run?: RunFunction };
    if (typeof self.run !== 'function') throw new GreenletError('greenlet has no run function');
    run = self.run.bind(self);
  }
  startArgs = start.args ?? NO_ARGS;
  return run;
}

/** Everything after `run` of `state` ended with `result`: routes it on; returns the handle to switch to. */
function end(state: GreenletState, result: Transfer): NativeHandle {
  state.dead = true;
  try {
    leaveScopes(state.asyncMark!); // scopes left unbalanced (only by a terminated run) go with it
  } catch {
    // The fallback cannot take them; nothing better to do than carry on.
  }
  // From here on nothing outside this greenlet's object may hold its state: a
  // registered state is a strong root, and its links would chain finished
  // greenlets together (each kept alive by the one that died before it).
  unreachable.unregister(state);
  const deathTarget = state.deathTarget;
  state.deathTarget = null;
  let [target, outcome] = routeOutcome(state, result, deathTarget);
  try {
    trace('switch', state, target);
  } catch (error) {
    // A dying greenlet's switch cannot be aborted. As python-greenlet does
    // with every tracer error, the switch becomes a throw: the greenlet that
    // gets control gets the tracer's error in place of the outcome (an
    // unstarted one is killed by it, which passes it on up).
    [target, outcome] = routeOutcome(state, { throws: true, value: error }, deathTarget);
  }
  if (target.handle === null) target.handle = createHandle(target);
  pending = outcome;
  setCurrent(target);
  return target.handle;
}

const unreachable = new FinalizationRegistry<GreenletState>((state) => {
  if (!state.started || state.dead || native === undefined) return;
  // As python-greenlet does: unwind it with GreenletExit so that its finally
  // blocks run, returning here when it ends.
  state.deathTarget = current;
  try {
    transferTo(state, { throws: true, value: new GreenletExit('greenlet was garbage collected') }, 'throw');
  } catch (error) {
    process.emitWarning(
      `an unreachable greenlet raised while it was being unwound: ${(error as Error)?.stack ?? error}`,
      { code: 'GREENLOOP_UNWIND_ERROR' },
    );
  }
});

/**
 * A greenlet: a function running on its own stack, started by the first
 * {@link Greenlet.switch} and parked by every switch away from it.
 *
 * A subclass may define a `run` method instead of passing `run`. A parked
 * greenlet that nothing refers to any more is unwound with
 * {@link GreenletExit} (its `finally` blocks run); its own stack referring to
 * its `Greenlet` object (e.g. a subclass's `run`, or `getcurrent()` kept in a
 * variable) keeps it alive.
 * @example
 * ```js
 * const { Greenlet, getcurrent } = require('greenloop/greenlet');
 * const root = getcurrent();
 * const g = new Greenlet((a) => root.switch(a * 2) + 1);
 * console.log(g.switch(5));  // 10
 * console.log(g.switch(20)); // 21 (g finished)
 * ```
 */
export class Greenlet {
  readonly #state: GreenletState;

  /**
   * @param run - called with the first `switch()`'s arguments; its return
   *   value goes to the parent.
   * @param parent - where control goes when `run` ends.
   *   Default: the current greenlet.
   * @param options - see {@link GreenletOptions}.
   */
  constructor(run?: RunFunction | null, parent?: Greenlet | null, options?: GreenletOptions) {
    if (run != null && typeof run !== 'function') {
      throw new TypeError(`run must be a function, got ${typeof run}`);
    }
    if (parent != null) checkGreenlet('parent', parent);
    const adopted = Greenlet.#adopting;
    Greenlet.#adopting = null;
    const stackSize = options?.stackSize;
    if (stackSize !== undefined) checkStackSize(stackSize);
    const state = adopted ?? new GreenletState(run ?? null, parent ?? getcurrent(), stackSize);
    this.#state = state;
    if (adopted !== null && !adopted.isRoot) holdWeakly(adopted, this);
    else state.self = this;
  }

  /** Set while {@link Greenlet.#face} builds an object for an existing state. */
  static #adopting: GreenletState | null = null;

  /** Whether `value` is a Greenlet made by this class (not a Proxy of one, nor an object inheriting from it). */
  static #isGreenlet(value: unknown): boolean {
    return typeof value === 'object' && value !== null && #state in value;
  }

  static {
    isGreenlet = (value) => Greenlet.#isGreenlet(value);
    stateOf = (g) => {
      if (!Greenlet.#isGreenlet(g)) throw new TypeError(`expected a Greenlet, got ${describeNonGreenlet(g)}`);
      return g.#state;
    };
    publicOf = (state) => state.self ?? state.ref?.deref() ?? Greenlet.#face(state);
  }

  /**
   * A public object for an existing state: the root's, or one collected while
   * parked and now being unwound (python-greenlet resurrects it likewise).
   */
  static #face(state: GreenletState): Greenlet {
    Greenlet.#adopting = state;
    return new Greenlet();
  }

  /**
   * Switches to this greenlet. The first switch calls `run(...args)`; later
   * ones deliver `args[0]` as the return value of the `switch()` that parked
   * it. Returns whatever the next switch back to the caller carries.
   * Switching to a dead greenlet goes to its nearest live ancestor.
   * @throws GreenletError when the target is parked in the hub (only the hub
   *   resumes it: interrupt it with `kill()` or a `Timeout`) or is a
   *   gevent-level greenlet that has not started (use `start()`); nothing
   *   switches then. Also when its thread cannot be created (`errno` set).
   * @throws whatever is thrown into the caller while it is parked, including
   *   an error that escapes a child greenlet's `run`.
   */
  switch(...args: unknown[]): unknown {
    if (switchCheck !== null) switchCheck(this, 'switch');
    const own = stateOf(this);
    const target = liveAncestor(own);
    const t: Transfer = target.started ? { throws: false, value: args[0] } : { throws: false, value: undefined, args };
    // transferTo(target, t, 'switch') without its frame: see depart().
    const origin = current;
    const scopes = depart(origin, target, t, 'switch', target === own ? this : null);
    if (scopes === NO_SWITCH) return deliver(t);
    try {
      native.switchTo(target.handle!);
    } catch (error) {
      if (current === origin) arrivals.count++; // control came back, with an error for `origin`
      throw switchFailed(origin, scopes, error);
    }
    arrivals.count++;
    return arrive(origin, scopes);
  }

  /**
   * Raises `error` in this greenlet where it is parked. An uncaught
   * {@link GreenletExit} is returned to the parent as a value. A greenlet
   * that has not started is killed without running `run`; one that is dead
   * stays dead. Either way `error` then reaches the nearest live ancestor as
   * if the greenlet had ended with it (a `GreenletExit` as a value).
   * @param error - default: a new {@link GreenletExit}.
   * @throws GreenletError into a greenlet parked in the hub, or a gevent-level
   *   greenlet that has not started, as {@link Greenlet.switch}.
   */
  throw(error: unknown = new GreenletExit()): unknown {
    if (switchCheck !== null) switchCheck(this, 'throw');
    const self = stateOf(this);
    if (self.started && !self.dead) return transferTo(self, { throws: true, value: error }, 'throw');
    // Unstarted or dead: it ends with `error` where it stands, without running.
    trace('throw', current, self);
    self.started = true;
    self.dead = true;
    self.run = null;
    const [target, outcome] = routeOutcome(self, outcomeOf(error));
    trace('switch', self, target);
    return transferTo(target, outcome, null);
  }

  /** Where control goes when this greenlet ends. Setting a cycle throws {@link GreenletError}. */
  get parent(): Greenlet | null {
    return this.#state.parent;
  }

  set parent(parent: Greenlet | null) {
    checkGreenlet('parent', parent);
    if (this.#state.isRoot) throw new GreenletError('the root greenlet cannot have a parent');
    for (let p: Greenlet | null = parent; p !== null; p = stateOf(p).parent) {
      if (stateOf(p) === this.#state) throw new GreenletError('cyclic parent chain');
    }
    this.#state.parent = parent;
  }

  /** True once `run` has returned or thrown (or `throw()` killed it unstarted). */
  get dead(): boolean {
    return this.#state.dead;
  }

  /** True once the greenlet has been switched to (or killed). */
  get started(): boolean {
    return this.#state.started;
  }

  /** Started and not dead (python-greenlet's `bool(g)`). */
  get active(): boolean {
    return this.#state.started && !this.#state.dead;
  }

  /** True for the thread's root greenlet. */
  get isRoot(): boolean {
    return this.#state.isRoot;
  }
}

/** Says what a value that is not a real Greenlet is, naming the look-alikes that instanceof lets through. */
function describeNonGreenlet(value: unknown): string {
  if (value instanceof Greenlet) {
    return `${describe(value)} that is not one (a Proxy of a Greenlet, or an object made from Greenlet.prototype)`;
  }
  return describe(value);
}

function checkGreenlet(name: string, value: unknown): asserts value is Greenlet {
  if (!isGreenlet(value)) throw new TypeError(`${name} must be a Greenlet, got ${describeNonGreenlet(value)}`);
}

function checkStackSize(n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isFinite(n) || n < 65536) {
    throw new TypeError(`stackSize must be a number of bytes from 65536 up, got ${describe(n)}`);
  }
}

// The root greenlet: this thread's original stack, where the event loop runs.
const init = native.init(entry, GreenletError as unknown as new (message: string) => Error);
const rootState = new GreenletState(null, null, undefined);
rootState.started = true;
rootState.handle = init.root;
init.root.state = rootState;
let current: GreenletState = rootState;
/**
 * getcurrent()'s answer for `current`: the object a switch was made through
 * when the switcher had it, else found when first asked. Handing it over saves
 * a `WeakRef.deref()` per switch, and with it an entry in V8's set of objects
 * kept alive until the current job ends (which a long batch of switches grows).
 */
let currentFace: Greenlet | null = null;

function setCurrent(state: GreenletState, face: Greenlet | null = null): void {
  current = state;
  currentFace = face;
}
rootState.isRoot = true;
publicOf(rootState);

if (process.env.GREENLOOP_SWITCH) {
  const wanted = process.env.GREENLOOP_SWITCH === 'thread' ? 'threads' : process.env.GREENLOOP_SWITCH;
  native.setBackend(wanted);
}

/**
 * The greenlet that is running now (the root greenlet outside any other).
 * @example
 * ```ts
 * const root = getcurrent();
 * new Greenlet(() => getcurrent() !== root).switch(); // true
 * ```
 */
export function getcurrent(): Greenlet {
  // Cached: each WeakRef.deref() keeps its target alive until the end of the
  // current job, and a long batch of switches would pile them up.
  return (currentFace ??= publicOf(current));
}

/**
 * Installs `fn` to be called before every switch (`'switch'`) and every
 * `throw()` (`'throw'`) with the origin and target greenlets, or removes the
 * tracer with `null`. A tracer that throws aborts that switch: the error comes
 * out of the `switch()`/`throw()` call. The last switch of a greenlet that
 * has finished cannot be aborted: as in python-greenlet, the tracer's error
 * is then thrown in the greenlet that gets control (out of its pending
 * `switch()`), in place of the finished greenlet's outcome. Returns the
 * previous tracer.
 * @throws TypeError unless `fn` is a function or `null`.
 * @example
 * ```js
 * const { settrace } = require('greenloop/greenlet');
 * const previous = settrace((event, origin, target) => console.log(event, origin.isRoot, target.isRoot));
 * // ... switches are traced ...
 * settrace(previous);
 * ```
 */
export function settrace(fn: TraceFunction | null): TraceFunction | null {
  if (fn !== null && typeof fn !== 'function') {
    throw new TypeError(`settrace expects a function or null, got ${describe(fn)}`);
  }
  const previous = tracer;
  tracer = fn;
  return previous;
}

/**
 * The tracer installed with {@link settrace}, or `null`.
 * @example
 * ```js
 * const { settrace, gettrace } = require('greenloop/greenlet');
 * const tracer = () => {};
 * settrace(tracer);
 * console.log(gettrace() === tracer); // true
 * settrace(null);
 * ```
 */
export function gettrace(): TraceFunction | null {
  return tracer;
}

/**
 * Changes settings of this thread's native core; see {@link CoreOptions}.
 * @throws TypeError unless `options` is an object, or for a bad `stackSize` or `poolSize`.
 * @throws GreenletError when the backend is changed after a greenlet started,
 *   or `'user-space'` is not available on this machine.
 * @example
 * ```js
 * const { configure } = require('greenloop');
 * configure({ stackSize: 256 * 1024, poolSize: 32 }); // before starting many greenlets
 * ```
 */
export function configure(options: CoreOptions): void {
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`configure expects an options object, got ${describe(options)}`);
  }
  if (options.backend !== undefined) native.setBackend(options.backend);
  if (options.stackSize !== undefined) {
    checkStackSize(options.stackSize);
    defaultStackSize = options.stackSize;
  }
  if (options.poolSize !== undefined) {
    if (!Number.isInteger(options.poolSize) || options.poolSize < 0) {
      throw new TypeError(`poolSize must be an integer >= 0, got ${describe(options.poolSize)}`);
    }
    native.setPoolSize(options.poolSize);
  }
  if (options.spareThreads !== undefined) {
    checkThreadCount('spareThreads', options.spareThreads);
    spareThreads = options.spareThreads;
  }
  if (options.spareThreads !== undefined || (options.stackSize !== undefined && spareThreads > 0)) {
    native.setSpareThreads(defaultStackSize, 0, spareThreads);
  }
}

/** Spares kept ready for greenlets of the default stack size (CoreOptions.spareThreads). */
let spareThreads = 0;

function checkThreadCount(name: string, n: unknown): asserts n is number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 1_000_000) {
    throw new TypeError(`${name} must be an integer from 0 to 1000000, got ${describe(n)}`);
  }
}

/**
 * Prepares for `count` greenlets ahead of demand, so that the next `count`
 * greenlets to start skip the costs of a cold start: creating an owner thread
 * (about 20-60 µs each), and the first run of a greenlet on each thread.
 * Threads already idle in the pool count; the rest are made by a background
 * thread while the event loop goes on, so it returns at once, with a promise
 * that settles once everything is ready (it never rejects: a greenlet that
 * starts before its thread is ready, or after the system refused threads,
 * makes one itself, as without prewarming). Call it at startup, before a
 * server takes load; the threads stay until greenlets use them or the thread
 * (Worker) exits, and then go back to the pool (see
 * {@link CoreOptions.poolSize}).
 *
 * With the hub loaded (the `greenloop` entry point), it also runs greenlets
 * (named `greenloop.prewarm`, seen by tracers and `greenloop:*` channels) in
 * the hub's passes, in two steps, once the background thread has made the
 * threads and before the promise settles. Its greenlet starts in the call
 * when called on the hub (top-level code, a callback), from a greenlet at the
 * hub's next pass; calls that overlap run one after another:
 * - the first call on a thread warms the park path: 40 rounds of 50
 *   greenlets that start, park on an Event, are woken and end, so that V8
 *   has optimised that path before a burst of greenlets that all park runs it
 *   unoptimised (a parked call does not return, and V8 counts calls toward
 *   optimising when they return): 50-100 ms once;
 * - then a greenlet starts on each of the `count` threads and parks, and
 *   then all are woken and end, so that V8's and glibc's set-up of each
 *   thread identity, and the first touch of its stack pages, happen now
 *   rather than in the burst: about
 *   40 µs of the loop's time and 2-3 KiB of memory per thread (user-space
 *   backend only; under the threads backend it would buy little).
 *
 * Measured (bench/spawn.js, "cold, prewarmed", 10,000 greenlets spawned and
 * parked, Node 20): 26-31 µs per greenlet after the earlier warm-up of 96
 * park-path runs, 10-16 µs after both steps. Without the hub
 * (`greenloop/greenlet`) it only makes the threads.
 * @param count - greenlets to prepare for (an integer from 0 to 1000000).
 * @param options.stackSize - the stack size of the greenlets to prepare for.
 *   @default the default stack size (see {@link configure})
 * @returns a promise that settles when the threads are ready (and, with the
 *   hub, warmed); from a greenlet, `wait(prewarm(n))` blocks until then.
 * @throws TypeError for a bad `count` or `stackSize`.
 * @throws GreenletError when the background thread cannot be started.
 * @example
 * ```js
 * const { prewarm, coreStats } = require('greenloop');
 * // before listening: the first 1,000 concurrent requests start warm
 * prewarm(1000).then(() => {
 *   const { spareThreads, idleThreads } = coreStats();
 *   console.log(spareThreads + idleThreads >= 1000); // true
 * });
 * ```
 */
export function prewarm(count: number, options?: { stackSize?: number }): Promise<void> {
  checkThreadCount('prewarm count', count);
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw new TypeError(`prewarm options must be an object, got ${describe(options)}`);
  }
  const stackSize = options?.stackSize ?? defaultStackSize;
  if (stackSize !== undefined) checkStackSize(stackSize);
  native.setSpareThreads(stackSize, count, reserveFor(stackSize));
  if (count === 0) return Promise.resolve();
  return prewarmHook ? prewarmHook(count, stackSize) : threadsMade(stackSize);
}

/** The reserve of spares kept for greenlets of `stackSize` (CoreOptions.spareThreads). */
function reserveFor(stackSize: number | undefined): number {
  return stackSize === defaultStackSize ? spareThreads : 0;
}

/**
 * Settles once the background thread has made the threads {@link prewarm}
 * asked for (what prewarm returns without the hub, and what the hub's
 * warm-up waits for first). @internal
 */
export function threadsMade(stackSize: number | undefined): Promise<void> {
  return new Promise((resolve) => {
    const poll = (): void => {
      if (native.preparedThreads(stackSize).making) setTimeout(poll, 1);
      else resolve();
    };
    poll();
  });
}

let prewarmHook: ((count: number, stackSize: number | undefined) => Promise<void>) | null = null;

/**
 * What {@link prewarm} runs after asking for threads, where the hub is
 * loaded: its warm-up (lib/api/prewarm.ts), whose promise prewarm returns.
 * @internal
 */
export function setPrewarmHook(hook: ((count: number, stackSize: number | undefined) => Promise<void>) | null): void {
  prewarmHook = hook;
}

/**
 * For prewarm's warm-up: whether the background thread still makes the
 * threads the last {@link prewarm} asked for, and how many threads for
 * greenlets of `stackSize` are there (idle and spare). @internal
 */
export function preparedThreads(stackSize: number | undefined): { making: boolean; ready: number } {
  return native.preparedThreads(stackSize);
}

/**
 * For prewarm's warm-up, which runs a greenlet on every spare at once: while
 * `held`, the threads of such greenlets come back as spares when they end
 * (beyond what the pool keeps idle) instead of being ended, and no new
 * spares are made meanwhile; after, the reserve is the configured one again
 * ({@link CoreOptions.spareThreads}). @internal
 */
export function holdSpares(stackSize: number | undefined, held: boolean): void {
  const keep = held ? native.stats().spareThreads : 0;
  native.setSpareThreads(stackSize, 0, Math.max(keep, reserveFor(stackSize)));
}

/**
 * Which backend moves control between greenlets in this thread.
 * @example
 * ```js
 * const { getBackend } = require('greenloop');
 * console.log(getBackend()); // 'user-space' on x86-64 Linux with FSGSBASE, else 'threads'
 * ```
 */
export function getBackend(): 'user-space' | 'threads' {
  return native.stats().backend;
}

installNodeCompat(runOnRoot);

/**
 * Counters of this thread's native core: switches, live greenlets, pooled threads.
 * @example
 * ```js
 * const { coreStats } = require('greenloop');
 * const { switches, live, idleThreads } = coreStats();
 * console.log(`${switches} switches, ${live} live greenlets, ${idleThreads} pooled threads`);
 * ```
 */
export function coreStats(): CoreStats {
  return native.stats();
}
