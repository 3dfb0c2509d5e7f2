// Running unmodified node-fibers code: the `-r greenloop/fibers/alias`
// preload, and the shim-package alternative to an npm alias, in a temporary
// project where greenloop is installed under node_modules (a symlink to this
// checkout), each in a child process.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const repo = resolve(__dirname, '..');
const project = mkdtempSync(join(tmpdir(), 'greenloop-fibers-app-'));
mkdirSync(join(project, 'node_modules'));
symlinkSync(repo, join(project, 'node_modules', 'greenloop'), 'dir');
copyFileSync(join(__dirname, 'fixtures', 'fibers-app', 'app.js'), join(project, 'app.js'));
writeFileSync(join(project, 'package.json'), '{ "name": "fibers-app", "private": true }\n');
afterAll(() => rmSync(project, { recursive: true, force: true }));

function node(args: string[], cwd = project) {
  const r = spawnSync(process.execPath, args, { cwd, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const expected = {
  sameFiber: true,
  fiberClass: 'function',
  inFiber: true,
  names: ['app.js', 'node_modules', 'package.json'],
  waitedEnough: true,
  fromFibersFile: true,
};

describe('running node-fibers code unmodified', () => {
  it('without the preload, require("fibers") fails: no fibers package is installed', () => {
    const run = node(['app.js']);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/Cannot find module 'fibers'/);
  });

  it("node -r greenloop/fibers/alias app.js: fibers and fibers/future are greenloop's", () => {
    const run = node(['-r', 'greenloop/fibers/alias', 'app.js']);
    expect(run.signal, run.stderr).toBeNull();
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual(expected);
  });

  it('the preload also works from NODE_OPTIONS, and requiring it twice is harmless', () => {
    const r = spawnSync(process.execPath, ['-r', 'greenloop/fibers/alias', 'app.js'], {
      cwd: project,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '-r greenloop/fibers/alias' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(expected);
  });

  it('a two-file shim package named fibers (the alternative to an npm alias) works too', () => {
    const shimProject = mkdtempSync(join(tmpdir(), 'greenloop-fibers-shim-'));
    try {
      const shim = join(shimProject, 'node_modules', 'fibers');
      mkdirSync(shim, { recursive: true });
      symlinkSync(repo, join(shimProject, 'node_modules', 'greenloop'), 'dir');
      writeFileSync(join(shim, 'package.json'), '{ "name": "fibers", "version": "5.0.3", "main": "fibers.js" }\n');
      writeFileSync(join(shim, 'fibers.js'), "module.exports = require('greenloop/fibers');\n");
      writeFileSync(join(shim, 'future.js'), "module.exports = require('greenloop/fibers/future');\n");
      copyFileSync(join(__dirname, 'fixtures', 'fibers-app', 'app.js'), join(shimProject, 'app.js'));
      const run = node(['app.js'], shimProject);
      expect(run.status, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ ...expected, names: ['app.js', 'node_modules'] });
    } finally {
      rmSync(shimProject, { recursive: true, force: true });
    }
  });

  it('an npm alias of greenloop itself does not: require("fibers") would be greenloop\'s main module', () => {
    const aliasProject = mkdtempSync(join(tmpdir(), 'greenloop-fibers-npm-alias-'));
    try {
      mkdirSync(join(aliasProject, 'node_modules'));
      // What `"fibers": "npm:greenloop@..."` installs: the greenloop package under the name fibers.
      symlinkSync(repo, join(aliasProject, 'node_modules', 'fibers'), 'dir');
      const run = node(
        ['-e', "const F = require('fibers'); console.log(typeof F.yield, typeof F.spawn); require('fibers/future')"],
        aliasProject,
      );
      expect(run.stdout).toBe('undefined function\n');
      expect(run.stderr).toMatch(/ERR_PACKAGE_PATH_NOT_EXPORTED/);
    } finally {
      rmSync(aliasProject, { recursive: true, force: true });
    }
  });
});
