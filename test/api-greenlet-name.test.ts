// A Greenlet's default name is spelled out only when read, but numbered when created.
import { describe, expect, it } from 'vitest';
import { Greenlet } from '../lib/index.js';

describe('Greenlet default names', () => {
  it('are numbered in order of creation, whichever is read first', () => {
    const first = new Greenlet(() => 0);
    const named = new Greenlet(() => 0, { name: 'given' });
    const second = new Greenlet(() => 0);
    const secondName = second.name;
    expect(Number(secondName.slice('Greenlet-'.length))).toBe(Number(first.name.slice('Greenlet-'.length)) + 1);
    expect(named.name).toBe('given');
    expect(second.name).toBe(secondName);
    expect(String(first)).toBe(`<Greenlet "${first.name}">`);
  });
});
