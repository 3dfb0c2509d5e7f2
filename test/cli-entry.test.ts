// The entry module under `greenloop script` and `node -r greenloop/run script`:
// it sees what plain `node` shows it (argv, require.main, module.id, import.meta),
// its top level runs in the main greenlet and may block, ES module entries load
// through require(esm) and fall back to Node's ESM loader for top-level await.
// Every case runs real scripts in child processes from a temp directory.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, describeRun, makeProject, runCli, runNode, summary } from './cli-helpers.js';

const identity = `
const { getcurrent } = require('greenloop');
console.log(JSON.stringify({
  argv: process.argv,
  isMain: require.main === module,
  mainModuleIsThis: process.mainModule === module,
  id: module.id,
  parent: module.parent === null ? null : typeof module.parent,
  filename: __filename,
  dirname: __dirname,
  greenlet: getcurrent().name ?? null,
}));
`;

/** What plain node prints for {@link identity}, minus the greenlet. */
function expectNodeIdentity(got: any, dir: string, file: string, args: string[]): void {
  expect(got).toMatchObject({
    argv: [process.execPath, join(dir, file), ...args],
    isMain: true,
    mainModuleIsThis: true,
    id: '.',
    filename: join(dir, file),
    dirname: dir,
  });
}

describe('a CommonJS entry', () => {
  const dir = makeProject({ 'id.js': identity, 'sub/id.cjs': identity, 'sub/package.json': '{"type":"module"}' });

  it('sees process.argv, require.main, module.id and __filename as under plain node', () => {
    const plain = summary(runNode(dir, ['id.js', 'a', '--b', 'c d']));
    expect(plain.greenlet).toBeNull();
    const got = summary(runCli(dir, ['id.js', 'a', '--b', 'c d']));
    expectNodeIdentity(got, dir, 'id.js', ['a', '--b', 'c d']);
    expect(got).toEqual({ ...plain, greenlet: 'main' });
  });

  it('is found without its extension and through a relative path, as node finds it', () => {
    const got = summary(runCli(join(dir, 'sub'), ['../id', 'x']));
    const plain = summary(runNode(join(dir, 'sub'), ['../id', 'x']));
    expect(got).toEqual({ ...plain, greenlet: 'main' });
    expect(got).toMatchObject({
      argv: [process.execPath, join(dir, 'id'), 'x'],
      filename: join(dir, 'id.js'),
      isMain: true,
    });
  });

  it('.cjs inside a "type": "module" package is CommonJS', () => {
    const got = summary(runCli(dir, ['sub/id.cjs']));
    expectNodeIdentity(got, join(dir, 'sub'), 'id.cjs', []);
    expect(got.greenlet).toBe('main');
  });

  it('runs the same under node -r greenloop/run and NODE_OPTIONS=-r greenloop/run', () => {
    const viaFlag = summary(runNode(dir, ['-r', 'greenloop/run', 'id.js', '1']));
    expectNodeIdentity(viaFlag, dir, 'id.js', ['1']);
    expect(viaFlag.greenlet).toBe('main');
    const viaEnv = summary(runNode(dir, ['id.js', '2'], { env: { NODE_OPTIONS: '-r greenloop/run' } }));
    expectNodeIdentity(viaEnv, dir, 'id.js', ['2']);
    expect(viaEnv.greenlet).toBe('main');
  });
});

const blockingTop = `
const { sleep, spawn, getcurrent } = require('greenloop');
const order = [];
spawn(() => order.push('spawned greenlet ran while main slept'));
const t0 = Date.now();
sleep(60);
order.push('main woke after ' + (Date.now() - t0 >= 55 ? '>= 55 ms' : 'too early'));
console.log(JSON.stringify({ order, current: getcurrent().name }));
`;

