/**
 * Error classes. Every error greenloop throws on purpose is a {@link GreenloopError}
 * with a stable `code`; `instanceof` also recognises errors made by another copy
 * of the package (the classes carry a `Symbol.for` brand).
 * @module
 */

const kBrand = Symbol.for('greenloop.error.codes');

/** Base class of greenloop's errors. `code` is stable across releases. */
export class GreenloopError extends Error {
  /** Stable machine-readable code, e.g. `GREENLOOP_ERR_GREENLET`. */
  static readonly code: string = 'GREENLOOP_ERR';
  /** Stable machine-readable code of this error. */
  readonly code: string;
  declare readonly [kBrand]: readonly string[];

  constructor(message?: string, options?: ErrorOptions) {
    super(message, options);
    const ctor = new.target as unknown as { code: string; name: string };
    this.name = ctor.name;
    this.code = ctor.code;
    const codes: string[] = [];
    for (let c: unknown = new.target; c && (c as { code?: string }).code; c = Object.getPrototypeOf(c)) {
      const code = (c as { code: string }).code;
      if (!codes.includes(code)) codes.push(code);
    }
    Object.defineProperty(this, kBrand, { value: Object.freeze(codes) });
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    const codes = (value as { [kBrand]?: readonly string[] } | null)?.[kBrand];
    return Array.isArray(codes) && codes.includes((this as unknown as { code: string }).code);
  }
}

/**
 * Misuse of a greenlet: switching to a greenlet of another thread, a parent
 * cycle, blocking where nothing can wake the caller, or a greenlet that could
 * not be started (its thread could not be created; `errno` tells why).
 */
export class GreenletError extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_ERR_GREENLET';
  /** Set when the kernel refused a thread or stack: the negative errno. */
  declare errno?: number;
}

/**
 * Raised inside a greenlet to ask it to end (the default of
 * {@link Greenlet.throw}). A greenlet that lets it escape does not fail: its
 * parent receives the `GreenletExit` object as the greenlet's return value.
 */
export class GreenletExit extends GreenloopError {
  static override readonly code: string = 'GREENLOOP_GREENLET_EXIT';
  constructor(message = 'greenlet exit', options?: ErrorOptions) {
    super(message, options);
  }
}
