import { describe, expect, it } from 'vitest';
import { lastJson, runFixture } from './helpers.js';

interface Row {
  case: string;
  same: boolean;
  expect: 'park' | 'original';
  parked: boolean;
  original?: unknown;
  patched?: unknown;
}

// test/fixtures/monkey-fidelity.js runs each case with the originals on the
// root and patched in a spawned greenlet, on the same fresh files, and
// compares the outcomes field by field (value, or error class, message, code,
// errno, syscall, path, dest, status, signal, stdout, stderr, key order and
// whether the stack shows the caller).
describe('greenloop/monkey fidelity: patched calls return and throw what the originals do', () => {
  const run = runFixture('monkey-fidelity.js');
  const summary = lastJson<{ node: string; cases: number; different: string[]; wrongPath: string[] }>(run);
  const rows = run.stdout
    .trim()
    .split('\n')
    .slice(0, -1)
    .map((line) => JSON.parse(line) as Row);

  it('covers fs, child_process, crypto and zlib', () => {
    expect(summary.cases).toBeGreaterThanOrEqual(100);
    const names = rows.map((r) => r.case).join('\n');
    for (const fn of [
      'readFileSync',
      'statSync',
      'execSync',
      'execFileSync',
      'spawnSync',
      'pbkdf2Sync',
      'scryptSync',
      'gzipSync',
    ]) {
      expect(names).toContain(fn);
    }
  });

  it('every case has the same outcome, original vs patched', () => {
    const different = rows.filter((r) => !r.same);
    expect(different, JSON.stringify(different, null, 1)).toEqual([]);
  });

  it('the patched calls parked (the emulation ran), except where the original must run', () => {
    expect(summary.wrongPath).toEqual([]);
    expect(rows.filter((r) => r.parked).length).toBeGreaterThan(70);
  });

  it.each([
    ['execSync non-zero status'],
    ['execSync signal death'],
    ['execSync timeout'],
    ['spawnSync ENOENT'],
    ['readFileSync ENOENT'],
    ['readFileSync EISDIR'],
    ['readFileSync bad path type'],
    ['readSync offset out of range'],
  ])('%s: compared on an error with its fields', (name) => {
    const row = rows.find((r) => r.case === name);
    expect(row, name).toBeDefined();
    expect(row!.same).toBe(true);
  });
});