describe('the top level', () => {
  const dir = makeProject({ 'block.js': blockingTop });

  it('may block: sleep() parks the main greenlet while other greenlets run', () => {
    expect(summary(runCli(dir, ['block.js']))).toEqual({
      order: ['spawned greenlet ran while main slept', 'main woke after >= 55 ms'],
      current: 'main',
    });
    expect(summary(runNode(dir, ['-r', 'greenloop/run', 'block.js'])).current).toBe('main');
  });

  it('cannot block under plain node (the hub refuses), which is what the runner changes', () => {
    const run = runNode(dir, ['block.js']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("would block the event loop's own greenlet (the hub)");
  });
});

const esmIdentity = `
import { sleep, getcurrent } from 'greenloop';
import { createRequire } from 'node:module';
sleep(20);
const require = createRequire(import.meta.url);
console.log(JSON.stringify({
  url: import.meta.url,
  filename: import.meta.filename ?? null,
  dirname: import.meta.dirname ?? null,
  main: import.meta.main ?? null,
  argv: process.argv,
  mainModule: process.mainModule === undefined ? 'undefined' : 'set',
  cjsSeesMain: require('./main-of-cjs.cjs'),
  greenlet: getcurrent().name,
}));
`;

const alsTopLevel = `
const { AsyncLocalStorage } = require('async_hooks');
const { sleep, spawn } = require('greenloop');
const als = new AsyncLocalStorage();
const seen = [];
setImmediate(() => seen.push('root callback made before: ' + als.getStore()));
als.run('outer', () => {
  spawn(() => seen.push('spawned inside run: ' + als.getStore()));
  sleep(10);
  setTimeout(() => seen.push('timer made inside run: ' + als.getStore()), 1);
  seen.push('after a park inside run: ' + als.getStore());
  sleep(10);
});
seen.push('after run: ' + als.getStore());
als.enterWith('entered');
sleep(1);
seen.push('after enterWith and a park: ' + als.getStore());
console.log(JSON.stringify(seen));
`;

describe('AsyncLocalStorage at the top level', () => {
  const dir = makeProject({
    'als.js': alsTopLevel,
    'als.mjs': alsTopLevel
      .replace(
        "const { AsyncLocalStorage } = require('async_hooks');",
        "import { AsyncLocalStorage } from 'node:async_hooks';",
      )
      .replace("const { sleep, spawn } = require('greenloop');", "import { sleep, spawn } from 'greenloop';"),
  });

  it("a store set with run() around a park is the top level's only, and ends with run()", () => {
    for (const file of ['als.js', 'als.mjs']) {
      expect(summary(runCli(dir, [file])), file).toEqual([
        'root callback made before: undefined',
        'spawned inside run: outer',
        'after a park inside run: outer',
        'timer made inside run: outer',
        'after run: undefined',
        'after enterWith and a park: entered',
      ]);
    }
  });
});

describe('an ES module entry', () => {
  const dir = makeProject({
    'e.mjs': esmIdentity,
    'main-of-cjs.cjs': 'module.exports = require.main === undefined ? "undefined" : require.main.filename;',
    'typed/package.json': '{"type":"module"}',
    'typed/e.js': esmIdentity,
    'typed/main-of-cjs.cjs': 'module.exports = require.main === undefined ? "undefined" : require.main.filename;',
    'detected/e.js': esmIdentity,
    'detected/main-of-cjs.cjs': 'module.exports = require.main === undefined ? "undefined" : require.main.filename;',
  });

  for (const [label, file] of [
    ['.mjs', 'e.mjs'],
    ['.js in a "type": "module" package', 'typed/e.js'],
    ['.js with module syntax and no declared type', 'detected/e.js'],
  ] as const) {
    it(`${label}: runs its top level in the main greenlet (it may block) with import.meta as under node`, () => {
      const got = summary(runCli(dir, [file, 'arg']));
      const path = join(dir, file);
      expect(got).toMatchObject({
        url: pathToFileURL(path).href,
        argv: [process.execPath, path, 'arg'],
        mainModule: 'undefined',
        cjsSeesMain: 'undefined',
        greenlet: 'main',
      });
      expect(got).toMatchObject({ filename: path, dirname: join(path, '..') });
      // require(esm) evaluates it as an imported module: import.meta.main is
      // false where Node has it (22.18+, 24.2+), true under plain node.
      if (got.main !== null) expect(got.main).toBe(false);
    });
  }

  it('under -r greenloop/run too', () => {
    expect(summary(runNode(dir, ['-r', 'greenloop/run', 'e.mjs'])).greenlet).toBe('main');
  });
});

describe('an ES module entry with top-level await', () => {
  const dir = makeProject({
    'tla.mjs': `
import { spawn, sleep, getcurrent } from 'greenloop';
const before = getcurrent().isRoot;
await new Promise((resolve) => setTimeout(resolve, 10));
const g = spawn(() => { sleep(20); return 'spawned greenlet slept'; });
console.log(JSON.stringify({ before, rootAfterAwait: getcurrent().isRoot, value: await g.promise(), url: import.meta.url }));
`,
    'nested.mjs': `
import { createRequire } from 'node:module';
import { getcurrent } from 'greenloop';
console.log('body ran in', getcurrent().name ?? 'root');
const require = createRequire(import.meta.url);
require('./tla-dep.mjs');
`,
    'tla-dep.mjs': 'await 1;\n',
    'typeless/tla.js':
      "await new Promise((resolve) => setTimeout(resolve, 10));\nconsole.log(JSON.stringify({ ran: true, cjs: typeof require !== 'undefined' }));\n",
  });

  it("falls back to Node's ESM loader: its top level runs on the root, greenlets it spawns work", () => {
    const got = summary(runCli(dir, ['tla.mjs']));
    expect(got).toEqual({
      before: true,
      rootAfterAwait: true,
      value: 'spawned greenlet slept',
      url: pathToFileURL(join(dir, 'tla.mjs')).href,
    });
    expect(summary(runNode(dir, ['-r', 'greenloop/run', 'tla.mjs'])).value).toBe('spawned greenlet slept');
  });

  it('a .js with only top-level await and no declared type runs as an ES module, as under node', () => {
    expect(summary(runNode(dir, ['typeless/tla.js']))).toEqual({ ran: true, cjs: false });
    expect(summary(runCli(dir, ['typeless/tla.js']))).toEqual({ ran: true, cjs: false });
  });

  it("a require() of a top-level-await module from the body is the body's error: the body runs once, exit 1", () => {
    const run = runCli(dir, ['nested.mjs']);
    expect(run.status, describeRun(run)).toBe(1);
    expect(run.stdout.match(/body ran in/g)).toEqual(['body ran in']);
    expect(run.stdout).toContain('body ran in main');
    expect(run.stderr).toContain('ERR_REQUIRE_ASYNC_MODULE');
  });
});

const blockingChild = `
const { sleep, getcurrent } = require('greenloop');
sleep(20);
const message = 'child top level slept in ' + getcurrent().name + ', fs patched: ' + require('greenloop/monkey').isPatched('fs');
if (process.send) process.send(message); else require('worker_threads').parentPort.postMessage(message);
`;

describe('processes and threads the script starts', () => {
  const dir = makeProject({
    'child.js': blockingChild,
    'fork.js':
      "require('child_process').fork(__dirname + '/child.js').on('message', (m) => { console.log(m); process.exit(0); });\n",
    'worker.js':
      "new (require('worker_threads').Worker)(__dirname + '/child.js').on('message', (m) => console.log(m));\n",
  });

  it('a fork()ed child runs under greenloop too (it starts with process.execArgv); not with --no-patch', () => {
    const run = runCli(dir, ['fork.js']);
    expect(run, describeRun(run)).toMatchObject({
      status: 0,
      stdout: 'child top level slept in main, fs patched: true\n',
    });
    // It ends by itself once the refused child has exited: no short timeout (it had 10 s for two
    // Node start-ups, which take seconds each on a busy machine).
    const unpatched = runCli(dir, ['--no-patch', 'fork.js']);
    expect(unpatched.signal, describeRun(unpatched)).toBeNull();
    expect(unpatched.stderr).toContain("would block the event loop's own greenlet");
  });

  it('a Worker runs its entry in its own main greenlet under node -r greenloop/run', () => {
    const run = runNode(dir, ['-r', 'greenloop/run', 'worker.js']);
    expect(run, describeRun(run)).toMatchObject({
      status: 0,
      stdout: 'child top level slept in main, fs patched: true\n',
    });
  });
});

describe('the greenloop command line', () => {
  const dir = makeProject({ 'id.js': identity });

  it('--help prints the usage and exits 0', () => {
    const run = runCli(dir, ['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^Usage: greenloop \[options\] script/);
    expect(run.stdout).toContain('--no-patch');
    expect(runCli(dir, ['-h']).stdout).toBe(run.stdout);
  });

  it('--version prints the package version', () => {
    const { version } = require('../package.json') as { version: string };
    const run = runCli(dir, ['--version']);
    expect(run).toMatchObject({ status: 0, stdout: `${version}\n` });
  });

  it('an unknown option is an error naming it (exit 9, as node for a bad option), and the script does not run', () => {
    const run = runCli(dir, ['--nope', 'id.js']);
    expect(run.status).toBe(9);
    expect(run.stderr).toMatch(/^greenloop: unknown option "--nope"\n/);
    expect(run.stdout).toBe('');
    expect(runCli(dir, ['-']).stderr).toMatch(
      /^greenloop: a script from stdin \("-"\) is not supported: give a file\n/,
    );
  });

  it("no script is an error; options after the script are the script's", () => {
    const run = runCli(dir, []);
    expect(run.status).toBe(9);
    expect(run.stderr).toMatch(/^greenloop: no script given\n/);
    expect(runCli(dir, ['--no-patch']).stderr).toMatch(/^greenloop: no script given\n/);
    expect(summary(runCli(dir, ['id.js', '--help', '--nope'])).argv.slice(2)).toEqual(['--help', '--nope']);
    expect(summary(runCli(dir, ['--', 'id.js', '-v'])).argv.slice(2)).toEqual(['-v']);
  });

  it('a missing script fails as under node (MODULE_NOT_FOUND naming the path, exit 1)', () => {
    const run = runCli(dir, ['missing.js']);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain(`Error: Cannot find module '${join(dir, 'missing.js')}'`);
    expect(run.stderr).toContain("code: 'MODULE_NOT_FOUND'");
  });

  it('the bin is executable and runs through its shebang', () => {
    const run = runNode(dir, [
      '-e',
      `process.stdout.write(require('child_process').execFileSync(${JSON.stringify(cliPath)}, ['--version'], { encoding: 'utf8' }))`,
    ]);
    expect(run.stdout, describeRun(run)).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
