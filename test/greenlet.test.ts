// The greenlet primitive's semantics: value passing, nesting, direct switches,
// life cycle flags, parents, dead greenlets, throw(), subclasses, stacks and
// many greenlets at once. Reference behaviour: python-greenlet.
//
// Cases that could leave this process's greenlet state inconsistent, or crash
// it, run in a child process (test/fixtures/greenlet-*.js, on dist/).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
// The primitive is the `greenloop/greenlet` entry point (lib/greenlet.ts); the
// package root's `Greenlet` is the hub-level greenlet.
import { Greenlet, GreenletError, GreenletExit, coreStats, getBackend, getcurrent } from '../lib/greenlet.js';
import { fixtureSummary, HEAVY_TEST_TIMEOUT_MS } from './helpers.js';

const root = getcurrent();

/** Ends a parked greenlet so that it does not outlive its test. */
function finish(g: Greenlet): void {
  if (g.active) g.throw();
}

describe('value passing', () => {
  it('the first switch calls run with all of its arguments', () => {
    let received: unknown[] = [];
    const g = new Greenlet((...args: unknown[]) => {
      received = args;
    });
    g.switch(1, 'two', { three: 3 });
    expect(received).toEqual([1, 'two', { three: 3 }]);
  });

  it('the first switch with no arguments calls run with none', () => {
    let count = -1;
    new Greenlet((...args: unknown[]) => {
      count = args.length;
    }).switch();
    expect(count).toBe(0);
  });

  it("a finished greenlet's return value comes out of the parent's switch", () => {
    const g = new Greenlet((a: number, b: number) => a * b);
    expect(g.switch(6, 7)).toBe(42);
  });

  it('a greenlet that returns nothing gives its parent undefined', () => {
    expect(new Greenlet(() => {}).switch()).toBeUndefined();
  });

  it('a switch to the root hands its first argument out of the switch that started the greenlet', () => {
    const g = new Greenlet(() => {
      root.switch('from g');
    });
    expect(g.switch()).toBe('from g');
    g.switch();
    expect(g.dead).toBe(true);
  });

  it('a later switch delivers its first argument as the return value of the switch that parked the target', () => {
    const got: unknown[] = [];
    const g = new Greenlet(() => {
      got.push(root.switch());
      got.push(root.switch());
      return 'end';
    });
    g.switch();
    g.switch('a');
    expect(g.switch('b', 'ignored', 'also ignored')).toBe('end');
    expect(got).toEqual(['a', 'b']);
  });

  it('a later switch without arguments delivers undefined', () => {
    let got: unknown = 'not set';
    const g = new Greenlet(() => {
      got = root.switch();
    });
    g.switch();
    g.switch();
    expect(got).toBeUndefined();
    expect(g.dead).toBe(true);
  });

  it('values travel both ways across repeated switches, like a generator', () => {
    const g = new Greenlet((start: number) => {
      let total = start;
      for (;;) {
        const next = root.switch(total) as number | null;
        if (next === null) return `total ${total}`;
        total += next;
      }
    });
    expect(g.switch(1)).toBe(1);
    expect(g.switch(2)).toBe(3);
    expect(g.switch(3)).toBe(6);
    expect(g.switch(null)).toBe('total 6');
  });

  it('objects and functions pass by identity, not by copy', () => {
    const sent = { payload: [1, 2, 3] };
    const fn = () => 'fn';
    let inside: unknown;
    const g = new Greenlet((first: unknown) => {
      inside = first;
      return root.switch(fn);
    });
    expect(g.switch(sent)).toBe(fn);
    expect(inside).toBe(sent);
    const back = { reply: true };
    expect(g.switch(back)).toBe(back);
  });

  it('undefined, null, NaN and symbols arrive unchanged', () => {
    const sym = Symbol('s');
    const g = new Greenlet((...args: unknown[]) => {
      const echo = root.switch(args) as unknown;
      return echo;
    });
    expect(g.switch(undefined, null, NaN, sym)).toEqual([undefined, null, NaN, sym]);
    expect(g.switch(sym)).toBe(sym);
  });

  it('a greenlet switching to itself gets the value back at once and keeps running', () => {
    const g = new Greenlet(() => {
      const me = getcurrent();
      const echoed = me.switch('self', 'second');
      return [echoed, getcurrent() === me];
    });
    expect(g.switch()).toEqual(['self', true]);
  });

  it('the root switching to itself returns the value without running anything', () => {
    expect(root.switch('same')).toBe('same');
    expect(getcurrent()).toBe(root);
  });
});

