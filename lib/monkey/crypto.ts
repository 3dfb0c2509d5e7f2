/**
 * Patched `node:crypto` sync functions whose work is long enough to be worth
 * a park (see bench/monkey.js): `pbkdf2Sync`, `scryptSync`,
 * `generateKeyPairSync` and `randomFillSync`, each on its callback twin,
 * which runs on libuv's thread pool. Calls below the thresholds run the
 * original (a park costs tens of microseconds).
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import crypto from 'node:crypto';
import { parkOn, replacement } from './_emulate.js';
import { callOriginal } from './rule.js';

type AnyFunction = (...args: any[]) => any;

/**
 * pbkdf2 iterations from which a call parks (below it the hash takes less
 * than a park). Measured: 1,000 sha256 iterations 218 µs, 189 µs parked.
 */
export const PBKDF2_MIN_ITERATIONS = 1000;
/** randomFill sizes from which a call parks, in bytes (256 KiB: 71 µs, 103 µs parked). */
export const RANDOM_FILL_MIN_BYTES = 256 * 1024;
/** Key types whose generation takes milliseconds; the others (ec, ed25519, x25519, ...) take microseconds. */
const SLOW_KEY_TYPES = new Set(['rsa', 'rsa-pss', 'dsa', 'dh']);

function pbkdf2Sync(): AnyFunction {
  const original = crypto.pbkdf2Sync as AnyFunction;
  return replacement('crypto', original, (patched, self, args) => {
    if (!(typeof args[2] === 'number' && args[2] >= PBKDF2_MIN_ITERATIONS)) return callOriginal(original, self, args);
    return parkOn(patched, original, self, args, 'crypto.pbkdf2Sync()', (done) =>
      crypto.pbkdf2(args[0], args[1], args[2], args[3], args[4], done as never),
    );
  });
}

function scryptSync(): AnyFunction {
  const original = crypto.scryptSync as AnyFunction;
  return replacement('crypto', original, (patched, self, args) =>
    parkOn(patched, original, self, args, 'crypto.scryptSync()', (done) =>
      Reflect.apply(crypto.scrypt, self, [args[0], args[1], args[2], args[3] ?? {}, done]),
    ),
  );
}

function generateKeyPairSync(): AnyFunction {
  const original = crypto.generateKeyPairSync as AnyFunction;
  return replacement('crypto', original, (patched, self, args) => {
    if (!SLOW_KEY_TYPES.has(args[0] as string)) return callOriginal(original, self, args);
    return parkOn(patched, original, self, args, 'crypto.generateKeyPairSync()', (done) =>
      Reflect.apply(crypto.generateKeyPair, self, [
        args[0],
        args[1],
        (error: unknown, publicKey: unknown, privateKey: unknown) => done(error, { publicKey, privateKey }),
      ]),
    );
  });
}

function randomFillSync(): AnyFunction {
  const original = crypto.randomFillSync as AnyFunction;
  return replacement('crypto', original, (patched, self, args) => {
    const buffer = args[0] as NodeJS.ArrayBufferView;
    if (!ArrayBuffer.isView(buffer) || buffer.byteLength < RANDOM_FILL_MIN_BYTES)
      return callOriginal(original, self, args);
    return parkOn(patched, original, self, args, 'crypto.randomFillSync()', (done) =>
      Reflect.apply(crypto.randomFill, self, [buffer, args[1] ?? 0, args[2], (error: unknown) => done(error, buffer)]),
    );
  });
}

/** The replacements for `node:crypto`, by name. */
export function cryptoReplacements(): Record<string, AnyFunction> {
  return {
    pbkdf2Sync: pbkdf2Sync(),
    scryptSync: scryptSync(),
    generateKeyPairSync: generateKeyPairSync(),
    randomFillSync: randomFillSync(),
  };
}
