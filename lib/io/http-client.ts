/**
 * A blocking-style HTTP client for greenlets, on undici: `request()` and
 * `fetch()` park only the calling greenlet; connections are kept alive and
 * pooled per origin by an undici `Agent` of this module's own (unless a
 * `dispatcher` is given).
 * @module
 */
import type { Readable } from 'node:stream';
import {
  Agent,
  errors as undiciErrors,
  fetch as undiciFetch,
  type Dispatcher,
  type RequestInit as UndiciRequestInit,
  type Response as UndiciResponse,
} from 'undici';
import {
  assertMayBlock,
  atCaller,
  checkOptions,
  checkTimeout,
  describe,
  parkOnPromise,
  Waiter,
  withSignal,
} from './_park.js';
import { ConcurrentIOError } from '../errors.js';

let sharedAgent: Agent | null = null;

/** `given`, or the client's own keep-alive Agent (see {@link RequestOptions.dispatcher}). */
function dispatcherOr(given: Dispatcher | undefined): Dispatcher {
  return given ?? (sharedAgent ??= new Agent());
}

/** Header values as undici reports them (names in lower case). */
export type IncomingHeaders = Record<string, string | string[] | undefined>;

/** Options of {@link request}. */
export interface RequestOptions {
  /** @default 'GET' */
  method?: string;
  /** Request headers: an object or a list of `[name, value]` pairs. */
  headers?: Record<string, string | string[] | undefined> | [string, string][] | null;
  /** The request body. */
  body?: string | Uint8Array | Readable | null;
  /** A value sent as a JSON body (sets `content-type: application/json`). */
  json?: unknown;
  /** Query parameters added to the URL. */
  query?: Record<string, unknown>;
  /**
   * Milliseconds to wait for the response headers, and then for each piece
   * of the body; past it undici throws `UND_ERR_HEADERS_TIMEOUT` or
   * `UND_ERR_BODY_TIMEOUT`. For a deadline on the whole exchange, wrap the
   * calls in the hub's `Timeout`/`withTimeout`.
   * @default 300000 (undici's)
   */
  timeout?: number | null;
  /**
   * Aborts the request until its headers arrive: the call throws Node's
   * `AbortError` (`name: 'AbortError'`, `code: 'ABORT_ERR'`, the signal's
   * reason as `cause`), also for a signal aborted before the call.
   */
  signal?: AbortSignal;
  /**
   * The undici dispatcher (`Agent`, `Pool`, `Client`, `ProxyAgent`, ...).
   * @default a keep-alive `Agent` shared by greenloop's HTTP client. Not
   * undici's global dispatcher: Node's own bundled undici (a different major
   * version on Node 22/24) may have installed it, and its handler API differs.
   */
  dispatcher?: Dispatcher;
}

/** Bytes of body buffered before undici is asked to pause the connection. */
const BODY_HIGH_WATER_MARK = 65536;
const EMPTY = Buffer.alloc(0);

/**
 * The undici dispatch handler behind one {@link request}: it turns
 * undici's callbacks into wake-ups of the greenlet that waits for the
 * headers or for the body, and applies back-pressure with `pause()`.
 */
class Exchange implements Dispatcher.DispatchHandler {
  controller: Dispatcher.DispatchController | null = null;
  /** Set once the greenlet gave up; aborts as soon as undici gives a controller. */
  abortReason: Error | null = null;
  /** Woken with the response at the headers, or with the error before them. */
  head: Waiter<Response> | null;
  response: Response | null = null;
  chunks: Buffer[] = [];
  length = 0;
  ended = false;
  error: Error | null = null;
  discarding = false;
  /** The greenlet waiting for body data. */
  reader: Waiter<void> | null = null;

