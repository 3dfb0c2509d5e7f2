// settrace(): the tracer installed for this thread, called as
// fn('switch' | 'throw', origin, target) for each switch and throw, including
// the implicit switch to the parent when run ends.
import { afterEach, describe, expect, it } from 'vitest';
import { Greenlet, GreenletExit, type TraceFunction, getcurrent, gettrace, settrace } from '../lib/greenlet.js';

const root = getcurrent();

type Event = [event: string, origin: Greenlet, target: Greenlet];

/** Installs a tracer that records every call; returns the record. */
function record(): Event[] {
  const events: Event[] = [];
  settrace((event, origin, target) => {
    events.push([event, origin, target]);
  });
  return events;
}

/**
 * Writes events as 'event origin->target', naming greenlets by identity from
 * `known` (plus the root). Greenlet objects have no enumerable state, so
 * toEqual() on the objects themselves would find any two of them equal.
 */
function show(events: Event[], known: Record<string, Greenlet> = {}): string[] {
  const byIdentity = new Map<Greenlet, string>([[root, 'root']]);
  for (const [name, g] of Object.entries(known)) byIdentity.set(g, name);
  const nameOf = (g: Greenlet) => byIdentity.get(g) ?? 'unknown greenlet';
  return events.map(([event, origin, target]) => `${event} ${nameOf(origin)}->${nameOf(target)}`);
}

afterEach(() => {
  settrace(null);
});

describe('settrace and gettrace', () => {
  it('settrace returns the previous tracer, null when there was none', () => {
    const first: TraceFunction = () => {};
    const second: TraceFunction = () => {};
    expect(settrace(first)).toBeNull();
    expect(settrace(second)).toBe(first);
    expect(settrace(null)).toBe(second);
    expect(settrace(null)).toBeNull();
  });

  it('gettrace returns the installed tracer, or null', () => {
    const fn: TraceFunction = () => {};
    expect(gettrace()).toBeNull();
    settrace(fn);
    expect(gettrace()).toBe(fn);
    settrace(null);
    expect(gettrace()).toBeNull();
  });

  it('settrace(null) removes the tracer: later switches call nothing', () => {
    const events = record();
    new Greenlet(() => {}).switch();
    const seen = events.length;
    expect(seen).toBeGreaterThan(0);
    settrace(null);
    const g = new Greenlet(() => {
      root.switch();
      root.switch();
    });
    g.switch();
    g.switch();
    expect(g.throw()).toBeInstanceOf(GreenletExit);
    expect(events.length).toBe(seen);
  });

  it('a replaced tracer is no longer called; only the new one is', () => {
    const oldEvents = record();
    const newEvents: string[] = [];
    settrace((event) => {
      newEvents.push(event);
    });
    new Greenlet(() => {}).switch();
    expect(oldEvents).toEqual([]);
    expect(newEvents).toEqual(['switch', 'switch']);
  });
});

describe('traced switches', () => {
  it("a greenlet's first switch and the implicit switch to the parent when run ends are both traced", () => {
    const events = record();
    const g = new Greenlet(() => 1);
    g.switch();
    expect(show(events, { g })).toEqual(['switch root->g', 'switch g->root']);
  });

  it('every switch of a park-and-resume cycle is traced once, in order', () => {
    const events = record();
    const g = new Greenlet(() => {
      root.switch('parked');
      return 'done';
    });
    g.switch();
    g.switch();
    expect(show(events, { g })).toEqual(['switch root->g', 'switch g->root', 'switch root->g', 'switch g->root']);
  });

  it('a run that ends with an error is traced as a switch to the parent', () => {
    const events = record();
    const g = new Greenlet(() => {
      throw new Error('failed');
    });
    expect(() => g.switch()).toThrow('failed');
    expect(show(events, { g })).toEqual(['switch root->g', 'switch g->root']);
  });

  it('a direct switch between two greenlets is traced with both of them', () => {
    let b!: Greenlet;
    const a = new Greenlet(() => {
      b.switch();
      return 'a done';
    });
    b = new Greenlet(() => {
      a.switch();
    });
    const events = record();
    expect(a.switch()).toBe('a done');
    expect(show(events, { a, b })).toEqual(['switch root->a', 'switch a->b', 'switch b->a', 'switch a->root']);
    settrace(null);
    b.throw();
  });

  it('a nested greenlet ending is traced as a switch to its own parent, not the root', () => {
    let inner!: Greenlet;
    const events = record();
    const outer = new Greenlet(() => {
      inner = new Greenlet(() => 'inner');
      inner.switch();
      return 'outer';
    });
    outer.switch();
    expect(show(events, { outer, inner })).toEqual([
      'switch root->outer',
      'switch outer->inner',
      'switch inner->outer',
      'switch outer->root',
    ]);
  });

  it('a switch to a dead greenlet is traced with the live ancestor that gets control', () => {
    let child!: Greenlet;
    const mid = new Greenlet(() => {
      child = new Greenlet(() => 'child done');
      child.switch();
      return root.switch('mid parked');
    });
    mid.switch();
    const events = record();
    expect(child.switch('to mid')).toBe('to mid');
    expect(show(events, { mid, child })).toEqual(['switch root->mid', 'switch mid->root']);
  });

  it('the tracer receives the same greenlet objects that getcurrent() returns', () => {
    const seen: Greenlet[] = [];
    const g = new Greenlet(() => {
      seen.push(getcurrent());
    });
    const events = record();
    g.switch();
    expect(events[0][2]).toBe(seen[0]);
    expect(events[1][1]).toBe(seen[0]);
    expect(events[0][1]).toBe(root);
  });

  it('a tracer installed inside a greenlet traces the switch out of it', () => {
    let events: Event[] = [];
    const g = new Greenlet(() => {
      events = record();
      root.switch();
    });
    g.switch();
    expect(show(events, { g })).toEqual(['switch g->root']);
    g.switch();
  });
});