describe('nested and direct switches', () => {
  it('a greenlet can create a child, switch into it and get its return value', () => {
    const outer = new Greenlet((x: number) => {
      const me = getcurrent();
      const inner = new Greenlet((y: number) => {
        expect(getcurrent()).toBe(inner);
        expect(inner.parent).toBe(me);
        return y * 2;
      });
      return (inner.switch(x) as number) + 1;
    });
    expect(outer.switch(21)).toBe(43);
    expect(outer.dead).toBe(true);
  });

  it('a child parked inside a greenlet can be resumed by the root later', () => {
    let inner!: Greenlet;
    const outer = new Greenlet(() => {
      inner = new Greenlet(() => {
        const v = root.switch('inner parked'); // skips outer
        return `inner got ${v}`;
      });
      const r = inner.switch();
      return `outer got ${r}`;
    });
    expect(outer.switch()).toBe('inner parked');
    expect(outer.active).toBe(true);
    expect(inner.active).toBe(true);
    // inner finishes and returns to its parent, outer, which returns to root.
    expect(inner.switch('x')).toBe('outer got inner got x');
    expect(outer.dead && inner.dead).toBe(true);
  });

  it('100 nested levels each return through their parent', () => {
    function level(n: number): number {
      if (n === 0) return 0;
      const child = new Greenlet(() => level(n - 1) + 1);
      return child.switch() as number;
    }
    expect(new Greenlet(() => level(100)).switch()).toBe(100);
  });

  it('greenlets switch to each other directly, without the root in between (A -> B -> A)', () => {
    const order: string[] = [];
    let b!: Greenlet;
    const a = new Greenlet(() => {
      order.push('a start');
      const fromB = b.switch('a->b');
      order.push(`a resumed with ${fromB}`);
      return 'a done';
    });
    b = new Greenlet((msg: string) => {
      order.push(`b start with ${msg}`);
      a.switch('b->a');
      order.push('b resumed');
    });
    // The root's switch returns only once, when a finishes: had control
    // passed through the root between the direct switches, it would have
    // returned earlier with another value.
    expect(a.switch()).toBe('a done');
    expect(order).toEqual(['a start', 'b start with a->b', 'a resumed with b->a']);
    expect(b.active).toBe(true);
    // b was created by the root, so b's value goes there when it finishes.
    expect(b.parent).toBe(root);
    expect(b.switch()).toBeUndefined();
    expect(order[3]).toBe('b resumed');
    expect(b.dead).toBe(true);
  });

  it(
    'a 100,000-switch ping-pong with the root delivers every value in order',
    { timeout: HEAVY_TEST_TIMEOUT_MS },
    () => {
      const g = new Greenlet((v: number) => {
        for (;;) v = root.switch(v + 1) as number;
      });
      let v = 0;
      let bad = 0;
      for (let i = 0; i < 50_000; i++) {
        const r = g.switch(v) as number;
        if (r !== v + 1) bad++;
        v = r + 1;
      }
      expect(bad).toBe(0);
      expect(v).toBe(100_000);
      finish(g);
      expect(g.dead).toBe(true);
    },
  );

  it(
    'a 100,000-switch ping-pong between two greenlets delivers every value in order',
    { timeout: HEAVY_TEST_TIMEOUT_MS },
    () => {
      const N = 100_000;
      const seenByA: number[] = [];
      let b!: Greenlet;
      const a = new Greenlet(() => {
        let v = b.switch(0) as number;
        while (v < N) {
          seenByA.push(v);
          v = b.switch(v + 1) as number;
        }
        return v;
      });
      b = new Greenlet((v: number) => {
        for (;;) v = a.switch(v + 1) as number;
      });
      // a sees the odd numbers below N, then N + 1, which it returns.
      expect(a.switch()).toBe(N + 1);
      expect(seenByA.length).toBe(N / 2);
      expect(seenByA.every((v, i) => v === 2 * i + 1)).toBe(true);
      finish(b);
      expect(b.dead).toBe(true);
    },
  );
});