  constructor(head: Waiter<Response>) {
    this.head = head;
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason !== null) controller.abort(this.abortReason);
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHeaders,
    statusMessage?: string,
  ): void {
    if (statusCode < 200) return;
    this.controller = controller;
    this.response = new Response(this, statusCode, statusMessage ?? '', headers);
    const head = this.head;
    this.head = null;
    head?.switch(this.response);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.discarding) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
    if (this.length >= BODY_HIGH_WATER_MARK) controller.pause();
    this.wake();
  }

  onResponseEnd(): void {
    this.ended = true;
    this.wake();
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.error === null) this.error = error;
    const head = this.head;
    this.head = null;
    head?.throw(error);
    this.wake();
  }

  wake(): void {
    const reader = this.reader;
    if (reader !== null) {
      this.reader = null;
      reader.switch(undefined);
    }
  }

  /** Gives up on the exchange: aborts it (now, or once undici starts it). */
  abort(reason: Error): void {
    this.abortReason = reason;
    this.discarding = true;
    this.chunks = [];
    this.length = 0;
    if (this.controller !== null && !this.ended) this.controller.abort(reason);
  }

  /** Removes and returns everything buffered, resuming the connection. */
  take(): Buffer {
    const chunks = this.chunks;
    const out = chunks.length === 1 ? chunks[0]! : chunks.length === 0 ? EMPTY : Buffer.concat(chunks, this.length);
    this.chunks = [];
    this.length = 0;
    if (this.controller?.paused) this.controller.resume();
    return out;
  }

  /** Parks until body data, the end or an error arrives. */
  park(operation: string): void {
    if (this.reader !== null)
      throw new ConcurrentIOError(`${operation}: another greenlet is already reading this body`);
    const waiter = new Waiter<void>(operation);
    this.reader = waiter;
    try {
      waiter.get();
    } catch (error) {
      if (this.reader === waiter) this.reader = null;
      if (error === this.error) {
        atCaller(error);
        throw error;
      }
      // Interrupted (Timeout, kill): nobody will read the rest.
      this.abort(new undiciErrors.RequestAbortedError());
      throw error;
    }
  }
}

/**
 * A response whose headers have arrived. Read the body with one of
 * {@link text}, {@link json}, {@link arrayBuffer}, {@link buffer} or by
 * iterating over its chunks, or discard it with {@link dump}: a body left
 * unread keeps its connection from being reused. `using res = request(...)`
 * dumps it at the end of the block if it was not read.
 * @example
 * ```js
 * const http = require('greenloop/http');
 * // in a greenlet:
 * const res = http.request('http://127.0.0.1:8080/users/1');
 * if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
 * console.log(res.headers['content-type'], res.json());
 * ```
 */
export class Response implements Iterable<Buffer> {
  /** The HTTP status code. */
  readonly status: number;
  /** The status text. */
  readonly statusText: string;
  /** Response headers, names in lower case. */
  readonly headers: IncomingHeaders;
  readonly #exchange: Exchange;
  #consumed = false;

  /** @internal */
  constructor(exchange: Exchange, status: number, statusText: string, headers: IncomingHeaders) {
    this.#exchange = exchange;
    this.status = status;
    this.statusText = statusText;
    this.headers = headers;
  }

  /** Alias of {@link status} (undici's and Node's name). */
  get statusCode(): number {
    return this.status;
  }

  /** True for a 2xx status. */
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  /**
   * Reads the whole body.
   * @throws the connection's error (`UND_ERR_SOCKET`, `UND_ERR_BODY_TIMEOUT`, ...).
   */
  buffer(): Buffer {
    assertMayBlock('Response.buffer');
    this.#consumed = true;
    const ex = this.#exchange;
    const parts: Buffer[] = [];
    for (;;) {
      if (ex.length > 0) parts.push(ex.take());
      if (ex.error !== null) throw ex.error;
      if (ex.ended || ex.discarding) return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      ex.park('Response.buffer');
    }
  }

  /** Reads the whole body as UTF-8 text. */
  text(): string {
    return this.buffer().toString('utf8');
  }

