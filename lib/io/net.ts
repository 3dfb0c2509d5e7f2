/**
 * Blocking-style TCP, TLS and Unix-socket IO for greenlets: `connect()`,
 * `listen()` + `accept()`, and gevent's `StreamServer`.
 *
 * Every call parks only the calling greenlet while libuv does the work; all
 * other greenlets and callbacks keep running. Called outside a spawned
 * greenlet, a blocking call throws the hub's `GreenletError`. Errors are
 * Node's own (`ECONNREFUSED`, `ECONNRESET`, `ETIMEDOUT`, ...), thrown in the
 * greenlet that made the call.
 *
 * @example
 * ```js
 * const { spawn } = require('greenloop');
 * const { StreamServer, connect } = require('greenloop/net');
 *
 * const server = new StreamServer((sock) => {
 *   for (const line of sock) sock.sendall(`${line.toUpperCase()}\n`);
 * }, { port: 0, host: '127.0.0.1' });
 *
 * spawn(() => {
 *   server.start();
 *   const sock = connect(server.port, '127.0.0.1');
 *   sock.sendall('hello\n');
 *   console.log(sock.readLine()); // HELLO
 *   sock.close();
 *   server.stop();
 * });
 * ```
 * @module greenloop/net
 */
// The entry point of `greenloop/net`: each concept lives in lib/io/net/ (socket, connect, listener, stream-server).
export type { ReadLineOptions } from './_stream.js';
export { LineTooLongError, IncompleteReadError, ConcurrentIOError } from '../errors.js';
export { Socket, type SocketAddress } from './net/socket.js';
export { connect, type ConnectOptions } from './net/connect.js';
export { listen, Listener, type ListenOptions } from './net/listener.js';
export { StreamServer, type StreamHandler, type StreamServerOptions } from './net/stream-server.js';
