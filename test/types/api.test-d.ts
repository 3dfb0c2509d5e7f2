// Types of the gevent-level API, as a strict CommonJS TypeScript consumer sees them.
import { expectTypeOf, test } from 'vitest';
import {
  AbortError,
  AsyncResult,
  BlockingOnHubError,
  Event,
  Greenlet,
  GreenletError,
  Group,
  Pool,
  Queue,
  StopIteration,
  Timeout,
  iwait,
  joinall,
  local,
  spawn,
  wait,
  withTimeout,
  type Waitable,
} from 'greenloop';

test('joinall keeps the element type of what it is given', () => {
  const a = spawn(() => 1);
  const b = spawn(() => 'two');
  expectTypeOf(joinall([a, a])).toEqualTypeOf<Greenlet<number>[]>();
  expectTypeOf(joinall([a, b])).toEqualTypeOf<(Greenlet<number> | Greenlet<string>)[]>();
  expectTypeOf(joinall(new Set([b]), { timeout: 5, signal: AbortSignal.timeout(5) })).toEqualTypeOf<
    Greenlet<string>[]
  >();
});

test('Greenlet.start() checks its arguments against the function', () => {
  const g = new Greenlet((a: number, b: string) => `${a}${b}`);
  expectTypeOf(g).toEqualTypeOf<Greenlet<string, [a: number, b: string]>>();
  g.start(1, 'x');
  // @ts-expect-error a string where a number is expected
  g.start('1', 'x');
  // @ts-expect-error a missing argument
  g.start(1);
  // @ts-expect-error startLater checks them too
  g.startLater(5, 1, 2);
  // A greenlet of a subclass with run() takes any arguments.
  class Worker extends Greenlet<number> {
    run(n: number): number {
      return n;
    }
  }
  new Worker().start(1, 2, 3);
});

test('Group and Pool iterate members of their type, and map over several iterables', () => {
  const group = new Group<number>();
  for (const g of group) expectTypeOf(g).toEqualTypeOf<Greenlet<number>>();
  for (const g of new Group()) expectTypeOf(g).toEqualTypeOf<Greenlet<unknown>>();
  const n: number = 1;
  expectTypeOf(group.spawn(() => n)).toEqualTypeOf<Greenlet<number>>();
  // @ts-expect-error a Group<number> takes no member returning strings
  group.spawn(() => 'x');
  const pool = new Pool(2);
  expectTypeOf(pool.map((a: number, b: string) => b.repeat(a), [1, 2], ['x', 'y'])).toEqualTypeOf<string[]>();
  expectTypeOf(pool.map((n) => n * 2, [1, 2])).toEqualTypeOf<number[]>();
  expectTypeOf(pool.imapUnordered((a: number, b: boolean) => (b ? a : -a), [1], [true])).toEqualTypeOf<
    IterableIterator<number>
  >();
  // @ts-expect-error the second iterable must hold strings
  pool.map((a: number, b: string) => b.repeat(a), [1, 2], [3, 4]);
  expectTypeOf(pool.apply((a: number, b: number) => a + b, [1, 2])).toEqualTypeOf<number>();
  expectTypeOf(pool.apply(async () => 'later')).toEqualTypeOf<string>();
  expectTypeOf(
    pool.applyAsync(
      (n: number) => n,
      [1],
      (v) => expectTypeOf(v).toEqualTypeOf<number>(),
    ),
  ).toEqualTypeOf<Greenlet<number>>();
  expectTypeOf(pool.mapAsync((n: number) => `${n}`, [1])).toEqualTypeOf<Greenlet<string[]>>();
});

test('Queue.get() is typed honestly: StopIteration only where the item type admits it', () => {
  const q = new Queue<number>();
  expectTypeOf(q.get()).toEqualTypeOf<number>();
  expectTypeOf(q.peek()).toEqualTypeOf<number | undefined>();
  // @ts-expect-error this queue does not carry the marker
  q.put(StopIteration);
  // @ts-expect-error not an item of this queue
  q.put('x');
  const ended = new Queue<number | typeof StopIteration>();
  ended.put(StopIteration);
  expectTypeOf(ended.get()).toEqualTypeOf<number | typeof StopIteration>();
  expectTypeOf(ended.getNowait()).toEqualTypeOf<number | typeof StopIteration>();
  for (const item of ended) expectTypeOf(item).toEqualTypeOf<number>();
});

test('local() defaults to unknown values, not any', () => {
  expectTypeOf(local()).toEqualTypeOf<Record<string, unknown>>();
  expectTypeOf(local(() => ({ user: 'ann' })).user).toEqualTypeOf<string>();
});

test('wait(promise) gives the value; wait(objects) and iwait give the objects', () => {
  expectTypeOf(wait(Promise.resolve(1))).toEqualTypeOf<number>();
  expectTypeOf(wait(Promise.resolve(1), { timeout: 5, signal: new AbortController().signal })).toEqualTypeOf<number>();
  const g = spawn(() => 1);
  const e = new Event();
  expectTypeOf(wait([g, e])).toEqualTypeOf<(Greenlet<number> | Event)[]>();
  expectTypeOf(iwait([new AsyncResult<string>()], { count: 1 })).toEqualTypeOf<
    Generator<AsyncResult<string>, void, undefined>
  >();
  expectTypeOf<Greenlet<number>>().toMatchTypeOf<Waitable>();
  // @ts-expect-error a number is nothing to wait for
  wait([1]);
});

test('signal options are accepted where the call blocks', () => {
  const signal = AbortSignal.timeout(10);
  new Event().wait({ signal, timeout: 5 });
  new AsyncResult().get({ signal });
  new Queue().put(1, { signal });
  new Queue().peek({ block: true, signal });
  spawn(() => 1).join({ signal });
  spawn(() => 1).get({ signal });
  new Pool(1).waitAvailable({ signal });
  new Timeout(5, undefined, { signal });
  expectTypeOf(new Timeout(5).signal).toEqualTypeOf<AbortSignal>();
  // @ts-expect-error not a signal
  new Event().wait({ signal: 'stop' });
});

test("withTimeout takes the function's arguments, or { fallback }", () => {
  expectTypeOf(withTimeout(5, (a: number, b: number) => a + b, 1, 2)).toEqualTypeOf<number>();
  expectTypeOf(withTimeout(5, () => 'x', { fallback: null })).toEqualTypeOf<string | null>();
  expectTypeOf(new Timeout(5, false).run((n: number) => n, 1)).toEqualTypeOf<number | undefined>();
  // @ts-expect-error wrong argument type
  withTimeout(5, (a: number) => a, 'x');
});

test('error classes', () => {
  expectTypeOf<BlockingOnHubError>().toMatchTypeOf<GreenletError>();
  expectTypeOf<BlockingOnHubError['operation']>().toEqualTypeOf<string>();
  expectTypeOf<AbortError['code']>().toEqualTypeOf<'ABORT_ERR'>();
});
