/**
 * Patched `node:zlib` sync functions (`gzipSync`, `inflateSync`,
 * `brotliCompressSync`, ...), each on its callback twin with the same
 * options, which compresses on libuv's thread pool. Inputs below
 * {@link ZLIB_MIN_BYTES} and calls with `info: true` run the original.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import zlib from 'node:zlib';
import { parkOn, replacement } from './_emulate.js';
import { callOriginal } from './rule.js';

type AnyFunction = (...args: any[]) => any;
const Z = zlib as unknown as Record<string, AnyFunction>;

/**
 * Input sizes from which a call parks, in bytes. Measured (Node 20, busy
 * 2-core VM): gzip of 16 KiB 77 µs, 149 µs parked (the async stream
 * machinery costs more than the work); of 64 KiB 193 µs, 256 µs parked.
 */
export const ZLIB_MIN_BYTES = 64 * 1024;

const NAMES = [
  'deflateSync',
  'deflateRawSync',
  'gzipSync',
  'gunzipSync',
  'inflateSync',
  'inflateRawSync',
  'unzipSync',
  'brotliCompressSync',
  'brotliDecompressSync',
  'zstdCompressSync',
  'zstdDecompressSync',
];

function sizeOf(input: unknown): number {
  if (typeof input === 'string') return input.length;
  if (ArrayBuffer.isView(input)) return input.byteLength;
  if (input instanceof ArrayBuffer) return input.byteLength;
  return -1;
}

function viaAsync(name: string, original: AnyFunction, async: AnyFunction): AnyFunction {
  return replacement('zlib', original, (patched, self, args) => {
    const options = args[1] as { info?: boolean } | undefined;
    if (sizeOf(args[0]) < ZLIB_MIN_BYTES || (options !== null && typeof options === 'object' && options.info)) {
      return callOriginal(original, self, args);
    }
    return parkOn(patched, original, self, args, `zlib.${name}()`, (done) =>
      Reflect.apply(async, self, [args[0], options ?? {}, done]),
    );
  });
}

/** The replacements for `node:zlib`, by name (those this Node has). */
export function zlibReplacements(): Record<string, AnyFunction> {
  const out: Record<string, AnyFunction> = {};
  for (const name of NAMES) {
    const original = Z[name];
    const async = Z[name.slice(0, -4)];
    if (typeof original === 'function' && typeof async === 'function') out[name] = viaAsync(name, original, async);
  }
  return out;
}
