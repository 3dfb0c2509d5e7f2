import { describe, expect, it } from 'vitest';
import { Greenlet, getcurrent } from '../lib/index.js';

describe('smoke', () => {
  it('switches', () => {
    const root = getcurrent();
    const g = new Greenlet((a: number) => (root.switch(a + 1) as number) + a);
    expect(g.switch(1)).toBe(2);
    expect(g.switch(10)).toBe(11);
  });
});
