/**
 * The errors green IO makes itself, in Node's shapes: a system error with
 * `code`, `errno` and `syscall` (as `net`, `fs` and `child_process` throw
 * them), Node's `ERR_*` errors for closed sockets and servers, and Node's
 * `AbortError`. Every such error in `lib/io` is built here, so its `errno`
 * comes from `os.constants` rather than being typed by hand.
 * Not public API (no internal tag in this header: `stripInternal` would drop
 * the first statement's declaration with it).
 * @module
 */
import { constants as osConstants } from 'node:os';
import { getSystemErrorName } from 'node:util';

/** An errno name Node knows (`'ETIMEDOUT'`, `'EPIPE'`, ...). */
export type ErrnoCode = keyof typeof osConstants.errno;

/**
 * A Node-style system error (`code`, `errno`, `syscall`), as Node's own
 * `net` and `fs` throw: e.g. `systemError('ETIMEDOUT', 'read')` is
 * `read ETIMEDOUT`; `detail` follows the code in the message (a host, a pid).
 */
export function systemError(code: ErrnoCode, syscall: string, detail?: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`${syscall} ${code}${detail ? ` ${detail}` : ''}`);
  error.code = code;
  error.errno = -osConstants.errno[code];
  error.syscall = syscall;
  return error;
}

/**
 * The system error for a status a libuv handle reported (a negative errno),
 * as Node's own `net` builds it: e.g. `uvError(-32, 'write')` is `write EPIPE`
 * with that `errno`.
 */
export function uvError(status: number, syscall: string): NodeJS.ErrnoException {
  const code = status < 0 ? getSystemErrorName(status) : `E${status}`;
  return Object.assign(new Error(`${syscall} ${code}`), { errno: status, code, syscall });
}

/** Node's error for an operation on a socket that was closed locally. */
export function socketClosedError(): NodeJS.ErrnoException {
  return Object.assign(new Error('Socket is closed'), { code: 'ERR_SOCKET_CLOSED' });
}

/** Node's error for accepting on, or starting, a server that was closed. */
export function serverClosedError(): NodeJS.ErrnoException {
  return Object.assign(new Error('Server is not running.'), { code: 'ERR_SERVER_NOT_RUNNING' });
}

/** Node's error for a request whose client went away mid-body (`'aborted'`, `ECONNRESET`), as `http` reports it. */
export function requestAbortedError(): NodeJS.ErrnoException {
  return Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
}