describe('getcurrent and the root', () => {
  it('getcurrent() outside any greenlet is the root', () => {
    expect(getcurrent()).toBe(root);
    expect(root.isRoot).toBe(true);
  });

  it('getcurrent() inside run is the greenlet object itself', () => {
    let seen: Greenlet | undefined;
    const g = new Greenlet(() => {
      seen = getcurrent();
    });
    g.switch();
    expect(seen).toBe(g);
    expect(getcurrent()).toBe(root);
  });

  it('getcurrent() follows control through nested and parked greenlets', () => {
    const seen: Greenlet[] = [];
    let inner!: Greenlet;
    const outer = new Greenlet(() => {
      seen.push(getcurrent());
      inner = new Greenlet(() => {
        seen.push(getcurrent());
        root.switch();
        seen.push(getcurrent());
      });
      inner.switch();
      seen.push(getcurrent());
    });
    outer.switch();
    seen.push(getcurrent());
    inner.switch();
    // By identity: toEqual() would find any two Greenlet objects equal.
    const expected = [outer, inner, root, inner, outer];
    expect(seen.length).toBe(expected.length);
    seen.forEach((g, i) => expect(g).toBe(expected[i]));
    expect(getcurrent()).toBe(root);
  });

  it('isRoot is false for every other greenlet, inside and out', () => {
    let inside: boolean | undefined;
    const g = new Greenlet(() => {
      inside = getcurrent().isRoot;
    });
    expect(g.isRoot).toBe(false);
    g.switch();
    expect(inside).toBe(false);
    expect(g.isRoot).toBe(false);
  });

  it('the root is started, active and not dead', () => {
    expect(root.started).toBe(true);
    expect(root.active).toBe(true);
    expect(root.dead).toBe(false);
  });
});

describe('life cycle flags', () => {
  it('started, active and dead follow new -> running -> parked -> finished', () => {
    const flags = (g: Greenlet) => ({ started: g.started, active: g.active, dead: g.dead });
    let whileRunning: object | undefined;
    const g: Greenlet = new Greenlet(() => {
      whileRunning = flags(g);
      root.switch();
    });
    expect(flags(g)).toEqual({ started: false, active: false, dead: false });
    g.switch();
    expect(whileRunning).toEqual({ started: true, active: true, dead: false });
    expect(flags(g)).toEqual({ started: true, active: true, dead: false });
    g.switch();
    expect(flags(g)).toEqual({ started: true, active: false, dead: true });
  });

  it('a greenlet whose run throws is dead afterwards', () => {
    const g = new Greenlet(() => {
      throw new Error('x');
    });
    expect(() => g.switch()).toThrow('x');
    expect(g.dead).toBe(true);
    expect(g.active).toBe(false);
  });

  it('run is called once, however often a finished greenlet is switched to', () => {
    let calls = 0;
    const g = new Greenlet(() => {
      calls++;
      return calls;
    });
    expect(g.switch()).toBe(1);
    g.switch();
    g.switch();
    expect(calls).toBe(1);
  });
});

