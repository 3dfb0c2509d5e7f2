// Error classes (stable codes, names, instanceof across copies of the package)
// and the errors that misuse of the greenlet primitive raises.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { GreenloopError } from '../lib/errors.js';
import {
  Greenlet,
  GreenletError,
  GreenletExit,
  configure,
  coreStats,
  getBackend,
  getcurrent,
  settrace,
} from '../lib/greenlet.js';

const root = getcurrent();

/** Returns what fn throws (fails the test if it throws nothing). */
function thrownBy(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  expect.unreachable('expected a throw');
}

describe('error classes', () => {
  it('each class has a stable code, on the class and on its instances', () => {
    expect(GreenloopError.code).toBe('GREENLOOP_ERR');
    expect(GreenletError.code).toBe('GREENLOOP_ERR_GREENLET');
    expect(GreenletExit.code).toBe('GREENLOOP_GREENLET_EXIT');
    expect(new GreenloopError('x').code).toBe('GREENLOOP_ERR');
    expect(new GreenletError('x').code).toBe('GREENLOOP_ERR_GREENLET');
    expect(new GreenletExit().code).toBe('GREENLOOP_GREENLET_EXIT');
  });

  it('name is the class name and message is what was given', () => {
    const e = new GreenletError('bad switch');
    expect(e.name).toBe('GreenletError');
    expect(e.message).toBe('bad switch');
    expect(String(e)).toBe('GreenletError: bad switch');
    expect(new GreenletExit().name).toBe('GreenletExit');
    expect(new GreenloopError('m').name).toBe('GreenloopError');
  });

  it('GreenletExit has a default message and accepts a cause', () => {
    expect(new GreenletExit().message).toBe('greenlet exit');
    const cause = new Error('why');
    expect(new GreenletExit('bye', { cause }).cause).toBe(cause);
  });

  it('instanceof follows the class hierarchy', () => {
    const misuse = new GreenletError('x');
    const exit = new GreenletExit();
    expect(misuse).toBeInstanceOf(GreenletError);
    expect(misuse).toBeInstanceOf(GreenloopError);
    expect(misuse).toBeInstanceOf(Error);
    expect(exit).toBeInstanceOf(GreenletExit);
    expect(exit).toBeInstanceOf(GreenloopError);
    expect(exit instanceof GreenletError).toBe(false);
    expect(misuse instanceof GreenletExit).toBe(false);
    expect(new Error('plain') instanceof GreenloopError).toBe(false);
    expect((null as unknown) instanceof GreenloopError).toBe(false);
    expect({ code: 'GREENLOOP_ERR_GREENLET' } instanceof GreenletError).toBe(false);
  });

  it("a subclass defined by a user keeps its parent class's code and instanceof", () => {
    class MyExit extends GreenletExit {}
    const e = new MyExit('mine');
    expect(e.name).toBe('MyExit');
    expect(e.code).toBe('GREENLOOP_GREENLET_EXIT');
    expect(e).toBeInstanceOf(GreenletExit);
    expect(e).toBeInstanceOf(GreenloopError);
  });

  it('instanceof recognises errors made by another copy of the package', () => {
    // dist/cjs/errors.js is a second, separately loaded copy of the classes.
    const other = createRequire(import.meta.url)('../dist/cjs/errors.js') as typeof import('../lib/errors.js');
    expect(other.GreenletError).not.toBe(GreenletError);
    const foreignMisuse = new other.GreenletError('from the other copy');
    const foreignExit = new other.GreenletExit();
    expect(foreignMisuse instanceof GreenletError).toBe(true);
    expect(foreignMisuse instanceof GreenloopError).toBe(true);
    expect(foreignMisuse instanceof GreenletExit).toBe(false);
    expect(foreignExit instanceof GreenletExit).toBe(true);
    expect(foreignExit instanceof GreenletError).toBe(false);
    // And the other way round.
    expect(new GreenletError('x') instanceof other.GreenletError).toBe(true);
    expect(new GreenletExit() instanceof other.GreenletError).toBe(false);
  });
});

describe('misuse of the constructor', () => {
  it('a run that is not a function is a TypeError that names what it got', () => {
    for (const [bad, word] of [
      ['run me', 'string'],
      [42, 'number'],
      [{}, 'object'],
    ] as const) {
      const e = thrownBy(() => new Greenlet(bad as any));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toContain('run');
      expect(e.message).toContain(word);
    }
  });

  it('null or undefined run is allowed (for subclasses)', () => {
    expect(() => new Greenlet(null)).not.toThrow();
    expect(() => new Greenlet(undefined)).not.toThrow();
  });

  it('a parent that is not a greenlet is a TypeError', () => {
    const e = thrownBy(() => new Greenlet(() => {}, {} as Greenlet));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toContain('parent');
  });

  it('a bad stackSize is a TypeError that names the value', () => {
    for (const [bad, shown] of [
      [1000, '1000'],
      [-65536, '-65536'],
      ['big', 'big'],
      [Number.NaN, 'NaN'],
      [Infinity, 'Infinity'],
    ] as const) {
      const e = thrownBy(() => new Greenlet(() => {}, null, { stackSize: bad as any }));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toContain('stackSize');
      expect(e.message).toContain(shown);
    }
  });

  it('the smallest stackSize, 65536, is accepted and runs', () => {
    expect(new Greenlet(() => 'small', null, { stackSize: 65536 }).switch()).toBe('small');
  });

  it('a greenlet with neither run nor a run method fails with a GreenletError naming the problem', () => {
    const e = thrownBy(() => new Greenlet().switch());
    expect(e).toBeInstanceOf(GreenletError);
    expect(e.code).toBe('GREENLOOP_ERR_GREENLET');
    expect(e.message).toMatch(/run/);
  });
});

