// Types of the `workers` option of greenloop/net's StreamServer and greenloop/http's createServer.
import { expectTypeOf, test } from 'vitest';
import { StreamServer, type StreamServerOptions } from 'greenloop/net';
import { createServer, type ServerOptions } from 'greenloop/http';

test('workers takes a count or { count, stopTimeout }', () => {
  expectTypeOf<{ workers: 2 }>().toMatchTypeOf<StreamServerOptions>();
  expectTypeOf<{ workers: { count: 2; stopTimeout: 5000 } }>().toMatchTypeOf<ServerOptions>();
  expectTypeOf<{ workers: { count: 2; stopTimeout: null } }>().toMatchTypeOf<StreamServerOptions>();
  expectTypeOf(new StreamServer(() => {}, { port: 7000, workers: 4 })).toEqualTypeOf<StreamServer>();
  expectTypeOf(createServer(() => {}, { workers: { count: 2 } }).listen(8080)).toHaveProperty('port');
});

test('a count given as a string, or an object without a count, is a type error', () => {
  // @ts-expect-error a count is a number
  new StreamServer(() => {}, { workers: 'two' });
  // @ts-expect-error the object form needs its count
  createServer(() => {}, { workers: { stopTimeout: 1000 } });
});
