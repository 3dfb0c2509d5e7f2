// What `npm publish` would ship: the README's and the guides' links lead to files that exist
// and are in the package, with a LICENSE and the metadata npm shows.
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from './cli-helpers.js';

/** Paths (relative to the package root) that `npm pack` would include. */
function packedFiles(): Set<string> {
  const npm = join(dirname(process.execPath), 'npm');
  // A cache and log folder of its own: the user running the suite may have no writable home.
  const cache = mkdtempSync(join(tmpdir(), 'greenloop-npm-'));
  try {
    const json = execFileSync(existsSync(npm) ? npm : 'npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: packageRoot,
      encoding: 'utf8',
      env: {
        ...process.env,
        npm_config_loglevel: 'silent',
        npm_config_cache: cache,
        npm_config_logs_dir: cache,
        npm_config_update_notifier: 'false',
      },
    });
    return new Set((JSON.parse(json) as [{ files: { path: string }[] }])[0].files.map((f) => f.path));
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
}

const guides = [
  'README.md',
  ...readdirSync(join(packageRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

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
    expect(readFileSync(join(packageRoot, 'LICENSE'), 'utf8')).toMatch(
      /^MIT License\n\nCopyright \(c\) 2026 greenloop contributors\n/,
    );
  });

  it('says where the code and the issues live', () => {
    const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
    expect(pkg.license).toBe('MIT');
    expect(pkg.repository).toEqual({ type: 'git', url: expect.stringMatching(/^git\+https:\/\/.+\.git$/) });
    expect(pkg.bugs.url).toMatch(/^https:\/\//);
    expect(pkg.homepage).toMatch(/^https:\/\//);
  });
});

/**
 * A real addon of another Node.js ABI: an old-style module that registers
 * itself with NODE_MODULE_VERSION 1, compiled with the C compiler the build
 * needs anyway. Every Node line refuses it with its own "compiled against a
 * different Node.js version" error, as it would an addon built for another line.
 */
function buildForeignAddon(out: string): void {
  const source = `${out}.c`;
  writeFileSync(
    source,
    [
      'struct node_module { int nm_version; unsigned int nm_flags; void* nm_dso_handle; const char* nm_filename;',
      '  void* nm_register_func; void* nm_context_register_func; const char* nm_modname; void* nm_priv; void* nm_link; };',
      'extern void node_module_register(void*);',
      'static struct node_module m = { 1, 0, 0, "foreign.c", 0, 0, "greenloop_core", 0, 0 };',
      '__attribute__((constructor)) static void reg(void) { node_module_register(&m); }',
      '',
    ].join('\n'),
  );
  execFileSync(process.env.CC ?? 'cc', ['-shared', '-fPIC', '-o', out, source], { stdio: 'pipe' });
}

describe('a native core that cannot load', () => {
  // A copy of the built package in a temp folder: what an install without its build leaves.
  function copyPackage(withBuild: boolean): string {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'greenloop-pkg-')));
    cpSync(join(packageRoot, 'package.json'), join(dir, 'package.json'));
    cpSync(join(packageRoot, 'dist'), join(dir, 'dist'), { recursive: true });
    if (withBuild)
      cpSync(
        join(packageRoot, 'build', 'Release', 'greenloop_core.node'),
        join(dir, 'build', 'Release', 'greenloop_core.node'),
      );
    return dir;
  }
  function load(node: string, dir: string): { status: number | null; stderr: string } {
    try {
      execFileSync(node, ['-e', `require(${JSON.stringify(dir)})`], { encoding: 'utf8', stdio: 'pipe' });
      return { status: 0, stderr: '' };
    } catch (error) {
      const failed = error as { status: number | null; stderr: string };
      return { status: failed.status, stderr: failed.stderr };
    }
  }

  it('missing: says so, and what to run', () => {
    const dir = copyPackage(false);
    try {
      const run = load(process.execPath, dir);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain('the native core (build/Release/greenloop_core.node) was not found');
      expect(run.stderr).toContain('run `npm rebuild greenloop`');
      expect(run.stderr).toContain("code: 'GREENLOOP_ERR_NATIVE_LOAD'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('built for another Node.js: names both ABI versions, and what to run', () => {
    const dir = copyPackage(false);
    try {
      mkdirSync(join(dir, 'build', 'Release'), { recursive: true });
      buildForeignAddon(join(dir, 'build', 'Release', 'greenloop_core.node'));
      const run = load(process.execPath, dir);
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(
        `was compiled for another Node.js version (NODE_MODULE_VERSION 1; Node ${process.version} needs ${process.versions.modules}); run \`npm rebuild greenloop\``,
      );
      expect(run.stderr).toContain("code: 'GREENLOOP_ERR_NATIVE_LOAD'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
