/**
 * Blocking-style DNS for greenlets: `lookup()` (the operating system's
 * resolver, as `net.connect` uses it, on libuv's thread pool) and the
 * `resolve*()` family (c-ares, straight to DNS servers).
 *
 * Errors are Node's own (`ENOTFOUND`, `ENODATA`, `ETIMEOUT`, ...), thrown in
 * the calling greenlet; outside a spawned greenlet each call throws the
 * hub's `GreenletError`. A call interrupted by a `Timeout` or `kill()` returns
 * at once; its query finishes in the background (cancelling it would cancel
 * every query of the same resolver).
 *
 * @example
 * ```js
 * const { spawn } = require('greenloop');
 * const dns = require('greenloop/dns');
 *
 * spawn(() => {
 *   console.log(dns.lookup('localhost'));       // { address: '127.0.0.1', family: 4 }
 *   console.log(dns.resolveMx('example.com'));  // [{ exchange: '...', priority: 10 }]
 * });
 * ```
 * @module greenloop/dns
 */
import * as dns from 'node:dns';
import { checkSignal, describe, parkOnCallback } from './_park.js';

/** One address, as `dns.lookup` gives it. */
export interface LookupAddress {
  address: string;
  /** 4 or 6. */
  family: number;
}

/**
 * Resolves a host name like `net.connect` does (the OS resolver, honouring
 * `/etc/hosts`). Returns the first address, or all of them with `{ all: true }`.
 * `signal` interrupts the wait with Node's `AbortError` (the OS lookup
 * itself cannot be cancelled and finishes on libuv's thread pool).
 * @throws `ENOTFOUND` for an unknown name; `AbortError` (`code: 'ABORT_ERR'`)
 *   when `signal` aborts first.
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.lookup('localhost');               // { address: '127.0.0.1', family: 4 }
 * dns.lookup('localhost', { all: true }); // [{ address: '127.0.0.1', family: 4 }, ...]
 * ```
 */
export function lookup(hostname: string, options?: (dns.LookupOneOptions & WithSignal) | number): LookupAddress;
export function lookup(hostname: string, options: dns.LookupAllOptions & WithSignal): LookupAddress[];
export function lookup(
  hostname: string,
  options: (dns.LookupOptions & WithSignal) | number = {},
): LookupAddress | LookupAddress[] {
  if (typeof hostname !== 'string') throw new TypeError(`hostname must be a string, got ${describe(hostname)}`);
  const { signal, rest } = splitSignal(options);
  return parkOnCallback<LookupAddress | LookupAddress[]>(
    'dns.lookup',
    (callback) =>
      dns.lookup(hostname, rest as dns.LookupOptions, (error, address, family) =>
        callback(error, Array.isArray(address) ? address : { address, family: family! }),
      ),
    { signal },
  );
}

/** The `signal` option every blocking call of this module takes. */
export interface WithSignal {
  /** Aborting it interrupts the wait with Node's `AbortError`; an aborted one throws at once. */
  signal?: AbortSignal;
}

/** Takes `signal` out of an options object (Node's dns functions reject unknown ones only for types, not keys, but keep it ours). */
function splitSignal<T>(options: T): { signal: AbortSignal | undefined; rest: T } {
  if (options === null || typeof options !== 'object' || !('signal' in options))
    return { signal: undefined, rest: options };
  const { signal, ...rest } = options as T & WithSignal;
  return { signal: checkSignal('options.signal', signal), rest: rest as T };
}

/**
 * Resolves an IP address and port to a host name and service (`dns.lookupService`).
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.lookupService('127.0.0.1', 22); // { hostname: 'localhost', service: 'ssh' }
 * ```
 */
export function lookupService(address: string, port: number): { hostname: string; service: string } {
  return parkOnCallback('dns.lookupService', (callback) =>
    dns.lookupService(address, port, (error, hostname, service) => callback(error, { hostname, service })),
  );
}

type ResolverLike = dns.Resolver;

/** Runs one c-ares query on `resolver` (Node's default one if `null`). */
function query<T>(resolver: ResolverLike | null, operation: string, method: string, ...args: unknown[]): T {
  const target = (resolver ?? dns) as unknown as Record<string, (...a: unknown[]) => void>;
  if (typeof args[0] !== 'string') throw new TypeError(`hostname must be a string, got ${describe(args[0])}`);
  // A last options object may carry `signal`; an object left empty without it is dropped (resolve() takes none).
  let signal: AbortSignal | undefined;
  const last = args.length > 1 ? args[args.length - 1] : undefined;
  if (last !== null && typeof last === 'object' && 'signal' in last) {
    const split = splitSignal(last);
    signal = split.signal;
    if (Object.keys(split.rest as object).length > 0) args[args.length - 1] = split.rest;
    else args.pop();
  }
  return parkOnCallback<T>(operation, (callback) => target[method]!.call(resolver ?? dns, ...args, callback), {
    signal,
  });
}

