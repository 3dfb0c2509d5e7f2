// docs/errors.md stays complete: every error class the package exports (from any of its
// entry points, as a user requires them) has a row with its code, every greenloop code the
// sources use is listed, and the page names no class that no longer exists.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from './cli-helpers.js';

const page = readFileSync(join(packageRoot, 'docs', 'errors.md'), 'utf8');
/** `class` -> `code` from the rows of the page's class table. */
const rows = new Map([...page.matchAll(/^\| `(\w+)` \| `(GREENLOOP_\w+)` \|/gm)].map((m) => [m[1]!, m[2]!] as const));

/** name -> code of every error class exported by any entry point, read in a fresh process. */
function exportedErrorClasses(): Record<string, string> {
  const entries = Object.keys(JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).exports)
    .filter((subpath) => subpath !== './package.json' && subpath !== './run' && subpath !== './fibers/alias')
    .map((subpath) => `greenloop${subpath.slice(1)}`);
  const script = `
    const found = {};
    for (const entry of ${JSON.stringify(entries)}) {
      for (const [name, value] of Object.entries(require(entry))) {
        if (typeof value === 'function' && (value === Error || value.prototype instanceof Error)) found[name] = value.code;
      }
    }
    console.log(JSON.stringify(found));`;
  // From the package's own folder, `require('greenloop/...')` resolves to it by name.
  return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd: packageRoot, encoding: 'utf8' }));
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('docs/errors.md', () => {
  const exported = exportedErrorClasses();

  it('lists every exported error class with its code', () => {
    expect(Object.keys(exported).length).toBeGreaterThan(10);
    const missing = Object.entries(exported)
      .filter(([name, code]) => rows.get(name) !== code)
      .map(([name, code]) => `${name} (${code}): the page says ${rows.get(name) ?? 'nothing'}`);
    expect(missing).toEqual([]);
  });

  it('lists no class the package does not export', () => {
    expect([...rows.keys()].filter((name) => !(name in exported))).toEqual([]);
  });

  it('lists every GREENLOOP_ code used in lib/', () => {
    const used = new Set(
      sources(join(packageRoot, 'lib')).flatMap(
        (file) => readFileSync(file, 'utf8').match(/GREENLOOP_[A-Z_]+[A-Z]/g) ?? [],
      ),
    );
    // Environment variables are configuration, not error codes (docs/greenlet.md, docs/monkey.md).
    const codes = [...used].filter(
      (name) => !/^GREENLOOP_(SWITCH|ASYNC_STACK|EXAMPLE_SELFTEST|WORKER_STOP_TIMEOUT)$/.test(name),
    );
    expect(codes.length).toBeGreaterThan(10);
    expect(codes.filter((code) => !page.includes(`\`${code}\``))).toEqual([]);
  });
});