describe('traced throws', () => {
  it("throw() into a parked greenlet is traced as ('throw', origin, target), then its end as a switch", () => {
    const g = new Greenlet(() => {
      root.switch();
    });
    g.switch();
    const events = record();
    expect(g.throw()).toBeInstanceOf(GreenletExit);
    expect(show(events, { g })).toEqual(['throw root->g', 'switch g->root']);
  });

  it('a throw that the greenlet catches is traced as a throw, and its next switch out as a switch', () => {
    const g = new Greenlet(() => {
      try {
        root.switch();
      } catch {
        root.switch('caught');
      }
    });
    g.switch();
    const events = record();
    expect(g.throw(new Error('x'))).toBe('caught');
    expect(show(events, { g })).toEqual(['throw root->g', 'switch g->root']);
    settrace(null);
    g.switch();
  });

  it('throw() into an unstarted greenlet is traced with that greenlet as the target', () => {
    const g = new Greenlet(() => {});
    const events = record();
    g.throw();
    expect(events.length).toBeGreaterThan(0);
    expect(show(events, { g })[0]).toBe('throw root->g');
  });

  it('throw() from one greenlet into another is traced with both of them', () => {
    const target = new Greenlet(() => {
      root.switch();
    });
    target.switch();
    let events: Event[] = [];
    const thrower = new Greenlet(() => {
      events = record();
      return target.throw(new Error('from thrower'));
    });
    // target dies; the error goes to target's parent, the root.
    expect(() => thrower.switch()).toThrow('from thrower');
    expect(show(events, { thrower, target })).toEqual(['throw thrower->target', 'switch target->root']);
    settrace(null);
    expect(thrower.active).toBe(true);
    thrower.throw();
  });
});

describe('a tracer that throws', () => {
  it('aborts the switch: the error comes out of switch() and the target has not started', () => {
    let ran = false;
    const g = new Greenlet(() => {
      ran = true;
    });
    const err = new Error('tracer refused');
    settrace(() => {
      throw err;
    });
    expect(() => g.switch()).toThrow(err);
    settrace(null);
    expect(ran).toBe(false);
    expect(g.started).toBe(false);
    expect(getcurrent()).toBe(root);
    // The greenlet is intact and can still be started.
    g.switch();
    expect(ran).toBe(true);
  });

  it('aborts a resume: the parked greenlet stays parked and can be resumed later', () => {
    const g = new Greenlet(() => root.switch() as string);
    g.switch();
    settrace(() => {
      throw new Error('not now');
    });
    expect(() => g.switch('first')).toThrow('not now');
    settrace(null);
    expect(g.active).toBe(true);
    expect(g.switch('second')).toBe('second');
  });
});

describe('a tracer that throws on the last switch of a finishing greenlet', () => {
  it("cannot abort it: as in python-greenlet, the greenlet that gets control gets the tracer's error", () => {
    const error = new Error('tracer failed');
    const g = new Greenlet(() => 'returned');
    settrace((_event, origin) => {
      if (origin === g) throw error;
    });
    try {
      expect(() => g.switch()).toThrow(error);
    } finally {
      settrace(null);
    }
    expect(g.dead).toBe(true);
  });

  it("replaces the greenlet's own error, and kills an unstarted parent on the way up", () => {
    const error = new Error('tracer failed');
    const parentRan: string[] = [];
    const parent = new Greenlet(() => parentRan.push('ran'));
    const g = new Greenlet(() => {
      throw new Error('own error');
    }, parent);
    settrace((_event, origin) => {
      if (origin === g) throw error;
    });
    try {
      expect(() => g.switch()).toThrow(error);
    } finally {
      settrace(null);
    }
    expect(parent.dead).toBe(true);
    expect(parentRan).toEqual([]);
  });
});