/**
 * The `resolve*()` functions bound to one resolver. The module-level
 * functions use Node's default resolver; a {@link Resolver} has its own
 * servers and timeouts.
 */
interface Resolves {
  // Each takes a last `{ signal }` (see WithSignal).
  /** Records of type `rrtype` (`'A'` by default), as `dns.resolve`. */
  resolve(hostname: string, rrtype?: string, options?: WithSignal): unknown[];
  /** IPv4 addresses (`A`); `{ ttl: true }` adds the TTLs. */
  resolve4(hostname: string, options?: dns.ResolveOptions & WithSignal): string[] | dns.RecordWithTtl[];
  /** IPv6 addresses (`AAAA`). */
  resolve6(hostname: string, options?: dns.ResolveOptions & WithSignal): string[] | dns.RecordWithTtl[];
  resolveAny(hostname: string, options?: WithSignal): dns.AnyRecord[];
  resolveCaa(hostname: string, options?: WithSignal): dns.CaaRecord[];
  resolveCname(hostname: string, options?: WithSignal): string[];
  resolveMx(hostname: string, options?: WithSignal): dns.MxRecord[];
  resolveNaptr(hostname: string, options?: WithSignal): dns.NaptrRecord[];
  resolveNs(hostname: string, options?: WithSignal): string[];
  resolvePtr(hostname: string, options?: WithSignal): string[];
  resolveSoa(hostname: string, options?: WithSignal): dns.SoaRecord;
  resolveSrv(hostname: string, options?: WithSignal): dns.SrvRecord[];
  resolveTxt(hostname: string, options?: WithSignal): string[][];
  /** Host names of an IP address (`PTR` lookup). */
  reverse(ip: string, options?: WithSignal): string[];
}

function bind(resolver: ResolverLike | null): Resolves {
  const q =
    (method: string) =>
    (...args: unknown[]): any =>
      query(resolver, `dns.${method}`, method, ...args.filter((a) => a !== undefined));
  return {
    resolve: q('resolve'),
    resolve4: q('resolve4'),
    resolve6: q('resolve6'),
    resolveAny: q('resolveAny'),
    resolveCaa: q('resolveCaa'),
    resolveCname: q('resolveCname'),
    resolveMx: q('resolveMx'),
    resolveNaptr: q('resolveNaptr'),
    resolveNs: q('resolveNs'),
    resolvePtr: q('resolvePtr'),
    resolveSoa: q('resolveSoa'),
    resolveSrv: q('resolveSrv'),
    resolveTxt: q('resolveTxt'),
    reverse: q('reverse'),
  };
}

const defaults = bind(null);

/**
 * Records of type `rrtype` (default `'A'`), as `dns.resolve`. @throws `ENODATA`, `ENOTFOUND`, ...
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolve('example.com', 'TXT'); // [['v=spf1 -all'], ...]
 * ```
 */
export const resolve: (hostname: string, rrtype?: string) => unknown[] = defaults.resolve;
/**
 * IPv4 addresses (`A` records); `{ ttl: true }` returns `{ address, ttl }`s.
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolve4('example.com');                 // ['93.184.215.14']
 * dns.resolve4('example.com', { ttl: true });   // [{ address: '93.184.215.14', ttl: 300 }]
 * ```
 */
export const resolve4: {
  (hostname: string, options?: { ttl?: false } & WithSignal): string[];
  (hostname: string, options: { ttl: true } & WithSignal): dns.RecordWithTtl[];
} = defaults.resolve4 as any;
/**
 * IPv6 addresses (`AAAA` records); `{ ttl: true }` returns `{ address, ttl }`s.
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolve6('example.com'); // ['2606:2800:21f:cb07:6820:80da:af6b:8b2c']
 * ```
 */
export const resolve6: {
  (hostname: string, options?: { ttl?: false } & WithSignal): string[];
  (hostname: string, options: { ttl: true } & WithSignal): dns.RecordWithTtl[];
} = defaults.resolve6 as any;
/**
 * All records (`ANY` query).
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolveAny('example.com'); // [{ type: 'A', address: '...', ttl: 300 }, ...]
 * ```
 */
export const resolveAny = defaults.resolveAny;
/**
 * `CAA` records.
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolveCaa('example.com'); // [{ critical: 0, issue: 'letsencrypt.org' }]
 * ```
 */