describe('misuse of parent', () => {
  it('a parent cycle is a GreenletError with its code', () => {
    const a = new Greenlet(() => {});
    const b = new Greenlet(() => {}, a);
    const e = thrownBy(() => {
      a.parent = b;
    });
    expect(e).toBeInstanceOf(GreenletError);
    expect(e).toBeInstanceOf(GreenloopError);
    expect(e.code).toBe('GREENLOOP_ERR_GREENLET');
    expect(e.message).toMatch(/cycl/);
  });

  it("setting the root's parent is a GreenletError", () => {
    const e = thrownBy(() => {
      root.parent = new Greenlet(() => {});
    });
    expect(e).toBeInstanceOf(GreenletError);
    expect(e.message).toMatch(/root/);
  });

  it('a parent that is not a greenlet is a TypeError that names what it got', () => {
    const g = new Greenlet(() => {});
    const e = thrownBy(() => {
      g.parent = 'mom' as any;
    });
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toContain('mom');
  });
});

describe('misuse of settrace', () => {
  it('a tracer that is neither a function nor null is a TypeError', () => {
    for (const bad of ['trace', 1, {}, undefined]) {
      expect(() => settrace(bad as any)).toThrow(TypeError);
    }
    settrace(null);
  });
});

describe('misuse of configure', () => {
  it('a bad stackSize is a TypeError that names the value', () => {
    const e = thrownBy(() => configure({ stackSize: 4096 }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toContain('4096');
  });

  it('a bad poolSize is a TypeError that names the value', () => {
    for (const [bad, shown] of [
      [-1, '-1'],
      [1.5, '1.5'],
      ['many', 'many'],
    ] as const) {
      const e = thrownBy(() => configure({ poolSize: bad as any }));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toContain(shown);
    }
  });

  it('an unknown backend is a TypeError that names it', () => {
    const e = thrownBy(() => configure({ backend: 'fibers' as any }));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toContain('fibers');
  });

  it('changing the backend after a greenlet has started is a GreenletError, and the backend stays', () => {
    new Greenlet(() => {}).switch();
    const before = getBackend();
    const other = before === 'threads' ? 'user-space' : 'threads';
    const e = thrownBy(() => configure({ backend: other }));
    expect(e).toBeInstanceOf(GreenletError);
    expect(e).toBeInstanceOf(GreenloopError);
    expect(e.code).toBe('GREENLOOP_ERR_GREENLET');
    expect(e.name).toBe('GreenletError');
    expect(getBackend()).toBe(before);
    expect(coreStats().backend).toBe(before);
    // Greenlets still work on the backend in use.
    expect(new Greenlet(() => 'still works').switch()).toBe('still works');
  });
});

describe('errors from inside greenlets keep their identity', () => {
  it("a GreenletError thrown by run is not mistaken for an exit: it is thrown out of the parent's switch", () => {
    const e = new GreenletError('misuse inside');
    expect(() =>
      new Greenlet(() => {
        throw e;
      }).switch(),
    ).toThrow(e);
  });

  it('a GreenletExit from another copy of the package also counts as an exit', () => {
    const other = createRequire(import.meta.url)('../dist/cjs/errors.js') as typeof import('../lib/errors.js');
    const exit = new other.GreenletExit('foreign exit');
    const g = new Greenlet(() => {
      root.switch();
    });
    g.switch();
    expect(g.throw(exit)).toBe(exit);
  });
});

describe('messages name the value received', () => {
  it('configure(null) and configure(5) say that an options object was expected and what came', () => {
    expect(thrownBy(() => configure(null as any)).message).toBe('configure expects an options object, got null');
    expect(thrownBy(() => configure(5 as any)).message).toBe('configure expects an options object, got number 5');
  });

  it('parent = undefined names undefined (not "undefined undefined")', () => {
    const g = new Greenlet(() => 0);
    const e = thrownBy(() => {
      g.parent = undefined as any;
    });
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('parent must be a Greenlet, got undefined');
  });

  it('a fake parent made from Greenlet.prototype, or a Proxy of a Greenlet, is a TypeError that says so', () => {
    const real = new Greenlet(() => 0);
    for (const fake of [Object.create(Greenlet.prototype), new Proxy(real, {})]) {
      for (const use of [() => new Greenlet(() => 0, fake), () => void (new Greenlet(() => 0).parent = fake)]) {
        const e = thrownBy(use);
        expect(e).toBeInstanceOf(TypeError);
        expect(e.message).toMatch(
          /^parent must be a Greenlet, got an instance of Greenlet that is not one \(a Proxy of a Greenlet/,
        );
        expect(e.message).not.toContain('private member');
      }
    }
  });

  it("a Greenlet method called on a look-alike is a TypeError, not V8's private-member error", () => {
    const e = thrownBy(() => Greenlet.prototype.switch.call(Object.create(Greenlet.prototype)));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toMatch(/^expected a Greenlet, got an instance of Greenlet that is not one/);
  });
});
