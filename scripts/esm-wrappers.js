'use strict';
// Writes dist/esm/*.mjs: ES module faces of the CommonJS build, so that
// `import` and `require` share one copy of greenloop's state (one root greenlet
// per thread) instead of loading the implementation twice.
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..');
// Each entry is a path under dist/cjs without `.js`; its ES module face is
// dist/esm/<basename>.mjs (so 'io/net' becomes dist/esm/net.mjs; a folder's
// index takes the folder's name: 'monkey/index' becomes dist/esm/monkey.mjs).
const entries = [
  'index',
  'greenlet',
  'io/net',
  'io/fs',
  'io/child_process',
  'io/dns',
  'io/http',
  'fibers/fibers',
  'fibers/fibers-future',
  'monkey/index',
  'debug/index',
];
const esmDir = path.join(root, 'dist', 'esm');
fs.mkdirSync(esmDir, { recursive: true });

for (const entry of entries) {
  const name = entry.endsWith('/index') ? path.posix.basename(path.posix.dirname(entry)) : path.posix.basename(entry);
  const cjsPath = path.join(root, 'dist', 'cjs', `${entry}.js`);
  const names = Object.keys(require(cjsPath)).filter((key) => key !== 'default' && key !== '__esModule');
  // A module whose export is one value (`export =`, like fibers') has only a default export.
  const single = typeof require(cjsPath) === 'function';
  const lines = [
    `import cjs from '../cjs/${entry}.js';`,
    ...(single ? [] : [`export const { ${names.join(', ')} } = cjs;`]),
    'export default cjs;',
    '',
  ];
  fs.writeFileSync(path.join(esmDir, `${name}.mjs`), lines.join('\n'));
  const types = single
    ? `import value = require('../cjs/${entry}.js');\nexport default value;\n`
    : // The default export is the module's namespace, as at run time (`import gl from 'greenloop'`).
      `export * from '../cjs/${entry}.js';\nimport * as cjs from '../cjs/${entry}.js';\nexport default cjs;\n`;
  fs.writeFileSync(path.join(esmDir, `${name}.d.mts`), types);
}
// The `greenloop` bin runs straight from the build (npm also sets this when it links bins).
fs.chmodSync(path.join(root, 'dist', 'cjs', 'cli.js'), 0o755);
