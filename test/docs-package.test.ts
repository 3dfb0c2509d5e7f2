// What `npm publish` would ship: the README's and the guides' links lead to files that exist
// and are in the package, with a LICENSE and the metadata npm shows.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from './cli-helpers.js';

/** Paths (relative to the package root) that `npm pack` would include. */
function packedFiles(): Set<string> {
  const npm = join(dirname(process.execPath), 'npm');
  const json = execFileSync(existsSync(npm) ? npm : 'npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: packageRoot,
    encoding: 'utf8',
    env: { ...process.env, npm_config_loglevel: 'silent' },
  });
  return new Set((JSON.parse(json) as [{ files: { path: string }[] }])[0].files.map((f) => f.path));
}

const guides = ['README.md', ...readdirSync(join(packageRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Every relative link target of a guide, as a package-root path, with where it is. */
function relativeLinks(file: string): { target: string; where: string }[] {
  const text = readFileSync(join(packageRoot, file), 'utf8').replace(/^(\s*)```[\s\S]*?^\1```/gm, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!)
    .filter((href) => !/^[a-z]+:/.test(href) && !href.startsWith('#'))
    .map((href) => ({ target: normalize(join(dirname(file), href.split('#')[0]!)), where: `${file} -> ${href}` }));
}

describe('the published package', () => {
  const packed = packedFiles();

  it('ships every file the README and the guides link to', () => {
    const links = guides.flatMap(relativeLinks);
    expect(links.length).toBeGreaterThan(20);
    expect(links.filter((l) => !existsSync(join(packageRoot, l.target))).map((l) => l.where)).toEqual([]);
    expect(links.filter((l) => !packed.has(l.target)).map((l) => l.where)).toEqual([]);
  });

  it('ships the guides, the LICENSE and the examples, not the rendered reference', () => {
    for (const file of [...guides, 'LICENSE', 'examples/echo-server.js']) expect(packed, file).toContain(file);
    expect([...packed].filter((f) => f.startsWith('docs/api/') || f.startsWith('test/'))).toEqual([]);
    expect(readFileSync(join(packageRoot, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) 2026 greenloop contributors\n/);
  });

  it('says where the code and the issues live', () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
    expect(pkg.license).toBe('MIT');
    expect(pkg.repository).toEqual({ type: 'git', url: expect.stringMatching(/^git\+https:\/\/.+\.git$/) });
    expect(pkg.bugs.url).toMatch(/^https:\/\//);
    expect(pkg.homepage).toMatch(/^https:\/\//);
  });
});