describe('dead greenlets', () => {
  it('switching to a finished child of the caller returns the value to the caller at once', () => {
    const g = new Greenlet(() => 'done');
    g.switch();
    expect(g.switch('value', 'more')).toBe('value');
    expect(g.dead).toBe(true);
    expect(getcurrent()).toBe(root);
  });

  it('switching to a dead child delivers the value to the first live greenlet up its parent chain', () => {
    let child!: Greenlet;
    const mid = new Greenlet(() => {
      child = new Greenlet(() => 'child done');
      expect(child.switch()).toBe('child done');
      const got = root.switch('mid parked');
      return ['mid got', got];
    });
    expect(mid.switch()).toBe('mid parked');
    expect(child.dead).toBe(true);
    expect(child.parent).toBe(mid);
    // child is dead: the value goes to mid, parked in root.switch(); mid then
    // finishes and its value comes out of this switch.
    expect(child.switch('hello')).toEqual(['mid got', 'hello']);
    expect(mid.dead).toBe(true);
  });

  it('switching to a greenlet whose ancestors are dead up to the root returns to the root', () => {
    let grandchild!: Greenlet;
    const child = new Greenlet(() => {
      grandchild = new Greenlet(() => 'gc');
      grandchild.switch();
      return 'child';
    });
    child.switch();
    expect(grandchild.dead && child.dead).toBe(true);
    expect(grandchild.switch(7)).toBe(7);
    expect(getcurrent()).toBe(root);
  });

  it('a dead greenlet re-parented to a parked greenlet passes values on to it', () => {
    const parked = new Greenlet(() => `parked got ${root.switch()}`);
    parked.switch();
    const done = new Greenlet(() => 1);
    done.switch();
    done.parent = parked;
    expect(done.switch('v')).toBe('parked got v');
  });

  it('a finished greenlet whose parent has not started starts the parent with its return value', () => {
    // In a child process: this case has corrupted the greenlet state of the
    // process that ran it (see the report of issue 2).
    const r = fixtureSummary('greenlet-unstarted-parent.js', { args: ['finished-child'] });
    expect(r.childValueGoesToParentRun).toEqual(['p ran with', 'c']);
    expect(r.parentDead).toBe(true);
    expect(r.childDead).toBe(true);
    expect(r.currentIsRootAfterwards).toBe(true);
  });

  it('switching to a dead greenlet whose nearest live ancestor has not started starts it with the arguments', () => {
    const r = fixtureSummary('greenlet-unstarted-parent.js', { args: ['dead-switch'] });
    expect(r.deadSwitchStartsAncestor).toEqual(['q ran with', 1, 2]);
    expect(r.ancestorDead).toBe(true);
    expect(r.currentIsRootAfterwards).toBe(true);
  });
});

describe('parent', () => {
  it('defaults to the greenlet that created it', () => {
    expect(new Greenlet(() => {}).parent).toBe(root);
    let inner: Greenlet | undefined;
    const outer = new Greenlet(() => {
      inner = new Greenlet(() => {});
    });
    outer.switch();
    expect(inner!.parent).toBe(outer);
  });

  it('can be given to the constructor', () => {
    const p = new Greenlet(() => {});
    const g = new Greenlet(() => {}, p);
    expect(g.parent).toBe(p);
  });

  it('is writable and readable back', () => {
    const a = new Greenlet(() => {});
    const b = new Greenlet(() => {});
    const g = new Greenlet(() => {}, a);
    g.parent = b;
    expect(g.parent).toBe(b);
  });

  it('a finished child returns to a re-assigned parent', () => {
    const newParent = new Greenlet(() => {
      const fromChild = root.switch('new parent parked');
      return `new parent got ${fromChild}`;
    });
    expect(newParent.switch()).toBe('new parent parked');
    const child = new Greenlet(() => 'child result');
    child.parent = newParent;
    // child's value goes to newParent, which finishes and returns to root.
    expect(child.switch()).toBe('new parent got child result');
    expect(newParent.dead).toBe(true);
  });

  it('re-assigning the parent of a parked greenlet changes where it returns', () => {
    const catcher = new Greenlet(() => `catcher got ${root.switch('catcher parked')}`);
    catcher.switch();
    const g = new Greenlet(() => {
      root.switch('g parked');
      return 'g result';
    });
    expect(g.switch()).toBe('g parked');
    g.parent = catcher;
    expect(g.switch()).toBe('catcher got g result');
  });

  it('setting the parent to itself throws GreenletError', () => {
    const g = new Greenlet(() => {});
    expect(() => {
      g.parent = g;
    }).toThrow(GreenletError);
    expect(g.parent).toBe(root);
  });

  it('setting a longer cycle throws GreenletError and leaves the parent unchanged', () => {
    const a = new Greenlet(() => {});
    const b = new Greenlet(() => {}, a);
    const c = new Greenlet(() => {}, b);
    expect(() => {
      a.parent = c;
    }).toThrow(GreenletError);
    expect(a.parent).toBe(root);
  });

  it("the root's parent is null and cannot be set", () => {
    expect(root.parent).toBeNull();
    const g = new Greenlet(() => {});
    expect(() => {
      root.parent = g;
    }).toThrow(GreenletError);
    expect(() => {
      root.parent = null;
    }).toThrow();
    expect(root.parent).toBeNull();
  });

  it('cannot be set to something that is not a greenlet', () => {
    const g = new Greenlet(() => {});
    expect(() => {
      g.parent = {} as Greenlet;
    }).toThrow(TypeError);
    expect(() => {
      g.parent = null;
    }).toThrow(TypeError);
    expect(g.parent).toBe(root);
  });
});

