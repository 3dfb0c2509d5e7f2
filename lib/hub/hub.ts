/**
 * The hub: this thread's root greenlet, where Node's event loop runs, seen as
 * a scheduler.
 *
 * A greenlet that waits parks on a {@link Waiter} and gives up control; the
 * event-loop callback that completes the wait (a timer, a socket's 'data',
 * a promise settling, another greenlet's `set()`) only *schedules* it: wake-ups
 * go into one FIFO ready queue, which the hub runs from a single `setImmediate`
 * callback per loop turn (a "pass"). Within a pass a greenlet that parks hands
 * control straight to the next ready greenlet instead of bouncing through the
 * hub, so a busy server costs about one switch per wake-up.
 *
 * Blocking calls made on the hub itself (outside any spawned greenlet) throw
 * {@link GreenletError}: the hub cannot wait for the loop it is running.
 * @module
 */
import { executionAsyncId } from 'node:async_hooks';
import { performance } from 'node:perf_hooks';
import { asyncScopesFollowGreenlets, trimAsyncResources } from '../async-stack.js';
import { BlockingOnHubError, GreenletError, GreenletExit } from '../errors.js';
import {
  arrivals,
  getBackend,
  type Greenlet as RawGreenlet,
  getcurrent,
  releaseParkedStack,
  resume,
  resumeThrowing,
  setDeathTarget,
  setSwitchCheck,
} from '../greenlet.js';
import {
  captureFrame,
  captureStores,
  contextMode,
  copyCurrentContext,
  currentFrame,
  emptyHubContext,
  enterContext,
  enterFrame,
  newContext,
  runInHubScope,
  type Context,
} from './context.js';
import { parkChannel, resumeChannel } from './channels.js';
import { Deque } from './deque.js';
import { assertStackHeadroom } from './headroom.js';
import { captureParkStack, DESCRIBE, greenletLabel, printUnjoinedError, reportParked } from './report.js';
import { checkDelay, checkFunction, checkTimeout } from './validate.js';

/** No pending error (a unique value: `undefined` may be thrown too). */
const NONE: unique symbol = Symbol('greenloop.none');
const frameMode = contextMode === 'frame';
/** A pass's deadline before its first check has read the clock (a pass {@link Hub.runNow} runs). */
const CLOCK_UNREAD = -1;

/**
 * What a greenlet parks on: the hub delivers a kill or a {@link Timeout} through it.
 * @internal
 */
export interface ParkSite {
  /** Says what the greenlet waits for, e.g. `'Event.wait()'`. */
  readonly label: string;
  /** Settles the site with an error and schedules its greenlet; false if it had already settled. */
  settleThrow(error: unknown): boolean;
}

/**
 * The hub's record of one greenlet it schedules.
 * @internal
 */
export class Task {
  /** Numbers the greenlets of this thread in order of creation (greenloop/debug shows it). */
  readonly id = ++taskCount;
  /** `performance.now()` when it last parked (greenloop/debug shows how long it waits). */
  parkedAt = 0;
  /** Set while the greenlet is parked. */
  site: ParkSite | null = null;
  /** In the ready queue. */
  scheduled = false;
  /** Its start was cancelled (killed before it ran): the queue skips it. */
  cancelled = false;
  /** An error to raise at its next park (a kill or timeout that came while it was not parked). */
  pendingError: unknown = NONE;
  /** Who sent {@link pendingError}, so that a cancelled Timeout can take its error back. */
  pendingSource: unknown = undefined;
  /** Resource mode: its async context (see context.ts); made on first use. */
  ctx: Context | null = null;
  /** Frame mode: the async context captured at spawn, used to start it. */
  startScope: import('node:async_hooks').AsyncResource | null = null;
  /** The stack of its park point, recorded for the exit report. */
  stack: string | null = null;
  /** Links of the hub's list of parked tasks. */
  parkedPrev: Task | null = null;
  parkedNext: Task | null = null;
  /**
   * Called as its greenlet parks, before anything else: the HTTP server's
   * handler greenlet hands the requests queued behind it to another greenlet.
   */
  onPark: (() => void) | null = null;

  constructor(readonly greenlet: RawGreenlet) {}
}

let taskCount = 0;

/** Parked stacks can give pages back: the user-space backend's (see {@link Hub.releaseStacksAfter}). */
let releasesStacks = getBackend() === 'user-space';

/** A function the hub runs at its next pass. */
class Callback {
  constructor(
    readonly fn: (...args: any[]) => unknown,
    readonly args: unknown[],
  ) {}
}