  /**
   * Reads the whole body and parses it as JSON.
   * @throws SyntaxError for a body that is not JSON.
   */
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }

  /** Reads the whole body into an ArrayBuffer. */
  arrayBuffer(): ArrayBuffer {
    const bytes = this.buffer();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  /** Iterates over the body's chunks as they arrive (parking between them). */
  *[Symbol.iterator](): Iterator<Buffer> {
    this.#consumed = true;
    const ex = this.#exchange;
    for (;;) {
      assertMayBlock('Response iteration');
      if (ex.length > 0) yield ex.take();
      else if (ex.error !== null) throw ex.error;
      else if (ex.ended || ex.discarding) return;
      else ex.park('Response iteration');
    }
  }

  /**
   * Discards the rest of the body without parking: what is still to come is
   * read and dropped, and the connection goes back to the pool.
   */
  dump(): void {
    this.#consumed = true;
    const ex = this.#exchange;
    ex.discarding = true;
    ex.take();
  }

  /** `Symbol.dispose`: {@link dump} unless the body was read. */
  [Symbol.dispose](): void {
    if (!this.#consumed) this.dump();
  }
}

/**
 * Checks {@link request}'s options before anything is sent, so a wrong type
 * is named with the value received rather than failing deep in undici.
 */
function checkRequestOptions(options: RequestOptions): void {
  checkOptions('options', options);
  const { method, headers, body, query, signal, dispatcher } = options;
  if (method !== undefined && (typeof method !== 'string' || method.length === 0)) {
    throw new TypeError(`method must be a non-empty string such as 'GET' or 'POST', got ${describe(method)}`);
  }
  if (headers != null && typeof headers !== 'object') {
    throw new TypeError(`headers must be an object or an array of [name, value] pairs, got ${describe(headers)}`);
  }
  if (body != null && typeof body !== 'string' && !(body instanceof Uint8Array) && !isStreamOrIterable(body)) {
    throw new TypeError(`body must be a string, Buffer, Uint8Array, Readable or iterable, got ${describe(body)}`);
  }
  if (query !== undefined && (query === null || typeof query !== 'object')) {
    throw new TypeError(`query must be an object of parameters, got ${describe(query)}`);
  }
  // Duck-typed as Node's own check is, so a signal of another realm or a polyfill passes.
  if (
    signal !== undefined &&
    (signal === null ||
      typeof signal !== 'object' ||
      !('aborted' in signal) ||
      typeof signal.addEventListener !== 'function')
  ) {
    throw new TypeError(`signal must be an AbortSignal, got ${describe(signal)}`);
  }
  if (dispatcher !== undefined && typeof (dispatcher as { dispatch?: unknown } | null)?.dispatch !== 'function') {
    throw new TypeError(
      `dispatcher must be an undici Dispatcher (Agent, Pool, Client, ...: an object with a dispatch() method), got ${describe(dispatcher)}`,
    );
  }
}

function isStreamOrIterable(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return false;
  const v = value as { pipe?: unknown; [Symbol.iterator]?: unknown; [Symbol.asyncIterator]?: unknown };
  return (
    typeof v.pipe === 'function' ||
    typeof v[Symbol.iterator] === 'function' ||
    typeof v[Symbol.asyncIterator] === 'function'
  );
}

function parseUrl(url: unknown): URL {
  if (url instanceof URL) return url;
  if (typeof url === 'string') return new URL(url);
  throw new TypeError(`url must be a string or URL, got ${describe(url)}`);
}

/**
 * Sends an HTTP request and parks until the response headers arrive.
 * Non-2xx statuses are returned, not thrown.
 * @throws Node's connection errors (`ECONNREFUSED`, ...), undici's errors
 *   (`UND_ERR_HEADERS_TIMEOUT`, `UND_ERR_SOCKET`, ...); `GreenletError`
 *   outside a spawned greenlet; `TypeError` naming the option and the value
 *   for bad options (checked before anything is sent). If the waiting greenlet is interrupted (a
 *   `Timeout`, `kill()`), the request is aborted.
 * @example
 * ```js
 * const res = http.request('http://127.0.0.1:8080/items', { method: 'POST', json: { name: 'x' } });
 * if (res.status !== 201) throw new Error(`unexpected ${res.status}`);
 * const item = res.json();
 * ```
 */
export function request(url: string | URL, options: RequestOptions = {}): Response {
  assertMayBlock('http.request');
  const target = parseUrl(url);
  checkRequestOptions(options);
  const timeout = checkTimeout('timeout', options.timeout);
  let headers = options.headers ?? undefined;
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
    const pairs = Array.isArray(headers) ? headers : Object.entries(headers ?? {});
    if (!pairs.some(([name]) => name.toLowerCase() === 'content-type')) {
      headers = Array.isArray(headers)
        ? [...headers, ['content-type', 'application/json']]
        : { ...headers, 'content-type': 'application/json' };
    }
  }
  const dispatchOptions = {
    origin: target.origin,
    path: `${target.pathname}${target.search}`,
    method: (options.method ?? 'GET').toUpperCase(),
    headers: Array.isArray(headers) ? headers.flat() : headers,
    body: body ?? null,
    query: options.query,
    ...(timeout !== null ? { headersTimeout: timeout, bodyTimeout: timeout } : {}),
  } as Dispatcher.DispatchOptions;
  const head = new Waiter<Response>(`http.request(${dispatchOptions.method} ${target.href})`);
  const exchange = new Exchange(head);
  // An abort interrupts the wait for the headers with Node's AbortError; the catch aborts the exchange.
  return withSignal(options.signal, () => {
    try {
      dispatcherOr(options.dispatcher).dispatch(dispatchOptions, exchange);
      return head.get();
    } catch (error) {
      if (error === exchange.error) atCaller(error);
      exchange.abort(error instanceof Error ? error : new undiciErrors.RequestAbortedError());
      throw error;
    }
  });
}