describe('throw()', () => {
  it('raises the error at the parked switch, where run can catch it and go on', () => {
    const g = new Greenlet(() => {
      try {
        root.switch('parked');
      } catch (e) {
        return `caught ${(e as Error).message}`;
      }
      return 'not caught';
    });
    g.switch();
    expect(g.throw(new Error('boom'))).toBe('caught boom');
    expect(g.dead).toBe(true);
  });

  it('a caught error lets the greenlet park again and be resumed', () => {
    const g = new Greenlet(() => {
      let errors = 0;
      for (;;) {
        try {
          const v = root.switch(errors);
          if (v === 'stop') return `stopped after ${errors}`;
        } catch {
          errors++;
        }
      }
    });
    g.switch();
    expect(g.throw(new Error('1'))).toBe(1);
    expect(g.throw(new Error('2'))).toBe(2);
    expect(g.switch('stop')).toBe('stopped after 2');
  });

  it('an uncaught error propagates out of the greenlet to its parent', () => {
    const g = new Greenlet(() => {
      root.switch();
    });
    g.switch();
    const err = new Error('uncaught');
    expect(() => g.throw(err)).toThrow(err);
    expect(g.dead).toBe(true);
  });

  it('an uncaught error goes to the parent even when another greenlet threw it', () => {
    let g!: Greenlet;
    const h = new Greenlet(() => {
      g = new Greenlet(() => {
        root.switch('g parked');
      });
      try {
        g.switch();
      } catch (e) {
        return `h caught ${(e as Error).message}`;
      }
      return 'h not reached';
    });
    expect(h.switch()).toBe('g parked');
    expect(g.throw(new Error('boom'))).toBe('h caught boom');
    expect(g.dead && h.dead).toBe(true);
  });

  it('the default GreenletExit is returned to the parent as a value, not thrown', () => {
    let sawExit = false;
    const g = new Greenlet(() => {
      try {
        root.switch();
      } finally {
        sawExit = true;
      }
    });
    g.switch();
    const result = g.throw();
    expect(result).toBeInstanceOf(GreenletExit);
    expect(sawExit).toBe(true);
    expect(g.dead).toBe(true);
  });

  it('an explicit GreenletExit (or subclass) is returned to the parent as a value too', () => {
    class Shutdown extends GreenletExit {}
    const g = new Greenlet(() => {
      root.switch();
    });
    g.switch();
    const exit = new Shutdown('shutting down');
    expect(g.throw(exit)).toBe(exit);
  });

  it('a GreenletExit thrown by run itself is returned to the parent as a value', () => {
    const exit = new GreenletExit('self exit');
    expect(
      new Greenlet(() => {
        throw exit;
      }).switch(),
    ).toBe(exit);
  });

  it('a greenlet may catch GreenletExit and return a value instead', () => {
    const g = new Greenlet(() => {
      try {
        root.switch();
      } catch (e) {
        return `cleaned up after ${(e as Error).name}`;
      }
    });
    g.switch();
    expect(g.throw()).toBe('cleaned up after GreenletExit');
  });

  it('throw() on an unstarted greenlet kills it without running run', () => {
    let ran = false;
    const g = new Greenlet(() => {
      ran = true;
    });
    const result = g.throw();
    expect(result).toBeInstanceOf(GreenletExit);
    expect(ran).toBe(false);
    expect(g.dead).toBe(true);
    expect(g.active).toBe(false);
    // A later switch does not run it either.
    expect(g.switch('after')).toBe('after');
    expect(ran).toBe(false);
  });

  it('throw(err) on an unstarted greenlet raises err in its parent without running run', () => {
    let ran = false;
    const g = new Greenlet(() => {
      ran = true;
    });
    const err = new TypeError('never started');
    expect(() => g.throw(err)).toThrow(err);
    expect(ran).toBe(false);
    expect(g.dead).toBe(true);
  });

  it('throw(err) on an unstarted greenlet raises err in its parent even when that is not the caller', () => {
    const parent = new Greenlet(() => {
      try {
        root.switch('parent parked');
      } catch (e) {
        return `parent caught ${(e as Error).message}`;
      }
    });
    parent.switch();
    let ran = false;
    const g = new Greenlet(() => {
      ran = true;
    }, parent);
    expect(g.throw(new Error('x'))).toBe('parent caught x');
    expect(ran).toBe(false);
    expect(g.dead && parent.dead).toBe(true);
  });

  it('throw() on an unstarted greenlet hands GreenletExit to its parked parent as a value', () => {
    const parent = new Greenlet(() => root.switch('parent parked'));
    parent.switch();
    const g = new Greenlet(() => {}, parent);
    const result = g.throw();
    expect(result).toBeInstanceOf(GreenletExit);
    expect(parent.dead).toBe(true);
  });

  it('throw() at a dead greenlet returns GreenletExit to its live ancestor as a value', () => {
    // python-greenlet: a GreenletExit thrown at a dead greenlet becomes an
    // ordinary return to the nearest live ancestor.
    const g = new Greenlet(() => 1);
    g.switch();
    const exit = new GreenletExit('late');
    expect(g.throw(exit)).toBe(exit);
  });

  it('throw(err) at a dead greenlet raises err in its live ancestor', () => {
    const g = new Greenlet(() => 1);
    g.switch();
    expect(() => g.throw(new RangeError('late'))).toThrow('late');
  });
});