/** Where a hub-scheduled greenlet's Task lives on the gevent-level Greenlet. @internal */
export const kTask: unique symbol = Symbol('greenloop.task');
/**
 * The method of a gevent-level Greenlet that ends it, unstarted, with the
 * error that refused its start (its thread or stack could not be created).
 * @internal
 */
export const kStartRefused: unique symbol = Symbol('greenloop.startRefused');
const rawTasks = new WeakMap<RawGreenlet, Task>();

/** The Task of `g`, created on first use for greenlets made with the raw primitive. @internal */
export function taskOf(g: RawGreenlet): Task {
  const own = (g as { [kTask]?: Task })[kTask];
  if (own !== undefined) return own;
  let task = rawTasks.get(g);
  if (task === undefined) {
    task = new Task(g);
    rawTasks.set(g, task);
  }
  return task;
}

/**
 * The hub's check of `switch()`/`throw()` called by user code (see
 * setSwitchCheck): a greenlet parked in the hub is resumed only by the hub,
 * when what it waits for happens (a raw switch into it would leave the caller
 * switched out for ever), and a gevent-level greenlet is started by `start()`.
 */
function checkUserSwitch(target: RawGreenlet, operation: 'switch' | 'throw'): void {
  const task = (target as { [kTask]?: Task })[kTask] ?? rawTasks.get(target);
  if (task === undefined) return;
  if (task.site !== null) {
    throw new GreenletError(
      `${operation}() into ${greenletLabel(target)}, which is parked in the hub in ${task.site.label}: ` +
        'only the hub resumes it, once that completes, and control would never come back to the caller; ' +
        'interrupt it with kill() or a Timeout instead',
    );
  }
  if (!target.started && kTask in target) {
    throw new GreenletError(
      `${operation}() into ${greenletLabel(target)}, which the hub runs: start it with start() or spawn(), ` +
        'and end it with kill()',
    );
  }
}
setSwitchCheck(checkUserSwitch);

/**
 * An async context captured for later work ({@link Hub.captureWorkContext}):
 * an AsyncContextFrame in frame mode, a {@link Context} in resource mode.
 * @internal
 */
export type WorkContext = unknown;

/**
 * Called with an error that nobody joined: see {@link Hub.unjoinedErrorHandler}.
 * `greenlet` is the greenlet it escaped from (or whose link callback threw).
 */
export type UnjoinedErrorHandler = (error: unknown, greenlet: RawGreenlet) => void;

/**
 * The scheduler of one thread: the root greenlet plus its ready queue.
 * Get it with {@link getHub}; there is one per thread (the main thread and
 * each Worker), created on first use.
 * @example
 * ```ts
 * import { getHub } from 'greenloop';
 * const hub = getHub();
 * hub.switchInterval = 2; // poll for IO at least every 2 ms of greenlet work
 * console.log(hub.readyCount, hub.parkedCount);
 * ```
 */
export class Hub {
  /** The root greenlet of this thread: where the event loop and the hub's passes run. */
  readonly greenlet: RawGreenlet;
  #switchInterval = 5;
  #releaseStacksAfter: number | null = 1000;
  /** The timer of the next {@link Hub.releaseStacksAfter} sweep, while one is due. */
  #releaseTimer: ReturnType<typeof setTimeout> | null = null;
  #stackReleases = 0;
  /**
   * The last parked task the sweeps released (the sentinel {@link #parked}
   * if none): it and every task before it in the parked list have had their
   * stacks released for their current park, none after it has. A sweep
   * starts after it, so it costs the parks it releases, not all parked.
   */
  #releasedThrough: Task;
  readonly #releaseSweep = (): void => this.#releaseIdleStacks();

  readonly #queue = new Deque<Task | Callback>();
  /** Sentinel of the circular list of parked tasks. */
  readonly #parked: Task;
  #parkedCount = 0;
  /** Resource mode: the async context hub code sees during a pass. */
  #hubCtx: Context = newContext();
  #passScheduled = false;
  #inPass = false;
  #scopeId = -1;
  /** When the pass's time is up (`performance.now()` ms), or {@link CLOCK_UNREAD} until its first check. */
  #deadline = 0;
  /**
   * The clock as a parking greenlet read it for its `parkedAt`, for the
   * pass's time check that the same park makes next (one clock read per park
   * instead of two); {@link CLOCK_UNREAD} once used or stale.
   */
  #parkClock = CLOCK_UNREAD;
  #parks = 0;
  #reportedAtParks = -1;
  #unjoinedHandler: UnjoinedErrorHandler | null = null;
  /**
   * The greenlet a parking greenlet is handing control to, and the
   * `arrivals.count` it will see when it gets control (see {@link arrived}).
   */
  #handOffTarget: Task | null = null;
  #handOffArrival = -1;
  readonly #runPass = (): void => this.#pass();
  /** The greenlet that switched into a parked one with DESCRIBE, which switches back to it. */
  #describer: RawGreenlet | null = null;