/**
 * `request(url, { ...options, method: 'GET' })`.
 * @example
 * ```js
 * const http = require('greenloop/http');
 * // in a greenlet:
 * const res = http.get('http://127.0.0.1:8080/health', { timeout: 2000 });
 * console.log(res.status, res.text());
 * ```
 */
export function get(url: string | URL, options: Omit<RequestOptions, 'method' | 'body' | 'json'> = {}): Response {
  checkOptions('options', options);
  return request(url, { ...options, method: 'GET' });
}

/**
 * A WHATWG `fetch` response whose body methods park instead of returning promises.
 * @example
 * ```js
 * const http = require('greenloop/http');
 * // in a greenlet:
 * const res = http.fetch('http://127.0.0.1:8080/users/1');
 * console.log(res.ok, res.json()); // json() parks instead of returning a promise
 * ```
 */
export class FetchResponse {
  /** undici's WHATWG `Response`. */
  readonly raw: UndiciResponse;

  /** @internal */
  constructor(raw: UndiciResponse) {
    this.raw = raw;
  }

  get status(): number {
    return this.raw.status;
  }

  get statusText(): string {
    return this.raw.statusText;
  }

  get ok(): boolean {
    return this.raw.ok;
  }

  get headers(): UndiciResponse['headers'] {
    return this.raw.headers;
  }

  get url(): string {
    return this.raw.url;
  }

  get redirected(): boolean {
    return this.raw.redirected;
  }

  /** The body as text. */
  text(): string {
    return parkOnPromise('Response.text', this.raw.text());
  }

  /** The body parsed as JSON. */
  json<T = unknown>(): T {
    return parkOnPromise('Response.json', this.raw.json() as Promise<T>);
  }

  /** The body as an ArrayBuffer. */
  arrayBuffer(): ArrayBuffer {
    return parkOnPromise('Response.arrayBuffer', this.raw.arrayBuffer());
  }
}

/**
 * The WHATWG `fetch` (undici's), in blocking style: parks until the
 * response headers arrive and returns a {@link FetchResponse} whose `text()`,
 * `json()` and `arrayBuffer()` park too. Follows redirects.
 * @throws `TypeError('fetch failed')` with the network error as `cause`, as
 *   `fetch` does. If the waiting greenlet is interrupted, the fetch is aborted.
 * @example
 * ```js
 * const res = http.fetch('http://127.0.0.1:8080/');
 * console.log(res.status, res.text());
 * ```
 */
export function fetch(input: string | URL, init: UndiciRequestInit = {}): FetchResponse {
  assertMayBlock('http.fetch');
  checkOptions('init', init);
  const controller = new AbortController();
  const signal = init.signal ? AbortSignal.any([init.signal as AbortSignal, controller.signal]) : controller.signal;
  const raw = parkOnPromise(
    'http.fetch',
    undiciFetch(input, { ...init, dispatcher: dispatcherOr(init.dispatcher), signal }),
    () => controller.abort(),
  );
  return new FetchResponse(raw);
}