describe('errors crossing greenlets', () => {
  it("an error thrown in run comes out of the parent's pending switch as the same object, with its original stack", () => {
    let thrown: unknown;
    function throwingHelperInsideGreenlet(): never {
      thrown = new Error('from run');
      throw thrown;
    }
    const g = new Greenlet(() => throwingHelperInsideGreenlet());
    let caught: unknown;
    try {
      g.switch();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(thrown);
    expect((caught as Error).stack).toContain('throwingHelperInsideGreenlet');
  });

  it('an error created inside the greenlet keeps the stack of where it was made', () => {
    function makesTheError(): never {
      throw new SyntaxError('made inside');
    }
    let caught: any;
    try {
      new Greenlet(function outerRunFunction() {
        makesTheError();
      }).switch();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(SyntaxError);
    expect(caught.stack).toContain('makesTheError');
    expect(caught.stack).toContain('outerRunFunction');
  });

  it('an error thrown after the greenlet was resumed comes out of the switch that resumed it', () => {
    const g = new Greenlet(() => {
      root.switch();
      throw new Error('after resume');
    });
    g.switch();
    expect(() => g.switch()).toThrow('after resume');
  });

  it('an uncaught error crosses several levels of greenlets up to the root', () => {
    let middle!: Greenlet;
    let inner!: Greenlet;
    const outer = new Greenlet(() => {
      middle = new Greenlet(() => {
        inner = new Greenlet(function innermostThrower() {
          throw new Error('deep failure');
        });
        inner.switch();
        return 'middle not reached';
      });
      middle.switch();
      return 'outer not reached';
    });
    let caught: any;
    try {
      outer.switch();
    } catch (e) {
      caught = e;
    }
    expect(caught?.message).toBe('deep failure');
    expect(caught.stack).toContain('innermostThrower');
    expect([outer.dead, middle.dead, inner.dead]).toEqual([true, true, true]);
    expect(getcurrent()).toBe(root);
  });

  it("a greenlet in the middle can catch its child's error and go on", () => {
    const outer = new Greenlet(() => {
      const inner = new Greenlet(() => {
        throw new Error('inner');
      });
      try {
        inner.switch();
      } catch (e) {
        return `outer caught ${(e as Error).message}`;
      }
    });
    expect(outer.switch()).toBe('outer caught inner');
  });

  it('values that are not Error objects cross greenlets unchanged', () => {
    for (const thrown of ['a string', 42, undefined, null, { plain: true }]) {
      let caught: unknown = Symbol('not caught');
      try {
        new Greenlet(() => {
          throw thrown;
        }).switch();
      } catch (e) {
        caught = e;
      }
      expect(caught).toBe(thrown);
    }
  });
});

describe('Greenlet subclasses', () => {
  it("a subclass with a run() method runs it with the first switch's arguments and this bound", () => {
    class Adder extends Greenlet {
      constructor(readonly base: number) {
        super();
      }
      run(a: number, b: number): number {
        const extra = root.switch(this.base + a) as number;
        return this.base + a + b + extra;
      }
    }
    const g = new Adder(100);
    expect(g.switch(1, 2)).toBe(101);
    expect(g.switch(1000)).toBe(1103);
    expect(g.dead).toBe(true);
  });

  it('getcurrent() inside a subclass greenlet is the subclass instance', () => {
    class Mine extends Greenlet {
      run(): Greenlet {
        return getcurrent();
      }
    }
    const g = new Mine();
    const seen = g.switch();
    expect(seen).toBe(g);
    expect(seen).toBeInstanceOf(Mine);
  });

  it('a run function given to the constructor takes precedence over the method', () => {
    class WithMethod extends Greenlet {
      run(): string {
        return 'method';
      }
    }
    expect(new WithMethod(() => 'function').switch()).toBe('function');
  });

  it('a greenlet with neither a run function nor a run method fails with GreenletError at its first switch', () => {
    const g = new Greenlet();
    expect(() => g.switch()).toThrow(GreenletError);
    expect(g.dead).toBe(true);
  });
});

describe('stack size and deep recursion', () => {
  // A crash here would take the whole file down: run it in a child process.
  const r = () => fixtureSummary('greenlet-recursion.js');
  let cached: any;
  const result = () => (cached ??= r());

  it('deep recursion inside a greenlet ends in a catchable RangeError and the process survives', () => {
    expect(result().greenlet.error).toBe('RangeError');
    expect(result().greenlet.depth).toBeGreaterThan(1000);
    expect(result().survived).toBe(true);
  });

  it("with the default stack a greenlet recurses within 2x of the main thread's depth", () => {
    const { main, greenlet } = result();
    expect(main.error).toBe('RangeError');
    const ratio = greenlet.depth / main.depth;
    expect(ratio).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
  });

  it('a 256 KiB greenlet ends deep recursion in RangeError, reaches less deep, and still works afterwards', () => {
    const { small, greenlet } = result();
    expect(small.first.error).toBe('RangeError');
    expect(small.first.depth).toBeGreaterThan(100);
    expect(small.first.depth).toBeLessThan(greenlet.depth);
    expect(small.resumedWith).toBe('still alive');
    expect(small.again.error).toBe('RangeError');
    expect(small.again.depth).toBeGreaterThan(small.first.depth / 2);
    expect(small.returned).toBe('small done');
  });

  it('the smallest stack (64 KiB) also ends recursion in RangeError', () => {
    expect(result().min.error).toBe('RangeError');
    expect(result().min.depth).toBeGreaterThan(10);
  });

  it('recursion through built-ins (Array#map, JSON.stringify, a Proxy trap) ends in RangeError on a small stack', () => {
    expect(result().builtins).toEqual({ map: 'RangeError', json: 'RangeError', proxy: 'RangeError' });
  });

  it('after a RangeError in a greenlet the main thread still recurses about as deep as before', () => {
    const { main, mainAfter } = result();
    expect(mainAfter.error).toBe('RangeError');
    expect(mainAfter.depth).toBeGreaterThan(main.depth / 2);
  });
});

describe('many greenlets', () => {
  it(
    '10,000 simultaneously parked greenlets are all resumed and finish with the right values',
    { timeout: HEAVY_TEST_TIMEOUT_MS },
    () => {
      const N = 10_000;
      const before = coreStats().live;
      const parked: Greenlet[] = [];
      let wrong = 0;
      for (let i = 0; i < N; i++) {
        const g = new Greenlet((x: number) => {
          const y = root.switch(x * 2) as number;
          return x + y;
        });
        if (g.switch(i) !== i * 2) wrong++;
        parked.push(g);
      }
      expect(wrong).toBe(0);
      expect(coreStats().live).toBe(before + N);
      expect(parked.every((g) => g.active)).toBe(true);
      // Resume in reverse order so that no greenlet depends on its neighbours.
      for (let i = N - 1; i >= 0; i--) {
        if (parked[i].switch(1_000_000) !== i + 1_000_000) wrong++;
      }
      expect(wrong).toBe(0);
      expect(parked.every((g) => g.dead)).toBe(true);
      expect(coreStats().live).toBe(before);
    },
  );

  it('coreStats().live is 0 once every greenlet of a fresh process has finished', () => {
    const r = fixtureSummary('greenlet-many.js');
    expect(r.liveWhileParked).toBe(1000);
    expect(r.wrong).toBe(0);
    expect(r.liveAfter).toBe(0);
  });
});

describe('backend', () => {
  it("this process runs the backend GREENLOOP_SWITCH asks for, else 'user-space' where the CPU allows it", () => {
    const wanted = process.env.GREENLOOP_SWITCH;
    const userSpacePossible =
      process.platform === 'linux' &&
      process.arch === 'x64' &&
      /\bfsgsbase\b/.test(readFileSync('/proc/cpuinfo', 'utf8'));
    const expected =
      wanted === 'thread' || wanted === 'threads'
        ? 'threads'
        : wanted === 'user-space'
          ? 'user-space'
          : userSpacePossible
            ? 'user-space'
            : 'threads';
    expect(getBackend()).toBe(expected);
  });

  it('getBackend() names the backend in use and coreStats() agrees', () => {
    expect(['user-space', 'threads']).toContain(getBackend());
    expect(coreStats().backend).toBe(getBackend());
  });

  it('GREENLOOP_SWITCH=threads selects the threads backend', () => {
    const r = fixtureSummary('greenlet-backend.js', { env: { ...process.env, GREENLOOP_SWITCH: 'threads' } });
    expect(r.backend).toBe('threads');
    expect(r.value).toBe(3);
  });

  it('GREENLOOP_SWITCH=thread (singular) selects the threads backend too', () => {
    const r = fixtureSummary('greenlet-backend.js', { env: { ...process.env, GREENLOOP_SWITCH: 'thread' } });
    expect(r.backend).toBe('threads');
  });

  it("configure({ backend: 'threads' }) before the first greenlet selects it", () => {
    const env: NodeJS.ProcessEnv = { ...process.env, GREENLOOP_BACKEND_FIXTURE_CONFIGURE: 'threads' };
    delete env.GREENLOOP_SWITCH;
    const r = fixtureSummary('greenlet-backend.js', { env });
    expect(r.backend).toBe('threads');
    expect(r.value).toBe(3);
  });
});