  /** @internal Use {@link getHub}. */
  constructor(root: RawGreenlet) {
    this.greenlet = root;
    this.#parked = new Task(root);
    this.#parked.parkedPrev = this.#parked.parkedNext = this.#parked;
    this.#releasedThrough = this.#parked;
    process.on('beforeExit', () => this.#beforeExit());
  }

  /**
   * Called with every error that escapes a spawned greenlet nobody joined,
   * called `get()`/`promise()` on, linked to or killed, once the greenlets
   * that were ready when it failed have run (and with errors thrown by link
   * callbacks and by raw greenlets the hub resumed). `null`, the
   * default, prints the error's stack and the greenlet's name to stderr, as
   * gevent does, and sets `process.exitCode` to 1 unless the program has set
   * it already (the process goes on). A handler decides for itself; one that
   * throws makes its own error an uncaught exception (by default, fatal) and
   * is not called again with it.
   * @default null
   * @example
   * ```ts
   * getHub().unjoinedErrorHandler = (error, g) => logger.error({ error, greenlet: g.name });
   * getHub().unjoinedErrorHandler = (error) => { throw error; }; // make them fatal
   * ```
   */
  get unjoinedErrorHandler(): UnjoinedErrorHandler | null {
    return this.#unjoinedHandler;
  }

  set unjoinedErrorHandler(handler: UnjoinedErrorHandler | null) {
    if (handler !== null) checkFunction('unjoinedErrorHandler', handler);
    this.#unjoinedHandler = handler;
  }

  /**
   * How long one pass may keep running ready greenlets before it lets the
   * event loop poll for IO again, in ms (gevent's switch interval). A greenlet
   * that keeps calling `sleep(0)` still lets timers and sockets in this often.
   * @default 5
   * @throws TypeError (setting it) unless a finite number >= 0.
   */
  get switchInterval(): number {
    return this.#switchInterval;
  }

  set switchInterval(ms: number) {
    this.#switchInterval = checkDelay('switchInterval', ms);
  }

  /**
   * How long a greenlet stays parked, in ms, before the hub gives the kernel
   * back the pages of its stack below its park point; `null` (or `Infinity`):
   * never. A greenlet keeps every stack page it ever touched, so one that went
   * deep once (a big parse, a long chain of calls) and then waits, a server's
   * handler waiting for the next request, would hold them for as long as it
   * waits; a released page costs a page fault if it goes that deep again. Each
   * release is one system call, made by a timer of the hub's once per park
   * that lasts this long. The user-space backend only (the threads backend's
   * parked greenlets keep their pages).
   * @default 1000
   * @throws TypeError (setting it) unless a number >= 0, `Infinity` or `null`.
   * @example
   * ```ts
   * import { getHub } from 'greenloop';
   * getHub().releaseStacksAfter = 200; // servers with many idle connections
   * ```
   */
  get releaseStacksAfter(): number | null {
    return this.#releaseStacksAfter;
  }

  set releaseStacksAfter(ms: number | null) {
    this.#releaseStacksAfter = checkTimeout('releaseStacksAfter', ms);
    if (this.#releaseTimer !== null) {
      clearTimeout(this.#releaseTimer);
      this.#releaseTimer = null;
    }
    if (this.#parkedCount !== 0) this.#armStackRelease(this.#releaseStacksAfter ?? 0);
  }

  /** How many parked stacks the hub has given pages back from (see {@link releaseStacksAfter}). */
  get stackReleases(): number {
    return this.#stackReleases;
  }

  /** How many greenlets and callbacks wait in the ready queue. */
  get readyCount(): number {
    return this.#queue.length;
  }

  /** How many greenlets are parked (waiting for something to wake them). */
  get parkedCount(): number {
    return this.#parkedCount;
  }

  /**
   * Runs `fn(...args)` on the hub at its next pass, after the greenlets and
   * callbacks already queued (gevent's `loop.run_callback`). `fn` must not
   * block; an error it throws goes to {@link unjoinedErrorHandler}.
   * @example
   * ```ts
   * getHub().runCallback(() => event.set());
   * ```
   */
  runCallback(fn: (...args: any[]) => unknown, ...args: unknown[]): void {
    checkFunction('fn', fn);
    this.#queue.push(new Callback(fn, args));
    if (!this.#inPass) this.#schedulePass();
  }

  /** Schedules `task`'s greenlet to run at the next pass (no-op if already scheduled). @internal */
  wake(task: Task): void {
    if (task.scheduled) return;
    // Calls first, state last: an overflow at the edge of the stack leaves
    // the task as it was, not marked scheduled without being queued.
    if (!this.#inPass) this.#schedulePass();
    this.#queue.push(task);
    task.scheduled = true;
  }

  /**
   * Runs `task` (not scheduled) at once in a pass of its own, then the
   * greenlets it hands off to for the rest of that pass, and returns true
   * when control is back on the hub; returns false, doing nothing, unless
   * called on the hub outside a pass (then use {@link wake}). For callers
   * that must see the greenlet run before they go on (`prewarm()`'s warm-up),
   * in an IO callback or top-level code.
   * @internal
   */
  runNow(task: Task): boolean {
    if (this.#inPass || task.scheduled || getcurrent() !== this.greenlet) return false;
    // The clock is read at the pass's first hand-off, not here: a greenlet
    // that ends without one then reads it never.
    this.#asPass(this.#runOne, task, CLOCK_UNREAD);
    return true;
  }

  /**
   * Runs the ready queue now, in a pass of its own, if it holds at least
   * `batch` entries and this is the hub outside a pass: for IO callbacks
   * that wake one greenlet each (socket reads), so that a loop turn with many
   * events runs its greenlets in batches between them instead of all after
   * the last one. Otherwise a no-op (the pass already scheduled runs them).
   * @internal
   */
  runReadyBatch(batch: number): void {
    if (this.#inPass || this.#queue.length < batch || getcurrent() !== this.greenlet) return;
    this.#runQueue();
  }

  #runOne(task: Task): void {
    this.#scopeId = executionAsyncId();
    this.#dispatch(task);
  }

  /**
   * The async context a greenlet spawned now should start with: the current
   * greenlet's, or the callback's that spawns it.
   * @internal
   */
  captureContext(task: Task): void {
    if (frameMode) {
      task.startScope = captureFrame();
      return;
    }
    task.ctx = this.#storesHere();
  }

  /** Resource mode: the current greenlet's context copied, or the stores of the callback that runs now. */
  #storesHere(): Context {
    return this.#inPass && executionAsyncId() === this.#scopeId ? copyCurrentContext() : captureStores();
  }

  /**
   * The async context of the running callback or greenlet, for work that a
   * greenlet will do on its behalf later ({@link adoptWorkContext}): the
   * HTTP server's request callback queues each request with it. Frame mode:
   * the current AsyncContextFrame; resource mode: the stores, as
   * {@link captureContext} takes them.
   * @internal
   */
  captureWorkContext(): WorkContext {
    return frameMode ? currentFrame() : this.#storesHere();
  }

  /**
   * Makes `ctx` (from {@link captureWorkContext}) the async context of the
   * running greenlet, whose Task is `task`, from now on.
   * @internal
   */
  adoptWorkContext(task: Task, ctx: WorkContext): void {
    if (frameMode) {
      enterFrame(ctx);
    } else {
      task.ctx = ctx as Context;
      enterContext(ctx as Context);
    }
  }

  /**
   * Checks that the current greenlet may park now and returns its Task: it is
   * not the hub, has no pending kill or timeout (raised here instead), and is
   * not inside a nested async scope where Node's async stack cannot be saved.
   * @throws GreenletError on the hub, or in a nested async scope then.
   * @internal
   */
  enterPark(operation: string): Task {
    const g = getcurrent();
    if (g.isRoot) throw blockingOnHub(operation);
    const task = taskOf(g);
    if (task.pendingError !== NONE) {
      const error = task.pendingError;
      task.pendingError = NONE;
      task.pendingSource = undefined;
      throw error;
    }
    if (this.#inPass && executionAsyncId() !== this.#scopeId && !asyncScopesFollowGreenlets()) {
      throw new GreenletError(
        `${operation} cannot park a greenlet inside a nested async scope (AsyncResource#runInAsyncScope, ` +
          'a function bound with AsyncResource.bind, or an EventEmitterAsyncResource): the scope must end before ' +
          "the greenlet waits, or Node's async-hooks stack would be left corrupted",
      );
    }
    return task;
  }

  /**
   * Parks the current greenlet (`task`) on `site` until something schedules
   * it; returns when the hub or another greenlet switches back to it.
   * @internal
   */
  park(task: Task, site: ParkSite, yielding = false): void {
    if (task.onPark !== null) task.onPark();
    task.parkedAt = this.#parkClock = performance.now(); // first: an overflow here leaves nothing half-done
    // A running greenlet is in the ready queue only if a switch out of it
    // failed at the very edge of the stack after sleep(0) had queued it.
    if (task.scheduled && this.#queue.remove(task)) task.scheduled = false;
    task.site = site;
    const head = this.#parked;
    task.parkedNext = head;
    task.parkedPrev = head.parkedPrev;
    head.parkedPrev!.parkedNext = task;
    head.parkedPrev = task;
    this.#parkedCount++;
    this.#parks++;
    if (this.#releaseTimer === null) this.#armStackRelease(this.#releaseStacksAfter ?? 0);
    try {
      if (parkChannel.hasSubscribers) parkChannel.publish({ greenlet: task.greenlet, label: site.label });
      if (yielding) this.wake(task);
      // Leaves `task`: to the next ready greenlet, else the hub. Written out
      // here rather than in a method of its own because every frame under the
      // switch stays on the parked stack, which every scavenge walks. Up to
      // the switch it changes nothing but the hand-off record (the greenlet
      // it hands off to does the rest, see arrived()), so a switch that fails
      // where it stands (a stack overflow at the edge of the stack, a tracer
      // that throws) loses nothing: `task` gets the error, and the next
      // greenlet is still first in the queue. A next greenlet whose start is
      // refused (no thread) ends with that error, and `task` hands off to the
      // one after it.
      let back: unknown;
      const switches = arrivals.count;
      for (;;) {
        const next = this.#peekHandOff();
        this.#parkClock = CLOCK_UNREAD;
        if (next === task) {
          // It was the next ready one itself (sleep(0) with nothing else ready).
          this.#queue.shift();
          task.scheduled = false;
          break;
        }
        // Recorded for every switch out (null: to the hub), so that none left
        // by a failed one can be taken for this one's.
        this.#handOffTarget = next;
        this.#handOffArrival = switches + 1;
        try {
          if (next !== null) {
            back = resume(next.greenlet);
          } else {
            if (!frameMode && !this.#inPass) task.ctx ??= captureStores(); // a raw greenlet switched to outside the hub: keep what it inherited
            if (!this.#inPass && this.#queue.length !== 0) this.#schedulePass();
            back = resume(this.greenlet);
          }
          break;
        } catch (error) {
          if (arrivals.count !== switches || next === null || !this.#isStartRefusal(next, error)) throw error;
          this.#queue.shift();
          next.scheduled = false;
          this.#endRefused(next, error);
        }
      }
      if (this.#handOffTarget === task) this.arrived(task);
      while (back === DESCRIBE) {
        task.stack = captureParkStack();
        back = resume(this.#describer ?? this.greenlet);
      }
    } finally {
      this.#parkClock = CLOCK_UNREAD; // unused if the park failed before its time check
      task.site = null;
      if (task === this.#releasedThrough) this.#releasedThrough = task.parkedPrev!;
      task.parkedPrev!.parkedNext = task.parkedNext;
      task.parkedNext!.parkedPrev = task.parkedPrev;
      task.parkedPrev = task.parkedNext = null;
      this.#parkedCount--;
      if (resumeChannel.hasSubscribers) {
        resumeChannel.publish({
          greenlet: task.greenlet,
          label: site.label,
          parkedMs: performance.now() - task.parkedAt,
        });
      }
    }
  }

  /**
   * Called by a greenlet the hub runs as soon as it has control (at its start
   * and on its return from every park): if a parking greenlet handed control
   * to it, it takes itself off the front of the ready queue and enters its
   * own async context. The parker leaves both to it so that a switch that
   * fails where it stands (a stack overflow at the very edge of the stack)
   * leaves the queue and the parker's context as they were: nothing is lost.
   * @internal
   */
  arrived(task: Task): void {
    if (this.#handOffTarget !== task || arrivals.count !== this.#handOffArrival) return;
    this.#handOffTarget = null;
    this.#queue.shift(); // `task`, which was at the front
    task.scheduled = false;
    if (!frameMode) enterContext((task.ctx ??= newContext()));
  }

  /**
   * Raises `error` in `task`'s greenlet: at once (through the site it is
   * parked on) if it is parked and not already woken, else at its next park.
   * A kill ({@link GreenletExit}) replaces a pending timeout; otherwise the
   * first pending error stays.
   * @internal
   */
  throwInto(task: Task, error: unknown, source?: unknown): void {
    const g = task.greenlet;
    if (g.dead || task.cancelled) return;
    const site = task.site;
    if (site !== null && site.settleThrow(error)) return;
    if (task.pendingError === NONE || (error instanceof GreenletExit && !(task.pendingError instanceof GreenletExit))) {
      task.pendingError = error;
      task.pendingSource = source;
    }
    // Neither parked in the hub nor woken nor running: it is switched out by
    // a raw switch (e.g. into a child greenlet it made). As gevent does, the
    // error is raised where it stands, from the hub's next pass.
    if (site === null && !task.scheduled && g.started && g !== getcurrent()) {
      this.#queue.push(new Callback(this.#deliverPending, [task]));
      if (!this.#inPass) this.#schedulePass();
    }
  }

  /** Raises `task`'s pending error in it, if it is still switched out by a raw switch. */
  readonly #deliverPending = (task: Task): void => {
    const error = task.pendingError;
    const g = task.greenlet;
    if (error === NONE || g.dead || task.scheduled) return;
    if (task.site !== null) {
      // It came back and parked in the hub meanwhile: interrupt that wait.
      if (task.site.settleThrow(error)) {
        task.pendingError = NONE;
        task.pendingSource = undefined;
      }
      return;
    }
    task.pendingError = NONE;
    task.pendingSource = undefined;
    if (!frameMode) enterContext((task.ctx ??= newContext()));
    this.#handOffTarget = null;
    try {
      resumeThrowing(g, error);
    } catch (escaped) {
      // A raw greenlet that ended with it: its error went to its parent, the hub.
      this.reportError(escaped, g, 'failed');
    }
    if (!frameMode) enterContext(this.#hubCtx);
  };

  /** Takes back an error `source` left pending on `task` (a Timeout being cancelled). @internal */
  retract(task: Task, source: unknown): void {
    if (task.pendingError !== NONE && task.pendingSource === source) {
      task.pendingError = NONE;
      task.pendingSource = undefined;
    }
  }

  /**
   * Called by a hub-run greenlet just before its function returns: makes its
   * death go straight to the next ready greenlet (else the hub).
   * @internal
   */
  handOffDeath(task: Task): void {
    task.pendingError = NONE;
    // A greenlet's death can only go to a started one: the primitive creates
    // a greenlet's native side when it is first switched to, not when it
    // becomes a parent.
    const next = this.#peekHandOff(false);
    this.#handOffTarget = null; // this hand-off takes `next` off the queue itself
    if (next !== null) {
      this.#queue.shift();
      next.scheduled = false;
    }
    if (!frameMode && this.#inPass) enterContext(next === null ? this.#hubCtx : (next.ctx ??= newContext()));
    setDeathTarget(task.greenlet, next === null ? this.greenlet : next.greenlet);
    if (next === null && !this.#inPass && this.#queue.length !== 0) this.#schedulePass();
  }

  /** Reports an error nobody handled: see {@link unjoinedErrorHandler}. @internal */
  reportError(error: unknown, greenlet: RawGreenlet, what = 'failed'): void {
    const handler = this.#unjoinedHandler;
    if (handler !== null) {
      try {
        handler(error, greenlet);
      } catch (fatal) {
        // The handler made it fatal: its error is an uncaught exception, once
        // (it is not reported to the handler again).
        process.nextTick(rethrow, fatal);
      }
      return;
    }
    printUnjoinedError(error, greenlet, what);
  }

  #armStackRelease(ms: number): void {
    if (this.#releaseStacksAfter === null || !releasesStacks) return;
    const timer = setTimeout(this.#releaseSweep, ms);
    timer.unref(); // parked greenlets alone do not keep the process alive
    this.#releaseTimer = timer;
  }

  /**
   * Gives back the stack pages of the greenlets parked for at least
   * {@link releaseStacksAfter} (once per park: each sweep goes on after
   * the last task an earlier one released), then waits for the next one to
   * be. The parked list is in the order they parked.
   */
  #releaseIdleStacks(): void {
    this.#releaseTimer = null;
    const after = this.#releaseStacksAfter;
    if (after === null) return;
    const cutoff = performance.now() - after;
    const head = this.#parked;
    for (let task = this.#releasedThrough.parkedNext!; task !== head; task = task.parkedNext!) {
      if (task.parkedAt > cutoff) {
        // Not before a tenth of the delay: parks spread evenly over time
        // would otherwise make a sweep of one or two of them every 1 ms.
        this.#armStackRelease(Math.max(task.parkedAt - cutoff, after / 10));
        return;
      }
      try {
        releaseParkedStack(task.greenlet);
        this.#stackReleases++;
        this.#releasedThrough = task;
      } catch (error) {
        // Never expected (madvise on the thread's own stack mapping); keep the
        // pages and say so once rather than fail a timer callback.
        releasesStacks = false;
        process.emitWarning(`greenloop stops giving back parked stacks' pages: ${(error as Error).message}`, {
          code: 'GREENLOOP_STACK_RELEASE',
        });
        return;
      }
    }
  }

  #schedulePass(): void {
    if (this.#passScheduled) return;
    assertStackHeadroom();
    setImmediate(this.#runPass);
    this.#passScheduled = true;
  }

  #pass(): void {
    this.#passScheduled = false;
    if (this.#inPass) return; // a raw switch re-entered the loop from a greenlet
    this.#runQueue();
  }

  /** Runs the ready queue in a pass of its own, for at most {@link switchInterval} ms. */
  #runQueue(): void {
    this.#asPass(this.#passBody, undefined, performance.now() + this.#switchInterval);
  }

  /**
   * Runs `body(arg)` as a pass: until `deadline` (see `#deadline`), in
   * the hub's async scope and context, and schedules the next pass if
   * greenlets are left ready. Both the loop turn's pass and {@link runNow}
   * run in one.
   */
  #asPass<A>(body: (this: Hub, arg: A) => void, arg: A, deadline: number): void {
    this.#inPass = true;
    this.#deadline = deadline;
    if (!frameMode) enterContext((this.#hubCtx = emptyHubContext()));
    try {
      runInHubScope(body, this, arg);
    } finally {
      trimAsyncResources();
      this.#inPass = false;
      if (this.#queue.length !== 0) this.#schedulePass();
    }
  }

  #passBody(): void {
    this.#scopeId = executionAsyncId();
    const queue = this.#queue;
    while (queue.length !== 0) {
      if (this.#outOfTime()) return;
      const item = queue.shift()!;
      if (item instanceof Task) this.#dispatch(item);
      else this.#call(item);
    }
  }

  #call(cb: Callback): void {
    try {
      cb.fn(...cb.args);
    } catch (error) {
      this.reportError(error, this.greenlet, 'threw from a callback run by the hub');
    }
  }

  /** Switches from the hub into `task`; returns when control comes back to the hub. */
  #dispatch(task: Task): void {
    task.scheduled = false;
    if (task.cancelled || task.greenlet.dead || isStale(task)) return;
    if (frameMode && task.startScope !== null && !task.greenlet.started) {
      const scope = task.startScope;
      task.startScope = null;
      scope.runInAsyncScope(this.#startInScope, this, task);
      return;
    }
    this.#enter(task);
  }

  #startInScope(task: Task): void {
    const outer = this.#scopeId;
    this.#scopeId = executionAsyncId();
    try {
      this.#enter(task);
    } finally {
      this.#scopeId = outer;
    }
  }

  #enter(task: Task): void {
    if (!frameMode) enterContext((task.ctx ??= newContext()));
    const switches = arrivals.count;
    this.#handOffTarget = null;
    try {
      resume(task.greenlet);
    } catch (error) {
      if (arrivals.count !== switches) {
        // Only a raw greenlet's error reaches here (gevent-level ones catch
        // everything): it ended and its error went to its parent, the hub.
        this.reportError(error, task.greenlet, 'failed');
      } else if (this.#isStartRefusal(task, error)) {
        this.#endRefused(task, error);
      } else {
        // The switch failed where it stood (a tracer that threw): the greenlet
        // did not run. Report it and try again at the next pass, not in this one.
        this.reportError(error, task.greenlet, 'could not be switched to');
        setImmediate(() => this.wake(task));
      }
    }
    if (!frameMode) enterContext(this.#hubCtx);
  }

  /** Whether `error`, out of a switch into `task` that moved no control, refused its start (no thread or stack). */
  #isStartRefusal(task: Task, error: unknown): boolean {
    return !task.greenlet.started && error instanceof GreenletError && typeof error.errno === 'number';
  }

  /** Ends `task`, whose start was refused, with that error: it is dead, its joiners wake, it is reported if unjoined. */
  #endRefused(task: Task, error: unknown): void {
    task.cancelled = true;
    const g = task.greenlet;
    const refused = (g as { [kStartRefused]?: (error: unknown) => void })[kStartRefused];
    if (refused !== undefined) refused.call(g, error);
    else this.reportError(error, g, 'could not start');
  }

  /**
   * Whether the pass has used up its time. Reads the clock every time
   * (~50-100 ns beside a switch's ~1-3 µs, and the limit stays exact), or
   * takes the reading the parking greenlet just made. A pass {@link runNow}
   * runs starts its budget here, at its first hand-off: the greenlet it
   * started ran in an IO callback, as a plain callback would, and most end
   * without handing off at all.
   */
  #outOfTime(): boolean {
    let now = this.#parkClock;
    if (now === CLOCK_UNREAD) now = performance.now();
    else this.#parkClock = CLOCK_UNREAD;
    if (this.#deadline === CLOCK_UNREAD) this.#deadline = now + this.#switchInterval;
    return now > this.#deadline;
  }

  /**
   * The next greenlet a parking or dying greenlet may hand control to, left
   * at the front of the queue; null when control must go to the hub instead
   * (no pass is running, the pass is out of time, or the next item is a
   * callback, or, in frame mode, a greenlet's start, which the hub does itself).
   * @param mayStart - whether the next greenlet may be one that has not started.
   */
  #peekHandOff(mayStart = !frameMode): Task | null {
    if (!this.#inPass) return null;
    const queue = this.#queue;
    while (queue.length !== 0) {
      const head = queue.peek()!;
      if (!(head instanceof Task)) return null;
      if (head.cancelled || head.greenlet.dead || isStale(head)) {
        queue.shift();
        head.scheduled = false;
        continue;
      }
      if (!mayStart && !head.greenlet.started) return null;
      if (this.#outOfTime()) return null;
      return head;
    }
    return null;
  }

  /**
   * The stack of parked `task` at its park point (greenloop's own frames left
   * out): the caller switches into it with DESCRIBE and it records it and
   * switches back. Null if it is not parked or could not be described.
   * @internal
   */
  describeStack(task: Task): string | null {
    if (task.site === null || this.#describer !== null) return null;
    task.stack = null;
    this.#handOffTarget = null;
    this.#describer = getcurrent();
    try {
      resume(task.greenlet, DESCRIBE);
    } catch {
      // It could not be described; it is still listed.
    } finally {
      this.#describer = null;
      this.#handOffTarget = null;
    }
    return task.stack as string | null;
  }

  /**
   * The tasks the hub knows now: parked ones (oldest park first) and ready
   * ones (queue order). For greenloop/debug.
   * @internal
   */
  snapshot(): { parked: Task[]; ready: Task[] } {
    const parked: Task[] = [];
    for (let t = this.#parked.parkedNext!; t !== this.#parked; t = t.parkedNext!) parked.push(t);
    const ready: Task[] = [];
    for (const item of this.#queue) if (item instanceof Task) ready.push(item);
    return { parked, ready };
  }

  /** At 'beforeExit': prints the greenlets still parked (gevent's LoopExit), once per state. */
  #beforeExit(): void {
    if (this.#parkedCount === 0 || this.#queue.length !== 0 || this.#reportedAtParks === this.#parks) return;
    this.#reportedAtParks = this.#parks;
    reportParked(this);
  }

  /** The greenlets parked in this hub, in the order they parked (see report.ts). @internal */
  parkedTasks(): Task[] {
    const parked: Task[] = [];
    for (let t = this.#parked.parkedNext!; t !== this.#parked; t = t.parkedNext!) parked.push(t);
    return parked;
  }

  /**
   * Resumes parked `task` just long enough for it to record the stack of its
   * park point in `task.stack` (null if it could not); it stays parked.
   * @internal
   */
  recordParkStack(task: Task): void {
    task.stack = this.describeStack(task);
  }
}

/**
 * A queue entry of a greenlet that is neither parked in the hub nor unstarted:
 * left by a switch out of a sleep(0) that failed at the edge of the stack.
 */
function isStale(task: Task): boolean {
  return task.site === null && task.greenlet.started;
}

function rethrow(error: unknown): never {
  throw error;
}

function blockingOnHub(operation: string): BlockingOnHubError {
  return new BlockingOnHubError(operation);
}

let hub: Hub | undefined;

/**
 * The hub of the calling thread (each Worker has its own), created on first use.
 * @example
 * ```ts
 * import { getHub } from 'greenloop';
 * getHub().unjoinedErrorHandler = (error, g) => console.error(g, error);
 * ```
 */
export function getHub(): Hub {
  if (hub === undefined) {
    let root = getcurrent();
    while (root.parent !== null) root = root.parent;
    hub = new Hub(root);
  }
  return hub;
}

/**
 * Throws unless the caller may block, i.e. runs in a greenlet other than the
 * hub. Green IO and every blocking API call it before they park.
 * @param operation - names the call in the message, e.g. `'socket.recv()'`.
 * @throws BlockingOnHubError "<operation> would block the event loop's own greenlet
 *   (the hub); call it inside a greenlet started with spawn()" when called on
 *   the hub (top-level code, an event-loop callback, a promise callback).
 * @example
 * ```ts
 * function readLine(): string {
 *   assertMayBlock('readLine()');
 *   // ... park on a Waiter
 * }
 * ```
 */
export function assertMayBlock(operation: string): void {
  if (getcurrent().isRoot) throw blockingOnHub(operation);
}
