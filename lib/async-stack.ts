/**
 * Node's stack of async scopes, kept per greenlet.
 *
 * Node keeps one stack of async ids per thread (`executionAsyncId()`,
 * `triggerAsyncId()`, `executionAsyncResource()`), pushed and popped strictly
 * in nesting order by `AsyncResource#runInAsyncScope`, timers, and every
 * native callback; a pop of an id that is not on top aborts the process
 * ("async hook stack has become corrupted"). A greenlet that parks inside
 * such a scope would leave its entries on top of whatever runs next.
 *
 * So each greenlet owns the scopes it pushed since it last got control: when
 * it switches away they are popped and kept with it, and when it gets
 * control again they are pushed back on top of the stack of whoever resumed
 * it (node-fibers did the same, with the push/pop functions that
 * `process.binding('async_wrap')` exposed before Node 24). Below a greenlet's
 * own scopes is always the root greenlet's stack as it stands.
 *
 * Node gives user land no push or pop, so this module borrows the ones
 * `node:async_hooks` itself uses: it opens an in-process inspector session
 * once, reads the closure of `async_hooks.executionAsyncId` (Node's
 * `internal/async_hooks` module: `pushAsyncContext`, `popAsyncContext`,
 * `async_hook_fields`, ...) and closes it again. Nothing is paused or
 * instrumented. Where that is impossible (Node built without the inspector,
 * the permission model, a Node whose internals differ), it falls back to
 * refusing: switching away inside a nested scope throws {@link GreenletError}.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { executionAsyncResource } from 'node:async_hooks';
import { GreenletError } from './errors.js';

/** The parts of Node's `internal/async_hooks` this module uses. */
interface AsyncInternals {
  /** `async_hook_fields`: counters and, at `kStackLength`, the stack depth. */
  fields: Uint32Array;
  /** `async_id_fields`: the current execution and trigger async ids. */
  ids: Float64Array;
  /** `execution_async_resources`: resources of scopes pushed from JS. */
  resources: unknown[];
  /** Native lookup of a resource pushed by native code, by stack index. */
  nativeResource: (index: number) => unknown;
  push: (asyncId: number, triggerAsyncId: number, resource: unknown) => void;
  pop: (asyncId: number) => boolean;
  kStackLength: number;
  kExecutionAsyncId: number;
  kTriggerAsyncId: number;
}

/**
 * Where a greenlet's own scopes begin: the stack depth when it got control,
 * or (fallback) the async resource that was current then.
 */
export type AsyncMark = number | object;

/** A greenlet's scopes while it is parked: (asyncId, triggerAsyncId, resource) triples, bottom first. */
export type SavedScopes = unknown[];

let internals: AsyncInternals | null | undefined;

const WANTED = [
  'async_wrap',
  'async_hook_fields',
  'async_id_fields',
  'execution_async_resources',
  'pushAsyncContext',
  'popAsyncContext',
];

/** Reads `internal/async_hooks`' closure through a short inspector session; null where impossible. */
function loadInternals(): AsyncInternals | null {
  if (process.env.GREENLOOP_ASYNC_STACK === 'refuse') return null;
  let session: import('node:inspector').Session | undefined;
  const key = Symbol.for('greenloop.asyncStack.probe');
  const g = globalThis as Record<symbol, unknown>;
  try {
    const { Session } = require('node:inspector') as typeof import('node:inspector');
    const s = new Session();
    session = s;
    s.connect();
    const post = (method: string, params: object): any => {
      let result: unknown;
      let failure: unknown;
      let answered = false;
      s.post(method, params, (error, res) => {
        answered = true;
        failure = error;
        result = res;
      });
      if (!answered) throw new Error(`inspector answered ${method} asynchronously`);
      if (failure) throw failure;
      return result;
    };
    /** The live JS value behind an inspector object id. */
    const valueOf = (objectId: string): unknown => {
      post('Runtime.callFunctionOn', {
        objectId,
        functionDeclaration: `function () { globalThis[Symbol.for(${JSON.stringify(key.description)})] = this; }`,
      });
      const value = g[key];
      delete g[key];
      return value;
    };
    g[key] = require('node:async_hooks').executionAsyncId;
    const fn = post('Runtime.evaluate', { expression: `globalThis[Symbol.for(${JSON.stringify(key.description)})]` });
    delete g[key];
    const fnProps = post('Runtime.getProperties', { objectId: fn.result.objectId, ownProperties: true });
    const scopes = fnProps.internalProperties?.find((p: { name: string }) => p.name === '[[Scopes]]');
    if (!scopes?.value?.objectId) return null;
    const found: Record<string, any> = {};
    for (const scope of post('Runtime.getProperties', { objectId: scopes.value.objectId, ownProperties: true })
      .result) {
      // Only closures: the script and global scopes are large and hold nothing wanted.
      if (!scope.value?.objectId || !String(scope.value.description ?? '').startsWith('Closure')) continue;
      for (const v of post('Runtime.getProperties', { objectId: scope.value.objectId, ownProperties: true }).result) {
        if (WANTED.includes(v.name) && !(v.name in found) && v.value?.objectId)
          found[v.name] = valueOf(v.value.objectId);
      }
    }
    const wrap = found.async_wrap;
    const constants = wrap?.constants;
    const result: AsyncInternals = {
      fields: found.async_hook_fields,
      ids: found.async_id_fields,
      resources: found.execution_async_resources,
      nativeResource: wrap?.executionAsyncResource,
      push: found.pushAsyncContext,
      pop: found.popAsyncContext,
      kStackLength: constants?.kStackLength,
      kExecutionAsyncId: constants?.kExecutionAsyncId,
      kTriggerAsyncId: constants?.kTriggerAsyncId,
    };
    const ok =
      result.fields instanceof Uint32Array &&
      result.ids instanceof Float64Array &&
      Array.isArray(result.resources) &&
      typeof result.nativeResource === 'function' &&
      typeof result.push === 'function' &&
      typeof result.pop === 'function' &&
      [result.kStackLength, result.kExecutionAsyncId, result.kTriggerAsyncId].every(Number.isInteger);
    return ok ? result : null;
  } catch {
    return null;
  } finally {
    delete g[key];
    try {
      session?.disconnect();
    } catch {
      // Nothing to close.
    }
  }
}

