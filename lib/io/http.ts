/**
 * Blocking-style HTTP for greenlets.
 *
 * - **Client** (on undici, connections kept alive and pooled per origin):
 *   {@link request} / {@link get} return a {@link Response} once its headers
 *   arrive; its `text()`, `json()`, `arrayBuffer()` and chunk iteration park
 *   only the calling greenlet. {@link fetch} is WHATWG `fetch` in blocking style.
 * - **Server** (on `node:http`): {@link createServer}`(handler)` runs each
 *   request's handler in a greenlet (one serves a loop turn's requests in
 *   turn until a handler parks), with
 *   `req.body()`/`text()`/`json()` and `res.sendall()` in blocking style;
 *   idle keep-alive connections hold no greenlet.
 *
 * Errors are Node's and undici's own, thrown in the calling greenlet;
 * outside a spawned greenlet each blocking call throws the hub's `GreenletError`.
 *
 * @example
 * ```js
 * const { spawn } = require('greenloop');
 * const http = require('greenloop/http');
 *
 * spawn(() => {
 *   const server = http.createServer((req, res) => res.json({ hello: req.url }));
 *   const { port } = server.listen(0, '127.0.0.1');
 *   const res = http.request(`http://127.0.0.1:${port}/world`);
 *   console.log(res.status, res.json()); // 200 { hello: '/world' }
 *   server.close();
 * });
 * ```
 * @module greenloop/http
 */
export {
  request,
  get,
  fetch,
  Response,
  FetchResponse,
  type RequestOptions,
  type IncomingHeaders,
} from './http-client.js';
export {
  createServer,
  Server,
  IncomingRequest,
  OutgoingResponse,
  PayloadTooLargeError,
  DEFAULT_MAX_BODY,
  type RequestHandler,
  type ServerOptions,
  type ServerAddress,
  type ServerListenOptions,
  type CloseOptions,
  type BodyOptions,
} from './http-server.js';
