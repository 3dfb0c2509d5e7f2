// Every entry point's types load for an ES module consumer, and the default
// import works as at run time (TS1192 before the .d.mts had a default export).
import { expectTypeOf, test } from 'vitest';
import gl, { spawn, Greenlet, Hub } from 'greenloop';
import * as greenlet from 'greenloop/greenlet';
import * as net from 'greenloop/net';
import * as fs from 'greenloop/fs';
import * as childProcess from 'greenloop/child_process';
import * as dns from 'greenloop/dns';
import * as http from 'greenloop/http';
import * as monkey from 'greenloop/monkey';
import Fiber from 'greenloop/fibers';
import Future from 'greenloop/fibers/future';

test('import gl from greenloop is the module namespace', () => {
  expectTypeOf(gl.spawn).toEqualTypeOf(spawn);
  expectTypeOf(gl.Greenlet).toEqualTypeOf(Greenlet);
  expectTypeOf(gl.sleep).parameter(0).toEqualTypeOf<number | undefined>();
});

test('every entry point exposes its API', () => {
  expectTypeOf(greenlet.getcurrent).returns.toHaveProperty('switch');
  expectTypeOf(net).toHaveProperty('connect');
  expectTypeOf(fs).toHaveProperty('readFile');
  expectTypeOf(childProcess).toHaveProperty('run');
  expectTypeOf(dns).toHaveProperty('lookup');
  expectTypeOf(http).toHaveProperty('request');
  expectTypeOf(monkey).toHaveProperty('patchAll');
  expectTypeOf(Fiber).toBeFunction();
  expectTypeOf(Future).toHaveProperty('fromPromise');
});

test("Hub's internals are not in its public types", () => {
  expectTypeOf<Hub>().not.toHaveProperty('wake');
  expectTypeOf<Hub>().not.toHaveProperty('park');
  expectTypeOf<Hub>().not.toHaveProperty('throwInto');
  expectTypeOf<Hub>().not.toHaveProperty('enterPark');
  expectTypeOf<Hub>().toHaveProperty('runCallback');
  expectTypeOf<Hub>().toHaveProperty('unjoinedErrorHandler');
});