/**
 * Loads Node's internals on first use; call it on the root greenlet (the
 * inspector is per thread, and only the root's identity is Node's own).
 * Returns whether scopes follow their greenlet (else parking in one is refused).
 */
export function prepareAsyncStack(): boolean {
  if (internals === undefined) internals = loadInternals();
  return internals !== null;
}

/** Whether a greenlet may switch away inside a nested async scope (its scopes follow it). */
export function asyncScopesFollowGreenlets(): boolean {
  return prepareAsyncStack();
}

/** Where the current greenlet's own scopes begin; taken whenever it gets control. */
export function asyncMark(): AsyncMark {
  const n = internals;
  return n ? n.fields[n.kStackLength]! : executionAsyncResource();
}

/**
 * Pops the scopes pushed above `mark` and returns them (null when there are
 * none), for {@link reenterScopes} when the greenlet gets control again.
 * @throws GreenletError (fallback only) when there are some: they cannot be moved.
 */
export function leaveScopes(mark: AsyncMark): SavedScopes | null {
  const n = internals;
  if (!n) {
    if (executionAsyncResource() === mark) return null;
    throw new GreenletError(
      'cannot switch away from a greenlet inside a nested async scope (e.g. AsyncResource#runInAsyncScope): ' +
        "Node's async-hooks stack cannot be saved and restored in this process, and parking here would corrupt it; " +
        'leave the scope first',
    );
  }
  const fields = n.fields;
  let depth = fields[n.kStackLength]!;
  const base = mark as number;
  if (depth <= base) return null;
  const saved: SavedScopes = new Array((depth - base) * 3);
  while (depth > base) {
    const index = depth - 1;
    const asyncId = n.ids[n.kExecutionAsyncId]!;
    const at = (index - base) * 3;
    saved[at] = asyncId;
    saved[at + 1] = n.ids[n.kTriggerAsyncId];
    saved[at + 2] = n.resources[index] ?? n.nativeResource(index);
    n.pop(asyncId);
    depth = fields[n.kStackLength]!;
    if (depth !== index) break; // Node cleared the stack itself (an uncaught exception): nothing more to take
  }
  return saved;
}

/** Pushes back scopes taken by {@link leaveScopes}, in their order. */
export function reenterScopes(saved: SavedScopes | null): void {
  if (saved === null) return;
  const n = internals!;
  for (let i = 0; i < saved.length; i += 3) {
    if (saved[i] === undefined) continue;
    n.push(saved[i] as number, saved[i + 1] as number, saved[i + 2]);
  }
}

/**
 * Drops the empty slots at the end of Node's JS list of scope resources. A
 * scope pushed from JS inside a native callback's (the hub's pass, in a
 * request callback) leaves that list one slot longer than the native stack
 * once it is popped, a hole where the native side keeps its own resource;
 * Node then truncates it when the native scope closes, through the slow C++
 * `Object::Set('length')`, at every request. An empty slot reads as no entry
 * (`executionAsyncResource()` asks the native side for both), and Node
 * writes entries by index, so dropping it here changes nothing it reads.
 */
export function trimAsyncResources(): void {
  const resources = internals?.resources;
  if (resources === undefined) return;
  let length = resources.length;
  while (length > 0 && resources[length - 1] === undefined) length--;
  if (length !== resources.length) resources.length = length;
}