export const resolveCaa = defaults.resolveCaa;
/**
 * `CNAME` records.
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolveCname('www.example.com'); // ['example.com']
 * ```
 */
export const resolveCname = defaults.resolveCname;
/**
 * `MX` records.
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolveMx('example.com'); // [{ exchange: 'mail.example.com', priority: 10 }]
 * ```
 */
export const resolveMx = defaults.resolveMx;
/**
 * `NAPTR` records.
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolveNaptr('sip.example.com'); // [{ flags: 's', service: 'SIP+D2U', ... }]
 * ```
 */
export const resolveNaptr = defaults.resolveNaptr;
/**
 * `NS` records.
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolveNs('example.com'); // ['a.iana-servers.net', 'b.iana-servers.net']
 * ```
 */
export const resolveNs = defaults.resolveNs;
/**
 * `PTR` records.
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolvePtr('1.0.0.127.in-addr.arpa'); // ['localhost']
 * ```
 */
export const resolvePtr = defaults.resolvePtr;
/**
 * The `SOA` record.
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolveSoa('example.com'); // { nsname: '...', hostmaster: '...', serial: 2024..., ... }
 * ```
 */
export const resolveSoa = defaults.resolveSoa;
/**
 * `SRV` records.
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolveSrv('_sip._udp.example.com'); // [{ name: 'sip.example.com', port: 5060, priority: 10, weight: 5 }]
 * ```
 */
export const resolveSrv = defaults.resolveSrv;
/**
 * `TXT` records (each a list of strings).
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.resolveTxt('example.com'); // [['v=spf1 -all']]
 * ```
 */
export const resolveTxt = defaults.resolveTxt;
/**
 * Host names of an IP address.
 * @example
 * ```js
 * const dns = require('greenloop/dns');
 * // in a greenlet:
 * dns.reverse('8.8.8.8'); // ['dns.google']
 * ```
 */
export const reverse = defaults.reverse;

/**
 * An independent resolver (Node's `dns.Resolver`) with blocking-style
 * methods: its own servers, timeout and tries.
 * @example
 * ```js
 * const r = new dns.Resolver({ timeout: 500, tries: 2 });
 * r.setServers(['127.0.0.1:5353']);
 * r.resolve4('printer.lan'); // ['192.168.1.20']
 * ```
 */
export class Resolver {
  /** The underlying `dns.Resolver`. */
  readonly raw: dns.Resolver;
  readonly resolve: Resolves['resolve'];
  readonly resolve4: typeof resolve4;
  readonly resolve6: typeof resolve6;
  readonly resolveAny: Resolves['resolveAny'];
  readonly resolveCaa: Resolves['resolveCaa'];
  readonly resolveCname: Resolves['resolveCname'];
  readonly resolveMx: Resolves['resolveMx'];
  readonly resolveNaptr: Resolves['resolveNaptr'];
  readonly resolveNs: Resolves['resolveNs'];
  readonly resolvePtr: Resolves['resolvePtr'];
  readonly resolveSoa: Resolves['resolveSoa'];
  readonly resolveSrv: Resolves['resolveSrv'];
  readonly resolveTxt: Resolves['resolveTxt'];
  readonly reverse: Resolves['reverse'];

  /** @param options - Node's `dns.Resolver` options (`timeout` per try in ms, `tries`). */
  constructor(options?: dns.ResolverOptions) {
    this.raw = new dns.Resolver(options);
    const r = bind(this.raw);
    this.resolve = r.resolve;
    this.resolve4 = r.resolve4 as any;
    this.resolve6 = r.resolve6 as any;
    this.resolveAny = r.resolveAny;
    this.resolveCaa = r.resolveCaa;
    this.resolveCname = r.resolveCname;
    this.resolveMx = r.resolveMx;
    this.resolveNaptr = r.resolveNaptr;
    this.resolveNs = r.resolveNs;
    this.resolvePtr = r.resolvePtr;
    this.resolveSoa = r.resolveSoa;
    this.resolveSrv = r.resolveSrv;
    this.resolveTxt = r.resolveTxt;
    this.reverse = r.reverse;
  }

  /** Sets the DNS servers (`'1.2.3.4'`, `'[::1]:5353'`, ...). */
  setServers(servers: readonly string[]): void {
    this.raw.setServers(servers);
  }

  /** The DNS servers in use. */
  getServers(): string[] {
    return this.raw.getServers();
  }

  /** Cancels this resolver's outstanding queries (their callers throw `ECANCELLED`). */
  cancel(): void {
    this.raw.cancel();
  }
}
